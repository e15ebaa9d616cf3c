"""Judging each case by the edition of its own period: a layer above RuleEngine.

An edition (a set with `supersedes:`) keeps its predecessor (`rule_set.predecessor`). For a
clause with `period_by`, the case's period date (a fact, or a date definition of the clause)
chooses the edition whose `period` contains it; the clause is then judged by that edition's
clause. Clauses without `period_by` are judged by the newest edition.

How: the newest edition evaluates the case first (its engine is the plain RuleEngine, at its
own speed). When every dated clause falls in the newest edition's period and its `valid:`,
that Decision is the answer. Otherwise the case is evaluated again by an engine compiled for
that assignment of clauses to editions (the newest set with those clauses taken from older
editions; compiled once per assignment, on first need), so its trace and explanation are
those of the clauses that judged it. A clause whose period date is unknown, or falls in no
edition's period or outside the clause's `valid:`, is not judged: its conclusions are
undetermined, with the period fact missing or a plain reason naming the periods.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Iterable, Iterator, Mapping

from ..decision import CaseError, ClauseResult, Decision
from ..engine import RuleEngine, build
from ..errors import PolicyError
from ..model import Clause, Period, RuleSet
from ..values import Unknown
from .history import period_source


PERIOD_KEY = "适用期间"  # what a clause not judged for the case's period lacks, with the reason
# An undetermined value is known by what it misses, and a missing name keeps one reason everywhere
# (batch output remembers reasons by name): the name says which clause and which date.


@dataclass(frozen=True)
class Edition:
    """A set of the chain as a decision names it: its name, title and period."""

    name: str
    title: str
    period: Period | None

    def words(self) -> str:
        return f"《{self.title}》（{self.period.zh}）" if self.period else f"《{self.title}》"


def edition_of(rs: RuleSet) -> Edition:
    return Edition(rs.name, rs.title, rs.period)


def chain_of(rs: RuleSet) -> list[RuleSet]:
    """The set and its predecessors, newest first."""
    out, seen = [], set()
    while rs is not None and id(rs) not in seen:
        out.append(rs)
        seen.add(id(rs))
        rs = getattr(rs, "predecessor", None)
    return out


def needs_chain(rs: RuleSet) -> bool:
    """Whether a case's period can change anything beyond history values: an edition chain or
    period with dated clauses, or a clause with `valid:`. Other sets keep the plain RuleEngine."""
    if any(c.valid != (None, None) for c in rs.clauses.values()):
        return True
    # editions are chosen by period only when the newest states its own (a new edition that does
    # not yet say which period it governs takes every case, as a set of its own would)
    return rs.period is not None and any(c.period_by is not None for c in rs.clauses.values())


@dataclass(frozen=True)
class Gate:
    """A dated clause not judged for a case: its conclusions' common value, and why in words."""

    value: Unknown
    why: str


class EditionDecision(Decision):
    """A Decision whose clauses name their edition; gated clauses' conclusions are undetermined."""

    __slots__ = ("editions", "gates", "_patched")

    @property
    def clauses(self) -> dict[str, ClauseResult]:
        out = Decision.clauses.fget(self)  # type: ignore[attr-defined]
        if not self._patched:
            for cid, gate in self.gates.items():
                result = out.get(cid)
                if result is not None and result.applicable:
                    out[cid] = ClauseResult(cid, True, {name: gate.value for name in result.conclusions})
            self._patched = True
        return out

    @property
    def slots(self) -> Mapping[str, object]:
        x = self._extra()
        slots = x.get("slots")
        if not isinstance(slots, _GatedSlots):
            slots = x["slots"] = _GatedSlots(Decision.slots.fget(self), self)  # type: ignore[attr-defined]
        return slots


class _GatedSlots(Mapping):
    def __init__(self, inner: Mapping, decision: EditionDecision) -> None:
        self._inner, self._d = inner, decision

    def __getitem__(self, key: str) -> object:
        cid, _, name = key.partition(".")
        gate = self._d.gates.get(cid)
        if gate is not None and self._d.engine is not None and name in self._d.engine.rule_set.clauses[cid].conclusions:
            return gate.value
        return self._inner[key]

    def __contains__(self, key: object) -> bool:
        return key in self._inner

    def __iter__(self) -> Iterator[str]:
        return iter(self._inner)

    def __len__(self) -> int:
        return len(self._inner)


