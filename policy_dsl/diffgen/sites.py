"""The comparisons of a rule set that put a fact-derived value against something: its thresholds.

A site is one comparison node. Its fact side reads facts (directly, or through definitions such as
裁员率 = unit.layoffs / unit.insured_headcount); its other side is a constant (a literal, a parameter,
a fact-free item) whose value is known statically — several values for a parameter with a history —
or, when both sides read facts, another fact-derived value (constants are then empty).
Sites of two sets are paired by `pair_sites`: same clause, item, fact side and operator, and the same
other side as written if possible (裁员率 <= 裁员率上限 with 裁员率 <= 裁员率上限, not with 裁员率 <=
小微单位裁员率上限), else in order (a literal changed in place: 裁员率 <= 6% with 裁员率 <= 5.5%).
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from decimal import Decimal
from typing import Any, Iterator

from .. import nodes as n
from ..engine import RuleEngine
from ..model import Parameter
from ..periods.history import period_source
from ..typer import FactBinding, SlotBinding
from ..unparse import unparse
from ..values import Unknown

FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
THRESHOLD_KINDS = frozenset({"int", "decimal", "money", "rate", "date"})
SEARCHABLE = THRESHOLD_KINDS  # fact types whose values can be stepped and searched
DATED = frozenset({"as_of"})   # what a parameter with a history reads


@dataclass(frozen=True)
class Site:
    set_index: int              # 0: the base set, 1: the variant
    clause: str
    item: str                   # the named item or exception id the comparison is written in
    slot: str                   # "clause.name" of the value the comparison helps compute
    node: n.Compare
    node_id: int                # in the engine's program (its traces)
    fact_side: n.Expr
    other_side: n.Expr
    op: str                     # fact_side op other_side
    facts: tuple[str, ...]      # facts the fact side reads, through definitions
    denominators: tuple[str, ...]  # of those, the ones read by a divisor (a rate's headcount)
    kind: str                   # type of the compared values
    constants: tuple            # static values of the other side; () when unknown or fact-derived
    params: tuple[str, ...]     # parameter keys behind the other side
    text: str                   # the comparison as written
    ordinal: int
    direct: str | None = None   # the fact path, when the fact side is a fact itself and the other side constant

    @property
    def key(self) -> tuple:
        return (self.clause, self.item, unparse(self.fact_side), self.op, self.ordinal)

    def denominator_multiple(self, also: tuple = ()) -> int | None:
        """The least common denominator of the constants (this set's and `also`), as fractions:
        a headcount that is a multiple of it makes a rate hit each constant exactly."""
        values = [c for c in (*self.constants, *also) if isinstance(c, (int, Decimal)) and not isinstance(c, bool)]
        if not values or not self.denominators:
            return None
        d = 1
        for c in values:
            den = Fraction(c).denominator
            d = d * den // _gcd(d, den)
        return d


def _gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


class _Reader:
    """Which facts an expression reads, through the named items it uses (memoised per engine)."""

    def __init__(self, engine: RuleEngine) -> None:
        self.engine = engine
        self.bindings = engine.analysis.notes.bindings
        self.memo: dict[str, frozenset[str]] = {}
        self.static = getattr(engine, "_static", {})

    def item(self, key: str):
        cid, _, name = key.partition(".")
        clause = self.engine.rule_set.clauses.get(cid)
        return clause.items().get(name) if clause else None

    def facts(self, node: n.Expr) -> frozenset[str]:
        out: set[str] = set()
        for x in n.walk(node):
            b = self.bindings.get(id(x))
            if isinstance(b, FactBinding):
                out.add(b.path)
            elif isinstance(b, SlotBinding):
                out |= self.slot_facts(b.key)
        return frozenset(out)

    def slot_facts(self, key: str) -> frozenset[str]:
        if key in self.memo:
            return self.memo[key]
        self.memo[key] = frozenset()  # a cycle is a checker error; never loop here
        item = self.item(key)
        out: set[str] = set()
        if isinstance(item, Parameter) and item.history:
            out |= self.dated_by(key)  # the value in force depends on a date
        for root in roots(self.engine, key):
            out |= self.facts(root)
        self.memo[key] = frozenset(out)
        return self.memo[key]

    def dated_by(self, key: str) -> frozenset[str]:
        """The facts that choose a history value: the clause's period date (period_by), else as_of."""
        cid = key.partition(".")[0]
        source = period_source(self.engine.rule_set.clauses[cid])
        if source is None:
            return DATED
        kind, name = source
        return frozenset({name}) if kind == "fact" else self.slot_facts(name)

    def dated(self, node: n.Expr) -> bool:
        """Is this side a parameter with a history (through named items that only pass it on)?"""
        b = self.bindings.get(id(node))
        item = self.item(b.key) if isinstance(b, SlotBinding) else None
        if isinstance(item, Parameter):
            return bool(item.history)
        expr = getattr(item, "expr", None)
        return isinstance(expr, n.Ref) and self.dated(expr)

    def denominators(self, node: n.Expr, seen: frozenset[str] = frozenset()) -> frozenset[str]:
        out: set[str] = set()
        for x in n.walk(node):
            if isinstance(x, n.Arith) and x.op == "/":
                out |= self.facts(x.right)
            b = self.bindings.get(id(x))
            if isinstance(b, SlotBinding) and b.key not in seen:
                for root in roots(self.engine, b.key):
                    out |= self.denominators(root, seen | {b.key})
        return frozenset(out)

    def constants(self, node: n.Expr) -> tuple[tuple, tuple[str, ...]]:
        """Static values of a fact-free expression, and the parameters behind it."""
        if isinstance(node, n.Literal):
            return (node.value,), ()
        b = self.bindings.get(id(node))
        if isinstance(b, SlotBinding):
            item = self.item(b.key)
            if isinstance(item, Parameter):
                if item.history:
                    return tuple(v for _, v in item.history), (b.key,)
                return ((item.value,) if item.value is not None else ()), (b.key,)
            params = tuple(sorted(self.params(b.key)))
            value = self.static.get(b.key, None)
            if value is not None and value.__class__ is not Unknown:
                return (value,), params
            expr = getattr(item, "expr", None)
            if isinstance(expr, n.Ref):
                values, _ = self.constants(expr)
                return values, params
            return (), params
        params: set[str] = set()
        for x in n.walk(node):
            xb = self.bindings.get(id(x))
            if isinstance(xb, SlotBinding):
                params |= self.params(xb.key)
        return (), tuple(sorted(params))

    def params(self, key: str, seen: frozenset[str] = frozenset()) -> set[str]:
        if isinstance(self.item(key), Parameter):
            return {key}
        out: set[str] = set()
        for dep in self.engine.analysis.deps.get(key, ()):
            if dep not in seen:
                out |= self.params(dep, seen | {key})
        return out


def roots(engine: RuleEngine, key: str) -> Iterator[n.Expr]:
    """The expressions that compute a named item: its own, and its exceptions'."""
    cid, _, name = key.partition(".")
    clause = engine.rule_set.clauses.get(cid)
    if clause is None:
        return
    item = clause.items().get(name)
    if item is not None and getattr(item, "expr", None) is not None:
        yield item.expr
    for rule in clause.exceptions:
        if rule.conclusion == name:
            yield rule.when
            yield rule.value


def find_sites(engine: RuleEngine, set_index: int) -> list[Site]:
    reader = _Reader(engine)
    types, node_ids = engine.analysis.notes.types, engine.program.node_ids
    out: list[Site] = []
    ordinals: dict[tuple, int] = {}
    for cid, clause in engine.rule_set.clauses.items():
        if clause.kind != "computable":
            continue
        written = [(name, f"{cid}.{name}", item.expr) for name, item in clause.items().items()
                   if getattr(item, "expr", None) is not None]
        written += [(r.id, f"{cid}.{r.conclusion}", root) for r in clause.exceptions for root in (r.when, r.value)]
        for name, slot, root in written:
            for node in n.walk(root):
                if not isinstance(node, n.Compare) or id(node) not in node_ids:
                    continue
                left, right = reader.facts(node.left), reader.facts(node.right)
                if not left and not right:
                    continue
                # a parameter with a history reads only a date: still a constant side (one value per period)
                if left and right and reader.dated(node.right):
                    left_first = True
                elif left and right and reader.dated(node.left):
                    left_first = False
                else:
                    left_first = bool(left)
                fact_side, other, op = (node.left, node.right, node.op) if left_first else (node.right, node.left, FLIP[node.op])
                kind = types[id(fact_side)].kind if id(fact_side) in types else ""
                if kind not in THRESHOLD_KINDS:
                    continue  # enums, booleans, text: their values are enumerated, not stepped
                constants, params = reader.constants(other)
                text_key = (cid, name, unparse(fact_side), op)
                ordinal = ordinals.get(text_key, 0)
                ordinals[text_key] = ordinal + 1
                facts = reader.facts(fact_side) | reader.facts(other)
                out.append(Site(set_index, cid, name, slot, node, node_ids[id(node)], fact_side, other, op,
                                tuple(sorted(facts)), tuple(sorted(reader.denominators(fact_side))), kind,
                                constants, params, unparse(node), ordinal,
                                direct=_direct(reader, fact_side) if constants else None))
    return out


def _direct(reader: _Reader, node: n.Expr) -> str | None:
    b = reader.bindings.get(id(node))
    return b.path if isinstance(b, FactBinding) else None


def pair_sites(sites: list[Site]) -> list[tuple[Site | None, Site | None]]:
    """The comparisons of the base (set 0) and the variant (set 1) that are the same comparison."""
    pairs: list[tuple[Site | None, Site | None]] = []
    left = [s for s in sites if s.set_index == 0]
    right = [s for s in sites if s.set_index == 1]
    for key in (lambda s: (*s.key[:4], unparse(s.other_side)), lambda s: s.key[:4]):
        waiting: dict[tuple, list[Site]] = {}
        for t in right:
            waiting.setdefault(key(t), []).append(t)
        unmatched = []
        for s in left:
            found = waiting.get(key(s))
            if found:
                t = found.pop(0)
                pairs.append((s, t))
                right.remove(t)
            else:
                unmatched.append(s)
        left = unmatched
    return pairs + [(s, None) for s in left] + [(None, t) for t in right]


def history_dates(engine: RuleEngine, params: tuple[str, ...]) -> list[tuple[str, Any]]:
    """(date fact, day) on which the parameters behind a comparison change value: as_of, or the fact
    the clause's period_by names (a definition's first date fact)."""
    reader = _Reader(engine)
    out = []
    for key in params:
        cid, _, name = key.partition(".")
        p = engine.rule_set.clauses[cid].parameters.get(name) if cid in engine.rule_set.clauses else None
        if p is None or not p.history:
            continue
        facts = sorted(reader.dated_by(key))
        out += [(facts[0], d) for d, _ in p.history] if facts else []
    return out


def closure(engine: RuleEngine, cid: str) -> set[str]:
    """The slot keys a clause's conclusions are computed from."""
    clause = engine.rule_set.clauses.get(cid)
    keys = [f"{cid}.{c}" for c in clause.conclusions] if clause else []
    seen: set[str] = set()
    while keys:
        key = keys.pop()
        if key not in seen:
            seen.add(key)
            keys.extend(engine.analysis.deps.get(key, ()))
    return seen
