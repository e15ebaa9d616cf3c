"""Every door, fed generated and mutated input: counts the internal errors.

    python benchmarks/fuzz_doors.py --per-door 10000 [--rng-state 1] [--door facts ...]

Doors: facts files and standard input (read, validate, evaluate, render), rule files
(load, check, compile, evaluate on random facts), the embedding API (Python objects as
facts, expression texts), YAML rule-test files, and diff case files. An input "holds" when
it gives a result or a PolicyError (a clear message with a position); anything else —
a Python exception escaping the API — is an internal error, printed with its input.
Inputs start well-formed (from the vocabulary and the shipped rules) and are then mutated:
wrong types, non-finite and huge numbers, control characters, deep nesting, aliases,
duplicate keys, truncation and byte flips.

The test suite runs this with a small size (tests/test_fuzz_doors.py); docs/security.md
gives the counts of a full run.
"""
from __future__ import annotations

import argparse
import io
import json
import random
import shutil
import sys
import tempfile
import time
import traceback
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policy_dsl import PolicyError, compile_expression, load  # noqa: E402
from policy_dsl.vocabulary import vocabulary  # noqa: E402

HOSTILE_STRINGS = ["", " ", "\x1b[31m", "\u202e", "\x00", "\x07", "\ud7ff", "a" * 5000, "../../etc/passwd",
                   "{{x}}", "'; drop", "__class__", "unit.layoffs", "NaN", "Infinity", "-0", "1e999999", "0x10",
                   "２０２１-０１-０１", "2021-02-30", "0000-01-01", "9999-12-31", "\\u00e9", "万元", "30%"]
HOSTILE_NUMBERS: list[Any] = [0, -1, -0.0, 1.5, 10 ** 18, 10 ** 30, -10 ** 30, 10 ** 400, float("nan"), float("inf"),  # float-ok
                              Decimal("NaN"), Decimal("sNaN"), Decimal("-Infinity"), Decimal("1e999999"),
                              Decimal("1e-999999"), Decimal("0.1"), Decimal("-0.00"), True, False, 2 ** 63]


