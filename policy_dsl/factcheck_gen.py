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

from .values import interned

if TYPE_CHECKING:
    from .factcheck import FactChecker, Rule

# ASCII digits only: a subset of the schema's \d patterns, so everything accepted here is valid there.
_DECIMAL = re.compile(r"-?[0-9]+(\.[0-9]+)?").fullmatch
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}").fullmatch
_MISS = object()
_BAD = object()  # what a converter returns for a value the fast path cannot take


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
    def __init__(self, bind: dict[str, str] | None = None, flag: frozenset = frozenset(), flat: bool = True,
                 absent: dict[str, str] | None = None) -> None:
        self.flat = flat        # store each value in the flat mapping `out`
        self.absent = absent or {}  # flat path → what its local holds when the fact is not given
        self.lines: list[str] = []
        self.consts: dict[str, object] = {}
        self.bind = bind or {}  # flat path → a local of the fused program that also receives the value
        self.flag = flag        # flat paths whose absence sets `u` (a fused program's rules then take the general body)

    def const(self, value: object) -> str:
        name = f"_c{len(self.consts)}"
        self.consts[name] = interned(value)
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
        elif k in ("decimal", "date"):
            # already of its type and in range: one chained test; anything else: the rule's converter
            self.emit(d, f"if not ({' and '.join(_fine(self, rule, 'v'))}):")
            self.emit(d, f"    v = {self.const(_converter(rule))}(v)")
            self.emit(d, "    if v is _BAD: return None")
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
        if path in self.flag or path in self.absent:
            self.emit(d, "if v is None:")
            if path in self.flag:
                self.emit(d, "    u = 1")
            if path in self.absent:
                self.emit(d, f"    {self.bind[path]} = {self.absent[path]}")
            self.emit(d, "else:")
        else:
            self.emit(d, "if v is not None:")


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


def write_fused(checker: "FactChecker", bind: dict[str, str], expect: frozenset, flag: frozenset,
                absent: dict[str, str]) -> _Writer:
    """The checks of a fused program, for nested facts whose top-level keys are exactly `expect`
    (anything else returns None), each given (a subject not empty): every fact of
    them into its local of `bind` (no flat mapping), or `absent[path]` when not given; `u` set
    when a fact of `flag` is left out or null; anything unusual returns None.

    A value already of its final type and in range (a Decimal, finite and not negative, a date
    in range, …) is taken with one chained test; anything else goes through the converter of its
    rule (`_c3(v)`: the value converted, or _BAD when the fast path cannot take it)."""
    w = _Writer(bind, flag, flat=False, absent=absent)
    # the keys: as many as expected, and each expected one read below (so a program may be tried on any case)
    w.emit(1, f"if F.__class__ is not _dict or len(F) != {len(expect)}: return None")
    for head in (h for h in checker.order if h in expect):
        if head in checker.top:
            w.emit(1, f"v = F.get({w.const(head)})")  # (a loop over cases reads other cases' keys too)
            w.emit(1, "if v is None: return None")
            w.leaf(1, checker.top[head], head)
            continue
        rules = checker.subjects[head]
        w.emit(1, f"s = F.get({w.const(head)})")
        w.emit(1, "if s.__class__ is not _dict or not s: return None")
        w.emit(1, "_m = 0")  # facts of it read as None (left out or null)
        # The facts the rules use first. When the subject has no other key, the facts only the
        # Decision keeps are all left out: not looked for.
        used = [n for n in rules if f"{head}.{n}" in w.flag]
        rest = [n for n in rules if f"{head}.{n}" not in w.flag]
        for name in used:
            _fused_leaf(w, rules[name], f"{head}.{name}", name, 1)
        d = 1
        if used and rest:
            w.emit(1, f"if len(s) + _m == {len(used)}:")
            for name in rest:
                w.emit(2, f"{w.bind[f'{head}.{name}']} = {w.absent.get(f'{head}.{name}', '_MISSING')}")
            w.emit(1, "else:")
            d = 2
        for name in rest:
            _fused_leaf(w, rules[name], f"{head}.{name}", name, d)
        # A key it does not know: only when it has more keys than the facts read (or a null), look.
        w.emit(d, f"if len(s) + _m != {len(rules)} and not s.keys() <= {w.const(frozenset(rules))}: return None")
    return w


