"""Canonical SQL tree → one dialect's text.

The compiler writes one tree of sqlglot expressions. Two operations have no
common spelling, so the tree carries them as our own nodes, lowered here per
dialect before sqlglot renders the text:

* `ExactDiv(a, b)`: a quotient rounded half-up to QUOTIENT_SCALE places, computed
  without binary floating point (DuckDB divides DECIMALs in DOUBLE, Spark and
  Trino round at a scale of their own choosing).
* `ElemIndex(i)`: the 0-based position of a list element inside a lambda
  (DuckDB numbers from 1, Spark from 0).
"""
from __future__ import annotations

import sqlglot.expressions as e

DIALECTS = ("duckdb", "spark", "postgres", "trino")
QUOTIENT_SCALE = 18


class ExactDiv(e.Expression, e.Func):
    """a / b, both DECIMAL(38, scale) or BIGINT, to QUOTIENT_SCALE places half-up."""

    arg_types = {"this": True, "expression": True, "num_scale": True, "den_scale": True}


class ElemIndex(e.Expression, e.Func):
    arg_types = {"this": True}


class Checked(e.Expression, e.Func):
    """x, which is NULL only where an operand is or where the row is flagged `_recheck` (a gated
    fact out of range, a divisor of 0): known.py may take it as known on rows with every fact
    known and no recheck, and as `known` (when given) there. Spelt as x."""

    arg_types = {"this": True, "known": False}


class Missing(e.Expression, e.Func):
    """The concatenation of lists of names, a NULL list counting as empty."""

    arg_types = {"expressions": True}
    is_var_len_args = True


def _lower_missing(node: Missing, dialect: str) -> e.Expression:
    parts = list(node.expressions)
    if dialect == "duckdb":  # LIST_CONCAT skips NULL lists
        return e.Anonymous(this="LIST_CONCAT", expressions=parts)
    if dialect == "postgres":  # ARRAY_CAT skips NULL arrays
        out = parts[0]
        for x in parts[1:]:
            out = e.Anonymous(this="ARRAY_CAT", expressions=[out, x])
        return out
    x = e.to_identifier("_m")
    kept = e.ArrayFilter(this=e.Array(expressions=parts),
                         expression=e.Lambda(this=e.Not(this=e.Is(this=x, expression=e.Null())), expressions=[x]))
    return e.Flatten(this=kept)


def dec(scale: int, precision: int = 38) -> e.DataType:
    return e.DataType.build(f"DECIMAL({precision}, {scale})")


def cast(value: e.Expression, to: e.DataType | str) -> e.Cast:
    return e.Cast(this=value, to=to if isinstance(to, e.DataType) else e.DataType.build(to))


def round_half_up(value: e.Expression, scale: int, places: int) -> e.Expression:
    """ROUND of a DECIMAL(38, scale) to `places`, as DECIMAL(38, places) (half away from zero in every
    dialect here). A value that fits DECIMAL(18, scale) is rounded there: 64-bit arithmetic instead of
    128-bit (DuckDB rounds a DECIMAL(38) by a 128-bit division); both give the same digits."""
    x = cast(value, dec(scale))
    wide = cast(e.Round(this=x, decimals=e.Literal.number(places)), dec(places))
    if scale > 17 or scale <= places:
        return wide
    bound = cast(e.Literal.string("9" * (18 - scale)), dec(0))
    narrow = cast(e.Round(this=cast(x, dec(scale, 18)), decimals=e.Literal.number(places)), dec(places))
    fits = e.Between(this=x, low=e.Neg(this=bound), high=bound)
    return e.Case(ifs=[e.If(this=fits, true=narrow)], default=wide)


def _pow10(k: int) -> e.Expression:
    return cast(e.Literal.string("1" + "0" * k), dec(0))


def _unit(scale: int) -> e.Expression:
    """10^-scale as an exact DECIMAL(38, scale)."""
    text = "1" if scale == 0 else "0." + "0" * (scale - 1) + "1"
    return cast(e.Literal.string(text), dec(scale))


def _integer_quotient(node: ExactDiv, intdiv) -> e.Expression:
    """Half-up to QUOTIENT_SCALE places with integer division only:
    q = sign · ((2·|A|·10^k + |B|) div 2·|B|), A and B the unscaled operands."""
    sa, sb = int(node.args["num_scale"]), int(node.args["den_scale"])
    a = cast(e.Mul(this=cast(node.this, dec(sa)), expression=_pow10(sa)), dec(0))
    b = cast(e.Mul(this=cast(node.expression, dec(sb)), expression=_pow10(sb)), dec(0))
    k = QUOTIENT_SCALE + sb - sa
    two = cast(e.Literal.string("2"), dec(0))
    num = e.Add(this=e.Mul(this=e.Mul(this=two, expression=e.Abs(this=a)), expression=_pow10(k)),
                expression=e.Abs(this=b))
    q = intdiv(num, e.Mul(this=two, expression=e.Abs(this=b)))
    negative = e.LT(this=e.Mul(this=e.Sign(this=a), expression=e.Sign(this=b)), expression=e.Literal.number(0))
    signed = e.Case(ifs=[e.If(this=negative, true=e.Neg(this=e.Paren(this=q)))], default=q)
    return e.Mul(this=cast(signed, dec(0)), expression=_unit(QUOTIENT_SCALE))


