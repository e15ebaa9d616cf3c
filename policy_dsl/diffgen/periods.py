"""The dates that place a case in an edition. A clause dated by a fact (`period_by:
unit.acceptance_date`) is judged by the edition whose period holds that date, so generated
cases must carry it: without it every case of the newer edition is undetermined for the lack
of the date, and only that absence is compared, never the editions' rules. The values are
each edition's first and last day and the days just outside them, the newest edition first."""
from __future__ import annotations

from datetime import date, timedelta

from ..model import RuleSet
from ..periods.chain import chain_of


def period_fact(rule_set: RuleSet, cid: str, facts: dict) -> str | None:
    """The fact path that dates clause `cid`, when its `period_by` names a fact (not a definition)."""
    clause = rule_set.clauses.get(cid)
    by = getattr(clause, "period_by", None) if clause is not None else None
    return str(by) if by is not None and str(by) in facts else None


def period_days(rule_set: RuleSet) -> list[date]:
    days: list[date] = []
    for edition in chain_of(rule_set):
        period = edition.period
        if period is None:
            continue
        days += [period.start, period.start - timedelta(days=1)]
        if period.end is not None:
            days += [period.end, period.end + timedelta(days=1)]
    return days
