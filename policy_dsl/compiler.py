"""Typed AST → one Python function per rule set, built once and run many times.

The generated code is assembled from our own AST only: every value that comes
from a rule file (numbers, strings, fact paths, names) is passed in as a
constant (`_k3`), never spliced into the source, and names are numbered
locals (`_s4`, `_t12`). The code object is compiled and wrapped with
types.FunctionType — nothing is eval'd or exec'd.

With `trace=True` the same code also stores every node's value in `T[node_id]`;
nodes that were short-circuited are simply absent ("not evaluated").
"""
from __future__ import annotations

import types
from dataclasses import dataclass, field
from decimal import localcontext
from typing import Callable, Sequence

from . import nodes as n
from .errors import PolicyError, PolicyEvaluationError, PolicyLimitError
from .runtime import RUNTIME
from .codegen import Gen
from .typer import Annotations
from .values import CONTEXT


@dataclass
class SlotSpec:
    key: str
    expr: n.Expr | None = None
    const: object = None
    money: bool = False
    history: tuple = ()                                   # ((from_date, value), ...) chosen by as_of
    history_by: tuple[str, str] | None = None             # ("fact", path) | ("slot", key): chosen by that date instead
    exceptions: tuple[tuple[n.Expr, n.Expr], ...] = ()  # (when, value), highest priority first


@dataclass
class Program:
    """A compiled rule set: call run(facts) → slot values in `keys` order."""

    keys: list[str]
    nodes: list[n.Expr]               # node id → node, for explanations
    node_ids: dict[int, int]          # id(node) → node id
    source: str                       # generated Python, for debugging
    _fast: Callable = field(repr=False, default=None)   # type: ignore[assignment]
    _traced: Callable = field(repr=False, default=None)  # type: ignore[assignment]
    # generated line number → node id, per generated function (code object): arithmetic that
    # fails (overflow past the number limits) is reported at the expression that did it
    _lines: dict = field(repr=False, default_factory=dict)
    _make_traced: Callable | None = field(repr=False, default=None)  # the traced function is written on first use
    _make_fast: Callable | None = field(repr=False, default=None)    # likewise the untraced one, when lazy
    _gen: object = field(repr=False, default=None)
    _slots: tuple = field(repr=False, default=())       # what it was compiled from (fused.py compiles them again)
    _notes: object = field(repr=False, default=None)

    @property
    def fast(self) -> Callable:
        if self._fast is None and self._make_fast is not None:
            self._fast = self._make_fast()  # two threads may both write it: same function, no harm
        return self._fast

    @property
    def traced(self) -> Callable:
        if self._traced is None and self._make_traced is not None:
            self._traced = self._make_traced()  # two threads may both write it: same function, no harm
        return self._traced

    def run_many(self, batch) -> list[list]:
        """Evaluate many prepared fact mappings in one decimal context (no tracing)."""
        fast = self.fast
        with localcontext(CONTEXT):
            try:
                return [fast(facts) for facts in batch]
            except ArithmeticError as exc:
                raise self._arithmetic_error(exc) from None

    def run(self, facts: dict, trace: dict | None = None) -> list:
        with localcontext(CONTEXT):
            try:
                if trace is None:
                    return self.fast(facts)
                return self.traced(facts, trace)
            except PolicyError:
                raise
            except ArithmeticError as exc:
                raise self._arithmetic_error(exc) from None

    def _arithmetic_error(self, exc: ArithmeticError) -> PolicyEvaluationError:
        node = None
        tb = exc.__traceback__
        while tb is not None:
            lines = self._lines.get(tb.tb_frame.f_code)
            if lines is not None and tb.tb_lineno in lines:
                node = self.nodes[lines[tb.tb_lineno]]
            tb = tb.tb_next
        return arithmetic_error(exc, node.span if node is not None else None)


def arithmetic_error(exc: ArithmeticError, span) -> PolicyEvaluationError:
    """A decimal signal, in the user's terms: which limit the computation ran into."""
    from decimal import DivisionByZero, Overflow, Underflow

    from .values import MAX_DIGITS, MAX_INT_DIGITS

    if isinstance(exc, Overflow):
        what = f"计算结果过大：超过 {MAX_INT_DIGITS} 位整数 result too large (more than {MAX_INT_DIGITS} digits before the point)"
    elif isinstance(exc, Underflow):
        what = f"计算结果过小，无法在 {MAX_DIGITS} 位有效数字内表示 result too small to represent"
    elif isinstance(exc, DivisionByZero):
        what = "除数为零 division by zero"
    else:
        what = "无法计算的数值运算 invalid arithmetic"
    return PolicyEvaluationError(what, span, found=type(exc).__name__,
                                 expected=f"整数部分最多 {MAX_INT_DIGITS} 位的结果 results below 10^{MAX_INT_DIGITS}")


