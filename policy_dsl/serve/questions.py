"""Which question to ask next: the one fact whose answer settles the most open conclusions.

A conclusion is *open* when its value is Unknown and at least one fact it is missing can be
asked (a delegated parameter, a list of household members or a fact the applicant chose to
skip cannot). A fact that an open conclusion lists as missing need not settle it alone
(`a and b` stays open when a is true), so each candidate fact is tried with every answer it
can plausibly take, and the conclusions are re-evaluated:

* bool: true, false; enum: every value; set of enum: the empty set and each single value;
* numbers and dates: 0 / 1 / a large value (numbers) or the evaluation date (dates), plus the
  values just below, at and just above every threshold the rules compare the fact with in this
  case (read off a traced evaluation, so parameters and computed dates count; a fact divided
  by a known denominator and compared with a rate gets the threshold times the denominator).

Score, compared in this order (the choice the service documents in docs/serve.md):
1. how many open conclusions become known *whatever* the answer (a worst-case guarantee);
2. how many become known on average over the tried answers (an exact fraction);
3. how many open conclusions list the fact as missing;
4. the vocabulary's order of facts (so the same case always gets the same question).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_FLOOR, Decimal
from fractions import Fraction
from typing import Any, Iterable

from .. import nodes as n
from .. import types as T
from ..engine import Decision, RuleEngine
from ..errors import PolicyError
from ..typer import FactBinding, SlotBinding
from ..values import Unknown

_ASKABLE = {"bool", "enum", "set", "int", "decimal", "money", "rate", "date"}
_LARGE = {"int": 100000, "decimal": Decimal(100000), "money": Decimal("10000000.00"), "rate": Decimal(1)}


@dataclass(frozen=True)
class Question:
    fact: str
    label: str
    type: str                                 # bool enum set int decimal money rate date
    values: tuple[tuple[str, str], ...]       # (value, Chinese label) for bool, enum and set
    settles_always: int
    settles_expected: Fraction
    conclusions: tuple[str, ...]              # the open conclusions that list this fact as missing


@dataclass(frozen=True)
class Screening:
    decision: Decision                        # traced, with the subject counted as present
    scope: tuple[str, ...]                    # clause ids screened
    open: dict[str, frozenset[str]]           # "clause.conclusion" → askable facts it is missing
    unsettled: dict[str, Unknown]             # undetermined, but no question can settle it
    question: Question | None


def scope_clauses(engine: RuleEngine, subject: str | None, clauses: Iterable[str] | None) -> tuple[str, ...]:
    """The computable clauses screened: those named, else those about `subject`, else all."""
    rs = engine.rule_set
    if clauses:
        return tuple(c for c in clauses if c in rs.clauses and rs.clauses[c].kind == "computable")
    return tuple(cid for cid, c in rs.clauses.items()
                 if c.kind == "computable" and (subject is None or c.subject == subject))


def screen(engine: RuleEngine, flat: dict[str, Any], scope: tuple[str, ...], skip: Iterable[str] = ()) -> Screening:
    """Evaluate the prepared case and choose the next question for the conclusions in `scope`."""
    decision = engine.evaluate_prepared(flat, trace=True)
    skipped = set(skip)
    open_: dict[str, frozenset[str]] = {}
    unsettled: dict[str, Unknown] = {}
    for cid in scope:
        for name in engine.rule_set.clauses[cid].conclusions:
            key = f"{cid}.{name}"
            value = decision.slots[key]
            if value.__class__ is not Unknown:
                continue
            facts = frozenset(m for m in value.missing if _askable(engine, m) and m not in skipped)  # type: ignore[attr-defined]
            if facts:
                open_[key] = facts
            else:
                unsettled[key] = value  # type: ignore[assignment]
    question = _best(engine, flat, decision, open_) if open_ else None
    return Screening(decision, scope, open_, unsettled, question)


def _askable(engine: RuleEngine, path: str) -> bool:
    spec = engine.vocab.facts.get(path)
    if spec is None or spec.type.kind not in _ASKABLE:
        return False
    return spec.type.kind != "set" or bool(spec.type.elem and spec.type.elem.values)


def _best(engine: RuleEngine, flat: dict, decision: Decision, open_: dict[str, frozenset[str]]) -> Question | None:
    around = thresholds(engine, decision)
    order = {path: i for i, path in enumerate(engine.vocab.facts)}
    best: tuple | None = None
    for fact in sorted({f for facts in open_.values() for f in facts}, key=order.__getitem__):
        always, expected = _settled(engine, flat, fact, candidates(engine, fact, flat, around.get(fact, ())), open_)
        listed = tuple(sorted(k for k, facts in open_.items() if fact in facts))
        rank = (len(always), len(listed), expected, -order[fact])
        if best is None or rank > best[0]:
            best = (rank, fact, len(always), expected, listed)
    assert best is not None
    _, fact, always_n, expected, listed = best
    spec = engine.vocab.facts[fact]
    return Question(fact, spec.zh, spec.type.kind, _choices(engine, fact), always_n, expected, listed)


def _settled(engine: RuleEngine, flat: dict, fact: str, answers: list[Any],
             open_: dict[str, frozenset[str]]) -> tuple[set[str], Fraction]:
    always: set[str] | None = None
    total, tried = 0, 0
    for answer in answers:
        try:
            slots = engine.evaluate_prepared({**flat, fact: answer}).slots
        except PolicyError:  # an answer the rules reject (e.g. no insured staff to divide by) settles nothing
            continue
        known = {k for k in open_ if slots[k].__class__ is not Unknown}
        always = known if always is None else always & known
        total += len(known)
        tried += 1
    if not tried:
        return set(), Fraction(0)
    return always or set(), Fraction(total, tried)


def candidates(engine: RuleEngine, fact: str, flat: dict, around: Iterable[Any] = ()) -> list[Any]:
    """The answers `fact` is tried with (see the module docstring)."""
    t = engine.vocab.facts[fact].type
    k = t.kind
    if k == "bool":
        out: list[Any] = [True, False]
    elif k == "enum":
        out = list(t.values)
    elif k == "set":
        out = [frozenset()] + [frozenset({v}) for v in (t.elem.values if t.elem else ())]
    elif k == "date":
        as_of = flat.get("as_of")
        out = [as_of if isinstance(as_of, date) else date.today()]
    else:
        zero = 0 if k == "int" else Decimal(0)
        out = [zero, zero + 1, _LARGE[k]]
    out += list(around)
    unique: list[Any] = []
    for v in out:
        if v not in unique:
            unique.append(v)
    return unique


def thresholds(engine: RuleEngine, decision: Decision) -> dict[str, list[Any]]:
    """Values around what each fact is compared with in this (traced) evaluation."""
    trace = decision.trace or {}
    program, bindings = engine.program, engine.analysis.notes.bindings
    found: dict[str, list[Any]] = {}
    for nid, node in enumerate(program.nodes):
        if not isinstance(node, n.Compare):
            continue
        for this, other in ((node.left, node.right), (node.right, node.left)):
            value = trace.get(program.node_ids.get(id(other), -1))
            if value is None or value.__class__ is Unknown or isinstance(value, bool):
                continue
            b = bindings.get(id(this))
            if isinstance(b, FactBinding):
                found.setdefault(b.path, []).extend(_around(value, b.type))
            elif isinstance(b, SlotBinding) or isinstance(this, n.Arith):
                for path, t, scaled in _ratio_numerators(engine, this, b, value, trace):
                    found.setdefault(path, []).extend(_around(scaled, t))
    return found


def _ratio_numerators(engine: RuleEngine, node: n.Expr, binding, threshold: Any, trace: dict):
    """For `fact / known` compared with a threshold: the numerator's own threshold."""
    roots: list[n.Expr] = [node]
    if isinstance(binding, SlotBinding):
        cid, name = binding.key.split(".", 1)
        item = engine.rule_set.clauses[cid].items().get(name)
        roots = [item.expr] if item is not None and getattr(item, "expr", None) is not None else []
    bindings, program = engine.analysis.notes.bindings, engine.program
    for root in roots:
        for sub in n.walk(root):
            if not (isinstance(sub, n.Arith) and sub.op == "/"):
                continue
            num = bindings.get(id(sub.left))
            den = trace.get(program.node_ids.get(id(sub.right), -1))
            if isinstance(num, FactBinding) and isinstance(den, (int, Decimal)) and not isinstance(den, bool) \
                    and isinstance(threshold, (int, Decimal)):
                yield num.path, num.type, Decimal(threshold) * Decimal(den)


def _around(value: Any, t: T.Type) -> list[Any]:
    if isinstance(value, date) and t.kind == "date":
        return [value - timedelta(days=1), value, value + timedelta(days=1)]
    if not isinstance(value, (int, Decimal)) or isinstance(value, bool):
        return []
    if t.kind == "int":
        v = Decimal(value)
        base = int(v.to_integral_value(rounding=ROUND_FLOOR))
        return [x for x in (base - 1, base, base + 1) if x >= 0]
    if t.kind in ("decimal", "money", "rate"):
        step = Decimal("0.01")
        v = Decimal(value)
        return [x for x in (v - step, v, v + step) if x >= 0]
    return []


def _choices(engine: RuleEngine, fact: str) -> tuple[tuple[str, str], ...]:
    spec = engine.vocab.facts[fact]
    if spec.type.kind == "bool":
        return (("true", "是"), ("false", "否"))
    return spec.value_labels
