"""Facts a rule set declares (`facts:` in policy-set.yaml) and a set's effective vocabulary.

A set may declare facts the package vocabulary does not have, each written exactly like an
entry of policy_dsl/vocabulary.yaml's `facts:` (type, zh, values with Chinese labels, min/max,
doc, unit, fields). A declared fact is visible to the set and to every set built on it
(`extends`, `supersedes`). The effective vocabulary of a set is the package vocabulary, then
the facts its ancestors declare (oldest first), then its own; every stage that needs fact
names, types or labels (checker, facts validation and schema, engine, batch, SQL, service,
explanations, the facts template) takes it from `RuleSet.vocab`.

Declarations are checked here, each problem at the key's file:line:column: a path not of the
form subject.name, a subject the vocabulary does not have (a set cannot add a subject: cases
are grouped by subject and a clause applies by its subject), a reserved word, redefining a
fact of the vocabulary or of an ancestor, and constraints the validators cannot enforce.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from . import types as T
from .editions import chain
from .errors import PolicyError, PolicyNameError, RuleFileError, did_you_mean
from .names import name_problem
from .source import Span
from .vocabulary import FactSpec, Vocabulary, vocabulary

if TYPE_CHECKING:
    from .model import RuleSet

MANIFEST = "policy-set.yaml"
# The fact types a set may declare: those of the vocabulary (facts validation handles each).
TYPES = ("bool", "int", "decimal", "rate", "money", "date", "string", "enum",
         "set", "set of enum", "set of string", "list of record")
_DECIMALS = ("decimal", "rate", "money")


# --- ancestors ---------------------------------------------------------------------------------------

def ancestors(rs: "RuleSet") -> tuple["RuleSet", ...]:
    """Every set this one is built on (extends and supersedes), nearest first: editions.chain's."""
    return chain(rs)[1:]


# --- the effective vocabulary ------------------------------------------------------------------------

def effective_vocabulary(rs: "RuleSet | None") -> Vocabulary:
    """Package vocabulary + ancestors' declared facts (oldest first) + the set's own. A set that
    declares nothing (nor do its ancestors) gets the package vocabulary object itself, and equal
    declarations share one object, so the compiled validator built per vocabulary is reused."""
    if rs is None:
        return vocabulary()
    declared = tuple(spec for s in reversed(chain(rs)) for spec in s.declared_facts.values())
    return _extended(declared) if declared else vocabulary()


@lru_cache(maxsize=64)
def _extended(declared: tuple[FactSpec, ...]) -> Vocabulary:
    base = vocabulary()
    facts = dict(base.facts)
    for spec in declared:
        facts.setdefault(spec.path, spec)
    return Vocabulary(facts, base.clauses)


def declared_by_sets(vocab: Vocabulary) -> list[FactSpec]:
    """The facts of `vocab` that rule sets declare (not in the package vocabulary), in order."""
    return [s for s in vocab.facts.values() if s.declared_in is not None]


# --- reading `facts:` --------------------------------------------------------------------------------

def read_declared(manifest: Any, set_name: str, inherited: Vocabulary,
                  fail: Callable[[PolicyError], None]) -> dict[str, FactSpec]:
    """The facts `manifest` (a policy-set.yaml already checked against its JSON Schema) declares.
    `inherited`: the vocabulary the set starts from (package + ancestors' declarations).
    Every problem goes to `fail`, with its position; a fact with a problem is left out."""
    table = manifest.get("facts") or {}
    out: dict[str, FactSpec] = {}
    for raw_path, entry in table.items():
        path = str(raw_path)
        where = table.key_span(raw_path) if hasattr(table, "key_span") else None
        problems = _path_problems(path, where, inherited) or _entry_problems(path, entry, where)
        for problem in problems:
            fail(problem)
        if not problems:
            out[path] = _spec(path, entry, set_name, where)
    return out


