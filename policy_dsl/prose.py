"""Trace → sentences a clerk can read to an applicant (zh) or a developer (en).

"不符合：裁员率达标——裁员率 25% 高于 小微单位裁员率上限 20%（辽人社发〔2021〕7号 一（一））"
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from .trace import NOT_EVALUATED, TraceNode
from .render_json import reason_text
from .values import WIDE, Unknown, format_decimal, format_money

_ZH_TRUE = {"<=": "不高于", "<": "低于", ">=": "不低于", ">": "高于", "==": "等于", "!=": "不等于"}
_ZH_FALSE = {"<=": "高于", "<": "不低于", ">=": "低于", ">": "不高于", "==": "不等于", "!=": "等于"}
_ZH_DATE_TRUE = {"<=": "不晚于", "<": "早于", ">=": "不早于", ">": "晚于", "==": "是", "!=": "不是"}
_ZH_DATE_FALSE = {"<=": "晚于", "<": "不早于", ">=": "早于", ">": "不晚于", "==": "不是", "!=": "是"}
_EN_TRUE = {"<=": "is at most", "<": "is below", ">=": "is at least", ">": "is above", "==": "equals", "!=": "differs from"}
_EN_FALSE = {"<=": "is above", "<": "is not below", ">=": "is below", ">": "is not above", "==": "differs from",
             "!=": "equals"}


def show_value(value: object, vtype: str | None, lang: str = "zh", percent: bool = False) -> str:
    if value is NOT_EVALUATED:
        return "未计算" if lang == "zh" else "not evaluated"
    if value.__class__ is Unknown:
        missing = "、".join(sorted(value.missing))  # type: ignore[attr-defined]
        return f"未确定（缺少 {missing}）" if lang == "zh" else f"unknown (needs {missing})"
    if value is True:
        return "是" if lang == "zh" else "true"
    if value is False:
        return "否" if lang == "zh" else "false"
    if isinstance(value, (int, Decimal)) and not isinstance(value, bool):
        if vtype == "money":
            text = _exact_money(Decimal(value))
            return f"{text}元" if lang == "zh" else f"{text} yuan"
        if vtype == "rate" or percent:
            return f"{format_decimal(Decimal(value).scaleb(2, WIDE))}%"
        return format_decimal(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (frozenset, set, tuple, list)):
        items = sorted(map(str, value))
        return ("、".join(items) or "（空）") if lang == "zh" else ("{" + ", ".join(items) + "}")
    return str(value)


def _exact_money(value: Decimal) -> str:
    """Two places, or more when an intermediate amount has them: rounding happens only at
    the conclusion, and the explanation must not hide the fraction of a fen it rounds."""
    rounded = format_money(value)
    return rounded if Decimal(rounded) == value else format_decimal(value)


def node_value(node: TraceNode, lang: str, percent: bool = False) -> str:
    if lang == "zh" and node.value_label and node.evaluated:
        return node.value_label
    return show_value(node.value, node.value_type, lang, percent)


def describe(node: TraceNode, lang: str) -> str:
    """What a node is called in a sentence."""
    if node.kind == "fact":
        return node.zh or node.label if lang == "zh" else node.label
    if node.kind == "literal":
        return ""
    return node.label


def cite(node: TraceNode) -> str:
    c = node.citation
    return c.short() if c else ""


def membership(node: TraceNode, lang: str) -> str | None:
    """'参保单位类型 enterprise 属于 参保单位类型' for an `in` node, or None."""
    if node.op not in ("in", "not in") or len(node.children) != 2 or node.value not in (True, False):
        return None
    element, collection = node.children
    inside = node.value if node.op == "in" else not node.value
    if lang == "zh":
        verb = "属于" if inside else "不属于"
    else:
        verb = "is in" if inside else "is not in"
    what = describe(collection, lang) or show_value(collection.value, collection.value_type, lang)
    return f"{describe(element, lang)} {node_value(element, lang)} {verb} {what}".strip()


def comparison(node: TraceNode, lang: str) -> str | None:
    """'裁员率 25% 高于 小微单位裁员率上限 20%' for a comparison node, or None."""
    if node.op in ("in", "not in"):
        return membership(node, lang)
    if node.op not in _ZH_TRUE or len(node.children) != 2 or node.value not in (True, False):
        return None
    left, right = node.children
    percent = "rate" in (left.value_type, right.value_type)
    dates = "date" in (left.value_type, right.value_type)
    if lang == "zh" and dates:
        table = _ZH_DATE_TRUE if node.value else _ZH_DATE_FALSE
    else:
        table = (_ZH_TRUE if node.value else _ZH_FALSE) if lang == "zh" else (_EN_TRUE if node.value else _EN_FALSE)
    parts = []
    for side in (left, right):
        name = describe(side, lang)
        val = node_value(side, lang, percent)
        parts.append(f"{name} {val}".strip())
    return f"{parts[0]} {table[node.op]} {parts[1]}"


def reasons(node: TraceNode, lang: str) -> list[str]:
    """The sentences that explain why `node` has its value, deciding parts only."""
    if node.ref:
        return [f"{node.label} = {show_value(node.value, node.value_type, lang)}"]
    sentence = comparison(node, lang)
    if sentence:
        return [sentence]
    if node.value.__class__ is Unknown:
        if lang == "zh":
            return [reason_text(node.value)]  # type: ignore[arg-type]
        return ["still needed: " + ", ".join(sorted(node.value.missing))]  # type: ignore[attr-defined]
    if node.kind in ("fact", "parameter", "literal"):
        return [f"{describe(node, lang)}：{node_value(node, lang)}" if lang == "zh"
                else f"{describe(node, lang)} = {show_value(node.value, node.value_type, lang)}"]
    deciding = _deciding(node)
    out: list[str] = []
    for child in deciding:
        if child.kind in ("condition", "definition", "conclusion") and child is not node:
            out.append(f"{child.label}：{show_value(child.value, child.value_type, lang)}" if lang == "zh"
                       else f"{child.label} = {show_value(child.value, child.value_type, lang)}")
            continue
        out.extend(reasons(child, lang))
    return out or [f"{node.label}：{show_value(node.value, node.value_type, lang)}"]


def _deciding(node: TraceNode) -> list[TraceNode]:
    kids = [c for c in node.children if c.evaluated and c.kind not in ("literal", "exception")]
    if node.op == "and" and node.value is False:
        return [c for c in kids if c.value is False]
    if node.op == "or" and node.value is True:
        return [c for c in kids if c.value is True][:1]
    if node.label.startswith("if ") and len(kids) >= 2:
        return kids[:2]
    return kids


def conclusion_lines(node: TraceNode, lang: str) -> list[str]:
    """A conclusion and, for a bool built from conditions, each condition as 符合/不符合."""
    lines = []
    head = f"{node.label} = {show_value(node.value, node.value_type, lang)}"
    lines.append(head + (f"（{cite(node)}）" if cite(node) else ""))
    parts = [c for c in node.children if c.kind not in ("exception", "literal")]
    applied = [c for c in node.children if c.kind == "exception" and c.value is True]
    if applied:
        pass  # the exception decided it: the base rule's reasons are beside the point
    elif node.op in ("and", "or") and parts:
        for c in parts:
            mark = _verdict(c, lang)
            detail = "；".join(reasons(c, lang)) if c.evaluated else ("未计算（前面的条件已决定结果）" if lang == "zh"
                                                                     else "not evaluated (already decided)")
            named = c.kind in ("condition", "conclusion", "definition", "fact", "parameter")
            where = f"（{cite(c)}）" if named and cite(c) and cite(c) != cite(node) else ""
            if named and c.kind in ("fact", "parameter"):
                label = describe(c, lang)
            else:
                label = c.label if (named or not c.evaluated) else ""
            if lang == "zh":
                lines.append(f"  {mark}：{label}——{detail}{where}" if label and label not in detail else f"  {mark}：{detail}{where}")
            else:
                lines.append(f"  {mark}: {label} — {detail}{where}" if label and label not in detail else f"  {mark}: {detail}{where}")
    else:
        for sentence in reasons(node, lang):
            lines.append(("  因为 " if lang == "zh" else "  because ") + sentence)
    raw = node.raw_value
    if node.value_type == "money" and isinstance(raw, (int, Decimal)) and not isinstance(raw, bool) \
            and isinstance(node.value, Decimal) and Decimal(raw) != node.value:
        exact = f"{format_decimal(Decimal(raw))}元"
        lines.append(f"  计算结果 {exact}，四舍五入到分为 {show_value(node.value, 'money', lang)}" if lang == "zh"
                     else f"  computed {format_decimal(Decimal(raw))} yuan, rounded half-up to the fen")
    for exc in (c for c in node.children if c.kind == "exception"):
        agree = exc.value.__class__ is Unknown and node.value.__class__ is not Unknown
        if lang == "zh":
            state = "适用" if exc.value is True else "不适用" if exc.value is False else "未确定"
            tail = "；无论是否适用，结论都相同" if agree else ""
            lines.append(f"  例外「{exc.label}」{state}：{exc.expr} = {show_value(exc.value, 'bool', lang)}{tail}（{cite(exc)}）")
        else:
            state = "applies" if exc.value is True else "does not apply" if exc.value is False else "undecided"
            lines.append(f"  exception '{exc.label}' {state}: {exc.expr} = {show_value(exc.value, 'bool', lang)}")
    return lines


def _verdict(node: TraceNode, lang: str) -> str:
    if node.value is True:
        return "符合" if lang == "zh" else "met"
    if node.value is False:
        return "不符合" if lang == "zh" else "not met"
    if node.value is NOT_EVALUATED:
        return "未计算" if lang == "zh" else "skipped"
    return "待定" if lang == "zh" else "undetermined"