class Fuzzer:
    def __init__(self, state: int) -> None:
        self.rng = random.Random(state)
        self.vocab = vocabulary()
        self.paths = sorted(self.vocab.facts)

    # --- values -------------------------------------------------------------------------------
    def good_value(self, t) -> Any:
        r, k = self.rng, t.kind
        if k == "bool":
            return r.random() < 0.5
        if k == "int":
            return r.choice([0, 1, 3, 29, 30, 31, 100, 199, 200, 201, 1000])
        if k in ("money", "decimal", "rate"):
            return r.choice(["0", "0.05", "0.06", "0.2", "1000.05", "3333.35", "50000.00", "1", "12"])
        if k == "date":
            return r.choice(["2020-01-01", "2021-06-30", "2021-12-31", "2022-01-01", "2021-02-28"])
        if k == "enum":
            return r.choice(list(t.values) or ["x"])
        if k == "string":
            return r.choice(["a", "abc", "某单位"])
        if k == "set":
            return [self.good_value(t.elem)] if t.elem else []
        if k == "list":
            elem = t.elem
            return [{name: self.good_value(ft) for name, ft in (elem.fields if elem else ())} for _ in range(r.randint(0, 3))]
        return None

    def hostile_value(self, depth: int = 0) -> Any:
        r = self.rng
        roll = r.random()
        if roll < 0.35:
            return r.choice(HOSTILE_NUMBERS)
        if roll < 0.6:
            return r.choice(HOSTILE_STRINGS)
        if roll < 0.7:
            return None
        if roll < 0.8 and depth < 3:
            return [self.hostile_value(depth + 1) for _ in range(r.randint(0, 3))]
        if roll < 0.9 and depth < 3:
            return {r.choice(HOSTILE_STRINGS + ["layoffs", "kind"]): self.hostile_value(depth + 1) for _ in range(r.randint(0, 3))}
        if roll < 0.93:
            deep: list = []
            for _ in range(r.choice([70, 2000])):  # past the nesting limit; deep enough to break recursion
                deep = [deep]
            return deep
        return r.choice([date(2021, 1, 1), b"bytes", object(), (1, 2), {1, 2}, 1j])

    def facts(self) -> dict:
        """Well-formed facts for a random part of the vocabulary."""
        out: dict = {}
        for path in self.rng.sample(self.paths, self.rng.randint(0, len(self.paths))):
            value = self.good_value(self.vocab.facts[path].type)
            head, _, tail = path.partition(".")
            if tail:
                out.setdefault(head, {})[tail] = value
            else:
                out[head] = value
        return out

    def mutated_facts(self) -> Any:
        facts = self.facts()
        r = self.rng
        for _ in range(r.randint(0, 3)):
            roll = r.random()
            if roll < 0.5 and facts:
                subject = r.choice(list(facts))
                if isinstance(facts[subject], dict) and facts[subject]:
                    facts[subject][r.choice(list(facts[subject]))] = self.hostile_value()
                else:
                    facts[subject] = self.hostile_value()
            elif roll < 0.7:
                facts[r.choice(["unit", "person", "zzz", "as_of", "\x1b"])] = self.hostile_value()
            elif roll < 0.8:
                return self.hostile_value()
            elif roll < 0.9:
                facts = {"unit": facts}
        return facts

    # --- texts --------------------------------------------------------------------------------
    def to_text(self, data: Any, as_json: bool) -> str:
        def plain(v: Any) -> Any:
            if isinstance(v, dict):
                return {str(k): plain(x) for k, x in v.items()}
            if isinstance(v, (list, tuple, set)):
                return [plain(x) for x in v]
            if isinstance(v, (Decimal, float, date, bytes, complex)) or not isinstance(v, (int, str, bool, type(None))):
                return str(v)
            return v
        import yaml

        try:
            if as_json:
                return json.dumps(plain(data), ensure_ascii=self.rng.random() < 0.5)
            return yaml.safe_dump(plain(data), allow_unicode=True)
        except RecursionError:  # a deeply nested value: written out by hand
            return ('{"unit": ' if as_json else "unit: ") + "[" * 2000 + "]" * 2000 + ("}" if as_json else "\n")

    def mutate_text(self, text: str) -> str:
        r = self.rng
        for _ in range(r.choice([0, 0, 1, 1, 2, 4])):
            roll = r.random()
            pos = r.randint(0, len(text))
            if roll < 0.2:
                text = text[:pos] + text[pos + r.randint(1, 8):]
            elif roll < 0.4:
                text = text[:pos] + r.choice(["{", "}", "[", "]", ":", ",", '"', "'", "&a ", "*a", "!!float nan", "\x00",
                                              "\x1b", "\t", "\n  ", "- ", "<<: *a", "9" * 50, "1e400", "NaN",
                                              "---\n", "%YAML 1.1\n", "!!python/object:os.system", "? "]) + text[pos:]
            elif roll < 0.5:
                text = text[:pos]
            elif roll < 0.6:
                text = text + "\n" + text[: r.randint(0, len(text))]
            elif roll < 0.7:
                text = "[" * r.randint(50, 120) + text + "]" * r.randint(0, 120)  # past the limit; longer runs only cost time
            elif roll < 0.8:
                text = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
                    f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefghi", "bcdefghij"))
            elif roll < 0.9 and text:
                i = r.randrange(len(text))
                text = text[:i] + chr(r.randint(0, 0x3000)) + text[i + 1:]
            else:
                text = text.replace(":", r.choice([": ", ":", " :", ": !!str"]), 1)
        return text


# --- doors ------------------------------------------------------------------------------------
class Door:
    def __init__(self, name: str) -> None:
        self.name = name
        self.inputs = self.held = self.policy_errors = self.internal = 0
        self.examples: list[str] = []
        self.kinds: dict[tuple, int] = {}   # (exception, file, line) → how many

    def run(self, fn: Callable[[], Any], describe: Callable[[], str]) -> None:
        self.inputs += 1
        try:
            fn()
            self.held += 1
        except PolicyError:
            self.policy_errors += 1
        except RecursionError as exc:  # reported like any other escape
            self._internal(exc, describe)
        except Exception as exc:  # noqa: BLE001 - counting escapes is the point
            self._internal(exc, describe)

    def _internal(self, exc: BaseException, describe: Callable[[], str]) -> None:
        self.internal += 1
        frame = traceback.extract_tb(exc.__traceback__)[-1]
        where = (type(exc).__name__, frame.filename, frame.lineno)
        self.kinds[where] = self.kinds.get(where, 0) + 1
        if self.kinds[where] == 1 and len(self.examples) < 12:
            self.examples.append(f"{type(exc).__name__}: {exc}\n  input: {describe()[:600]!r}\n"
                                 + "".join(traceback.format_exception(exc)[-3:]))


