"""A decision as plain text for a terminal: each applicable clause, its conclusions."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .render_json import json_value
from .values import Unknown, isolated

if TYPE_CHECKING:
    from .engine import Decision


def value_text(value: object, engine, key: str) -> str:
    """A conclusion's value in words (render/zh.py): 是, 4%, 30000.00元, 2021年12月31日, 未确定（…）."""
    from .render.zh import Words, value_words

    t = engine.slot_type(key) if engine else None
    if value.__class__ is Unknown:
        shown = json_value(value, t, engine.vocab if engine else None)
        missing = "、".join(shown["missing"])  # type: ignore[index]
        return f"未确定（缺少 {missing}：{shown['reason']}）"  # type: ignore[index]
    cid, name = key.split(".", 1)
    words = Words(engine) if engine else None
    unit = words.conclusion_unit(cid, name) if words else ""
    labels = words.conclusion_enum(cid, name) if words else {}
    return value_words(value, str(t) if t is not None else "", unit, labels)


@isolated
def decision_text(decision: "Decision") -> str:
    from .render.zh import Words

    from .periods.words import edition_line, period_words

    engine = decision.engine
    lines = [f"规则集 {decision.policy_set}  评估日期 {decision.as_of or '未给出'}"]
    period = engine.rule_set.period if engine else None
    if period is not None:
        lines.append(f"本版本管辖 {period_words(period)}")
    for cid, result in decision.clauses.items():
        if not result.applicable or not result.conclusions:
            continue
        clause = engine.rule_set.clauses[cid] if engine else None
        cite = f"（{clause.source.short()}）" if clause and clause.source else ""
        lines.append(f"\n{clause.title if clause else cid} [{cid}]{cite}")
        line = edition_line(decision, cid)
        if line:
            lines.append(f"  {line}")
        gated = cid in getattr(decision, "gates", {})  # the reason is on the line above: said once
        for name, value in result.conclusions.items():
            label = Words(engine).conclusion(cid, name) if engine else None
            label = None if label == name else label
            shown = f"{name}（{label}）" if label else name
            said = "未确定（本条未判断，见上）" if gated and value.__class__ is Unknown else None
            lines.append(f"  {shown}：{said or value_text(value, engine, f'{cid}.{name}')}")
    skipped = [cid for cid, r in decision.clauses.items() if not r.applicable]
    if skipped:
        lines.append(f"\n不适用（案例中没有该对象）: {', '.join(skipped)}")
    return "\n".join(lines)
