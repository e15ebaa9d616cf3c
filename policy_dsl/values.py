"""Runtime values: Unknown, durations, exact decimals, calendar arithmetic.

Values are plain Python: bool, int, Decimal, date, str, frozenset, tuple/list,
dict (records). Only Unknown and Duration are our own classes.
"""
from __future__ import annotations

import calendar
import sys
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Context, Decimal, DivisionByZero, InvalidOperation, Overflow, Underflow
from types import MappingProxyType
from typing import Mapping

# All arithmetic of an evaluation runs in this context (installed with
# decimal.localcontext), so an embedding program's own context never leaks in.
# Every value stays below 10^18 (Emax): a result that grows past it — a chain of
# squarings, a sum of huge facts — is an Overflow error, not a silently rounded
# x + 1 == x; 28 significant digits keep + - * exact for any value a policy
# uses (money to the fen, rates to many places).
MAX_INT_DIGITS = 18      # digits before the decimal point
MAX_DIGITS = 28          # digits in all, as written without an exponent
CONTEXT = Context(prec=MAX_DIGITS, rounding=ROUND_HALF_UP, Emax=MAX_INT_DIGITS - 1, Emin=-(MAX_DIGITS + 10),
                  traps=[InvalidOperation, DivisionByZero, Overflow, Underflow])
# Reading literals and rendering results use their own, wider context, explicitly:
# neither depends on the caller's decimal context, and any value can be shown.
WIDE = Context(prec=2 * MAX_DIGITS + 20, rounding=ROUND_HALF_UP, Emax=999_999, Emin=-999_999,
               traps=[InvalidOperation, DivisionByZero, Overflow])
CENT = Decimal("0.01")
MAX_INT = 10 ** MAX_INT_DIGITS


def isolated(fn):
    """Run `fn` in the tool's own decimal context (WIDE), whatever context the caller set:
    for the API's entry points (loading, rendering, case generation), so that no result
    depends on an embedding program's decimal settings. Evaluation installs CONTEXT itself."""
    import functools
    from decimal import localcontext

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with localcontext(WIDE):
            return fn(*args, **kwargs)

    return wrapper


def number_problem(value: object) -> str | None:
    """Why a number is outside what the language computes with (None if it is fine):
    at most 18 digits before the point and 28 in all; never NaN or infinity."""
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        return None
    if isinstance(value, int):
        if -MAX_INT < value < MAX_INT:
            return None
        return f"数字过大：整数部分最多 {MAX_INT_DIGITS} 位 number too large (at most {MAX_INT_DIGITS} digits before the point)"
    if not value.is_finite():
        return f"不是有限的数 not a finite number: {value}"
    _, digits, exp = value.as_tuple()
    whole = len(digits) + exp if exp >= 0 else max(len(digits) + exp, 0)
    total = len(digits) + exp if exp >= 0 else max(len(digits), -exp)
    if value and whole > MAX_INT_DIGITS and any(digits):
        return f"数字过大：整数部分最多 {MAX_INT_DIGITS} 位 number too large (at most {MAX_INT_DIGITS} digits before the point)"
    if total > MAX_DIGITS and any(digits):
        return f"数字位数过多：最多 {MAX_DIGITS} 位数字 too many digits (at most {MAX_DIGITS} in all)"
    return None


_NO_REASONS: Mapping[str, str] = MappingProxyType({})


class Unknown:
    """A value the facts do not decide, remembering what would decide it.

    `missing` holds fact paths ("unit.layoffs") and delegated parameter names;
    `reasons` maps some of them to a sentence for people ("由各市确定，不超过30%").

    Merging is cheap: `a.merge(b)` only records its two parts; the union of what is
    missing is worked out the first time someone asks (`missing`, `reasons`, ==), which
    for most intermediate values is never.
    """

    __slots__ = ("_missing", "_reasons", "_parts")

    def __init__(self, missing: frozenset[str] | set[str] | tuple[str, ...] = frozenset(),
                 reasons: Mapping[str, str] | None = None) -> None:
        self._missing = frozenset(missing)
        self._reasons = MappingProxyType(dict(reasons)) if reasons else _NO_REASONS
        self._parts: tuple[Unknown, Unknown] | None = None

    @property
    def missing(self) -> frozenset[str]:
        if self._parts is not None:
            self._resolve()
        return self._missing  # type: ignore[return-value]

    @property
    def reasons(self) -> Mapping[str, str]:
        if self._parts is not None:
            self._resolve()
        return self._reasons  # type: ignore[return-value]

    def merge(self, other: "Unknown") -> "Unknown":
        if other is self:
            return self
        u = Unknown.__new__(Unknown)
        u._parts = (self, other)
        u._missing = u._reasons = None
        return u

    def _resolve(self) -> None:
        # Leaves left to right, a later reason for the same name winning (as {**a, **b} would).
        missing: set[str] = set()
        reasons: dict[str, str] = {}
        stack: list[Unknown] = [self]
        seen: set[int] = set()
        while stack:
            u = stack.pop()
            parts = u._parts
            if parts is None:
                missing |= u._missing  # type: ignore[arg-type]
                reasons.update(u._reasons)  # type: ignore[arg-type]
            elif id(u) not in seen:
                seen.add(id(u))
                stack.append(parts[1])
                stack.append(parts[0])
        # Written before _parts is cleared: another thread sees either the parts or the result.
        self._missing = frozenset(missing)
        self._reasons = MappingProxyType(reasons) if reasons else _NO_REASONS
        self._parts = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown) and other.missing == self.missing

    def __hash__(self) -> int:
        return hash(self.missing)

    def __repr__(self) -> str:
        return f"Unknown({sorted(self.missing)!r})"


