"""The typed AST of the expression language.

Frozen dataclasses; `span` is kept for errors and explanations but excluded
from equality, so tests can compare shapes without positions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterator, Union

from .source import Span
from .types import Type

_SPAN = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class Literal:
    """A constant: 30, 6%, 300元, 2021-12-31, 4 months, "enterprise", true."""

    value: object
    type: Type
    text: str = field(default="", compare=False)
    span: Span | None = _SPAN


@dataclass(frozen=True)
class Ref:
    """A dotted name: a fact, a clause-local name, another clause's item, a bound variable."""

    parts: tuple[str, ...]
    span: Span | None = _SPAN

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)


@dataclass(frozen=True)
class Neg:
    operand: "Expr"
    span: Span | None = _SPAN


@dataclass(frozen=True)
class Not:
    operand: "Expr"
    span: Span | None = _SPAN


@dataclass(frozen=True)
class Arith:
    """left op right, op in + - * /."""

    op: str
    left: "Expr"
    right: "Expr"
    span: Span | None = _SPAN


@dataclass(frozen=True)
class Compare:
    """left op right, op in == != < <= > >= (≤ ≥ ≠ are normalised)."""

    op: str
    left: "Expr"
    right: "Expr"
    span: Span | None = _SPAN


@dataclass(frozen=True)
class Member:
    """element in collection / element not in collection."""

    element: "Expr"
    collection: "Expr"
    negated: bool
    span: Span | None = _SPAN


@dataclass(frozen=True)
class And:
    left: "Expr"
    right: "Expr"
    span: Span | None = _SPAN


@dataclass(frozen=True)
class Or:
    left: "Expr"
    right: "Expr"
    span: Span | None = _SPAN


@dataclass(frozen=True)
class If:
    cond: "Expr"
    then: "Expr"
    orelse: "Expr"
    span: Span | None = _SPAN


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple["Expr", ...]
    span: Span | None = _SPAN


@dataclass(frozen=True)
class Aggregate:
    """count/any/all(var in collection where cond), sum(value for var in collection where cond)."""

    kind: str
    var: str
    collection: "Expr"
    where: "Expr | None"
    value: "Expr | None" = None
    span: Span | None = _SPAN


@dataclass(frozen=True)
class Collection:
    """A set literal {…} or list literal […]."""

    kind: str  # "set" | "list"
    items: tuple["Expr", ...]
    span: Span | None = _SPAN


Expr = Union[Literal, Ref, Neg, Not, Arith, Compare, Member, And, Or, If, Call, Aggregate, Collection]


def children(node: Expr) -> Iterator[Expr]:
    """Direct sub-expressions, in evaluation order."""
    if isinstance(node, (Neg, Not)):
        yield node.operand
    elif isinstance(node, (Arith, Compare, And, Or)):
        yield node.left
        yield node.right
    elif isinstance(node, Member):
        yield node.element
        yield node.collection
    elif isinstance(node, If):
        yield node.cond
        yield node.then
        yield node.orelse
    elif isinstance(node, Call):
        yield from node.args
    elif isinstance(node, Aggregate):
        yield node.collection
        if node.where is not None:
            yield node.where
        if node.value is not None:
            yield node.value
    elif isinstance(node, Collection):
        yield from node.items


def walk(node: Expr) -> Iterator[Expr]:
    yield node
    for child in children(node):
        yield from walk(child)
