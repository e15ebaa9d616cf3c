"""YAML rule tests: policies/<set>/tests/*.yaml, run by `policy test` and by
the pytest plugin. A test gives facts and the expected conclusions; a
regression test also names the base set (`compare:`) and asserts its values
and which conclusions change or stay the same.

Every mismatch of a case is reported, with the clause's citation.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from .engine import Decision, RuleEngine, load
from .errors import PolicyError, TestFileError, did_you_mean
from .loader import MANIFEST, resolve_set_path
from .sets import available_sets, resolve_set
from .setfacts import as_seen_by
from .render_json import json_value
from .source import Span
from .values import format_decimal, format_money
from .yamlio import PosDict, load_file, plain

CASE_KEYS = ("name", "facts", "as_of", "expect", "note", "source", "compare", "expect_base", "changes", "unchanged")


@dataclass
class Case:
    name: str
    file: str
    span: Span | None
    set_path: Path
    facts: dict
    expect: dict
    as_of: date | None = None
    compare: str | None = None
    expect_base: dict = field(default_factory=dict)
    changes: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    spans: dict[str, Span] = field(default_factory=dict)   # where each asserted key is written

    @property
    def location(self) -> str:
        return self.span.location() if self.span else self.file


@dataclass
class Mismatch:
    key: str
    expected: Any
    actual: Any
    citation: str
    set_name: str
    hint: str | None = None

    def render(self) -> str:
        return (f"    {self.set_name} · {self.key}（{self.citation}）\n"
                f"      应为 expected: {_show(self.expected)}\n      实际 actual:   {_show(self.actual)}"
                + (f"\n      提示 hint: {self.hint}" if self.hint else ""))


def format_hint(want: Any, got: Any) -> str | None:
    """An expectation written the way a rule file writes values ("50%", "300元") never matches the
    JSON form of the result; say how to write it."""
    if not isinstance(want, str) or not _numeric(got):
        return None
    text = want.strip()
    for suffix, scale, how in (("%", Decimal(100), "比例在测试中写成小数"), ("元", Decimal(1), "金额在测试中写成两位小数的字符串")):
        if text.endswith(suffix):
            try:
                number = Decimal(text[:-len(suffix)]) / scale
            except InvalidOperation:
                return None
            same = "，与实际值相同" if number == Decimal(str(got)) else ""
            shown = format_decimal(number) if suffix == "%" else format_money(number)
            return f"{how}：{want} 应写作 \"{shown}\"{same}"
    return None


def _show(value: Any) -> str:
    return json.dumps(plain(value), ensure_ascii=False, default=str)


_FAILED_LOADS: dict[str, PolicyError] = {}


@lru_cache(maxsize=None)
def _engine(path: str) -> RuleEngine:
    return load(path)


def engine_for(path: str) -> RuleEngine:
    """One load per set; a set that fails to load fails every case with the same error object."""
    if path in _FAILED_LOADS:
        raise _FAILED_LOADS[path]
    try:
        return _engine(path)
    except PolicyError as exc:
        _FAILED_LOADS[path] = exc
        raise


def discover(paths: list[str]) -> list[Path]:
    """Test files of the given sets or files; by default every set in the policy directories (sets.py)."""
    if not paths:
        return [f for name in available_sets() for f in sorted((resolve_set(name) / "tests").glob("*.yaml"))]
    files: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_file():
            files.append(path)
        else:
            files.extend(sorted((resolve_set_path(p) / "tests").glob("*.yaml")))
    return files


def read_cases(file: Path) -> list[Case]:
    from .names import inside, policies_root

    set_path = file.parent.parent
    if not inside(file, policies_root(set_path)):
        raise TestFileError(f"{file}: 指向规则根目录之外（符号链接？） resolves outside the policies root")
    data = load_file(file)
    if not (set_path / MANIFEST).is_file():
        raise TestFileError(f"测试文件应放在规则集的 tests/ 目录下 test file outside a rule set: {file}")
    if not isinstance(data, list):
        raise TestFileError("测试文件应是用例列表 a test file is a list of cases", getattr(data, "span", None))
    cases = []
    for raw in data:
        if not isinstance(raw, PosDict):
            raise TestFileError("每个用例应是映射 each case is a mapping", getattr(raw, "span", None))
        for key in raw:
            if key not in CASE_KEYS:
                raise TestFileError(f"未知的键 {key!r} unknown key in a test case", raw.key_span(key), found=key,
                                    expected=", ".join(CASE_KEYS), hint=did_you_mean(key, CASE_KEYS))
        for key in ("name", "facts", "expect"):
            if key not in raw:
                raise TestFileError(f"用例缺少 {key} missing key", raw.span)
        _check_shapes(raw)
        cases.append(Case(name=str(raw["name"]), file=str(file), span=raw.span, set_path=set_path,
                          facts=plain(raw["facts"]) or {}, expect=dict(raw["expect"] or {}), as_of=raw.get("as_of"),
                          compare=str(raw["compare"]) if "compare" in raw else None,
                          expect_base=dict(raw.get("expect_base") or {}),
                          changes=[str(x) for x in raw.get("changes") or []],
                          unchanged=[str(x) for x in raw.get("unchanged") or []], spans=_key_spans(raw)))
    return cases


def _check_shapes(raw: PosDict) -> None:
    """Each key of a case has the shape it needs, and the case asserts something: a key of the
    wrong shape would otherwise fail inside the runner, or pass without testing anything."""
    def fail(key: str, message: str, expected: str) -> TestFileError:
        value = raw.get(key)
        return TestFileError(f"{key} {message}", getattr(value, "span", None) or raw.key_span(key),
                             found=type(plain(value)).__name__ if value is not None else "null", expected=expected)

    if raw["facts"] is not None and not isinstance(raw["facts"], dict):
        raise fail("facts", "应是映射 must be a mapping（事实名: 值）", "mapping")
    for key in ("expect", "expect_base"):
        if raw.get(key) is not None and not isinstance(raw[key], dict):
            raise fail(key, "应是映射 must be a mapping（条款id.结论: 预期值）", "mapping")
    for key in ("changes", "unchanged"):
        if raw.get(key) is not None and not (isinstance(raw[key], list) and all(isinstance(x, str) for x in raw[key])):
            raise fail(key, "应是结论名的列表 must be a list of conclusion names", "[clause.conclusion, …]")
    if "as_of" in raw and raw["as_of"] is not None and not isinstance(raw["as_of"], date):
        raise fail("as_of", "应是日期 must be a date", "YYYY-MM-DD")
    if "compare" in raw:
        from .names import check_set_name

        check_set_name(raw["compare"], raw.key_span("compare"), TestFileError)
    else:
        for key in ("expect_base", "changes", "unchanged"):
            if key in raw:
                raise TestFileError(f"{key} 需要 compare（与哪个规则集比较） {key} needs `compare`", raw.key_span(key),
                                    hint="写 compare: <上级规则集名>，或删除此键")
    asserted = bool(raw["expect"]) or any(raw.get(k) for k in ("expect_base", "changes", "unchanged"))
    if not asserted:
        raise TestFileError("用例没有任何断言 the case asserts nothing", raw.key_span("expect"),
                            expected="expect 中至少一个 条款id.结论: 预期值")


def _key_spans(raw: PosDict) -> dict[str, Span]:
    spans: dict[str, Span] = {}
    for section in ("expect", "expect_base"):
        table = raw.get(section)
        if isinstance(table, PosDict):
            spans.update({str(k): table.key_span(k) for k in table})
    for section in ("changes", "unchanged"):
        for item in raw.get(section) or []:
            if hasattr(item, "span"):
                spans.setdefault(str(item), item.span)
    return spans


def run_case(case: Case) -> list[Mismatch]:
    engine = engine_for(str(case.set_path))
    decision = engine.evaluate(case.facts, as_of=case.as_of, source=case.location)
    problems = _compare(engine, decision, case.expect, case)
    if case.compare is not None:
        base_engine = engine_for(str(case.set_path.parent / case.compare))
        base = base_engine.evaluate(as_seen_by(case.facts, base_engine.vocab, engine.vocab), as_of=case.as_of,
                                    source=case.location)
        problems += _compare(base_engine, base, case.expect_base, case)
        for key in case.changes + case.unchanged:
            a, b = _actual(base_engine, base, key, case), _actual(engine, decision, key, case)
            differs = not same_value(a, b)
            if differs != (key in case.changes):
                want = "不同 differs" if key in case.changes else "相同 the same"
                problems.append(Mismatch(key, f"{case.compare} 与 {engine.name} {want}", {case.compare: a, engine.name: b},
                                         _citation(engine, key), f"{case.compare}→{engine.name}"))
    return problems


def _actual(engine: RuleEngine, decision: Decision, key: str, case: Case) -> Any:
    cid, _, name = key.partition(".")
    if cid not in decision.clauses:
        raise TestFileError(f"未知的条款 {cid!r} unknown clause（用例「{case.name}」）", case.spans.get(key, case.span),
                            hint=did_you_mean(cid, decision.clauses))
    if name == "applicable":
        return decision.clauses[cid].applicable
    if name == "edition" and key not in decision.slots:  # the set name of the edition that judged it, or null
        from .periods.words import clause_edition

        edition = clause_edition(decision, cid)
        return edition.name if edition else None
    if key not in decision.slots:
        items = [k.split(".", 1)[1] for k in decision.slots if k.startswith(cid + ".")]
        raise TestFileError(f"条款 {cid} 没有 {name!r} no such conclusion（用例「{case.name}」）",
                            case.spans.get(key, case.span), hint=did_you_mean(name, items))
    return json_value(decision.slots[key], engine.slot_type(key), engine.vocab)


def _compare(engine: RuleEngine, decision: Decision, expect: dict, case: Case) -> list[Mismatch]:
    out = []
    for key, want in expect.items():
        got = _actual(engine, decision, str(key), case)
        if not matches(want, got):
            out.append(Mismatch(str(key), want, got, _citation(engine, str(key)), engine.name, format_hint(want, got)))
    return out


def _citation(engine: RuleEngine, key: str) -> str:
    clause = engine.rule_set.clauses.get(key.partition(".")[0])
    return clause.source.short() if clause and clause.source else "无出处"


def same_value(a: Any, b: Any) -> bool:
    """Two rendered values agree; undetermined ones when they miss the same things (the reason
    sentence is for people and may be reworded without changing the rule)."""
    if isinstance(a, dict) and isinstance(b, dict) and a.get("undetermined") and b.get("undetermined"):
        return a["missing"] == b["missing"]
    return a == b


def matches(want: Any, got: Any) -> bool:
    """Does a JSON-rendered value `got` satisfy the test's expectation `want`?"""
    if isinstance(want, dict) and "undetermined" in want:
        if not (isinstance(got, dict) and got.get("undetermined")):
            return False
        missing = want["undetermined"]
        return missing is True or sorted(map(str, missing)) == sorted(got["missing"])
    if isinstance(got, dict):
        return False
    if isinstance(want, bool) or isinstance(got, bool):
        return want is got
    if isinstance(want, date):
        return got == want.isoformat()
    if isinstance(want, list):
        return isinstance(got, list) and sorted(map(str, plain(want))) == sorted(map(str, got))
    if isinstance(want, (int, Decimal)) or _numeric(want):
        return _numeric(got) and Decimal(str(got)) == Decimal(str(want))
    return str(want) == str(got)


