"""Province vs city: what a variant changes (static), which cases it changes
(dynamic, attributed from the traces), and whether each difference was
declared in the variant's expected-differences.yaml.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .diffgen.params import bounds_direction, bounds_text, delegation_change, value_detail
from .engine import RuleEngine, load
from .errors import RuleFileError, UsageError, did_you_mean
from .model import Citation, Clause, ExceptionRule, Parameter, RuleSet
from .render_json import json_value
from .setfacts import as_seen_by
from .testing import same_value
from .trace import TraceBuilder
from .values import format_typed
from .yamlio import PosDict, load_file, plain

_META = ("title", "source", "departments", "valid", "notes", "subject", "kind")
_SECTIONS = (("parameters", "parameter"), ("definitions", "definition"), ("conditions", "condition"),
             ("conclusions", "conclusion"))


@dataclass
class Change:
    clause: str
    kind: str            # clause | metadata | parameter | definition | condition | conclusion | exception
    name: str
    change: str          # added | removed | changed | filled
    base: str | None = None
    variant: str | None = None
    base_citation: str | None = None
    variant_citation: str | None = None
    bounds: str | None = None
    detail: str | None = None   # 调高/调低, history entries, delegate (diffgen/params.py)

    @property
    def key(self) -> str:
        return f"{self.clause}.{self.name}" if self.kind not in ("clause",) else self.clause


def _cite(c: Citation | None) -> str | None:
    if c is None:
        return None
    text = f"「{c.text}」" if c.text else ""
    return f"{c.short()}{text}" or None


def _param_text(p: Parameter) -> str:
    if p.value is not None:
        return _show(p.value, p.type.kind)
    if p.history:
        return "；".join(f"{d}起 {_show(v, p.type.kind)}" for d, v in p.history)
    return f"未定（{p.delegated.reason}）" if p.delegated else "未定"


_show = format_typed


def _bounds(p: Parameter) -> str | None:
    lo, hi = p.bounds
    k = p.type.kind
    parts = ([f"≥ {_show(lo, k)}"] if lo is not None else []) + ([f"≤ {_show(hi, k)}"] if hi is not None else [])
    return " ".join(parts) or None


def static_diff(base: RuleSet, variant: RuleSet) -> list[Change]:
    out: list[Change] = []
    for cid, vc in variant.clauses.items():
        bc = base.clauses.get(cid)
        if bc is None:
            out.append(Change(cid, "clause", cid, "added", variant=vc.title, variant_citation=_cite(vc.source)))
            continue
        out.extend(_clause_diff(bc, vc))
    for cid, bc in base.clauses.items():
        if cid not in variant.clauses:
            out.append(Change(cid, "clause", cid, "removed", base=bc.title, base_citation=_cite(bc.source)))
    return out


def _clause_diff(b: Clause, v: Clause) -> list[Change]:
    out = []
    for key in _META:
        bv, vv = getattr(b, key), getattr(v, key)
        if bv != vv:
            show = _cite if key == "source" else (lambda x: "、".join(x) if isinstance(x, tuple) and x and isinstance(x[0], str) else str(x))
            out.append(Change(b.id, "metadata", key, "changed", show(bv), show(vv)))  # type: ignore[operator]
    for section, kind in _SECTIONS:
        bt, vt = getattr(b, section), getattr(v, section)
        for name in [*bt, *(n for n in vt if n not in bt)]:
            bi, vi = bt.get(name), vt.get(name)
            change = _item_change(b.id, kind, name, bi, vi, b, v)
            if change:
                out.append(_removal(change, v, f"{section}.{name}"))
            if isinstance(bi, Parameter) and isinstance(vi, Parameter):
                out.extend(_bounds_change(b, v, bi, vi))
    bex, vex = {r.id: r for r in b.exceptions}, {r.id: r for r in v.exceptions}
    for rid in [*bex, *(r for r in vex if r not in bex)]:
        br, vr = bex.get(rid), vex.get(rid)
        if br is None or vr is None or (br.when, br.value, br.priority, br.conclusion) != (vr.when, vr.value, vr.priority, vr.conclusion):
            out.append(_removal(Change(b.id, "exception", rid, "added" if br is None else "removed" if vr is None else "changed",
                                       _exc_text(br), _exc_text(vr), _cite(br.source) if br else None,
                                       _cite(vr.source) if vr else None), v, f"exceptions.{rid}"))
    return out


def _removal(change: Change, v: Clause, key: str) -> Change:
    """An item an edition removed with `remove:` names the edition and cites its document."""
    where = getattr(v, "removed", {}).get(key) if change.change == "removed" else None
    if where is None:
        return change
    change.variant = f"由 {where.set_name} 删除（remove）"
    change.variant_citation = _cite(v.source_for(where.set_name))
    return change


def _bounds_change(b: Clause, v: Clause, bi: Parameter, vi: Parameter) -> list[Change]:
    """A parameter's bounds (the ceiling a lower level must stay under) widened or narrowed."""
    way = bounds_direction(bi.bounds, vi.bounds)
    if way is None:
        return []
    cite = lambda c, p: _cite(c.cite(p.source, p.bounds_origin or p.origin))  # noqa: E731
    return [Change(b.id, "bounds", bi.name, way, bounds_text(bi), bounds_text(vi), cite(b, bi), cite(v, vi))]


