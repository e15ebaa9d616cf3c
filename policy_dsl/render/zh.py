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
from ..model import Parameter
from ..trace import NOT_EVALUATED, TraceNode
from ..typer import FactBinding, SlotBinding
from ..values import Unknown
from .words import (NOT_COMPUTED, UNDETERMINED, day, duration, money, negate, number, percent, phrase,  # noqa: F401
                    quantity_kind, unit_of, value_words)

if TYPE_CHECKING:
    from ..engine import RuleEngine

@dataclass(frozen=True)
class Words:
    """Labels of one rule set, for people."""

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

    # -- the rule itself, with no case (also for a catalog of the rules) ----------------------
    def rule(self, cid: str, name: str) -> str:
        """A named condition, definition or conclusion of clause `cid` in words, without a case:
        小微参保单位 → '上年度参保职工总数30人（含）以下'."""
        item = self.engine.rule_set.clauses[cid].items()[name]
        if isinstance(item, Parameter):
            return self._parameter_words(cid, name)
        labels = self.conclusion_enum(cid, name) if item.role == "conclusion" else None
        return self.rule_words(item.expr, labels=labels)

    def rule_words(self, expr: n.Expr, collection: str = "", var: str = "",
                   labels: dict[str, str] | None = None) -> str:
        """An expression in words without values: '上年度参保职工总数30人（含）以下', over household
        members 'm.working_age and not m.employed' → '在法定劳动年龄内且未就业'. `labels` name the
        codes a conclusion can take (证书目录审定部门: 市教育局 …)."""
        w = lambda e: self.rule_words(e, collection, var, labels)  # noqa: E731
        grouped = lambda e: f"（{w(e)}）" if isinstance(e, (n.Or, n.If)) else w(e)  # noqa: E731
        if isinstance(expr, n.And):
            items, parts = _conjuncts(expr), []
            while items:
                window = self._window_words(items[0], items[1], collection, var) if len(items) > 1 else None
                parts.append(window or grouped(items[0]))
                items = items[2:] if window else items[1:]
            return parts[0] if len(parts) == 1 else "、".join(parts[:-1]) + "且" + parts[-1]
        if isinstance(expr, n.Or):
            return "或".join(f"（{w(e)}）" if isinstance(e, (n.If, n.And)) else w(e) for e in _disjuncts(expr))
        if isinstance(expr, n.Not):
            if isinstance(expr.operand, n.Aggregate) and expr.operand.kind == "any":
                return w(expr.operand).replace("中有", "中没有", 1)
            return negate(w(expr.operand))
        if isinstance(expr, n.Literal) and labels and isinstance(expr.value, str):
            return labels.get(expr.value, expr.value)
        if isinstance(expr, n.Ref):
            return self._ref_words(expr, collection, var)
        if isinstance(expr, n.Literal):
            return self._literal_words(expr)
        if isinstance(expr, n.Compare):
            return self._compare_words(expr, collection, var)
        if isinstance(expr, n.Member):
            return self._member_words(expr, collection, var)
        if isinstance(expr, n.If):
            boolean = str(self.engine.analysis.notes.types.get(id(expr), "")) == "bool"
            be = "" if boolean else "为"
            out = []
            while isinstance(expr, n.If):
                out.append(f"如果{w(expr.cond)}，{be}{grouped(expr.then)}")
                expr = expr.orelse
            last = "视为符合" if boolean and isinstance(expr, n.Literal) and expr.value is True else f"{be}{w(expr)}"
            return "；".join(out) + f"；否则{last}"
        if isinstance(expr, n.Arith):
            return self._arith_words(expr, collection, var)
        if isinstance(expr, n.Neg):
            return f"负{w(expr.operand)}"
        if isinstance(expr, n.Collection):
            return "、".join(w(e) for e in expr.items) or "无"
        if isinstance(expr, n.Aggregate):
            coll = self.rule_words(expr.collection)
            inner_coll = expr.collection.dotted if isinstance(expr.collection, n.Ref) else ""
            where = self.rule_words(expr.where, inner_coll, expr.var) if expr.where is not None else ""
            whole = "家庭成员" if inner_coll.startswith("household.") else coll
            if expr.kind == "count":
                return f"{whole}中{where}的人数" if where else f"{whole}人数"
            if expr.kind == "any":
                return f"{whole}中有{where}的" if where else f"有{whole}"
            if expr.kind == "all":
                return f"{whole}都{where}"
            value = self.rule_words(expr.value, inner_coll, expr.var) if expr.value is not None else ""
            return f"{whole}中{where}的{value}合计" if where else f"{whole}的{value}合计"
        if isinstance(expr, n.Call):
            return self._call_words(expr, collection, var)
        return "按规则计算的值"

    def _window_words(self, a: n.Expr, b: n.Expr, collection: str, var: str) -> str | None:
        """`x < d and x > d - 5年` as the text says it: 'x距d不足5年' ('5年以内' for >=)."""
        if not (isinstance(a, n.Compare) and isinstance(b, n.Compare) and a.op == "<" and b.op in (">", ">=")
                and isinstance(b.right, n.Arith) and b.right.op == "-"):
            return None
        w = lambda e: self.rule_words(e, collection, var)  # noqa: E731
        if w(a.left) != w(b.left) or w(a.right) != w(b.right.left):
            return None
        span = w(b.right.right)
        return f"{w(a.left)}距{w(a.right)}" + (f"不足{span}" if b.op == ">" else f"{span}以内")

    def _ref_words(self, expr: n.Ref, collection: str, var: str) -> str:
        if var and expr.parts[0] == var and len(expr.parts) == 2:
            return self.field(collection, expr.parts[1])
        binding = self.engine.analysis.notes.bindings.get(id(expr))
        if isinstance(binding, FactBinding):
            return self.fact(binding.path)
        if isinstance(binding, SlotBinding):
            cid, name = binding.key.split(".", 1)
            item = self.engine.rule_set.clauses[cid].items().get(name)
            if isinstance(item, Parameter):
                return self._parameter_words(cid, name)
            return self.conclusion(cid, name) if item is not None and item.role == "conclusion" else name
        if expr.dotted in self.engine.vocab.facts:
            return self.fact(expr.dotted)
        return expr.parts[-1] if not expr.dotted.isascii() else "评估日期" if expr.dotted == "as_of" else "所列项目"

    def _parameter_words(self, cid: str, name: str) -> str:
        """A parameter's value with its unit ('30人', '20%', '2021年12月31日'), or its name when the
        rules leave it open."""
        from ..engine import parameter_value

        p = self.engine.rule_set.clauses[cid].parameters[name]
        value = parameter_value(p)
        if value is None or value.__class__ is Unknown:
            return name
        labels = self.all_enum_labels() if p.type.kind in ("set", "enum") else {}
        return value_words(value, str(p.type), unit_of(name), labels)

    def _literal_words(self, expr: n.Literal, labels: dict[str, str] | None = None) -> str:
        labels = (labels or self.all_enum_labels()) if isinstance(expr.value, str) else {}
        return value_words(expr.value, str(expr.type), "", labels)

    def _fact_labels(self, expr: n.Expr) -> dict[str, str] | None:
        binding = self.engine.analysis.notes.bindings.get(id(expr))
        return self.enum_labels(binding.path) or None if isinstance(binding, FactBinding) else None

    def _compare_words(self, expr: n.Compare, collection: str, var: str) -> str:
        left = self.rule_words(expr.left, collection, var)
        right = self.rule_words(expr.right, collection, var)
        ltype = str(self.engine.analysis.notes.types.get(id(expr.left), ""))
        if isinstance(expr.right, n.Literal) and isinstance(expr.right.value, str) and expr.op in ("==", "!="):
            right = self._literal_words(expr.right, self._fact_labels(expr.left))
            return f"{left}{'为' if expr.op == '==' else '不为'}{right}"
        if isinstance(expr.left, n.Call) and expr.left.name == "size" and expr.op == ">" and \
                isinstance(expr.right, n.Literal) and expr.right.value == 0:
            return f"有{self.rule_words(expr.left.args[0], collection, var)}"
        kind = "date" if ltype == "date" else "count" if unit_of(left) or unit_of(right) else "amount"
        if kind == "count" and isinstance(expr.right, n.Literal):
            right = value_words(expr.right.value, str(expr.right.type), unit_of(left))
        if ltype in ("rate",) or right.endswith("%"):
            kind = "amount"
        if left.endswith("（月）") and right.endswith("个月"):
            left = left[:-3]  # 备付期限（月）12个月 → 备付期限12个月, as operand() says it for a case
        text = phrase(expr.op, kind, right, None)
        if kind == "date" and expr.op in ("<", "<=", ">", ">="):
            text = "在" + text
        return f"{left}{text}"

    def _member_words(self, expr: n.Member, collection: str, var: str) -> str:
        verb_in, verb_out = ("包括", "不包括") if isinstance(expr.element, n.Literal) else ("属于", "不属于")
        if isinstance(expr.element, n.Literal):
            whole = self.rule_words(expr.collection, collection, var)
            part = self._literal_words(expr.element, self._fact_labels(expr.collection))
        else:
            whole, part = self.rule_words(expr.element, collection, var), self.rule_words(expr.collection, collection, var)
        return f"{whole}{verb_out if expr.negated else verb_in}{part}"

    def _arith_words(self, expr: n.Arith, collection: str, var: str) -> str:
        left = self.rule_words(expr.left, collection, var)
        right = self.rule_words(expr.right, collection, var)
        ltype = str(self.engine.analysis.notes.types.get(id(expr.left), ""))
        if ltype == "date" and expr.op in "+-":
            binding = self.engine.analysis.notes.bindings.get(id(expr.left))
            if isinstance(binding, SlotBinding) and isinstance(expr.left, n.Ref) and left != expr.left.parts[-1]:
                left = f"{expr.left.parts[-1]}（{left}）"  # 通知发布日期（2021年6月30日）后30日; an open date keeps its name
            return f"{left}{'前' if expr.op == '-' else '后'}{right}"
        if expr.op == "*" and left.endswith("倍"):
            return f"{right}的{left}"
        return f"{left}{ {'+': '加', '-': '减', '*': '乘以', '/': '除以'}[expr.op] }{right}"

    def _call_words(self, expr: n.Call, collection: str, var: str) -> str:
        args = [self.rule_words(a, collection, var) for a in expr.args]
        if expr.name == "known" and args:
            return f"已提供{args[0]}"
        if expr.name == "size" and args:
            return f"{args[0]}的项数"
        if expr.name in ("max", "min") and args:
            return f"{'、'.join(args)}中{'较高' if expr.name == 'max' else '较低'}者"
        if expr.name == "intersect" and len(args) == 2:
            return f"{args[0]}中属于{args[1]}的项"
        if expr.name == "tags":
            return "所符合的各项对应的类别"
        if expr.name == "round" and len(args) == 2:
            return f"{args[0]}四舍五入到{args[1]}位小数"
        return "按规则计算的值"


def _conjuncts(expr: n.Expr) -> list[n.Expr]:
    if isinstance(expr, n.And):
        return _conjuncts(expr.left) + _conjuncts(expr.right)
    return [expr]


def _disjuncts(expr: n.Expr) -> list[n.Expr]:
    if isinstance(expr, n.Or):
        return _disjuncts(expr.left) + _disjuncts(expr.right)
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