class EditionEngine:
    """The RuleEngine API (evaluate, evaluate_many, evaluate_prepared, traced) over an edition chain."""

    def __init__(self, newest: RuleEngine) -> None:
        self.newest = newest
        self.sets = chain_of(newest.rule_set)
        self.editions = [edition_of(s) for s in self.sets]
        # dated clauses the engine computes: one loaded for some targets only (batch --clause) has no
        # period date, and no edition to choose, for the others
        targets = getattr(newest, "targets", None)
        self._dated = [(cid, c) for cid, c in newest.rule_set.clauses.items() if c.period_by is not None
                       and (targets is None or any(k.partition(".")[0] == cid for k in targets))]
        # per dated clause: (id, clause, fact path or None, slot key or None, lo, hi) where [lo, hi] is the
        # range the newest edition judges as it is (its period within the clause's valid): the common case
        self._fast = tuple((cid, c, *self._where(c), *self._newest_range(c)) for cid, c in self._dated)
        self._engines: dict[tuple, RuleEngine] = {(): newest}
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:  # rule_set, analysis, program, vocab, slot_type … of the newest
        return getattr(self.newest, name)

    @property
    def name(self) -> str:
        return self.newest.name

    # evaluation -------------------------------------------------------------------------------------
    def evaluate(self, facts: Mapping[str, Any], *, as_of: date | None = None, trace: bool = False,
                 source: str = "") -> Decision:
        return self._judge(self.newest.evaluate(facts, as_of=as_of, trace=trace, source=source), trace)

    def evaluate_prepared(self, flat: dict[str, Any], *, trace: bool = False) -> Decision:
        return self._judge(self.newest.evaluate_prepared(flat, trace=trace), trace)

    def evaluate_many(self, cases: Iterable[Mapping[str, Any]], *, as_of: date | None = None,
                      trace: bool = False) -> Iterator[Decision | CaseError]:
        fast, day_class = self._fast, date
        for index, result in enumerate(self.newest.evaluate_many(cases, as_of=as_of, trace=trace)):
            if result.__class__ is CaseError:
                yield result
                continue
            shape, values = result._s, result._v
            if shape is not None and values is not None:  # _judge's common case, in line (once per case)
                applicable, at = shape.applicable, shape.index
                for cid, _, path, key, lo, hi in fast:
                    if cid in applicable:
                        if path is not None:
                            day = result.facts.get(path)
                        else:
                            i = at.get(key)  # type: ignore[arg-type]
                            day = values[i] if i is not None else result.slots[key]  # type: ignore[index]
                        if day.__class__ is not day_class or not lo <= day <= hi:
                            break
                else:
                    yield result  # the newest edition judges every clause
                    continue
            try:
                judged = self._rejudge(result, trace)
            except PolicyError as exc:  # an older edition's evaluation error: reported as the engine does
                yield CaseError(index, (("", exc.render()),), "evaluation")
                continue
            yield judged

    def all_slots(self, flat: dict[str, Any]) -> dict[str, object]:
        """Every named item on these facts, as the decision gives them (clauses not judged: undetermined)."""
        decision = self.evaluate_prepared(flat)
        return {key: decision.slots[key] for key in decision.slots}

    # choosing editions ------------------------------------------------------------------------------
    @staticmethod
    def _where(clause: Clause) -> tuple[str | None, str | None]:
        kind, name = period_source(clause)  # type: ignore[misc]
        return (name, None) if kind == "fact" else (None, name)

    def _newest_range(self, clause: Clause) -> tuple[date, date]:
        return newest_range(self.sets[0], clause)

    def _judge(self, first: Decision, trace: bool) -> Decision:
        shape, values = first._s, first._v
        if shape is not None and values is not None:  # the common case, without building dictionaries
            applicable, index = shape.applicable, shape.index
            for cid, _, path, key, lo, hi in self._fast:
                if cid not in applicable:
                    continue
                if path is not None:
                    day = first.facts.get(path)
                else:
                    i = index.get(key)  # type: ignore[arg-type]
                    day = values[i] if i is not None else first.slots[key]  # type: ignore[index]
                if day.__class__ is not date or not lo <= day <= hi:
                    return self._rejudge(first, trace)
            return first  # the newest edition judges every clause: its decision as it is
        return self._rejudge(first, trace)

    def _rejudge(self, first: Decision, trace: bool) -> Decision:
        assignment: list[tuple[str, int]] = []
        gates: dict[str, Gate] = {}
        named: dict[str, Edition | None] = {}  # gated clauses: the edition of the period, if any
        applicable = first.clauses
        for cid, clause in self._dated:
            result = applicable.get(cid)
            if result is None or not result.applicable:
                continue
            day, name = self._day(first, clause)
            index, gate = self._place(cid, clause, day, name)
            if gate is not None:
                gates[cid] = gate
                named[cid] = None if index is None else self.editions[index]
            elif index:
                assignment.append((cid, index))
        if not assignment and not gates:
            return first  # the newest edition judges every clause: its decision as it is
        engine = self._engine(tuple(assignment)) if assignment else self.newest
        base = first if engine is self.newest else engine.evaluate_prepared(first.facts, trace=trace)
        chosen = dict(assignment)
        out = EditionDecision.__new__(EditionDecision)
        out._v, out._s, out._x = base._v, base._s, {"facts": base.facts, "trace": base.trace}
        out.editions = {cid: self.editions[chosen.get(cid, 0)] for cid in engine.rule_set.clauses}
        out.editions.update(named)
        out.gates, out._patched = gates, False
        return out

    def _day(self, decision: Decision, clause: Clause) -> tuple[object, str]:
        kind, name = period_source(clause)  # type: ignore[misc]
        if kind == "fact":
            return decision.facts.get(name, Unknown({name})), name
        return decision.slots[name], name

    def _place(self, cid: str, clause: Clause, day: object, name: str) -> tuple[int | None, Gate | None]:
        """(index of the edition that judges the clause, None; or the edition of the period, if any,
        and a Gate when the clause is not judged)."""
        from .words import not_in_force, outside_editions, unknown_day

        vocab = self.newest.vocab
        if not isinstance(day, date):
            unknown = day if day.__class__ is Unknown and day.missing else Unknown({name})  # type: ignore[union-attr]
            return None, Gate(unknown, unknown_day(clause, vocab))  # type: ignore[arg-type]
        if self.sets[0].period is None:  # no periods to choose by: the newest edition, within valid
            index: int | None = 0
        else:
            index = _governing(self.sets, day)
        if index is None:
            return None, _gate(cid, day, outside_editions(self.editions, day, clause, vocab))
        own = self.sets[index].clauses.get(cid)
        lo, hi = own.valid if own is not None else (None, None)
        if own is None or (lo is not None and day < lo) or (hi is not None and day > hi):
            return index, _gate(cid, day, not_in_force(self.editions[index], own, day, clause, vocab))
        return index, None

    def _engine(self, assignment: tuple[tuple[str, int], ...]) -> RuleEngine:
        hit = self._engines.get(assignment)
        if hit is not None:
            return hit
        with self._lock:
            hit = self._engines.get(assignment)
            if hit is None:
                hit = self._engines[assignment] = build(self._merged(assignment), self.newest.vocab,
                                                         targets=self.newest.targets)
            return hit

    def _merged(self, assignment: tuple[tuple[str, int], ...]) -> RuleSet:
        """The newest set with each assigned clause taken from its edition."""
        newest = self.sets[0]
        clauses = dict(newest.clauses)
        documents = {}
        for s in reversed(self.sets):
            documents.update(s.documents)
        for cid, index in assignment:
            clauses[cid] = self.sets[index].clauses[cid]
        return replace(newest, clauses=clauses, documents=documents)


