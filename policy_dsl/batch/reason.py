"""--explain: one short Chinese reason per row and clause — the decision, the one or two
conditions that decided it, what is still needed, and the articles it rests on.

The wording is the clerk's report of `policy explain` (render/report.py), folded into one
line per clause, so a row of the payout list and the explanation of that unit say the same.
"""
from __future__ import annotations

from ..render.report import ClauseReport, case_report


def row_reasons(decision, clauses: tuple[str, ...]) -> dict[str, str]:
    """clause id → reason, for the clauses among `clauses` the row's case touches."""
    out = {}
    for cid in clauses:
        if not decision.clauses[cid].applicable:
            continue
        for report in case_report(decision, cid).clauses:
            text = one_line(report)
            if text:
                out[cid] = text
    return out


def one_line(report: ClauseReport) -> str:
    parts = []
    for v in report.verdicts:
        head = f"{v.label}：{v.status}" + (f"。{v.notice}" if v.notice else "")
        parts.append(head + ("——" + "；".join(v.reasons) if v.reasons else ""))
    if not parts:
        return ""
    if report.requests:
        parts.append("请提供：" + "、".join(report.requests))
    parts.extend(report.pending)
    basis = "；".join(report.basis)
    return "；".join(parts) + (f"（依据：{basis}）" if basis else "")
