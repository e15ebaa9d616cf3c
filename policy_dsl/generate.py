"""Cases derived from the rules themselves, for `policy diff --generate`.

For each computable clause: the facts it reads (through every named item it
depends on, in either set); for each fact, values on both sides of every
threshold the conditions compare it with (found in traced evaluations, so
parameters and computed dates count), every enum value, true/false, and
"missing"; ratios (a / b compared with a rate) get numerators on both sides of
the boundary for several denominators. A greedy baseline that satisfies as
many of the clause's conditions as possible is varied one fact at a time.
"""
from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from . import nodes as n
from . import types as T
from .engine import RuleEngine
from .errors import PolicyError
from .facts import prepare
from .setfacts import as_seen_by
from .typer import FactBinding, SlotBinding
from .values import isolated

DEFAULT_AS_OF = date(2021, 9, 1)
_MEMBER_FIELDS = ("working_age", "able_to_work", "wants_work")


def _defaults(t: T.Type, path: str) -> list[Any]:
    k = t.kind
    if k == "bool":
        return [True, False]
    if k == "enum":
        return list(t.values)
    if k == "set":
        values = list(t.elem.values) if t.elem and t.elem.values else []
        return [[]] + [[v] for v in values]
    if k == "int":
        return [100, 0, 1, 12, 31]
    if k in ("decimal", "money", "rate"):
        return [Decimal("10000.00") if k == "money" else Decimal(15), Decimal(0)]
    if k == "date":
        return [DEFAULT_AS_OF]
    if k == "list" and t.elem is not None and t.elem.fields and path != "household.members":
        return _records(t.elem)
    if k == "list":
        u = {f: True for f in _MEMBER_FIELDS} | {"employed": False, "has_business_or_investment_income": False}
        e = {**u, "employed": True}
        b = {**u, "has_business_or_investment_income": True}
        return [[u, u], [], [u], [u, e], [u, b], [u, u, e]]
    return ["抚顺市"]


def _records(record: T.Type) -> list[Any]:
    """Lists of a set-declared record type: none, one typical record, and that record with each field
    changed to its next default (so a `where` over any field sees both sides)."""
    typical = {name: _defaults(ft, name)[0] for name, ft in record.fields}
    varied = [{**typical, name: alt} for name, ft in record.fields for alt in _defaults(ft, name)[1:2]]
    return [[], [typical], *[[typical, v] for v in varied]]


