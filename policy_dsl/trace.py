"""The explanation trace as data: for each conclusion, the tree of named items
and sub-expressions that decided it, each with its value, its citation and
what it read.

Evaluation records only `node id → value` (compiler, trace=True); this module
turns that record into TraceNode trees afterwards, so tracing stays cheap and
rendering (explain.py) stays separate.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import nodes as n
from .periods.history import history_choice
from .model import Citation, Named, Parameter
from .typer import FactBinding, SlotBinding
from .unparse import unparse
from .values import Unknown

if TYPE_CHECKING:
    from .engine import Decision, RuleEngine

NOT_EVALUATED = object()


@dataclass
class TraceNode:
    kind: str                       # conclusion condition definition parameter fact expr exception
    label: str                      # a name, a fact path or the expression text
    value: object                   # the value, or NOT_EVALUATED
    expr: str | None = None         # the expression text of a named item
    clause: str | None = None
    citation: Citation | None = None
    note: str | None = None
    quote: str | None = None        # the original sentence a condition reads
    zh: str | None = None           # Chinese label of a fact
    delegated: str | None = None    # reason, for a delegated parameter left open
    overridden_by: str | None = None  # the set that changed this item (variants)
    op: str | None = None           # for comparisons: the operator
    value_type: str | None = None
    value_label: str | None = None  # a fact's enum value in words: 企业（enterprise）
    raw_value: object = None        # a money conclusion's value before rounding to the fen
    children: list["TraceNode"] = field(default_factory=list)
    ref: bool = False               # a repeated reference, expanded elsewhere in the tree
    # Citations of the items a variant set that this value was computed from (evaluated ones only):
    # the city's article for a value the city fixed, even under a conclusion written by the province.
    set_by: tuple[Citation, ...] = ()
    form: str = ""                  # the expression's shape: if and or not compare member arith call:f agg:k ref literal
    ast: object = field(default=None, repr=False, compare=False)  # the expression, for words (render/zh.py)

    @property
    def evaluated(self) -> bool:
        return self.value is not NOT_EVALUATED

    @property
    def status(self) -> str:
        if self.value is NOT_EVALUATED:
            return "not_evaluated"
        if self.value.__class__ is Unknown:
            return "unknown"
        if self.value is True:
            return "true"
        if self.value is False:
            return "false"
        return "value"

    def walk(self):
        yield self
        for c in self.children:
            yield from c.walk()


class TraceBuilder:
    def __init__(self, engine: "RuleEngine", decision: "Decision") -> None:
        if decision.trace is None:
            raise ValueError("decision was evaluated without trace=True")
        self.engine, self.decision = engine, decision
        self.rs = engine.rule_set
        self.program = engine.program
        self.notes = engine.analysis.notes

        self.shown: set[str] = set()   # conclusions shown as their own tree: referenced, not repeated
        self.set_by: dict[str, tuple[Citation, ...]] = {}  # named item → citations of overridden items it used

    def conclusion(self, cid: str, name: str) -> TraceNode:
        self.expanded: set[str] = set()
        node = self._named_node(cid, name)
        self.shown.add(f"{cid}.{name}")
        return node

    def _value(self, node: n.Expr) -> object:
        nid = self.program.node_ids.get(id(node))
        return self.decision.trace.get(nid, NOT_EVALUATED) if nid is not None else NOT_EVALUATED  # type: ignore[union-attr]

    def _named_node(self, cid: str, name: str, evaluated: bool = True) -> TraceNode:
        clause = self.rs.clauses[cid]
        item = clause.items()[name]
        key = f"{cid}.{name}"
        value = self.decision.slots.get(key, NOT_EVALUATED)
        overridden = clause.overrides.get(("parameters." if isinstance(item, Parameter) else f"{item.role}s.") + name)
        base = TraceNode(kind=item.role if isinstance(item, Named) else "parameter", label=name, value=value,
                         clause=cid, value_type=str(self.engine.slot_type(key)),
                         overridden_by=overridden.set_name if overridden else None)
        if isinstance(item, Parameter):
            base.citation = clause.cite(item.source, item.origin)
            base.note = item.note if not (overridden and self._inherited_note(cid, item)) else None
            if item.history and evaluated:  # the entry in force on the case's date, with its own citation
                cite, chosen = history_choice(clause, item, self.decision.facts, self.decision.slots)
                if cite:
                    base.citation = clause.cite(cite, item.origin)
                    base.set_by = (base.citation,)  # the value this case got is set by that entry's text
                base.note = "；".join(x for x in (chosen, base.note) if x) or None
            if overridden and evaluated and base.citation:
                base.set_by = (base.citation,)
            if item.delegated and value.__class__ is Unknown:
                base.delegated = item.delegated.reason
            if not evaluated:
                base.value = NOT_EVALUATED
            return base
        base.expr = item.text
        base.citation = clause.cite(item.source, item.origin)
        base.note, base.quote = item.note, item.quote
        if not evaluated:
            base.value = NOT_EVALUATED
            return base
        if key in self.expanded or key in self.shown:
            base.ref = True
            base.set_by = self.set_by.get(key, ())
            return base
        self.expanded.add(key)
        root = self._expr(item.expr, cid)
        # The named item stands for its expression: adopt the root's operator and operands.
        base.op = root.op
        base.form, base.ast = ("ref", item.expr) if isinstance(item.expr, n.Ref) else (root.form, root.ast)
        base.raw_value = root.value
        base.children = [root] if isinstance(item.expr, n.Ref) else root.children
        for rule in sorted((r for r in clause.exceptions if r.conclusion == name), key=lambda r: -r.priority):
            when = self._expr(rule.when, cid)
            exc = TraceNode(kind="exception", label=rule.id, value=when.value, expr=rule.when_text, clause=cid,
                            citation=clause.cite(rule.source, rule.origin), note=rule.note, children=[when])
            base.children.append(exc)
        base.set_by = _set_by(base)
        self.set_by[key] = base.set_by
        if base.set_by and item.origin and item.origin.set_name != self.rs.name:
            base.note = None  # a base-set note beside a value the variant set describes what the variant changed
        return base

    def _inherited_note(self, cid: str, item: Parameter) -> bool:
        """A variant's parameter that kept its base's note: the note speaks of the base's value."""
        base_rs = self.rs.base
        base_clause = base_rs.clauses.get(cid) if base_rs else None
        original = base_clause.parameters.get(item.name) if base_clause else None
        return original is not None and original.note == item.note and \
            (original.value, original.history) != (item.value, item.history)  # re-cited only: its note still holds

    def _expr(self, expr: n.Expr, cid: str) -> TraceNode:
        value = self._value(expr)
        if isinstance(expr, n.Ref):
            binding = self.notes.bindings.get(id(expr))
            if isinstance(binding, SlotBinding):
                other, name = binding.key.split(".", 1)
                return self._named_node(other, name, evaluated=value is not NOT_EVALUATED)
            if isinstance(binding, FactBinding):
                return TraceNode(kind="fact", label=binding.path, value=value, clause=cid,
                                 zh=self.engine.vocab.label(binding.path), value_type=str(binding.type),
                                 value_label=self.engine.vocab.value_label(binding.path, value))
            return TraceNode(kind="expr", label=expr.dotted, value=value, clause=cid, form="ref", ast=expr)
        node = TraceNode(kind="expr", label=unparse(expr), value=value, clause=cid,
                         value_type=str(self.notes.types.get(id(expr), "")), form=_form(expr), ast=expr)
        if isinstance(expr, n.Compare):
            node.op = expr.op
        elif isinstance(expr, n.Member):
            node.op = "not in" if expr.negated else "in"
        if isinstance(expr, (n.And, n.Or)):
            operands = _flatten(expr, type(expr))
            node.op = "and" if isinstance(expr, n.And) else "or"
            node.children = sorted((self._expr(o, cid) for o in operands), key=_deciding_first(value))
            return node
        keep_literals = isinstance(expr, (n.Compare, n.Member, n.Arith, n.If))  # if: branches keep their places
        for child in n.children(expr):
            if isinstance(child, n.Literal):
                if keep_literals:  # prose needs both sides of a comparison
                    node.children.append(TraceNode(kind="literal", label=child.text, value=child.value, clause=cid,
                                                   value_type=str(child.type), form="literal", ast=child))
                continue
            if isinstance(expr, n.Aggregate) and child is not expr.collection:
                continue  # per-element values are not recorded
            node.children.append(self._expr(child, cid))
        return node


