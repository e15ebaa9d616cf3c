"""The clerk's text (`policy explain --format text`): per clause the decision first, the one or
two reasons, what to ask for, the results, the basis; clauses the case does not touch are named
once at the end. Plain lines, no wrapping: it is pasted into replies and read aloud."""
from __future__ import annotations

from .report import CaseReport, ClauseReport

NUMERALS = "一二三四五六七八九十"


def ordinal(i: int) -> str:
    if i <= 10:
        return NUMERALS[i - 1]
    tens, ones = divmod(i, 10)
    return (NUMERALS[tens - 1] if tens > 1 else "") + "十" + (NUMERALS[ones - 1] if ones else "")


def clerk_text(report: CaseReport) -> str:
    out = [f"{report.set_title} · 评估日期 {report.as_of}", f"申请人：{report.applicant}"]
    for i, clause in enumerate(report.clauses, 1):
        out.append("")
        out.extend(clause_lines(clause, f"{ordinal(i)}、"))
    if report.untouched:
        out.append("")
        out.append("未涉及：" + "、".join(report.untouched))
    return "\n".join(out) + "\n"


def clause_lines(c: ClauseReport, number: str = "") -> list[str]:
    out = [f"{number}{c.title}"]
    if c.edition:
        out.append(f"  {c.edition}")
    for v in c.verdicts:
        head = f"  {v.label}：{v.status}"
        if v.notice:
            head += f"。{v.notice}"
        out.append(head)
        for r in v.reasons:
            out.append(f"    · {r}")
        if v.also:
            out.append(f"    · {v.also_label}：{'、'.join(v.also)}")
    if c.requests:
        out.append("  请提供：" + "、".join(c.requests))
    for p in c.pending:
        out.append(f"  {p}")
    for r in c.results:
        out.append(f"  {r.label}：{r.text}" + (f"（{'；'.join(r.cites)}）" if r.cites else ""))
        out.extend(f"    · {reason}" for reason in r.reasons)
    for r in c.deadlines:
        out.append(f"  {r.label}：{r.text}" + (f"（{'；'.join(r.cites)}）" if r.cites else ""))
    out.append("  依据：" + "；".join(c.basis))
    if c.departments:
        out.append("  责任单位：" + "、".join(c.departments))
    return out
