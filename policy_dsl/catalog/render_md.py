"""The catalog as Markdown: the 政策清单 and, per policy, its 办事指南."""
from __future__ import annotations

from .model import Catalog, Cite, Entry

NUMBERS = "一二三四五六七八九十"


def heading(c: Catalog) -> str:
    return f"{c.jurisdiction}就业创业政策清单和办事指南"


def basis(c: Catalog) -> str:
    docs = "；".join(f"{d.id}《{d.title}》" for d in c.documents)
    made = f"规则集 {c.set}" + (f"（在省级规则集 {c.extends} 基础上按本市细则调整）" if c.extends else " ")
    period = f"适用于{c.period}。" if c.period else ""
    return f"依据：{docs}。{period}本清单由{made}自动生成，条件、标准和期限与规则判断所用的完全一致。"


def cite_line(x: Cite) -> str:
    quote = f"：“{x.text}”" if x.text else ""
    return f"{x.short()}{quote}"


def _block(title: str, lines: list[str]) -> list[str]:
    if not lines:
        return []
    return [f"**{title}**", "", *lines, ""]


def entry_md(e: Entry, number: str, extends: str | None) -> list[str]:
    out = [f"### {number} {e.name}", "", f"编号 `{e.id}`", ""]
    out += [f"**适用对象**：{e.subject_zh}", ""]
    out += _block("政策依据", [f"- {cite_line(x)}" for x in e.citations])
    if e.kind == "computable":
        conds = []
        for line in e.conditions:
            conds.append(f"- {line.label}：{line.text}")
            if line.quote:
                conds.append(f"  - 原文：“{line.quote}”")
        out += _block("享受条件", conds)
        out += _block("名词解释", [f"- {line.label}：{line.text}" for line in e.terms])
        out += _block("补贴标准和计算方法", [f"- {line.label}：{line.text}" for line in e.standards])
        if e.parameters:
            rows = ["| 参数 | 取值 | 出处 |", "| --- | --- | --- |"]
            for p in e.parameters:
                where = p.citation.short() if p.citation else "—"
                rows.append(f"| {p.name} | {p.value} | {where} |")
            out += _block("政策参数", rows)
        out += _block("办理时限", [f"- {line.label}：{line.text}" for line in e.deadlines])
        out += _block("办理方式", [f"- {line.label}：{line.text}" for line in e.modes])
    out += [f"**责任单位**：{'、'.join(e.departments) or '条文未列明'}", ""]
    if extends and e.changes:
        rows = ["| 调整内容 | 方式 | 省级规定 | 本市规定 |", "| --- | --- | --- | --- |"]
        for ch in e.changes:
            base = f"{ch.base or '—'}" + (f"（{ch.base_citation}）" if ch.base_citation else "")
            city = f"{ch.variant or '—'}" + (f"（{ch.variant_citation}）" if ch.variant_citation else "")
            rows.append(f"| {ch.what} | {ch.change} | {base} | {city} |")
        out += _block("本市相对省级文件的调整", rows)
    if e.open:
        out += _block("尚待确定", [f"- {p.name}：{p.value}，本规则集尚未填写，相关结论为“未确定”" for p in e.open])
    return out


def catalog_md(c: Catalog) -> str:
    computable = [e for e in c.entries if e.kind == "computable"]
    informational = [e for e in c.entries if e.kind != "computable"]
    out = [f"# {heading(c)}", "", basis(c), "", "## 政策清单", "",
           "| 序号 | 政策名称 | 适用对象 | 政策依据 | 责任单位 |", "| --- | --- | --- | --- | --- |"]
    for i, e in enumerate(computable + informational, 1):
        out.append(f"| {i} | {e.name} | {e.subject_zh} | {'；'.join(x.short() for x in e.citations)} | "
                   f"{'、'.join(e.departments) or '—'} |")
    out.append("")
    if computable:
        out += ["## 一、办事指南", ""]
        for i, e in enumerate(computable, 1):
            out += entry_md(e, f"{i}.", c.extends)
    if informational:
        out += [f"## {'二' if computable else '一'}、其他政策措施和工作要求", ""]
        for i, e in enumerate(informational, 1):
            out += entry_md(e, f"{i}.", c.extends)
    if c.coverage:
        out += ["## 条文对照", "", "| 文件 | 条目 | 本清单中的政策 |", "| --- | --- | --- |"]
        names = {e.id: e.name for e in c.entries}
        for cov in c.coverage:
            shown = "、".join(names[cid] for cid in cov.clauses if cid in names) or "—"
            out.append(f"| {cov.document} | {cov.article} | {shown} |")
        out.append("")
    if c.open:
        out += ["## 尚待确定的事项", "", "省级文件交由下级确定、本规则集尚未填写的参数：", ""]
        out += [f"- {names_of(c, cid)}：{p.name}，{p.value}" for cid, p in c.open]
        out.append("")
    return "\n".join(out).rstrip() + "\n"


def names_of(c: Catalog, cid: str) -> str:
    return next((e.name for e in c.entries if e.id == cid), cid)
