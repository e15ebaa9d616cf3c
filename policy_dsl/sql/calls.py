"""Built-in functions and list aggregates in SQL (see functions.py for their meaning).

Aggregates over a list of records (household.members) use the list functions
with lambdas that DuckDB and Spark share (FILTER, TRANSFORM, FLATTEN). An
element's missing field is named like the Python engine names it,
"household.members[2].employed", with the element's 0-based position.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import sqlglot.expressions as e

from .. import nodes as n
from ..typer import FactBinding
from .dialects import cast, dec
from .numeric import rounded
from .missing import Miss, merge, of
from .translate import FACT_SCALE, Sql, Unsupported, case, empty_list, is_null, strict

if TYPE_CHECKING:
    from .translate import Translator


def call(t: "Translator", node: n.Call) -> Sql:
    name = node.name
    if name == "known":
        a = t.expr(node.args[0])
        return Sql(e.Not(this=is_null(a.v)) if a.m is not None else e.true(), None, "bool")
    if name == "tags":
        return _tags(t, node)
    args = [t.expr(a) for a in node.args]
    kind = t.kind(node)
    if name in ("min", "max"):
        scale = max(a.scale for a in args)
        values = [cast(a.v, dec(scale)) if kind in FACT_SCALE else a.v for a in args]
        fn = e.Least if name == "min" else e.Greatest
        return Sql(strict(args, fn(this=values[0], expressions=values[1:])), merge(args, strict=True), kind, scale,
                   any(a.inexact for a in args))
    if name == "abs":
        a = args[0]
        return Sql(strict(args, e.Abs(this=a.v)), a.m, kind, a.scale, a.inexact)
    if name == "round":
        a, places = args[0], int(node.args[1].value)  # type: ignore[union-attr]
        # ROUND on DECIMAL is half away from zero in DuckDB and Spark: Python's ROUND_HALF_UP.
        value, bound = rounded(a.v, a.scale, a.bound, places)
        return Sql(strict(args, value), a.m, kind, places, bound=bound)
    if name == "size":
        return Sql(strict(args, e.ArraySize(this=args[0].v)), args[0].m, "int")
    if name == "intersect":
        both = e.ArraySort(this=e.ArrayDistinct(this=e.ArrayIntersect(expressions=[args[0].v, args[1].v])))
        return Sql(strict(args, both), merge(args, strict=True), "set")
    if name == "days_between":
        diff = e.DateDiff(this=args[1].v, expression=args[0].v, unit=e.Var(this="DAY"))
        return Sql(strict(args, diff), merge(args, strict=True), "int")
    raise Unsupported(f"函数 {name} function {name}")


def _tags(t: "Translator", node: n.Call) -> Sql:
    conds = [t.expr(a) for a in node.args[0::2]]
    labels = node.args[1::2]
    if not all(isinstance(x, n.Literal) and isinstance(x.value, str) for x in labels):
        raise Unsupported("tags 的标签须为字符串常量 tags labels must be string literals")
    pairs = sorted(zip((x.value for x in labels), conds), key=lambda p: str(p[0]))  # type: ignore[union-attr]
    items = [case((c.v, e.Literal.string(label)), default=e.Null()) for label, c in pairs]
    kept = e.ArrayFilter(this=e.Array(expressions=items),
                         expression=e.Lambda(this=e.Not(this=is_null(e.to_identifier("_x"))),
                                             expressions=[e.to_identifier("_x")]))
    distinct = len({label for label, _ in pairs}) == len(pairs)
    value = kept if distinct else e.ArraySort(this=e.ArrayDistinct(this=kept))  # labels are sorted already
    return Sql(strict(conds, value), merge(conds, strict=True), "set")


def aggregate(t: "Translator", node: n.Aggregate) -> Sql:
    if t.lambdas:
        raise Unsupported("嵌套聚合 nested aggregates")
    if node.kind == "sum":
        raise Unsupported("sum(…) 聚合 sum aggregates")
    binding = t.notes.bindings.get(id(node.collection))
    if not isinstance(binding, FactBinding):
        raise Unsupported("对计算所得列表的聚合 aggregates over a computed list")
    coll = t.expr(node.collection)
    param = f"_e{len(t.lambdas)}"
    if node.where is None:
        size = e.ArraySize(this=coll.v)
        value = {"count": size, "any": e.GT(this=size, expression=e.Literal.number(0)), "all": e.true()}[node.kind]
        return Sql(strict([coll], value), coll.m, t.kind(node))
    t.lambdas.append((node.var, param, binding.path))
    try:
        w = t.expr(node.where)
    finally:
        t.lambdas.pop()
    x, i = e.to_identifier(param), e.to_identifier(param + "_i")

    def count_where(test: e.Expression) -> e.Expression:
        return e.ArraySize(this=e.ArrayFilter(this=coll.v, expression=e.Lambda(this=test, expressions=[x])))

    trues = count_where(w.v)
    nulls = count_where(is_null(w.v)) if w.m is not None else None
    falses = count_where(e.Not(this=e.Paren(this=w.v)))
    zero = e.Literal.number(0)
    has_null = e.GT(this=nulls, expression=zero) if nulls is not None else e.false()
    is_none = is_null(coll.v)
    if node.kind == "count":
        value = case((is_none, e.Null()), (has_null, e.Null()), default=trues)
    elif node.kind == "any":
        value = case((is_none, e.Null()), (e.GT(this=trues, expression=zero), e.true()), (has_null, e.Null()),
                     default=e.false())
    else:
        value = case((is_none, e.Null()), (e.GT(this=falses, expression=zero), e.false()), (has_null, e.Null()),
                     default=e.true())
    whole = of(t.names, binding.path)
    words = tuple((wi, case((is_none, mask), default=e.Literal.number(0))) for wi, mask in whole.words)
    elems = None
    if w.m is not None:
        if w.m.words:
            raise Unsupported("聚合条件引用列表元素以外的事实 an aggregate condition reading facts outside the element")
        each = case((is_null(w.v), w.m.elems), default=empty_list())
        per_elem = e.Transform(this=coll.v, expression=e.Lambda(this=each, expressions=[x, i]))
        elems = case((is_none, e.Null()), default=e.Flatten(this=per_elem))
    return Sql(value, Miss(words, elems, whole.names), t.kind(node))
