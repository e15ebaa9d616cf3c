"""Plain Chinese for people: values with their units, names instead of identifiers, and
conditions told in words with the source text's boundaries ("30人（含）以下", "不高于6%",
"不足5年", "2021年12月31日前（含当日）").

The one place that turns a value, a traced condition or an expression into Chinese for a
clerk or an applicant; the clerk text, the notice and the compact tree all use it (and a
catalog of the rules can use `rule_words`, which needs no case). Nothing here evaluates.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from .. import nodes as n
from ..trace import NOT_EVALUATED, TraceNode
from ..values import Duration, Unknown, format_decimal, round_half_up

if TYPE_CHECKING:
    from ..engine import RuleEngine

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
    return "不" + label if not label.startswith(("不", "未", "无")) else label


@dataclass(frozen=True)
class Words:
    """Labels of one rule set, for people."""

    engine: "RuleEngine"

    def fact(self, path: str) -> str:
        spec = self.engine.vocab.facts.get(path)
        label = spec.zh if spec else path
        return re.sub(r"（民法典[^）]*）$", "", label)

    def enum_labels(self, path: str) -> dict[str, str]:
        spec = self.engine.vocab.facts.get(path)
        return dict(spec.value_labels) if spec else {}

    def field(self, collection: str, name: str) -> str:
        spec = self.engine.vocab.facts.get(collection)
        return dict(spec.field_labels).get(name, name) if spec else name

    def conclusion(self, cid: str, name: str) -> str:
        spec = self.engine.vocab.clauses.get(cid)
        if spec and name in spec.labels:
            return spec.labels[name]
        return name

    def conclusion_unit(self, cid: str, name: str) -> str:
        spec = self.engine.vocab.clauses.get(cid)
        return spec.units.get(name, "") if spec else ""

    def conclusion_enum(self, cid: str, name: str) -> dict[str, str]:
        """Labels of an enum or set-of-enum conclusion's codes (from the vocabulary); a conclusion
        that picks codes of a fact (符合的身份类别) falls back to the facts' labels."""
        spec = self.engine.vocab.clauses.get(cid)
        own = spec.value_labels.get(name, {}) if spec else {}
        return own or self.all_enum_labels()

    def all_enum_labels(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for spec in self.engine.vocab.facts.values():
            for code, label in spec.value_labels:
                out.setdefault(code, label)
        return out

    def clause(self, cid: str) -> str:
        spec = self.engine.vocab.clauses.get(cid)
        return spec.zh if spec else self.engine.rule_set.clauses[cid].title

    # -- trace nodes ------------------------------------------------------------------------
    def name(self, node: TraceNode) -> str:
        if node.kind == "fact":
            return self.fact(node.label)
        if node.kind == "conclusion":
            return self.conclusion(node.clause or "", node.label)
        if node.kind in ("condition", "definition", "parameter", "exception"):
            return node.label
        return ""

    def unit(self, node: TraceNode) -> str:
        if node.kind == "conclusion":
            return self.conclusion_unit(node.clause or "", node.label)
        if node.kind == "literal":
            return ""
        return unit_of(self.name(node))

    def value(self, node: TraceNode, unit: str | None = None) -> str:
        labels: dict[str, str] = {}
        if node.kind == "fact":
            labels = self.enum_labels(node.label)
        elif node.kind == "conclusion":
            labels = self.conclusion_enum(node.clause or "", node.label)
        return value_words(node.value, node.value_type, self.unit(node) if unit is None else unit, labels)

    # -- why a traced node has its value ------------------------------------------------------
    def reason(self, node: TraceNode) -> str:
        """One sentence (or a few joined by '；') saying why `node` has its value, deciding parts only."""
        if node.value.__class__ is Unknown:
            return self.lacking(node.value)  # type: ignore[arg-type]
        if node.kind in ("condition", "definition", "conclusion") and (node.ref or not node.children):
            return self.stated(node)
        form = node.form
        kids = [c for c in node.children if c.kind not in ("literal", "exception")]
        if node.kind == "fact":
            return self.stated(node)
        if node.kind == "parameter":
            return f"{node.label}为{self.value(node)}"
        if form in ("compare", "member"):
            return self.comparison(node)
        if form in ("and", "or"):
            parts = [self.reason(c) for c in deciding(node)]
            return "；".join(p for p in parts if p)
        if form == "not" and kids:
            return self.reason(kids[0])
        if form == "if" and len(kids) >= 2:
            cond = kids[0]
            branch = kids[1] if cond.value is True else kids[2] if cond.value is False and len(kids) > 2 else None
            first = self.reason(cond)
            if branch is None or branch.kind == "literal" or not branch.evaluated:
                return first
            return f"{first}；{self.reason(branch)}" if first else self.reason(branch)
        if form.startswith("agg:"):
            return self.aggregate(node)
        if form.startswith("call:"):
            return self.call(node)
        if form == "ref" and kids:
            return self.reason(kids[0])
        if form == "arith":
            return self.arithmetic(node)
        return self.stated(node)

    def lacking(self, value: Unknown) -> str:
        """'缺少上年度裁员人数' / the rules' own reason for a value they leave open."""
        facts = [self.fact(m.split("[")[0]) for m in sorted(value.missing) if m not in value.reasons]
        opened = [value.reasons[m] for m in sorted(value.missing) if m in value.reasons]
        parts = (["缺少" + "、".join(dict.fromkeys(facts))] if facts else []) + opened
        return "；".join(parts) or UNDETERMINED

    def stated(self, node: TraceNode) -> str:
        """'在本省参加失业保险：是' / '裁员率达标：否' / '上年度裁员人数为6人'."""
        name = self.name(node) or self.words_of(node)
        if node.value is True or node.value is False:
            return f"{name}：{'是' if node.value else '否'}"
        if node.value.__class__ is Unknown:
            return f"{name}：{UNDETERMINED}"
        return f"{name}为{self.value(node)}"

    def operand(self, node: TraceNode, unit: str = "") -> tuple[str, str]:
        """(what it is, its value) for one side of a comparison."""
        if node.kind == "literal":
            return "", value_words(node.value, node.value_type, unit)
        if node.form == "arith" and node.kind == "expr":
            return self.arith_name(node), self.value(node, unit)
        name = self.name(node) or self.words_of(node)
        value = self.value(node, unit or None)
        if name.endswith("（月）") and value.endswith("个月"):
            name = name[:-3]  # 见习期（月）12个月 → 见习期12个月
        return name, value

    def comparison(self, node: TraceNode) -> str:
        kids = [c for c in node.children if c.kind != "exception"]
        if len(kids) != 2:
            return self.stated(node)
        left, right = kids
        if node.form == "member":
            return self.membership(node, left, right)
        unit = self.unit(left) or self.unit(right)
        if left.value_type and "rate" in (left.value_type, right.value_type):
            unit = "%"
        kind = quantity_kind(left.value_type if left.kind != "literal" else right.value_type, unit)
        if left.form == "call:size" and right.kind == "literal" and right.value == 0 and node.op == ">":
            inner = [c for c in left.children if c.kind != "literal"]
            what = self.name(inner[0]) if inner else ""
            return f"{what}：{self.value(inner[0])}" if node.value else f"没有{what}"
        lname, lval = self.operand(left, unit if left.kind in ("definition", "expr", "literal") else "")
        rname, rval = self.operand(right, unit if right.kind in ("definition", "expr", "literal") else "")
        if node.op in ("==", "!=") and right.kind == "literal" and isinstance(right.value, str):
            labels = self.enum_labels(left.label) if left.kind == "fact" else {}
            shown = labels.get(right.value, right.value)
            if node.op == "==" and node.value is False:
                return f"{lname}为{lval}，不是{shown}"
            return f"{lname}为{lval}"
        if node.value is NOT_EVALUATED or node.value.__class__ is Unknown:
            missing = [n for n, v in ((lname, left.value), (rname, right.value)) if v.__class__ is Unknown]
            rule = phrase(node.op or "==", kind, rval if right.value.__class__ is not Unknown else rname, None)
            return f"{lname}是否{rule}{UNDETERMINED}" + (f"（{'、'.join(missing)}{UNDETERMINED}）" if missing else "")
        threshold = rval if right.kind in ("parameter", "literal") or not rname else \
            f"{rname}（{rval}）" if right.form == "arith" else f"{rname}{rval}"
        subject = f"{lname}{lval}" if lname else lval
        if left.form.startswith("agg:"):
            subject = self.aggregate(left)
        elif lname and left.kind not in ("fact", "definition", "conclusion"):
            subject = f"{lname}（{lval}）"
        return f"{subject}，{phrase(node.op or '==', kind, threshold, bool(node.value))}"

    def membership(self, node: TraceNode, element: TraceNode, collection: TraceNode) -> str:
        inside = node.value if node.op == "in" else (not node.value if isinstance(node.value, bool) else node.value)
        if element.kind == "literal" and collection.kind == "fact":
            what = self.enum_labels(collection.label).get(str(element.value), str(element.value))
            if inside is True:
                return f"{self.fact(collection.label)}包括{what}"
            if inside is False:
                return f"{self.fact(collection.label)}不包括{what}"
            return f"{self.fact(collection.label)}是否包括{what}{UNDETERMINED}"
        name, val = self.operand(element)
        where = self.name(collection)
        where = f"所列{where}" if where and where != name else "所列范围"
        if inside is True:
            return f"{name}为{val}，在{where}之内"
        if inside is False:
            return f"{name}为{val}，不在{where}之内"
        return f"{name}{UNDETERMINED}"

    def aggregate(self, node: TraceNode) -> str:
        agg = node.ast
        coll = node.children[0] if node.children else None
        if not isinstance(agg, n.Aggregate) or coll is None:
            return self.stated(node)
        whole = "家庭" if coll.label.startswith("household.") else self.fact(coll.label)
        total = len(coll.value) if isinstance(coll.value, (list, tuple)) else None
        where = self.rule_words(agg.where, coll.label, agg.var) if agg.where is not None else "成员"
        head = f"{whole}{total}名成员中，" if total is not None else f"{whole}成员中，"
        if node.value.__class__ is Unknown or total is None:
            return f"{head}{where}的成员人数{UNDETERMINED}"
        if agg.kind == "count":
            return f"{head}{where}的有{node.value}名"
        if agg.kind == "any":
            return f"{head}{'有' if node.value else '没有'}{where}的成员"
        if agg.kind == "all":
            return f"{head}{'都' if node.value else '并非都'}{where}"
        return f"{head}{where}的合计为{self.value(node)}"

    def call(self, node: TraceNode) -> str:
        name = node.form.split(":", 1)[1]
        kids = [c for c in node.children if c.kind != "literal"]
        if name == "known" and kids:
            what = self.name(kids[0]) or self.words_of(kids[0])
            what = "家庭成员情况" if kids[0].label.startswith("household.") else what
            return f"{'已' if node.value else '未'}提供{what}"
        if name == "size" and kids:
            inner = kids[0]
            return f"{self.name(inner) or self.words_of(inner)}：{self.value(inner)}"
        if name == "max" and kids:
            return "取较高者：" + "、".join(f"{self.name(k)}{self.value(k)}" for k in kids)
        return f"{self.words_of(node)}为{self.value(node)}"

    def arithmetic(self, node: TraceNode) -> str:
        return f"{self.arith_name(node)}为{self.value(node)}"

    def arith_name(self, node: TraceNode) -> str:
        kids = node.children
        if len(kids) != 2 or not isinstance(node.ast, n.Arith):
            return self.words_of(node)
        left, right = kids
        lname = self.name(left) or value_words(left.value, left.value_type)
        rname = self.name(right) or value_words(right.value, right.value_type)
        op = node.ast.op
        if "date" in (left.value_type or "") and op in "+-":
            return f"{lname}{'前' if op == '-' else '后'}{value_words(right.value, right.value_type)}"
        verb = {"+": "加", "-": "减", "*": "乘以", "/": "除以"}[op]
        return f"{lname}{verb}{rname}"

    def words_of(self, node: TraceNode) -> str:
        """A name for an unnamed expression, from its shape."""
        if isinstance(node.ast, n.Ref) and node.kind == "expr":
            return node.label.split(".")[-1]
        return "计算结果"

    # -- the rule itself, with no case (also for a catalog of the rules) ----------------------
    def rule_words(self, expr: n.Expr, collection: str = "", var: str = "") -> str:
        """An expression in words without values: 'm.working_age and not m.employed' over household
        members → '在法定劳动年龄内且未就业'."""
        if isinstance(expr, n.And):
            parts = [self.rule_words(e, collection, var) for e in _conjuncts(expr)]
            return "、".join(parts[:-1]) + "且" + parts[-1]
        if isinstance(expr, n.Or):
            return f"{self.rule_words(expr.left, collection, var)}或{self.rule_words(expr.right, collection, var)}"
        if isinstance(expr, n.Not):
            return negate(self.rule_words(expr.operand, collection, var))
        if isinstance(expr, n.Ref):
            if var and expr.parts[0] == var and len(expr.parts) == 2:
                return self.field(collection, expr.parts[1])
            dotted = expr.dotted
            if dotted in self.engine.vocab.facts:
                return self.fact(dotted)
            return expr.parts[-1]
        if isinstance(expr, n.Literal):
            return value_words(expr.value, str(expr.type))
        if isinstance(expr, n.Compare):
            left = self.rule_words(expr.left, collection, var)
            unit = unit_of(left)
            right = expr.right
            kind = "date" if isinstance(right, n.Literal) and isinstance(right.value, date) else \
                "count" if unit else "amount"
            t = value_words(right.value, str(right.type), unit) if isinstance(right, n.Literal) else \
                self.rule_words(right, collection, var)
            return f"{left}{phrase(expr.op, kind, t, None)}"
        return "满足所列条件"


def _conjuncts(expr: n.Expr) -> list[n.Expr]:
    if isinstance(expr, n.And):
        return _conjuncts(expr.left) + _conjuncts(expr.right)
    return [expr]


def deciding(node: TraceNode) -> list[TraceNode]:
    """The operands that decided an and/or: for a false `and` the failing ones, for a true `or`
    the first that held; otherwise every evaluated one (undetermined first)."""
    kids = [c for c in node.children if c.evaluated and c.kind not in ("literal", "exception")]
    if node.form == "and" and node.value is False:
        return [c for c in kids if c.value is False]
    if node.form == "or" and node.value is True:
        return [c for c in kids if c.value is True][:1]
    if node.value.__class__ is Unknown:
        return [c for c in kids if c.value.__class__ is Unknown] or kids
    return kids
