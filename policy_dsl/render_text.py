"""A decision as plain text for a terminal: each applicable clause, its conclusions."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .render_json import json_value
from .values import Unknown, format_typed, isolated

if TYPE_CHECKING:
    from .engine import Decision


def value_text(value: object, engine, key: str) -> str:
    t = engine.slot_type(key) if engine else None
    if value.__class__ is Unknown:
        shown = json_value(value, t, engine.vocab if engine else None)
        missing = "、".join(shown["missing"])  # type: ignore[index]
        return f"未确定 undetermined（缺少 {missing}：{shown['reason']}）"  # type: ignore[index]
    if t is not None and t.kind == "rate":
        return format_typed(value, "rate")
    shown = json_value(value, t)
    if isinstance(shown, bool):
        return "是 true" if shown else "否 false"
    if isinstance(shown, list):
        return "{" + ", ".join(map(str, shown)) + "}"
    if t is not None and t.kind == "money":
        return f"{shown} 元"
    return str(shown)


@isolated
def decision_text(decision: "Decision") -> str:
    engine = decision.engine
    lines = [f"规则集 {decision.policy_set}  评估日期 {decision.as_of or '未给出'}"]
    for cid, result in decision.clauses.items():
        if not result.applicable or not result.conclusions:
            continue
        clause = engine.rule_set.clauses[cid] if engine else None
        cite = f"（{clause.source.short()}）" if clause and clause.source else ""
        lines.append(f"\n{clause.title if clause else cid} [{cid}]{cite}")
        for name, value in result.conclusions.items():
            lines.append(f"  {name}: {value_text(value, engine, f'{cid}.{name}')}")
    skipped = [cid for cid, r in decision.clauses.items() if not r.applicable]
    if skipped:
        lines.append(f"\n不适用（案例中没有该对象）: {', '.join(skipped)}")
    return "\n".join(lines)