def door_facts(fz: Fuzzer, n: int, tmp: Path, engines) -> Door:
    from policy_dsl.explain import explain_json, render_text
    from policy_dsl.facts import read_facts

    door = Door("facts files and stdin")
    for i in range(n):
        as_json = fz.rng.random() < 0.5
        text = fz.to_text(fz.mutated_facts(), as_json)
        if fz.rng.random() < 0.5:
            text = fz.mutate_text(text)
        engine = engines[i % len(engines)]

        def one() -> None:
            if i % 5 == 0:
                saved = sys.stdin
                sys.stdin = io.TextIOWrapper(io.BytesIO(text.encode("utf-8", "surrogatepass")), encoding="utf-8")
                try:
                    facts = read_facts("-")
                finally:
                    sys.stdin = saved
            else:
                path = tmp / ("case.json" if as_json else "case.yaml")
                path.write_bytes(text.encode("utf-8", "surrogatepass"))
                facts = read_facts(str(path))
            decision = engine.evaluate(facts, trace=i % 4 == 0)
            json.dumps(decision.to_json(), ensure_ascii=False)
            if i % 4 == 0:
                render_text(decision)
                json.dumps(explain_json(decision), ensure_ascii=False, default=str)

        door.run(one, lambda: text)
    return door


def door_api(fz: Fuzzer, n: int, engines) -> Door:
    door = Door("embedding API")
    exprs = _expressions(fz)
    for i in range(n):
        facts = fz.mutated_facts()
        if i % 3 == 0:
            text = exprs(fz.rng.randint(0, 4))

            def one() -> None:
                compiled = compile_expression(text)
                compiled.evaluate(facts if isinstance(facts, dict) else {})
            door.run(one, lambda: text)
        else:
            engine = engines[i % len(engines)]

            def one() -> None:
                if i % 7 == 0:
                    for result in engine.evaluate_many([facts, fz.facts()]):
                        if result:
                            result.to_json()
                else:
                    engine.evaluate(facts, as_of=fz.rng.choice([None, date(2021, 9, 1), date(1, 1, 1), date(9999, 12, 31)]),
                                    trace=i % 2 == 0).to_json()
            door.run(one, lambda: repr(facts))
    return door


def _expressions(fz: Fuzzer) -> Callable[[int], str]:
    r = fz.rng
    ints = ["unit.layoffs", "unit.insured_headcount", "person.age", "0", "1", "30", "999999999999999999"]
    moneys = ["unit.ui_contribution_last_year", "300元", "0元", "500万元", "0.005元"]
    rates = ["30%", "6%", "0.5%", "100%"]
    bools = ["unit.ui_insured", "true", "false"]
    dates = ["unit.application_date", "2021-12-31", "as_of"]

    def gen(d: int) -> str:
        if d <= 0:
            return r.choice(ints + moneys + rates + bools + dates + ['"a"', '{1, 2}', '[1]', "household.members"])
        form = r.randrange(12)
        a, b = gen(d - 1), gen(d - 1)
        if form == 0:
            return f"{a} {r.choice(['+', '-', '*', '/'])} {b}"
        if form == 1:
            return f"{a} {r.choice(['<', '<=', '==', '!=', '>', '>=', '≤'])} {b}"
        if form == 2:
            return f"({a}) {r.choice(['and', 'or'])} ({b})"
        if form == 3:
            return f"if {a} then {b} else {gen(d - 1)}"
        if form == 4:
            return f"{r.choice(['min', 'max', 'abs', 'round', 'known', 'size', 'days_between', 'months_between'])}({a}, {b})"
        if form == 5:
            return f"{r.choice(['count', 'any', 'all'])}(m in household.members where m.employed {r.choice(['and', 'or'])} {a})"
        if form == 6:
            return f"{a} {r.choice(['+', '-'])} {r.randint(0, 40)} {r.choice(['days', 'months', 'years', '个月'])}"
        if form == 7:
            return f"not ({a})"
        if form == 8:
            return f"-({a})"
        if form == 9:
            return f"{a} in {{{b}, {gen(d - 1)}}}"
        if form == 10:
            return f"round({a}, {r.choice([0, 2, 28, 29, 10 ** 9])})"
        return fz.mutate_text(a)

    return gen


