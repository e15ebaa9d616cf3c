"""Load → check → compile once; evaluate many fact sets.

`RuleEngine` is the embedding API: thread-safe (compiled functions keep no state
between calls), and each evaluation returns a Decision.

A case only makes the clauses about its subjects applicable (a unit case: the unit
clauses and the `always` ones), so the engine compiles, on first need, one program per
combination of subjects present: the named items of the applicable clauses and what they
read, nothing else. Clauses about subjects the case lacks cost nothing. Every such
program numbers the expression nodes as the whole-set program does, so traces and
explanations are the same whichever program ran.
"""
from __future__ import annotations

import contextvars
import threading
from dataclasses import dataclass
from itertools import chain, islice
from datetime import date
from decimal import getcontext, setcontext
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Mapping

from . import nodes as n
from . import types as T
from .checker import Analysis, analyse, split_key
from .compiler import Program, SlotSpec, compile_program
from .decision import CaseError, ClauseResult, Decision, Shape
from .errors import CheckFailed, FactsError, PolicyError, PolicyNameError, did_you_mean
from .factcheck import checker
from .fused import fuse
from .loader import load_rule_set, resolve_set_path
from .model import RuleSet
from .slotspecs import closure, parameter_value, slot_spec, static_values
from .values import CONTEXT, isolated
from .vocabulary import Vocabulary

_NONE = object()
__all__ = ["RuleEngine", "Decision", "ClauseResult", "CaseError", "build", "load", "parameter_value"]


@dataclass
class Variant:
    """The program for one combination of subjects: which clauses apply, where each value is."""

    program: Program
    applicable: frozenset[str]
    index: dict[str, int]
    folded: tuple[SlotSpec, ...]                 # items computed once, at build time
    shape: Shape                                 # what its Decisions share
    trace_preset: dict[int, object] | None = None  # their node values, for traces (on first traced use)