def _exc_text(r: ExceptionRule | None) -> str | None:
    return f"{r.conclusion} = {r.value_text} 当 {r.when_text}（优先级 {r.priority}）" if r else None


def _item_change(cid: str, kind: str, name: str, bi, vi, bc: Clause, vc: Clause) -> Change | None:
    if bi is None:
        return Change(cid, kind, name, "added", variant=_item_text(vi), variant_citation=_cite(vc.cite(vi.source, vi.origin)))
    if vi is None:
        return Change(cid, kind, name, "removed", base=_item_text(bi), base_citation=_cite(bc.cite(bi.source, bi.origin)))
    if isinstance(bi, Parameter):
        if (bi.type, bi.value, bi.history, bi.delegated) == (vi.type, vi.value, vi.history, vi.delegated):
            return None
        return Change(cid, kind, name, delegation_change(bi, vi), _param_text(bi), _param_text(vi),
                      _cite(bc.cite(bi.source, bi.origin)), _cite(vc.cite(vi.source, vi.origin)), bounds=_bounds(vi),
                      detail=value_detail(bi, vi))
    if (bi.expr, bi.declared) == (vi.expr, vi.declared):
        return None
    return Change(cid, kind, name, "changed", bi.text, vi.text, _cite(bc.cite(bi.source, bi.origin)), _cite(vc.cite(vi.source, vi.origin)))


def _item_text(item) -> str:
    return _param_text(item) if isinstance(item, Parameter) else item.text


# --- dynamic ---------------------------------------------------------------------------------
@dataclass
class Difference:
    case: str
    conclusion: str
    base: Any
    variant: Any
    because: list[str]
    declared: bool = False
    justification: str | None = None
    added: bool = False   # the base has no such conclusion (a new clause or conclusion): base is null


def read_cases(path: str | Path) -> list[tuple[str, dict]]:
    """Facts files, or YAML test files (lists of cases with `facts`), or a directory of them.
    Anything else — a scalar, an empty file, a case without facts, facts that are not a
    mapping, no case at all — is an error naming the file (and the position, in YAML)."""
    from .errors import PolicyLimitError
    from .facts import as_input_error

    try:
        return _read_cases(Path(path))
    except PolicyLimitError as exc:
        raise as_input_error(exc) from None


def _read_cases(path: Path) -> list[tuple[str, dict]]:
    from .errors import FactsFileError
    from .facts import load_json
    from .yamlio import read_limited

    if not path.exists():
        raise FactsFileError(f"找不到案例 cases not found: {path}")
    files = sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml", ".json") and p.is_file()) \
        if path.is_dir() else [path]
    cases: list[tuple[str, dict]] = []
    for f in files:
        data = load_json(read_limited(f, error=FactsFileError), str(f)) if f.suffix == ".json" else _yaml_cases(f)
        where = getattr(data, "span", None)
        if isinstance(data, list):
            if not data:
                raise FactsFileError(f"{f}: 案例列表是空的 the list of cases is empty", where)
            for i, item in enumerate(data):
                if not isinstance(item, dict) or "facts" not in item:
                    raise FactsFileError(f"{f}: 第 {i + 1} 项应是含 facts 的映射 item {i + 1} needs `facts`",
                                         getattr(item, "span", None) or where)
                cases.append((f"{f}#{item.get('name', i)}", _facts_of(item["facts"], f, i)))
        elif isinstance(data, dict):
            cases.append((str(f), _facts_of(data["facts"], f, None) if "facts" in data else dict(data)))
        else:
            raise FactsFileError(f"{f}: 应是事实映射或案例列表 must hold facts (a mapping) or a list of cases，"
                                 f"实际是 {type(plain(data)).__name__}", where)
    if not cases:
        raise FactsFileError(f"{path}: 没有找到案例 no cases found (.yaml/.yml/.json)")
    return cases


