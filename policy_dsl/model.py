"""The rule-set model: documents, clauses, parameters and named expressions,
each with the position it was read from and the set it came from.

Plain data: no YAML here (loader.py) and no evaluation (analysis.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from . import nodes as n
from . import types as T
from .source import Span


@dataclass(frozen=True)
class Citation:
    document: str | None = None
    article: str | None = None
    text: str | None = None
    span: Span | None = field(default=None, compare=False)   # where the quote (else the article) is written, for checks

    def short(self) -> str:
        return " ".join(x for x in (self.document, self.article) if x)


@dataclass(frozen=True)
class Origin:
    """Which rule set and file an element comes from (for variants and diffs)."""

    set_name: str
    file: str
    span: Span | None = None


@dataclass(frozen=True)
class Delegation:
    to: str
    reason: str


@dataclass(frozen=True)
class Parameter:
    name: str
    type: T.Type
    value: object = None                          # None when delegated and not filled, or when history is used
    history: tuple[tuple[date, object], ...] = ()
    delegated: Delegation | None = None
    bounds: tuple[object, object] = (None, None)  # (min, max)
    bounds_origin: Origin | None = None
    value_span: Span | None = None                # where the value is written (bounds errors point there)
    source: Citation | None = None
    note: str | None = None
    origin: Origin | None = None
    history_sources: tuple[Citation | None, ...] = ()  # each history entry's own citation, in history order

    @property
    def filled(self) -> bool:
        return self.value is not None or bool(self.history)


@dataclass(frozen=True)
class Named:
    """A definition, condition or conclusion: a name bound to an expression."""

    name: str
    role: str                       # "definition" | "condition" | "conclusion"
    expr: n.Expr
    text: str                       # the expression as written
    declared: T.Type | None = None
    declared_by: str = "file"       # "file" | "vocabulary": where the declared type comes from
    quote: str | None = None        # the original sentence this condition reads
    quote_span: Span | None = field(default=None, compare=False)
    note: str | None = None
    source: Citation | None = None
    origin: Origin | None = None
    label: str | None = None        # Chinese name for people, for a set's own conclusion the vocabulary does not list


@dataclass(frozen=True)
class ExceptionRule:
    id: str
    conclusion: str
    when: n.Expr
    value: n.Expr
    priority: int = 0
    source: Citation | None = None
    note: str | None = None
    origin: Origin | None = None
    when_text: str = ""
    value_text: str = ""


@dataclass
class Clause:
    id: str
    title: str
    kind: str                       # "computable" | "informational"
    subject: str
    source: Citation | None
    departments: tuple[str, ...] = ()
    valid: tuple[date | None, date | None] = (None, None)   # in force for cases whose period date falls in it
    notes: str | None = None
    parameters: dict[str, Parameter] = field(default_factory=dict)
    definitions: dict[str, Named] = field(default_factory=dict)
    conditions: dict[str, Named] = field(default_factory=dict)
    conclusions: dict[str, Named] = field(default_factory=dict)
    exceptions: list[ExceptionRule] = field(default_factory=list)
    origin: Origin | None = None
    # Which parts a variant changed, and from which set/file: "parameters.x" -> Origin
    overrides: dict[str, Origin] = field(default_factory=dict)
    # The clause's citation in each set that wrote it (province and city), by set name
    sources: dict[str, Citation] = field(default_factory=dict)
    # Items a patch removed (`remove:`), "conditions.x" / "exceptions.id" -> where the removal is written
    removed: dict[str, Origin] = field(default_factory=dict)
    period_by: str | None = None    # the date fact path or date definition that places a case in time

    def source_for(self, set_name: str | None) -> Citation | None:
        return self.sources.get(set_name or "", self.source)

    def cite(self, own: Citation | None, origin: "Origin | None") -> Citation | None:
        """An item's citation: its own, completed by this clause's source in the set that wrote it."""
        fallback = self.source_for(origin.set_name if origin else None)
        if own is None:
            return fallback
        if own.document is None and fallback is not None:
            return Citation(fallback.document, own.article or fallback.article, own.text)
        return own

    def items(self) -> dict[str, Parameter | Named]:
        out: dict[str, Parameter | Named] = {}
        out.update(self.parameters)
        out.update(self.definitions)
        out.update(self.conditions)
        out.update(self.conclusions)
        return out


@dataclass(frozen=True)
class Period:
    """The period an edition governs (policy-set.yaml `period:`), both ends included."""

    start: date
    end: date | None
    zh: str                         # how staff describe it: 2022年受理的申请

    def contains(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Document:
    id: str
    title: str = ""
    issuer: tuple[str, ...] = ()
    date: date | None = None
    text_path: str | None = None    # the document's wording (manifest `file:`), for quote checks


@dataclass
class RuleSet:
    name: str
    title: str
    jurisdiction: str
    documents: dict[str, Document]
    clauses: dict[str, Clause]
    path: str
    extends: str | None = None
    base: "RuleSet | None" = None
    files: tuple[str, ...] = ()
    content_hash: str = ""
    vocabulary: str = "full"        # "partial": only the clauses written must honour the vocabulary
    declared_facts: dict = field(default_factory=dict)  # path → FactSpec: this set's own `facts:` (setfacts.py)
    supersedes: str | None = None   # an edition: the set it succeeds, which is then `base` (see editions.py)

    @property
    def vocab(self):
        """The effective vocabulary: the package's, plus the facts this set and its ancestors declare."""
        from .setfacts import effective_vocabulary

        return effective_vocabulary(self)

    @property
    def predecessor(self) -> "RuleSet | None":
        """The edition this one supersedes (loaded and resolved), or None."""
        return self.base if self.supersedes else None
    period: Period | None = None    # the period this edition governs (policy-set.yaml `period:`)
