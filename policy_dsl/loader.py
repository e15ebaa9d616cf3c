"""Rule files → model. Reads policies/<set>/policy-set.yaml and clauses/*.yaml,
validates each file against the shipped JSON Schema, parses every expression
with its position in the YAML file, and applies a variant over its base.

Every problem of a load is collected and raised together (CheckFailed), each
naming file:line:column.
"""
from __future__ import annotations

import hashlib
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from . import nodes as n
from . import types as T
from .editions import SUPERSEDES, binding_bounds, level_names, parent_link
from .periods.reading import read_clause_period, read_period
from .errors import CheckFailed, PolicyError, RuleFileError, UsageError, did_you_mean
from .filechecks import clause_file_problems
from .schemacheck import schema_problems
from .model import Citation, Clause, Delegation, Document, ExceptionRule, Named, Origin, Parameter, RuleSet
from .names import ROOT_ENV, check_set_name, confined, inside, name_problem, policies_root
from .sets import MANIFEST, resolve_set
from .setfacts import as_date, effective_vocabulary, read_declared
from .source import Span
from .patchchecks import dangling_removals, patch_problems
from .variants import INHERITED, apply_patch
from .values import format_typed, isolated
from .vocabulary import vocabulary
from .yamlio import PosDict, PosStr, load_file


def resolve_set_path(name: str | Path) -> Path:
    """A set directory or name, by the one rule of sets.resolve_set (kept for callers of this name)."""
    return resolve_set(name)


