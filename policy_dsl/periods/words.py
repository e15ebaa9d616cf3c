"""Plain Chinese for editions and periods: which edition judged a clause, and why a clause
was not judged for a case (its period date outside every edition's period, or outside the
clause's `valid:`)."""
from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Sequence

from ..model import Clause, Period, RuleSet
from ..vocabulary import Vocabulary

if TYPE_CHECKING:
    from ..decision import Decision
    from .chain import Edition


def day_words(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def period_words(period: Period) -> str:
    """2022年受理的申请（2022年1月1日至2022年12月31日）"""
    span = f"{day_words(period.start)}起" if period.end is None else f"{day_words(period.start)}至{day_words(period.end)}"
    return f"{period.zh}（{span}）"


def date_label(clause: Clause, vocab: Vocabulary) -> str:
    """What the clause's period date is, in words: 申请日期 / the definition's label."""
    by = str(clause.period_by)
    if by in clause.definitions:
        item = clause.definitions[by]
        return item.label or by
    return vocab.label(by) if by in vocab.facts else by


def outside_editions(editions: Sequence["Edition"], day: date, clause: Clause, vocab: Vocabulary) -> str:
    dated = [e for e in editions if e.period]
    periods = "；".join(f"《{e.title}》管辖{period_words(e.period)}{_superseded(dated, i)}"  # type: ignore[arg-type]
                       for i, e in enumerate(dated))
    where = f"本规则集管辖的期间（{periods}）" if len(dated) == 1 else f"本规则集各版本管辖的期间（{periods}）"
    earlier = all(day < e.period.start for e in dated)  # type: ignore[union-attr]
    after = ("此前的案例按原政策办理，原政策不在本规则集中" if earlier else
             "它所属期间的规定不在本规则集中")
    return f"{date_label(clause, vocab)}为{day_words(day)}，不在{where}内，本条对此案例不作判断；{after}"


def _superseded(dated: Sequence["Edition"], i: int) -> str:
    """An older edition (newest first) stops governing when the next one begins, open-ended or not."""
    if i == 0:
        return ""
    newer = dated[i - 1]
    return f"，{day_words(newer.period.start)}起由《{newer.title}》取代"  # type: ignore[union-attr]


def not_in_force(edition: "Edition", own: Clause | None, day: date, clause: Clause, vocab: Vocabulary) -> str:
    label = date_label(clause, vocab)
    if own is None:
        return (f"{label}为{day_words(day)}，属于{edition.words()}的期间，而该版本没有本条（{clause.title}），"
                f"本条对此案例不适用")
    return f"{label}为{day_words(day)}，不在本条的适用期间（{valid_words(own.valid)}）内，本条对此案例不适用"


def unknown_day(clause: Clause, vocab: Vocabulary) -> str:
    return f"{date_label(clause, vocab)}未给出，不能确定本条按哪一版本、哪一期间的规定判断"


def valid_words(valid: tuple[date | None, date | None]) -> str:
    lo, hi = valid
    if lo and hi:
        return f"{day_words(lo)}至{day_words(hi)}"
    if lo:
        return f"{day_words(lo)}起"
    return f"{day_words(hi)}止" if hi else "不限"


def clause_edition(decision: "Decision", cid: str) -> "Edition | None":
    """The edition that judged a clause of this decision; None when the set states no period
    (nothing to name: one set, one text)."""
    editions = getattr(decision, "editions", None)
    if editions is not None and cid in editions:
        return editions[cid]
    engine = decision.engine
    rs: RuleSet | None = engine.rule_set if engine is not None else None
    if rs is None or rs.period is None:
        return None
    from .chain import edition_of

    return edition_of(rs)


def judged_by(edition: "Edition") -> str:
    """按《…》（2022年受理的申请）判断"""
    return f"按{edition.words()}判断"


def edition_line(decision: "Decision", cid: str) -> str:
    """The line under a clause's title: which edition judged it, or that it was not judged; empty
    for an undated clause of a set with no predecessor."""
    gate = getattr(decision, "gates", {}).get(cid)
    if gate is not None:
        return f"本条未判断：{gate.why}"
    edition = clause_edition(decision, cid)
    engine = decision.engine
    rs = engine.rule_set if engine is not None else None
    if edition is None or rs is None:
        return ""
    dated = rs.clauses[cid].period_by is not None if cid in rs.clauses else False
    # one edition, an undated clause: the set named at the top says it all
    return judged_by(edition) if dated or getattr(rs, "predecessor", None) is not None else ""


def named_edition(decision: "Decision", cid: str) -> tuple[bool, "Edition | None"]:
    """(whether the clause's JSON names its edition, that edition). A row states its own edition once,
    at top level (`policy_set`, `title`, `period`); a clause names one only when it was judged
    otherwise: by an older edition, or not at all (None). False for a set that states no period."""
    engine = decision.engine
    rs = engine.rule_set if engine is not None else None
    if rs is None or rs.period is None:
        return False, None
    from .chain import edition_of

    edition = clause_edition(decision, cid)
    return edition != edition_of(rs), edition


def edition_header(rs: RuleSet) -> dict:
    """What a set that states its period adds at the top of a decision's JSON: its title (the
    `period` comes after `as_of`); nothing for a set without a period."""
    return {"title": rs.title} if rs.period is not None else {}


def edition_json(edition: "Edition | None") -> dict | None:
    if edition is None:
        return None
    out: dict = {"set": edition.name, "title": edition.title}
    if edition.period is not None:
        out["period"] = period_json(edition.period)
    return out


def period_json(period: Period | None) -> dict | None:
    if period is None:
        return None
    out = {"from": period.start.isoformat()}
    if period.end is not None:
        out["to"] = period.end.isoformat()
    out["zh"] = period.zh
    return out
