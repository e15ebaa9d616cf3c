"""A decision as a clerk reads it, as data: per clause the decision first (符合 / 不符合 /
尚不能确定), the one or two reasons that decided it, what is still needed, the other results,
and the basis. The clerk text, the compact tree and the notice render this; nothing here
evaluates (stable_job_refund's payable — eligible and (auto_pay or application_in_time) — is told
through those three, so a late applicant reads 逾期申请，不予受理 rather than a bare 否; the rule set's
own `payable` decides should a variant define it otherwise).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING

from ..trace import TraceNode, build_trace
from ..values import Unknown, format_decimal
from .relevance import concerns
from .zh import UNDETERMINED, Words, day, deciding

if TYPE_CHECKING:
    from ..engine import Decision

MET, NOT_MET, OPEN = "符合", "不符合", "尚不能确定"
# Clauses whose decision is more than their first yes/no conclusion.
_DECISIONS: dict[str, tuple[str, ...]] = {
    "stable_job_refund": ("payable",),
    "employment_difficulty": ("is_employment_difficulty", "is_reference_group"),
    "public_welfare_post_priority": ("urban_priority", "rural_priority"),
}
MAX_REASONS = 2


@dataclass(frozen=True)
class Verdict:
    label: str                     # 符合稳岗返还条件
    status: str                    # MET / NOT_MET / OPEN
    reasons: tuple[str, ...]       # the one or two that decided it
    also: tuple[str, ...] = ()     # further conditions that went the same way, by name only
    notice: str = ""               # a consequence to read out: 逾期申请，不予受理

    @property
    def also_label(self) -> str:
        return "另符合" if self.status == MET else "另不符合"


@dataclass(frozen=True)
class Result:
    label: str
    text: str
    cites: tuple[str, ...] = ()    # the articles that set this value when a variant set it
    reasons: tuple[str, ...] = ()  # for a clause with no yes/no decision: why this value


@dataclass(frozen=True)
class ClauseReport:
    id: str
    title: str
    verdicts: tuple[Verdict, ...]
    results: tuple[Result, ...]
    requests: tuple[str, ...]      # facts to ask for: 上年度参保职工总数
    pending: tuple[str, ...]       # what the rules leave open: 返还比例未确定：由各市确定，不超过60%
    basis: tuple[str, ...]         # 抚人社发〔2021〕20号 一；辽人社发〔2021〕7号 一（一）
    departments: tuple[str, ...]
    deadlines: tuple[Result, ...] = ()
    edition: str = ""              # 按《…》（2021年受理的申请）判断 — for a set that states its period


@dataclass(frozen=True)
class CaseReport:
    policy_set: str
    set_title: str
    as_of: str
    applicant: str
    clauses: tuple[ClauseReport, ...]
    untouched: tuple[str, ...]     # titles of clauses the case has no subject for


def case_report(decision: "Decision", clause: str | None = None) -> CaseReport:
    engine = decision.engine
    assert engine is not None
    words = Words(engine)
    traces = build_trace(decision, clause)
    reports = []
    untouched = []
    for cid, result in decision.clauses.items():
        if clause and cid != clause:
            continue
        c = engine.rule_set.clauses[cid]
        if c.kind != "computable":
            continue
        if not result.applicable or (c.subject == "always" and not clause) or \
                (not clause and not concerns(decision, cid)):
            untouched.append(words.clause(cid))
            continue
        reports.append(dated(decision, clause_report(words, cid, traces[cid])))
    applicant = str(decision.facts.get("unit.name") or "") or _who(decision.facts.get("$subjects", frozenset()))
    as_of = day(decision.as_of) if decision.as_of else "未给出"
    return CaseReport(decision.policy_set, engine.rule_set.title, as_of, applicant, tuple(reports), tuple(untouched))


def dated(decision: "Decision", report: ClauseReport) -> ClauseReport:
    """The edition that judged the clause; a clause not judged for the case's period says why
    in place of reasons read off rules that were not applied."""
    from ..periods.words import edition_line

    gate = getattr(decision, "gates", {}).get(report.id)
    if gate is not None:
        return replace(report, results=(), deadlines=(),
                       pending=() if report.verdicts else (f"本条未判断：{gate.why}",),
                       verdicts=tuple(replace(v, status=OPEN, reasons=(gate.why,), also=(), notice="")
                                      for v in report.verdicts))
    line = edition_line(decision, report.id)
    return replace(report, edition=line) if line else report


def clause_report(words: Words, cid: str, conclusions: dict[str, TraceNode]) -> ClauseReport:
    clause = words.engine.rule_set.clauses[cid]
    names = _decision_names(cid, conclusions)
    verdicts = []
    for name in names:
        if name == "payable" and _PAYABLE_PARTS <= set(conclusions):
            # 稳岗返还: the reasons (and 不予受理) read off eligible, auto_pay and application_in_time;
            # a rule set's own `payable` conclusion, where it has one, decides the status
            derived = _refund_payable(words, conclusions)
            own = conclusions.get(name)
            verdicts.append(derived if own is None or status(own.value) == derived.status else verdict(words, own))
        else:
            verdicts.append(verdict(words, conclusions[name]))
    hidden = set(names)
    late = any(v.notice for v in verdicts)
    results, deadlines = [], []
    for name, node in conclusions.items():
        if name in hidden:
            continue
        text = _result_text(words, node)
        if late and node.value_type == "money" and isinstance(node.value, Decimal) and node.value > 0:
            text += "（按条件计算；逾期申请，不予受理）"
        reasons = _branch_reasons(words, node) if not verdicts else ()
        item = Result(words.conclusion(cid, name), text, cites(node.set_by), reasons)
        (deadlines if node.value_type == "date" else results).append(item)
    requests: list[str] = []
    pending: list[str] = []
    for node in conclusions.values():
        if node.value.__class__ is Unknown:
            for missing in sorted(node.value.missing):  # type: ignore[attr-defined]
                reason = node.value.reasons.get(missing)  # type: ignore[attr-defined]
                if reason:
                    text = f"{missing}{UNDETERMINED}：{reason}"
                    if text not in pending:
                        pending.append(text)
                else:
                    label = words.missing(missing)
                    if label not in requests:
                        requests.append(label)
    return ClauseReport(cid, words.clause(cid), tuple(verdicts), tuple(results), tuple(requests), tuple(pending),
                        _basis(clause, conclusions), clause.departments, tuple(deadlines))


_SUBJECTS = {"unit": "参保单位", "person": "个人", "graduate": "毕业生", "household": "家庭", "honor": "获批称号的地区或单位"}


def _who(subjects) -> str:
    named = [_SUBJECTS[s] for s in _SUBJECTS if s in subjects]
    return ("、".join(named) or "申请人") + "（未提供名称）"


def cites(citations) -> tuple[str, ...]:
    """'抚人社发〔2021〕20号 落款、五': articles grouped under their document, in order."""
    grouped: dict[str, list[str]] = {}
    for c in citations:
        articles = grouped.setdefault(c.document or "", [])
        if c.article and c.article not in articles:
            articles.append(c.article)
    return tuple(" ".join(x for x in (doc, "、".join(arts)) if x) for doc, arts in grouped.items())


_PAYABLE_PARTS = {"eligible", "auto_pay", "application_in_time"}


def _decision_names(cid: str, conclusions: dict[str, TraceNode]) -> tuple[str, ...]:
    named = tuple(n for n in _DECISIONS.get(cid, ())
                  if n in conclusions or (n == "payable" and _PAYABLE_PARTS <= set(conclusions)))
    if named:
        return named
    for name, node in conclusions.items():
        if node.value_type == "bool":
            return (name,)
    return ()


def status(value: object) -> str:
    return MET if value is True else NOT_MET if value is False else OPEN


def verdict(words: Words, node: TraceNode) -> Verdict:
    label = words.conclusion(node.clause or "", node.label)
    applied = [e for e in node.children if e.kind == "exception" and e.value is True]
    if applied:
        return Verdict(label, status(node.value), tuple(f"{e.label}：{words.reason(e.children[0])}" for e in applied))
    reasons, also = why(words, node)
    return Verdict(label, status(node.value), reasons, also)


def why(words: Words, node: TraceNode) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The one or two reasons that decided a yes/no node, and the names of the other conditions met."""
    if node.form not in ("and", "or"):
        return (words.reason(node),), ()
    parts = [c for c in deciding(node)]
    if node.value is True and node.form == "and":
        parts.sort(key=lambda c: c.form == "ref")  # a yes/no fact read out says least: last
    reasons = tuple(_because(words, c) for c in parts[:MAX_REASONS])
    decided = node.value is True or (node.value is False and node.form == "or")
    also = tuple(words.name(c) for c in parts[MAX_REASONS:] if words.name(c)) if decided else ()
    return reasons, also