def _n(k: int) -> e.Expression:
    return e.Literal.number(k)


def _small_quotient(node: ExactDiv) -> e.Expression | None:
    """a / b for integers with |b| < 10^9, half-up to 18 places in 64-bit integer steps (DuckDB
    divides HUGEINTs in software, a hundred times slower): the integer part, then two steps of
    nine digits, the last rounded. None when the operands are not both integers."""
    if int(node.args["num_scale"]) or int(node.args["den_scale"]):
        return None
    a, b = cast(node.this, "BIGINT"), cast(node.expression, "BIGINT")
    big_a, big_b, nine = _n(10 ** 18 - 1), _n(10 ** 9 - 1), _n(10 ** 9)
    fits = e.And(this=e.Between(this=b, low=e.Neg(this=big_b), high=big_b),
                 expression=e.Between(this=a, low=e.Neg(this=big_a), high=big_a))
    abs_a, abs_b = e.Abs(this=a), e.Abs(this=b)
    rest = e.Mod(this=abs_a, expression=abs_b)                                  # < 10^9
    step = e.Mul(this=e.Paren(this=rest), expression=nine)                      # < 10^18
    d1 = e.IntDiv(this=e.Paren(this=step), expression=abs_b)
    r1 = e.Mod(this=e.Paren(this=step), expression=abs_b)
    two_b = e.Mul(this=_n(2), expression=abs_b)
    d2 = e.IntDiv(this=e.Paren(this=e.Add(this=e.Mul(this=e.Mul(this=_n(2), expression=e.Paren(this=r1)),
                                                            expression=nine), expression=abs_b)),
                  expression=e.Paren(this=two_b))                               # 2·r1·10^9 + |b| < 2·10^18 + 10^9
    whole = e.IntDiv(this=abs_a, expression=abs_b)
    units = e.Add(this=e.Add(this=e.Mul(this=cast(whole, "HUGEINT"), expression=cast(_n(10 ** 18), "HUGEINT")),
                             expression=e.Mul(this=cast(d1, "HUGEINT"), expression=nine)),
                  expression=d2)
    negative = e.NEQ(this=e.Paren(this=e.LT(this=a, expression=_n(0))), expression=e.Paren(this=e.LT(this=b, expression=_n(0))))
    signed = e.Case(ifs=[e.If(this=negative, true=e.Neg(this=e.Paren(this=units)))], default=units)
    value = e.Mul(this=cast(signed, dec(0)), expression=_unit(QUOTIENT_SCALE))
    wide = _integer_quotient(node, lambda x, y: e.IntDiv(this=cast(x, "HUGEINT"), expression=cast(y, "HUGEINT")))
    return e.Case(ifs=[e.If(this=fits, true=value)], default=wide)


def _lower_div(node: ExactDiv, dialect: str) -> e.Expression:
    if dialect == "duckdb":
        small = _small_quotient(node)
        if small is not None:
            return small
        return _integer_quotient(node, lambda x, y: e.IntDiv(this=cast(x, "HUGEINT"), expression=cast(y, "HUGEINT")))
    if dialect == "postgres":
        return _integer_quotient(node, lambda x, y: e.Anonymous(this="DIV", expressions=[x, y]))
    sa, sb = int(node.args["num_scale"]), int(node.args["den_scale"])
    if dialect == "spark":
        # With spark.sql.decimalOperations.allowPrecisionLoss=false (see docs/sql.md) Spark's
        # DECIMAL quotient has scale s1 + p2 + 1, rounded half-up: choose p2 so that it is 18.
        num, den = cast(node.this, dec(sa, 20 + sa - sb)), cast(node.expression, dec(sb, 17 - sa))
        q = e.Div(this=num, expression=den)
        return cast(q, dec(QUOTIENT_SCALE))
    # trino: DECIMAL division rounds half-up at the dividend's scale
    num = cast(node.this, dec(QUOTIENT_SCALE + sb))
    return cast(e.Div(this=num, expression=cast(node.expression, dec(sb))), dec(QUOTIENT_SCALE))


def lower(tree: e.Expression, dialect: str, copy: bool = True) -> e.Expression:
    """A copy of the canonical tree with our nodes spelt for `dialect` (the tree itself, rewritten,
    when `copy` is false: for a caller that renders it once)."""
    if dialect not in DIALECTS:
        raise ValueError(dialect)

    def visit(node: e.Expression) -> e.Expression:
        # post-order, so that our nodes inside our nodes are lowered too
        for key, value in list(node.args.items()):
            if isinstance(value, e.Expression):
                node.set(key, visit(value))
            elif isinstance(value, list):
                node.set(key, [visit(v) if isinstance(v, e.Expression) else v for v in value])
        if isinstance(node, ExactDiv):
            return _lower_div(node, dialect)
        if isinstance(node, Missing):
            return _lower_missing(node, dialect)
        if isinstance(node, Checked):
            return node.this
        if isinstance(node, ElemIndex):
            ident = node.this
            return e.Paren(this=e.Sub(this=ident, expression=e.Literal.number(1))) if dialect == "duckdb" else ident
        return node

    return visit(tree.copy() if copy else tree)


def render(tree: e.Expression, dialect: str, pretty: bool = True, copy: bool = True) -> str:
    return lower(tree, dialect, copy).sql(dialect=dialect, pretty=pretty)