def door_rules(fz: Fuzzer, n: int, tmp: Path) -> tuple[Door, dict]:
    """A one-clause set per input: generated expressions, then textual mutations of the file."""
    import yaml

    from policy_dsl.checker import analyse
    from policy_dsl.engine import build
    from policy_dsl.loader import load_rule_set

    door = Door("rule files")
    stats = {"check_clean": 0, "clean_but_eval_internal": 0}
    exprs = _expressions(fz)
    shipped = sorted((ROOT / "policies" / "liaoning" / "clauses").glob("*.yaml"))
    for i in range(n):
        root = tmp / f"r{i % 50}"
        if root.exists():
            shutil.rmtree(root)
        (root / "s" / "clauses").mkdir(parents=True)
        (root / "s" / "policy-set.yaml").write_text("name: s\nvocabulary: partial\ndocuments: [{id: 某文}]\n", encoding="utf-8")
        if i % 3 == 0:
            text = fz.mutate_text(fz.rng.choice(shipped).read_text(encoding="utf-8"))
        else:
            body = {"id": "demo", "subject": fz.rng.choice(["unit", "person", "household", "always"]),
                    "parameters": {"n": {"value": fz.rng.choice([30, "30%", "300元", "2021-12-31", 1.5, "1.0e+400"])},
                                   "r": {"type": "rate", "delegated": {"reason": "市定"}, "bounds": {"max": "60%"}}},
                    "definitions": {f"d{j}": exprs(fz.rng.randint(0, 3)) for j in range(fz.rng.randint(0, 3))},
                    "conditions": {"c": exprs(fz.rng.randint(0, 3))},
                    "conclusions": {"v": {"expr": exprs(fz.rng.randint(0, 4)),
                                          **({"type": fz.rng.choice(["money", "int", "bool", "rate", "decimal"])}
                                             if fz.rng.random() < 0.5 else {})},
                                    "w": "n"}}
            text = yaml.safe_dump(body, allow_unicode=True)
            if fz.rng.random() < 0.3:
                text = fz.mutate_text(text)
        (root / "s" / "clauses" / "demo.yaml").write_bytes(text.encode("utf-8", "surrogatepass"))

        def one() -> None:
            rs = load_rule_set(root / "s")
            analysis = analyse(rs)
            if analysis.errors:
                return
            stats["check_clean"] += 1
            engine = build(rs)
            for _ in range(3):
                try:
                    engine.evaluate(fz.mutated_facts(), trace=True).to_json()
                except PolicyError:
                    pass
                except Exception:
                    stats["clean_but_eval_internal"] += 1
                    raise

        door.run(one, lambda: text)
    return door, stats


