"""Facts validation and one variant's rules, fused into one generated function.

For the common case — nested facts the validator's fast path accepts, giving exactly the
subjects of one variant — one function reads each fact once, checks it, keeps it in a local
(the rules read it there; the Decision keeps the values and builds its flat facts mapping
only when asked), runs the rules and makes the Decision: no second read of every fact, no
second call. Anything else returns None and the engine takes
the two-step path (validator, then program), so the fused function never reports. Built from
the parts factcheck_gen and compiler wrote; like them, a code object wrapped with
types.FunctionType: nothing is eval'd or exec'd.
"""
from __future__ import annotations

import types
from datetime import date
from typing import TYPE_CHECKING, Callable

from .codegen import Gen
from .errors import PolicyLimitError
from .decision import MISSING, Decision
from .factcheck_gen import BUILTINS, NAMESPACE, write_fused
from .runtime import RUNTIME

if TYPE_CHECKING:
    from .compiler import Program
    from .decision import Shape
    from .factcheck import FactChecker


def fuse(checker: "FactChecker", program: "Program", subjects: frozenset,
         make_shape: Callable[[tuple[str, ...], dict[str, int], dict[str, object], bool], "Shape"],
         gates: tuple = (), trace: bool = False) -> tuple[Callable[..., "Decision | None"], Callable | None]:
    """(fn, many). fn(nested facts whose top-level keys are `subjects`) → its Decision, or None.
    many(cases, i, out, late): the same for cases[i], cases[i+1], … in one loop, each Decision
    appended to the list `out`, until a case fn would not take (other keys, or None) or the end: returns its index
    (the caller takes that case the general way). A Decision not judged (below) is also reported
    by its index, appended to the list `late`. An exception leaves the failing case's index at i + the number appended.
    `make_shape(fact paths, index, fixed, judged)`: the Shape of the Decisions it makes, whose values
    are the facts' and then those of the program's items that are not constants (`index`:
    item → position; `fixed`: item → its constant value). `gates` (RuleEngine.gates): a Decision
    gets the shape made with judged=True when each gate's date is a date within its range.
    `trace`: fn(facts, T) records every node's value in T (preset with the folded items'), as
    Program.traced does, and keeps T as the Decision's trace; no loop (many is None)."""
    gen = Gen(program._slots, program._notes, program.node_ids, trace=True) if trace else program._gen
    # The facts of the subjects given are usually all there: a second body of the rules takes
    # them as known (no Unknown tests); a given subject that lacks one (or gives it as null)
    # takes the general body, as does a fact of a subject the case does not have.
    given = frozenset(p for p in gen.fact_local if p.partition(".")[0] in subjects)
    known = Gen(program._slots, program._notes, program.node_ids, trace=trace, known=given, pool=gen)
    if known.fact_local != gen.fact_local or known.out != gen.out:  # pragma: no cover - same slots, same names
        raise AssertionError("fused: the two bodies disagree on names")
    # Every fact of the subjects given gets a local: the rules' own, or one for the Decision only.
    paths = tuple(p for p in checker.paths if p.partition(".")[0] in subjects)
    bind = {p: gen.fact_local.get(p) or f"_v{i}" for i, p in enumerate(paths)}
    # A fact the case leaves out reads as its own Unknown, as in the program alone.
    absent = {p: gen.unknown_of.get(p, "_MISSING") for p in paths}
    check = write_fused(checker, bind, subjects, given, absent)
    # The facts of subjects the case lacks: their Unknowns, the same in every case.
    lacking = [f"{local} = {gen.unknown_of[path]}" for path, local in gen.fact_local.items() if path not in bind]
    # The Decision keeps the facts and the items that are not constants.
    # An item set from another (or from a constant) in both bodies shares its position (or is fixed).
    constant, roots = {}, {}
    for spec in program._slots:
        local = gen.slot_local[spec.key]
        name = gen.const_slot.get(spec.key) or gen.local_const.get(local)
        root = gen.alias.get(local, local), known.alias.get(local, local)
        if name is None and root[0] == root[1] and _is_const(gen, root[0]):
            name = root[0]
        constant[spec.key] = name
        if name is None:
            roots.setdefault(root, spec.key)
    computed = list(dict.fromkeys(roots.values()))
    at = {key: len(paths) + i for i, key in enumerate(computed)}
    index = {s.key: at[roots[gen.alias.get(gen.slot_local[s.key], gen.slot_local[s.key]),
                              known.alias.get(gen.slot_local[s.key], gen.slot_local[s.key])]]
             for s in program._slots if constant[s.key] is None}
    fixed = {key: known.value_of(name) for key, name in constant.items() if name is not None}
    body = ["u = 0"] + [line[4:] for line in check.lines]
    body += [f"_asof = {bind['as_of'] if 'as_of' in subjects else '_AS_OF_UNKNOWN'}", "if u:"]
    starts = (len(body), len(body) + len(gen.lines or [""]) + 1)  # where each body of the rules begins
    body += [line for line in gen.lines or ["    pass"]] + ["else:"] + [line for line in known.lines or ["    pass"]]
    body += ["d = _new(_Decision)", f"d._v = [{', '.join([bind[p] for p in paths] + [gen.slot_local[k] for k in computed])}]"]
    tests, gate_consts = _gates(gates, bind, fixed, gen.slot_local)
    judged = "_SHAPE" if not tests else "_SHAPE_J" if tests == ["True"] else None
    shape = judged or f"_SHAPE_J if {' and '.join(tests)} else _SHAPE"
    one = ([f"def _fused(F{', T' if trace else ''}):"] + [f"    {x}" for x in lacking + body]
           + [f"    d._s = {shape}", f"    d._x = {'{_TRACE: T}' if trace else 'None'}", "    return d"])
    loop = (["def _many(_C, _i, _out, _late):"] + [f"    {x}" for x in lacking]
            + ["    _n = len(_C)", "    while _i < _n:", "        F = _C[_i]"]  # the body checks F
            + [f"        {x}".replace("return None", "return _i") for x in body]
            + ([f"        d._s = {judged}"] if judged else
               [f"        if {' and '.join(tests)}: d._s = _SHAPE_J", "        else:", "            d._s = _SHAPE",
                "            _late.append(_i)"])
            + ["        d._x = None", "        _out.append(d)", "        _i += 1", "    return _i"])
    namespace = {**NAMESPACE, **RUNTIME, **known.consts, **check.consts, "_NODES": program.nodes,
                 "_new": Decision.__new__, "_Decision": Decision, "_MISSING": MISSING,
                 "_SHAPE": make_shape(paths, index, fixed, False), "_SHAPE_J": make_shape(paths, index, fixed, True),
                 "_TRACE": "trace", **gate_consts, "__builtins__": {**BUILTINS, "enumerate": enumerate, "len": len}}
    before_one, before_loop = 1 + len(lacking), 4 + len(lacking)  # lines before the body
    return (_function(one, "_fused", namespace, program, gen, known, [before_one + x for x in starts]),
            None if trace else _function(loop, "_many", namespace, program, gen, known, [before_loop + x for x in starts]))


