"""Comparisons and `if` in SQL: one DECIMAL type per comparison, 64-bit where it fits (numeric.py);
a quotient compared with a threshold by cross-multiplying; the Kleene `if` (the branch taken,
or the common value of both branches when the condition is unknown).
"""
from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Callable

import sqlglot.expressions as e

from .. import nodes as n
from .dialects import Checked, cast, dec
from .missing import choose, merge
from .numeric import NARROW, at_scale, constant, digits, integer_ratio, number
from .translate import FACT_SCALE, Sql, Unsupported, case, p

if TYPE_CHECKING:
    from .translate import Translator

OPERATORS = {"==": e.EQ, "!=": e.NEQ, "<": e.LT, "<=": e.LTE, ">": e.GT, ">=": e.GTE}
FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
NUMERIC = ("int", *FACT_SCALE)


def plain_compare(op: str, a: Sql, b: Sql) -> e.Expression:
    left, right = a.v, b.v
    if {a.kind, b.kind} & set(FACT_SCALE):
        # one DECIMAL type on both sides: engines that widen DECIMAL(38, x) vs DECIMAL(38, y)
        # on their own may round the finer side (Spark) before comparing; 64-bit when both fit
        scale = max(a.scale, b.scale)
        narrow = at_scale(a.v, a.kind, a.scale, a.bound, scale), at_scale(b.v, b.kind, b.scale, b.bound, scale)
        if narrow[0] is not None and narrow[1] is not None:
            left, right = narrow
        else:
            left, right = cast(left, dec(scale)), cast(right, dec(scale))
    return OPERATORS[op](this=p(left), expression=p(right))


def unify(parts: list[Sql], scale: int) -> tuple[list[e.Expression], int | None]:
    """Values of one DECIMAL type with `scale` places (for CASE branches): 64-bit when all fit."""
    narrow = [at_scale(x.v, x.kind, x.scale, x.bound, scale) for x in parts]
    if all(x is not None for x in narrow):
        return narrow, max(x.bound for x in parts)  # type: ignore[misc, type-var, return-value]
    return [cast(x.v, dec(scale)) for x in parts], None


def ratio_compare(a: Sql, b: Sql, gated: Callable[[Sql], Sql]) -> Callable[[str, Sql], e.Expression | None]:
    """`a / b op r` as `a op r·b` (b > 0) or `r·b op a` (b < 0): exact, and no quotient to build.
    NULL where a, b or r is, and where b = 0 (those rows are rechecked by the Python engine).
    In 64-bit integers when the operands are (gated) integers and r a constant, as a·10^k op R·b."""
    def build(op: str, r: Sql) -> e.Expression | None:
        if r.kind not in NUMERIC or r.compare is not None or r.scale + b.scale > 30:
            return None
        zero = e.Literal.number(0)
        num, rb = _narrow_cross(a, b, r, gated)
        if num is None or rb is None:
            scale = max(a.scale, r.scale + b.scale)
            rb = cast(e.Mul(this=cast(r.v, dec(r.scale)), expression=cast(b.v, dec(b.scale))), dec(scale))
            num = cast(a.v, dec(scale))
        return Checked(this=case((e.GT(this=p(b.v), expression=zero), OPERATORS[op](this=p(num), expression=p(rb))),
                                 (e.LT(this=p(b.v), expression=zero), OPERATORS[op](this=p(rb), expression=p(num)))))
    return build


def _narrow_cross(a: Sql, b: Sql, r: Sql, gated: Callable[[Sql], Sql]) -> tuple[e.Expression | None, e.Expression | None]:
    """(a·10^k, R·b) in BIGINT for integers a, b and a constant r = R/10^k, when gated a and b fit."""
    rc = constant(r.v)
    if rc is None or a.kind != "int" or b.kind != "int":
        return None, None
    units, k = integer_ratio(rc)
    ga, gb = (gated(x) if x.fact is not None else x for x in (a, b))
    if ga.bound is None or gb.bound is None or ga.bound + k > NARROW or gb.bound + digits(Decimal(units)) + 1 > NARROW:
        return None, None
    num = ga.v if k == 0 else e.Mul(this=p(ga.v), expression=e.Literal.number(10 ** k))
    if units == 0:
        return num, e.Literal.number(0)
    rb = gb.v if units == 1 else e.Mul(this=number(Decimal(units)), expression=p(gb.v))
    return num, rb