def _path_problems(path: str, where: Span | None, inherited: Vocabulary) -> list[PolicyError]:
    head, dot, name = path.partition(".")
    subjects = sorted(inherited.subjects - {p for p in inherited.facts if "." not in p})
    if not dot or "." in name:
        return [RuleFileError(f"事实名 {path!r} 应写成 主体.名字 a declared fact is subject.name", where, found=path,
                              expected="如 unit.zombie_enterprise（主体：" + "、".join(subjects) + "）")]
    if head not in subjects:
        return [RuleFileError(
            f"主体 {head!r} 不存在 unknown subject：规则集只能为已有主体声明事实 a set declares facts of existing subjects only",
            where, found=head, expected="、".join(subjects),
            hint=did_you_mean(head, subjects) or "案例事实按主体分组，条款按主体判断是否适用，所以主体由词汇表规定；"
                                                 "把事实放在它所描述的主体下，如 unit.…（单位）、person.…（个人）")]
    problem = name_problem(name)
    if problem:
        return [RuleFileError(f"事实名 {path!r} 不合法 invalid fact name：{problem}", where, found=name)]
    existing = inherited.facts.get(path)
    if existing is not None:
        if existing.declared_in is None:
            said, related = "已在词汇表中定义 already in the vocabulary", None
        else:
            said, related = f"已由规则集 {existing.declared_in} 声明 already declared by set {existing.declared_in}", existing.span
        return [RuleFileError(
            f"事实 {path} {said}：不能重新定义 a fact cannot be redefined", where, found=path,
            expected=f"{existing.zh}（{existing.type}）", related=related,
            hint="直接在条款中使用它；若含义不同，另取一个名字声明")]
    return []


def _entry_problems(path: str, entry: Any, where: Span | None) -> list[PolicyError]:
    kind = str(entry["type"])
    at = _span_of(entry, "type", where)
    values = entry.get("values") or {}
    out: list[PolicyError] = []
    if kind == "enum" and not values:
        out.append(RuleFileError(f"事实 {path} 是枚举，需要 values（代码: 中文名称） an enum fact needs values", at,
                                 expected="如 values: {good: 良好, seriously_dishonest: 严重失信}"))
    if values and kind not in ("enum", "set", "set of enum"):
        out.append(RuleFileError(f"事实 {path} 的类型 {kind} 不能有 values only enum and set facts have values",
                                 _span_of(entry, "values", where)))
    if kind == "set of enum" and not values:
        out.append(RuleFileError(f"事实 {path} 是枚举集合，需要 values a set of enum needs values", at))
    if kind == "list of record" and not entry.get("fields"):
        out.append(RuleFileError(f"事实 {path} 是记录列表，需要 fields a list of record needs fields", at,
                                 expected="如 fields: {employed: {type: bool, zh: 已就业}}"))
    if entry.get("fields") and kind != "list of record":
        out.append(RuleFileError("只有 list of record 的事实有 fields only a list of record has fields",
                                 _span_of(entry, "fields", where)))
    for fname, fentry in (entry.get("fields") or {}).items():
        problem = name_problem(str(fname))
        fat = entry["fields"].key_span(fname) if hasattr(entry["fields"], "key_span") else at
        if problem:
            out.append(RuleFileError(f"字段名 {str(fname)!r} 不合法 invalid field name：{problem}", fat))
        if str(fentry["type"]) == "enum" and not fentry.get("values"):
            out.append(RuleFileError(f"字段 {fname} 是枚举，需要 values an enum field needs values", fat))
    for key in ("min", "max"):
        if key in entry:
            out.extend(_bound_problems(path, kind, key, entry[key], _span_of(entry, key, where)))
    return out


def _bound_problems(path: str, kind: str, key: str, raw: Any, at: Span | None) -> list[PolicyError]:
    if kind == "int":
        if isinstance(raw, bool) or not isinstance(raw, int):
            return [RuleFileError(f"事实 {path} 的 {key} 应是整数 must be an integer", at, found=str(raw))]
        return []
    if kind == "date":
        if as_date(raw) is None:
            return [RuleFileError(f"事实 {path} 的 {key} 应是日期 must be a date", at, found=str(raw),
                                  expected="YYYY-MM-DD，如 2021-01-01")]
        return []
    if kind in _DECIMALS:
        # The published JSON Schema reads decimal facts as text, where a pattern can say "not negative"
        # and nothing else; both validators must agree, so only that is offered.
        if key == "max" or isinstance(raw, bool) or not isinstance(raw, (int, Decimal)) or raw != 0:
            return [RuleFileError(f"事实 {path}（{kind}）只支持 min: 0（不能为负） a decimal fact supports min: 0 only",
                                  at, found=f"{key}: {raw}", expected="min: 0，或不写")]
        return []
    return [RuleFileError(f"事实 {path}（{kind}）不能有 {key} only int, date and decimal facts have bounds", at)]


def _spec(path: str, entry: Any, set_name: str, where: Span | None) -> FactSpec:
    kind = str(entry["type"])
    values = tuple((str(k), str(v)) for k, v in (entry.get("values") or {}).items())
    fields = entry.get("fields") or {}
    if kind == "list of record":
        t = T.list_of(T.Type("record", fields=tuple(
            (str(n), T.parse_type_name(str(f["type"]), tuple(str(v) for v in (f.get("values") or {}))) or T.STRING)
            for n, f in fields.items())))
    else:
        t = T.parse_type_name(kind, tuple(k for k, _ in values)) or T.STRING
    lo, hi = entry.get("min"), entry.get("max")
    if kind == "date":
        lo, hi = as_date(lo), as_date(hi)
    elif kind in _DECIMALS and lo is not None:
        lo = 0
    return FactSpec(path, t, str(entry["zh"]), values, tuple((str(n), str(f.get("zh", n))) for n, f in fields.items()),
                    lo, hi, str(entry["doc"]) if "doc" in entry else None,
                    str(entry["unit"]) if "unit" in entry else None, set_name, where)