def _numeric(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    try:
        Decimal(str(value))
        return isinstance(value, (int, Decimal)) or str(value).replace(".", "", 1).lstrip("-").isdigit()
    except (InvalidOperation, ValueError):
        return False


@dataclass
class Outcome:
    case: Case
    mismatches: list[Mismatch]
    error: PolicyError | None = None
    file_error: bool = False   # the test file itself could not be read: its cases did not run

    @property
    def passed(self) -> bool:
        return not self.mismatches and self.error is None


def run_files(files: list[Path]) -> Iterator[Outcome]:
    for file in files:
        try:
            cases = read_cases(file)
        except PolicyError as exc:
            yield Outcome(Case(str(file), str(file), None, file.parent.parent, {}, {}), [], exc, file_error=True)
            continue
        for case in cases:
            try:
                yield Outcome(case, run_case(case))
            except PolicyError as exc:
                yield Outcome(case, [], exc)


def run_cli(args) -> int:
    files = discover(args.paths)
    everything = list(run_files(files))
    unreadable = [o for o in everything if o.file_error]
    outcomes = [o for o in everything if not o.file_error]
    failed = [o for o in outcomes if not o.passed]
    coverage = _coverage(args, outcomes)
    if args.format == "json":
        print(json.dumps({"schema": "policy-dsl/test-report", "version": 1, "passed": len(outcomes) - len(failed), "failed": len(failed), "failures": [
            {"case": o.case.name, "location": o.case.location,
             "error": o.error.render() if o.error else None,
             "mismatches": [{"key": m.key, "set": m.set_name, "citation": m.citation,
                             "expected": plain(m.expected), "actual": m.actual, **({"hint": m.hint} if m.hint else {})}
                            for m in o.mismatches]}
            for o in failed],
            "file_errors": [{"file": o.case.file, "error": o.error.render() if o.error else ""} for o in unreadable],
            **({"coverage": coverage[0]} if coverage else {})},
            ensure_ascii=False, indent=2, default=str))
    else:
        for o in unreadable:
            print(f"✗ {o.case.file}  测试文件无法读取，其中的用例没有运行 test file unreadable, its cases did not run")
            print("    " + (o.error.render() if o.error else "").replace("\n", "\n    "))
        shown: set[int] = set()
        for o in failed:
            print(f"✗ {o.case.location}  {o.case.name}")
            if o.error and id(o.error) in shown:
                print("    （同上：规则集无法加载 the same error as above）")
            elif o.error:
                shown.add(id(o.error))
                print("    " + o.error.render().replace("\n", "\n    "))
            for m in o.mismatches:
                print(m.render())
        print(("\n" if failed or unreadable else "") + f"{len(files)} 个测试文件：{len(outcomes) - len(failed)} passed, "
              f"{len(failed)} failed" + (f"，{len(unreadable)} 个文件无法读取 unreadable" if unreadable else ""))
        if coverage:
            print("\n" + coverage[1])
    if not outcomes and not unreadable:
        print("没有找到测试用例 no test cases found")
        return 1
    return 1 if failed or unreadable or (coverage and coverage[2]) else 0


def _coverage(args, outcomes: list[Outcome]) -> tuple[dict, str, bool] | None:
    """(JSON, text, below --fail-under) when coverage was asked for (policy_dsl/authoring/coverage.py)."""
    if not (getattr(args, "coverage", False) or getattr(args, "fail_under", None) is not None):
        return None
    from .authoring.coverage import measure, render, to_json, total_percent

    report = measure(outcomes)
    total = total_percent(report)
    text = render(report) + f"\n合计覆盖率 total coverage: {total}%"
    below = args.fail_under is not None and total < Decimal(str(args.fail_under))
    if below:
        text += f"，低于 --fail-under {args.fail_under}% below the threshold"
    return {"sets": to_json(report), "total_percent": str(total)}, text, below