def _yaml_cases(f: Path) -> Any:
    from .errors import FactsFileError, PolicyLimitError, RuleFileError

    try:
        return load_file(f)
    except PolicyLimitError:
        raise
    except RuleFileError as exc:  # a cases file is input, not a rule file
        raise FactsFileError(exc.message, exc.span, found=exc.found, expected=exc.expected, hint=exc.hint) from None


def _facts_of(facts: Any, f: Path, index: int | None) -> dict:
    from .errors import FactsFileError

    if facts is None:
        return {}  # no facts given: every fact unknown
    if not isinstance(facts, dict):
        which = f"第 {index + 1} 项的 " if index is not None else ""
        raise FactsFileError(f"{f}: {which}facts 应是映射 facts must be a mapping，实际是 {type(plain(facts)).__name__}",
                             getattr(facts, "span", None))
    return plain(facts)


def dynamic_diff(base: RuleEngine, variant: RuleEngine, cases: Iterable[tuple[str, dict]],
                 changes: list[Change], observe=None) -> tuple[list[Difference], int]:
    """`observe(name, (base decision, variant decision), differences of the case)`, when given,
    sees every case's traced decisions (threshold coverage reads them)."""
    changed = {(c.clause, c.name) for c in changes if c.kind != "metadata"}
    out: list[Difference] = []
    count = 0
    for name, facts in cases:
        count += 1
        # Each set sees the case without the facts only the other set declares (an edition's new facts).
        bd = base.evaluate(as_seen_by(facts, base.vocab, variant.vocab), trace=True, source=name)
        vd = variant.evaluate(as_seen_by(facts, variant.vocab, base.vocab), trace=True, source=name)
        before = len(out)
        for cid, vres in vd.clauses.items():
            bres = bd.clauses.get(cid)
            for concl in vres.conclusions:
                key = f"{cid}.{concl}"
                bval = json_value(bd.slots[key], base.slot_type(key), base.vocab) if bres and key in bd.slots else None
                vval = json_value(vd.slots[key], variant.slot_type(key), variant.vocab)
                if bres is not None and bres.applicable == vres.applicable and same_value(bval, vval):
                    continue
                out.append(Difference(name, key, bval, vval, _responsible(base, bd, variant, vd, cid, concl, changed),
                                      added=key not in bd.slots))
        if observe is not None:
            observe(name, (bd, vd), out[before:])
    return out, count


def _responsible(base, bd, variant, vd, cid: str, concl: str, changed: set[tuple[str, str]]) -> list[str]:
    """The variant's changes that explain this difference, read off the two traces.

    A changed item counts when a trace of the conclusion went through it and its value differs
    between the sets; an item that exists in one set only counts when a counted item uses it
    (or when nothing else explains the difference).
    """
    touched: list[str] = []
    applied: list[str] = []  # changed exceptions that applied: decisive by definition
    for engine, decision in ((variant, vd), (base, bd)):
        if f"{cid}.{concl}" not in decision.slots:
            continue
        tree = TraceBuilder(engine, decision).conclusion(cid, concl)
        for node in tree.walk():
            if node.evaluated and (node.clause, node.label) in changed:
                key = f"{node.clause}.{node.label}"
                if node.kind == "exception":
                    if node.value is True and key not in applied:
                        applied.append(key)
                elif key not in touched:
                    touched.append(key)
    both = [k for k in touched if k in bd.slots and k in vd.slots]
    one_sided = [k for k in touched if k not in both]
    found = applied + [k for k in both if not same_value(_rendered(base, bd, k), _rendered(variant, vd, k))]
    used = set().union(*(variant.analysis.deps.get(k, set()) | base.analysis.deps.get(k, set()) for k in found)) \
        if found else set()
    found += [k for k in one_sided if k in used or not found]
    if (cid, cid) in changed and cid not in found:
        found.append(cid)
    return found


def _rendered(engine: RuleEngine, decision, key: str) -> Any:
    return json_value(decision.slots[key], engine.slot_type(key), engine.vocab)


