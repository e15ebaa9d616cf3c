"""Built-in functions: declared signatures (checked statically) and implementations.

Each implementation receives evaluated arguments, which may be Unknown; the
shared rule is: any unknown argument makes the result unknown, except for
known() and tags() which say what they do with unknowns.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Callable

from . import types as T
from .errors import PolicyTypeError
from .source import Span
from .values import MAX_DIGITS, Unknown, merge, months_between, round_half_up, years_between


@dataclass(frozen=True)
class Builtin:
    name: str
    signature: str                                         # for messages and docs
    check: Callable[[list[T.Type], Span | None, tuple], T.Type]
    impl: Callable[..., object]
    strict: bool = True                                    # unknown argument → unknown result


def _fail(name: str, sig: str, types: list[T.Type], span: Span | None) -> PolicyTypeError:
    found = f"{name}({', '.join(str(t) for t in types)})"
    return PolicyTypeError(f"函数 {name} 的参数类型不对 wrong argument types", span, found=found, expected=sig)


def _arity(name: str, sig: str, types: list[T.Type], span: Span | None, lo: int, hi: int | None) -> None:
    if len(types) < lo or (hi is not None and len(types) > hi):
        want = f"{lo}" if hi == lo else f"{lo}–{hi}" if hi else f"至少 {lo}"
        raise PolicyTypeError(f"函数 {name} 需要 {want} 个参数，实际 {len(types)} 个 wrong number of arguments", span,
                              found=f"{len(types)} 个参数 arguments", expected=sig)


def _unify_ordered(name: str, sig: str, types: list[T.Type], span: Span | None) -> T.Type:
    kinds = {t.kind for t in types}
    if kinds <= set(T.NUMERIC):
        return T.INT if kinds == {"int"} else T.RATE if kinds == {"rate"} else T.DECIMAL
    if kinds == {"money"}:
        return T.MONEY
    if kinds == {"date"}:
        return T.DATE
    raise _fail(name, sig, types, span)


def _check_minmax(name: str) -> Callable:
    sig = f"{name}(a, b, …): 数字、金额或日期，同一类 numbers, money or dates of one kind"

    def check(types: list[T.Type], span: Span | None, args: tuple) -> T.Type:
        _arity(name, sig, types, span, 2, None)
        return _unify_ordered(name, sig, types, span)

    return check


def _check_abs(types, span, args) -> T.Type:
    sig = "abs(x): 数字或金额 number or money"
    _arity("abs", sig, types, span, 1, 1)
    if types[0].kind in T.NUMERIC or types[0].kind == "money":
        return types[0]
    raise _fail("abs", sig, types, span)


def _check_round(types, span, args) -> T.Type:
    sig = "round(x, n): x 数字或金额，n 非负整数字面量 number or money, non-negative int literal"
    _arity("round", sig, types, span, 2, 2)
    from .nodes import Literal

    if types[0].kind not in T.NUMERIC + ("money",) or not (isinstance(args[1], Literal) and types[1].kind == "int"
                                                         and args[1].value >= 0):
        raise _fail("round", sig, types, span)
    if args[1].value > MAX_DIGITS:
        from .errors import PolicyLimitError

        raise PolicyLimitError(f"round 最多保留 {MAX_DIGITS} 位小数 at most {MAX_DIGITS} places", args[1].span,
                               found=str(args[1].value), expected=f"0 到 {MAX_DIGITS}")
    return T.MONEY if types[0].kind == "money" else T.DECIMAL


def _check_known(types, span, args) -> T.Type:
    _arity("known", "known(x)", types, span, 1, 1)
    return T.BOOL


def _check_size(types, span, args) -> T.Type:
    sig = "size(x): 集合或列表 set or list"
    _arity("size", sig, types, span, 1, 1)
    if types[0].kind not in ("set", "list"):
        raise _fail("size", sig, types, span)
    return T.INT


def _check_tags(types, span, args) -> T.Type:
    sig = 'tags(条件1, "名1", 条件2, "名2", …): bool, string pairs'
    _arity("tags", sig, types, span, 2, None)
    if len(types) % 2 or any(t.kind != "bool" for t in types[0::2]) or any(not T.is_stringish(t) for t in types[1::2]):
        raise _fail("tags", sig, types, span)
    return T.set_of(T.STRING)


def _check_intersect(types, span, args) -> T.Type:
    sig = "intersect(s1, s2): 两个集合 two sets"
    _arity("intersect", sig, types, span, 2, 2)
    if any(t.kind != "set" for t in types):
        raise _fail("intersect", sig, types, span)
    return types[0] if types[0].elem and types[0].elem.kind != "any" else types[1]


def _check_between(name: str) -> Callable:
    sig = f"{name}(d1, d2): 两个日期 two dates → int"

    def check(types, span, args) -> T.Type:
        _arity(name, sig, types, span, 2, 2)
        if any(t.kind != "date" for t in types):
            raise _fail(name, sig, types, span)
        return T.INT

    return check


def _tags(*args: object) -> object:
    unknowns = [c for c in args[0::2] if c.__class__ is Unknown]
    if unknowns:
        return merge(*unknowns)
    return frozenset(label for cond, label in zip(args[0::2], args[1::2]) if cond is True)


def _days(a: date, b: date) -> int:
    return (b - a).days


BUILTINS: dict[str, Builtin] = {
    b.name: b
    for b in [
        Builtin("min", "min(a, b, …)", _check_minmax("min"), lambda *a: min(a)),
        Builtin("max", "max(a, b, …)", _check_minmax("max"), lambda *a: max(a)),
        Builtin("abs", "abs(x)", _check_abs, abs),
        Builtin("round", "round(x, n)", _check_round, round_half_up),
        Builtin("known", "known(x)", _check_known, lambda x: x.__class__ is not Unknown, strict=False),
        Builtin("size", "size(x)", _check_size, len),
        Builtin("tags", 'tags(c1, "a", …)', _check_tags, _tags, strict=False),
        Builtin("intersect", "intersect(s1, s2)", _check_intersect, lambda a, b: frozenset(a) & frozenset(b)),
        Builtin("days_between", "days_between(d1, d2)", _check_between("days_between"), _days),
        Builtin("months_between", "months_between(d1, d2)", _check_between("months_between"), months_between),
        Builtin("years_between", "years_between(d1, d2)", _check_between("years_between"), years_between),
    ]
}

_ZERO = Decimal(0)
