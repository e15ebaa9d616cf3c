"""Typed AST → canonical SQL: every expression becomes a pair (value, missing).

`value` is NULL exactly when the Python engine's value is Unknown; SQL's AND, OR
and NOT on NULL are Kleene's, so logic needs no help. `missing` is an
ARRAY<VARCHAR> of fact paths and parameter names, meaningful only where the
value is NULL; it is built from IS NULL tests along the same rules as
runtime.py merges Unknowns (strict operations: the union over unknown operands;
`a and b`: the same, since a false operand makes the value known; `if`: the
branch taken, or condition and both branches when the condition is unknown).
Duplicates are allowed here: the output keeps a sorted, distinct list.

Nodes with sub-expressions are materialised as columns (`Sink.bind`), so each
expression's text refers to its operands once; inside a list lambda they are
written inline. What SQL cannot do raises Unsupported, and coverage.py hands
those conclusions to the Python engine.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Callable

import sqlglot.expressions as e

from .. import nodes as n
from ..typer import Annotations, FactBinding, SlotBinding, VarBinding
from ..values import Duration
from .dialects import QUOTIENT_SCALE, ElemIndex, ExactDiv, cast, dec
from .missing import Miss, Names, choose, merge, of

FACT_SCALE = {"money": 4, "decimal": 6, "rate": 6}
MAX_DURATION_MONTHS = 1200  # longer constant durations are left to Python (date range)


INLINE_NODES = 16  # expressions up to this many SQL nodes are written inline, larger ones get a column


def _size(x: e.Expression) -> int:
    count = 0
    for _ in x.walk():
        count += 1
        if count > INLINE_NODES:
            break
    return count


class Unsupported(Exception):
    """A construct with no SQL form here; the message says which, for --coverage."""


@dataclass(frozen=True)
class Sql:
    v: e.Expression
    m: "Miss | None"            # what it misses when NULL; None: never unknown
    kind: str                   # the language's type kind
    scale: int = 0              # DECIMAL scale of numeric values (0 for int)
    inexact: bool = False       # carries a quotient rounded to QUOTIENT_SCALE places
    # (op, other) → `value op other` spelt without the value (a quotient: by cross-multiplying)
    compare: "Callable[[str, Sql], e.Expression | None] | None" = field(default=None, compare=False)


def empty_list() -> e.Expression:
    return cast(e.Array(expressions=[]), "ARRAY<VARCHAR>")


def str_list(*names: str) -> e.Expression:
    return e.Array(expressions=[e.Literal.string(x) for x in names])


_OPERATORS = (e.Binary, e.Not, e.Neg, e.In, e.Between)


def p(x: e.Expression) -> e.Expression:
    """x as an operand: sqlglot writes the tree as built, so precedence is ours to keep."""
    return e.Paren(this=x) if isinstance(x, _OPERATORS) else x


def is_null(x: e.Expression) -> e.Expression:
    return e.Is(this=p(x), expression=e.Null())


def case(*whens: tuple[e.Expression, e.Expression], default: e.Expression | None = None) -> e.Expression:
    return e.Case(ifs=[e.If(this=c, true=t) for c, t in whens], default=default)


def col(name: str) -> e.Column:
    return e.Column(this=e.to_identifier(name, quoted=True))


def any_null(parts: list[Sql]) -> e.Expression | None:
    tests = [is_null(p.v) for p in parts if p.m is not None]
    if not tests:
        return None
    out = tests[0]
    for t in tests[1:]:
        out = e.Or(this=out, expression=t)
    return out


def strict(parts: list[Sql], value: e.Expression) -> e.Expression:
    """NULL if an operand is NULL (SQL functions disagree on that, so say it)."""
    test = any_null(parts)
    return value if test is None else case((test, e.Null()), default=value)


def literal(value: object, kind: str) -> Sql:
    if isinstance(value, bool):
        return Sql(e.Boolean(this=value), None, "bool")
    if kind == "int" and isinstance(value, int):
        return Sql(e.Literal.number(value), None, "int")
    if isinstance(value, (int, Decimal)):
        d = Decimal(value)
        scale = max(0, -d.as_tuple().exponent)  # type: ignore[operator]
        return Sql(cast(e.Literal.string(format(d, "f")), dec(scale)), None, kind, scale)
    if isinstance(value, date):
        return Sql(cast(e.Literal.string(value.isoformat()), "DATE"), None, "date")
    if isinstance(value, str):
        return Sql(e.Literal.string(value), None, kind)
    if isinstance(value, (frozenset, tuple, list)):
        items = sorted(value, key=str) if isinstance(value, frozenset) else list(value)
        if not all(isinstance(i, str) for i in items):
            raise Unsupported("非字符串集合常量 a constant collection of non-strings")
        return Sql(str_list(*items) if items else empty_list(), None, "set")
    if isinstance(value, Duration):
        return Sql(e.Literal.string(str(value)), None, "duration")
    raise Unsupported(f"常量 {value!r}")


OPERATORS = {"==": e.EQ, "!=": e.NEQ, "<": e.LT, "<=": e.LTE, ">": e.GT, ">=": e.GTE}
FLIPPED = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
NUMERIC = ("int", *FACT_SCALE)


def plain_compare(op: str, a: Sql, b: Sql) -> e.Expression:
    left, right = a.v, b.v
    if {a.kind, b.kind} & set(FACT_SCALE):
        # one DECIMAL type on both sides: engines that widen DECIMAL(38, x) vs DECIMAL(38, y)
        # on their own may round the finer side (Spark) before comparing
        scale = max(a.scale, b.scale)
        left, right = cast(left, dec(scale)), cast(right, dec(scale))
    return OPERATORS[op](this=p(left), expression=p(right))


def _ratio_compare(a: Sql, b: Sql) -> Callable[[str, Sql], e.Expression | None]:
    """`a / b op r` as `a op r·b` (b > 0) or `r·b op a` (b < 0): exact, and no quotient to build.
    NULL where a, b or r is, and where b = 0 (those rows are rechecked by the Python engine)."""
    def build(op: str, r: Sql) -> e.Expression | None:
        if r.kind not in NUMERIC or r.compare is not None or r.scale + b.scale > 30:
            return None
        scale = max(a.scale, r.scale + b.scale)
        rb = cast(e.Mul(this=cast(r.v, dec(r.scale)), expression=cast(b.v, dec(b.scale))), dec(scale))
        num = cast(a.v, dec(scale))
        zero = e.Literal.number(0)
        return case((e.GT(this=p(b.v), expression=zero), OPERATORS[op](this=p(num), expression=p(rb))),
                    (e.LT(this=p(b.v), expression=zero), OPERATORS[op](this=p(rb), expression=p(num))))
    return build


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
        return case((c.v, first), (e.Not(this=e.Paren(this=c.v)), second), (agree, first))
    return build


@dataclass
class Sink:
    """Columns to compute, in dependency order: (name, expression)."""

    defs: list[tuple[str, e.Expression]] = field(default_factory=list)
    counter: int = 0

    def bind(self, sql: Sql) -> Sql:
        self.counter += 1
        name = f"_c{self.counter}"
        self.defs.append((name, sql.v))
        m = None
        if sql.m is not None:
            words = []
            for w, x in sql.m.words:
                self.defs.append((f"{name}m{w}", x))
                words.append((w, col(f"{name}m{w}")))
            elems = None
            if sql.m.elems is not None:  # NULL where the value is known: no list is built for those rows
                self.defs.append((name + "e", case((is_null(col(name)), sql.m.elems))))
                elems = col(name + "e")
            m = Miss(tuple(words), elems, sql.m.names, sql.m.exact)
        return Sql(col(name), m, sql.kind, sql.scale, sql.inexact, sql.compare)


class Translator:
    """One rule set's expressions; a named item's value comes from `slot_sql(key)`."""

    def __init__(self, notes: Annotations, sink: Sink, slot_sql: Callable[[str], Sql], names: Names,
                 slot_constant: Callable[[str], object]) -> None:
        self.notes, self.sink, self.slot_sql, self.names = notes, sink, slot_sql, names
        self.slot_constant = slot_constant  # a parameter's constant value (None when delegated)
        self.lambdas: list[tuple[str, str, str]] = []  # (language var, lambda param, collection path)
        self.recheck: list[e.Expression] = []           # row tests that send a row to the Python engine

    def kind(self, node: n.Expr) -> str:
        return self.notes.type_of(node).kind

    def expr(self, node: n.Expr) -> Sql:
        sql = getattr(self, "_" + type(node).__name__.lower())(node)
        return sql if self.lambdas else self.settle(sql)

    def settle(self, sql: Sql) -> Sql:
        """A column for a large expression; a small one is repeated where it is used."""
        size = _size(sql.v) + sum(_size(x) for _, x in sql.m.words) if sql.m is not None else _size(sql.v)
        if size <= INLINE_NODES and (sql.m is None or sql.m.elems is None or isinstance(sql.m.elems, e.Column)):
            return sql
        return self.sink.bind(sql)

    # leaves -----------------------------------------------------------------------
    def _literal(self, node: n.Literal) -> Sql:
        return literal(node.value, node.type.kind)

    def _collection(self, node: n.Collection) -> Sql:
        if all(isinstance(i, n.Literal) for i in node.items):
            values = [i.value for i in node.items]  # type: ignore[union-attr]
            return literal(frozenset(values) if node.kind == "set" else tuple(values), "set")
        items = [self.expr(i) for i in node.items]
        if any(i.kind not in ("string", "enum") for i in items):
            raise Unsupported("非字符串集合 a collection of non-strings")
        arr: e.Expression = e.Array(expressions=[i.v for i in items])
        if node.kind == "set":
            arr = e.ArraySort(this=e.ArrayDistinct(this=arr))
        return Sql(strict(items, arr), merge(items, strict=True), "set")

    def _ref(self, node: n.Ref) -> Sql:
        binding = self.notes.bindings[id(node)]
        if isinstance(binding, FactBinding):
            kind = binding.type.kind
            return Sql(col(binding.path), of(self.names, binding.path), kind, FACT_SCALE.get(kind, 0))
        if isinstance(binding, SlotBinding):
            return self.slot_sql(binding.key)
        assert isinstance(binding, VarBinding)
        var = next((v for v in reversed(self.lambdas) if v[0] == binding.var), None)
        if var is None or len(binding.fields) != 1:
            raise Unsupported("记录字段 record fields outside one list aggregate")
        _, param, path = var
        name = binding.fields[0]
        ftype = binding.type
        where = e.DPipe(this=e.DPipe(this=e.Literal.string(f"{path}["),
                                     expression=cast(ElemIndex(this=e.to_identifier(param + "_i")), "VARCHAR")),
                        expression=e.Literal.string(f"].{name}"))
        value = e.Dot(this=e.to_identifier(param), expression=e.to_identifier(name))
        return Sql(value, Miss((), e.Array(expressions=[where])), ftype.kind, FACT_SCALE.get(ftype.kind, 0))

    # operators --------------------------------------------------------------------
    def _neg(self, node: n.Neg) -> Sql:
        a = self.expr(node.operand)
        return Sql(e.Neg(this=e.Paren(this=a.v)), a.m, a.kind, a.scale, a.inexact)

    def _not(self, node: n.Not) -> Sql:
        a = self.expr(node.operand)
        return Sql(e.Not(this=e.Paren(this=a.v)), a.m, "bool")

    def _and(self, node: n.And) -> Sql:
        a, b = self.expr(node.left), self.expr(node.right)
        return Sql(e.And(this=e.Paren(this=a.v), expression=e.Paren(this=b.v)), merge([a, b]), "bool")

    def _or(self, node: n.Or) -> Sql:
        a, b = self.expr(node.left), self.expr(node.right)
        return Sql(e.Or(this=e.Paren(this=a.v), expression=e.Paren(this=b.v)), merge([a, b]), "bool")

    def _compare(self, node: n.Compare) -> Sql:
        a, b = self.expr(node.left), self.expr(node.right)
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

    def _member(self, node: n.Member) -> Sql:
        x, coll = self.expr(node.element), self.expr(node.collection)
        if coll.m is None and isinstance(coll.v, e.Array):
            test: e.Expression = e.In(this=p(x.v), expressions=coll.v.expressions) if coll.v.expressions else e.false()
            test = strict([x], test)
        else:
            test = strict([x, coll], e.ArrayContains(this=coll.v, expression=x.v))
        if node.negated:
            test = e.Not(this=e.Paren(this=test))
        return Sql(test, merge([x, coll], strict=True), "bool")

    def _arith(self, node: n.Arith) -> Sql:
        a, b = self.expr(node.left), self.expr(node.right)
        kind = self.kind(node)
        parts = [a, b]
        if a.kind == "date" or b.kind == "date":
            return self._date_arith(node, a, b)
        if kind == "set":
            union = e.ArraySort(this=e.ArrayDistinct(this=e.ArrayConcat(this=a.v, expressions=[b.v])))
            return Sql(strict(parts, union), merge(parts, strict=True), "set")
        inexact = a.inexact or b.inexact
        if node.op == "/":
            if self.lambdas:
                raise Unsupported("列表聚合中的除法 division inside a list aggregate")
            self.recheck.append(e.EQ(this=p(b.v), expression=e.Literal.number(0)))
            safe_den = case((e.EQ(this=p(b.v), expression=e.Literal.number(0)), e.Null()), default=b.v)
            q = ExactDiv(this=a.v, expression=safe_den, num_scale=a.scale, den_scale=b.scale)
            return Sql(strict(parts, q), merge(parts, strict=True), kind, QUOTIENT_SCALE, True, _ratio_compare(a, b))
        if kind == "int":
            op = {"+": e.Add, "-": e.Sub, "*": e.Mul}[node.op]
            return Sql(op(this=p(a.v), expression=p(b.v)), merge(parts, strict=True), "int")
        if node.op == "*":
            scale = a.scale + b.scale
            if scale > 30:
                raise Unsupported("乘积的小数位过多 product scale beyond DECIMAL(38, 30)")
            value = e.Mul(this=cast(a.v, dec(a.scale)), expression=cast(b.v, dec(b.scale)))
            return Sql(cast(value, dec(scale)), merge(parts, strict=True), kind, scale, inexact)
        scale = max(a.scale, b.scale)
        op = e.Add if node.op == "+" else e.Sub
        value = op(this=cast(a.v, dec(scale)), expression=cast(b.v, dec(scale)))
        return Sql(cast(value, dec(scale)), merge(parts, strict=True), kind, scale, inexact)

    def _date_arith(self, node: n.Arith, a: Sql, b: Sql) -> Sql:
        d, dur = (a, b) if a.kind == "date" else (b, a)
        duration = self._constant_duration(node.left if a.kind == "duration" else node.right)
        parts = [d, dur]
        if duration is None:  # a delegated duration: unknown, as in Python
            return Sql(e.Null(), merge(parts, strict=True), "date")
        sign = 1 if node.op == "+" else -1
        amount = sign * duration.amount
        if duration.unit == "day":
            shifted: e.Expression = e.DateAdd(this=d.v, expression=e.Literal.number(amount), unit=e.Var(this="DAY"))
        else:
            months = amount * (12 if duration.unit == "year" else 1)
            if abs(months) > MAX_DURATION_MONTHS:
                raise Unsupported("超过100年的期间 a duration over 100 years")
            shifted = e.AddMonths(this=d.v, expression=e.Literal.number(months))
        return Sql(cast(shifted, "DATE"), merge(parts, strict=True), "date")

    def _constant_duration(self, node: n.Expr) -> Duration | None:
        if isinstance(node, n.Literal) and isinstance(node.value, Duration):
            return node.value
        binding = self.notes.bindings.get(id(node))
        if isinstance(node, n.Ref) and isinstance(binding, SlotBinding):
            value = self.slot_constant(binding.key)
            if isinstance(value, Duration) or value is None:
                return value
        raise Unsupported("非常量期间 a duration that is not a constant")

    def _if(self, node: n.If) -> Sql:
        c, x, y = self.expr(node.cond), self.expr(node.then), self.expr(node.orelse)
        kind = self.kind(node)
        scale = max(x.scale, y.scale)
        xv, yv = x.v, y.v
        if kind in FACT_SCALE:  # one DECIMAL type for both branches (an int branch would widen it)
            xv, yv = cast(xv, dec(scale)), cast(yv, dec(scale))
        agree = e.EQ(this=p(xv), expression=p(yv))
        value = case((c.v, xv), (e.Not(this=e.Paren(this=c.v)), yv),
                     (agree, xv))
        missing = None
        if c.m is not None or x.m is not None or y.m is not None:
            missing = choose([(c.v, x.m), (e.Not(this=e.Paren(this=c.v)), y.m)], merge([c, x, y]))
        return Sql(value, missing, kind, scale, x.inexact or y.inexact, _if_compare(c, x, y))

    # calls and aggregates ---------------------------------------------------------------
    def _call(self, node: n.Call) -> Sql:
        from .calls import call

        return call(self, node)

    def _aggregate(self, node: n.Aggregate) -> Sql:
        from .calls import aggregate

        return aggregate(self, node)
