"""The catalog as one self-contained, print-ready HTML page: inline CSS, no scripts, no external
assets; Chinese through the system's fonts (a font-family stack), A4 when printed."""
from __future__ import annotations

from html import escape as e

from .model import Catalog, Entry, Line
from .render_md import basis, heading

_CSS = """
@page { size: A4; margin: 18mm 16mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Serif CJK SC", "Source Han Serif SC", "SimSun", "Songti SC", "WenQuanYi Micro Hei", serif;
       font-size: 11pt; line-height: 1.65; color: #111; max-width: 190mm; margin: 0 auto; padding: 8mm 6mm; }
h1, h2, h3, th, .label { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", "PingFang SC",
       "WenQuanYi Micro Hei", sans-serif; }
h1 { text-align: center; font-size: 19pt; margin: 0 0 0.3em; letter-spacing: 0.08em; }
p.basis { color: #333; font-size: 10pt; border-bottom: 2px solid #8b0000; padding-bottom: 0.6em; }
h2 { font-size: 14pt; color: #8b0000; margin: 1.4em 0 0.5em; page-break-after: avoid; }
h3 { font-size: 12.5pt; margin: 0 0 0.4em; }
section.policy { border: 1px solid #ccc; border-radius: 4px; padding: 0.7em 1em; margin: 0 0 1em;
                 page-break-inside: avoid; break-inside: avoid-page; }
section.policy .id { color: #666; font-size: 9pt; font-family: monospace; font-weight: normal; margin-left: 0.6em; }
dl { margin: 0; display: grid; grid-template-columns: 6.5em 1fr; column-gap: 0.8em; row-gap: 0.35em; }
dt { font-weight: bold; color: #333; }
dd { margin: 0; }
ul { margin: 0; padding-left: 1.2em; }
li { margin: 0.1em 0; }
q, .quote { color: #444; font-size: 9.5pt; }
.quote { display: block; border-left: 3px solid #ddd; padding-left: 0.5em; margin: 0.1em 0 0.2em; }
table { border-collapse: collapse; width: 100%; font-size: 9.5pt; margin: 0.2em 0; }
th, td { border: 1px solid #bbb; padding: 0.2em 0.45em; vertical-align: top; text-align: left; }
th { background: #f3f0ea; }
.open { color: #8b0000; }
.mode { display: inline-block; border: 1px solid #8b0000; color: #8b0000; border-radius: 3px; padding: 0 0.35em;
        font-size: 9pt; margin-right: 0.3em; }
@media print { body { padding: 0; max-width: none; } a { color: inherit; text-decoration: none; } }
"""


def _lines(lines: tuple[Line, ...], quotes: bool = True) -> str:
    items = []
    for line in lines:
        quote = f'<span class="quote">原文：“{e(line.quote)}”</span>' if quotes and line.quote else ""
        items.append(f"<li><b>{e(line.label)}</b>：{e(line.text)}{quote}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _row(term: str, body: str) -> str:
    return f"<dt>{e(term)}</dt><dd>{body}</dd>" if body else ""


def _entry(x: Entry, number: int, extends: str | None) -> str:
    parts = [_row("适用对象", e(x.subject_zh)),
             _row("政策依据", "<ul>" + "".join(f"<li>{e(c.short())}" + (f'<span class="quote">“{e(c.text)}”</span>' if c.text else "")
                                               + "</li>" for c in x.citations) + "</ul>")]
    if x.kind == "computable":
        parts.append(_row("享受条件", _lines(x.conditions)))
        if x.terms:
            parts.append(_row("名词解释", _lines(x.terms, quotes=False)))
        if x.standards:
            parts.append(_row("补贴标准", _lines(x.standards, quotes=False)))
        if x.parameters:
            rows = "".join(f"<tr><td>{e(p.name)}</td><td>{e(p.value)}</td><td>{e(p.citation.short() if p.citation else '—')}</td></tr>"
                           for p in x.parameters)
            parts.append(_row("政策参数", f"<table><tr><th>参数</th><th>取值</th><th>出处</th></tr>{rows}</table>"))
        if x.deadlines:
            parts.append(_row("办理时限", _lines(x.deadlines, quotes=False)))
        parts.append(_row("办理方式", "<ul>" + "".join(f'<li><span class="mode">{e(m.label)}</span>{e(m.text)}</li>'
                                                     for m in x.modes) + "</ul>"))
    parts.append(_row("责任单位", e("、".join(x.departments) or "条文未列明")))
    if extends and x.changes:
        rows = "".join(
            f"<tr><td>{e(c.what)}（{e(c.change)}）</td><td>{e(c.base or '—')}"
            + (f'<span class="quote">{e(c.base_citation)}</span>' if c.base_citation else "")
            + f"</td><td>{e(c.variant or '—')}"
            + (f'<span class="quote">{e(c.variant_citation)}</span>' if c.variant_citation else "") + "</td></tr>"
            for c in x.changes)
        parts.append(_row("本市调整", f"<table><tr><th>调整内容</th><th>省级规定</th><th>本市规定</th></tr>{rows}</table>"))
    if x.open:
        parts.append(_row("尚待确定", "<ul>" + "".join(f'<li class="open">{e(p.name)}：{e(p.value)}</li>' for p in x.open) + "</ul>"))
    return (f'<section class="policy" id="{e(x.id)}"><h3>{number}. {e(x.name)}<span class="id">{e(x.id)}</span></h3>'
            f"<dl>{''.join(parts)}</dl></section>")


def catalog_html(c: Catalog) -> str:
    computable = [x for x in c.entries if x.kind == "computable"]
    informational = [x for x in c.entries if x.kind != "computable"]
    listing = "".join(
        f'<tr><td>{i}</td><td><a href="#{e(x.id)}">{e(x.name)}</a></td><td>{e(x.subject_zh)}</td>'
        f"<td>{e('；'.join(ci.short() for ci in x.citations))}</td><td>{e('、'.join(x.departments) or '—')}</td></tr>"
        for i, x in enumerate(computable + informational, 1))
    body = [f"<h1>{e(heading(c))}</h1>", f'<p class="basis">{e(basis(c))}</p>', "<h2>政策清单</h2>",
            f"<table><tr><th>序号</th><th>政策名称</th><th>适用对象</th><th>政策依据</th><th>责任单位</th></tr>{listing}</table>"]
    if computable:
        body += ["<h2>一、办事指南</h2>", *(_entry(x, i, c.extends) for i, x in enumerate(computable, 1))]
    if informational:
        body += [f"<h2>{'二' if computable else '一'}、其他政策措施和工作要求</h2>",
                 *(_entry(x, i, c.extends) for i, x in enumerate(informational, 1))]
    if c.coverage:
        names = {x.id: x.name for x in c.entries}
        rows = "".join(f"<tr><td>{e(v.document)}</td><td>{e(v.article)}</td>"
                       f"<td>{e('、'.join(names[i] for i in v.clauses if i in names) or '—')}</td></tr>" for v in c.coverage)
        body += ["<h2>条文对照</h2>", f"<table><tr><th>文件</th><th>条目</th><th>本清单中的政策</th></tr>{rows}</table>"]
    if c.open:
        names = {x.id: x.name for x in c.entries}
        body += ["<h2>尚待确定的事项</h2>", "<p>省级文件交由下级确定、本规则集尚未填写的参数：</p>",
                 "<ul>" + "".join(f'<li class="open">{e(names.get(cid, cid))}：{e(p.name)}，{e(p.value)}</li>'
                                  for cid, p in c.open) + "</ul>"]
    return ("<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{e(heading(c))}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")
