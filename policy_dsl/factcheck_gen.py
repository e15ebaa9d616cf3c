"""The fast path of facts validation, written as Python source once per vocabulary.

One straight-line block per fact: read it, test its exact class (and bounds), convert,
store. Anything unusual returns None and the caller takes the reporting path
(factcheck.FactChecker.problems), so this code never has to explain anything. As in
compiler.py, vocabulary values reach the code only as numbered constants (`_c3`) and
the code object is wrapped with types.FunctionType: nothing is eval'd or exec'd.
"""
from __future__ import annotations

import re
import types
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Callable

if TYPE_CHECKING:
    from .factcheck import FactChecker, Rule

# ASCII digits only: a subset of the schema's \d patterns, so everything accepted here is valid there.
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?").fullmatch
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fullmatch
_MISS = object()


def _records(value: Any, fields: frozenset) -> tuple | None:
    """A list of records whose fields are all true/false (or null: unknown); else None."""
    out = []
    for rec in value:
        if rec.__class__ is not dict:
            return None
        kept = {}
        for k, x in rec.items():
            if x is None:
                continue
            if k not in fields or x.__class__ is not bool:
                return None
            kept[k] = x
        out.append(kept)
    return tuple(out)


class _Writer:
    def __init__(self, bind: dict[str, str] | None = None, flag: frozenset = frozenset(), flat: bool = True) -> None:
        self.flat = flat        # store each value in the flat mapping `out`
        self.lines: list[str] = []
        self.consts: dict[str, object] = {}
        self.bind = bind or {}  # flat path → a local of the fused program that also receives the value
        self.flag = flag        # flat paths whose absence sets `u` (a fused program's rules then take the general body)

    def const(self, value: object) -> str:
        name = f"_c{len(self.consts)}"
        self.consts[name] = value
        return name

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)

    def leaf(self, d: int, rule: "Rule", target: str) -> None:
        """Check and convert `v`, then store it as out[target]; `return None` on anything unusual."""
        k = rule.kind
        if k == "bool":
            self.emit(d, "if v.__class__ is not bool: return None")
        elif k == "int":
            self.emit(d, "if v.__class__ is not int: return None")
            self._bounds(d, rule)
        elif k == "decimal":
            self.emit(d, "c = v.__class__")
            self.emit(d, "if c is _Dec:")
            self.emit(d, "    if not v.is_finite(): return None")
            self.emit(d, "elif c is str:")
            self.emit(d, "    if _DECIMAL(v) is None: return None")
            self.emit(d, "    v = _Dec(v)")
            self.emit(d, "elif c is int: v = _Dec(v)")
            self.emit(d, "else: return None")
            self._bounds(d, rule)
            self.emit(d, "if not v: v = v.copy_abs()")  # -0.00 is 0.00
        elif k == "date":
            self.emit(d, "c = v.__class__")
            self.emit(d, "if c is str:")
            self.emit(d, "    if _DATE(v) is None: return None")
            self.emit(d, "    try: v = _iso(v)")
            self.emit(d, "    except ValueError: return None")
            self.emit(d, "elif c is not _date: return None")
            self._bounds(d, rule)
        elif k == "string":
            self.emit(d, "if v.__class__ is not str: return None")
        elif k == "enum":
            self.emit(d, f"if v.__class__ is not str or v not in {self.const(frozenset(rule.values))}: return None")
        elif k == "set":
            allowed = self.const(frozenset(rule.values)) if rule.values else None
            self.emit(d, "if v.__class__ is not _list: return None")
            self.emit(d, "for e in v:")
            test = f"e.__class__ is not str or e not in {allowed}" if allowed else "e.__class__ is not str"
            self.emit(d, f"    if {test}: return None")
            self.emit(d, "e = _fs(v)")
            self.emit(d, "if len(e) != len(v): return None")
            self.emit(d, "v = e")
        elif k == "list":
            if all(f.kind == "bool" for _, f in rule.fields):
                self.emit(d, "if v.__class__ is not _list: return None")
                self.emit(d, f"v = _records(v, {self.const(frozenset(n for n, _ in rule.fields))})")
                self.emit(d, "if v is None: return None")
            else:  # records with other field kinds take the general path
                self.emit(d, "return None")
        else:  # pragma: no cover - the vocabulary has no other kinds
            self.emit(d, "return None")
        local = self.bind.get(target)
        if self.flat:
            self.emit(d, f"out[{self.const(target)}] = {local + ' = ' if local else ''}v")
        else:
            self.emit(d, f"{local} = v")

    def _bounds(self, d: int, rule: "Rule") -> None:
        as_value = Decimal if rule.kind == "decimal" else (lambda x: x)  # Decimal vs Decimal compares fastest
        if rule.minimum is not None:
            self.emit(d, f"if v < {self.const(as_value(rule.minimum))}: return None")
        if rule.maximum is not None:
            self.emit(d, f"if v > {self.const(as_value(rule.maximum))}: return None")

    def optional(self, d: int, mapping: str, key: str, path: str) -> None:
        """`v = mapping[key]` when present and not null (null is unknown: the same as absent)."""
        self.emit(d, f"v = {mapping}.get({self.const(key)})")
        self.emit(d, "if v is None:" if path in self.flag else "if v is not None:")
        if path in self.flag:
            self.emit(d, "    u = 1")
            self.emit(d, "else:")


