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

if TYPE_CHECKING:
    from .engine import RuleEngine, Variant


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


class Decision:
    """The conclusions of one case, and — when traced — the value of every node.

    `clauses` maps every clause id to a ClauseResult (applicable or not); `slots` maps every
    named item "clause.name" to its value; `value(key)` reads one of them."""

    __slots__ = ("_header", "trace", "facts", "engine", "_variant", "_values", "_clauses", "_slots")

    def __init__(self, policy_set: str, as_of: date | None, content_hash: str,
                 clauses: dict[str, ClauseResult] | None = None, slots: Mapping[str, object] | None = None,
                 trace: dict[int, object] | None = None, facts: dict[str, object] | None = None,
                 engine: "RuleEngine | None" = None) -> None:
        self._header = (policy_set, as_of, content_hash)
        self.trace, self.facts, self.engine = trace, facts if facts is not None else {}, engine
        self._clauses, self._slots = clauses, slots
        self._variant: Variant | None = None
        self._values: list | None = None

    @classmethod
    def _of(cls, engine: "RuleEngine", variant: "Variant", values: list, flat: dict,
            trace: dict | None) -> "Decision":
        """The fast constructor evaluation uses: nothing but references."""
        d = cls.__new__(cls)
        d._header, d.engine, d.trace, d.facts, d._variant, d._values = None, engine, trace, flat, variant, values
        d._clauses = d._slots = None
        return d

    def _head(self) -> tuple:
        if self._header is None:
            as_of = self.facts.get("as_of")
            rs = self.engine.rule_set  # type: ignore[union-attr]
            self._header = (rs.name, as_of if as_of.__class__ is date else None, rs.content_hash)
        return self._header

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
        if self._clauses is None:
            v, values = self._variant, self._values
            assert v is not None and values is not None and self.engine is not None
            out = {}
            for cid, names in self.engine.reported:
                if cid in v.applicable:
                    index = v.index
                    out[cid] = ClauseResult(cid, True, {n: values[index[f"{cid}.{n}"]] for n in names})
                else:
                    out[cid] = ClauseResult(cid, False, {})
            self._clauses = out
        return self._clauses

    @property
    def slots(self) -> Mapping[str, object]:
        if self._slots is None:
            self._slots = _Slots(self)
        return self._slots

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
        v = d._variant
        if v is not None:
            i = v.index.get(key)
            if i is not None:
                return d._values[i]  # type: ignore[index]
        if self._rest is None:
            assert d.engine is not None
            self._rest = d.engine.all_slots(d.facts)
        return self._rest[key]

    def __contains__(self, key: object) -> bool:
        return self._d.engine is not None and key in self._d.engine.slot_index

    def __iter__(self) -> Iterator[str]:
        assert self._d.engine is not None
        return iter(self._d.engine.program.keys)

    def __len__(self) -> int:
        assert self._d.engine is not None
        return len(self._d.engine.program.keys)
