"""Facts validation and one variant's rules, fused into one generated function.

For the common case — nested facts the validator's fast path accepts, giving exactly the
subjects of one variant — one function reads each fact once, checks it, stores it in the
flat mapping (Decision.facts) and in the local the rules read, then runs the rules: no
second read of every fact, no second call. Anything else returns None and the engine takes
the two-step path (validator, then program), so the fused function never reports. Built from
the parts factcheck_gen and compiler wrote; like them, a code object wrapped with
types.FunctionType: nothing is eval'd or exec'd.
"""
from __future__ import annotations

import types
from typing import TYPE_CHECKING, Callable

from .errors import PolicyLimitError
from .factcheck_gen import BUILTINS, NAMESPACE, write_fast
from .runtime import RUNTIME

if TYPE_CHECKING:
    from .compiler import Program
    from .factcheck import FactChecker


def fuse(checker: "FactChecker", program: "Program", subjects: frozenset) -> Callable[[dict], tuple | None]:
    """fn(nested facts) → (flat facts, slot values in program.keys order), or None."""
    gen = program._gen
    check = write_fast(checker, dict(gen.fact_local), subjects)
    # A fact the case leaves out reads as its own Unknown, as in the program alone.
    head = ["def _fused(F):"] + [f"    {local} = {gen.unknown_of[path]}" for path, local in gen.fact_local.items()]
    head += check.lines + ["    F = out"]  # the rules read as_of (history) from the flat facts
    source = "\n".join(head + gen.lines) + f"\n    return out, [{gen.out}]\n"
    try:
        code = compile(source, "<policy _fused>", "exec")
    except (SyntaxError, RecursionError, MemoryError) as exc:  # the checker's shape limits should prevent this
        raise PolicyLimitError(f"规则过于复杂，无法编译 rules too complex to compile: {type(exc).__name__}: {exc}") from None
    fn_code = next(c for c in code.co_consts if isinstance(c, types.CodeType))
    namespace = {**NAMESPACE, **RUNTIME, **gen.consts, **check.consts, "_NODES": program.nodes,
                 "__builtins__": {**BUILTINS, "enumerate": enumerate}}
    fn = types.FunctionType(fn_code, namespace, "_fused")
    first = len(head) + 1  # line number of the rules' first line
    program._lines[fn_code] = {first + i: nid for i, nid in enumerate(gen.line_node) if nid is not None}
    return fn