def write_fast(checker: "FactChecker", bind: dict[str, str] | None = None) -> _Writer:
    """The fast path's body. `bind`: also store these flat paths in locals."""
    w = _Writer(bind)
    heads = checker.order
    bit = {h: 1 << i for i, h in enumerate(heads)}
    w.emit(1, "if F.__class__ is not _dict: return None")
    # A key the vocabulary does not know: the reporting path names it.
    w.emit(1, f"if not F.keys() <= {w.const(frozenset(heads))}: return None")
    w.emit(1, "out = {}")
    w.emit(1, "mask = 0")
    for head in heads:
        w.optional(1, "F", head, head)
        if head in checker.top:
            w.leaf(2, checker.top[head], head)
            w.emit(2, f"mask |= {bit[head]}")
            continue
        rules = checker.subjects[head]
        w.emit(2, "if v.__class__ is not _dict: return None")
        w.emit(2, f"if not v.keys() <= {w.const(frozenset(rules))}: return None")
        w.emit(2, "s = v")
        w.emit(2, f"if s: mask |= {bit[head]}")
        for name, rule in rules.items():
            w.optional(2, "s", name, f"{head}.{name}")
            w.leaf(3, rule, f"{head}.{name}")
    subjects = tuple(frozenset(h for h in heads if m & bit[h]) for m in range(1 << len(heads)))
    w.emit(1, f"out['$subjects'] = {w.const(subjects)}[mask]")
    return w


def write_fused(checker: "FactChecker", bind: dict[str, str], expect: frozenset, flag: frozenset) -> _Writer:
    """The checks of a fused program, for nested facts whose top-level keys are exactly `expect`,
    each given (a subject not empty): every fact of them into its local of `bind` (no flat
    mapping), `u` set when a fact of `flag` is left out or null; anything else returns None."""
    w = _Writer(bind, flag, flat=False)
    w.emit(1, "if F.__class__ is not _dict: return None")
    w.emit(1, f"if F.keys() != {w.const(frozenset(expect))}: return None")
    for head in (h for h in checker.order if h in expect):
        w.emit(1, f"v = F[{w.const(head)}]")
        if head in checker.top:
            w.emit(1, "if v is None: return None")
            w.leaf(1, checker.top[head], head)
            continue
        rules = checker.subjects[head]
        w.emit(1, "if v.__class__ is not _dict or not v: return None")
        w.emit(1, f"if not v.keys() <= {w.const(frozenset(rules))}: return None")
        w.emit(1, "s = v")
        for name, rule in rules.items():
            w.optional(1, "s", name, f"{head}.{name}")
            w.leaf(2, rule, f"{head}.{name}")
    return w


NAMESPACE = {"_MISS": _MISS, "_Dec": Decimal, "_date": date, "_iso": date.fromisoformat,
             "_DECIMAL": _DECIMAL, "_DATE": _DATE, "_fs": frozenset, "_records": _records, "_dict": dict,
             "_list": list}
BUILTINS = {"len": len, "ValueError": ValueError, "str": str, "int": int, "bool": bool}


def generate_fast(checker: "FactChecker") -> Callable[[Any], dict | None]:
    w = write_fast(checker)
    w.emit(1, "return out")
    source = "def _fast(F):\n" + "\n".join(w.lines) + "\n"
    code = compile(source, "<facts fast path>", "exec")
    fn_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    namespace = {**w.consts, **NAMESPACE, "__builtins__": BUILTINS}
    fn = types.FunctionType(fn_code, namespace, "_fast")
    fn.source = source  # type: ignore[attr-defined]  # for debugging
    return fn