class _Reader:
    """Collects the problems of one load; each method reads one YAML shape."""

    def __init__(self, set_name: str) -> None:
        self.set_name = set_name
        self.relation: str | None = None  # how this set is built on its base (editions.py)
        self.level: frozenset[str] = frozenset({set_name})  # this set and the editions it supersedes
        self.errors: list[PolicyError] = []

    def fail(self, error: PolicyError) -> None:
        self.errors.append(error)

    # schema -----------------------------------------------------------------
    def validate(self, data: Any, schema_name: str, file: str) -> bool:
        problems = schema_problems(data, schema_name, file)
        for error in problems:
            self.fail(error)
        return not problems

    # pieces -------------------------------------------------------------------
    def citation(self, data: Any, default_document: str | None = None) -> Citation | None:
        if not isinstance(data, dict):
            return None
        return Citation(str(data.get("document", default_document) or "") or None,
                        str(data["article"]) if "article" in data else None,
                        _unfold(str(data["text"])) if "text" in data else None,
                        getattr(data.get("text", data.get("article")), "span", None))

    def expression(self, raw: Any, where: Span) -> tuple[n.Expr | None, str]:
        if isinstance(raw, bool):
            text = "true" if raw else "false"
        elif isinstance(raw, (int, Decimal)):
            text = str(raw)
        else:
            text = str(raw)
        from .parser import parse_expression  # Lark is imported when a set is first parsed, not on a cache hit

        try:
            if isinstance(raw, PosStr):
                line, col = raw.text_origin()
                block = raw.style in ("|", ">")
                return parse_expression(text, raw.span.source, line, col, block_indent=col - 1 if block else 0), text
            return parse_expression(text, where.source, where.line, where.column), text
        except PolicyError as exc:
            self.fail(exc)
            return None, text

    def literal(self, raw: Any, declared: T.Type | None, where: Span, what: str) -> tuple[object, T.Type] | None:
        """A parameter value: a YAML scalar or a literal text such as "30%" or "300元"."""
        if isinstance(raw, bool):
            value, vtype = raw, T.BOOL
        elif isinstance(raw, int):
            value, vtype = raw, T.INT
        elif isinstance(raw, Decimal):
            value, vtype = raw, T.DECIMAL
        elif isinstance(raw, date):
            value, vtype = raw, T.DATE
        else:
            expr, _ = self.expression(raw, getattr(raw, "span", where))
            if expr is None:
                return None
            if isinstance(expr, n.Literal):
                value, vtype = expr.value, expr.type
            elif isinstance(expr, n.Collection) and all(isinstance(i, n.Literal) for i in expr.items):
                value, vtype = frozenset(i.value for i in expr.items), T.set_of(T.STRING)  # type: ignore[union-attr]
            else:
                self.fail(RuleFileError(f"{what} 必须是字面量 must be a literal value", getattr(raw, "span", where),
                                        found=str(raw), expected="如 30、6%、300元、2021-12-31、\"enterprise\""))
                return None
        if declared is None:
            return value, vtype
        if not T.assignable(vtype, declared):
            self.fail(RuleFileError(f"{what} 的类型与声明不符 value does not match the declared type",
                                    getattr(raw, "span", where), found=str(vtype), expected=str(declared)))
            return None
        if declared.kind in ("money", "decimal", "rate") and isinstance(value, int):
            value = Decimal(value)
        if declared.kind == "rate" and not self.plausible_rate(raw, value, getattr(raw, "span", where), what):
            return None
        if declared.kind == "enum" and declared.values and value not in declared.values:
            self.fail(RuleFileError(f"{value!r} 不是可选值 not one of the values", getattr(raw, "span", where),
                                    expected=", ".join(declared.values), hint=did_you_mean(str(value), declared.values)))
        return value, declared

    def plausible_rate(self, raw: Any, value: object, where: Span, what: str) -> bool:
        """A rate is a share: never negative, and a bare YAML number above 1 is almost surely a percentage."""
        if not isinstance(value, Decimal):
            return True
        if value < 0:
            self.fail(RuleFileError(f"{what} 是比例，不能为负 a rate cannot be negative", where,
                                    found=format_typed(value, "rate"), expected="0% 到 100% 之间的比例"))
            return False
        if isinstance(raw, (int, Decimal)) and not isinstance(raw, bool) and value > 1:
            self.fail(RuleFileError(f"{what} 是比例，写成数字 {raw} 即 {format_typed(value, 'rate')} "
                                    "a bare number for a rate is a fraction", where, found=str(raw),
                                    expected="百分数如 25%，或小数如 0.25", hint=f"是否要写 did you mean: {raw}%？"))
            return False
        return True

    def declared_type(self, data: dict, where: Span) -> T.Type | None:
        if "type" not in data:
            return None
        values = tuple(str(v) for v in data.get("values", ()) or ())
        return T.parse_type_name(str(data["type"]), values)

    def parameter(self, name: str, data: PosDict, origin: Origin, base: Parameter | None,
                  name_span: Span | None = None) -> Parameter | None:
        declared = self.declared_type(data, data.span) or (base.type if base else None)
        value = None
        history: list[tuple[date, object, Citation | None]] = []
        if "value" in data:
            got = self.literal(data["value"], declared, data.key_span("value"), f"参数 {name}")
            if got is None:
                return None
            value, declared = got
        for entry in data.get("history", []) or []:
            got = self.literal(entry["value"], declared, entry.span, f"参数 {name}")
            start = as_date(entry["from"])
            if got is None or start is None:
                if start is None:
                    self.fail(RuleFileError("history 的 from 必须是日期 must be a date", entry.span))
                continue
            history.append((start, got[0], self.citation(entry.get("source"))))
            declared = got[1]
        if declared is None:
            self.fail(RuleFileError(f"参数 {name} 需要 type 或 value parameter needs a type or a value", data.span))
            return None
        delegated = Delegation(str(data["delegated"].get("to", "下级")), str(data["delegated"]["reason"])) \
            if "delegated" in data else (base.delegated if base else None)
        bounds: tuple[object, object] = base.bounds if base else (None, None)
        bounds_origin = base.bounds_origin if base else None
        if "bounds" in data:
            lo = self.literal(data["bounds"]["min"], declared, data.span, f"参数 {name} 的下限") if "min" in data["bounds"] else None
            hi = self.literal(data["bounds"]["max"], declared, data.span, f"参数 {name} 的上限") if "max" in data["bounds"] else None
            bounds = (lo[0] if lo else None, hi[0] if hi else None)
            if base is not None and base.bounds != (None, None) and binding_bounds(base, self.relation, self.level):
                self.narrowing(name, data, base, bounds, declared)
                # a side the variant leaves open keeps the base's limit
                bounds = (bounds[0] if bounds[0] is not None else base.bounds[0],
                          bounds[1] if bounds[1] is not None else base.bounds[1])
            bounds_origin = Origin(origin.set_name, origin.file, data.key_span("bounds"))
        if value is None and not history and delegated is None and base is None:
            self.fail(RuleFileError(f"参数 {name} 没有值 has no value", data.span,
                                    expected="value、history，或 delegated（交由下级确定）"))
            return None
        return Parameter(
            name=name, type=declared, value=value, history=tuple((h[0], h[1]) for h in sorted(history, key=lambda h: h[0])),
            history_sources=tuple(h[2] for h in sorted(history, key=lambda h: h[0])),
            delegated=delegated, bounds=bounds, bounds_origin=bounds_origin,
            value_span=getattr(data.get("value"), "span", None) or data.key_span("value" if "value" in data else "history")
            if isinstance(data, PosDict) else None,
            source=self.citation(data.get("source"), origin.set_name and None) or (base.source if base and "value" not in data else None),
            note=str(data["note"]) if "note" in data else (base.note if base else None),
            origin=Origin(origin.set_name, origin.file, name_span or data.span))

    def named(self, name: str, raw: Any, role: str, origin: Origin, where: Span) -> Named | None:
        data = raw if isinstance(raw, dict) else {"expr": raw}
        # no expr: a re-note of an inherited item (variants.apply_patch keeps its expression)
        expr, text = self.expression(data["expr"], getattr(data["expr"], "span", where)) if "expr" in data else (INHERITED, "")
        if expr is None:
            return None
        return Named(name=name, role=role, expr=expr, text=text, declared=self.declared_type(data, where),
                     quote=str(data["text"]) if "text" in data else None,
                     quote_span=getattr(data.get("text"), "span", None),
                     note=str(data["note"]) if "note" in data else None,
                     label=str(data["label"]) if "label" in data else None,
                     source=self.citation(data.get("source")),
                     origin=Origin(origin.set_name, origin.file, getattr(raw, "span", where)))

    def exception(self, data: PosDict, origin: Origin) -> ExceptionRule | None:
        if "when" not in data:  # a re-note of an inherited exception (variants.apply_patch keeps the rest)
            return ExceptionRule(id=str(data["id"]), conclusion="", when=INHERITED, value=INHERITED,
                                 source=self.citation(data.get("source")), note=str(data["note"]) if "note" in data else None,
                                 origin=Origin(origin.set_name, origin.file, data.span))
        when, when_text = self.expression(data["when"], data.key_span("when"))
        value, value_text = self.expression(data["value"], data.key_span("value"))
        if when is None or value is None:
            return None
        return ExceptionRule(id=str(data["id"]), conclusion=str(data["conclusion"]), when=when, value=value,
                             priority=int(data.get("priority", 0)), source=self.citation(data.get("source")),
                             note=str(data["note"]) if "note" in data else None,
                             origin=Origin(origin.set_name, origin.file, data.span),
                             when_text=when_text, value_text=value_text)

    def names_ok(self, data: PosDict) -> bool:
        ok = True
        problem = name_problem(str(data["id"]))
        if problem:
            self.fail(RuleFileError(f"条款 id {str(data['id'])!r} 不合法 invalid clause id：{problem}",
                                    getattr(data["id"], "span", None) or data.key_span("id")))
            ok = False
        for section in ("parameters", "definitions", "conditions", "conclusions"):
            table = data.get(section) or {}
            for name in table:
                problem = name_problem(str(name))
                if problem:
                    self.fail(RuleFileError(f"名字 {str(name)!r} 不合法 invalid name：{problem}", table.key_span(name)))
                    ok = False
        return ok

    def clause(self, data: PosDict, file: str, base: Clause | None) -> Clause:
        origin = Origin(self.set_name, file, data.span)
        cid = str(data["id"])
        spec = vocabulary().clauses.get(cid)
        period_by, (start, end) = read_clause_period(self, data, base.period_by if base else None)
        kind = str(data.get("kind", base.kind if base else "computable"))
        clause = Clause(
            id=cid, title=str(data.get("title", base.title if base else (spec.zh if spec else cid))), kind=kind,
            subject=str(data.get("subject", base.subject if base else (spec.subject if spec else "always"))),
            source=self.citation(data.get("source")), departments=tuple(str(d) for d in data.get("departments", ())),
            valid=(start, end), notes=str(data["notes"]) if "notes" in data else None, origin=origin,
            period_by=period_by)
        if clause.source is not None:
            clause.sources[self.set_name] = clause.source
        for name, pdata in (data.get("parameters") or {}).items():
            base_param = base.parameters.get(name) if base else None
            param = self.parameter(name, pdata, origin, base_param, data["parameters"].key_span(name))
            if param is not None:
                clause.parameters[name] = param
        for role, table in (("definition", clause.definitions), ("condition", clause.conditions), ("conclusion", clause.conclusions)):
            section = data.get(role + "s") or {}
            for name, raw in section.items():
                item = self.named(name, raw, role, origin, section.key_span(name))
                if item is not None:
                    if role == "conclusion" and item.declared is None and spec and name in spec.conclusions:
                        item = _with_declared(item, spec.conclusions[name])
                    table[name] = item
        for edata in data.get("exceptions") or []:
            if any(r.id == str(edata["id"]) for r in clause.exceptions):
                first = next(r for r in clause.exceptions if r.id == str(edata["id"]))
                self.fail(RuleFileError(f"例外 id {str(edata['id'])!r} 重复 duplicate exception id",
                                        edata.key_span("id"), related=first.origin.span if first.origin else None))
                continue
            rule = self.exception(edata, origin)
            if rule is not None:
                clause.exceptions.append(rule)
        return clause

    def shadowing(self, clause: Clause) -> None:
        """One name, one item: a condition named like a conclusion (or a parameter like a
        definition) would silently hide one of them."""
        seen: dict[str, tuple[str, Any]] = {}
        for section in ("parameters", "definitions", "conditions", "conclusions"):
            for name, item in getattr(clause, section).items():
                if name in seen:
                    other_section, other = seen[name]
                    span = item.origin.span if item.origin else None
                    self.fail(RuleFileError(
                        f"条款 {clause.id} 中 {name!r} 同时出现在 {other_section} 和 {section} name used twice",
                        span, hint="一个名字只能指一个参数/定义/条件/结论；请改名其中之一",
                        related=other.origin.span if other.origin else None))
                else:
                    seen[name] = (section, item)

    def narrowing(self, name: str, data: PosDict, base: Parameter, bounds: tuple, declared: T.Type) -> None:
        """A variant may narrow the bounds its base set on a parameter, never widen them."""
        lo, hi = bounds
        blo, bhi = base.bounds
        k = declared.kind
        wider = []
        try:
            # a side not written keeps the base's limit (see parameter()); a written one may not pass it
            if blo is not None and lo is not None and lo < blo:
                wider.append(f"下限 min {format_typed(lo, k)} 低于 {format_typed(blo, k)}")
            if bhi is not None and hi is not None and hi > bhi:
                wider.append(f"上限 max {format_typed(hi, k)} 高于 {format_typed(bhi, k)}")
        except TypeError:
            return  # values of another type: reported as a type mismatch already
        if wider:
            self.fail(RuleFileError(
                f"参数 {name} 的取值范围比上级规定的更宽 bounds wider than the base set's：{'；'.join(wider)}",
                data.key_span("bounds"), found=_bounds_text(bounds, k), expected=f"在 {_bounds_text(base.bounds, k)} 之内",
                hint="下级只能收窄上级的取值范围，不能放宽", related=base.bounds_origin.span if base.bounds_origin else None))