def door_tests(fz: Fuzzer, n: int, tmp: Path) -> Door:
    from policy_dsl.testing import run_files

    door = Door("rule-test files")
    root = tmp / "tests_root"
    for name in ("mini_province", "mini_city"):
        shutil.copytree(ROOT / "tests" / "fixtures" / name, root / name)
    (root / "mini_city" / "tests").mkdir(exist_ok=True)
    keys = ["stable_job_refund.eligible", "stable_job_refund.amount", "stable_job_refund.applicable", "nope.x", "stable_job_refund.nope"]
    for i in range(n):
        cases = []
        for _ in range(fz.rng.randint(0, 3)):
            case: dict[str, Any] = {"name": fz.rng.choice(["c", "", 1, None]), "facts": fz.mutated_facts(),
                                    "expect": {fz.rng.choice(keys): fz.rng.choice([True, "1000.00", 0, None, {"undetermined": True}, [1]])}}
            if fz.rng.random() < 0.3:
                case["compare"] = fz.rng.choice(["mini_province", "../mini_province", "nope"])
                case[fz.rng.choice(["changes", "unchanged", "expect_base"])] = fz.rng.choice([[fz.rng.choice(keys)], {}, "x"])
            if fz.rng.random() < 0.2:
                case[fz.rng.choice(["as_of", "expect", "facts", "bogus"])] = fz.hostile_value()
            cases.append(case)
        text = fz.to_text(cases, as_json=False)
        if fz.rng.random() < 0.4:
            text = fz.mutate_text(text)
        path = root / "mini_city" / "tests" / "t.yaml"
        path.write_bytes(text.encode("utf-8", "surrogatepass"))

        def one() -> None:
            errors = [o.error for o in run_files([path]) if o.error is not None]
            for error in errors:
                error.render()
            if errors:
                raise errors[0]  # counted as a clear error
        door.run(one, lambda: text)
    return door


def door_diff(fz: Fuzzer, n: int, tmp: Path) -> Door:
    from policy_dsl.diff import dynamic_diff, read_cases, static_diff

    door = Door("diff case files")
    base, variant = load(ROOT / "tests/fixtures/mini_province"), load(ROOT / "tests/fixtures/mini_city")
    changes = static_diff(base.rule_set, variant.rule_set)
    for i in range(n):
        as_json = fz.rng.random() < 0.4
        shape = fz.rng.random()
        data: Any = fz.mutated_facts() if shape < 0.3 else \
            [{"name": f"c{j}", "facts": fz.mutated_facts() if fz.rng.random() < 0.9 else fz.hostile_value()}
             for j in range(fz.rng.randint(0, 3))] if shape < 0.8 else fz.hostile_value()
        text = fz.to_text(data, as_json)
        if fz.rng.random() < 0.4:
            text = fz.mutate_text(text)
        path = tmp / ("cases.json" if as_json else "cases.yaml")
        path.write_bytes(text.encode("utf-8", "surrogatepass"))

        def one() -> None:
            dynamic_diff(base, variant, read_cases(path), changes)
        door.run(one, lambda: text)
    return door


def main(argv: list[str] | None = None) -> dict[str, Door]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-door", type=int, default=10_000)
    parser.add_argument("--rng-state", type=int, default=1, help="state of the random generator (runs are reproducible)")
    parser.add_argument("--door", action="append", choices=["facts", "rules", "api", "tests", "diff"])
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    fz = Fuzzer(args.rng_state)
    engines = [load(ROOT / "policies/liaoning"), load(ROOT / "policies/fushun")]
    chosen = args.door or ["facts", "api", "rules", "tests", "diff"]
    doors: dict[str, Door] = {}
    tmp = Path(tempfile.mkdtemp(prefix="fuzz-doors-"))
    extra: dict = {}
    try:
        for name in chosen:
            start = time.perf_counter()
            if name == "facts":
                doors[name] = door_facts(fz, args.per_door, tmp, engines)
            elif name == "api":
                doors[name] = door_api(fz, args.per_door, engines)
            elif name == "rules":
                doors[name], extra = door_rules(fz, args.per_door, tmp)
            elif name == "tests":
                doors[name] = door_tests(fz, args.per_door, tmp)
            else:
                doors[name] = door_diff(fz, args.per_door, tmp)
            d = doors[name]
            if not args.quiet:
                print(f"{d.name:24} {d.inputs:6} inputs: {d.held:6} results, {d.policy_errors:6} clear errors, "
                      f"{d.internal} internal errors  ({time.perf_counter() - start:.0f} s)", flush=True)
                for ex in d.examples:
                    print("  " + ex.replace("\n", "\n  "))
        if extra and not args.quiet:
            print(f"rule files that check accepts: {extra['check_clean']}; of those, evaluation failed internally: "
                  f"{extra['clean_but_eval_internal']}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return doors


if __name__ == "__main__":
    result = main()
    sys.exit(1 if any(d.internal for d in result.values()) else 0)