def _if_compare(c: Sql, x: Sql, y: Sql) -> Callable[[str, Sql], e.Expression | None] | None:
    """`(if c then x else y) op r` through the branches when one of them compares without its value,
    with the if's own rule when c is unknown: the value is x if x = y, so the comparison is x's then."""
    if (x.compare is None) == (y.compare is None) or x.kind not in NUMERIC or y.kind not in NUMERIC:
        return None

    def side(s: Sql, op: str, r: Sql) -> e.Expression | None:
        return s.compare(op, r) if s.compare is not None else plain_compare(op, s, r)

    def build(op: str, r: Sql) -> e.Expression | None:
        if r.compare is not None:
            return None
        first, second = side(x, op, r), side(y, op, r)
        agree = y.compare("==", x) if y.compare is not None else x.compare("==", y)  # type: ignore[misc]
        if first is None or second is None or agree is None:
            return None
        return kleene_if(c, first, second, agree)
    return build


def kleene_if(c: Sql, x: e.Expression, y: e.Expression, agree: e.Expression | None) -> e.Expression:
    """x where c, y where not c; where c is unknown, x if `agree` (the branches are equal), else NULL."""
    if c.m is None:  # c is never unknown
        return case((c.v, x), default=y)
    whens = [(c.v, x), (e.Not(this=e.Paren(this=c.v)), y)]
    if agree is not None:
        whens.append((agree, x))
    return case(*whens)


def _same_constant(x: e.Expression, y: e.Expression) -> bool | None:
    """Whether two constants are equal (None: not both constants)."""
    cx, cy = constant(x), constant(y)
    if cx is not None and cy is not None:
        return cx == cy
    simple = (e.Literal, e.Boolean)
    if isinstance(x, simple) and isinstance(y, simple) and x.is_string == y.is_string:
        return x == y
    return None


def compare(t: "Translator", node: n.Compare) -> Sql:
    a, b = t.expr(node.left), t.expr(node.right)
    if a.kind in ("set", "list") or b.kind in ("set", "list"):
        if node.op not in ("==", "!="):
            raise Unsupported("集合的大小比较 ordering of sets")
    built = None
    if a.compare is not None and b.compare is None:
        built = a.compare(node.op, b)
    elif b.compare is not None and a.compare is None:
        built = b.compare(FLIPPED[node.op], a)
    if built is not None:
        return Sql(built, merge([a, b], strict=True), "bool")
    return Sql(plain_compare(node.op, a, b), merge([a, b], strict=True), "bool")


def if_(t: "Translator", node: n.If) -> Sql:
    c, x, y = t.expr(node.cond), t.expr(node.then), t.expr(node.orelse)
    kind = t.kind(node)
    scale = max(x.scale, y.scale)
    xv, yv = x.v, y.v
    bound = max(x.bound, y.bound) if x.bound is not None and y.bound is not None else None
    if kind in FACT_SCALE:  # one DECIMAL type for both branches (an int branch would widen it)
        (xv, yv), bound = unify([x, y], scale)
    same = _same_constant(xv, yv)
    if same:  # both branches the same constant: the value whatever c is
        return Sql(xv, None, kind, scale, bound=bound)
    agree = None if same is False else e.EQ(this=p(xv), expression=p(yv))
    value = kleene_if(c, xv, yv, agree)
    missing = None
    if c.m is not None or x.m is not None or y.m is not None:
        missing = choose([(c.v, x.m), (e.Not(this=e.Paren(this=c.v)), y.m)], merge([c, x, y]))
    return Sql(value, missing, kind, scale, x.inexact or y.inexact, _if_compare(c, x, y), bound)
