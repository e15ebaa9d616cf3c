"""The rule itself in plain Chinese, with no case: a named condition, definition or conclusion
told with the source text's boundaries ("上年度参保职工总数30人（含）以下"). For a clerk's
explanation and for the catalog of the rules (policy catalog), which has no case at all.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from .. import nodes as n
from ..model import Parameter
from ..typer import FactBinding, SlotBinding
from ..values import Unknown
from .words import negate, phrase, unit_of, value_words

if TYPE_CHECKING:
    from ..engine import RuleEngine


class RuleWords:
    """Words' half that needs no case; `engine` and the label methods (fact, conclusion_enum,
    …) are Words'."""

    engine: "RuleEngine"

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
