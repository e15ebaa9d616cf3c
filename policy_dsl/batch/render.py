"""A Decision → the values each output format writes.

`JsonRows` gives exactly the object `Decision.to_json()` (and so `policy eval
--format json`) gives, restricted to the chosen clauses; it only precomputes the
conclusion types and reuses the rendering of identical undetermined values,
which a register repeats on most rows. tests/test_batch.py holds it equal to
`to_json()`.

`TableShape` is the CSV/Parquet layout: `row`, the --keep columns, one column
per conclusion (`stable_job_refund.amount`), `待补充事实`, and `理由` with
--explain. An undetermined or inapplicable conclusion is an empty cell / null.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from .. import types as T
from ..render_json import json_value
from ..values import Unknown

MISSING_COLUMN = "待补充事实"
REASON_COLUMN = "理由"


class JsonRows:
    def __init__(self, engine, clauses: tuple[str, ...]) -> None:
        self.vocab = engine.vocab
        self.clauses = clauses
        self.types = {cid: {name: engine.slot_type(f"{cid}.{name}") for name in engine.rule_set.clauses[cid].conclusions}
                      for cid in clauses}
        self._unknowns: dict[tuple, dict] = {}

    def value(self, value: object, t: T.Type) -> object:
        if value.__class__ is Unknown:
            key = (value.missing, tuple(sorted(value.reasons.items())))  # type: ignore[attr-defined]
            cached = self._unknowns.get(key)
            if cached is None:
                if len(self._unknowns) > 10_000:  # bounded: a register repeats a few kinds of gaps
                    self._unknowns.clear()
                cached = self._unknowns[key] = json_value(value, t, self.vocab)  # type: ignore[assignment]
            return cached
        return json_value(value, t, self.vocab)

    def render(self, decision) -> dict:
        clauses = {}
        for cid in self.clauses:
            result = decision.clauses[cid]
            types = self.types[cid]
            clauses[cid] = {"applicable": result.applicable,
                            "conclusions": {name: self.value(v, types[name]) for name, v in result.conclusions.items()}}
        return {"policy_set": decision.policy_set,
                "as_of": decision.as_of.isoformat() if decision.as_of else None,
                "clauses": clauses}


@dataclass(frozen=True)
class OutColumn:
    name: str
    kind: str                  # bool int money date list string (how Parquet types it)
    clause: str | None = None
    conclusion: str | None = None


class TableShape:
    def __init__(self, engine, clauses: tuple[str, ...], keep: tuple[str, ...], explain: bool) -> None:
        self.vocab = engine.vocab
        self.clauses = clauses
        columns = [OutColumn("row", "int")] + [OutColumn(k, "string") for k in keep]
        for cid in clauses:
            for name in engine.rule_set.clauses[cid].conclusions:
                t = engine.slot_type(f"{cid}.{name}")
                kind = t.kind if t.kind in ("bool", "int", "money", "date") else "list" if t.kind == "set" else "string"
                columns.append(OutColumn(f"{cid}.{name}", kind, cid, name))
        columns.append(OutColumn(MISSING_COLUMN, "list"))
        if explain:
            columns.append(OutColumn(REASON_COLUMN, "string"))
        self.columns = tuple(columns)
        self.explain = explain

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def csv_cells(self, number: int, kept: tuple, decision, as_json: dict, reason: str | None) -> list[str]:
        """CSV text of each column, from the JSON values so that the two outputs agree."""
        cells: list[str] = [str(number), *kept]
        clauses = as_json["clauses"]
        for column in self.columns[1 + len(kept):]:
            if column.clause is None:
                continue
            value = clauses[column.clause]["conclusions"].get(column.conclusion)
            cells.append(_cell(value))
        cells.append("；".join(self.missing_labels(decision)))
        if self.explain:
            cells.append(reason or "")
        return cells

    def parquet_values(self, number: int, kept: tuple, decision, as_json: dict, reason: str | None) -> list:
        values: list = [number, *kept]
        clauses = as_json["clauses"]
        for column in self.columns[1 + len(kept):]:
            if column.clause is None:
                continue
            result = decision.clauses[column.clause]
            raw = result.conclusions.get(column.conclusion)
            if raw is None or raw.__class__ is Unknown:
                values.append(None)
            elif column.kind in ("bool", "int", "money", "date"):
                values.append(Decimal(raw) if column.kind == "money" else raw)
            else:
                shown = clauses[column.clause]["conclusions"][column.conclusion]
                values.append(shown if isinstance(shown, (list, str)) else str(shown))
        values.append(sorted(self.missing(decision)))
        if self.explain:
            values.append(reason)
        return values

    def missing(self, decision) -> set[str]:
        out: set[str] = set()
        for cid in self.clauses:
            for value in decision.clauses[cid].conclusions.values():
                if value.__class__ is Unknown:
                    out |= value.missing  # type: ignore[attr-defined]
        return out

    def missing_labels(self, decision) -> list[str]:
        reasons: dict[str, str] = {}
        for cid in self.clauses:
            for value in decision.clauses[cid].conclusions.values():
                if value.__class__ is Unknown:
                    reasons.update(value.reasons)  # type: ignore[attr-defined]
        return [missing_label(name, self.vocab, reasons) for name in sorted(self.missing(decision))]


def missing_label(name: str, vocab, reasons) -> str:
    """上年度裁员人数（unit.layoffs） for a fact; 大型企业返还比例（由各市确定…） for a parameter."""
    if name in reasons:
        return f"{name}（{reasons[name]}）"
    base = name.split("[")[0]
    if base in vocab.facts:
        return f"{vocab.label(base)}（{name}）"
    return name


def _cell(value: object) -> str:
    if value is None or isinstance(value, dict):  # inapplicable, or {"undetermined": true, ...}
        return ""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, list):
        return ";".join(str(v) for v in value)
    return str(value)
