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

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Callable

import sqlglot.expressions as e

from .. import nodes as n
from ..typer import Annotations, FactBinding, SlotBinding, VarBinding
from ..values import Duration
from .dialects import QUOTIENT_SCALE, Checked, ElemIndex, ExactDiv, cast, dec
from .missing import Miss, Names, merge, of
from .numeric import GATE_DIGITS, NARROW, TYPE_DIGITS, at_scale, digits, gate_test, number

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
    bound: int | None = None    # |value| < 10^bound in a 64-bit type (numeric.py); None: maybe DECIMAL(38, s)
    fact: str | None = None     # a numeric fact column as read (a gate can narrow its bound)


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
        return Sql(number(Decimal(value)), None, "int", bound=digits(Decimal(value)))
    if isinstance(value, (int, Decimal)):
        d = Decimal(value)
        scale = max(0, -d.as_tuple().exponent)  # type: ignore[operator]
        bound = digits(d)
        v = number(d) if scale else cast(number(d), dec(0, min(38, max(1, bound))))
        return Sql(v, None, kind, scale, bound=bound if bound + scale <= NARROW else None)
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
        return replace(sql, v=col(name), m=m, fact=None)


class Translator:
    """One rule set's expressions; a named item's value comes from `slot_sql(key)`."""

    def __init__(self, notes: Annotations, sink: Sink, slot_sql: Callable[[str], Sql], names: Names,
                 slot_constant: Callable[[str], object]) -> None:
        self.notes, self.sink, self.slot_sql, self.names = notes, sink, slot_sql, names
        self.slot_constant = slot_constant  # a parameter's constant value (None when delegated)
        self.lambdas: list[tuple[str, str, str]] = []  # (language var, lambda param, collection path)
        self.recheck: list[e.Expression] = []           # row tests that send a row to the Python engine
        self.gates: dict[str, Sql] = {}                  # fact path → its gated column (numeric.py)

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
            numeric = kind in TYPE_DIGITS
            return Sql(col(binding.path), of(self.names, binding.path), kind, FACT_SCALE.get(kind, 0),
                       bound=TYPE_DIGITS.get(kind), fact=binding.path if numeric else None)
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
        return replace(a, v=e.Neg(this=e.Paren(this=a.v)), compare=None, fact=None)

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
        from .compare import compare

        return compare(self, node)

    def _member(self, node: n.Member) -> Sql:
        x, coll = self.expr(node.element), self.expr(node.collection)
        if coll.m is None and isinstance(coll.v, e.Array):
            # x IN (…) is NULL where x is
            test: e.Expression = (e.In(this=p(x.v), expressions=coll.v.expressions) if coll.v.expressions
                                  else strict([x], e.false()))
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
            from .compare import ratio_compare

            return Sql(strict(parts, q), merge(parts, strict=True), kind, QUOTIENT_SCALE, True,
                       ratio_compare(a, b, self.gated))
        if kind == "int":
            op = {"+": e.Add, "-": e.Sub, "*": e.Mul}[node.op]
            return Sql(op(this=p(a.v), expression=p(b.v)), merge(parts, strict=True), "int")
        if node.op == "*":
            scale = a.scale + b.scale
            if scale > 30:
                raise Unsupported("乘积的小数位过多 product scale beyond DECIMAL(38, 30)")
            narrow = self._narrow_product(a, b, kind)
            if narrow is not None:
                return narrow
            value = e.Mul(this=cast(a.v, dec(a.scale)), expression=cast(b.v, dec(b.scale)))
            return Sql(cast(value, dec(scale)), merge(parts, strict=True), kind, scale, inexact)
        scale = max(a.scale, b.scale)
        op = e.Add if node.op == "+" else e.Sub
        value = op(this=cast(a.v, dec(scale)), expression=cast(b.v, dec(scale)))
        return Sql(cast(value, dec(scale)), merge(parts, strict=True), kind, scale, inexact)

    def _narrow_product(self, a: Sql, b: Sql, kind: str) -> Sql | None:
        """a·b in 64 bits (DuckDB multiplies two DECIMALs of at most 18 digits so) when it fits,
        if need be through the operands' gates."""
        def fits(x: Sql, y: Sql) -> bool:
            return x.bound is not None and y.bound is not None and x.bound + y.bound + x.scale + y.scale <= NARROW
        if not fits(a, b):
            a, b = (self.gated(x) if x.fact is not None else x for x in (a, b))
            if not fits(a, b):
                return None
        left, right = (at_scale(x.v, x.kind, x.scale, x.bound, x.scale) for x in (a, b))
        return Sql(e.Mul(this=p(left), expression=p(right)), merge([a, b], strict=True), kind, a.scale + b.scale,
                   a.inexact or b.inexact, bound=a.bound + b.bound)  # type: ignore[operator]

    def gated(self, x: Sql) -> Sql:
        """The fact x read through its gate: the value within GATE_DIGITS digits, else NULL and the row
        rechecked by the Python engine."""
        assert x.fact is not None
        found = self.gates.get(x.fact)
        if found is None:
            raw = col(x.fact)
            self.recheck.append(e.Not(this=e.Paren(this=gate_test(raw, x.kind))))
            self.sink.counter += 1
            name = f"_c{self.sink.counter}"
            self.sink.defs.append((name, Checked(this=case((gate_test(raw, x.kind), raw)), known=raw.copy())))
            found = self.gates[x.fact] = replace(x, v=col(name), bound=GATE_DIGITS[x.kind], fact=None)
        return found

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
        from .compare import if_

        return if_(self, node)

    # calls and aggregates ---------------------------------------------------------------
    def _call(self, node: n.Call) -> Sql:
        from .calls import call

        return call(self, node)

    def _aggregate(self, node: n.Aggregate) -> Sql:
        from .calls import aggregate

        return aggregate(self, node)