_CJK = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef“”‘’]"


def _bounds_text(bounds: tuple, kind: str) -> str:
    lo, hi = bounds
    parts = ([f"≥ {format_typed(lo, kind)}"] if lo is not None else []) + ([f"≤ {format_typed(hi, kind)}"] if hi is not None else [])
    return " ".join(parts) or "不限 unbounded"


def _unfold(text: str) -> str:
    """A quote folded over several YAML lines gets a space at each break; Chinese has none."""
    return re.sub(rf"(?<={_CJK})\s+|\s+(?={_CJK})", "", text).strip()


def _with_declared(item: Named, t: T.Type) -> Named:
    from dataclasses import replace

    return replace(item, declared=t, declared_by="vocabulary")


@isolated
def load_rule_set(where: str | Path, *, root: str | Path | None = None) -> RuleSet:
    """Load a set (and, for a variant, its base); raise CheckFailed with every problem found.

    Every file read must lie inside the policies root (`root`, else $POLICY_DSL_ROOT, else the
    set's parent directory) once symlinks are resolved; `extends` names a sibling set there."""
    path = resolve_set_path(where)
    top = policies_root(path, root)
    if not inside(path / MANIFEST, top):
        raise UsageError(f"规则集 {where!s} 不在规则根目录 {top} 之内 rule set outside the policies root",
                         hint=f"把规则集放在根目录下，或用 {ROOT_ENV} 指定根目录")
    return _load(path, seen=(), root=top)