class RuleEngine:
    def __init__(self, rule_set: RuleSet, analysis: Analysis, program: Program, vocab: Vocabulary,
                 specs: dict[str, SlotSpec] | None = None, targets: frozenset[str] | None = None) -> None:
        self.rule_set, self.analysis, self.program, self.vocab = rule_set, analysis, program, vocab
        self.slot_index = {k: i for i, k in enumerate(program.keys)}
        self._slot_index = self.slot_index  # older name
        self._specs = specs if specs is not None else {k: slot_spec(rule_set, analysis, k) for k in program.keys}
        self.targets = targets
        # (clause id, conclusions reported) in rule-set order; with targets, only the targets.
        if targets is None:
            self.reported = tuple((cid, tuple(c.conclusions)) for cid, c in rule_set.clauses.items())
        else:
            self.reported = tuple((cid, tuple(k.split(".", 1)[1] for k in sorted(targets) if split_key(k)[0] == cid))
                                  for cid in rule_set.clauses if any(split_key(k)[0] == cid for k in targets))
        self._checker = checker(vocab)
        self._fast = self._checker.fast
        self._static, self._static_program = static_values(analysis, self._specs, program)
        self._static_trace: dict[int, object] | None = None
        self._variants: dict[frozenset, Variant] = {}
        self._fused: dict[frozenset, tuple[Variant, Callable, Callable]] = {}  # keys of the nested facts → fused
        self._ordered: dict[tuple, tuple[Variant, Callable, Callable]] = {}  # the same by the keys in their order
        self._traced_fused: dict[frozenset, tuple[Variant, Callable, None]] = {}  # likewise, traced
        # the fused program of the last case `evaluate` took (any thread's): the next is usually alike
        self._last: tuple[Variant, Callable, Callable] | None = None
        self._traced_ordered: dict[tuple, tuple[Variant, Callable, None]] = {}
        self._heads = frozenset(self._checker.order)
        # (clause id, period fact path or None, period item key or None, lo, hi): dated clauses whose
        # period date, when applicable, must be a date in [lo, hi] for a Decision to be final — set
        # by the edition layer (periods/chain.py), tested in the fused programs (Shape.judged)
        self.gates: tuple[tuple[str, str | None, str | None, date, date], ...] = ()
        self._lock = threading.Lock()
        self._local = threading.local()

    @property
    def name(self) -> str:
        return self.rule_set.name

    def slot_type(self, key: str) -> T.Type:
        return self.analysis.slot_types[key]

    # evaluation -------------------------------------------------------------------------------------
    def evaluate(self, facts: Mapping[str, Any], *, as_of: date | None = None, trace: bool = False,
                 source: str = "") -> Decision:
        """Validate `facts` (nested by subject), evaluate the clauses the case is about.
        Raises FactsError (every problem, by fact path) or PolicyEvaluationError."""
        if as_of is not None and isinstance(facts, Mapping):
            facts = {**facts, "as_of": as_of}
        if not trace and facts.__class__ is dict:
            try:
                run = self._local.run
            except AttributeError:
                run = self._runner()
            last = self._last
            if last is not None:  # the program of the previous case first: it checks the keys itself
                try:  # in the rules' own decimal context, never the caller's
                    got = run(last[1], facts)
                except ArithmeticError as exc:
                    raise last[0].program._arithmetic_error(exc) from None
                if got is not None:
                    return got
            hit = self._ordered.get(tuple(facts)) or self._fused_for(facts)
            if hit is not None and hit is not last:  # validation, rules and the Decision in one generated function
                try:
                    got = run(hit[1], facts)
                except ArithmeticError as exc:
                    raise hit[0].program._arithmetic_error(exc) from None
                if got is not None:
                    self._last = hit
                    return got
        elif facts.__class__ is dict:
            hit = self._traced_ordered.get(tuple(facts)) or self._traced_for(facts)
            if hit is not None:  # the same, recording every node's value
                try:
                    run = self._local.run
                except AttributeError:
                    run = self._runner()
                try:
                    got = run(hit[1], facts, dict(hit[0].trace_preset or self._preset(hit[0])))
                except ArithmeticError as exc:
                    raise hit[0].program._arithmetic_error(exc) from None
                if got is not None:
                    return got
        flat = self._fast(facts)  # the compiled validator's fast path; None: look closer
        if flat is None:
            flat = self._checker.prepare(facts, source)
        return self.evaluate_prepared(flat, trace=trace)

    def evaluate_many(self, cases: Iterable[Mapping[str, Any]], *, as_of: date | None = None,
                      trace: bool = False) -> Iterator[Decision | CaseError]:
        """One result per case, in order: a Decision, or a CaseError for a case that could not be
        evaluated (its index and every problem). Lazy: the input is read as the results are
        consumed (a chunk at a time: 1, 2, 4, … cases, then at most 1,024), so it may be
        unbounded. Same answers as `evaluate`, case by case."""
        return self._stream(cases, as_of, trace, None)

    def _stream(self, cases: Iterable[Mapping[str, Any]], as_of: date | None, trace: bool,
                judge: Callable[[Decision, int], Decision | CaseError] | None) -> Iterator[Decision | CaseError]:
        """evaluate_many; `judge(decision, index)` replaces each Decision whose shape is not `judged`
        (the edition layer's check). The results of a chunk are handed out by itertools.chain,
        not by resuming a generator per result."""
        return chain.from_iterable(self._chunks(cases, as_of, trace, judge))

    def _chunks(self, cases: Iterable[Mapping[str, Any]], as_of: date | None, trace: bool,
                judge: Callable[[Decision, int], Decision | CaseError] | None) -> Iterator[list[Decision | CaseError]]:
        it = iter(cases)
        index, size = 0, 1
        while True:
            # Read in the caller's decimal context: reading may run the caller's own code.
            chunk = list(islice(it, size))
            if not chunk:
                return
            if as_of is not None:
                chunk = [{**facts, "as_of": as_of} if isinstance(facts, Mapping) else facts for facts in chunk]
            results, late = self._chunk(chunk, index, trace)
            if judge is not None:
                for k in late:
                    results[k] = judge(results[k], index + k)  # type: ignore[arg-type]
            index, size = index + len(chunk), min(2 * size, 1024)  # the first result comes after one case
            yield results  # the caller's context is back while the caller runs

    def _chunk(self, chunk: list, start: int, trace: bool) -> tuple[list[Decision | CaseError], list[int]]:
        """Evaluate some cases in one switch to the rules' decimal context (one per thread): the
        results, and the positions of the Decisions whose shape is not `judged`. A run of cases
        with the same top-level keys goes through their fused program's loop."""
        fast, prepare, ordered, make = self._fast, self._checker.prepare, self._ordered, Decision._of
        variants, context, out, late = self._variants, self._context(), [], []
        append, later = out.append, late.append
        saved = getcontext()
        setcontext(context)
        try:
            i, n = 0, len(chunk)
            while i < n:
                facts = chunk[i]
                if not trace and facts.__class__ is dict:
                    hit = ordered.get(tuple(facts))
                    if hit is None:
                        setcontext(saved)  # building programs is no part of the rules' arithmetic
                        try:
                            hit = self._fused_for(facts)
                        finally:
                            setcontext(context)
                    if hit is not None:  # validation, rules and the Decision in one generated loop
                        done = len(out)
                        try:
                            j = hit[2](chunk, i, out, late)
                        except PolicyError as exc:
                            i += len(out) - done  # the case that raised
                            append(CaseError(start + i, (("", exc.render()),), "evaluation"))
                            i += 1
                            continue
                        except ArithmeticError as exc:  # past the number limits: at the expression that did it
                            i += len(out) - done
                            append(CaseError(start + i, (("", hit[0].program._arithmetic_error(exc).render()),),
                                             "evaluation"))
                            i += 1
                            continue
                        if j > i:
                            i = j
                            continue
                setcontext(saved)  # the general path, as `evaluate` takes it
                index, i = start + i, i + 1
                try:
                    flat = fast(facts)
                    if flat is None:
                        flat = prepare(facts)
                    subjects = flat["$subjects"]
                    variant = variants.get(subjects) or self._variant(subjects)
                except FactsError as exc:
                    append(CaseError(index, tuple(exc.problems)))
                    continue
                finally:
                    setcontext(context)
                recorded: dict | None = dict(variant.trace_preset or self._preset(variant)) if trace else None
                try:
                    values = variant.program._fast(flat) if recorded is None else variant.program.traced(flat, recorded)
                except PolicyError as exc:
                    append(CaseError(index, (("", exc.render()),), "evaluation"))
                    continue
                except ArithmeticError as exc:
                    append(CaseError(index, (("", variant.program._arithmetic_error(exc).render()),), "evaluation"))
                    continue
                later(len(out))
                append(make(variant.shape, values, flat, recorded))
        finally:
            setcontext(saved)
        return out, late

    def evaluate_prepared(self, flat: dict[str, Any], *, trace: bool = False) -> Decision:
        """Evaluate facts already validated and flattened (facts.prepare)."""
        subjects = flat.get("$subjects", frozenset())
        variant = self._variants.get(subjects) or self._variant(subjects)
        recorded: dict[int, object] | None = dict(variant.trace_preset or self._preset(variant)) if trace else None
        try:
            run = self._local.run
        except AttributeError:
            run = self._runner()
        try:  # in the rules' own decimal context, never the caller's
            values = run(variant.program._fast, flat) if recorded is None else run(variant.program.traced, flat, recorded)
        except ArithmeticError as exc:  # past the number limits: reported at the expression that did it
            raise variant.program._arithmetic_error(exc) from None
        return Decision._of(variant.shape, values, flat, recorded)

    def all_slots(self, flat: dict[str, Any]) -> dict[str, object]:
        """Every named item of the set on these facts, applicable or not (the whole-set program)."""
        return dict(zip(self.program.keys, self.program.run(flat)))

    # programs per combination of subjects ---------------------------------------------------------------
    def _fused_for(self, facts: dict) -> tuple[Variant, Callable, Callable] | None:
        """The fused program for these nested facts' top-level keys, remembered by their order too
        (a tuple of the keys is cheaper to make and look up than a frozenset)."""
        keys = frozenset(facts)
        hit = self._fused.get(keys) or self._fuse(keys)
        if hit is not None:
            self._ordered[tuple(facts)] = hit
        return hit

    def _fuse(self, keys: frozenset, trace: bool = False) -> tuple[Variant, Callable, Callable] | None:
        """The fused program for nested facts with these top-level keys (each taken to be given);
        None when a key is not in the vocabulary (the reporting path names it). `trace`: the traced one."""
        if not keys <= self._heads:
            return None
        variant = self._variants.get(keys) or self._variant(keys)

        def shape(paths: tuple[str, ...], index: dict[str, int], fixed: dict[str, object], judged: bool) -> Shape:
            return Shape(self, variant.applicable, index, paths, keys, fixed, judged)

        gates = tuple(g for g in self.gates if g[0] in variant.applicable)
        hit = (variant, *fuse(self._checker, variant.program, keys, shape, gates, trace))
        (self._traced_fused if trace else self._fused)[keys] = hit  # type: ignore[assignment]
        return hit  # two threads may both build it: the same function, no harm

    def _traced_for(self, facts: dict) -> tuple[Variant, Callable, None] | None:
        """The traced fused program for these nested facts' top-level keys (see _fused_for)."""
        keys = frozenset(facts)
        hit = self._traced_fused.get(keys) or self._fuse(keys, trace=True)
        if hit is not None:
            self._traced_ordered[tuple(facts)] = hit
        return hit  # type: ignore[return-value]

    def _preset(self, variant: Variant) -> dict[int, object]:
        """A trace starts from the node values of the folded items, as if they had been computed."""
        if variant.trace_preset is None:
            if self._static_trace is None:
                recorded: dict[int, object] = {}
                if self._static_program is not None:  # the items folded are these, with these node ids
                    self._static_program.run({"$subjects": frozenset()}, recorded)
                self._static_trace = recorded  # published whole: other threads never see it half filled
            variant.trace_preset = {nid: value for s in variant.folded for nid in self._static_nodes(s)
                                    for value in [self._static_trace.get(nid, _NONE)] if value is not _NONE}
        return variant.trace_preset

    def _static_nodes(self, spec: SlotSpec) -> Iterator[int]:
        ids = self.program.node_ids
        for root in ([spec.expr] if spec.expr is not None else []) + [x for pair in spec.exceptions for x in pair]:
            for node in n.walk(root):
                if id(node) in ids:
                    yield ids[id(node)]

    def _runner(self) -> Callable:
        """run(fn, arg): fn(arg) with the rules' decimal context current, the caller's untouched —
        entering a contextvars.Context of this thread's own is cheaper than two setcontext calls."""
        scope = contextvars.Context()
        scope.run(setcontext, self._context())
        self._local.run = scope.run
        return scope.run

    def _context(self):
        ctx = getattr(self._local, "context", None)
        if ctx is None:
            ctx = self._local.context = CONTEXT.copy()  # one per thread: contexts carry mutable flags
        return ctx

    def _variant(self, subjects: frozenset) -> Variant:
        key = frozenset(subjects)
        with self._lock:
            hit = self._variants.get(key)
            if hit is not None:
                return hit
            applicable = frozenset(cid for cid, c in self.rule_set.clauses.items()
                                   if c.subject == "always" or c.subject in key)
            wanted = {f"{cid}.{name}" for cid in applicable for name in self.rule_set.clauses[cid].items()}
            if self.targets is not None:
                wanted &= self.targets
            keep = closure(self.analysis, wanted)
            keys = [k for k in self.program.keys if k in keep]
            specs = [self._specs[k] for k in keys]
            # Items that read no facts have the same value in every case: computed once (fast path only).
            folded = [SlotSpec(s.key, const=self._static[s.key]) if s.key in self._static else s for s in specs]
            program = compile_program(folded, self.analysis.notes, numbering=(self.program.nodes, self.program.node_ids),
                                      given=key)
            index = {k: i for i, k in enumerate(keys)}
            variant = Variant(program, applicable, index, tuple(s for s in specs if s.key in self._static),
                              Shape(self, applicable, index))
            self._variants[key] = variant
            return variant


