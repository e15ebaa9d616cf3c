"""What the generated code calls at run time: Kleene helpers for unknowns, guarded
division and date arithmetic (errors carry the node's span), Catala-style exceptions,
values in force by date. Kept apart from compiler.py, which only writes code.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from .errors import PolicyEvaluationError
from .values import CENT, MAX_INT, MAX_INT_DIGITS, WIDE, Unknown, add_duration, merge, quantize_money

_MISS = object()


def _div(a, b, nid, nodes):
    if b == 0:
        raise PolicyEvaluationError("除数为零 division by zero", nodes[nid].span, found=f"{a} / 0",
                                    expected="除数不为零；可先用 if 判断 guard the divisor with if")
    return Decimal(a) / b


def _int_checked(value, nid, nodes):
    if -MAX_INT < value < MAX_INT:
        return value
    raise PolicyEvaluationError(f"计算结果过大：超过 {MAX_INT_DIGITS} 位整数 result too large", nodes[nid].span,
                                expected=f"整数部分最多 {MAX_INT_DIGITS} 位 results below 10^{MAX_INT_DIGITS}")


def _date_add(d, dur, sign, nid, nodes):
    try:
        return add_duration(d, dur, sign)
    except (ValueError, OverflowError):
        raise PolicyEvaluationError("日期超出范围 date out of range", nodes[nid].span,
                                    found=f"{d} {'+' if sign > 0 else '-'} {dur}", expected="公元1年至9999年之间的日期") from None


def _and_u(a, b):
    """a is Unknown, b is the right side (a was not false)."""
    if b is False:
        return False
    if b is True:
        return a
    return a.merge(b)


def _or_u(a, b):
    if b is True:
        return True
    if b is False:
        return a
    return a.merge(b)


def _if_u(c, x, y):
    """`if c then x else y` with c unknown: the common value when both branches are known and
    equal; otherwise what c and the unknown branches miss (merged in that order)."""
    if x.__class__ is not Unknown:
        if y.__class__ is not Unknown:
            return x if x == y else c
        return c.merge(y)
    return c.merge(x) if y.__class__ is not Unknown else c.merge(x).merge(y)


def _field(record, name, path, index):
    value = record.get(name, _MISS) if isinstance(record, dict) else _MISS
    if value is _MISS or value is None:
        return Unknown({f"{path}[{index}].{name}"})
    return value


def _exceptions(base, cases):
    """Catala-style: the first applicable exception by priority wins; an undecided
    higher one makes the result unknown unless every candidate agrees."""
    pending = []
    for when, value in cases:
        if when is True:
            candidates = [value, *pending]
            break
        if when.__class__ is Unknown:
            pending.append((when, value))
    else:
        candidates = [base, *pending]
    if not pending:
        return candidates[0]
    values = [candidates[0]] + [v for _, v in pending]
    first = values[0]
    if all(v.__class__ is not Unknown and v == first for v in values):
        return first
    return merge(*[w for w, _ in pending], *[v for v in values if v.__class__ is Unknown])


def _history(as_of, table):
    """The value in force on as_of: the last entry whose start is on or before it."""
    if as_of.__class__ is Unknown:
        values = {v for _, v in table}
        return table[0][1] if len(values) == 1 else as_of
    current = Unknown({"as_of"}, {"as_of": f"评估日期早于参数生效日 {table[0][0]}"})
    for start, value in table:
        if start <= as_of:
            current = value
    return current


RUNTIME = {
    "_U": Unknown, "_merge": merge, "_div": _div, "_and_u": _and_u, "_or_u": _or_u, "_if_u": _if_u,
    "_field": _field, "_dur": _date_add, "_q": quantize_money, "_exc": _exceptions, "_MISS": _MISS,
    "_D0": Decimal(0), "_fs": frozenset, "_Dec": Decimal, "_ichk": _int_checked, "_CENT": CENT, "_WIDE": WIDE, "_HALF_UP": ROUND_HALF_UP, "_hist": _history, "_AS_OF_UNKNOWN": Unknown({"as_of"}),
}
