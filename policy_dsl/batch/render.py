"""A Decision → the values each output format writes.

`JsonRows` gives exactly the object `Decision.to_json()` (and so `policy eval
--format json`) gives, restricted to the chosen clauses; it only precomputes the
conclusion types and reuses the rendering of identical undetermined values,
which a register repeats on most rows. tests/test_batch.py holds it equal to
`to_json()`. `line`/`record` write the common Decision from its Shape's plan
(shaped.py) and any other through `_general`, the same text.

`TableShape` is the CSV/Parquet layout: `row`, the --keep columns, one column
per conclusion (`stable_job_refund.amount`), `待补充事实`, and `理由` with
--explain. An undetermined or inapplicable conclusion is an empty cell / null.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from .. import types as T
from ..periods.chain import edition_of
from ..periods.words import clause_edition, edition_header, edition_json, period_json
from ..render_json import json_value
from ..values import Unknown, format_decimal, format_money
from .shaped import ShapedLines

# What `policy eval --format json` puts before decision.to_json() (policy_dsl/schema/evaluation-v1.json), so
# that a JSONL row without its "row" (and "explain") is that very object; tests hold the two equal.
EVALUATION_HEADER = {"schema": "policy-dsl/evaluation", "version": 1}
MISSING_COLUMN = "待补充事实"
EDITION_COLUMN = "edition"  # `stable_job_refund.edition`: which edition judged a dated clause
REASON_COLUMN = "理由"


class JsonRows:
    def __init__(self, engine, clauses: tuple[str, ...]) -> None:
        self.vocab = engine.vocab
        self.clauses = clauses
        self.converters = {cid: {name: _converter(engine.slot_type(f"{cid}.{name}"), self.vocab)
                                 for name in engine.rule_set.clauses[cid].conclusions} for cid in clauses}
        self.kinds = {cid: {name: engine.slot_type(f"{cid}.{name}").kind for name in self.converters[cid]}
                      for cid in clauses}
        self._unknowns: dict[tuple, dict] = {}
        self._encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        # The text of a clause with no conclusions (inapplicable, or informational), by applicability.
        self._empty = {cid: {flag: f'{self._encode(cid)}:{{"applicable":{str(flag).lower()},"conclusions":{{}}}}'
                             for flag in (True, False)} for cid in clauses}
        self._keys = {cid: self._encode(cid) for cid in clauses}
        self._header = "".join(f"{self._encode(k)}:{self._encode(v)}," for k, v in EVALUATION_HEADER.items())
        # A set that states its period: the row's edition at top level, and a clause's own only where
        # it was judged otherwise (as to_json() does).
        period = engine.rule_set.period
        self._title = "".join(f",{self._encode(k)}:{self._encode(v)}" for k, v in edition_header(engine.rule_set).items())
        self._period = f',"period":{self._encode(period_json(period))}' if period is not None else ""
        self._editions: dict = {}
        self._own = edition_of(engine.rule_set)  # the row's own edition, which no clause repeats
        self._shaped = ShapedLines(self)

    def unknown(self, value: Unknown) -> dict:
        """The JSON of an undetermined value; shared between rows (read-only), as a register repeats
        a few kinds of gaps on most rows."""
        key = (value.missing, tuple(sorted(value.reasons.items())))
        cached = self._unknowns.get(key)
        if cached is None:
            if len(self._unknowns) > 10_000:  # bounded, whatever the register
                self._unknowns.clear()
            cached = self._unknowns[key] = json_value(value, None, self.vocab)  # type: ignore[assignment]
        return cached

    def conclusions(self, cid: str, result) -> dict:
        """In the clause's own order, whatever order the Decision holds them in."""
        values = result.conclusions
        out = {}
        for name, convert in self.converters[cid].items():
            if name in values:
                v = values[name]
                out[name] = self.unknown(v) if v.__class__ is Unknown else convert(v)  # type: ignore[arg-type]
        return out

    def edition(self, decision, cid: str) -> str:
        """The `"edition":…,` piece of a clause judged otherwise than by the row's set; empty for the
        others (a few distinct editions per run: remembered). What periods.words.named_edition says,
        read straight from the Decision: only an edition chain's decision names editions per clause
        (`editions`), and a clause it does not name is judged by the set itself."""
        editions = getattr(decision, "editions", None)
        if not editions:
            return ""
        edition = editions.get(cid, self._own)
        if edition is self._own or edition == self._own:
            return ""
        text = self._editions.get(edition)
        if text is None:
            text = self._editions[edition] = f'"edition":{self._encode(edition_json(edition))},'
        return text

    def render(self, decision) -> dict:
        clauses = {}
        for cid in self.clauses:
            result = decision.clauses[cid]
            entry = {"applicable": result.applicable}
            edition = self.edition(decision, cid) if self._period else ""
            if edition:
                entry["edition"] = json.loads(edition[len('"edition":'):-1])
            entry["conclusions"] = self.conclusions(cid, result)
            clauses[cid] = entry
        out = {"policy_set": decision.policy_set}
        if self._title:
            out.update(json.loads("{" + self._title[1:] + "}"))
        out["as_of"] = decision.as_of.isoformat() if decision.as_of else None
        if self._period:
            out["period"] = json.loads(self._period.split(":", 1)[1])
        out["clauses"] = clauses
        return out

    def line(self, number: int, decision, extra: dict | None = None) -> str:
        """The JSONL line `{"row": N, **EVALUATION_HEADER, **render(decision), **extra}`, from pre-encoded pieces."""
        shaped = self._shaped.record(number, decision, extra)  # the common Decision, by its Shape's plan
        if shaped is not None:
            return shaped[:-1].decode()
        return self._general(number, decision, extra)

    def record(self, number: int, decision, extra: dict | None = None) -> bytes:
        """`line()` and its newline, in UTF-8: what a JSONL file holds for the row."""
        shaped = self._shaped.record(number, decision, extra)
        return shaped if shaped is not None else (self._general(number, decision, extra) + "\n").encode()

    def _general(self, number: int, decision, extra: dict | None) -> str:
        encode = self._encode
        parts = []
        clauses = decision.clauses  # a mapping built on each access: once per row
        for cid in self.clauses:
            result = clauses[cid]
            edition = self.edition(decision, cid) if self._period else ""
            if not result.conclusions and not edition:
                parts.append(self._empty[cid][result.applicable])
            else:
                parts.append(f'{self._keys[cid]}:{{"applicable":{"true" if result.applicable else "false"},{edition}'
                             f'"conclusions":{encode(self.conclusions(cid, result))}}}')
        as_of = f'"{decision.as_of.isoformat()}"' if decision.as_of else "null"
        tail = "".join(f",{encode(k)}:{encode(v)}" for k, v in extra.items()) if extra else ""
        return (f'{{"row":{number},{self._header}"policy_set":{encode(decision.policy_set)}{self._title},"as_of":{as_of}'
                f'{self._period},"clauses":{{{",".join(parts)}}}{tail}}}')