@isolated
def build(rule_set: RuleSet, vocab: Vocabulary | None = None, targets: Iterable[str] | None = None,
          analysis: Analysis | None = None) -> RuleEngine:
    """Check and compile a loaded rule set. With `targets` ("clause.name", ...), only those items
    and what they read are compiled, and a Decision reports only them. `analysis`: the set's
    check result, when it is already known (the load cache)."""
    vocab = vocab or rule_set.vocab
    analysis = analysis or analyse(rule_set, vocab)
    if analysis.errors:
        raise CheckFailed(analysis.errors)
    order = analysis.order
    wanted = None
    if targets is not None:
        wanted = frozenset(targets)
        known = set(analysis.order)
        for key in sorted(wanted):
            if key not in known:
                hint = did_you_mean(key, known)
                raise PolicyNameError(f"targets: 规则集 {rule_set.name} 中没有 {key!r} no such item",
                                      expected="clause_id.name", hint=hint)
        order = [k for k in analysis.order if k in closure(analysis, set(wanted))]
    specs = {key: slot_spec(rule_set, analysis, key) for key in order}
    # The whole set's program is written when first needed (the items of clauses a case is not
    # about, read through Decision.slots): each case runs the program of its own subjects.
    program = compile_program([specs[k] for k in order], analysis.notes, lazy=True)
    return RuleEngine(rule_set, analysis, program, vocab, specs, wanted)


def load(path: str | Path, *, targets: Iterable[str] | None = None) -> RuleEngine:  # or an EditionEngine
    """Load, check and compile a rule set directory (or a name under policies/).
    `targets`: see `build`. A set loaded before with the same files comes from the cache
    (policy_dsl.cache) without being parsed and checked again."""
    from . import cache

    from .periods.chain import wrap  # a set whose cases' periods matter gets the edition layer

    set_path = resolve_set_path(path)
    hit = cache.lookup(set_path)
    if hit is not None:
        return wrap(build(hit[0], targets=targets, analysis=hit[1]))
    rule_set = load_rule_set(set_path)
    engine = build(rule_set, targets=targets)
    cache.store(set_path, rule_set, engine.analysis)
    return wrap(engine)
