"""Load → check → compile once; evaluate many fact sets.

`RuleEngine` is the embedding API: thread-safe (the compiled function keeps
no state between calls), and each evaluation returns a Decision.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from . import types as T
from .checker import Analysis, analyse, split_key
from .compiler import Program, SlotSpec, compile_program
from .errors import CheckFailed, FactsError
from .facts import prepare
from .loader import load_rule_set
from .model import Parameter, RuleSet
from .values import Unknown, isolated
from .vocabulary import Vocabulary, vocabulary


@dataclass
class ClauseResult:
    id: str
    applicable: bool
    conclusions: dict[str, object]


@dataclass
class Decision:
    """The conclusions of one case, and — when traced — the value of every node."""

    policy_set: str
    as_of: date | None
    content_hash: str
    clauses: dict[str, ClauseResult]
    slots: dict[str, object] = field(repr=False, default_factory=dict)
    trace: dict[int, object] | None = field(repr=False, default=None)
    facts: dict[str, object] = field(repr=False, default_factory=dict)
    engine: "RuleEngine | None" = field(repr=False, default=None)

    def value(self, key: str) -> object:
        """A conclusion or any named item by "clause.name"."""
        return self.slots[key]

    def to_json(self) -> dict:
        from .render_json import decision_json

        return decision_json(self)


@dataclass(frozen=True)
class CaseError:
    """A case of `evaluate_many` whose facts do not fit the vocabulary: its 0-based position
    in the input and every problem as (fact path, message). The stream goes on after it."""

    index: int
    problems: tuple[tuple[str, str], ...]

    def __bool__(self) -> bool:  # so `if result:` reads "evaluated"
        return False


class RuleEngine:
    def __init__(self, rule_set: RuleSet, analysis: Analysis, program: Program, vocab: Vocabulary) -> None:
        self.rule_set, self.analysis, self.program, self.vocab = rule_set, analysis, program, vocab
        self._slot_index = {k: i for i, k in enumerate(program.keys)}

    @property
    def name(self) -> str:
        return self.rule_set.name

    def slot_type(self, key: str) -> T.Type:
        return self.analysis.slot_types[key]

    @isolated
    def evaluate(self, facts: Mapping[str, Any], *, as_of: date | None = None, trace: bool = False,
                 source: str = "") -> Decision:
        """Validate `facts` (nested by subject), evaluate every clause. Raises FactsError."""
        data = dict(facts) if isinstance(facts, Mapping) else facts  # not a mapping: validation says so
        if as_of is not None and isinstance(data, dict):
            data["as_of"] = as_of
        flat = prepare(data, self.vocab, source)
        return self.evaluate_prepared(flat, trace=trace)

    def evaluate_many(self, cases: Iterable[Mapping[str, Any]], *, as_of: date | None = None,
                      trace: bool = False) -> Iterator[Decision | CaseError]:
        """One result per case, in order: a Decision, or a CaseError for a case whose facts are
        invalid. Lazy: the input is read as the results are consumed, so it may be unbounded."""
        for index, facts in enumerate(cases):
            try:
                yield self.evaluate(facts, as_of=as_of, trace=trace)
            except FactsError as exc:
                yield CaseError(index, tuple(exc.problems))

    def evaluate_prepared(self, flat: dict[str, Any], *, trace: bool = False) -> Decision:
        recorded: dict[int, object] | None = {} if trace else None
        values = self.program.run(flat, recorded)
        slots = dict(zip(self.program.keys, values))
        subjects = flat.get("$subjects", frozenset())
        clauses = {}
        for cid, clause in self.rule_set.clauses.items():
            applicable = clause.subject == "always" or clause.subject in subjects
            conclusions = {name: slots[f"{cid}.{name}"] for name in clause.conclusions} if applicable else {}
            clauses[cid] = ClauseResult(cid, applicable, conclusions)
        as_of = flat.get("as_of")
        return Decision(self.rule_set.name, as_of if isinstance(as_of, date) else None, self.rule_set.content_hash,
                        clauses, slots, recorded, flat, self)


@isolated
def build(rule_set: RuleSet, vocab: Vocabulary | None = None, targets: Iterable[str] | None = None) -> RuleEngine:
    vocab = vocab or vocabulary()
    analysis = analyse(rule_set, vocab)
    if analysis.errors:
        raise CheckFailed(analysis.errors)
    order = analysis.order
    if targets is not None:
        order = _needed(analysis, set(targets))
    program = compile_program([_slot_spec(rule_set, analysis, key) for key in order], analysis.notes)
    return RuleEngine(rule_set, analysis, program, vocab)


def load(path: str | Path, *, targets: Iterable[str] | None = None) -> RuleEngine:
    """Load, check and compile a rule set directory (or a name under policies/)."""
    return build(load_rule_set(path), targets=targets)


def _needed(analysis: Analysis, targets: set[str]) -> list[str]:
    keep: set[str] = set()
    stack = list(targets)
    while stack:
        key = stack.pop()
        if key not in keep:
            keep.add(key)
            stack.extend(analysis.deps.get(key, ()))
    return [k for k in analysis.order if k in keep]


def _slot_spec(rs: RuleSet, analysis: Analysis, key: str) -> SlotSpec:
    cid, name = split_key(key)
    clause = rs.clauses[cid]
    item = clause.items()[name]
    if isinstance(item, Parameter):
        return SlotSpec(key, const=parameter_value(item), history=item.history)
    rules = sorted((r for r in clause.exceptions if r.conclusion == name), key=lambda r: -r.priority)
    money = item.role == "conclusion" and analysis.slot_types.get(key, T.ANY).kind == "money"
    return SlotSpec(key, expr=item.expr, money=money, exceptions=tuple((r.when, r.value) for r in rules))


def parameter_value(p: Parameter) -> object:
    if p.value is not None:
        return p.value
    if p.history:
        return None
    reason = p.delegated.reason if p.delegated else "未给出值"
    return Unknown({p.name}, {p.name: reason})