def _fused_leaf(w: _Writer, rule: "Rule", path: str, name: str, d: int) -> None:
    local = w.bind[path]
    w.emit(d, f"{local} = s.get({w.const(name)})")  # (a call CPython specialises; a bound `g` it does not)
    missing = w.absent.get(path, "_MISSING")
    w.emit(d, f"if {local} is None:")
    w.emit(d + 1, "_m += 1")
    if path in w.flag:
        w.emit(d + 1, "u = 1")
    if missing != "_MISSING":  # None → its Unknown (MISSING is None: nothing to do)
        w.emit(d + 1, f"{local} = {missing}")
    k, lo, hi = rule.kind, rule.minimum, rule.maximum
    if k == "bool":
        w.emit(d, f"elif {local}.__class__ is not _bool: return None")
    elif k == "string":
        w.emit(d, f"elif {local}.__class__ is not str: return None")
    elif k == "enum":
        w.emit(d, f"elif {local}.__class__ is not str or {local} not in {w.const(frozenset(rule.values))}: return None")
    elif k == "int":
        bounds = "".join(f" or {local} {op} {w.const(b)}" for op, b in (("<", lo), (">", hi)) if b is not None)
        w.emit(d, f"elif {local}.__class__ is not int{bounds}: return None")
    elif k in ("decimal", "date"):
        w.emit(d, f"elif not ({' and '.join(_fine(w, rule, local))}):")
        w.emit(d + 1, f"{local} = {w.const(_converter(rule))}({local})")
        w.emit(d + 1, f"if {local} is _BAD: return None")
    else:  # sets and records are always converted: the general leaf
        w.emit(d, "elif True:")
        w.emit(d + 1, f"v = {local}")
        w.leaf(d + 1, rule, path)


def _fine(w: _Writer, rule: "Rule", local: str) -> list[str]:
    """The tests that a decimal or date value is already what the rule's converter would return."""
    lo, hi = rule.minimum, rule.maximum
    if rule.kind == "decimal":  # -0 is signed: the converter makes it 0
        fine = [f"{local}.__class__ is _Dec", f"not {local}.is_signed()", f"{local}.is_finite()"]
        if lo is not None and Decimal(lo) > 0:  # type: ignore[arg-type]
            fine.append(f"{local} >= {w.const(Decimal(lo))}")  # type: ignore[arg-type]
        return fine
    rng = f"{w.const(lo)} <= {local}" if lo is not None else ""
    rng += (f" <= {w.const(hi)}" if rng else f"{local} <= {w.const(hi)}") if hi is not None else ""
    return [f"{local}.__class__ is _date"] + ([rng] if rng else [])


def _converter(rule: "Rule") -> Callable[[Any], Any]:
    if rule.kind == "decimal":
        return _decimal_converter(None if rule.minimum is None else Decimal(rule.minimum))  # type: ignore[arg-type]
    return _date_converter(rule.minimum, rule.maximum)  # type: ignore[arg-type]


def _decimal_converter(lo: Decimal | None) -> Callable[[Any], Any]:
    def convert(v: Any) -> Any:
        c = v.__class__
        if c is Decimal:
            if not v.is_finite():
                return _BAD
        elif c is str:
            if _DECIMAL(v) is None:
                return _BAD
            v = Decimal(v)
        elif c is int:
            v = Decimal(v)
        else:
            return _BAD
        if lo is not None and v < lo:
            return _BAD
        return v.copy_abs() if not v else v  # -0.00 is 0.00
    return _remembered(convert)


def _date_converter(lo: date | None, hi: date | None) -> Callable[[Any], Any]:
    def convert(v: Any) -> Any:
        c = v.__class__
        if c is str:
            if _DATE(v) is None:
                return _BAD
            try:
                v = date.fromisoformat(v)
            except ValueError:
                return _BAD
        elif c is not date:
            return _BAD
        if (lo is not None and v < lo) or (hi is not None and v > hi):
            return _BAD
        return v
    return _remembered(convert)


_MEMO_SIZE = 1024


def _remembered(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """`convert`, remembering what it made of each text: facts read from JSON repeat their texts
    (months, dates), and a lookup costs a tenth of reading one again. Bounded: emptied when full."""
    memo: dict[str, Any] = {}

    def remembered(v: Any) -> Any:
        if v.__class__ is str:
            got = memo.get(v)
            if got is None:
                if len(memo) >= _MEMO_SIZE:
                    memo.clear()
                got = memo[v] = convert(v)
            return got
        return convert(v)
    return remembered


NAMESPACE = {"_MISS": _MISS, "_BAD": _BAD, "_Dec": Decimal, "_date": date, "_iso": date.fromisoformat,
             "_DECIMAL": _DECIMAL, "_DATE": _DATE, "_fs": frozenset, "_records": _records, "_dict": dict,
             "_list": list, "_bool": bool}
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
