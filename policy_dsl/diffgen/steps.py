"""The smallest step of each type, and a fact's search domain as integers.

int 1, money 0.01, decimal and rate at the constant's scale (at least 0.01 and 0.0001), date 1 day.
A fact's values are searched as integer indexes k (value = origin + k·step) within the vocabulary's
min/max, so a search never produces a value the facts validation would refuse.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Iterable

from ..vocabulary import FactSpec

_NUMERIC_CAP = 10 ** 7            # search ceiling of a count or an amount without a vocabulary max
_DATE_LO, _DATE_HI = date(1900, 1, 1), date(2199, 12, 31)
_MIN_SCALE = {"decimal": 2, "rate": 4}


def step(kind: str, constants: Iterable[Any] = ()) -> Any:
    if kind == "int":
        return 1
    if kind == "money":
        return Decimal("0.01")
    if kind == "date":
        return timedelta(days=1)
    scale = _MIN_SCALE.get(kind, 2)
    for c in constants:
        if isinstance(c, Decimal) and c.is_finite():
            scale = max(scale, -int(c.as_tuple().exponent))
    return Decimal(1).scaleb(-scale)


def around(value: Any, kind: str, constants: Iterable[Any] = ()) -> list[Any]:
    """The constant itself and one step on either side."""
    if isinstance(value, bool) or value is None:
        return []
    s = step(kind, [value, *constants])
    if kind == "int":
        if not isinstance(value, (int, Decimal)) or value != int(value):
            return []
        return [int(value) - 1, int(value), int(value) + 1]
    if kind == "date":
        return [value - s, value, value + s] if isinstance(value, date) else []
    if isinstance(value, (int, Decimal)):
        v = Decimal(value)
        return [v - s, v, v + s]
    return []


@dataclass(frozen=True)
class Domain:
    """The values a fact may take, numbered 0…size-1 from `origin` by `unit`."""

    kind: str
    origin: Any
    unit: Any
    size: int

    def value(self, k: int) -> Any:
        if self.kind == "date":
            return self.origin + timedelta(days=k)
        v = self.origin + self.unit * k
        return int(v) if self.kind == "int" else v

    def index(self, value: Any) -> int | None:
        """The index of a value of the domain (None outside it or off the grid)."""
        try:
            if self.kind == "date":
                k = (value - self.origin).days
            else:
                q = (Decimal(value) - Decimal(self.origin)) / Decimal(self.unit)
                if q != q.to_integral_value():
                    return None
                k = int(q)
        except (TypeError, ArithmeticError):
            return None
        return k if 0 <= k < self.size else None

    def contains(self, value: Any) -> bool:
        return self.index(value) is not None


def domain(spec: FactSpec, constants: Iterable[Any] = ()) -> Domain | None:
    kind = spec.type.kind
    if kind == "date":
        lo = spec.minimum if isinstance(spec.minimum, date) else _DATE_LO
        hi = spec.maximum if isinstance(spec.maximum, date) else _DATE_HI
        return Domain(kind, lo, timedelta(days=1), (hi - lo).days + 1)
    if kind not in ("int", "money", "decimal", "rate"):
        return None
    unit = step(kind, constants)
    lo = Decimal(spec.minimum) if spec.minimum is not None else Decimal(-_NUMERIC_CAP)
    hi = Decimal(spec.maximum) if spec.maximum is not None else Decimal(_NUMERIC_CAP)
    if kind == "int":
        lo, hi = lo.to_integral_value("ROUND_CEILING"), hi.to_integral_value("ROUND_FLOOR")
    size = int((hi - lo) / unit) + 1
    return Domain(kind, int(lo) if kind == "int" else lo, unit, max(size, 0))


_NICE = (0, 1, 2, 5, 10, 30, 100, 300, 1000, 10 ** 4, 10 ** 6)


def samples(dom: Domain, start: Any, dates: Iterable[date] = ()) -> list[Any]:
    """Points to look at before bisecting: the domain's ends, the start value, round numbers
    (dates: every date constant of both sets, and years around the start)."""
    points: list[Any] = [dom.value(0), dom.value(dom.size - 1)]
    if dom.kind == "date":
        points += [d + timedelta(days=k) for d in dates for k in (-1, 0, 1)]
        if isinstance(start, date):
            points += [start + timedelta(days=365 * y) for y in (-60, -10, -1, 0, 1, 10, 60)]
    else:
        points += [x for v in _NICE for x in (v, -v)]
        if isinstance(start, (int, Decimal)) and not isinstance(start, bool):
            points.append(start)
        points = [Decimal(p) if dom.kind != "int" else p for p in points]
    return sorted({p for p in points if dom.contains(p)})
