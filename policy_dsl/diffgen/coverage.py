"""Which cases exercised which side of each comparison, read off the traces `policy diff` already has.

For every comparison of either set: whether both outcomes were seen, whether the fact side fell
below, exactly on and above the other side. For every threshold that differs between the sets
(a moved constant, a parameter with another value or history, a comparison only one set has):
the cases per region of the fact side's value — below both values, at the lower, between, at the
upper, above both — how many of them the two sets' comparisons judged differently ("separating"),
and how many of those had a differing conclusion the traces attribute to the threshold. Changed
parameters that are not compared with anything (a refund rate) get the cases that reach their
clause and the differences attributed to them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ..engine import RuleEngine
from ..unparse import unparse
from ..values import format_typed
from .sites import Site, find_sites, pair_sites

REGIONS = ("below", "at_lower", "between", "at_upper", "above")


@dataclass
class _SiteSeen:
    outcomes: set = field(default_factory=set)
    sides: set = field(default_factory=set)      # -1 below, 0 exactly at, 1 above the other side


@dataclass
class _Changed:
    base: Site | None
    variant: Site | None
    regions: dict[str, list[str]] = field(default_factory=lambda: {r: [] for r in REGIONS})
    separating: list[str] = field(default_factory=list)


class ThresholdCoverage:
    def __init__(self, base: RuleEngine, variant: RuleEngine, changed_params: dict[str, tuple[str, str]]) -> None:
        self.engines = (base, variant)
        self.sites = [*find_sites(base, 0), *find_sites(variant, 1)]
        self.seen = {id(s): _SiteSeen() for s in self.sites}
        self.changed = [_Changed(a, b) for a, b in pair_sites(self.sites) if _differs(a, b, changed_params)]
        behind = {p for c in self.changed for s in (c.base, c.variant) if s for p in s.params}
        self.params = {k: v for k, v in changed_params.items() if k not in behind}
        self.param_cases: dict[str, list[str]] = {k: [] for k in self.params}
        self.attributed: dict[str, set[str]] = {}       # changed item → cases whose difference it explains

    def observe(self, name: str, decisions: tuple, differences: list) -> None:
        for d in differences:
            for key in d.because:
                self.attributed.setdefault(key, set()).add(name)
        values = [self._values(s, decisions[s.set_index]) for s in self.sites]
        by_site = {id(s): v for s, v in zip(self.sites, values)}
        for s, v in zip(self.sites, values):
            if v is not None:
                outcome, fact, other = v
                seen = self.seen[id(s)]
                seen.outcomes.add(outcome)
                side = _side(fact, other)
                if side is not None:
                    seen.sides.add(side)
        for c in self.changed:
            a = by_site.get(id(c.base)) if c.base else None
            b = by_site.get(id(c.variant)) if c.variant else None
            if a is None and b is None:
                continue
            fact = (b or a)[1]
            region = _region(fact, a[2] if a else None, b[2] if b else None)
            if region:
                c.regions[region].append(name)
            if a is not None and b is not None and a[0] != b[0]:  # the two sets' comparisons disagree
                c.separating.append(name)
            elif c.base is None or c.variant is None:  # a comparison one set has: it treats every such case apart
                c.separating.append(name)
        vd = decisions[1]
        for key in self.params:
            cid = key.split(".", 1)[0]
            result = vd.clauses.get(cid)
            if result is not None and result.applicable:
                self.param_cases[key].append(name)

    def _values(self, s: Site, decision) -> tuple[bool, Any, Any] | None:
        trace = decision.trace
        if not trace or s.node_id not in trace:
            return None
        outcome = trace[s.node_id]
        if not isinstance(outcome, bool):
            return None
        ids = self.engines[s.set_index].program.node_ids
        fact = trace.get(ids.get(id(s.fact_side), -1))
        other = trace.get(ids.get(id(s.other_side), -1))
        if other is None and len(s.constants) == 1:
            other = s.constants[0]
        return outcome, fact, other

    # --- report -----------------------------------------------------------------------------------
    def to_json(self) -> dict:
        one_sided = [s for s in self.sites if len(self.seen[id(s)].outcomes) < 2]
        ordered = [s for s in self.sites if s.op in ("<", "<=", ">", ">=")]
        return {
            "comparisons": len(self.sites),
            "both_outcomes": len(self.sites) - len(one_sided),
            "both_sides": sum(1 for s in ordered if {-1, 1} <= self.seen[id(s)].sides),
            "exactly_at": sum(1 for s in ordered if 0 in self.seen[id(s)].sides),
            "ordered": len(ordered),
            "one_outcome_only": [_site_name(self.engines, s) for s in one_sided],
            "not_both_sides": [_site_name(self.engines, s) for s in ordered if not {-1, 1} <= self.seen[id(s)].sides],
            "changed": [self._changed_json(c) for c in self.changed] + [self._param_json(k) for k in self.params],
        }

    def _changed_json(self, c: _Changed) -> dict:
        site = c.variant or c.base
        assert site is not None
        # a difference counts for this threshold when the traces attribute it to the parameter behind
        # the constant, or to the item the comparison is written in (a literal changed in place)
        keys = {p for s in (c.base, c.variant) if s for p in s.params} | {f"{site.clause}.{site.item}"}
        # and only where the two sets' comparisons disagree: elsewhere the threshold cannot be the cause
        found = set().union(*(self.attributed.get(k, set()) for k in keys)) & set(c.separating)
        differing = lambda names: sum(1 for n in names if n in found)  # noqa: E731
        return {
            "kind": "threshold", "clause": site.clause, "item": site.item, "compare": site.text,
            "change": "added" if c.base is None else "removed" if c.variant is None else "moved",
            "base": _consts(self.engines[0], c.base), "variant": _consts(self.engines[1], c.variant),
            "parameters": sorted({p for s in (c.base, c.variant) if s for p in s.params}),
            "regions": {r: {"cases": len(v), "differing": differing(v)} for r, v in c.regions.items()},
            "separating_cases": len(c.separating), "separating_differing": differing(c.separating),
            "difference_found": differing(c.separating) > 0,
        }

    def _param_json(self, key: str) -> dict:
        cases = self.param_cases[key]
        found = self.attributed.get(key, set())
        base, variant = self.params[key]
        return {"kind": "parameter", "clause": key.split(".", 1)[0], "item": key.split(".", 1)[1],
                "base": base, "variant": variant, "cases": len(cases),
                "differing": len(found), "difference_found": bool(found)}


def changed_parameters(changes) -> dict[str, tuple[str, str]]:
    """Parameters whose value, history or delegation differs (from the static diff)."""
    return {f"{c.clause}.{c.name}": (c.base or "", c.variant or "") for c in changes
            if c.kind == "parameter" and c.change != "redelegated"}


def _differs(a: Site | None, b: Site | None, changed_params: dict) -> bool:
    if a is None or b is None:
        return True
    if a.constants or b.constants:
        return tuple(a.constants) != tuple(b.constants)
    return any(p in changed_params for p in (*a.params, *b.params))


def _consts(engine: RuleEngine, s: Site | None) -> str | None:
    if s is None:
        return None
    if not s.constants:
        return unparse(s.other_side)  # compared with another fact-derived value
    kind = engine.analysis.notes.types.get(id(s.other_side))
    k = kind.kind if kind else ""
    dated = [p for p in (_parameter(engine, key) for key in s.params) if p is not None and p.history]
    if len(dated) == 1 and len(s.params) == 1:  # the value in force depends on the date: say from when
        return "；".join(f"{d}起 {format_typed(v, k)}" for d, v in dated[0].history)
    return "、".join(format_typed(c, k) for c in s.constants)


def _parameter(engine: RuleEngine, key: str):
    cid, _, name = key.partition(".")
    clause = engine.rule_set.clauses.get(cid)
    return clause.parameters.get(name) if clause else None


def _site_name(engines, s: Site) -> str:
    return f"{s.clause}.{s.item}: {s.text}（{engines[s.set_index].name}）"


def _comparable(x: Any, y: Any) -> bool:
    if isinstance(x, bool) or isinstance(y, bool):
        return False
    return isinstance(x, date) and isinstance(y, date) or \
        isinstance(x, (int, Decimal)) and isinstance(y, (int, Decimal))


def _side(fact: Any, other: Any) -> int | None:
    if not _comparable(fact, other):
        return None
    return -1 if fact < other else 0 if fact == other else 1


def _region(v: Any, a: Any, b: Any) -> str | None:
    known = [x for x in (a, b) if _comparable(v, x)]
    if not known:
        return None
    lo, hi = min(known), max(known)
    if v < lo:
        return "below"
    if v == lo:
        return "at_lower"
    if v < hi:
        return "between"
    return "at_upper" if v == hi else "above"


# --- conditions: which way each went ---------------------------------------------------------------------

def conditions_seen(engine: RuleEngine, cases: list[tuple[str, dict]], clauses: list[str],
                     seen: dict[str, set] | None = None, reached: set[str] | None = None) -> tuple[dict, set]:
    """The values each condition took in these cases (added to `seen`), and the clauses they reached."""
    seen = {} if seen is None else seen
    reached = set() if reached is None else reached
    for _, facts in cases:
        decision = engine.evaluate(facts)
        for cid in clauses:
            if not decision.clauses[cid].applicable:
                continue  # its conditions were not computed for this case (and would all be unknown)
            reached.add(cid)
            for name in engine.rule_set.clauses[cid].conditions:
                v = decision.slots.get(f"{cid}.{name}")  # absent when an older edition judged the clause
                if isinstance(v, bool):
                    seen.setdefault(f"{cid}.{name}", set()).add(v)
    return seen, reached


def conditions_summary(engine: RuleEngine, cases: list, clauses: list[str], seen: dict, reached: set) -> dict:
    """How many conditions of these clauses the cases saw both true and false, and which only one way."""
    conditions = [f"{cid}.{c}" for cid in clauses for c in engine.rule_set.clauses[cid].conditions]
    both = [c for c in conditions if seen.get(c) == {True, False}]
    return {"cases": len(cases), "clauses": len(clauses), "clauses_reached": len(reached),
            "conditions": len(conditions), "conditions_both_ways": len(both),
            "conditions_one_way": [c for c in conditions if c not in both]}
