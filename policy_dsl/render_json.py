"""Values and decisions → JSON, exactly as policy_dsl/vocabulary.yaml's
evaluation_json describes: money as "6000.00", rates and decimals as exact
strings, dates ISO, sets as sorted arrays, undetermined as an object.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from . import types as T
from .values import Duration, Unknown, format_decimal, format_money, isolated
from .vocabulary import Vocabulary, vocabulary

if TYPE_CHECKING:
    from .engine import Decision


def reason_text(value: Unknown, vocab: Vocabulary | None = None) -> str:
    """Why a value is undetermined, in the clerk's words."""
    vocab = vocab or vocabulary()
    parts = []
    facts = [m for m in sorted(value.missing) if m not in value.reasons]
    for name in sorted(value.missing):
        if name in value.reasons:
            parts.append(value.reasons[name])
    if facts:
        parts.append("缺少事实：" + "、".join(f"{vocab.label(_base_path(m))}（{m}）" for m in facts))
    return "；".join(parts)


def _base_path(path: str) -> str:
    return path.split("[")[0]


def json_value(value: object, t: T.Type | None = None, vocab: Vocabulary | None = None) -> object:
    if value.__class__ is Unknown:
        return {"undetermined": True, "missing": sorted(value.missing), "reason": reason_text(value, vocab)}  # type: ignore[attr-defined]
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    kind = t.kind if t else ""
    if isinstance(value, (int, Decimal)):
        if kind == "money":
            return format_money(Decimal(value))
        if isinstance(value, int) and kind in ("int", ""):
            return value
        return format_decimal(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Duration):
        return str(value)
    if isinstance(value, (frozenset, set)):
        elem = t.elem if t else None
        return [json_value(v, elem, vocab) for v in sorted(value, key=str)]
    if isinstance(value, (tuple, list)):
        elem = t.elem if t else None
        return [json_value(v, elem, vocab) for v in value]
    if isinstance(value, dict):
        return {k: json_value(v, None, vocab) for k, v in value.items()}
    return str(value)


@isolated
def decision_json(decision: "Decision") -> dict:
    from .periods.words import edition_header, edition_json, named_edition, period_json

    engine = decision.engine
    period = engine.rule_set.period if engine else None
    clauses = {}
    for cid, result in decision.clauses.items():
        conclusions = {}
        for name, value in result.conclusions.items():
            t = engine.slot_type(f"{cid}.{name}") if engine else None
            conclusions[name] = json_value(value, t, engine.vocab if engine else None)
        entry: dict = {"applicable": result.applicable}
        named, edition = named_edition(decision, cid)
        if named:  # editions by period: judged by an older edition, or not judged (null)
            entry["edition"] = edition_json(edition)
        entry["conclusions"] = conclusions
        clauses[cid] = entry
    out: dict = {"policy_set": decision.policy_set, **(edition_header(engine.rule_set) if engine else {}),
                 "as_of": decision.as_of.isoformat() if decision.as_of else None}
    if period is not None:
        out["period"] = period_json(period)
    out["clauses"] = clauses
    return out