def _span_of(entry: Any, key: str, default: Span | None) -> Span | None:
    value = entry.get(key) if isinstance(entry, dict) else None
    span = getattr(value, "span", None)
    if span is None and hasattr(entry, "key_span"):
        span = entry.key_span(key)
    return span or default


def as_date(raw: Any) -> date | None:
    """A date written in a rule file (a YAML date or ISO text), or None when it is not one."""
    if raw is None:
        return None
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        return None


# --- the unknown-fact error --------------------------------------------------------------------------

def unknown_fact(path: str, span: Span | None, vocab: Vocabulary, rs: "RuleSet | None") -> PolicyNameError:
    """`unit.zombie` is not a fact. In a rule set, say where facts are declared and how to add one,
    keeping the did-you-mean when a near name exists (a lone expression has no set to declare in)."""
    head = path.partition(".")[0]
    longer = [p for p in vocab.facts if p.startswith(path)]  # unit.zombie → unit.zombie_enterprise
    near = f"是否要写 did you mean: {longer[0]}？" if longer else \
        did_you_mean(path, [p for p in vocab.facts if p.startswith(head + ".") or p == head])
    message = f"未知的事实 {path!r} unknown fact"
    if rs is None or not rs.path:
        return PolicyNameError(message, span, found=path, expected="词汇表中的事实名 a fact of the vocabulary", hint=near)
    example = f"{path}: {{type: bool, zh: 中文名称}}" if path.count(".") == 1 else "unit.new_fact: {type: bool, zh: 中文名称}"
    add = (f"如需新增事实，在 {_manifest_shown(rs)} 的 facts: 下声明 to add a fact, declare it under facts:，例如\n"
           f"      facts:\n        {example}\n"
           f"    （type 可为 {'、'.join(TYPES)}；枚举另写 values: {{代码: 中文名称}}；见 docs/rule-files.md）")
    return PolicyNameError(
        message, span, found=path,
        expected="词汇表中的事实，或规则集 policy-set.yaml 的 facts: 中声明的事实 a fact of the vocabulary or declared by the set",
        hint=f"{near}\n  {add}" if near else add)


def _manifest_shown(rs: "RuleSet") -> str:
    return str(Path(rs.path) / MANIFEST)   # as the set was named: policies/liaoning/policy-set.yaml


# --- declared facts as data (policy show, the catalog) -----------------------------------------------

def fact_json(spec: FactSpec) -> dict:
    """A declared fact as JSON: how the set wrote it, plus the set that declared it."""
    def bound(v: object) -> object:
        return v.isoformat() if isinstance(v, date) else (str(v) if isinstance(v, Decimal) else v)

    fields = spec.type.elem.fields if spec.type.kind == "list" and spec.type.elem is not None else ()
    labels = dict(spec.field_labels)
    return {"path": spec.path, "zh": spec.zh, "type": _type_name(spec.type),
            "values": dict(spec.value_labels) or None,
            "fields": {n: {"type": _type_name(t), "zh": labels.get(n, n)} for n, t in fields} or None,
            "min": bound(spec.minimum), "max": bound(spec.maximum), "doc": spec.doc, "unit": spec.unit,
            "declared_in": spec.declared_in}


def _type_name(t: T.Type) -> str:
    if t.kind == "list":
        return "list of record"
    return str(t)



# --- one case, two sets (policy diff, diff --generate, a test's compare) ------------------------------

def as_seen_by(facts: Any, vocab: Vocabulary, other: Vocabulary) -> Any:
    """A case written for the set of `other`, as the set of `vocab` sees it: the facts `other`'s sets
    declare and `vocab` does not have are left out (that set's rules cannot read them; refusing the
    case as an unknown fact would make every new edition's case unusable against the old one).
    Anything else, an unknown key included, stays and is reported as usual."""
    foreign = [s.path for s in declared_by_sets(other) if s.path not in vocab.facts]
    if not foreign or not isinstance(facts, dict):
        return facts
    out = dict(facts)
    for path in foreign:
        subject, _, name = path.partition(".")
        if isinstance(out.get(subject), dict) and name in out[subject]:
            out[subject] = {k: v for k, v in out[subject].items() if k != name}
    return out