def _form(expr: n.Expr) -> str:
    if isinstance(expr, n.Call):
        return f"call:{expr.name}"
    if isinstance(expr, n.Aggregate):
        return f"agg:{expr.kind}"
    return type(expr).__name__.lower()


def _set_by(node: TraceNode) -> tuple[Citation, ...]:
    """The citations of overridden items among the evaluated descendants, first seen first."""
    out: list[Citation] = []
    stack = list(reversed(node.children))
    while stack:
        child = stack.pop()
        if not child.evaluated:
            continue
        for c in child.set_by:
            if c not in out:
                out.append(c)
        if not child.ref and child.kind not in ("parameter",):
            stack.extend(reversed(child.children))
    return tuple(out)


def _deciding_first(value: object):
    """Order and/or operands so that the ones that decided the result come first:
    for a false `and` the failing conditions, for a true `or` the one that held."""
    rank_false = {"false": 0, "unknown": 1, "true": 2, "value": 2, "not_evaluated": 3}
    rank_true = {"true": 0, "unknown": 1, "false": 2, "value": 2, "not_evaluated": 3}
    rank_unknown = {"unknown": 0, "false": 1, "true": 1, "value": 1, "not_evaluated": 3}
    table = rank_false if value is False else rank_true if value is True else rank_unknown

    def key(node: TraceNode) -> int:
        return table[node.status]

    return key


def _flatten(expr: n.Expr, kind: type) -> list[n.Expr]:
    if isinstance(expr, kind):
        return _flatten(expr.left, kind) + _flatten(expr.right, kind)  # type: ignore[attr-defined]
    return [expr]


def build_trace(decision: "Decision", clause: str | None = None) -> dict[str, dict[str, TraceNode]]:
    """clause id → conclusion name → trace tree, for the applicable clauses."""
    engine = decision.engine
    assert engine is not None
    builder = TraceBuilder(engine, decision)
    out: dict[str, dict[str, TraceNode]] = {}
    for cid, result in decision.clauses.items():
        if clause and cid != clause:
            continue
        if result.applicable and result.conclusions:  # informational clauses have nothing to explain
            out[cid] = {name: builder.conclusion(cid, name) for name in result.conclusions}
    return out
