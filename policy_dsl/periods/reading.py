"""Reading the period keys of rule files: a set's `period:`, a clause's `period_by:` and
`valid:`, and a parameter history entry's `source:`. Problems go to the loader's reader,
each at the key's position."""
from __future__ import annotations

from datetime import date
from typing import Any, Protocol

from ..errors import PolicyError, RuleFileError
from ..model import Period
from ..source import Span


class _Reader(Protocol):
    def fail(self, error: PolicyError) -> None: ...


def _day(reader: _Reader, raw: Any, where: Span | None, what: str) -> date | None:
    if isinstance(raw, date):
        return raw
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        reader.fail(RuleFileError(f"{what} 必须是日期 must be a date", getattr(raw, "span", None) or where,
                                  found=str(raw), expected="如 2022-01-01"))
        return None


def _ends(reader: _Reader, data: Any, what: str) -> tuple[date | None, date | None, bool]:
    """(from, to, ok) of a `{from, to}` mapping; to before from is an error at `to`."""
    where = getattr(data, "span", None)
    start = _day(reader, data["from"], where, f"{what} 的 from") if "from" in data else None
    end = _day(reader, data["to"], where, f"{what} 的 to") if "to" in data else None
    ok = ("from" not in data or start is not None) and ("to" not in data or end is not None)
    if start and end and end < start:
        reader.fail(RuleFileError(f"{what} 的截止日早于起始日 the period ends before it starts",
                                  getattr(data["to"], "span", None) or where, found=end.isoformat(),
                                  expected=f"不早于 {start.isoformat()}"))
        ok = False
    return start, end, ok


def read_period(reader: _Reader, manifest: Any) -> Period | None:
    """policy-set.yaml `period: {from, to?, zh}` (the schema has checked its keys)."""
    data = manifest.get("period")
    if data is None:
        return None
    start, end, ok = _ends(reader, data, "period")
    if not ok or start is None:
        return None
    return Period(start, end, str(data["zh"]).strip())


def read_clause_period(reader: _Reader, data: Any, base_period_by: str | None = None
                       ) -> tuple[str | None, tuple[date | None, date | None]]:
    """A clause's `period_by` (what it names is checked with the clause's types, in checks.py)
    and `valid: {from, to}`, which needs a period date: the clause's own or its base's."""
    period_by = data["period_by"] if "period_by" in data else None  # a PosStr: keeps its position for checks
    valid: tuple[date | None, date | None] = (None, None)
    if "valid" in data:
        start, end, ok = _ends(reader, data["valid"], "valid")
        if ok:
            valid = (start, end)
        if period_by is None and base_period_by is None:
            reader.fail(RuleFileError(
                "valid: 需要 period_by：期间按案例自己的日期判断 valid needs a period date", data.key_span("valid"),
                hint="写出为案例定期间的日期，如 period_by: unit.application_date（申请日期）；valid 不按评估日期判断，"
                     "政策是否仍在实施写成比较评估日期 as_of 的条件（如 in_force: as_of <= 实施期限）"))
    return period_by, valid
