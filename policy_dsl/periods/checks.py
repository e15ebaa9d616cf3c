"""Checks of the period keys against the clause's types: `period_by` names a date fact of the
vocabulary or a date-typed definition of the clause (`valid:` without any period date is
refused when read, reading.py)."""
from __future__ import annotations

from typing import Callable

from .. import types as T
from ..errors import PolicyError, RuleFileError, did_you_mean
from ..model import RuleSet
from ..vocabulary import Vocabulary


def period_problems(rs: RuleSet, vocab: Vocabulary, slot_type: Callable[[str], T.Type]) -> list[PolicyError]:
    out: list[PolicyError] = []
    for cid, clause in rs.clauses.items():
        by = clause.period_by
        where = clause.origin.span if clause.origin else None
        if by is None:
            continue
        span = getattr(by, "span", None) or where
        if by in clause.definitions:
            got = slot_type(f"{cid}.{by}")
        elif by in vocab.facts:
            got = vocab.facts[by].type
        else:
            dates = [p for p, f in vocab.facts.items() if f.type.kind == "date"]
            dates += [d for d in clause.definitions if slot_type(f"{cid}.{d}").kind == "date"]
            out.append(RuleFileError(
                f"period_by 写的 {str(by)!r} 既不是日期事实，也不是条款 {cid} 的定义 unknown period date", span,
                found=str(by), expected="日期型事实路径（如 unit.application_date）或本条款的日期型定义名",
                hint=did_you_mean(str(by), dates)))
            continue
        if got.kind != "date":
            out.append(RuleFileError(f"period_by 的 {str(by)} 不是日期 the period date must be a date", span,
                                     found=str(got), expected="date"))
    return out