def _governing(sets: list[RuleSet], day: date) -> int | None:
    """Newest first: where periods overlap the later edition governs, and an edition is superseded
    from its successor's start on — an open-ended older period does not take the days after a newer
    edition's period has ended (a case accepted then is governed by no edition of the set)."""
    for i, rs in enumerate(sets):
        if rs.period is None:
            continue
        if rs.period.contains(day):
            return i
        if day >= rs.period.start:
            return None
    return None


def newest_range(rs: RuleSet, clause: Clause) -> tuple[date, date]:
    """The period dates a set judges a dated clause for as it is: its period within the clause's valid
    (both ends included). Dates outside it need another edition, or are not judged."""
    period = rs.period
    lo, hi = clause.valid
    starts = [d for d in (period.start if period else None, lo) if d is not None]
    ends = [d for d in (period.end if period else None, hi) if d is not None]
    return max(starts, default=date.min), min(ends, default=date.max)


def _gate(cid: str, day: date, why: str) -> Gate:
    name = gate_name(cid, day)
    return Gate(Unknown({name}, {name: why}), why)


def gate_name(cid: str, day: date) -> str:
    """适用期间（stable_job_refund，2020-11-20）"""
    return f"{PERIOD_KEY}（{cid}，{day.isoformat()}）"


def wrap(engine: RuleEngine) -> RuleEngine | EditionEngine:
    """The engine load() returns: the edition layer only where a case's period can matter."""
    return EditionEngine(engine) if needs_chain(engine.rule_set) else engine
