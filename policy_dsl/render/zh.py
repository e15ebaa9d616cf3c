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
from typing import TYPE_CHECKING

from .. import nodes as n
from ..trace import NOT_EVALUATED, TraceNode
from ..values import Unknown
from .rule_words import RuleWords
from .words import (NOT_COMPUTED, UNDETERMINED, day, duration, money, negate, number, percent, phrase,  # noqa: F401
                    quantity_kind, unit_of, value_words)

if TYPE_CHECKING:
    from ..engine import RuleEngine

@dataclass(frozen=True)
class Words(RuleWords):
    """Labels of one rule set, for people: facts, conclusions, clauses, and a traced case's
    conditions in words (the rule itself, with no case, is RuleWords')."""

    engine: "RuleEngine"

    def fact(self, path: str) -> str:
        spec = self.engine.vocab.facts.get(path)
        label = spec.zh if spec else path
        return re.sub(r"（民法典[^）]*）$", "", label)

    def missing(self, path: str) -> str:
        """What a missing fact is called when it is asked for: 'household.members[1].employed' →
        '第2名家庭成员“已就业”'."""
        m = re.fullmatch(r"(.+)\[(\d+)\]\.(\w+)", path)
        if not m:
            return self.fact(path)
        whole = "家庭成员" if m.group(1).startswith("household.") else self.fact(m.group(1))
        return f"第{int(m.group(2)) + 1}名{whole}“{self.field(m.group(1), m.group(3))}”"

    def enum_labels(self, path: str) -> dict[str, str]:
        spec = self.engine.vocab.facts.get(path)
        return dict(spec.value_labels) if spec else {}

    def field(self, collection: str, name: str) -> str:
        spec = self.engine.vocab.facts.get(collection)
        return dict(spec.field_labels).get(name, name) if spec else name

    def conclusion(self, cid: str, name: str) -> str:
        """The vocabulary's label; for a set's own conclusion, the `label` its rule file gives."""
        spec = self.engine.vocab.clauses.get(cid)
        if spec and name in spec.labels:
            return spec.labels[name]
        item = self.engine.rule_set.clauses[cid].conclusions.get(name) if cid in self.engine.rule_set.clauses else None
        return item.label if item is not None and item.label else name

    def conclusion_labels(self, cid: str) -> dict[str, str]:
        """Every conclusion of clause `cid` → its label (the vocabulary's, else its rule file's, else its name)."""
        return {name: self.conclusion(cid, name) for name in self.engine.rule_set.clauses[cid].conclusions}

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
        """Every enum code's label, facts first: for a value whose own labels are not known."""
        out: dict[str, str] = {}
        for spec in self.engine.vocab.facts.values():
            for code, label in spec.value_labels:
                out.setdefault(code, label)
        for clause in self.engine.vocab.clauses.values():
            for table in clause.value_labels.values():
                for code, label in table.items():
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
            kids = deciding(node)
            known = [c for c in kids if c.form == "call:known" and c.value is True]
            parts = [self.reason(c) for c in kids if c not in known or len(kids) == len(known)]
            return "；".join(p for p in parts if p)  # "已提供…" says nothing next to the values themselves
        if form == "not" and kids:
            return self.reason(kids[0])
        parts = [c for c in node.children if c.kind != "exception"]
        if form == "if" and len(parts) == 3:  # cond, then, else (literal branches kept in place)
            cond = parts[0]
            branch = parts[1] if cond.value is True else parts[2] if cond.value is False else None
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
        facts = [self.missing(m) for m in sorted(value.missing) if m not in value.reasons]
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
