"""What an undetermined value is missing, in SQL: bitmasks, and lists for list elements.

The names a rule set can miss are known in advance (fact paths, delegated
parameters, as_of): each gets one bit of a BIGINT word, in sorted order, so a
union is a bitwise OR and decoding the bits in order yields the sorted list
that the Python engine prints. Building lists row by row is what makes SQL
engines slow, so they are used only for the one kind of name that is not known
in advance: a field of a list element, "household.members[2].employed".

Every mask is meaningful only where its value is NULL (unknown).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlglot.expressions as e

from .dialects import Missing

if TYPE_CHECKING:
    from .translate import Sql

WORD_BITS = 62  # bits used per BIGINT word: positive masks in every dialect


@dataclass(frozen=True)
class Names:
    """Bit positions of the names a rule set can miss."""

    order: tuple[str, ...]

    def bit(self, name: str) -> tuple[int, int]:
        i = self.order.index(name) if name in self.order else -1
        if i < 0:
            raise KeyError(name)
        return divmod(i, WORD_BITS)

    def decode(self, words: dict[int, int]) -> list[str]:
        out = []
        for w, mask in words.items():
            while mask:
                low = mask & -mask
                out.append(self.order[w * WORD_BITS + low.bit_length() - 1])
                mask ^= low
        return out


@dataclass(frozen=True)
class Miss:
    words: tuple[tuple[int, e.Expression], ...]   # word index → BIGINT mask of names
    elems: e.Expression | None = None              # ARRAY<VARCHAR> of list-element paths
    names: frozenset[str] = frozenset()            # every name the masks may hold
    exact: bool = False                            # the words are 0 wherever the value is known

    @property
    def word_ids(self) -> set[int]:
        return {w for w, _ in self.words}


def of(names: Names, *items: str) -> Miss:
    masks: dict[int, int] = {}
    for name in items:
        w, b = names.bit(name)
        masks[w] = masks.get(w, 0) | (1 << b)
    return Miss(tuple((w, e.Literal.number(m)) for w, m in sorted(masks.items())), None, frozenset(items))


def _null(x: e.Expression) -> e.Expression:
    from .translate import is_null

    return is_null(x)


def _or(parts: list[e.Expression]) -> e.Expression:
    out = parts[0]
    for x in parts[1:]:
        out = e.BitwiseOr(this=out, expression=x)
    return out


def merge(parts: list["Sql"], strict: bool = False) -> Miss | None:
    """The missing of a value that is unknown exactly when one of `parts` is: the union over
    the unknown ones (strict operations, and Kleene's and/or, whose false/true is known).
    A part whose masks are exact needs no IS NULL test (its masks are 0 where it is known), so the
    union does not read that part's value: a value only tested by comparisons can then go unbuilt.
    With `strict` (the value is NULL exactly when a part is), the union's masks are exact too."""
    maybe = [p for p in parts if p.m is not None]
    if not maybe:
        return None
    if len(maybe) == 1:
        return maybe[0].m
    words = []
    for w in sorted(set().union(*(p.m.word_ids for p in maybe))):  # type: ignore[union-attr]
        terms = [dict(p.m.words)[w] if p.m.exact  # type: ignore[union-attr]
                 else e.Case(ifs=[e.If(this=_null(p.v), true=dict(p.m.words)[w])], default=e.Literal.number(0))  # type: ignore[union-attr]
                 for p in maybe if w in p.m.word_ids]  # type: ignore[union-attr]
        words.append((w, _or(terms) if len(terms) > 1 else terms[0]))
    lists = [e.Case(ifs=[e.If(this=_null(p.v), true=p.m.elems)]) for p in maybe if p.m.elems is not None]  # type: ignore[union-attr]
    elems = Missing(expressions=lists) if len(lists) > 1 else (lists[0] if lists else None)
    return Miss(tuple(words), elems, frozenset().union(*(p.m.names for p in maybe)), strict)  # type: ignore[union-attr]


def choose(branches: list[tuple[e.Expression, Miss | None]], default: Miss | None) -> Miss | None:
    """CASE WHEN cond THEN that branch's missing … ELSE default's (for if and exceptions)."""
    all_m = [m for _, m in branches if m is not None] + ([default] if default is not None else [])
    if not all_m:
        return None
    words = []
    for w in sorted(set().union(*(m.word_ids for m in all_m))):
        pick = [(c, dict(m.words).get(w, e.Literal.number(0)) if m is not None else e.Literal.number(0))
                for c, m in branches]
        other = dict(default.words).get(w, e.Literal.number(0)) if default is not None else e.Literal.number(0)
        words.append((w, e.Case(ifs=[e.If(this=c, true=x) for c, x in pick], default=other)))
    elems = None
    if any(m.elems is not None for m in all_m):
        pick = [(c, m.elems if m is not None and m.elems is not None else e.Null()) for c, m in branches]
        other = default.elems if default is not None and default.elems is not None else e.Null()
        elems = e.Case(ifs=[e.If(this=c, true=x) for c, x in pick], default=other)
    return Miss(tuple(words), elems, frozenset().union(*(m.names for m in all_m)))


def decode(names: Names, miss: Miss) -> e.Expression:
    """The sorted list of names a mask holds (for a query read by people, e.g. on Spark)."""
    from .translate import str_list

    masks = dict(miss.words)
    items = []
    for name in sorted(miss.names):
        w, b = names.bit(name)
        test = e.NEQ(this=e.Paren(this=e.BitwiseAnd(this=masks[w], expression=e.Literal.number(1 << b))),
                     expression=e.Literal.number(0))
        items.append(e.Case(ifs=[e.If(this=test, true=str_list(name))]))
    if miss.elems is not None:
        items.append(miss.elems)
    joined = Missing(expressions=items) if len(items) > 1 else items[0]
    if miss.elems is not None:
        joined = e.ArraySort(this=e.ArrayDistinct(this=joined))
    return joined
