"""AST → canonical expression text (explanations, diffs, round-trip tests)."""
from __future__ import annotations

from . import nodes as n

# Binding strength, higher binds tighter (mirrors grammar/policy.lark).
_LEVEL = {n.If: 1, n.Or: 2, n.And: 3, n.Not: 4, n.Compare: 5, n.Member: 5}
_ARITH = {"+": 6, "-": 6, "*": 7, "/": 7}


def level(node: n.Expr) -> int:
    if isinstance(node, n.Arith):
        return _ARITH[node.op]
    if isinstance(node, n.Neg):
        return 8
    return _LEVEL.get(type(node), 9)


def unparse(node: n.Expr) -> str:
    return _text(node)


def _wrap(node: n.Expr, parent: int, right: bool = False) -> str:
    text = _text(node)
    inner = level(node)
    if inner < parent or (right and inner == parent and parent >= 2):  # left-associative: a right operand at the same level keeps its parentheses
        return f"({text})"
    return text


def _text(node: n.Expr) -> str:
    if isinstance(node, n.Literal):
        return node.text or repr(node.value)
    if isinstance(node, n.Ref):
        return node.dotted
    if isinstance(node, n.Neg):
        return "-" + _wrap(node.operand, 8)
    if isinstance(node, n.Not):
        return "not " + _wrap(node.operand, 4)
    if isinstance(node, (n.Arith, n.Compare)):
        lvl = level(node)
        return f"{_wrap(node.left, lvl)} {node.op} {_wrap(node.right, lvl, right=True)}"
    if isinstance(node, n.Member):
        op = "not in" if node.negated else "in"
        return f"{_wrap(node.element, 6)} {op} {_wrap(node.collection, 6)}"
    if isinstance(node, n.And):
        return f"{_wrap(node.left, 3)} and {_wrap(node.right, 3, right=True)}"
    if isinstance(node, n.Or):
        return f"{_wrap(node.left, 2)} or {_wrap(node.right, 2, right=True)}"
    if isinstance(node, n.If):
        return f"if {_text(node.cond)} then {_text(node.then)} else {_text(node.orelse)}"
    if isinstance(node, n.Call):
        return f"{node.name}({', '.join(_text(a) for a in node.args)})"
    if isinstance(node, n.Aggregate):
        where = f" where {_text(node.where)}" if node.where is not None else ""
        if node.kind == "sum":
            return f"sum({_text(node.value)} for {node.var} in {_text(node.collection)}{where})"  # type: ignore[arg-type]
        return f"{node.kind}({node.var} in {_text(node.collection)}{where})"
    if isinstance(node, n.Collection):
        inner = ", ".join(_text(i) for i in node.items)
        return "{" + inner + "}" if node.kind == "set" else "[" + inner + "]"
    raise TypeError(type(node).__name__)
