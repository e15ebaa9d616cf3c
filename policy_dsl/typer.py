"""Name resolution and static types of one expression.

The typer walks an AST, asks a Scope what each dotted name denotes, and
records a Binding for every Ref and a Type for every node. Type errors are
raised with the span of the offending node; the checker collects them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from . import nodes as n
from . import types as T
from .errors import PolicyNameError, PolicyTypeError, did_you_mean
from .functions import BUILTINS


@dataclass(frozen=True)
class FactBinding:
    path: str
    type: T.Type


@dataclass(frozen=True)
class SlotBinding:
    """A named item of a clause: parameter, definition, condition or conclusion."""

    key: str  # "clause_id.name"
    type: T.Type


@dataclass(frozen=True)
class VarBinding:
    var: str
    fields: tuple[str, ...]
    type: T.Type


Binding = FactBinding | SlotBinding | VarBinding


class Scope(Protocol):
    def resolve(self, ref: n.Ref) -> Binding: ...


@dataclass
class Annotations:
    """What the typer learnt: keyed by id(node), since equal nodes may sit in different scopes."""

    types: dict[int, T.Type] = field(default_factory=dict)
    bindings: dict[int, Binding] = field(default_factory=dict)

    def type_of(self, node: n.Expr) -> T.Type:
        return self.types[id(node)]


class Typer:
    def __init__(self, scope: Scope, notes: Annotations) -> None:
        self.scope = scope
        self.notes = notes
        self.vars: list[tuple[str, T.Type]] = []

    def infer(self, node: n.Expr) -> T.Type:
        method = getattr(self, "_" + type(node).__name__.lower())
        result: T.Type = method(node)
        self.notes.types[id(node)] = result
        return result

    # leaves -------------------------------------------------------------
    def _literal(self, node: n.Literal) -> T.Type:
        return node.type

    def _ref(self, node: n.Ref) -> T.Type:
        for var, vtype in reversed(self.vars):
            if node.parts[0] == var:
                binding = VarBinding(var, node.parts[1:], self._field_type(vtype, node))
                break
        else:
            binding = self.scope.resolve(node)
        self.notes.bindings[id(node)] = binding
        return binding.type

    def _field_type(self, vtype: T.Type, node: n.Ref) -> T.Type:
        current = vtype
        for name in node.parts[1:]:
            if current.kind != "record" or current.field(name) is None:
                names = [f for f, _ in current.fields]
                raise PolicyNameError(f"{'.'.join(node.parts[:1])} 没有字段 {name!r} unknown field", node.span,
                                      found=name, expected=", ".join(names) or "（无字段）", hint=did_you_mean(name, names))
            current = current.field(name)  # type: ignore[assignment]
        return current

    # operators ------------------------------------------------------------
    def _neg(self, node: n.Neg) -> T.Type:
        t = self.infer(node.operand)
        if t.kind in T.NUMERIC or t.kind in ("money", "any"):
            return t
        raise PolicyTypeError("负号只能用于数字或金额 unary minus needs a number", node.span, found=str(t), expected="number or money")

    def _not(self, node: n.Not) -> T.Type:
        self._expect_bool(node.operand, "not")
        return T.BOOL

    def _and(self, node: n.And) -> T.Type:
        self._expect_bool(node.left, "and")
        self._expect_bool(node.right, "and")
        return T.BOOL

    _or = _and

    def _expect_bool(self, node: n.Expr, where: str) -> None:
        t = self.infer(node)
        if t.kind not in ("bool", "any"):
            raise PolicyTypeError(f"{where} 的运算对象必须是布尔值（是/否） operand of {where} must be bool", node.span,
                                  found=str(t), expected="bool")

    def _arith(self, node: n.Arith) -> T.Type:
        lt, rt = self.infer(node.left), self.infer(node.right)
        result = _arith_type(node.op, lt, rt)
        if result is None:
            raise PolicyTypeError(f"不能对 {lt} 和 {rt} 做 {node.op} 运算 cannot apply {node.op}", node.span,
                                  found=f"{lt} {node.op} {rt}", expected=_ARITH_EXPECTED[node.op])
        return result

    def _compare(self, node: n.Compare) -> T.Type:
        lt, rt = self.infer(node.left), self.infer(node.right)
        self._check_enum_literal(node.left, lt, node.right)
        self._check_enum_literal(node.right, rt, node.left)
        if not _comparable(node.op, lt, rt):
            raise PolicyTypeError(f"不能比较 {lt} 和 {rt} cannot compare", node.span, found=f"{lt} {node.op} {rt}",
                                  expected="同类的值：数字与数字、金额与金额、日期与日期、文字与文字")
        return T.BOOL

    def _member(self, node: n.Member) -> T.Type:
        et, ct = self.infer(node.element), self.infer(node.collection)
        if ct.kind not in ("set", "list"):
            raise PolicyTypeError("in 的右边必须是集合或列表 right of `in` must be a set or list", node.collection.span,
                                  found=str(ct), expected="set or list")
        elem = ct.elem or T.ANY
        if isinstance(node.collection, n.Collection):
            for item in node.collection.items:
                self._check_enum_literal(node.element, et, item)
        if isinstance(node.element, n.Literal):
            self._check_enum_literal(node.collection, elem, node.element)
        if not (elem.kind == "any" or _comparable("==", et, elem)):
            raise PolicyTypeError(f"{et} 不可能属于 {ct} element type does not match", node.span,
                                  found=f"{et} in {ct}", expected=f"{elem} in {ct}")
        return T.BOOL

    def _check_enum_literal(self, typed: n.Expr, t: T.Type, other: n.Expr) -> None:
        if t.kind == "enum" and t.values and isinstance(other, n.Literal) and other.type.kind == "string":
            if other.value not in t.values:
                raise PolicyTypeError(f"{other.value!r} 不是可选值 not a value of this enum", other.span,
                                      found=repr(other.value), expected=", ".join(t.values),
                                      hint=did_you_mean(str(other.value), t.values))

    def _if(self, node: n.If) -> T.Type:
        ct = self.infer(node.cond)
        if ct.kind not in ("bool", "any"):
            raise PolicyTypeError("if 的条件必须是布尔值 condition of `if` must be bool", node.cond.span,
                                  found=str(ct), expected="bool")
        a, b = self.infer(node.then), self.infer(node.orelse)
        result = unify(a, b)
        if result is None:
            raise PolicyTypeError("then 和 else 两支的类型不一致 branches differ in type", node.span,
                                  found=f"then {a}, else {b}", expected="两支同类 the same type in both branches")
        return result

    def _call(self, node: n.Call) -> T.Type:
        builtin = BUILTINS.get(node.name)
        if builtin is None:
            raise PolicyNameError(f"未知的函数 {node.name!r} unknown function", node.span, found=node.name,
                                  expected=", ".join(sorted(BUILTINS)), hint=did_you_mean(node.name, BUILTINS))
        arg_types = [self.infer(a) for a in node.args]
        if any(t.kind == "any" for t in arg_types):  # already reported elsewhere
            return T.ANY
        return builtin.check(arg_types, node.span, node.args)

    def _aggregate(self, node: n.Aggregate) -> T.Type:
        ct = self.infer(node.collection)
        if ct.kind not in ("set", "list"):
            raise PolicyTypeError(f"{node.kind} 需要集合或列表 {node.kind} needs a set or list", node.collection.span,
                                  found=str(ct), expected="set or list")
        self.vars.append((node.var, ct.elem or T.ANY))
        try:
            if node.where is not None:
                self._expect_bool(node.where, "where")
            if node.kind == "sum":
                vt = self.infer(node.value)  # type: ignore[arg-type]
                if vt.kind not in T.NUMERIC + ("money",):
                    raise PolicyTypeError("sum 只能累加数字或金额 sum needs numbers or money", node.value.span,  # type: ignore[union-attr]
                                          found=str(vt), expected="number or money")
                return vt
        finally:
            self.vars.pop()
        return T.INT if node.kind == "count" else T.BOOL

    def _collection(self, node: n.Collection) -> T.Type:
        elem: T.Type = T.ANY
        for item in node.items:
            t = self.infer(item)
            joined = unify(elem, t)
            if joined is None:
                raise PolicyTypeError("集合中的元素类型不一致 mixed element types", item.span, found=str(t), expected=str(elem))
            elem = joined
        return T.Type(node.kind, elem=elem)


_ARITH_EXPECTED = {
    "+": "数字+数字、金额+金额、日期+期间、集合+集合",
    "-": "数字-数字、金额-金额、日期-期间",
    "*": "数字*数字、金额*数字（含比例）",
    "/": "数字/数字、金额/数字、金额/金额",
}


def _arith_type(op: str, a: T.Type, b: T.Type) -> T.Type | None:
    ka, kb = a.kind, b.kind
    if "any" in (ka, kb):  # an operand already reported (e.g. in a cycle): no follow-on error
        return T.ANY
    if ka in T.NUMERIC and kb in T.NUMERIC:
        if op == "/":
            return T.DECIMAL
        if ka == kb:
            return a
        return T.DECIMAL
    if op in "+-":
        if ka == kb == "money":
            return T.MONEY
        if ka == "date" and kb == "duration":
            return T.DATE
        if op == "+" and ka == "duration" and kb == "date":
            return T.DATE
        if op == "+" and ka == kb == "set":
            return unify(a, b)
        return None
    if op == "*":
        if ka == "money" and kb in T.NUMERIC or kb == "money" and ka in T.NUMERIC:
            return T.MONEY
        return None
    if op == "/":
        if ka == "money" and kb in T.NUMERIC:
            return T.MONEY
        if ka == kb == "money":
            return T.DECIMAL
    return None


def _comparable(op: str, a: T.Type, b: T.Type) -> bool:
    ka, kb = a.kind, b.kind
    if ka == "any" or kb == "any":
        return True
    num = set(T.NUMERIC)
    if ka in num and kb in num:
        return True
    if {ka, kb} <= {"money"} | num and "money" in (ka, kb):
        return True
    if ka in ("string", "enum") and kb in ("string", "enum"):
        return True
    if ka == kb and ka in ("date",):
        return True
    if op in ("==", "!=") and ka == kb and ka in ("bool", "duration", "set", "list"):
        return True
    return False


def unify(a: T.Type, b: T.Type) -> T.Type | None:
    """The type both branches (or both set items) can be viewed as, or None."""
    if a == b or b.kind == "any":
        return a
    if a.kind == "any":
        return b
    ka, kb = a.kind, b.kind
    if ka in T.NUMERIC and kb in T.NUMERIC:
        return T.DECIMAL
    if {ka, kb} == {"money", "int"}:
        return T.MONEY
    if ka in ("string", "enum") and kb in ("string", "enum"):
        return a if ka == "enum" else b
    if ka == kb and ka in ("set", "list"):
        elem = unify(a.elem or T.ANY, b.elem or T.ANY)
        return T.Type(ka, elem=elem) if elem is not None else None
    return None
