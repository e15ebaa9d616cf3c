"""What a patch may change, by how the set is built on its base (editions.py):

- `remove: [name, …]` is for editions: the name must be an inherited item or exception
  of the clause, not restated in the same file, and nothing left may still refer to it
  (checked once the whole set is patched: `dangling_removals`). A city may not remove:
  dropping a province condition would widen who qualifies.
- An item written without `expr` keeps the inherited expression: only `note`, `source`,
  `text` and `label` may go with it, and only for an item the base has.
- A city may not put bounds on a parameter its base did not delegate (bounds limit what a
  delegate fills; the province's own values are not the city's to re-bound).
"""
from __future__ import annotations

from .editions import EXTENDS
from .errors import RuleFileError, did_you_mean
from .model import Clause, RuleSet
from .nodes import Aggregate, Expr, Ref, children
from .vocabulary import vocabulary
from .yamlio import PosDict

_SECTIONS = {"parameters": "参数", "definitions": "定义", "conditions": "条件", "conclusions": "结论"}
RENOTE_KEYS = {"note", "source", "text", "label", "new"}


def patch_problems(data: PosDict, base: RuleSet | None, relation: str | None) -> list[RuleFileError]:
    cid = str(data["id"])
    base_clause = base.clauses.get(cid) if base else None
    patching = base_clause is not None and not data.get("replace", False)
    out = _without_expr(data, base_clause if patching else None) + _exceptions_without_when(data, base_clause if patching else None)
    if "remove" in data:
        out += _removals(data, base_clause if patching else None, relation, base.name if base else "")
    if relation == EXTENDS and base_clause is not None:  # a patch or a whole replacement alike
        out += _city_bounds(data, base_clause, base.name)  # type: ignore[union-attr]
    return out


def _without_expr(data: PosDict, base_clause: Clause | None) -> list[RuleFileError]:
    out = []
    for section in ("definitions", "conditions", "conclusions"):
        table = data.get(section)
        if not isinstance(table, PosDict):
            continue
        for name, item in table.items():
            if not isinstance(item, PosDict) or "expr" in item:
                continue
            if base_clause is None or name not in getattr(base_clause, section):
                out.append(RuleFileError(
                    f"{_SECTIONS[section]} {name} 缺少 expr missing expression", table.key_span(name), expected="expr: …",
                    hint="只写 note/source 而不写 expr，只能用于上级已有的项目（沿用其表达式）；新的项目要写 expr"))
            elif set(item) - RENOTE_KEYS:
                extra = sorted(set(item) - RENOTE_KEYS)
                out.append(RuleFileError(
                    f"{_SECTIONS[section]} {name} 写了 {'、'.join(extra)} 却没有写 expr：不写 expr 时只能改说明或出处 "
                    "without expr only note/source/text/label may change", item.key_span(extra[0]),
                    expected="note、source、text、label，或连同 expr 一起改写"))
    return out


def _exceptions_without_when(data: PosDict, base_clause: Clause | None) -> list[RuleFileError]:
    out = []
    for rule in data.get("exceptions") or ():
        if not isinstance(rule, PosDict) or "when" in rule:
            missing = [k for k in ("conclusion", "value") if isinstance(rule, PosDict) and k not in rule]
            if missing:
                out.append(RuleFileError(f"例外 {rule.get('id')} 缺少 {'、'.join(missing)} missing key", rule.span,
                                         expected="conclusion、when、value"))
            continue
        rid = str(rule["id"])
        if base_clause is None or all(r.id != rid for r in base_clause.exceptions):
            out.append(RuleFileError(
                f"例外 {rid} 缺少 when missing key", rule.key_span("id"), expected="conclusion、when、value",
                hint="只写 id 和 note/source 而不写 when，只能用于上级已有的例外（沿用其条件和值）；新的例外要写 conclusion、when、value"))
        elif set(rule) - {"id", "note", "source"}:
            extra = sorted(set(rule) - {"id", "note", "source"})
            out.append(RuleFileError(
                f"例外 {rid} 写了 {'、'.join(extra)} 却没有写 when：不写 when 时只能改说明或出处 "
                "without when only note/source may change", rule.key_span(extra[0]),
                expected="note、source，或连同 conclusion、when、value 一起改写"))
    return out


