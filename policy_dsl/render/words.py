"""Numbers, dates and boundaries in Chinese for people: values with their units, at most two
decimals for rates ("≈" when rounded), money in 元, dates as 2021年12月31日, and comparisons as
the source text says them ("30人（含）以下", "不高于6%", "不足5年", "2021年12月31日前（含当日）").
The words for conditions and expressions built on these are in zh.py."""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from ..trace import NOT_EVALUATED
from ..values import Duration, Unknown, format_decimal, round_half_up

UNDETERMINED = "未确定"
NOT_COMPUTED = "未计算"

# Unit words for counts, read from the end of a Chinese name ("上年度参保职工总数" → 人).
# Checked in order; the first that matches wins. Tested against every count in both sets.
_UNIT_RULES: tuple[tuple[str, str], ...] = (
    (r"（月）$|月数(上限|下限)?$|见习期$", "个月"),
    (r"天数$", "天"),
    (r"次数(上限|（含本次）|（不含本次）)?$", "次"),
    (r"人数(上限)?$|职工总数$|最少人数$", "人"),
    (r"年龄$", "周岁"),
    (r"倍数$", "倍"),
)


def unit_of(name: str) -> str:
    """The unit word of a count or amount named `name` (a Chinese label), or ''."""
    for pattern, unit in _UNIT_RULES:
        if re.search(pattern, name):
            return unit
    return ""


def day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def number(value: Decimal | int, places: int = 2) -> str:
    """At most `places` decimals; '≈' when that rounds (the exact value stays in JSON)."""
    exact = Decimal(value)
    shown = round_half_up(exact, places)
    text = format_decimal(shown)
    return text if shown == exact else f"≈{text}"


def money(value: Decimal | int) -> str:
    """'30000.00元'; '≈300.02元' for an exact intermediate amount; '5000000.00元（500万元）'."""
    exact = Decimal(value)
    shown = round_half_up(exact, 2)
    text = format(shown, "f")
    if shown != exact:
        return f"≈{text}元"
    if exact >= 100000 and exact % 10000 == 0:
        return f"{text}元（{format_decimal(exact / 10000)}万元）"
    return f"{text}元"


def percent(value: Decimal | int) -> str:
    text = number(Decimal(value) * 100)
    return f"{text}%"


def duration(d: Duration) -> str:
    return f"{d.amount}{ {'day': '日', 'month': '个月', 'year': '年'}[d.unit] }"


def value_words(value: object, vtype: str | None = "", unit: str = "", enum_labels: dict | None = None) -> str:
    """A value for people. `vtype` is the type name (money, rate, date, int …); `unit` the unit
    word of a count; `enum_labels` the Chinese labels of an enum's codes."""
    vtype = (vtype or "").split(" ")[0]
    if value is NOT_EVALUATED:
        return NOT_COMPUTED
    if value.__class__ is Unknown:
        return UNDETERMINED
    if value is True:
        return "是"
    if value is False:
        return "否"
    if isinstance(value, (int, Decimal)):
        if vtype == "money":
            return money(value)
        if vtype == "rate" or unit == "%":
            return percent(value)
        return number(value) + unit
    if isinstance(value, date):
        return day(value)
    if isinstance(value, Duration):
        return duration(value)
    if isinstance(value, (frozenset, set, tuple, list)):
        if value and all(isinstance(v, dict) for v in value):
            return f"{len(value)}名"
        items = [value_words(v, "", "", enum_labels) for v in sorted(value, key=str)]
        return "、".join(items) if items else "无"
    if isinstance(value, str):
        return (enum_labels or {}).get(value, value)
    return str(value)


# --- comparisons ---------------------------------------------------------------------------
# How the source text says a comparison, by the kind of quantity: (holds, fails) for each operator.
_AMOUNT = {"<=": ("不高于{t}", "高于{t}"), "<": ("低于{t}", "不低于{t}"), ">=": ("不低于{t}", "低于{t}"),
           ">": ("高于{t}", "不高于{t}"), "==": ("等于{t}", "不等于{t}"), "!=": ("不等于{t}", "等于{t}")}
_COUNT = {"<=": ("在{t}（含）以下", "超过{t}"), "<": ("不足{t}", "达到{t}"), ">=": ("达到{t}（含）以上", "不足{t}"),
          ">": ("超过{t}", "在{t}（含）以下"), "==": ("等于{t}", "不等于{t}"), "!=": ("不等于{t}", "等于{t}")}
_DATE = {"<=": ("在{t}前（含当日）", "晚于{t}"), "<": ("早于{t}（不含当日）", "在{t}当日或之后"),
         ">=": ("在{t}当日或之后", "早于{t}"), ">": ("晚于{t}", "在{t}前（含当日）"),
         "==": ("是{t}", "不是{t}"), "!=": ("不是{t}", "是{t}")}
# The rule itself, with no case: "上年度参保职工总数30人（含）以下".
_RULE_COUNT = {"<=": "{t}（含）以下", "<": "不足{t}", ">=": "{t}（含）以上", ">": "超过{t}", "==": "等于{t}",
               "!=": "不等于{t}"}
_RULE_DATE = {"<=": "{t}前（含当日）", "<": "{t}前（不含当日）", ">=": "{t}当日或之后", ">": "{t}之后（不含当日）",
              "==": "为{t}", "!=": "不是{t}"}


def phrase(op: str, kind: str, threshold: str, holds: bool | None) -> str:
    """'不高于6%' / '高于6%' / '在30人（含）以下' … ; holds=None states the rule."""
    if holds is None:
        table = _RULE_DATE if kind == "date" else _RULE_COUNT if kind == "count" else \
            {k: v[0] for k, v in _AMOUNT.items()}
        return table[op].format(t=threshold)
    table2 = _DATE if kind == "date" else _COUNT if kind == "count" else _AMOUNT
    return table2[op][0 if holds else 1].format(t=threshold)


def quantity_kind(vtype: str | None, unit: str = "") -> str:
    vtype = (vtype or "").split(" ")[0]
    if vtype == "date":
        return "date"
    if vtype in ("rate", "money") or unit == "%":
        return "amount"
    return "count" if unit else "amount"


def negate(label: str) -> str:
    """'已就业' → '未就业', '有劳动能力' → '无劳动能力', '在法定劳动年龄内' → '不在法定劳动年龄内'."""
    for yes, no in (("已", "未"), ("有", "无"), ("在", "不在"), ("属", "不属"), ("处于", "不处于")):
        if label.startswith(yes):
            return no + label[len(yes):]
    return "并非" + label if not label.startswith(("不", "未", "无", "并非")) else label