def _because(words: Words, node: TraceNode) -> str:
    name = words.name(node)
    detail = words.reason(node)
    if not name or detail.startswith(name):
        return detail
    if node.kind in ("condition", "conclusion", "definition") and not node.ref and node.children:
        if node.value is True:
            return f"符合“{name}”：{detail}"
        if node.value is False:
            return f"不符合“{name}”：{detail}"
        return f"“{name}”尚不能确定：{detail}"
    return detail


def _refund_payable(words: Words, conclusions: dict[str, TraceNode]) -> Verdict:
    """稳岗返还应予拨付 = 符合条件 and (免申即享 or 在申请期限内), three-valued, with its reasons."""
    eligible, auto, in_time = conclusions["eligible"], conclusions["auto_pay"], conclusions["application_in_time"]
    label = words.conclusion("stable_job_refund", "payable")
    if eligible.value is not True:
        v = verdict(words, eligible)
        return Verdict(label, v.status, v.reasons, v.also)
    met = (_conditions_met(words, eligible),)
    if auto.value is True:
        return Verdict(label, MET, met + (f"免申即享：{words.reason(_last(auto))}，无需申请，直接拨付",), ())
    if in_time.value is False:
        late = words.reason(in_time)
        return Verdict(label, NOT_MET, (late,), (), notice="逾期申请，不予受理")
    if in_time.value is True:
        return Verdict(label, MET, met + (f"需申请：{words.reason(in_time)}",), ())
    reasons = tuple(words.reason(n) for n in (auto, in_time) if n.value.__class__ is Unknown)
    return Verdict(label, OPEN, reasons[:MAX_REASONS])


