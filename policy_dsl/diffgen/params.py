"""Static: what changed in a parameter beyond "another value" — its bounds widened or narrowed,
its delegation, the entries of its history, the direction a number or date moved. Plain data
(strings); policy_dsl/diff.py turns them into rows of the static diff.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from ..model import Parameter
from ..values import format_typed


def bounds_direction(base: tuple[Any, Any], variant: tuple[Any, Any]) -> str | None:
    """widened | narrowed | changed (one end wider, the other narrower) | None (the same)."""
    if tuple(base) == tuple(variant):
        return None
    (blo, bhi), (vlo, vhi) = base, variant
    wider = _looser(blo, vlo, lower=True) or _looser(bhi, vhi, lower=False)
    narrower = _looser(vlo, blo, lower=True) or _looser(vhi, bhi, lower=False)
    return "changed" if wider and narrower else "widened" if wider else "narrowed" if narrower else None


def _looser(old: Any, new: Any, lower: bool) -> bool:
    """Does `new` admit values `old` did not (a lower bound lowered or dropped, an upper raised or dropped)?"""
    if old is None:
        return False
    if new is None:
        return True
    try:
        return new < old if lower else new > old
    except TypeError:
        return False


def bounds_text(p: Parameter) -> str:
    lo, hi = p.bounds
    k = p.type.kind
    parts = ([f"≥ {format_typed(lo, k)}"] if lo is not None else []) + ([f"≤ {format_typed(hi, k)}"] if hi is not None else [])
    return " ".join(parts) or "无限制"


def delegation_change(base: Parameter, variant: Parameter) -> str:
    """The change label of a parameter whose value, history or delegation differs."""
    if not base.filled and base.delegated:
        return "filled" if variant.filled else "redelegated"
    if base.filled and not variant.filled and variant.delegated:
        return "delegated"   # an edition hands a fixed value down (由各市确定)
    return "changed"


def value_detail(base: Parameter, variant: Parameter) -> str | None:
    """调高/调低, 提前/推后, history entries added, removed or changed, the delegate changed."""
    k = variant.type.kind
    parts: list[str] = []
    if base.history or variant.history:
        parts += _history_detail(base, variant)
    elif base.value is not None and variant.value is not None and base.value != variant.value:
        way = _direction(base.value, variant.value)
        if way:
            parts.append(f"{format_typed(base.value, k)} → {format_typed(variant.value, k)}（{way}）")
    if base.delegated and variant.delegated and base.delegated.to != variant.delegated.to:
        parts.append(f"委托对象 {base.delegated.to} → {variant.delegated.to}")
    return "；".join(parts) or None


def _history_detail(base: Parameter, variant: Parameter) -> list[str]:
    k = variant.type.kind
    b, v = dict(base.history), dict(variant.history)
    if base.value is not None:
        return [f"由固定值 {format_typed(base.value, k)} 改为按日期分段"]
    if variant.value is not None:
        return [f"由按日期分段改为固定值 {format_typed(variant.value, k)}"]
    out = []
    for d in sorted(set(b) | set(v)):
        if d not in b:
            out.append(f"新增 {d}起 {format_typed(v[d], k)}")
        elif d not in v:
            out.append(f"删除 {d}起 {format_typed(b[d], k)}")
        elif b[d] != v[d]:
            way = _direction(b[d], v[d])
            out.append(f"{d}起 {format_typed(b[d], k)} → {format_typed(v[d], k)}" + (f"（{way}）" if way else ""))
    return out


def _direction(old: Any, new: Any) -> str | None:
    if isinstance(old, date) and isinstance(new, date):
        return "推后" if new > old else "提前" if new < old else None
    if isinstance(old, (int, Decimal)) and isinstance(new, (int, Decimal)) and not isinstance(old, bool):
        return "调高" if new > old else "调低" if new < old else None
    return None