def compile_program(slots: Sequence[SlotSpec], notes: Annotations,
                    numbering: tuple[list[n.Expr], dict[int, int]] | None = None, lazy: bool = False,
                    given: frozenset[str] = frozenset()) -> Program:
    """`numbering`: the node numbering of a larger program this one is part of, so that the
    traces of both name the same nodes the same way. `lazy`: the code is written and compiled
    on first use (Program.fast, .run), not now. `given`: the subjects (top-level keys) every
    case it runs has; the traced function gets a second body for cases that give every fact
    of them it reads (no unknown tests)."""
    if numbering is not None:
        nodes, node_ids = numbering
    else:
        nodes, node_ids = [], {}
        for slot in slots:
            for root in _roots(slot):
                for node in n.walk(root):
                    if id(node) not in node_ids:
                        node_ids[id(node)] = len(nodes)
                        nodes.append(node)
    program = Program([s.key for s in slots], nodes, node_ids, "")
    program._slots, program._notes = tuple(slots), notes

    def make_fast() -> Callable:
        fast = Gen(slots, notes, node_ids, trace=False)
        source, line_nodes, consts = _source("_evaluate", fast)
        function = _function(source, "_evaluate", consts, nodes)
        program._lines[function.__code__] = line_nodes
        program._gen, program.source = fast, source  # its parts, for a program fused with facts validation
        return function

    program._make_fast = make_fast
    if not lazy:
        program._fast = make_fast()

    def make_traced() -> Callable:
        traced = Gen(slots, notes, node_ids, trace=True)
        known = frozenset(p for p in traced.fact_local if p.partition(".")[0] in given)
        source, line_nodes, consts = _source("_evaluate_traced", traced, known, slots, notes, node_ids)
        function = _function(source, "_evaluate_traced", consts, nodes)
        program._lines[function.__code__] = line_nodes
        return function

    program._make_traced = make_traced
    return program


def _roots(slot: SlotSpec):
    if slot.expr is not None:
        yield slot.expr
    for when, value in slot.exceptions:
        yield when
        yield value


def fact_reads(gen: Gen) -> list[str]:
    """Facts are read once, at the top: a missing fact reads as its own Unknown."""
    reads = [f"    {local} = F.get({gen.const(path)}, {gen.unknown_of[path]})" for path, local in gen.fact_local.items()]
    return reads + (["    _asof = F.get('as_of', _AS_OF_UNKNOWN)"] if gen.history else [])


def _source(name: str, gen: Gen, known: frozenset[str] = frozenset(), *again) -> tuple[str, dict[int, int], dict]:
    """The function's source, its line → node id map and its constants. With `known` fact paths
    (and the generator's arguments `again`), a second body, taken when all of them are given."""
    reads = fact_reads(gen)
    params = "F, T" if gen.trace else "F"
    if not known:
        body = "\n".join(reads + gen.lines)
        first = 2 + len(reads)  # line number of gen.lines[0] in the source
        line_nodes = {first + i: nid for i, nid in enumerate(gen.line_node) if nid is not None}
        return f"def {name}({params}):\n{body}\n    return [{gen.out}]\n", line_nodes, gen.consts
    second = Gen(*again, trace=gen.trace, known=known, pool=gen)
    test = " or ".join(f"{gen.fact_local[p]}.__class__ is _U" for p in sorted(known))
    general = [f"    if {test}:"] + ["    " + line for line in gen.lines or ["    pass"]]
    fast = ["    else:"] + ["    " + line for line in second.lines or ["    pass"]]
    line_nodes = {}
    for body, first in ((gen, 3 + len(reads)), (second, 3 + len(reads) + len(general))):
        line_nodes.update({first + i: nid for i, nid in enumerate(body.line_node) if nid is not None})
    body = "\n".join(reads + general + fast)
    return f"def {name}({params}):\n{body}\n    return [{gen.out}]\n", line_nodes, second.consts


def _function(source: str, name: str, consts: dict, nodes: list[n.Expr]) -> Callable:
    try:
        code = compile(source, f"<policy {name}>", "exec")
    except (SyntaxError, RecursionError, MemoryError) as exc:  # the checker's shape limits should prevent this
        raise PolicyLimitError(f"规则过于复杂，无法编译 rules too complex to compile: {type(exc).__name__}: {exc}") from None
    fn_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    namespace = {**RUNTIME, **consts, "_NODES": nodes, "__builtins__": {"enumerate": enumerate}}
    return types.FunctionType(fn_code, namespace, name)
