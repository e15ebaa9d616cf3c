"""Cases derived from the rules themselves, for `policy diff --generate`.

For each computable clause of either set, the facts it reads (through every named item it depends
on, in either set) get levels: true/false, every enum value, a few ordinary values, and — for every
comparison of a fact with a constant in either set (diffgen/sites.py) — the constant and one step
on each side (diffgen/steps.py), plus values between the two sets' constants when they differ.
A greedy baseline that satisfies as many of the clause's conditions as possible is varied one fact
at a time (each fact also missing). Comparisons whose fact side is derived (a rate, a fallback
date, a date minus some years) are searched: each fact they read is moved with the others held at
chosen values, and the outcome bisected (diffgen/solve.py), in both sets, so the cases fall on both
sides of both sets' boundaries and between them. Finally a capped pairwise covering array over the
facts' levels (diffgen/pairwise.py).
"""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from itertools import islice, product
from typing import Any

from . import types as T
from .diffgen.coverage import conditions_seen, conditions_summary
from .diffgen.pairwise import assignments, covered_by, covering_array
from .diffgen.periods import period_days, period_fact
from .diffgen.sites import SEARCHABLE, Site, closure, find_sites, history_dates, pair_sites, roots
from .diffgen.solve import around_flip, between, flips
from .diffgen.steps import around, domain, samples
from .engine import RuleEngine
from .errors import PolicyError
from .facts import prepare
from .nodes import walk
from .typer import FactBinding
from .values import isolated

DEFAULT_AS_OF = date(2021, 9, 1)
_MEMBER_FIELDS = ("working_age", "able_to_work", "wants_work")
_CO_VALUES = 6       # values of the other facts under which a derived comparison is searched
_LEVELS = 8          # levels per fact in the pairwise array (threshold values first)
_ROWS = 40           # pairwise rows per clause at most


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
    if k == "list" and path == "household.members":
        u = {f: True for f in _MEMBER_FIELDS} | {"employed": False, "has_business_or_investment_income": False}
        e = {**u, "employed": True}
        b = {**u, "has_business_or_investment_income": True}
        return [[u, u], [], [u], [u, e], [u, b], [u, u, e], [u, u, u]]
    if k == "list" and t.elem is not None and t.elem.fields:  # a declared list: members built from its fields
        return _records(t.elem)
    if k == "list":
        return [[]]
    return ["抚顺市"]


def _records(record: T.Type) -> list[Any]:
    """Lists of a set-declared record type: none, one typical record, and that record with each field
    changed to its next default (so a `where` over any field sees both sides)."""
    typical = {name: _defaults(ft, name)[0] for name, ft in record.fields}
    varied = [{**typical, name: alt} for name, ft in record.fields for alt in _defaults(ft, name)[1:2]]
    return [[], [typical], *[[typical, v] for v in varied]]


