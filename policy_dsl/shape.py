"""Shape limits that the parser alone cannot see: how items depend on each other
(syntactically, before any typing) and how deeply the compiled code would nest.

Everything here is iterative, so a rule set of any shape is measured without
Python recursion; the checker reports what exceeds a limit, with its position,
and later stages (typing, compilation, explanations) only see shapes they handle.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import nodes as n
from .model import Clause, RuleSet
from .source import Span

# The compiled function is Python: at most 100 levels of indentation and 20 nested loops.
# Each conditional branch, right side of and/or, or aggregate body is one more level.
MAX_BLOCK_DEPTH = 60
MAX_AGGREGATE_NESTING = 8
# Definitions referring to definitions: the deepest chain, counted in explanation-tree levels
# (each operation on the way adds one); explanations, JSON and prose walk that tree.
MAX_TRACE_DEPTH = 250


@dataclass(frozen=True)
class Ref:
    key: str      # "clause.name" the reference denotes
    span: Span | None
    depth: int    # operations between the item's root and the reference


def item_roots(clause: Clause, name: str) -> list[n.Expr]:
    """The expressions an item's value is computed from: its own and its exceptions'."""
    item = clause.items()[name]
    roots = [item.expr] if hasattr(item, "expr") else []
    for rule in clause.exceptions:
        if rule.conclusion == name:
            roots += [rule.when, rule.value]
    return roots


def syntactic_refs(rs: RuleSet, clause: Clause, roots: list[n.Expr], subjects: frozenset[str]) -> list[Ref]:
    """Which items the expressions name, without typing them (aggregate variables are skipped)."""
    out: list[Ref] = []
    items = clause.items()
    stack: list[tuple[n.Expr, frozenset[str], int]] = [(r, frozenset(), 0) for r in roots]
    while stack:
        node, bound, depth = stack.pop()
        if isinstance(node, n.Ref):
            head = node.parts[0]
            if head in bound or head in subjects:
                continue
            if len(node.parts) == 1 and head in items:
                out.append(Ref(f"{clause.id}.{head}", node.span, depth))
            elif len(node.parts) == 2 and head in rs.clauses and node.parts[1] in rs.clauses[head].items():
                out.append(Ref(f"{head}.{node.parts[1]}", node.span, depth))
            continue
        if isinstance(node, n.Aggregate):
            inner = bound | {node.var}
            stack.append((node.collection, bound, depth + 1))
            for part in (node.where, node.value):
                if part is not None:
                    stack.append((part, inner, depth + 1))
            continue
        stack.extend((c, bound, depth + 1) for c in n.children(node))
    return out


def block_problem(root: n.Expr) -> tuple[str, Span | None] | None:
    """Where an expression would nest the generated code past the limits, or None."""
    stack: list[tuple[n.Expr, int, int]] = [(root, 1, 0)]
    while stack:
        node, blocks, loops = stack.pop()
        if blocks > MAX_BLOCK_DEPTH:
            return (f"条件、and/or 或聚合嵌套过深：超过 {MAX_BLOCK_DEPTH} 层 nested more than {MAX_BLOCK_DEPTH} levels",
                    node.span)
        if loops > MAX_AGGREGATE_NESTING:
            return (f"聚合（count/any/all/sum）嵌套过深：超过 {MAX_AGGREGATE_NESTING} 层 aggregates nested more than "
                    f"{MAX_AGGREGATE_NESTING} levels", node.span)
        if isinstance(node, n.If):
            stack += [(node.cond, blocks, loops), (node.then, blocks + 1, loops), (node.orelse, blocks + 1, loops)]
        elif isinstance(node, (n.And, n.Or)):
            stack += [(node.left, blocks, loops), (node.right, blocks + 1, loops)]
        elif isinstance(node, n.Aggregate):
            stack.append((node.collection, blocks, loops))
            stack += [(p, blocks + 3, loops + 1) for p in (node.where, node.value) if p is not None]
        else:
            stack.extend((c, blocks, loops) for c in n.children(node))
    return None


def find_cycle(order: list[str], deps: dict[str, list[Ref]]) -> list[tuple[list[str], Span | None]]:
    """Every cycle met by a depth-first walk in declaration order: (keys from the first back to
    itself, the span of the reference that closes it). Iterative: any length is fine."""
    state: dict[str, int] = {}
    found: list[tuple[list[str], Span | None]] = []
    for start in order:
        if state.get(start):
            continue
        path: list[str] = [start]
        state[start] = 1
        iters = [iter(deps.get(start, ()))]
        while iters:
            ref = next(iters[-1], None)
            if ref is None:
                state[path.pop()] = 2
                iters.pop()
                continue
            if state.get(ref.key) == 1:
                found.append((path[path.index(ref.key):] + [ref.key], ref.span))
            elif not state.get(ref.key):
                state[ref.key] = 1
                path.append(ref.key)
                iters.append(iter(deps.get(ref.key, ())))
    return found


def trace_depths(order: list[str], deps: dict[str, list[Ref]]) -> dict[str, int]:
    """Explanation-tree depth of each item, given `order` with dependencies first."""
    depth: dict[str, int] = {}
    for key in order:
        depth[key] = 1 + max((r.depth + depth.get(r.key, 1) for r in deps.get(key, ())), default=0)
    return depth