def _around(value: Any, t: T.Type) -> list[Any]:
    """Values on both sides of a threshold, and the threshold itself."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, date):
        return [value - timedelta(days=1), value, value + timedelta(days=1)]
    if isinstance(value, int) and t.kind == "int":
        return [max(0, value - 1), value, value + 1]
    if isinstance(value, (int, Decimal)) and t.kind in ("decimal", "money", "rate", "int"):
        step = Decimal("0.01") if t.kind in ("money", "rate") else Decimal(1)
        v = Decimal(value)
        out = [v - step, v, v + step]
        return [int(x) for x in out if x >= 0] if t.kind == "int" else [x for x in out if x >= 0]
    return []


class _Generator:
    def __init__(self, engines: list[RuleEngine]) -> None:
        self.engines = engines
        self.main = engines[-1]
        self.vocab = self.main.vocab

    def clause_facts(self, cid: str) -> list[str]:
        paths: set[str] = set()
        for engine in self.engines:
            keys = [f"{cid}.{c}" for c in engine.rule_set.clauses[cid].conclusions] if cid in engine.rule_set.clauses else []
            seen: set[str] = set()
            while keys:
                key = keys.pop()
                if key in seen:
                    continue
                seen.add(key)
                keys.extend(engine.analysis.deps.get(key, ()))
                for root in _roots(engine, key):
                    for node in n.walk(root):
                        b = engine.analysis.notes.bindings.get(id(node))
                        if isinstance(b, FactBinding):
                            paths.add(b.path)
        return sorted(paths)

    def thresholds(self, flat_cases: list[dict], facts: list[str]) -> tuple[dict[str, list[Any]], list[tuple]]:
        """Values compared with each fact, read off traced evaluations of the cases."""
        found: dict[str, list[Any]] = {p: [] for p in facts}
        ratios: list[tuple[str, str, Any]] = []
        for engine in self.engines:
            notes = engine.analysis.notes
            for flat in flat_cases:
                trace: dict[int, object] = {}
                try:
                    engine.program.run(flat, trace)
                except PolicyError:
                    continue
                for nid, node in enumerate(engine.program.nodes):
                    if not isinstance(node, (n.Compare, n.Member)) or nid not in trace:
                        continue
                    sides = (node.left, node.right) if isinstance(node, n.Compare) else (node.element, node.collection)
                    for this, other in (sides, sides[::-1]):
                        other_value = trace.get(engine.program.node_ids.get(id(other), -1))
                        b = notes.bindings.get(id(this))
                        if isinstance(b, FactBinding) and b.path in found and other_value is not None:
                            found[b.path] += _around(other_value, b.type)
                        elif isinstance(b, SlotBinding) and other_value is not None:
                            ratios += _ratio(engine, b.key, other_value, found)
        return found, ratios

    def candidates(self, facts: list[str], found: dict[str, list[Any]], ratios) -> dict[str, list[Any]]:
        out = {}
        for path in facts:
            spec = self.vocab.facts[path]
            values = _defaults(spec.type, path) + found.get(path, [])
            out[path] = _unique(values)
        return out

    def score(self, cid: str, flat: dict) -> int:
        engine = self.main
        try:
            values = engine.program.run(flat)
        except PolicyError:  # inconsistent facts (e.g. layoffs with no insured staff): never a baseline
            return -1
        slots = dict(zip(engine.program.keys, values))
        clause = engine.rule_set.clauses[cid]
        names = [*clause.conditions, *clause.conclusions]
        return sum(2 if slots[f"{cid}.{x}"] is True else 1 if slots[f"{cid}.{x}"].__class__ is not type(None) and
                   not hasattr(slots[f"{cid}.{x}"], "missing") else 0 for x in names)

    def flat(self, case: dict[str, Any]) -> dict:
        return prepare(_nest(case), self.vocab)

    def clause_cases(self, cid: str) -> list[dict[str, Any]]:
        facts = self.clause_facts(cid)
        if "as_of" not in facts:
            facts.append("as_of")
        cands = self.candidates(facts, {}, [])
        baseline = {p: cands[p][0] for p in facts}
        baseline = self._greedy(cid, baseline, cands)
        cases = self._vary(baseline, cands)
        found, ratios = self.thresholds([self.flat(c) for c in cases], facts)
        cands = self.candidates(facts, found, ratios)
        baseline = self._greedy(cid, baseline, cands)
        cases = self._vary(baseline, cands)
        for num, den, values in _ratio_cases(ratios, baseline):
            for a, b in values:
                cases.append({**baseline, num: a, den: b})
        return cases

    def _greedy(self, cid: str, baseline: dict, cands: dict) -> dict:
        for _ in range(2):
            for path, values in cands.items():
                best, best_score = baseline[path], self.score(cid, self.flat(baseline))
                for v in values:
                    s = self.score(cid, self.flat({**baseline, path: v}))
                    if s > best_score:
                        best, best_score = v, s
                baseline = {**baseline, path: best}
        return baseline

    def _vary(self, baseline: dict, cands: dict) -> list[dict]:
        cases = [baseline]
        for path, values in cands.items():
            for v in values:
                if v != baseline[path]:
                    cases.append({**baseline, path: v})
            if path != "as_of":
                cases.append({k: v for k, v in baseline.items() if k != path})  # the fact missing
        return cases


def _roots(engine: RuleEngine, key: str):
    cid, name = key.split(".", 1)
    clause = engine.rule_set.clauses[cid]
    item = clause.items().get(name)
    if item is not None and hasattr(item, "expr"):
        yield item.expr
    for rule in clause.exceptions:
        if rule.conclusion == name:
            yield rule.when
            yield rule.value


def _ratio(engine: RuleEngine, key: str, threshold: Any, found: dict) -> list[tuple]:
    out = []
    for root in _roots(engine, key):
        for node in n.walk(root):
            if isinstance(node, n.Arith) and node.op == "/":
                a = engine.analysis.notes.bindings.get(id(node.left))
                b = engine.analysis.notes.bindings.get(id(node.right))
                if isinstance(a, FactBinding) and isinstance(b, FactBinding) and a.path in found and b.path in found:
                    out.append((a.path, b.path, threshold))
    return out


def _ratio_cases(ratios, baseline: dict):
    """For a / b compared with c: for several b, the a just below, at and just above c·b."""
    seen = set()
    for num, den, c in ratios:
        if (num, den, c) in seen or not isinstance(c, (int, Decimal)):
            continue
        seen.add((num, den, c))
        values = []
        for b in _unique([20, 30, 31, 100, baseline.get(den)]):
            if not isinstance(b, int) or b <= 0:
                continue
            exact = Decimal(c) * b
            low = int(exact) if exact == int(exact) else int(exact)
            values += [(max(0, low - 1), b), (low, b), (low + 1, b)]
        yield num, den, _unique(values)


def _unique(values: list[Any]) -> list[Any]:
    out, keys = [], set()
    for v in values:
        k = json.dumps(v, default=str, sort_keys=True)
        if k not in keys:
            keys.add(k)
            out.append(v)
    return out


def _nest(flat: dict[str, Any]) -> dict:
    out: dict = {}
    for path, value in flat.items():
        if "." not in path:
            out[path] = value
            continue
        subject, name = path.split(".", 1)
        out.setdefault(subject, {})[name] = value
    return out


@isolated
def generate_cases(base: RuleEngine, variant: RuleEngine) -> tuple[list[tuple[str, dict]], dict]:
    gen = _Generator([base, variant])
    cases: list[tuple[str, dict]] = []
    seen: set[str] = set()
    rejected = 0
    clauses = [cid for cid, c in variant.rule_set.clauses.items() if c.kind == "computable" and c.conclusions]
    for cid in clauses:
        for i, case in enumerate(gen.clause_cases(cid)):
            nested = _nest(case)
            key = json.dumps(nested, default=str, sort_keys=True)
            if key in seen:
                continue
            seen.add(key)
            try:  # facts no real case can have (a layoff rate over zero staff) are left out, and counted
                base.evaluate(as_seen_by(nested, base.vocab, variant.vocab))
                variant.evaluate(nested)
            except PolicyError:
                rejected += 1
                continue
            cases.append((f"generated:{cid}#{i}", nested))
    report = coverage(variant, cases, clauses)
    report["rejected_inconsistent"] = rejected
    return cases, report


def coverage(engine: RuleEngine, cases: list[tuple[str, dict]], clauses: list[str]) -> dict:
    seen: dict[str, set] = {}
    reached: set[str] = set()
    for _, facts in cases:
        decision = engine.evaluate(facts)
        for cid in clauses:
            if decision.clauses[cid].applicable:
                reached.add(cid)
            for name in engine.rule_set.clauses[cid].conditions:
                v = decision.slots[f"{cid}.{name}"]
                if isinstance(v, bool):
                    seen.setdefault(f"{cid}.{name}", set()).add(v)
    conditions = [f"{cid}.{c}" for cid in clauses for c in engine.rule_set.clauses[cid].conditions]
    both = [c for c in conditions if seen.get(c) == {True, False}]
    return {"cases": len(cases), "clauses": len(clauses), "clauses_reached": len(reached),
            "conditions": len(conditions), "conditions_both_ways": len(both),
            "conditions_one_way": [c for c in conditions if c not in both]}
