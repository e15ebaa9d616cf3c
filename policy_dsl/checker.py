"""Static analysis of a loaded rule set: names, types, cycles, unused items,
declared conclusion types, the vocabulary contract and delegated bounds.

It returns every diagnostic of a run at once, and the facts the compiler
needs: the annotations of every expression and the order of every slot.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from . import nodes as n
from . import types as T
from . import shape
from .editions import same_level
from .periods.checks import period_problems
from .errors import PolicyError, PolicyLimitError, PolicyNameError, PolicyTypeError, RuleFileError, did_you_mean
from .model import Clause, Named, Parameter, RuleSet
from .source import Span
from .sources import check_quotes
from .setfacts import unknown_fact
from .typer import Annotations, FactBinding, SlotBinding, Typer
from .values import format_typed
from .vocabulary import Vocabulary


@dataclass
class Diagnostic:
    error: PolicyError
    severity: str = "error"  # "error" | "warning"


@dataclass
class Analysis:
    rule_set: RuleSet
    notes: Annotations = field(default_factory=Annotations)
    slot_types: dict[str, T.Type] = field(default_factory=dict)
    deps: dict[str, set[str]] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> list[PolicyError]:
        return [d.error for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[PolicyError]:
        return [d.error for d in self.diagnostics if d.severity == "warning"]


def split_key(key: str) -> tuple[str, str]:
    cid, _, name = key.partition(".")
    return cid, name


class _ClauseScope:
    """What a dotted name means inside one clause (see docs/language.md §2)."""

    def __init__(self, checker: "_Checker", clause: Clause) -> None:
        self.checker, self.clause = checker, clause
        self.used: set[str] = set()

    def resolve(self, ref: n.Ref) -> FactBinding | SlotBinding:
        vocab, rs = self.checker.vocab, self.checker.rs
        head = ref.parts[0]
        if head in vocab.subjects:
            path = ref.dotted
            spec = vocab.facts.get(path)
            if spec is None:
                raise unknown_fact(path, ref.span, vocab, rs)
            return FactBinding(path, spec.type)
        if len(ref.parts) == 1 and head in self.clause.items():
            return self._slot(self.clause, head, ref)
        if head in rs.clauses and len(ref.parts) == 2:
            other = rs.clauses[head]
            if ref.parts[1] not in other.items():
                raise PolicyNameError(f"条款 {head} 中没有 {ref.parts[1]!r} no such item", ref.span, found=ref.dotted,
                                      expected=", ".join(other.items()), hint=did_you_mean(ref.parts[1], other.items()))
            return self._slot(other, ref.parts[1], ref)
        candidates = [*self.clause.items(), *rs.clauses, *vocab.facts]
        raise PolicyNameError(f"未知的名字 {ref.dotted!r} unknown name", ref.span, found=ref.dotted,
                              expected="本条款的参数/定义/条件/结论、其他条款的结论（条款id.名字）或事实（如 unit.layoffs）",
                              hint=did_you_mean(ref.dotted, candidates))

    def _slot(self, clause: Clause, name: str, ref: n.Ref) -> SlotBinding:
        key = f"{clause.id}.{name}"
        self.used.add(key)
        return SlotBinding(key, self.checker.slot_type(key, ref.span))


class _Checker:
    def __init__(self, rs: RuleSet, vocab: Vocabulary) -> None:
        self.rs, self.vocab = rs, vocab
        self.out = Analysis(rs)
        self.scopes = {cid: _ClauseScope(self, c) for cid, c in rs.clauses.items()}
        self.in_progress: list[str] = []
        self.failed: set[str] = set()

    def error(self, exc: PolicyError, severity: str = "error") -> None:
        self.out.diagnostics.append(Diagnostic(exc, severity))

    # slot types, inferred on demand (definitions may use each other in any order)
    def slot_type(self, key: str, use: Span | None = None) -> T.Type:
        if key in self.out.slot_types:
            return self.out.slot_types[key]
        if key in self.in_progress:
            cycle = self.in_progress[self.in_progress.index(key):] + [key]
            raise PolicyNameError(f"循环引用 circular definition: {' → '.join(cycle)}", use,
                                  hint="定义、条件和结论之间不能互相依赖成环")
        cid, name = split_key(key)
        item = self.rs.clauses[cid].items()[name]
        if isinstance(item, Parameter):
            self.out.slot_types[key] = item.type
            return item.type
        self.in_progress.append(key)
        try:
            inferred = self._infer_named(cid, item)
        finally:
            self.in_progress.pop()
        self.out.slot_types[key] = inferred
        return inferred

    def _infer_named(self, cid: str, item: Named) -> T.Type:
        scope = self.scopes[cid]
        typer = Typer(scope, self.out.notes)
        try:
            inferred = typer.infer(item.expr)
        except PolicyError as exc:
            key = f"{cid}.{item.name}"
            if key not in self.failed:
                self.failed.add(key)
                self.error(exc)
            return item.declared or T.ANY
        if item.declared is not None:
            if not T.assignable(inferred, item.declared):
                said = "按词汇表应为" if item.declared_by == "vocabulary" else "声明为"
                self.error(PolicyTypeError(f"{item.name} {said} {item.declared}，表达式却是 {inferred} declared type differs",
                                           item.expr.span, found=str(inferred), expected=str(item.declared)))
            return item.declared
        if item.role == "condition" and inferred.kind != "bool":
            self.error(PolicyTypeError(f"条件 {item.name} 必须是布尔值 a condition must be bool", item.expr.span,
                                       found=str(inferred), expected="bool"))
        return inferred

    # the whole set ----------------------------------------------------------------
    def run(self) -> Analysis:
        order = self._shapes()
        # Type items dependencies-first, so that inferring one never recurses down a long chain.
        for key in order:
            try:
                self.slot_type(key)
            except PolicyError as exc:
                self.error(exc)
        for cid, clause in self.rs.clauses.items():
            for name in clause.items():
                try:
                    self.slot_type(f"{cid}.{name}")
                except PolicyError as exc:
                    self.error(exc)
            self._exceptions(clause)
            self._bounds(clause)
        self._contract()
        self._dependencies()
        self._trace_depth()
        self._unused()
        self._undelegated_overrides()
        self._unfilled_delegations()
        for error in check_quotes(self.rs):
            self.error(error)
        for error in period_problems(self.rs, self.vocab, self.slot_type):
            self.error(error)
        return self.out

    def _unfilled_delegations(self) -> None:
        """A variant is who a base delegates to: each delegated value it neither fills nor passes on
        with its own reason leaves conclusions undetermined. (The base itself is not warned: there
        the delegation is the point.)"""
        base = self.rs.base
        if base is None or self.rs.supersedes:  # an edition is the level that delegates, like its predecessor
            return
        for cid, clause in self.rs.clauses.items():
            base_clause = base.clauses.get(cid)
            for name, p in clause.parameters.items():
                old = base_clause.parameters.get(name) if base_clause else None
                if p.filled or p.delegated is None or old is None or old.delegated != p.delegated:
                    continue
                patch = getattr(clause, "patched_by", None)
                bounds = " ".join(([f"≥ {format_typed(p.bounds[0], p.type.kind)}"] if p.bounds[0] is not None else []) +
                                  ([f"≤ {format_typed(p.bounds[1], p.type.kind)}"] if p.bounds[1] is not None else []))
                self.error(RuleFileError(
                    f"{base.name} 把参数 {cid}.{name} 交由{p.delegated.to}确定，{self.rs.name} 没有填写，"
                    "依赖它的结论将是“未确定” delegated parameter not filled",
                    patch.span if patch is not None else None,
                    expected=f"{p.type}" + (f"，范围 {bounds}" if bounds else "") + f"（{base.name}：{p.delegated.reason}）",
                    hint=(f"在 {patch.file if patch else f'{self.rs.path}/clauses/{cid}.yaml'} 的 parameters 中写 "
                          f"{name}: {{value: …}}；若本市也未确定，写 delegated: {{to: …, reason: …}} 说明原因"),
                    related=old.origin.span if old.origin else None), "warning")

    def _shapes(self) -> list[str]:
        """Syntactic dependencies (before typing): cycles are reported here, with the position of
        the reference that closes them, and the code-nesting limits are checked. Returns an
        order with dependencies first."""
        subjects = frozenset(self.vocab.subjects)
        keys = [f"{cid}.{name}" for cid, c in self.rs.clauses.items() for name in c.items()]
        self.syntactic: dict[str, list[shape.Ref]] = {}
        for cid, clause in self.rs.clauses.items():
            for name in clause.items():
                roots = shape.item_roots(clause, name)
                self.syntactic[f"{cid}.{name}"] = shape.syntactic_refs(self.rs, clause, roots, subjects)
                for root in roots:
                    problem = shape.block_problem(root)
                    if problem:
                        self.error(PolicyLimitError(problem[0], problem[1], hint="拆成几个有名字的定义 split it into named definitions"))
                        self.out.slot_types[f"{cid}.{name}"] = getattr(clause.items()[name], "declared", None) or T.ANY
                        self.failed.add(f"{cid}.{name}")
                        break
        for cycle, span in shape.find_cycle(keys, self.syntactic):
            shown = cycle if len(cycle) <= 12 else [*cycle[:6], f"…（共 {len(cycle) - 1} 项 {len(cycle) - 1} items）", *cycle[-3:]]
            self.error(PolicyNameError(f"循环引用 circular definition: {' → '.join(shown)}", span,
                                       hint="定义、条件和结论之间不能互相依赖成环"))
            for key in cycle:
                if key not in self.out.slot_types:
                    cid, name = split_key(key)
                    self.out.slot_types[key] = getattr(self.rs.clauses[cid].items()[name], "declared", None) or T.ANY
                    self.failed.add(key)
        return _post_order(keys, self.syntactic)

    def _trace_depth(self) -> None:
        ok = {k: [r for r in refs if r.key not in self.failed] for k, refs in self.syntactic.items() if k not in self.failed}
        depths = shape.trace_depths([k for k in self.out.order if k in ok], ok)
        for key in self.out.order:
            if depths.get(key, 0) > shape.MAX_TRACE_DEPTH:
                cid, name = split_key(key)
                item = self.rs.clauses[cid].items()[name]
                self.error(PolicyLimitError(
                    f"{key} 依赖的定义链过深：超过 {shape.MAX_TRACE_DEPTH} 层 depends on a chain of definitions "
                    f"more than {shape.MAX_TRACE_DEPTH} levels deep", item.origin.span if item.origin else None,
                    hint="合并中间定义，减少层层引用"))
                return  # one report: every item after it in the chain is deeper still

    def _undelegated_overrides(self) -> None:
        """A variant may fill what its base delegates; changing anything else is worth a look."""
        base = self.rs.base
        if base is None:
            return
        level = same_level(self.rs)
        for cid, clause in self.rs.clauses.items():
            base_clause = base.clauses.get(cid)
            if base_clause is None:
                continue
            for name, p in clause.parameters.items():
                old = base_clause.parameters.get(name)
                if old is None or old.delegated is not None or p.origin is None or p.origin.set_name == base.name:
                    continue
                if old.origin is not None and old.origin.set_name in level:
                    continue  # set by this level (an earlier edition): an edition may change any of its values
                if (old.value, old.history) != (p.value, p.history):
                    setter = old.origin.set_name if old.origin else base.name  # the level that fixed it
                    self.error(RuleFileError(
                        f"参数 {name} 在 {setter} 中不是委托给下级的参数，{self.rs.name} 改变了它的值 "
                        "a parameter the base set did not delegate is changed",
                        p.value_span or p.origin.span, found=format_typed(p.value, p.type.kind),
                        expected=f"{setter} 的值 {format_typed(old.value, old.type.kind)}",
                        hint="若市级文件确实改变了该标准，请在 source 中引用市级原文，并在 expected-differences.yaml 中声明",
                        related=old.origin.span if old.origin else None), "warning")

    def _exceptions(self, clause: Clause) -> None:
        for rule in clause.exceptions:
            if rule.conclusion not in clause.conclusions:
                self.error(PolicyNameError(f"例外 {rule.id} 指向不存在的结论 {rule.conclusion!r} unknown conclusion",
                                           rule.origin.span if rule.origin else None, found=rule.conclusion,
                                           expected=", ".join(clause.conclusions),
                                           hint=did_you_mean(rule.conclusion, clause.conclusions)))
                continue
            typer = Typer(self.scopes[clause.id], self.out.notes)
            try:
                wt = typer.infer(rule.when)
                if wt.kind not in ("bool", "any"):  # any: already reported (a cycle)
                    raise PolicyTypeError(f"例外 {rule.id} 的 when 必须是布尔值", rule.when.span, found=str(wt), expected="bool")
                vt = typer.infer(rule.value)
                target = self.slot_type(f"{clause.id}.{rule.conclusion}")
                if not T.assignable(vt, target):
                    raise PolicyTypeError(f"例外 {rule.id} 的值类型与结论不符", rule.value.span, found=str(vt), expected=str(target))
            except PolicyError as exc:
                self.error(exc)

    def _bounds(self, clause: Clause) -> None:
        for p in clause.parameters.values():
            lo, hi = p.bounds
            values = [p.value] if p.value is not None else [v for _, v in p.history]
            for v in values:
                if (lo is not None and v < lo) or (hi is not None and v > hi):  # type: ignore[operator]
                    where = p.value_span or (p.origin.span if p.origin else None)
                    k = p.type.kind
                    bounds = " ".join(([f"≥ {format_typed(lo, k)}"] if lo is not None else []) +
                                      ([f"≤ {format_typed(hi, k)}"] if hi is not None else []))
                    self.error(RuleFileError(
                        f"参数 {p.name} 的值 {format_typed(v, k)} 超出上级规定的范围 value outside the delegated bounds",
                        where, found=format_typed(v, k), expected=bounds,
                        related=p.bounds_origin.span if p.bounds_origin else None))

    def _contract(self) -> None:
        """Every clause and conclusion of the vocabulary is given, with its type."""
        for cid, spec in self.vocab.clauses.items():
            clause = self.rs.clauses.get(cid)
            if clause is None:
                if self.rs.vocabulary == "partial":
                    continue
                self.error(RuleFileError(f"词汇表中的条款 {cid}（{spec.zh}）在规则集 {self.rs.name} 中缺失 missing clause"))
                continue
            for name, want in spec.conclusions.items():
                item = clause.conclusions.get(name)
                if item is None:
                    removed = clause.removed.get(f"conclusions.{name}")  # an edition's `remove:` names it: point there
                    self.error(RuleFileError(f"条款 {cid} 缺少词汇表规定的结论 {name} missing conclusion",
                                             removed.span if removed else clause.origin.span if clause.origin else None,
                                             expected=f"{name}: {want}",
                                             hint="词汇表规定的结论不能删除；改写它的表达式即可" if removed else None))
                    continue
                got = self.out.slot_types.get(f"{cid}.{name}")
                if got is not None and got.kind != "any" and not T.assignable(got, want):
                    self.error(PolicyTypeError(f"结论 {cid}.{name} 的类型应为 {want} conclusion type differs from the vocabulary",
                                               item.expr.span, found=str(got), expected=str(want)))

    def _dependencies(self) -> None:
        keys = [f"{cid}.{name}" for cid, c in self.rs.clauses.items() for name in c.items()]
        for key in keys:
            cid, name = split_key(key)
            clause = self.rs.clauses[cid]
            item = clause.items()[name]
            roots = [] if isinstance(item, Parameter) else [item.expr]
            for rule in clause.exceptions:
                if rule.conclusion == name:
                    roots += [rule.when, rule.value]
            self.out.deps[key] = {b.key for r in roots for node in n.walk(r)
                                  if isinstance(b := self.out.notes.bindings.get(id(node)), SlotBinding)}
            if clause.period_by in clause.definitions and (
                    isinstance(item, Parameter) and item.history or name in clause.conclusions):
                # history is chosen by the clause's period date, and the edition that judges the
                # conclusions too: a program computing them computes that date
                self.out.deps[key].add(f"{cid}.{clause.period_by}")
            if key in self.failed:  # not typed (a cycle, a shape limit): what it names still counts as used
                self.out.deps[key] |= {r.key for r in self.syntactic.get(key, ())}
        self.out.order = _topological(keys, self.out.deps, self)

    def _unused(self) -> None:
        used = set().union(*self.out.deps.values()) if self.out.deps else set()
        used |= {f"{cid}.{c.period_by}" for cid, c in self.rs.clauses.items() if c.period_by in c.definitions}
        for cid, clause in self.rs.clauses.items():
            for name, item in [*clause.parameters.items(), *clause.definitions.items()]:
                if item.origin is not None and item.origin.set_name != self.rs.name:
                    continue  # the base's item: this set cannot delete it (policy show lists it as unused)
                if self.rs.base is not None and name in getattr(self.rs.base.clauses.get(cid), "items", dict)():
                    continue  # the base's item, re-valued or re-noted here: the base declared it
                if f"{cid}.{name}" not in used:
                    span = item.origin.span if item.origin else None
                    kind = "参数" if isinstance(item, Parameter) else "定义"
                    self.error(RuleFileError(f"{kind} {name} 未被使用 unused {('parameter' if kind == '参数' else 'definition')}",
                                             span, hint="删除它，或在条件/结论中引用它"), "warning")


def _post_order(keys: list[str], deps: dict[str, list[shape.Ref]]) -> list[str]:
    """Keys with their dependencies first (iterative; back edges of cycles are skipped)."""
    order: list[str] = []
    state: dict[str, int] = {}
    for start in keys:
        if state.get(start):
            continue
        state[start] = 1
        stack = [(start, iter(deps.get(start, ())))]
        while stack:
            key, it = stack[-1]
            ref = next(it, None)
            if ref is None:
                stack.pop()
                state[key] = 2
                order.append(key)
            elif not state.get(ref.key):
                state[ref.key] = 1
                stack.append((ref.key, iter(deps.get(ref.key, ()))))
    return order


def _topological(keys: list[str], deps: dict[str, set[str]], checker: _Checker) -> list[str]:
    """Dependencies first; iterative. Cycles were reported from the syntax already (with positions);
    one found only here still gets a diagnostic."""
    order: list[str] = []
    state: dict[str, int] = {}
    for start in keys:
        if state.get(start):
            continue
        state[start] = 1
        path = [start]
        stack = [iter(sorted(deps.get(start, ())))]
        while stack:
            dep = next(stack[-1], None)
            if dep is None:
                stack.pop()
                key = path.pop()
                state[key] = 2
                order.append(key)
            elif state.get(dep) == 1:
                cycle = path[path.index(dep):] + [dep]
                if not any("循环" in d.error.message and dep in d.error.message for d in checker.out.diagnostics):
                    checker.error(PolicyNameError(f"循环引用 circular reference: {' → '.join(cycle)}"))
            elif not state.get(dep):
                state[dep] = 1
                path.append(dep)
                stack.append(iter(sorted(deps.get(dep, ()))))
    return order


def analyse(rs: RuleSet, vocab: Vocabulary | None = None) -> Analysis:
    return _Checker(rs, vocab or rs.vocab).run()