def _conditions_met(words: Words, eligible: TraceNode) -> str:
    """'符合稳岗返还条件：参保单位类型符合、基金备付期限1年以上、裁员率达标'."""
    names = [words.name(c) for c in eligible.children if c.kind == "condition" and c.value is True]
    label = words.conclusion(eligible.clause or "", eligible.label)
    return f"{label}：{'、'.join(names)}" if names else f"{label}：是"


def _last(node: TraceNode) -> TraceNode:
    """The comparison after `eligible and …` in a conjunction: the part that is not a conclusion."""
    rest = [c for c in node.children if c.kind not in ("conclusion", "exception", "literal")]
    return rest[0] if rest else node


def _branch_reasons(words: Words, node: TraceNode) -> tuple[str, ...]:
    """Why an if-then-else value took its branch: each condition on the way, outermost first."""
    out: list[str] = []
    while node.form == "if":
        parts = [c for c in node.children if c.kind != "exception"]  # cond, then, else
        if len(parts) != 3 or parts[0].value not in (True, False):
            break
        out.append(words.reason(parts[0]))
        node = parts[1] if parts[0].value is True else parts[2]
        if node.kind in ("conclusion", "condition", "definition") and node.ref:
            break
    return tuple(out)


def _result_text(words: Words, node: TraceNode) -> str:
    text = words.value(node)
    raw = node.raw_value
    if node.value_type == "money" and isinstance(node.value, Decimal) and isinstance(raw, (int, Decimal)) \
            and not isinstance(raw, bool) and Decimal(raw) != node.value:
        exact = format_decimal(Decimal(raw))
        text += f"（计算结果{exact}元，四舍五入到分）"  # the fraction of a fen rounded away is shown, not hidden
    return text


def _basis(clause, conclusions: dict[str, TraceNode]) -> tuple[str, ...]:
    """The clause's article in the evaluated set first, then what its values cite; articles grouped
    under their document once ('…〔2021〕7号 一、二、四', not the document named before each)."""
    found = [clause.source, *(c for node in conclusions.values() for c in node.set_by),
             *(node.citation for node in conclusions.values())]
    grouped: dict[str, list[str]] = {}
    for c in found:
        if c is None or not c.short():
            continue
        articles = grouped.setdefault(c.document or "", [])
        for article in (c.article or "").split("、"):
            if article and article not in articles:
                articles.append(article)
    return tuple(" ".join(x for x in (doc, "、".join(arts)) if x) for doc, arts in grouped.items())