def _removals(data: PosDict, base_clause: Clause | None, relation: str | None, base_name: str) -> list[RuleFileError]:
    where = data.key_span("remove")
    if base_clause is None:
        return [RuleFileError("remove 只能用于修改上级已有的条款 nothing to remove: this file is not a patch", where,
                              hint="新条款（new: true）或整条替换（replace: true）没有可删除的沿用项目")]
    if relation == EXTENDS:
        return [RuleFileError(
            f"市级规则集不能删除 {base_name} 的项目 a variant (extends) cannot remove its base's items", where,
            hint="下级只能在上级的框架内填写委托参数、收窄范围、改写项目；删去上级的条件会放宽适用范围。"
                 "若这是同一文件的新一版，在 policy-set.yaml 中写 supersedes 而不是 extends")]
    out = []
    names = [*base_clause.items(), *(r.id for r in base_clause.exceptions)]
    seen: set[str] = set()
    for entry in data["remove"] or ():
        name, span = str(entry), getattr(entry, "span", where)
        if name in seen:
            out.append(RuleFileError(f"remove 中 {name} 写了两次 removed twice", span))
        seen.add(name)
        restated = [s for s in ("parameters", "definitions", "conditions", "conclusions")
                    if isinstance(data.get(s), dict) and name in data[s]]
        if name not in names:
            out.append(RuleFileError(
                f"{base_name} 的条款 {base_clause.id} 没有名为 {name!r} 的项目或例外，无法删除 nothing of that name to remove",
                span, found=name, expected="、".join(names), hint=did_you_mean(name, names)))
        elif restated:
            out.append(RuleFileError(f"{name} 既在 remove 中删除，又在 {restated[0]} 中改写 removed and restated", span,
                                     related=data[restated[0]].key_span(name), hint="删除就不要再写；要改写就不要列入 remove"))
        elif any(str(e.get("id")) == name for e in data.get("exceptions") or () if isinstance(e, dict)):
            out.append(RuleFileError(f"例外 {name} 既在 remove 中删除，又在 exceptions 中改写 removed and restated", span))
    return out


def _city_bounds(data: PosDict, base_clause: Clause, base_name: str) -> list[RuleFileError]:
    out = []
    table = data.get("parameters")
    for name, item in (table.items() if isinstance(table, PosDict) else ()):
        old = base_clause.parameters.get(name)
        if old is None or not isinstance(item, PosDict) or "bounds" not in item or old.delegated is not None:
            continue
        out.append(RuleFileError(
            f"参数 {name} 不是 {base_name} 委托给下级的参数，市级规则集不能给它设定取值范围 "
            "a variant cannot bound a parameter its base did not delegate", item.key_span("bounds"),
            hint="取值范围只约束下级填写的委托参数（下级只能收窄，不能放宽）；若市级文件确实改了这个数，写 value 并在 source 中"
                 "引用市级原文；若这是同一文件的新一版，在 policy-set.yaml 中写 supersedes",
            related=old.origin.span if old.origin else None))
    return out


def dangling_removals(clauses: dict[str, Clause]) -> list[RuleFileError]:
    """A removed item that something left still names (an expression, or an exception's
    conclusion): an error at the `remove` entry, pointing at the reference."""
    removed = {(cid, key.split(".", 1)[1]): where for cid, c in clauses.items() for key, where in c.removed.items()
               if not key.startswith("exceptions.") and key.split(".", 1)[1] not in c.items()}
    if not removed:
        return []
    subjects = frozenset(vocabulary().subjects)
    out: list[RuleFileError] = []
    reported: set[tuple[str, str]] = set()
    for cid, clause in clauses.items():
        for user, roots in _roots(clause):
            for ref in _refs(roots, subjects):
                target = (cid, ref.parts[0]) if len(ref.parts) == 1 else (ref.parts[0], ref.parts[1]) if len(ref.parts) == 2 else None
                if target in removed and target not in reported:
                    reported.add(target)
                    out.append(_still_used(target, user, removed[target], ref.span))
        for rule in clause.exceptions:
            target = (cid, rule.conclusion)
            if target in removed and target not in reported:
                reported.add(target)
                out.append(_still_used(target, f"{cid} 的例外 {rule.id}", removed[target], rule.origin.span if rule.origin else None))
    return out


def _still_used(target: tuple[str, str], user: str, where, span) -> RuleFileError:
    return RuleFileError(f"删除的 {target[0]}.{target[1]} 仍被 {user} 引用 a removed item is still referred to",
                         where.span, related=span, hint=f"同时删除或改写 {user}，使它不再引用 {target[1]}")


def _roots(clause: Clause) -> list[tuple[str, list[Expr]]]:
    out = [(f"{clause.id}.{name}", [item.expr]) for name, item in clause.items().items() if hasattr(item, "expr")]
    return out + [(f"{clause.id} 的例外 {r.id}", [r.when, r.value]) for r in clause.exceptions]


def _refs(roots: list[Expr], subjects: frozenset[str]) -> list[Ref]:
    """References to items (aggregate variables and facts skipped), iteratively."""
    out: list[Ref] = []
    stack: list[tuple[Expr, frozenset[str]]] = [(r, frozenset()) for r in roots]
    while stack:
        node, bound = stack.pop()
        if isinstance(node, Ref):
            if node.parts[0] not in bound and node.parts[0] not in subjects:
                out.append(node)
            continue
        if isinstance(node, Aggregate):
            stack.append((node.collection, bound))
            stack.extend((part, bound | {node.var}) for part in (node.where, node.value) if part is not None)
            continue
        stack.extend((c, bound) for c in children(node))
    return out