def _load(path: Path, seen: tuple[Path, ...], root: Path) -> RuleSet:
    manifest_path = confined(path / MANIFEST, root)
    manifest = load_file(manifest_path)
    reader = _Reader(path.name)
    if not reader.validate(manifest, "policy-set.schema.json", str(manifest_path)):
        raise CheckFailed(reader.errors)
    name = check_set_name(manifest["name"], manifest.key_span("name"))
    reader.set_name = name
    if name != path.name:
        raise CheckFailed([RuleFileError(
            f"规则集名 {name!r} 与目录名 {path.name!r} 不一致 the set name differs from its directory",
            manifest["name"].span, found=name, expected=path.name,
            hint="规则集按目录名查找（extends、policy test 的 compare 都按目录名），两者须相同")])
    base: RuleSet | None = None
    here = path.resolve()
    link = parent_link(manifest)  # extends (a city of this base) or supersedes (an edition of it)
    reader.relation = link.relation if link else None
    if link is not None:
        base_name = check_set_name(link.name, link.span)
        base_path = path.parent / base_name  # a sibling; the manifest read below must still lie inside root
        if base_path.resolve() in (*seen, here):
            chain = " → ".join(p.name for p in (*seen, here, base_path.resolve()))
            raise RuleFileError(f"{link.relation} 形成循环 cycle: {chain}", link.span)
        if not (base_path / MANIFEST).is_file():
            near = sorted(p.name for p in path.parent.iterdir() if (p / MANIFEST).is_file() and p != path)
            raise CheckFailed([RuleFileError(
                f"找不到被{link.zh}的规则集 {base_name!r} base set not found", link.name.span, found=base_name,
                expected="、".join(near) or f"与 {path.name} 并列的规则集目录",
                hint=did_you_mean(base_name, near) or f"{link.relation} 写规则集的目录名（与本规则集并列）")])
        base = _load(base_path, (*seen, here), root)
        reader.level = level_names(name, base, link.relation)
    declared = read_declared(manifest, name, effective_vocabulary(base), reader.fail)
    documents = dict(base.documents) if base else {}
    for d in manifest["documents"]:
        issuer = d.get("issuer", ())
        text_path = None
        if "file" in d:
            text_path = str(path / str(d["file"]))
            if not Path(text_path).is_file():
                reader.fail(RuleFileError(f"找不到文件原文 {d['file']!r} document text not found", d["file"].span,
                                          expected=f"规则集目录中的文件 {text_path}"))
        documents[str(d["id"])] = Document(str(d["id"]), str(d.get("title", "")),
                                           (str(issuer),) if isinstance(issuer, str) else tuple(map(str, issuer)),
                                           as_date(d.get("date")), text_path)
    clauses = {cid: c for cid, c in base.clauses.items()} if base else {}
    files = [str(manifest_path)]
    for file in sorted((path / "clauses").glob("*.yaml")):
        files.append(str(file))
        try:
            data = load_file(confined(file, root))
        except PolicyError as exc:
            reader.fail(exc)
            continue
        if not reader.validate(data, "rule-file.schema.json", str(file)) or not reader.names_ok(data):
            continue
        cid = str(data["id"])
        if cid in {c.id for c in clauses.values() if c.origin and c.origin.set_name == name}:
            reader.fail(RuleFileError(f"条款 id {cid!r} 重复 duplicate clause id", data.key_span("id"),
                                      related=clauses[cid].origin.span if clauses[cid].origin else None))
            continue
        problems = clause_file_problems(data, file, base) + patch_problems(data, base, reader.relation)
        if problems:
            for problem in problems:
                reader.fail(problem)
            continue
        base_clause = base.clauses.get(cid) if base else None
        patch = reader.clause(data, str(file), base_clause)
        if base_clause is not None and not data.get("replace", False):
            clauses[cid] = apply_patch(base_clause, patch, data, reader.relation)
        else:
            clauses[cid] = patch
        reader.shadowing(clauses[cid])
    for problem in dangling_removals(clauses):
        reader.fail(problem)
    # a city's variant (extends) governs its province's period unless it states its own
    period = read_period(reader, manifest) or (base.period if base is not None and "extends" in manifest else None)
    if reader.errors:
        raise CheckFailed(reader.errors)
    all_files = (*base.files, *files) if base else tuple(files)
    return RuleSet(name=name, title=str(manifest.get("title", name)), jurisdiction=str(manifest.get("jurisdiction", "")),
                   documents=documents, clauses=clauses, path=str(path), base=base,
                   extends=base.name if base and not reader.relation == SUPERSEDES else None,
                   supersedes=base.name if base and reader.relation == SUPERSEDES else None,
                   files=all_files, content_hash=_hash(all_files),
                   vocabulary=str(manifest.get("vocabulary", base.vocabulary if base else "full")),
                   declared_facts=declared, period=period)




def _hash(files: tuple[str, ...]) -> str:
    """Content hash of a set and its base: each file named relative to its own set
    (manifest: `<set>/policy-set.yaml`, clause: `<set>/clauses/x.yaml`), so a copy of
    the rules elsewhere on disk hashes the same."""
    digest = hashlib.sha256()
    for f in files:
        p = Path(f)
        rel = f"{p.parent.name}/{p.name}" if p.name == MANIFEST else f"{p.parent.parent.name}/{p.parent.name}/{p.name}"
        digest.update(rel.encode() + b"\0")
        digest.update(p.read_bytes())
    return "sha256:" + digest.hexdigest()
