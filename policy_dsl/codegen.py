"""The code generator of compiler.py: typed AST → the Python source of one rule set.

Every value that comes from a rule file reaches the code as a numbered constant (`_k3`);
names are numbered locals (`_s4` slots, `_t12` temps, `_f0` facts). Two things keep the
code close to what a person would write by hand, without changing any value:

* Unknown checks only where a value can be Unknown. Each local is known to be "maybe
  unknown" or not: a fact given for certain (`known`: a fused program's facts of the
  subjects the case has), a constant, a comparison of such values cannot be Unknown, so
  no `x.__class__ is _U` test and no Kleene branch is written for it.
* Common subexpressions are computed once (not when tracing: a trace records every node).
  Two nodes of the same shape over the same operands — `unit.layoffs == 0` in two
  clauses, an amount computed for a maximum and again for the amount — reuse the first
  result where it is in scope (the same block or an enclosing one, earlier).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Sequence

from . import nodes as n
from .codegen_slots import INT_LITERAL, SlotStatements
from .functions import BUILTINS
from .typer import Annotations, FactBinding, SlotBinding, VarBinding
from .values import Unknown, interned


class Gen(SlotStatements):
    """Writes the statements computing every slot, line by line, into `lines` (depth 1)."""

    def __init__(self, slots: Sequence, notes: Annotations, node_ids: dict[int, int], trace: bool,
                 known: frozenset[str] = frozenset(), pool: "Gen | None" = None) -> None:
        self.notes, self.node_ids, self.trace, self.known = notes, node_ids, trace, known
        self.lines: list[str] = []
        self.line_node: list[int | None] = []   # node id being generated when each line was written
        self.current: list[int] = []
        self.depth = 1
        # Constants are shared with `pool` (a second body of the same function reads the same names).
        self.consts: dict[str, object] = dict(pool.consts) if pool else {}
        self.const_index: dict[tuple, str] = dict(pool.const_index) if pool else {}
        self.counter = 0
        self.slot_local = {s.key: f"_s{i}" for i, s in enumerate(slots)}
        # A parameter with a known value is a constant: references use it directly.
        self.const_slot = {s.key: self.const(s.const) for s in slots
                           if s.expr is None and not s.history and s.const.__class__ is not Unknown}
        self.fact_local: dict[str, str] = dict(pool.fact_local) if pool else {}
        self.local_const: dict[str, str] = {}  # slot local → the constant it always holds
        self.maybe: set[str] = set()            # locals that may hold an Unknown
        self.alias: dict[str, str] = {}         # slot local → the local it was set from
        self.avail: list[dict[tuple, str]] = [{}]  # common subexpressions in scope, innermost last
        self.keys: dict[int, tuple | None] = {}     # id(node) → its shape (key)
        self.if_depth = 0
        self.history = False                    # whether a value in force by date is read (from `_asof`)
        self.vars: list[tuple[str, str, str, object]] = []  # (var name, element local, index local, collection path)
        for slot in slots:
            self._slot(slot)
        self.out = ", ".join(self.const_slot.get(s.key) or self.slot_local[s.key] for s in slots)
        # What each fact reads as when the case leaves it out: its own Unknown.
        self.unknown_of = {path: self.const(Unknown({path})) for path in self.fact_local}

    # plumbing -------------------------------------------------------------------
    def emit(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)
        self.line_node.append(self.current[-1] if self.current else None)

    def enter(self) -> None:
        self.depth += 1
        self.avail.append({})

    def leave(self) -> None:
        self.depth -= 1
        self.avail.pop()

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
            self.consts[name] = interned(value)
            self.const_index[key] = name
        return name

    def value_of(self, name: str) -> object:
        """The value of a constant's name (as `const` wrote it)."""
        if name in self.consts:
            return self.consts[name]
        return {"True": True, "False": False, "None": None}[name] if name[0] != "(" else int(name[1:-1])

    def may(self, operand: str) -> bool:
        """Whether the operand (a local or a constant's name) may hold an Unknown."""
        return operand in self.maybe or (operand in self.consts and self.consts[operand].__class__ is Unknown)

    def result(self, t: str, *parts: str) -> str:
        if any(self.may(p) for p in parts):
            self.maybe.add(t)
        return t

    def record(self, node: n.Expr, value: str) -> str:
        if self.trace:
            self.emit(f"T[{self.node_ids[id(node)]}] = {value}")
        return value

    # common subexpressions ----------------------------------------------------------
    def key(self, node: n.Expr) -> tuple | None:
        """The node's shape over the locals it reads; None: never shared (bound variables, aggregates).
        Memoised: a fact's local and a slot's alias never change once set, and a slot is written
        before anything that reads it."""
        hit = self.keys.get(id(node), self)
        if hit is self:
            hit = self.keys[id(node)] = self._key(node)
        return hit  # type: ignore[return-value]

    def _key(self, node: n.Expr) -> tuple | None:
        if isinstance(node, n.Literal):
            return ("k", self.const(node.value))
        if isinstance(node, n.Ref):
            b = self.notes.bindings[id(node)]
            if isinstance(b, FactBinding):
                return ("v", self.fact_local.setdefault(b.path, f"_f{len(self.fact_local)}"))
            if isinstance(b, SlotBinding):
                local = self.const_slot.get(b.key) or self.slot_local[b.key]
                return ("v", self.alias.get(local, local))
            return None
        if isinstance(node, n.Aggregate):
            return None
        if isinstance(node, n.Collection):
            parts = node.items
            head: tuple = ("coll", node.kind)
        elif isinstance(node, n.Call):
            parts, head = node.args, ("call", node.name)
        elif isinstance(node, (n.Neg, n.Not)):
            parts, head = (node.operand,), (type(node).__name__,)
        elif isinstance(node, n.Member):
            parts, head = (node.element, node.collection), ("in", node.negated)
        elif isinstance(node, n.If):
            parts, head = (node.cond, node.then, node.orelse), ("if",)
        else:  # Arith, Compare, And, Or
            parts, head = (node.left, node.right), (type(node).__name__, getattr(node, "op", ""))
        keys = tuple(self.key(p) for p in parts)
        if None in keys:
            return None
        return (*head, getattr(self.notes.types.get(id(node)), "kind", None), *keys)

    def _find(self, key: tuple) -> str | None:
        for scope in reversed(self.avail):
            hit = scope.get(key)
            if hit is not None:
                return hit
        return None

    # expressions ------------------------------------------------------------------
    def expr(self, node: n.Expr) -> str:
        key = None if self.trace else self.key(node)
        if key is not None:
            hit = self._find(key)
            if hit is not None:
                return hit
        method = getattr(self, "_" + type(node).__name__.lower())
        self.current.append(self.node_ids[id(node)])
        try:
            value = method(node)
        finally:
            self.current.pop()
        if key is not None:
            self.avail[-1][key] = value
        return value

    def _literal(self, node: n.Literal) -> str:
        return self.record(node, self.const(node.value))

    def _collection(self, node: n.Collection) -> str:
        if all(isinstance(i, n.Literal) for i in node.items):
            values = [i.value for i in node.items]  # type: ignore[union-attr]
            value = frozenset(values) if node.kind == "set" else tuple(values)
            return self.record(node, self.const(value))
        items = [self.expr(i) for i in node.items]
        t = self.result(self.tmp(), *items)
        ctor = "_fs" if node.kind == "set" else ""
        built = f"{ctor}(({', '.join(items)},))"
        check = self._unknown_check(*items)
        self.emit(f"{t} = _merge({', '.join(items)}) if ({check}) else {built}" if check else f"{t} = {built}")
        return self.record(node, t)

    def _ref(self, node: n.Ref) -> str:
        binding = self.notes.bindings[id(node)]
        if isinstance(binding, FactBinding):
            local = self.fact_local.setdefault(binding.path, f"_f{len(self.fact_local)}")
            if binding.path not in self.known:
                self.maybe.add(local)
            return self.record(node, local)
        if isinstance(binding, SlotBinding):
            return self.record(node, self.const_slot.get(binding.key) or self.slot_local[binding.key])
        assert isinstance(binding, VarBinding)
        t = self.tmp()
        self.maybe.add(t)  # a record's field may be missing
        _, elem, index, path = next(v for v in reversed(self.vars) if v[0] == binding.var)
        self.emit(f"{t} = {elem}")
        for name in binding.fields:
            self.emit(f"if {t}.__class__ is not _U: {t} = _field({t}, {self.const(name)}, {self.const(path)}, {index})")
        return self.record(node, t)

    def _merged(self, *operands: str) -> str:
        # With one operand that can be unknown, the merge is that operand: no call.
        live = [o for o in operands if self.may(o)]
        return live[0] if len(live) == 1 else f"_merge({', '.join(operands)})"

    def _unknown_check(self, *operands: str) -> str:
        # Only operands that may be unknown are tested; "" when none can be.
        return " or ".join(f"{o}.__class__ is _U" for o in operands if self.may(o))

    def _strict(self, t: str, op: str, *operands: str) -> None:
        """t = op, unless an operand is unknown (then t is what is missing)."""
        check = self._unknown_check(*operands)
        self.emit(f"{t} = {self._merged(*operands)} if ({check}) else {op}" if check else f"{t} = {op}")

    def _neg(self, node: n.Neg) -> str:
        a = self.expr(node.operand)
        t = self.result(self.tmp(), a)
        self._strict(t, f"-{a}", a)
        return self.record(node, t)

    def _not(self, node: n.Not) -> str:
        a = self.expr(node.operand)
        t = self.result(self.tmp(), a)
        self._strict(t, f"(not {a})", a)
        return self.record(node, t)

    def _arith(self, node: n.Arith) -> str:
        a, b = self.expr(node.left), self.expr(node.right)
        lt, rt = self.notes.type_of(node.left), self.notes.type_of(node.right)
        nid = self.node_ids[id(node)]
        if node.op == "/":
            # An int numerator becomes a Decimal by adding it to 0: exact in the rules' context (ints
            # stay below 10^18, the context keeps 28 digits) and cheaper than calling Decimal().
            num = f"(_D0 + {a})" if lt.kind == "int" else f"_Dec({a})"
            op = f"({num} / {b} if {b} else _div({a}, {b}, {nid}, _NODES))"
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
        t = self.result(self.tmp(), a, b)
        self._strict(t, op, a, b)
        return self.record(node, t)

    def _compare(self, node: n.Compare) -> str:
        a, b = self.expr(node.left), self.expr(node.right)
        t = self.result(self.tmp(), a, b)
        a, b = self._as_decimal(a, node.right), self._as_decimal(b, node.left)
        self._strict(t, f"({a} {node.op} {b})", a, b)
        return self.record(node, t)

    def _as_decimal(self, operand: str, other: n.Expr) -> str:
        """An int literal compared with a decimal quantity, as a Decimal constant: the same
        answer, and Decimal compares with Decimal about twice as fast as with an int."""
        if INT_LITERAL(operand) and self.notes.type_of(other).kind in ("decimal", "rate", "money"):
            return self.const(Decimal(int(operand[1:-1])))
        return operand

    def _member(self, node: n.Member) -> str:
        a, b = self.expr(node.element), self.expr(node.collection)
        t = self.result(self.tmp(), a, b)
        self._strict(t, f"({a} {'not in' if node.negated else 'in'} {b})", a, b)
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
        self.enter()
        mark = len(self.lines)
        b = self.expr(node.right)
        if not self.may(a) and len(self.lines) == mark:
            # Nothing to compute for the right side: Python's and/or on a true/false left side
            # is Kleene's (False and x = False, True and x = x), on one line.
            self.leave()
            del self.lines[-3:], self.line_node[-3:]
            self.emit(f"{t} = ({a} {'and' if stop == 'False' else 'or'} {b})")
        else:
            self.emit(f"{t} = {b}" if not self.may(a) else f"{t} = {b} if {a} is {other} else {helper}({a}, {b})")
            self.leave()
        self.result(t, a, b)
        return self.record(node, t)

    def _if(self, node: n.If) -> str:
        c = self.expr(node.cond)
        t = self.tmp()
        if not self.may(c):
            # A true/false condition: one branch, as written.
            self.emit(f"if {c}:")
            self.enter()
            x = self.expr(node.then)
            self.emit(f"{t} = {x}")
            self.leave()
            self.emit("else:")
            self.enter()
            y = self.expr(node.orelse)
            self.emit(f"{t} = {y}")
            self.leave()
            self.result(t, x, y)
            return self.record(node, t)
        self.maybe.add(t)
        if self.if_depth < 3:
            # Known condition: run one branch. Unknown: run both (code repeated; depth-limited).
            self.if_depth += 1
            for test, branches in ((f"{c} is True", (node.then,)), (f"{c} is False", (node.orelse,)), (None, None)):
                self.emit(f"if {test}:" if test and branches == (node.then,) else f"elif {test}:" if test else "else:")
                self.enter()
                if branches is not None:
                    self.emit(f"{t} = {self.expr(branches[0])}")
                else:
                    x, y = self.expr(node.then), self.expr(node.orelse)
                    self.emit(f"{t} = _if_u({c}, {x}, {y})")
                self.leave()
            self.if_depth -= 1
            return self.record(node, t)
        x, y = self.tmp(), self.tmp()
        self.emit(f"if {c} is not False:")
        self.enter()
        self.emit(f"{x} = {self.expr(node.then)}")
        self.leave()
        self.emit(f"if {c} is not True:")
        self.enter()
        self.emit(f"{y} = {self.expr(node.orelse)}")
        self.leave()
        self.emit(f"{t} = {x} if {c} is True else ({y} if {c} is False else _if_u({c}, {x}, {y}))")
        return self.record(node, t)

    def _call(self, node: n.Call) -> str:
        builtin = BUILTINS[node.name]
        args = [self.expr(a) for a in node.args]
        if node.name == "known" and len(args) == 1 and not self.may(args[0]):
            return self.record(node, "True")  # a value that cannot be unknown is known: no call
        fn = self.const(builtin.impl)
        # known() and tags() take unknowns as they come; neither makes one of known arguments.
        t = self.result(self.tmp(), *args)
        call = f"{fn}({', '.join(args)})"
        if builtin.strict and args:
            self._strict(t, call, *args)
        else:
            self.emit(f"{t} = {call}")
        return self.record(node, t)

    def _aggregate(self, node: n.Aggregate) -> str:
        coll = self.expr(node.collection)
        binding = self.notes.bindings.get(id(node.collection))
        path = binding.path if isinstance(binding, FactBinding) else node.var
        t, unk, idx, elem = self.tmp(), self.tmp(), self.tmp(), self.tmp()
        self.maybe.add(t)  # per-element values may be unknown
        kind = node.kind
        start = {"count": "0", "any": "False", "all": "True", "sum": "_D0"}[kind]
        if kind == "sum" and self.notes.type_of(node).kind == "int":
            start = "0"
        self.emit(f"if {coll}.__class__ is _U:")
        self.emit(f"    {t} = {coll}")
        self.emit("else:")
        self.enter()
        self.emit(f"{t} = {start}")
        self.emit(f"{unk} = None")
        self.emit(f"for {idx}, {elem} in enumerate({coll}):")
        self.enter()
        self.vars.append((node.var, elem, idx, path))
        saved_trace, self.trace = self.trace, False  # per-element values are not traced
        w = self.expr(node.where) if node.where is not None else "True"
        if kind == "sum":
            self.emit(f"if {w} is True:")
            self.enter()
            v = self.expr(node.value)  # type: ignore[arg-type]
            if self.may(v):
                self.emit(f"if {v}.__class__ is _U: {unk} = {v} if {unk} is None else {unk}.merge({v})")
                self.emit(f"else: {t} = {t} + {v}")
            else:
                self.emit(f"{t} = {t} + {v}")
            self.leave()
        else:
            hit = {"count": f"{t} += 1", "any": f"{t} = True; break", "all": None}[kind]
            if kind == "all":
                self.emit(f"if {w} is False: {t} = False; break")
            else:
                self.emit(f"if {w} is True: {hit}")
        if self.may(w):
            self.emit(f"if {w}.__class__ is _U: {unk} = {w} if {unk} is None else {unk}.merge({w})")
        self.trace = saved_trace
        self.vars.pop()
        self.leave()
        if kind == "any":
            self.emit(f"if {t} is False and {unk} is not None: {t} = {unk}")
        elif kind == "all":
            self.emit(f"if {t} is True and {unk} is not None: {t} = {unk}")
        else:
            self.emit(f"if {unk} is not None: {t} = {unk}")
        self.leave()
        return self.record(node, t)
