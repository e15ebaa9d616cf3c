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
from .periods.history import value_on
from .functions import BUILTINS
from .runtime import RUNTIME
from .typer import Annotations, FactBinding, SlotBinding, VarBinding
from .values import CONTEXT, Unknown, quantize_money


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
    _gen: object = field(repr=False, default=None)

    @property
    def fast(self) -> Callable:
        return self._fast

    @property
    def traced(self) -> Callable:
        if self._traced is None and self._make_traced is not None:
            self._traced = self._make_traced()  # two threads may both write it: same function, no harm
        return self._traced

    def run_many(self, batch) -> list[list]:
        """Evaluate many prepared fact mappings in one decimal context (no tracing)."""
        fast = self._fast
        with localcontext(CONTEXT):
            try:
                return [fast(facts) for facts in batch]
            except ArithmeticError as exc:
                raise self._arithmetic_error(exc) from None

    def run(self, facts: dict, trace: dict | None = None) -> list:
        with localcontext(CONTEXT):
            try:
                if trace is None:
                    return self._fast(facts)
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
                    numbering: tuple[list[n.Expr], dict[int, int]] | None = None) -> Program:
    """`numbering`: the node numbering of a larger program this one is part of, so that the
    traces of both name the same nodes the same way."""
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
    fast = _Gen(slots, notes, node_ids, trace=False)
    program = Program([s.key for s in slots], nodes, node_ids, fast.source)
    program._fast = fast.function("_evaluate", nodes)
    program._lines = {program._fast.__code__: fast.line_nodes}
    program._gen = fast  # its parts, for a program fused with facts validation (fused.py)

    def make_traced() -> Callable:
        traced = _Gen(slots, notes, node_ids, trace=True)
        function = traced.function("_evaluate_traced", nodes)
        program._lines[function.__code__] = traced.line_nodes
        return function

    program._make_traced = make_traced
    return program


def _roots(slot: SlotSpec):
    if slot.expr is not None:
        yield slot.expr
    for when, value in slot.exceptions:
        yield when
        yield value