def _function(lines: list[str], name: str, namespace: dict, program: "Program", gen: Gen, known: Gen,
              starts: list[int]) -> Callable:
    source = "\n".join(lines) + "\n"
    try:
        code = compile(source, f"<policy {name}>", "exec")
    except (SyntaxError, RecursionError, MemoryError) as exc:  # the checker's shape limits should prevent this
        raise PolicyLimitError(f"规则过于复杂，无法编译 rules too complex to compile: {type(exc).__name__}: {exc}") from None
    fn_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    fn = types.FunctionType(fn_code, namespace, name)
    fn.source = source  # type: ignore[attr-defined]  # for debugging
    at = {}
    for body, first in zip((gen, known), starts):  # 1-based line numbers of each body's first line
        at.update({first + 1 + i: nid for i, nid in enumerate(body.line_node) if nid is not None})
    program._lines[fn_code] = at
    return fn


def _is_const(gen: Gen, name: str) -> bool:
    return name in gen.consts or name in ("True", "False", "None") or name.startswith("(")


def _gates(gates: tuple, bind: dict[str, str], fixed: dict[str, object],
           slot_local: dict[str, str]) -> tuple[list[str], dict[str, object]]:
    """The tests that a Decision is final (RuleEngine.gates): ["True"] when none is needed,
    [] when one can never hold (a date the case cannot give): such a Decision is looked at again."""
    tests, consts = [], {}
    for i, (_, path, key, lo, hi) in enumerate(gates):
        if path is not None:
            local = bind.get(path)  # a fact of a subject the case lacks: unknown
        elif key in fixed:
            day = fixed[key]
            if day.__class__ is date and lo <= day <= hi:  # type: ignore[operator]
                continue
            local = None
        else:
            local = slot_local.get(key)  # type: ignore[arg-type]
        if local is None:
            return [], {}
        consts[f"_glo{i}"], consts[f"_ghi{i}"] = lo, hi
        within = f"_glo{i} <= {local}" + (f" <= _ghi{i}" if hi < date.max else "")  # an open end: no test
        tests.append(f"({local}.__class__ is _date and {within})")
    return tests or ["True"], consts