class _Generator:
    def __init__(self, engines: list[RuleEngine]) -> None:
        self.engines = engines
        self.main = engines[-1]
        self.sites = [s for i, e in enumerate(engines) for s in find_sites(e, i)]
        self.group: dict[int, list[Site]] = {}   # id(site) → the same comparison in both sets
        for pair in pair_sites(self.sites):
            group = [s for s in pair if s is not None]
            self.group.update({id(s): group for s in group})
        self.dates = sorted({c for s in self.sites for c in s.constants if isinstance(c, date)} |
                            {d for e in engines for c in e.rule_set.clauses.values() for p in c.parameters.values()
                             for d, _ in p.history})
        self._outcomes: dict[tuple, bool | None] = {}
        self.subject = ""
        self.start: dict[str, tuple[str, dict, dict]] = {}   # clause → (subject, baseline, levels)
        self.pairwise = {"factors": 0, "pairs": 0, "rows": 0, "capped_clauses": [], "row_cap": _ROWS,
                         "level_cap": _LEVELS}

    def spec(self, path: str):
        for engine in reversed(self.engines):
            if path in engine.vocab.facts:
                return engine.vocab.facts[path]
        return None

    def engine_of(self, cid: str) -> RuleEngine:
        return self.main if cid in self.main.rule_set.clauses else self.engines[0]

    # --- what a clause reads, and the values to try --------------------------------------------
    def clause_facts(self, cid: str) -> list[str]:
        paths: set[str] = set()
        for engine in self.engines:
            if cid not in engine.rule_set.clauses:
                continue
            bindings = engine.analysis.notes.bindings
            for key in closure(engine, cid):
                for root in roots(engine, key):
                    paths |= {b.path for node in walk(root) if isinstance(b := bindings.get(id(node)), FactBinding)}
            dated = period_fact(engine.rule_set, cid, engine.vocab.facts)
            if dated is not None:  # the date that chooses the edition judging the case
                paths.add(dated)
        return sorted(p for p in paths if self.spec(p) is not None)

    def clause_sites(self, cid: str) -> list[Site]:
        keys = [closure(e, cid) if cid in e.rule_set.clauses else set() for e in self.engines]
        return [s for s in self.sites if s.slot in keys[s.set_index]]

    def levels(self, facts: list[str], sites: list[Site]) -> dict[str, list[Any]]:
        """Per fact: threshold values first (each constant ± one step, values between two sets'
        constants, headcounts that make a rate hit its constants exactly), then ordinary values."""
        found: dict[str, list[Any]] = {p: [] for p in facts}
        for s in sites:
            others = tuple(c for t in self.group[id(s)] for c in t.constants)
            if s.direct in found:
                spec = self.spec(s.direct)
                consts = sorted(set(others), key=_order)
                for c in consts:
                    found[s.direct] += around(c, spec.type.kind, consts)
                found[s.direct] += _between_constants(consts, spec)
            for path, day in history_dates(self.engines[s.set_index], s.params):  # where a history changes value
                if path in found:
                    found[path] += around(day, "date")
            d = s.denominator_multiple(others)
            for path in s.denominators:
                if path in found and d:
                    found[path] += [d * k for k in (1, 2)]
        for engine in self.engines:
            for clause_id in engine.rule_set.clauses:
                dated = period_fact(engine.rule_set, clause_id, engine.vocab.facts)
                if dated in found:
                    found[dated] += period_days(engine.rule_set)
        out = {}
        for path in facts:
            spec = self.spec(path)
            dom = domain(spec)
            valid = [v for v in found[path] if dom is None or dom.contains(v)]
            out[path] = _unique(valid + _defaults(spec.type, path))
        return out

    # --- evaluation -----------------------------------------------------------------------------
    def flat(self, case: dict[str, Any], engine: RuleEngine) -> dict:
        return prepare(self.nest(case, engine), engine.vocab)

    def nest(self, case: dict[str, Any], engine: RuleEngine | None = None) -> dict:
        """Nested facts (for one engine: only the facts it knows), with the subject of the clause being
        generated present even when the clause reads no fact of it (a unit clause reading only as_of)."""
        nested = _nest({k: v for k, v in case.items() if engine is None or k in engine.vocab.facts})
        if self.subject not in ("always", "") and self.subject not in nested:
            # a subject is present when one of its facts is given; any one does, the clause reads none
            spec = next((f for p, f in self.main.vocab.facts.items() if p.startswith(self.subject + ".")), None)
            if spec is not None and (engine is None or spec.path in engine.vocab.facts):
                nested[self.subject] = {spec.path.split(".", 1)[1]: _defaults(spec.type, spec.path)[0]}
        return nested

    def outcome(self, site: Site, case: dict[str, Any]) -> bool | None:
        key = (site.set_index, site.node_id, self.subject, _key(case))
        if key not in self._outcomes:
            engine = self.engines[site.set_index]
            try:  # the program of the subjects present: the traces number nodes as the whole set does
                value = engine.evaluate_prepared(self.flat(case, engine), trace=True).trace.get(site.node_id)
            except PolicyError:
                value = None
            self._outcomes[key] = value if isinstance(value, bool) else None
        return self._outcomes[key]

    def score(self, cid: str, case: dict) -> int:
        engine = self.engine_of(cid)
        try:
            slots = engine.evaluate_prepared(self.flat(case, engine)).slots
            clause = engine.rule_set.clauses[cid]
            values = [slots[f"{cid}.{x}"] for x in (*clause.conditions, *clause.conclusions)]
        except (PolicyError, KeyError):  # inconsistent facts (layoffs with no insured staff), or not about this case
            return -1
        return sum(2 if v is True else 1 if v is not None and not hasattr(v, "missing") else 0 for v in values)

    # --- cases -----------------------------------------------------------------------------------
    def clause_cases(self, cid: str) -> tuple[list[dict], list[dict]]:
        """Cases one fact at a time and at derived boundaries; and the pairwise rows."""
        self.subject = self.engine_of(cid).rule_set.clauses[cid].subject
        facts = self.clause_facts(cid)
        if "as_of" not in facts:
            facts.append("as_of")
        sites = self.clause_sites(cid)
        levels = self.levels(facts, sites)
        baseline = self._greedy(cid, {p: levels[p][0] for p in facts}, levels)
        self.start[cid] = (self.subject, baseline, levels)
        cases = self._vary(baseline, levels)
        cases += self._boundaries(baseline, sites, levels)
        return cases, self._pairwise(cid, facts, levels)

    def targeted(self, key: str, want: bool) -> dict | None:
        """A case that gives one condition the value no other case gave it: from the clause's
        baseline, one fact changed after another while that brings the condition closer."""
        cid, name = key.split(".", 1)
        self.subject, case, levels = self.start[cid]
        engine = self.engine_of(cid)
        # progress towards "true": the operands of the condition's `and` chain that are already true
        parts = [engine.program.node_ids.get(id(x), -1) for x in _conjuncts(engine.rule_set.clauses[cid].conditions[name].expr)]
        done = len(parts) + 2

        def score(c: dict) -> int:
            try:
                d = engine.evaluate_prepared(self.flat(c, engine), trace=True)
                v = d.slots[key]
            except (PolicyError, KeyError):
                return -1
            if v is want:
                return done
            return sum(d.trace.get(i) is True for i in parts) if want else 1 if isinstance(v, bool) else 0

        best = score(case)
        for _ in range(min(len(parts) + 1, 5)):  # `and` stops at the first false operand: one pass per operand
            for path, values in levels.items():
                for v in values:
                    s = score({**case, path: v})
                    if s > best:
                        case, best = {**case, path: v}, s
                if best == done:
                    return case
        return None

    def _greedy(self, cid: str, baseline: dict, levels: dict) -> dict:
        for _ in range(2):
            for path, values in levels.items():
                best, best_score = baseline[path], self.score(cid, baseline)
                for v in values:
                    s = self.score(cid, {**baseline, path: v})
                    if s > best_score:
                        best, best_score = v, s
                baseline = {**baseline, path: best}
        return baseline

    def _vary(self, baseline: dict, levels: dict) -> list[dict]:
        cases = [baseline]
        for path, values in levels.items():
            cases += [{**baseline, path: v} for v in values if v != baseline[path]]
            if path != "as_of":
                cases.append({k: v for k, v in baseline.items() if k != path})  # the fact missing
        return cases

    def _boundaries(self, baseline: dict, sites: list[Site], levels: dict) -> list[dict]:
        """Derived comparisons: each searchable fact moved, the others held at a few chosen values,
        in each set that has the comparison; values between the two sets' boundaries too."""
        cases: list[dict] = []
        groups = {id(self.group[id(s)][0]): self.group[id(s)] for s in sites}
        for group in groups.values():
            start = baseline
            if all(self.outcome(s, baseline) is None for s in group):  # not reached: e.g. behind `"orphan" in …`
                start = self._reach(group, baseline, levels)
            direct = group[0].direct
            if direct is not None:  # the fact's levels hold the constants ± one step: move it where it is reached
                if start is not baseline:
                    cases += [{**start, direct: v} for v in levels[direct]]
                for path, day in {h for s in group for h in history_dates(self.engines[s.set_index], s.params)}:
                    cases += [{**start, path: day, direct: v} for v in levels[direct]]  # each value in its period
                continue
            cases += self._search(group, start, levels)
        return cases

    def _reach(self, group: list[Site], baseline: dict, levels: dict) -> dict:
        """A case (from the baseline, one fact changed after another) in which the comparison is evaluated."""
        case = baseline
        reached = lambda c: sum(self.outcome(s, c) is not None for s in group)  # noqa: E731
        best = reached(case)
        for path, values in levels.items():
            for v in values:
                score = reached({**case, path: v})
                if score > best:
                    case, best = {**case, path: v}, score
            if best == len(group):
                break
        return case

    def _search(self, group: list[Site], baseline: dict, levels: dict) -> list[dict]:
        """Each fact the comparison reads, moved and bisected with the others held at a few values."""
        cases: list[dict] = []
        facts = sorted({f for s in group for f in s.facts if f in baseline and self.spec(f).type.kind in SEARCHABLE})
        for x in facts:
            dom = domain(self.spec(x), [c for s in group for c in s.constants])
            if dom is None:
                continue
            others = [f for f in facts if f != x]
            choices = [[baseline[f]] + [v for v in levels[f] if v != baseline[f]] for f in others]
            for combo in islice(product(*choices), _CO_VALUES):
                start = {**baseline, **dict(zip(others, combo))}
                points = samples(dom, start.get(x), self.dates)
                found = []
                for s in group:
                    fl = flips(lambda v, s=s: self.outcome(s, {**start, x: v}), dom, points)
                    found.append(fl)
                    cases += [{**start, x: v} for f in fl for v in around_flip(dom, f)]
                if len(found) == 2:  # both sets: values where one set's outcome is already the other's
                    cases += [{**start, x: v} for v in between(dom, found[0], found[1])]
        return cases

    def _pairwise(self, cid: str, facts: list[str], levels: dict) -> list[dict]:
        factors = [p for p in facts if len(levels[p]) > 1]
        if len(factors) < 2:
            return []
        trimmed = [levels[p][:_LEVELS] for p in factors]
        array = covering_array([len(x) for x in trimmed], _ROWS)
        self.pairwise["factors"] += len(factors)
        self.pairwise["pairs"] += array.pairs
        if array.capped:
            self.pairwise["capped_clauses"].append(cid)
        rows = assignments(factors, trimmed, array)
        base = {p: levels[p][0] for p in facts}
        return [{**base, **row, "$pairwise": (tuple(factors), row_levels)}
                for row, row_levels in zip(rows, array.rows)]


