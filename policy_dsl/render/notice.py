"""A 告知书 (办理结果告知) draft for one applicant, in Markdown to paste and in self-contained
HTML to print: who, which policies, the decision and amounts and deadlines, what to provide,
the basis and the responsible departments. Built from the clerk's report (report.py)."""
from __future__ import annotations

from html import escape

from .clerk import ordinal
from .report import MET, NOT_MET, CaseReport, Verdict

TITLE = "办理结果告知书（草稿）"
_OUTCOME = {MET: "符合", NOT_MET: "不符合", "尚不能确定": "尚不能确定，请补充材料"}
CLOSING = ("如对本告知内容有疑问，可向上述承办部门咨询。", "本告知书为依据规则自动生成的草稿，须经办人员核对、签批并加盖公章后发出。")


def _line(v: Verdict) -> str:
    return f"{v.label}：{_OUTCOME.get(v.status, v.status)}" + (f"。{v.notice}" if v.notice else "")


def _why(v: Verdict) -> list[str]:
    return [f"理由：{r}" for r in v.reasons] + ([f"{v.also_label}：{'、'.join(v.also)}"] if v.also else [])


def notice_markdown(report: CaseReport) -> str:
    out = [f"# {TITLE}", "", f"**申请人**：{report.applicant}  ", f"**适用政策**：{report.set_title}  ",
           f"**审核日期**：{report.as_of}", "", "经审核，现将有关政策的办理结果告知如下："]
    for i, c in enumerate(report.clauses, 1):
        out += ["", f"## {ordinal(i)}、{c.title}"]
        for v in c.verdicts:  # each decision with the reasons that decided it
            out += ["", f"**{_line(v)}**", ""] + [f"- {r}" for r in _why(v)]
        values = [f"- {r.label}：{r.text}" for r in c.results + c.deadlines]
        if values:
            out += ["", "核定事项：", ""] + values
        if c.requests:
            out += ["", f"**请提供**：{'、'.join(c.requests)}"]
        for p in c.pending:
            out += ["", p]
        out += ["", f"政策依据：{'；'.join(c.basis)}  "]
        if c.departments:
            out.append(f"承办部门：{'、'.join(c.departments)}")
    if report.untouched:
        out += ["", f"本次未涉及：{'、'.join(report.untouched)}。"]
    out += ["", "---", ""] + [f"{line}  " for line in CLOSING]
    out += ["", "承办单位（盖章）：________________　　经办人：__________　　日期：______年____月____日"]
    return "\n".join(out) + "\n"


_CSS = """
@page { size: A4; margin: 20mm 18mm; }
body { font-family: "SimSun", "Songti SC", "Noto Serif CJK SC", serif; font-size: 12pt; line-height: 1.7;
       max-width: 170mm; margin: 0 auto; color: #000; }
h1 { text-align: center; font-size: 18pt; letter-spacing: 0.2em; margin-bottom: 1.2em; }
h2 { font-size: 13pt; margin: 1.2em 0 0.4em; page-break-after: avoid; }
section { page-break-inside: avoid; }
dl.head { display: grid; grid-template-columns: 6em 1fr; row-gap: 0.2em; }
dl.head dt { font-weight: bold; }
dl.head dd { margin: 0; }
p.outcome { font-weight: bold; margin: 0.6em 0 0.2em; }
ul.why { margin-top: 0; }
p.request { font-weight: bold; }
ul { margin: 0.2em 0 0.4em; padding-left: 1.5em; }
p.basis, p.dept { margin: 0.2em 0; }
footer { margin-top: 2.5em; }
.sign { margin-top: 2em; display: flex; justify-content: space-between; }
.draft { color: #555; font-size: 10pt; }
"""


def notice_html(report: CaseReport) -> str:
    e = escape
    out = ["<!DOCTYPE html>", '<html lang="zh-CN">', "<head>", '<meta charset="utf-8">',
           f"<title>{e(TITLE)}</title>", f"<style>{_CSS}</style>", "</head>", "<body>", f"<h1>{e(TITLE)}</h1>",
           '<dl class="head">', f"<dt>申请人</dt><dd>{e(report.applicant)}</dd>",
           f"<dt>适用政策</dt><dd>{e(report.set_title)}</dd>", f"<dt>审核日期</dt><dd>{e(report.as_of)}</dd>", "</dl>",
           "<p>经审核，现将有关政策的办理结果告知如下：</p>"]
    for i, c in enumerate(report.clauses, 1):
        out += ["<section>", f"<h2>{e(ordinal(i))}、{e(c.title)}</h2>"]
        for v in c.verdicts:
            out.append(f'<p class="outcome">{e(_line(v))}</p>')
            if _why(v):
                out += ['<ul class="why">'] + [f"<li>{e(r)}</li>" for r in _why(v)] + ["</ul>"]
        values = c.results + c.deadlines
        if values:
            out += ["<p>核定事项：</p>", "<ul>"] + [f"<li>{e(r.label)}：{e(r.text)}</li>" for r in values] + ["</ul>"]
        if c.requests:
            out.append(f'<p class="request">请提供：{e("、".join(c.requests))}</p>')
        out += [f"<p>{e(p)}</p>" for p in c.pending]
        out.append(f'<p class="basis">政策依据：{e("；".join(c.basis))}</p>')
        if c.departments:
            out.append(f'<p class="dept">承办部门：{e("、".join(c.departments))}</p>')
        out.append("</section>")
    if report.untouched:
        out.append(f"<p>本次未涉及：{e('、'.join(report.untouched))}。</p>")
    out += ["<footer>", f"<p>{e(CLOSING[0])}</p>", f'<p class="draft">{e(CLOSING[1])}</p>',
            '<div class="sign"><span>承办单位（盖章）：</span><span>经办人：</span><span>日期：　　年　　月　　日</span></div>',
            "</footer>", "</body>", "</html>"]
    return "\n".join(out) + "\n"