def _converter(t: T.Type, vocab):
    """json_value for one declared type, with the common case of each type first (same results)."""
    kind = t.kind

    def generic(value: object) -> object:
        return json_value(value, t, vocab)

    if kind == "bool":
        return lambda v: v if v.__class__ is bool else generic(v)
    if kind == "money":
        return lambda v: format_money(v) if v.__class__ is Decimal else generic(v)
    if kind in ("decimal", "rate"):
        return lambda v: format_decimal(v) if v.__class__ is Decimal else generic(v)
    if kind == "date":
        return lambda v: v.isoformat() if v.__class__ is date else generic(v)
    return generic


@dataclass(frozen=True)
class OutColumn:
    name: str
    kind: str                  # bool int money date list string (how Parquet types it)
    clause: str | None = None
    conclusion: str | None = None


class TableShape:
    def __init__(self, engine, rows: JsonRows, keep: tuple[str, ...], explain: bool) -> None:
        self.vocab = engine.vocab
        self.rows = rows
        self.clauses = rows.clauses
        # the edition that judged each dated clause (period_by) of a set that states its period: its set name
        self.dated = frozenset(cid for cid in self.clauses if engine.rule_set.period is not None
                               and engine.rule_set.clauses[cid].period_by is not None)
        columns = [OutColumn("row", "int")] + [OutColumn(k, "string") for k in keep]
        layout = []
        for cid in self.clauses:
            names = tuple(engine.rule_set.clauses[cid].conclusions)
            layout.append((cid, names))
            for name in names:
                t = engine.slot_type(f"{cid}.{name}")
                kind = t.kind if t.kind in ("bool", "int", "money", "date") else "list" if t.kind == "set" else "string"
                columns.append(OutColumn(f"{cid}.{name}", kind, cid, name))
            if cid in self.dated:
                columns.append(OutColumn(f"{cid}.{EDITION_COLUMN}", "string"))
        columns.append(OutColumn(MISSING_COLUMN, "list"))
        if explain:
            columns.append(OutColumn(REASON_COLUMN, "string"))
        self.columns = tuple(columns)
        self.layout = tuple(layout)
        self.kinds = {(c.clause, c.conclusion): c.kind for c in columns if c.clause}
        self.explain = explain
        self._gap_texts: dict[frozenset, str] = {}
        # CSV text of a determined value: _cell of its JSON value, by the conclusion's JSON converter.
        self._cells = {cid: {name: _cell_converter(convert, engine.slot_type(f"{cid}.{name}").kind)
                             for name, convert in rows.converters[cid].items()}
                       for cid in self.clauses}

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def csv_cells(self, number: int, kept: tuple, decision, reason: str | None) -> list[str]:
        """CSV text of each column: what `_cell` makes of the JSON value, so the two outputs agree."""
        cells: list[str] = [str(number), *kept]
        clauses = decision.clauses
        gaps: list | None = None
        for cid, names in self.layout:
            conclusions = clauses[cid].conclusions
            if not conclusions:
                cells.extend([""] * (len(names) + (cid in self.dated)))
                continue
            convert = self._cells[cid]
            for name in names:
                value = conclusions.get(name)
                if value is None:
                    cells.append("")
                elif value.__class__ is Unknown:
                    cells.append("")
                    if gaps is None:
                        gaps = []
                    gaps.append(value)
                else:
                    cells.append(convert[name](value))
            if cid in self.dated:
                cells.append(self.edition_name(decision, cid) or "")
        cells.append(self._gap_text(gaps) if gaps else "")
        if self.explain:
            cells.append(reason or "")
        return cells

    @staticmethod
    def edition_name(decision, cid: str) -> str | None:
        """The set name of the edition whose period holds the case (as JSON's `edition`); None (an
        empty cell) when none does or the period date is unknown."""
        edition = clause_edition(decision, cid)
        return edition.name if edition else None

    def _gap_text(self, gaps: list) -> str:
        """待补充事实 of a row from its undetermined values; a register repeats a few patterns, so remembered."""
        key = frozenset(gaps)  # Unknown hashes by what it misses; a name's reason never changes
        text = self._gap_texts.get(key)
        if text is None:
            names: set[str] = set()
            reasons: dict[str, str] = {}
            for value in gaps:
                names |= value.missing
                reasons.update(value.reasons)
            if len(self._gap_texts) > 4096:
                self._gap_texts.clear()
            text = self._gap_texts[key] = "；".join(missing_label(n, self.vocab, reasons) for n in sorted(names))
        return text

    def parquet_values(self, number: int, kept: tuple, decision, reason: str | None) -> list:
        values: list = [number, *kept]
        for cid, names in self.layout:
            result = decision.clauses[cid]
            if not result.conclusions:
                values.extend([None] * (len(names) + (cid in self.dated)))
                continue
            shown = self.rows.conclusions(cid, result)
            for name in names:
                raw = result.conclusions.get(name)
                kind = self.kinds[(cid, name)]
                if raw is None or raw.__class__ is Unknown:
                    values.append(None)
                elif kind in ("bool", "int", "money", "date"):
                    values.append(raw)
                else:
                    values.append(shown[name] if isinstance(shown[name], (list, str)) else str(shown[name]))
            if cid in self.dated:
                values.append(self.edition_name(decision, cid))
        values.append(sorted(self.missing(decision)[0]))
        if self.explain:
            values.append(reason)
        return values

    def missing(self, decision) -> tuple[set[str], dict[str, str]]:
        """What the undetermined conclusions of the row still need, and why (for delegated parameters)."""
        out: set[str] = set()
        reasons: dict[str, str] = {}
        for cid in self.clauses:
            for value in decision.clauses[cid].conclusions.values():
                if value.__class__ is Unknown:
                    out |= value.missing  # type: ignore[attr-defined]
                    if value.reasons:  # type: ignore[attr-defined]
                        reasons.update(value.reasons)  # type: ignore[attr-defined]
        return out, reasons


def missing_label(name: str, vocab, reasons) -> str:
    """上年度裁员人数（unit.layoffs） for a fact; 大型企业返还比例（由各市确定…） for a parameter."""
    if name in reasons:
        return f"{name}（{reasons[name]}）"
    base = name.split("[")[0]
    if base in vocab.facts:
        return f"{vocab.label(base)}（{name}）"
    return name


def _cell_converter(convert, kind: str):
    """The CSV text of a determined value: `_cell(convert(value))`, remembered per column for the
    kinds whose values repeat across a register (rates, dates, counts, enums)."""
    def cell(value: object) -> str:
        if value is True:
            return "true"
        if value is False:
            return "false"
        return _cell(convert(value))

    if kind in ("money", "bool", "set", "list", "record"):
        return cell
    seen: dict = {}

    def remembered(value: object) -> str:
        if value.__class__ is bool:  # True == 1: never share a remembered text with a number
            return cell(value)
        text = seen.get(value)
        if text is None:
            if len(seen) > 4096:  # bounded, whatever the register
                seen.clear()
            text = seen[value] = cell(value)
        return text

    return remembered


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