def merge(*values: object) -> Unknown:
    """The union of what the unknown values among `values` are missing."""
    result: Unknown | None = None
    for v in values:
        if v.__class__ is Unknown:
            result = v if result is None else result.merge(v)  # type: ignore[arg-type]
    assert result is not None
    return result


@dataclass(frozen=True)
class Duration:
    amount: int
    unit: str  # "day" | "month" | "year"

    def __str__(self) -> str:
        zh = {"day": "天", "month": "个月", "year": "年"}[self.unit]
        return f"{self.amount}{zh}"


def add_months(d: date, months: int) -> date:
    """Same day of month; clamped to the month's last day when it is shorter."""
    index = d.year * 12 + (d.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(d.day, last))


def add_duration(d: date, dur: Duration, sign: int = 1) -> date:
    from datetime import timedelta

    if dur.unit == "day":
        return d + timedelta(days=sign * dur.amount)
    months = dur.amount * (12 if dur.unit == "year" else 1)
    return add_months(d, sign * months)


def months_between(a: date, b: date) -> int:
    """Whole months completed from a to b (negative when b < a), month-end aware."""
    if b < a:
        return -months_between(b, a)
    n = (b.year - a.year) * 12 + (b.month - a.month)
    while n > 0 and add_months(a, n) > b:
        n -= 1
    return n


def years_between(a: date, b: date) -> int:
    m = months_between(a, b)
    return int(m / 12)  # truncation toward zero for whole years


def quantize_money(value: object) -> object:
    """A money conclusion: half-up to 0.01 yuan, once."""
    if value.__class__ is Unknown:
        return value
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP, context=WIDE)  # type: ignore[arg-type]


def round_half_up(value: Decimal | int, places: int) -> Decimal:
    return Decimal(value).quantize(Decimal(1).scaleb(-places, WIDE), rounding=ROUND_HALF_UP, context=WIDE)


def to_decimal(text: str) -> Decimal:
    return Decimal(text)


def format_decimal(value: Decimal | int) -> str:
    """Canonical text of an exact number: no exponent, no trailing zeros."""
    if isinstance(value, int):
        return str(value)
    if not value.is_finite():
        return str(value)
    if value == value.to_integral_value(context=WIDE):
        return format(value.quantize(Decimal(1), context=WIDE), "f")
    text = format(value.normalize(WIDE), "f")
    return text


def format_money(value: Decimal) -> str:
    if not value.is_finite():
        return str(value)
    return format(value.quantize(CENT, rounding=ROUND_HALF_UP, context=WIDE), "f")


def format_typed(value: object, kind: str = "") -> str:
    """A value as a rule file would write it: 30%, 300元, 2021-12-31, {a, b}."""
    if isinstance(value, Decimal) and kind == "rate":
        return f"{format_decimal(value.scaleb(2, WIDE))}%"
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        return format_decimal(value) + ("元" if kind == "money" else "")
    if isinstance(value, frozenset):
        return "{" + ", ".join(sorted(map(str, value))) + "}"
    return str(value)


def interned(value: object) -> object:
    """A constant of generated code with its strings interned, as Python interns the names and
    identifier-like literals of a caller's own code: a dict lookup or comparison with one of
    those then succeeds on identity, without comparing characters."""
    if value.__class__ is str:
        return sys.intern(value)  # type: ignore[arg-type]
    if value.__class__ in (frozenset, tuple) and all(v.__class__ is str for v in value):  # type: ignore[attr-defined]
        return value.__class__(sys.intern(v) for v in value)  # type: ignore[attr-defined]
    return value

