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


def unparse(node: n.Expr, readable: bool = False) -> str:
    """Canonical text. `readable` (policy fmt) also keeps parentheses around `and` inside `or`
    and around an `if` in a `then` branch, which policy staff read more easily."""
    return _Unparser(readable).text(node)


class _Unparser:
    def __init__(self, readable: bool) -> None:
        self.readable = readable

    def wrap(self, node: n.Expr, parent: int, right: bool = False, keep: bool = False) -> str:
        text = self.text(node)
        inner = level(node)
        # left-associative: a right operand at the same level keeps its parentheses (a and (b and c))
        if (keep and self.readable) or inner < parent or (right and inner == parent and parent >= 2):
            return f"({text})"
        return text

    def text(self, node: n.Expr) -> str:
        wrap, text = self.wrap, self.text
        if isinstance(node, n.Literal):
            return node.text or repr(node.value)
        if isinstance(node, n.Ref):
            return node.dotted
        if isinstance(node, n.Neg):
            return "-" + wrap(node.operand, 8)
        if isinstance(node, n.Not):
            return "not " + wrap(node.operand, 4)
        if isinstance(node, (n.Arith, n.Compare)):
            lvl = level(node)
            return f"{wrap(node.left, lvl)} {node.op} {wrap(node.right, lvl, right=True)}"
        if isinstance(node, n.Member):
            op = "not in" if node.negated else "in"
            return f"{wrap(node.element, 6)} {op} {wrap(node.collection, 6)}"
        if isinstance(node, n.And):
            return f"{wrap(node.left, 3)} and {wrap(node.right, 3, right=True)}"
        if isinstance(node, n.Or):
            return (f"{wrap(node.left, 2, keep=isinstance(node.left, n.And))} or "
                    f"{wrap(node.right, 2, right=True, keep=isinstance(node.right, n.And))}")
        if isinstance(node, n.If):
            then = text(node.then)
            if self.readable and isinstance(node.then, n.If):
                then = f"({then})"
            return f"if {text(node.cond)} then {then} else {text(node.orelse)}"  # `else if` chains read as written
        if isinstance(node, n.Call):
            return f"{node.name}({', '.join(text(a) for a in node.args)})"
        if isinstance(node, n.Aggregate):
            where = f" where {text(node.where)}" if node.where is not None else ""
            if node.kind == "sum":
                return f"sum({text(node.value)} for {node.var} in {text(node.collection)}{where})"  # type: ignore[arg-type]
            return f"{node.kind}({node.var} in {text(node.collection)}{where})"
        if isinstance(node, n.Collection):
            inner = ", ".join(text(i) for i in node.items)
            return "{" + inner + "}" if node.kind == "set" else "[" + inner + "]"
        raise TypeError(type(node).__name__)