def _conjuncts(node) -> list:
    from .nodes import And
    return _conjuncts(node.left) + _conjuncts(node.right) if isinstance(node, And) else [node]


def _order(v: Any) -> Any:
    return (0, v) if isinstance(v, date) else (1, Decimal(v)) if isinstance(v, (int, Decimal)) else (2, str(v))


def _between_constants(consts: list[Any], spec) -> list[Any]:
    """A few values strictly between two sets' constants of one fact (a moved deadline or cap)."""
    dom = domain(spec, consts)
    if dom is None or len(consts) < 2:
        return []
    ks = sorted(k for k in (dom.index(c) for c in consts) if k is not None)
    out = []
    for lo, hi in zip(ks, ks[1:]):
        if hi - lo > 2:
            out += [dom.value(lo + (hi - lo) // 2)]
    return out


def _key(case: dict) -> str:
    return json.dumps(case, default=str, sort_keys=True)


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
    seen_keys: set[str] = set()
    rejected = 0
    pair_rows: list[tuple[tuple[str, ...], tuple[int, ...], str]] = []
    clauses = [cid for cid, c in variant.rule_set.clauses.items() if c.kind == "computable" and c.conclusions]
    clauses += [cid for cid, c in base.rule_set.clauses.items()
                if c.kind == "computable" and c.conclusions and cid not in variant.rule_set.clauses]
    for cid in clauses:
        single, rows = gen.clause_cases(cid)
        for i, case in enumerate([*single, *rows]):
            marker = case.pop("$pairwise", None)
            nested = gen.nest(case)
            key = json.dumps(nested, default=str, sort_keys=True)
            if key in seen_keys:
                if marker:
                    pair_rows.append((*marker, cid))
                continue
            seen_keys.add(key)
            try:  # facts no real case can have (a layoff rate over zero staff) are left out, and counted
                base.evaluate(gen.nest(case, base))
                variant.evaluate(nested)
            except PolicyError:
                rejected += 1
                continue
            if marker:
                pair_rows.append((*marker, cid))
            cases.append((f"generated:{cid}#{i}", nested))
    reported = [c for c in clauses if c in variant.rule_set.clauses]
    seen, reached = conditions_seen(variant, cases, reported)
    added = []
    for key in [k for cid in reported for k in (f"{cid}.{c}" for c in variant.rule_set.clauses[cid].conditions)
                if len(seen.get(k, ())) < 2]:
        for want in (True, False):
            case = gen.targeted(key, want) if want not in seen.get(key, ()) else None
            nested = gen.nest(case) if case is not None else None
            if nested is None or json.dumps(nested, default=str, sort_keys=True) in seen_keys:
                continue
            seen_keys.add(json.dumps(nested, default=str, sort_keys=True))
            try:
                base.evaluate(gen.nest(case, base))
                variant.evaluate(nested)
            except PolicyError:
                continue
            added.append((f"generated:{key.split('.', 1)[0]}#{want}:{key.split('.', 1)[1]}", nested))
    conditions_seen(variant, added, reported, seen, reached)
    cases += added
    report = conditions_summary(variant, cases, reported, seen, reached)
    report["rejected_inconsistent"] = rejected
    report["targeted"] = len(added)
    report["pairwise"] = _pairwise_report(gen.pairwise, pair_rows)
    return cases, report


def _pairwise_report(stats: dict, rows: list) -> dict:
    covered: set = set()
    for factors, levels, cid in rows:
        covered |= {(cid, factors[i], a, factors[j], b) for i, a, j, b in covered_by(levels)}
    return {**stats, "rows": len(rows), "pairs_covered": len(covered)}