def read_expected(path: Path, variant: RuleEngine | None = None) -> dict[str, str]:
    """expected-differences.yaml: [{conclusion: clause.name, citation: …, reason: …}] → key → justification.
    Each entry must name a conclusion the variant has (a misspelt one would silently declare nothing)."""
    if not path.exists():
        return {}
    data = load_file(path)
    if not isinstance(data, list):
        raise RuleFileError("expected-differences.yaml 应是列表 must be a list", getattr(data, "span", None))
    out = {}
    for entry in data:
        if not isinstance(entry, PosDict) or "conclusion" not in entry or "citation" not in entry:
            raise RuleFileError("每一项需要 conclusion 和 citation（说明依据） each entry needs conclusion and citation",
                                getattr(entry, "span", None))
        key = str(entry["conclusion"])
        if variant is not None:
            cid, _, name = key.partition(".")
            clause = variant.rule_set.clauses.get(cid)
            if clause is None or name not in clause.conclusions:
                known = [f"{c}.{n}" for c, cl in variant.rule_set.clauses.items() for n in cl.conclusions]
                where = getattr(entry["conclusion"], "span", None) or entry.key_span("conclusion")
                raise RuleFileError(f"{key!r} 不是 {variant.name} 的结论 no such conclusion",
                                    where, found=key, hint=did_you_mean(key, known))
        out[key] = f"{entry['citation']}" + (f"：{entry['reason']}" if "reason" in entry else "")
    return out


@dataclass
class DiffReport:
    base: str
    variant: str
    changes: list[Change]
    differences: list[Difference] = field(default_factory=list)
    cases: int = 0
    generated: dict | None = None
    unobserved: list[str] = field(default_factory=list)   # declared differences no case showed
    thresholds: dict | None = None   # which cases exercised each comparison; changed thresholds (diffgen/coverage.py)

    @property
    def undeclared(self) -> list[Difference]:
        return [d for d in self.differences if not d.declared]

    def to_json(self) -> dict:
        by_conclusion: dict[str, int] = {}
        for d in self.differences:
            by_conclusion[d.conclusion] = by_conclusion.get(d.conclusion, 0) + 1
        return {
            "schema": "policy-dsl/diff", "version": 1,  # policy_dsl/schema/diff-v1.json
            "base": self.base, "variant": self.variant,
            "changes": [asdict(c) for c in self.changes],
            "cases": self.cases,
            "summary": {"changes": len(self.changes), "differing_cases": len({d.case for d in self.differences}),
                        "differences": len(self.differences), "undeclared": len(self.undeclared),
                        "by_conclusion": by_conclusion},
            "differences": [asdict(d) for d in self.differences],
            "declared_not_observed": self.unobserved,
            **({"generated": self.generated} if self.generated is not None else {}),
            **({"thresholds": self.thresholds} if self.thresholds is not None else {}),
        }


def run_diff(args) -> int:
    from .diff_render import render_report
    from .loader import resolve_set_path

    if args.expected and not Path(args.expected).is_file():
        raise UsageError(f"找不到预期差异文件 --expected {args.expected} no such file",
                         hint="不写 --expected 时使用 <市级规则集>/expected-differences.yaml")
    base, variant = load(args.base), load(args.variant)
    report = DiffReport(base.name, variant.name, static_diff(base.rule_set, variant.rule_set))
    cases: list[tuple[str, dict]] = []
    if args.cases:
        cases += read_cases(args.cases)
    if args.generate:
        from .generate import generate_cases

        generated, coverage = generate_cases(base, variant)
        cases += generated
        report.generated = coverage
    if cases:
        from .diffgen.coverage import ThresholdCoverage, changed_parameters

        thresholds = ThresholdCoverage(base, variant, changed_parameters(report.changes))
        report.differences, report.cases = dynamic_diff(base, variant, cases, report.changes, thresholds.observe)
        report.thresholds = thresholds.to_json()
        expected_path = Path(args.expected) if args.expected else resolve_set_path(args.variant) / "expected-differences.yaml"
        expected = read_expected(expected_path, variant)
        for d in report.differences:
            if d.conclusion in expected:
                d.declared, d.justification = True, expected[d.conclusion]
        seen = {d.conclusion for d in report.differences}
        report.unobserved = [k for k in expected if k not in seen]
    if args.format == "json":
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2, default=str))
    else:
        print(render_report(report), end="")
    return 1 if report.undeclared else 0
