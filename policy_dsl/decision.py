"""What one evaluation returns: a Decision, built lazily.

Evaluation produces a flat list of slot values (one per named item the case needs).
The dictionaries people read — `clauses` and `slots` — are built from it only when
first asked for, so a caller who reads one conclusion, or only serialises, pays for
nothing else.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Iterator, Mapping

from .values import Unknown

if TYPE_CHECKING:
    from .engine import RuleEngine


@dataclass
class ClauseResult:
    id: str
    applicable: bool
    conclusions: dict[str, object]


@dataclass(frozen=True)
class CaseError:
    """A case of `evaluate_many` that could not be evaluated: its 0-based position in the input
    and every problem as (fact path, message). `kind` is "facts" when the facts do not fit the
    vocabulary, "evaluation" when the rules could not be evaluated on them (e.g. a division by
    zero the facts lead to; the path is then ""). The stream goes on after it."""

    index: int
    problems: tuple[tuple[str, str], ...]
    kind: str = "facts"

    def __bool__(self) -> bool:  # so `if result:` reads "evaluated"
        return False


class Shape:
    """What every Decision of one compiled program shares: the engine, the applicable clauses,
    where each named item's value is in the values list, and — for a program fused with facts
    validation — which fact paths the list starts with (their values; `MISSING` or an Unknown
    where the case gave none) and the subjects given."""

    __slots__ = ("engine", "applicable", "index", "fixed", "paths", "subjects", "reported", "judged")

    def __init__(self, engine: "RuleEngine", applicable: frozenset[str], index: dict[str, int],
                 paths: tuple[str, ...] | None = None, subjects: frozenset[str] | None = None,
                 fixed: dict[str, object] | None = None, judged: bool = False) -> None:
        self.engine, self.applicable, self.index, self.paths, self.subjects = engine, applicable, index, paths, subjects
        # True: the engine's gates (RuleEngine.gates) hold for every Decision of this shape — the
        # edition layer takes it as it is, without looking at its dates again
        self.judged = judged
        self.fixed = fixed or {}  # items whose value is the same in every case: not in the values list
        # (clause id, applicable, ((conclusion, position or -1, constant), ...)) in the order reported
        self.reported = tuple((cid, cid in applicable, tuple((name, index.get(f"{cid}.{name}", -1),
                                                              self.fixed.get(f"{cid}.{name}")) for name in names)
                               if cid in applicable else ()) for cid, names in engine.reported)

    def facts(self, values: list) -> dict[str, object]:
        """The flat facts mapping (as facts.prepare gives it) of a fused program's values."""
        out = {path: v for path, v in zip(self.paths, values)  # type: ignore[arg-type]
               if v is not MISSING and v.__class__ is not Unknown}
        out["$subjects"] = self.subjects
        return out


MISSING = None  # a fact the case does not give, in a fused program's values (a given fact is never None)


