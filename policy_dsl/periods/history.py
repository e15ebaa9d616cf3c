"""Parameter history by the case's period date.

A parameter with `history:` in a clause with `period_by` takes the value in force on the
case's own period date (the application date, the contribution year …), not on the
evaluation date. The compiled program calls `value_on` (passed in as a constant); traces
ask `entry_on` which entry, hence which citation, applied."""
from __future__ import annotations

from datetime import date

from ..model import Citation, Clause, Parameter
from ..values import Unknown
from .words import day_words


def period_source(clause: Clause) -> tuple[str, str] | None:
    """("fact", path) or ("slot", "clause.definition") for a clause with period_by; None without."""
    by = clause.period_by
    if by is None:
        return None
    return ("slot", f"{clause.id}.{by}") if by in clause.definitions else ("fact", str(by))


def value_on(day: object, table: tuple, name: str) -> object:
    """The value of the last entry starting on or before `day` (the period date named `name`)."""
    if day.__class__ is Unknown:
        values = {v for _, v in table}
        return table[0][1] if len(values) == 1 else day
    first = table[0][0]
    current: object = Unknown({name}, {name: f"{name}为{day_words(day)}，早于参数最早一项取值的起始日{day_words(first)}"})  # type: ignore[arg-type]
    for start, value in table:
        if start <= day:  # type: ignore[operator]
            current = value
    return current


def entry_on(param: Parameter, day: object) -> int | None:
    """Index of the history entry in force on `day`; None when no entry is (or the day is unknown)."""
    if not isinstance(day, date):
        return None
    found = None
    for i, (start, _) in enumerate(param.history):
        if start <= day:
            found = i
    return found


def entry_citation(param: Parameter, day: object) -> tuple[Citation | None, date | None]:
    """The chosen entry's own citation (None when it has none) and its start date."""
    i = entry_on(param, day)
    if i is None:
        return None, None
    source = param.history_sources[i] if i < len(param.history_sources) else None
    return source, param.history[i][0]


def history_choice(clause: Clause, param: Parameter, facts: dict, slots) -> tuple[Citation | None, str | None]:
    """For a trace: the citation of the history entry that applied and a note saying by which
    date it was chosen (the case's period date under `period_by`, else the evaluation date)."""
    where = period_source(clause)
    if where is None:
        day, label = facts.get("as_of"), "评估日期"
    else:
        kind, name = where
        day = facts.get(name) if kind == "fact" else slots.get(name)
        label = f"期间日期 {clause.period_by}"
    source, start = entry_citation(param, day)
    if start is None:
        return None, None
    return source, f"按{label}（{day.isoformat()}）取{start.isoformat()}起施行的值"  # type: ignore[union-attr]