class _Gen:
    """Writes the Python source of one rule set, line by line."""

    def __init__(self, slots: Sequence[SlotSpec], notes: Annotations, node_ids: dict[int, int], trace: bool) -> None:
        self.notes, self.node_ids, self.trace = notes, node_ids, trace
        self.lines: list[str] = []
        self.line_node: list[int | None] = []   # node id being generated when each line was written
        self.current: list[int] = []
        self.depth = 1
        self.consts: dict[str, object] = {}
        self.const_index: dict[tuple, str] = {}
        self.counter = 0
        self.slot_local = {s.key: f"_s{i}" for i, s in enumerate(slots)}
        # A parameter with a known value is a constant: references use it directly.
        self.const_slot = {s.key: self.const(s.const) for s in slots
                           if s.expr is None and not s.history and s.const.__class__ is not Unknown}
        self.fact_local: dict[str, str] = {}
        self.local_const: dict[str, str] = {}  # slot local → the constant it always holds
        self.if_depth = 0
        self.vars: list[tuple[str, str, str, object]] = []  # (var name, element local, index local, collection path)
        for slot in slots:
            self._slot(slot)
        params = "F, T" if trace else "F"
        # Facts are read once, at the top: a missing fact reads as its own Unknown.
        self.unknown_of = {path: self.const(Unknown({path})) for path in self.fact_local}
        reads = [f"    {local} = F.get({self.const(path)}, {self.unknown_of[path]})"
                 for path, local in self.fact_local.items()]
        body = "\n".join(reads + self.lines)
        out = self.out = ", ".join(self.const_slot.get(s.key) or self.slot_local[s.key] for s in slots)
        self.source = f"def _evaluate({params}):\n{body}\n    return [{out}]\n"
        first = 2 + len(reads)  # line number of self.lines[0] in the source
        self.line_nodes = {first + i: nid for i, nid in enumerate(self.line_node) if nid is not None}

    def function(self, name: str, nodes: list[n.Expr]) -> Callable:
        try:
            code = compile(self.source, f"<policy {name}>", "exec")
        except (SyntaxError, RecursionError, MemoryError) as exc:  # the checker's shape limits should prevent this
            raise PolicyLimitError(f"规则过于复杂，无法编译 rules too complex to compile: {type(exc).__name__}: {exc}") from None
        fn_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
        namespace = {**RUNTIME, **self.consts, "_NODES": nodes, "__builtins__": {"enumerate": enumerate}}
        return types.FunctionType(fn_code, namespace, name)

    # plumbing -------------------------------------------------------------------
    def emit(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)
        self.line_node.append(self.current[-1] if self.current else None)

    def tmp(self) -> str:
        self.counter += 1
        return f"_t{self.counter}"

    def const(self, value: object) -> str:
        if isinstance(value, bool) or value is None:
            return repr(value)
        if type(value) is int:
            # Bracketed: the code writes `c.__class__` and `c.quantize(…)` after a constant,
            # and `30.__class__` is not Python.
            return f"({value!r})"
        # By value, except an Unknown: its repr leaves out the reasons, and two delegated parameters
        # of the same name in different clauses must keep their own.
        key = ("Unknown", id(value)) if value.__class__ is Unknown else (type(value).__name__, repr(value))
        name = self.const_index.get(key)
        if name is None:
            name = f"_k{len(self.consts)}"
            self.consts[name] = value
            self.const_index[key] = name
        return name

    def record(self, node: n.Expr, value: str) -> str:
        if self.trace:
            self.emit(f"T[{self.node_ids[id(node)]}] = {value}")
        return value

    # slots ----------------------------------------------------------------------
    def _slot(self, slot: SlotSpec) -> None:
        target = self.slot_local[slot.key]
        if slot.history:
            table = self.const(tuple(slot.history))
            if slot.history_by is None:
                self.emit(f"{target} = _hist(F.get('as_of', _AS_OF_UNKNOWN), {table})")
            else:  # the clause's period date (editions/history.py)
                kind, name = slot.history_by
                day = (f"F.get({self.const(name)}, {self.const(Unknown({name}))})" if kind == "fact"
                       else self.const_slot.get(name) or self.slot_local[name])
                said = name if kind == "fact" else name.split(".", 1)[1]  # a definition by its own name
                self.emit(f"{target} = {self.const(value_on)}({day}, {table}, {self.const(said)})")
            return
        if slot.key in self.const_slot:
            return  # a known constant: references and the result use it directly
        if slot.expr is None:
            self.emit(f"{target} = {self.const(slot.const)}")
            self.local_const[target] = self.const(slot.const)
            return
        value = self.expr(slot.expr)
        if slot.exceptions:
            pairs = []
            for when, val in slot.exceptions:
                pairs.append((self.expr(when), self.expr(val)))
            value_tmp = self.tmp()
            # Decided in line when the highest exception holds or none can; otherwise _exc weighs them.
            (w1, v1), none_holds = pairs[0], " and ".join(f"{w} is False" for w, _ in pairs)
            table = ", ".join(f"({w}, {v})" for w, v in pairs)
            self.emit(f"{value_tmp} = {v1} if {w1} is True else ({value} if {none_holds} else _exc({value}, ({table},)))")
            value = value_tmp
        known = self.local_const.get(value, value)
        if slot.money and known in self.consts:  # a constant amount (or unknown) is rounded once, here
            self.emit(f"{target} = {self.const(quantize_money(self.consts[known]))}")
        elif slot.money:
            self.current.append(self.node_ids[id(slot.expr)])
            self.emit(f"{target} = {value}.quantize(_CENT, _HALF_UP, _WIDE) if {value}.__class__ is _Dec else _q({value})")
            self.current.pop()
        else:
            self.emit(f"{target} = {value}")

    # expressions ------------------------------------------------------------------
    def expr(self, node: n.Expr) -> str:
        method = getattr(self, "_" + type(node).__name__.lower())
        self.current.append(self.node_ids[id(node)])
        try:
            return method(node)
        finally:
            self.current.pop()

    def _literal(self, node: n.Literal) -> str:
        return self.record(node, self.const(node.value))

    def _collection(self, node: n.Collection) -> str:
        if all(isinstance(i, n.Literal) for i in node.items):
            values = [i.value for i in node.items]  # type: ignore[union-attr]
            value = frozenset(values) if node.kind == "set" else tuple(values)
            return self.record(node, self.const(value))
        items = [self.expr(i) for i in node.items]
        t = self.tmp()
        ctor = "_fs" if node.kind == "set" else ""
        check = " or ".join(f"{i}.__class__ is _U" for i in items)
        self.emit(f"{t} = _merge({', '.join(items)}) if ({check}) else {ctor}(({', '.join(items)},))")
        return self.record(node, t)

    def _ref(self, node: n.Ref) -> str:
        binding = self.notes.bindings[id(node)]
        t = self.tmp()
        if isinstance(binding, FactBinding):
            local = self.fact_local.setdefault(binding.path, f"_f{len(self.fact_local)}")
            return self.record(node, local)
        elif isinstance(binding, SlotBinding):
            return self.record(node, self.const_slot.get(binding.key) or self.slot_local[binding.key])
        else:
            assert isinstance(binding, VarBinding)
            _, elem, index, path = next(v for v in reversed(self.vars) if v[0] == binding.var)
            self.emit(f"{t} = {elem}")
            for name in binding.fields:
                self.emit(f"if {t}.__class__ is not _U: {t} = _field({t}, {self.const(name)}, {self.const(path)}, {index})")
        return self.record(node, t)

    def _merged(self, *operands: str) -> str:
        # With one operand that can be unknown, the merge is that operand: no call.
        live = [o for o in operands if o.startswith(("_t", "_s", "_f"))]
        return live[0] if len(live) == 1 else f"_merge({', '.join(operands)})"

    def _unknown_check(self, *operands: str) -> str:
        # Constants can never be unknown; only computed temps and slots are tested.
        tests = [f"{o}.__class__ is _U" for o in operands if o.startswith(("_t", "_s", "_f"))]
        return " or ".join(tests) or "False"

    def _neg(self, node: n.Neg) -> str:
        a = self.expr(node.operand)
        t = self.tmp()
        self.emit(f"{t} = {a} if {a}.__class__ is _U else -{a}")
        return self.record(node, t)

    def _not(self, node: n.Not) -> str:
        a = self.expr(node.operand)
        t = self.tmp()
        self.emit(f"{t} = {a} if {a}.__class__ is _U else (not {a})")
        return self.record(node, t)

    def _arith(self, node: n.Arith) -> str:
        a, b = self.expr(node.left), self.expr(node.right)
        lt, rt = self.notes.type_of(node.left), self.notes.type_of(node.right)
        nid = self.node_ids[id(node)]
        if node.op == "/":
            op = f"(_Dec({a}) / {b} if {b} else _div({a}, {b}, {nid}, _NODES))"
        elif lt.kind == "date" or rt.kind == "date":
            date_side, dur_side = (a, b) if lt.kind == "date" else (b, a)
            op = f"_dur({date_side}, {dur_side}, {1 if node.op == '+' else -1}, {nid}, _NODES)"
        elif lt.kind == "set":
            op = f"({a} | {b})"
        elif self.notes.type_of(node).kind == "int":
            # Python ints have no context: bound them here as Decimals are bounded by Emax.
            op = f"_ichk({a} {node.op} {b}, {nid}, _NODES)"
        else:
            op = f"({a} {node.op} {b})"
        t = self.tmp()
        self.emit(f"{t} = {self._merged(a, b)} if ({self._unknown_check(a, b)}) else {op}")
        return self.record(node, t)

    def _compare(self, node: n.Compare) -> str:
        a, b = self.expr(node.left), self.expr(node.right)
        t = self.tmp()
        self.emit(f"{t} = {self._merged(a, b)} if ({self._unknown_check(a, b)}) else ({a} {node.op} {b})")
        return self.record(node, t)

    def _member(self, node: n.Member) -> str:
        a, b = self.expr(node.element), self.expr(node.collection)
        t = self.tmp()
        op = "not in" if node.negated else "in"
        self.emit(f"{t} = {self._merged(a, b)} if ({self._unknown_check(a, b)}) else ({a} {op} {b})")
        return self.record(node, t)

    def _and(self, node: n.And) -> str:
        return self._logic(node, stop="False", helper="_and_u")

    def _or(self, node: n.Or) -> str:
        return self._logic(node, stop="True", helper="_or_u")

    def _logic(self, node: n.And | n.Or, stop: str, helper: str) -> str:
        other = "True" if stop == "False" else "False"
        a = self.expr(node.left)
        t = self.tmp()
        self.emit(f"if {a} is {stop}:")
        self.emit(f"    {t} = {stop}")
        self.emit("else:")
        self.depth += 1
        b = self.expr(node.right)
        self.emit(f"{t} = {b} if {a} is {other} else {helper}({a}, {b})")
        self.depth -= 1
        return self.record(node, t)

    def _if(self, node: n.If) -> str:
        c = self.expr(node.cond)
        t = self.tmp()
        if self.if_depth < 3:
            # Known condition: run one branch. Unknown: run both (code repeated; depth-limited).
            self.if_depth += 1
            for test, branches in ((f"{c} is True", (node.then,)), (f"{c} is False", (node.orelse,)), (None, None)):
                self.emit(f"if {test}:" if test and branches == (node.then,) else f"elif {test}:" if test else "else:")
                self.depth += 1
                if branches is not None:
                    self.emit(f"{t} = {self.expr(branches[0])}")
                else:
                    x, y = self.expr(node.then), self.expr(node.orelse)
                    self.emit(f"{t} = _if_u({c}, {x}, {y})")
                self.depth -= 1
            self.if_depth -= 1
            return self.record(node, t)
        x, y = self.tmp(), self.tmp()
        self.emit(f"if {c} is not False:")
        self.depth += 1
        self.emit(f"{x} = {self.expr(node.then)}")
        self.depth -= 1
        self.emit(f"if {c} is not True:")
        self.depth += 1
        self.emit(f"{y} = {self.expr(node.orelse)}")
        self.depth -= 1
        self.emit(f"{t} = {x} if {c} is True else ({y} if {c} is False else _if_u({c}, {x}, {y}))")
        return self.record(node, t)

    def _call(self, node: n.Call) -> str:
        builtin = BUILTINS[node.name]
        args = [self.expr(a) for a in node.args]
        fn = self.const(builtin.impl)
        t = self.tmp()
        call = f"{fn}({', '.join(args)})"
        if builtin.strict and args:
            self.emit(f"{t} = _merge({', '.join(args)}) if ({self._unknown_check(*args)}) else {call}")
        else:
            self.emit(f"{t} = {call}")
        return self.record(node, t)

    def _aggregate(self, node: n.Aggregate) -> str:
        coll = self.expr(node.collection)
        binding = self.notes.bindings.get(id(node.collection))
        path = binding.path if isinstance(binding, FactBinding) else node.var
        t, unk, idx, elem = self.tmp(), self.tmp(), self.tmp(), self.tmp()
        kind = node.kind
        start = {"count": "0", "any": "False", "all": "True", "sum": "_D0"}[kind]
        if kind == "sum" and self.notes.type_of(node).kind == "int":
            start = "0"
        self.emit(f"if {coll}.__class__ is _U:")
        self.emit(f"    {t} = {coll}")
        self.emit("else:")
        self.depth += 1
        self.emit(f"{t} = {start}")
        self.emit(f"{unk} = None")
        self.emit(f"for {idx}, {elem} in enumerate({coll}):")
        self.depth += 1
        self.vars.append((node.var, elem, idx, path))
        saved_trace, self.trace = self.trace, False  # per-element values are not traced
        w = self.expr(node.where) if node.where is not None else "True"
        if kind == "sum":
            self.emit(f"if {w} is True:")
            self.depth += 1
            v = self.expr(node.value)  # type: ignore[arg-type]
            if v.startswith(("_t", "_s", "_f")):
                self.emit(f"if {v}.__class__ is _U: {unk} = {v} if {unk} is None else {unk}.merge({v})")
                self.emit(f"else: {t} = {t} + {v}")
            else:
                self.emit(f"{t} = {t} + {v}")
            self.depth -= 1
        else:
            hit = {"count": f"{t} += 1", "any": f"{t} = True; break", "all": None}[kind]
            if kind == "all":
                self.emit(f"if {w} is False: {t} = False; break")
            else:
                self.emit(f"if {w} is True: {hit}")
        if w.startswith(("_t", "_s", "_f")):
            self.emit(f"if {w}.__class__ is _U: {unk} = {w} if {unk} is None else {unk}.merge({w})")
        self.trace = saved_trace
        self.vars.pop()
        self.depth -= 1
        if kind == "any":
            self.emit(f"if {t} is False and {unk} is not None: {t} = {unk}")
        elif kind == "all":
            self.emit(f"if {t} is True and {unk} is not None: {t} = {unk}")
        else:
            self.emit(f"if {unk} is not None: {t} = {unk}")
        self.depth -= 1
        return self.record(node, t)
