"""A checked, resolved rule set → one canonical query over the table `facts`.

Every named item (parameter, definition, condition, conclusion) is translated in
the checker's order; an item SQL cannot express, and everything that depends
on it, is left to the Python engine and listed in `Plan.python` with the
reason. Columns are computed in layers (`WITH l1 AS (SELECT *, … FROM l0)`), each
column in the first layer after its operands.

The query returns, per row of `facts`: `_row`; for each conclusion it covers the
value (NULL when undetermined) and `<clause.name>#missing`, the sorted fact paths
and parameter names that would decide it; `_has_<subject>` for the clauses'
applicability; and `_recheck`, true where the Python engine must decide the row
(a divisor of 0: the Python engine reports an evaluation error there).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Callable

import sqlglot.expressions as e

from .. import types as T
from ..checker import Analysis, split_key
from ..engine import parameter_value
from ..model import Parameter, RuleSet
from ..values import Unknown
from .compare import unify
from .dialects import cast, dec
from .numeric import at_scale, rounded
from .known import fold, specialise
from .missing import Names, choose, decode, merge, of
from .translate import FACT_SCALE, Sink, Sql, Translator, Unsupported, case, col, is_null, literal, p

ROW = "_row"


def sql_type(t: T.Type, scale: int | None = None) -> e.DataType:
    k = t.kind
    if k in FACT_SCALE:
        return dec(FACT_SCALE[k] if scale is None else scale)
    simple = {"bool": "BOOLEAN", "int": "BIGINT", "date": "DATE", "string": "VARCHAR", "enum": "VARCHAR",
              "duration": "VARCHAR", "set": "ARRAY<VARCHAR>"}
    if k in simple:
        return e.DataType.build(simple[k])
    if k == "list" and t.elem is not None and t.elem.kind == "record":
        fields = ", ".join(f"{name} {sql_type(ft).sql()}" for name, ft in t.elem.fields)
        return e.DataType.build(f"ARRAY<STRUCT<{fields}>>")
    raise Unsupported(f"类型 {t}")


@dataclass(frozen=True)
class Plan:
    name: str
    query: e.Expression
    outputs: dict[str, str]                 # conclusion key → its type kind, computed in SQL
    python: dict[str, str]                  # conclusion key → why the Python engine computes it
    reasons: dict[str, str]                 # delegated parameter name → reason sentence
    subjects: dict[str, str] = field(default_factory=dict)  # clause id → subject ("always" or a column)
    names: Names = Names(())
    masks: dict[str, tuple[tuple[int, ...], bool]] = field(default_factory=dict)  # key → (mask words, has #e)
    missable: dict[str, tuple[str, ...]] = field(default_factory=dict)  # key → the names its masks may hold


class _Planner:
    def __init__(self, rs: RuleSet, analysis: Analysis, facts: dict[str, T.Type]) -> None:
        self.rs, self.analysis, self.facts = rs, analysis, facts
        self.sink = Sink()
        self.slots: dict[str, Sql] = {}
        self.failed: dict[str, str] = {}
        delegated = {p.name for c in rs.clauses.values() for p in c.parameters.values() if not p.filled}
        self.names = Names(tuple(sorted(set(facts) | delegated | {"as_of"})))
        self.t = Translator(analysis.notes, self.sink, self.slot_sql, self.names, self.constant)

    def item(self, key: str):
        cid, name = split_key(key)
        return self.rs.clauses[cid].items()[name]

    def slot_sql(self, key: str) -> Sql:
        if key in self.failed:
            raise Unsupported(f"依赖 {key}（{self.failed[key]}）")
        return self.slots[key]

    def constant(self, key: str) -> object:
        item = self.item(key)
        if isinstance(item, Parameter):
            if item.history:
                raise Unsupported("按日期生效的期间 a duration in force by date")
            value = parameter_value(item)
            return None if isinstance(value, Unknown) else value
        from .. import nodes as n

        binding = self.analysis.notes.bindings.get(id(item.expr))
        if isinstance(item.expr, n.Ref) and binding is not None and hasattr(binding, "key"):
            return self.constant(binding.key)  # type: ignore[attr-defined]
        raise Unsupported("非常量期间 a duration that is not a constant")

    def run(self, wanted: list[str]) -> None:
        needed: set[str] = set()
        stack = list(wanted)
        while stack:  # only what the wanted conclusions depend on
            key = stack.pop()
            if key not in needed:
                needed.add(key)
                stack.extend(self.analysis.deps.get(key, ()))
        for key in (k for k in self.analysis.order if k in needed):
            mark, checks, gates = len(self.sink.defs), len(self.t.recheck), dict(self.t.gates)
            try:
                self.slots[key] = self.slot(key)
            except Unsupported as why:
                del self.sink.defs[mark:]
                del self.t.recheck[checks:]
                self.t.gates = gates
                self.failed[key] = str(why)

    def period_rechecks(self, wanted: list[str]) -> None:
        """Rows whose period date (a dated clause's period_by) is unknown or outside the range the
        set judges as it is go to the Python engine, which chooses the edition or says why not."""
        from ..periods.chain import newest_range

        for cid in sorted({split_key(k)[0] for k in wanted if k not in self.failed}):
            clause = self.rs.clauses[cid]
            if clause.period_by is None or (self.rs.period is None and clause.valid == (None, None)):
                continue
            by = str(clause.period_by)
            if by in clause.definitions:
                self.run([f"{cid}.{by}"])
                day = self.slots[f"{cid}.{by}"].v if f"{cid}.{by}" in self.slots else None
            else:
                day = col(by)
            if day is None:  # the period date itself is left to Python: so is every row
                self.t.recheck.append(e.true())
                continue
            lo, hi = newest_range(self.rs, clause)
            tests = [is_null(day)] + ([e.LT(this=day, expression=literal(lo, "date").v)] if lo != date.min else []) \
                + ([e.GT(this=day, expression=literal(hi, "date").v)] if hi != date.max else [])
            self.t.recheck.append(e.or_(*tests))

    def slot(self, key: str) -> Sql:
        item = self.item(key)
        t = self.analysis.slot_types[key]
        if isinstance(item, Parameter):
            if item.history and self.rs.clauses[split_key(key)[0]].period_by is not None:
                raise Unsupported("按案例期间日期取值的参数 a history chosen by the case's period date")
            return self.parameter(item, t)
        cid, name = split_key(key)
        clause = self.rs.clauses[cid]
        value = self.t.expr(item.expr)
        rules = sorted((r for r in clause.exceptions if r.conclusion == name), key=lambda r: -r.priority)
        if rules:
            cases = [(self.t.expr(r.when), self.t.expr(r.value)) for r in rules]
            value = _exceptions(value, cases, t.kind)
        if item.role == "conclusion" and t.kind == "money":
            v, bound = rounded(value.v, value.scale, value.bound, 2)
            value = Sql(v, value.m, "money", 2, bound=bound)
        elif item.role == "conclusion" and value.inexact:
            raise Unsupported("商的精确值（28位有效数字）无法用定点 DECIMAL 表示 an exact quotient to 28 significant digits")
        if t.kind in FACT_SCALE and value.kind == "int":
            narrow = at_scale(value.v, "int", 0, value.bound, 0)
            value = Sql(cast(value.v, dec(0)) if narrow is None else narrow, value.m, t.kind, 0, value.inexact,
                        bound=None if narrow is None else value.bound)
        return self.t.settle(value)

    def parameter(self, p: Parameter, t: T.Type) -> Sql:
        if p.history:
            return self.history(p, t)
        value = parameter_value(p)
        if isinstance(value, Unknown):
            return Sql(cast(e.Null(), sql_type(t)), of(self.names, p.name), t.kind, FACT_SCALE.get(t.kind, 0))
        return literal(value, t.kind)

    def history(self, p: Parameter, t: T.Type) -> Sql:
        as_of = col("as_of")
        entries = [literal(v, t.kind) for _, v in p.history]
        scale = max(x.scale for x in entries)
        values = [cast(x.v, dec(scale)) if t.kind in FACT_SCALE else x.v for x in entries]
        same = len({v for _, v in p.history}) == 1
        whens = [(e.GTE(this=as_of, expression=literal(start, "date").v), v)
                 for (start, _), v in reversed(list(zip(p.history, values)))]
        value = case((is_null(as_of), values[0] if same else e.Null()), *whens, default=e.Null())
        self.t.recheck.append(e.LT(this=as_of, expression=literal(p.history[0][0], "date").v))
        return self.sink.bind(Sql(value, of(self.names, "as_of"), t.kind, scale))


def _exceptions(base: Sql, cases: list[tuple[Sql, Sql]], kind: str) -> Sql:
    """runtime._exceptions: the first applicable exception by priority wins; an undecided
    one before it makes the result unknown unless every candidate agrees."""
    scale = max([base.scale] + [v.scale for _, v in cases])

    if kind in FACT_SCALE:  # one DECIMAL type for every candidate
        values, bound = unify([base] + [v for _, v in cases], scale)
        base = Sql(values[0], base.m, kind, scale, base.inexact, bound=bound)
        cases = [(w, Sql(x, v.m, kind, scale, v.inexact, bound=bound)) for x, (w, v) in zip(values[1:], cases)]
    bounds = [x.bound for x in [base] + [v for _, v in cases]]
    bound = None if None in bounds else max(bounds)  # type: ignore[type-var]

    def finish(chosen: Sql, pending: list[tuple[Sql, Sql]]) -> Sql:
        if not pending:
            return chosen
        values = [chosen] + [v for _, v in pending]
        agree = None
        for v in values[1:]:
            test = e.EQ(this=p(chosen.v), expression=p(v.v))
            agree = test if agree is None else e.And(this=agree, expression=test)
        whens = [w for w, _ in pending]
        # the pending conditions are all NULL here, so the merge always lists them
        return Sql(case((agree, chosen.v)), merge(whens + values), kind, scale, bound=bound)

    def resolve(i: int, pending: list[tuple[Sql, Sql]]) -> Sql:
        if i == len(cases):
            return finish(base, pending)
        w, v = cases[i]
        hit, miss, undecided = finish(v, pending), resolve(i + 1, pending), resolve(i + 1, pending + [(w, v)])
        value = case((w.v, hit.v), (e.Not(this=e.Paren(this=w.v)), miss.v), default=undecided.v)
        m = choose([(w.v, hit.m), (e.Not(this=e.Paren(this=w.v)), miss.m)], undecided.m)
        return Sql(value, m, kind, scale, bound=bound)

    return resolve(0, [])


def _layers(defs: list[tuple[str, e.Expression]], base: set[str]) -> list[list[tuple[str, e.Expression]]]:
    level: dict[str, int] = {}
    layers: list[list[tuple[str, e.Expression]]] = []
    for name, expr in defs:
        refs = {c.name for c in expr.find_all(e.Column)}
        depth = 1 + max((level[r] for r in refs if r in level), default=0)
        level[name] = depth
        while len(layers) < depth:
            layers.append([])
        layers[depth - 1].append((name, expr))
    return layers


def build_plan(rs: RuleSet, analysis: Analysis, facts: dict[str, T.Type], keys: list[str] | None = None,
               passthrough: tuple[str, ...] | Callable[[dict[str, str]], tuple[str, ...]] = (),
               decoded: bool = True, known_first: bool = True) -> Plan:
    """The query for the conclusions `keys` (default: every conclusion of every clause);
    `passthrough` names columns of `facts` to return as they are (or gives them from the conclusions
    left to Python, key → reason, so that one planning pass serves). With `decoded`, each
    conclusion's `#missing` is a sorted list of names; without, the bit masks `#m<word>` and
    element paths `#e` are returned for the caller to decode (Plan.names, Plan.masks), in the
    order of `facts`. With `decoded` and `known_first`, a query about one subject returns the rows
    with every fact it reads known (and no recheck) first, from columns specialised for them
    (known.py), then the others: the rows are not in the order of `facts`."""
    planner = _Planner(rs, analysis, facts)
    wanted = keys or [f"{cid}.{name}" for cid, c in rs.clauses.items() for name in c.conclusions]
    planner.run(wanted)
    planner.period_rechecks(wanted)
    outputs = {k: analysis.slot_types[k].kind for k in wanted if k not in planner.failed}
    python = {k: planner.failed[k] for k in wanted if k in planner.failed}
    subjects = {cid: rs.clauses[cid].subject for cid in {split_key(k)[0] for k in wanted}}
    defs = list(planner.sink.defs)
    for subject in sorted({s for s in subjects.values() if s != "always"}):
        cols = [e.Not(this=is_null(col(path))) for path in facts if path.split(".")[0] == subject]
        test: e.Expression = _or_all(cols) if cols else e.false()
        defs.append((f"_has_{subject}", test))
    if callable(passthrough):
        passthrough = passthrough(python)
    projection: list[e.Expression] = [col(ROW), *[col(c) for c in passthrough]]
    masks: dict[str, tuple[tuple[int, ...], bool]] = {}
    missable: dict[str, tuple[str, ...]] = {}
    for key in outputs:
        s = planner.slots[key]
        missable[key] = tuple(sorted(s.m.names)) if s.m is not None else ()
        projection.append(e.alias_(s.v, key, quoted=True, copy=False))
        if s.m is None:
            masks[key] = ((), False)
            if decoded:
                projection.append(e.alias_(cast(e.Null(), "ARRAY<VARCHAR>"), f"{key}#missing", quoted=True, copy=False))
        elif decoded:
            listed = case((is_null(s.v), decode(planner.names, s.m)))
            projection.append(e.alias_(listed, f"{key}#missing", quoted=True, copy=False))
        else:
            masks[key] = (tuple(w for w, _ in s.m.words), s.m.elems is not None)
            for w, x in s.m.words:
                projection.append(e.alias_(x, f"{key}#m{w}", quoted=True, copy=False))
            if s.m.elems is not None:
                projection.append(e.alias_(s.m.elems, f"{key}#e", quoted=True, copy=False))
    for subject in sorted({s for s in subjects.values() if s != "always"}):
        projection.append(col(f"_has_{subject}"))
    checks = [e.Coalesce(this=c, expressions=[e.false()]) for c in planner.t.recheck]
    projection.append(e.alias_(_or_all(checks) if checks else e.false(), "_recheck", quoted=True, copy=False))
    defs = _live(defs, projection)
    one_subject = len(set(subjects.values()) - {"always"}) <= 1
    read = _facts_read(defs, projection, facts) if decoded and known_first and one_subject else []
    if read:  # rows with every fact known first, by the specialised columns (known.py), then the others
        # the rows to recheck, on the facts themselves; where a fact is NULL the row is not the
        # specialised form's anyway, so the test may take every fact as known (fold)
        tests = [_inline(t, dict(defs)) for t in planner.t.recheck]
        recheck = fold(e.or_(*tests), set(read)) if tests else e.false()
        if not isinstance(recheck, e.Boolean):  # a test still unknown (a NULL divisor …): the general form
            recheck = e.Coalesce(this=recheck, expressions=[e.true()])
        known_defs, known_projection = specialise(defs, projection[:-1], set(read))
        known_projection = [_typed_null(x) for x in known_projection] + [e.alias_(e.false(), "_recheck", quoted=True)]
        every = e.and_(*[e.Not(this=is_null(col(f))) for f in read], e.Not(this=e.Paren(this=recheck)))
        some = e.or_(*[is_null(col(f)) for f in read], recheck)
        query, ctes = _chain(_live(known_defs, known_projection), known_projection, "k", every)
        general, more = _chain(defs, projection, "l", some)
        query = e.union(query, general, distinct=False, copy=False)
        ctes += more
    else:
        query, ctes = _chain(defs, projection, "l", None)
    for name, select in ctes:
        query = query.with_(name, as_=select, copy=False)
    reasons = {p.name: p.delegated.reason for c in rs.clauses.values() for p in c.parameters.values()
               if p.delegated is not None and not p.filled}
    return Plan(rs.name, query, outputs, python, reasons, subjects, planner.names, masks, missable)


def _chain(defs: list[tuple[str, e.Expression]], projection: list[e.Expression], prefix: str,
           where: e.Expression | None) -> tuple[e.Select, list[tuple[str, e.Expression]]]:
    """SELECT projection FROM the layered columns over the rows of `facts` that `where` keeps."""
    ctes, source = _ctes(_layers(defs, set()), projection, prefix, where), "facts"
    if ctes:
        source = ctes[-1][0]
    query = e.Select().select(*projection, copy=False).from_(source, copy=False)
    if where is not None and not ctes:
        query = query.where(where, copy=False)
    return query, ctes


def _facts_read(defs: list[tuple[str, e.Expression]], projection: list[e.Expression], facts) -> list[str]:
    """The fact columns the result depends on (not only the subject tests `_has_…`)."""
    read: set[str] = set()
    for x in [x for name, x in defs if not name.startswith("_has_")] + projection:
        read |= {c.name for c in x.find_all(e.Column) if c.name in facts}
    return sorted(read)


def _inline(x: e.Expression, defs: dict[str, e.Expression]) -> e.Expression:
    """x with the planned columns it reads replaced by their expressions."""
    def visit(node: e.Expression) -> e.Expression:
        return _inline(defs[node.name], defs) if isinstance(node, e.Column) and node.name in defs else node
    return x.copy().transform(visit, copy=False)


def _typed_null(x: e.Expression) -> e.Expression:
    """A `#missing` list folded to NULL, typed (UNION ALL takes the types of its first SELECT)."""
    if isinstance(x, e.Alias) and isinstance(x.this, e.Null):
        x.set("this", cast(e.Null(), "ARRAY<VARCHAR>"))
    return x


def _live(defs: list[tuple[str, e.Expression]], final: list[e.Expression]) -> list[tuple[str, e.Expression]]:
    """The definitions the result reads, directly or not (a quotient that only comparisons used,
    now spelt by cross-multiplying, is dropped)."""
    needed = set().union(*(_refs(x) for x in final)) if final else set()
    kept = []
    for name, x in reversed(defs):
        if name in needed:
            kept.append((name, x))
            needed |= _refs(x)
    return kept[::-1]


def _refs(x: e.Expression) -> set[str]:
    return {c.name for c in x.find_all(e.Column)}


def _ctes(layers: list[list[tuple[str, e.Expression]]], final: list[e.Expression], prefix: str = "l",
          where: e.Expression | None = None) -> list[tuple[str, e.Expression]]:
    """WITH l1 AS (SELECT <live columns>, <new columns> FROM facts), l2 AS (… FROM l1), …: each layer
    passes on only the columns a later layer or the result still reads (DuckDB binds wide
    `SELECT *` chains slowly)."""
    needed_after: list[set[str]] = [set() for _ in layers]
    later: set[str] = set().union(*(_refs(x) for x in final)) if final else set()
    for i in range(len(layers) - 1, -1, -1):
        needed_after[i] = set(later)
        for _, x in layers[i]:
            later |= _refs(x)
    ctes: list[tuple[str, e.Expression]] = []
    available: list[str] = []  # columns defined by earlier layers, in order
    defined = {name for layer in layers for name, _ in layer}
    source = "facts"
    for i, layer in enumerate(layers):
        keep = [c for c in available if c in needed_after[i]]
        carried = sorted(needed_after[i] - defined)  # columns of `facts`
        select = e.Select().select(*[col(c) for c in carried + keep],
                                   *[e.alias_(x, name, quoted=True, copy=False) for name, x in layer],
                                   copy=False).from_(source, copy=False)
        if i == 0 and where is not None:
            select = select.where(where, copy=False)
        available = keep + [name for name, _ in layer]
        name = f"{prefix}{i + 1}"
        ctes.append((name, select))
        source = name
    return ctes


def _or_all(tests: list[e.Expression]) -> e.Expression:
    out = tests[0]
    for t in tests[1:]:
        out = e.Or(this=out, expression=t)
    return out