class Decision:
    """The conclusions of one case, and — when traced — the value of every node.

    `clauses` maps every clause id to a ClauseResult (applicable or not); `slots` maps every
    named item "clause.name" to its value; `value(key)` reads one of them."""

    # The values evaluation produced, the Shape they have (None: built with the constructor),
    # and what is known or worked out per decision (facts, trace, clauses, …), None until needed.
    __slots__ = ("_v", "_s", "_x")

    def __init__(self, policy_set: str, as_of: date | None, content_hash: str,
                 clauses: dict[str, ClauseResult] | None = None, slots: Mapping[str, object] | None = None,
                 trace: dict[int, object] | None = None, facts: dict[str, object] | None = None,
                 engine: "RuleEngine | None" = None) -> None:
        self._v, self._s = None, None
        self._x = {"header": (policy_set, as_of, content_hash), "clauses": clauses, "slots": slots, "trace": trace,
                   "facts": facts if facts is not None else {}, "engine": engine}

    @classmethod
    def _of(cls, shape: Shape, values: list, flat: dict, trace: dict | None) -> "Decision":
        """The constructor evaluation uses: nothing but references."""
        d = cls.__new__(cls)
        d._v, d._s, d._x = values, shape, {"facts": flat, "trace": trace}
        return d

    def _bare(self) -> "Shape | None":
        """The Shape of a Decision evaluation made and nothing has added to (not traced, not a
        subclass such as an edition chain's): its conclusions are then exactly `_v` read by the
        Shape's positions, which a renderer of many rows may do without building `clauses`. None
        for any other Decision."""
        if self.__class__ is not Decision:
            return None
        x = self._x
        if x is not None and (x.get("trace") is not None or x.get("clauses") is not None):
            return None
        return self._s

    def _extra(self) -> dict:
        x = self._x
        if x is None:
            x = self._x = {}
        return x

    @property
    def engine(self) -> "RuleEngine | None":
        return self._s.engine if self._s is not None else self._x["engine"]  # type: ignore[index]

    @property
    def trace(self) -> dict[int, object] | None:
        return self._x.get("trace") if self._x is not None else None

    @property
    def facts(self) -> dict[str, object]:
        x = self._extra()
        facts = x.get("facts")
        if facts is None:
            facts = x["facts"] = self._s.facts(self._v)  # type: ignore[union-attr]
        return facts

    def _head(self) -> tuple:
        x = self._extra()
        header = x.get("header")
        if header is None:
            as_of = self.facts.get("as_of")
            rs = self.engine.rule_set  # type: ignore[union-attr]
            header = x["header"] = (rs.name, as_of if as_of.__class__ is date else None, rs.content_hash)
        return header

    @property
    def policy_set(self) -> str:
        return self._head()[0]

    @property
    def as_of(self) -> date | None:
        """The date the case was judged on, when the facts give it."""
        return self._head()[1]

    @property
    def content_hash(self) -> str:
        return self._head()[2]

    @property
    def clauses(self) -> dict[str, ClauseResult]:
        x = self._extra()
        out = x.get("clauses")
        if out is None:
            values = self._v
            assert self._s is not None and values is not None
            out = x["clauses"] = {cid: ClauseResult(cid, applicable, {name: values[i] if i >= 0 else c for name, i, c in at})
                                  for cid, applicable, at in self._s.reported}
        return out

    @property
    def slots(self) -> Mapping[str, object]:
        x = self._extra()
        slots = x.get("slots")
        if slots is None:
            slots = x["slots"] = _Slots(self)
        return slots

    def value(self, key: str) -> object:
        """A conclusion or any named item by "clause.name"."""
        return self.slots[key]

    def to_json(self) -> dict:
        from .render_json import decision_json

        return decision_json(self)

    def __repr__(self) -> str:
        return (f"Decision(policy_set={self.policy_set!r}, as_of={self.as_of!r}, content_hash={self.content_hash!r}, "
                f"clauses={self.clauses!r})")


class _Slots(Mapping):
    """Every named item's value. The items of the applicable clauses (and what they read) were
    computed with the case; any other item is computed, all at once, the first time it is asked for."""

    def __init__(self, decision: Decision) -> None:
        self._d = decision
        self._rest: dict[str, object] | None = None

    def __getitem__(self, key: str) -> object:
        d = self._d
        shape = d._s
        if shape is not None:
            i = shape.index.get(key)
            if i is not None:
                return d._v[i]  # type: ignore[index]
            if key in shape.fixed:
                return shape.fixed[key]
        if self._rest is None:
            assert d.engine is not None
            self._rest = d.engine.all_slots(d.facts)
        return self._rest[key]

    def __contains__(self, key: object) -> bool:
        engine = self._d.engine
        return engine is not None and key in engine.slot_index

    def __iter__(self) -> Iterator[str]:
        engine = self._d.engine
        assert engine is not None
        return iter(engine.program.keys)

    def __len__(self) -> int:
        engine = self._d.engine
        assert engine is not None
        return len(engine.program.keys)
