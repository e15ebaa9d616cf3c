"""64-bit exact arithmetic where the operands' range allows it, 128-bit DECIMAL(38, s) elsewhere.

DuckDB keeps a DECIMAL of at most 18 digits in a 64-bit integer and one of more digits
in 128 bits (Spark likewise: a long, or a BigDecimal); 128-bit multiplication, comparison
and rounding cost several times more. The translator tracks, for a numeric value, a
bound on its integer digits (`Sql.bound`: |value| < 10^bound, and the SQL type is BIGINT or
a DECIMAL of at most 18 digits) from the column types and the constants, so it can spell an
operation in 64 bits when the result provably fits 18 digits.

A column's type alone rarely proves that a product fits (money has 14 integer digits,
BIGINT 19), so a numeric fact used in a product or a cross-multiplied comparison is read
through a gate: within GATE_DIGITS integer digits (a trillion yuan, 10^15 persons) it is the
value; beyond, the row is flagged `_recheck` (the Python engine judges it, exactly) and the
query reads NULL there, so no 64-bit operation can overflow.
"""
from __future__ import annotations

from decimal import Decimal

import sqlglot.expressions as e

from .dialects import cast, dec, round_half_up

NARROW = 18                                                          # digits of a 64-bit DECIMAL
TYPE_DIGITS = {"int": 19, "money": 14, "decimal": 12, "rate": 12}    # what a fact column's type holds
GATE_DIGITS = {"int": 15, "money": 12, "decimal": 8, "rate": 8}      # what a gated fact may hold


def number(d: Decimal) -> e.Expression:
    """A numeric literal (DECIMAL of its own digits and scale in every dialect here)."""
    text = format(abs(d), "f")
    lit = e.Literal.number(text)
    return e.Paren(this=e.Neg(this=lit)) if d < 0 else lit


def digits(d: Decimal) -> int:
    """The integer digits of |d| (0 for |d| < 1)."""
    whole = int(abs(d))
    return len(str(whole)) if whole else 0


def constant(x: e.Expression) -> Decimal | None:
    """The value of a numeric literal as number() or the translator spells it, else None."""
    neg = False
    while isinstance(x, (e.Paren, e.Cast, e.Neg)):
        neg ^= isinstance(x, e.Neg)
        x = x.this
    if isinstance(x, e.Literal):
        try:
            d = Decimal(x.this)
        except ArithmeticError:
            return None
        return -d if neg else d
    return None


def at_scale(v: e.Expression, kind: str, scale_now: int, bound: int | None, scale: int) -> e.Expression | None:
    """v as a 64-bit DECIMAL with `scale` places, or None when it may not fit 18 digits."""
    if bound is None or bound + scale > NARROW:
        return None
    d = constant(v)
    if d is not None:
        return number(d.quantize(Decimal(1).scaleb(-scale))) if scale else cast(number(d), dec(0, max(1, bound)))
    if kind != "int" and scale_now == scale:
        return v                        # already DECIMAL(<=18, scale)
    return cast(v, dec(scale, NARROW))


def gate_test(column: e.Expression, kind: str) -> e.Expression:
    """TRUE where the fact is within its gate (NULL where it is unknown)."""
    limit = e.Literal.number(10 ** GATE_DIGITS[kind])
    return e.And(this=e.GT(this=column, expression=e.Neg(this=limit)), expression=e.LT(this=column, expression=limit))


def rounded(v: e.Expression, scale: int, bound: int | None, places: int) -> tuple[e.Expression, int | None]:
    """ROUND half away from zero (Python's ROUND_HALF_UP) in every dialect here, to `places`, and the
    bound of the result: a 64-bit value is rounded as DECIMAL(18, places) (Trino's ROUND keeps its
    argument's scale; the cast sets it), any other by dialects.round_half_up."""
    if bound is None or bound + 1 + places > NARROW:
        return round_half_up(v, scale, places), None
    return cast(e.Round(this=v, decimals=e.Literal.number(places)), dec(places, NARROW)), bound + 1


def integer_ratio(r: Decimal) -> tuple[int, int]:
    """r = units / 10^k with the fewest places: (units, k)."""
    t = r.normalize().as_tuple()
    k = max(0, -t.exponent)  # type: ignore[operator]
    return int(r.scaleb(k)), k
