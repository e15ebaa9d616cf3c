"""`policy diff` as rich tables for a terminal (the data is diff.DiffReport)."""
from __future__ import annotations

import io
import json
from collections import Counter

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .diff import DiffReport

_CHANGE_ZH = {"added": "新增", "removed": "删除", "changed": "修改", "filled": "填写委托参数", "redelegated": "仍未定，改了依据",
              "delegated": "改为委托", "widened": "放宽", "narrowed": "收紧"}
_KIND_ZH = {"clause": "条款", "metadata": "条款信息", "parameter": "参数", "definition": "定义", "condition": "条件",
            "conclusion": "结论", "exception": "例外", "bounds": "参数范围"}


def _val(v) -> str:
    if isinstance(v, dict) and v.get("undetermined"):
        return "未确定[" + "、".join(v["missing"]) + "]"
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


_SHOWN = 20  # undeclared differences listed one by one; the rest are counted and in the JSON


def _base_val(d) -> str:
    return "（新增）" if d.added else _val(d.base)


def _clip(text: str | None, width: int = 60) -> str | None:
    return text if text is None or len(text) <= width else text[: width - 1] + "…"



def _pairwise_line(p: dict) -> str:
    line = (f"两两组合：{p['rows']} 个组合案例，覆盖 {p['pairs_covered']}/{p['pairs']} 个“两个事实各取一值”的组合"
            f"（每个条款最多 {p['row_cap']} 个组合案例、每个事实最多取 {p['level_cap']} 个值")
    if p["capped_clauses"]:
        line += "；达到上限、未全部覆盖的条款：" + "、".join(p["capped_clauses"])
    return line + "）"


_REGION_ZH = (("below", "低于两值"), ("at_lower", "等于较小值"), ("between", "两值之间"), ("at_upper", "等于较大值"),
              ("above", "高于两值"))


def _print_thresholds(console: Console, report: DiffReport) -> None:
    t = report.thresholds
    assert t is not None
    console.print(f"比较（阈值）共 {t['comparisons']} 处，其中两种结果（是/否）都出现 {t['both_outcomes']} 处；"
                  f"大小比较 {t['ordered']} 处中，低于和高于两侧都有案例的 {t['both_sides']} 处，恰好等于阈值的 {t['exactly_at']} 处")
    if t["one_outcome_only"]:
        console.print("只出现一种结果的比较：" + "；".join(t["one_outcome_only"]))
    moved = [c for c in t["changed"] if c["kind"] == "threshold"]
    params = [c for c in t["changed"] if c["kind"] == "parameter"]
    if moved:
        console.print("两个规则集不同的阈值（每格：案例数；括号内为其中两版判断不同、且结论差异归因于这处阈值的案例数）：")
        table = Table(show_lines=True)
        for col in ("条款", "比较", report.base, report.variant, *(zh for _, zh in _REGION_ZH), "两边判断不同", "发现结论不同"):
            table.add_column(col, overflow="fold")
        change_zh = {"added": "（无此比较）", "removed": "（已删除）"}
        for c in moved:
            cells = [f"{c['regions'][r]['cases']}（{c['regions'][r]['differing']}）" for r, _ in _REGION_ZH]
            table.add_row(*map(escape, (f"{c['clause']}.{c['item']}", c["compare"],
                                        c["base"] or change_zh["added"], c["variant"] or change_zh["removed"], *cells,
                                        f"{c['separating_cases']}（{c['separating_differing']}）",
                                        "是" if c["difference_found"] else "否")))
        console.print(table)
    if params:
        console.print("值不同、但不用作比较阈值的参数：")
        table = Table(show_lines=False)
        for col in ("参数", report.base, report.variant, "用到的案例", "结论不同（归因于它）", "发现结论不同"):
            table.add_column(col, overflow="fold")
        for c in params:
            table.add_row(*map(escape, (f"{c['clause']}.{c['item']}", _clip(c["base"], 40) or "", _clip(c["variant"], 40) or "",
                                        str(c["cases"]), str(c["differing"]), "是" if c["difference_found"] else "否")))
        console.print(table)


def render_report(report: DiffReport, width: int = 140) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=False, color_system=None)
    rules = [c for c in report.changes if c.kind != "metadata"]
    meta = [c for c in report.changes if c.kind == "metadata"]
    console.print(f"{report.base} → {report.variant}：{len(rules)} 处规则修改，{len(meta)} 处条款信息修改")
    table = Table(show_lines=True)
    for col in ("条款", "类别", "名称", "变化", f"{report.base}", f"{report.variant}"):
        table.add_column(col, overflow="fold")
    for c in rules:
        base = "\n".join(x for x in (_clip(c.base), c.base_citation and f"[{_clip(c.base_citation)}]") if x)
        variant = "\n".join(x for x in (_clip(c.variant), c.detail, c.bounds and f"范围 {c.bounds}",
                                         c.variant_citation and f"[{_clip(c.variant_citation)}]") if x)
        table.add_row(*map(escape, (c.clause, _KIND_ZH.get(c.kind, c.kind), c.name, _CHANGE_ZH.get(c.change, c.change),
                                    base, variant)))
    console.print(table)
    if meta:
        by_clause: dict[str, list[str]] = {}
        for c in meta:
            by_clause.setdefault(c.clause, []).append(c.name)
        console.print("条款信息（出处、责任单位、说明）修改：")
        for cid, keys in by_clause.items():
            console.print(f"  {cid}: {'、'.join(keys)}")
    if report.generated is not None:
        g = report.generated
        console.print(f"\n自动生成 {g['cases']} 个案例，覆盖 {g['clauses_reached']}/{g['clauses']} 个可计算条款；"
                      f"条件真假两面都出现：{g['conditions_both_ways']}/{g['conditions']}")
        if g.get("conditions_one_way"):
            console.print("只出现一面的条件：" + "、".join(g["conditions_one_way"]))
        if g.get("pairwise"):
            console.print(_pairwise_line(g["pairwise"]))
    if report.thresholds is not None:
        _print_thresholds(console, report)
    if report.cases:
        differing = len({d.case for d in report.differences})
        console.print(f"\n{report.cases} 个案例中有 {differing} 个至少一个结论不同；{len(report.differences)} 处差异，"
                      f"其中未声明 {len(report.undeclared)} 处")
        counts = Counter(d.conclusion for d in report.differences)
        table = Table(show_lines=False)
        for col in ("结论", "差异数", "已声明", "原因（追踪中经过的修改项）", "示例"):
            table.add_column(col, overflow="fold")
        seen: set[str] = set()
        for d in report.differences:
            if d.conclusion in seen:
                continue
            seen.add(d.conclusion)
            example = f"{_base_val(d)} → {_val(d.variant)}"
            declared = f"是：{d.justification}" if d.declared else "否"
            table.add_row(*map(escape, (d.conclusion, str(counts[d.conclusion]), declared, "、".join(d.because) or "—",
                                        example)))
        console.print(table)
        if report.unobserved:
            console.print("已声明但这些案例中没有出现的差异（请确认案例覆盖或声明是否过时）：" + "、".join(report.unobserved))
        for d in report.undeclared[:_SHOWN]:
            console.print(escape(f"未声明：{d.case} · {d.conclusion}: {_base_val(d)} → {_val(d.variant)}（{'、'.join(d.because)}）"))
        if len(report.undeclared) > _SHOWN:
            console.print(f"……另有 {len(report.undeclared) - _SHOWN} 处未声明的差异未列出 not shown；"
                          "加 --format json 查看全部（differences 中 declared 为 false 的项）")
    return console.file.getvalue()  # type: ignore[attr-defined]
