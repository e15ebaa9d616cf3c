"""Run a rule set on embedded DuckDB over a CSV or Parquet file, row results in the
Python engine's shape: `RowResult(index, eval JSON)` or `CaseError`, in input order.

DuckDB reads the file itself (columns named by fact path; see columns.py). The
compiled query computes every conclusion it covers, with the `missing` list of
undetermined cells. Three kinds of work stay with the Python engine, so no
answer differs from `policy eval`:
* conclusions the query does not cover (`Plan.python`, e.g. an exact quotient),
  computed per row by a Python program built for just those conclusions;
* rows with a cell SQL does not take as it is (`_invalid`): evaluated by the
  Python engine from the raw cells, which reports bad facts in its own words;
* rows the query flags `_recheck` (a divisor of 0): the Python engine decides.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from ..engine import CaseError, RuleEngine, build
from ..errors import FactsError, FactsFileError, PolicyError
from ..render_json import reason_text
from ..typer import FactBinding
from ..values import Unknown, format_decimal, format_money
from .columns import facts_view
from .dialects import render
from .plan import Plan, build_plan


@dataclass(frozen=True)
class RowResult:
    """One evaluated row: its 0-based position in the input and the `policy eval --format json` object."""

    index: int
    result: dict


@dataclass
class SqlEngine:
    engine: RuleEngine
    plan: Plan
    python_facts: tuple[str, ...]       # facts the Python-computed conclusions read
    python_engine: RuleEngine | None    # compiled for the conclusions in plan.python only
    duckdb_sql: str = ""


def compile_sql(engine: RuleEngine) -> SqlEngine:
    keys = [f"{cid}.{name}" for cid, c in engine.rule_set.clauses.items() for name in c.conclusions]
    probe = build_plan(engine.rule_set, engine.analysis, _fact_types(engine), keys)
    python_engine, reads = None, ()
    if probe.python:
        python_engine = build(engine.rule_set, engine.vocab, targets=list(probe.python))
        notes = engine.analysis.notes
        reads = tuple(sorted({b.path for node in python_engine.program.nodes
                              if isinstance(b := notes.bindings.get(id(node)), FactBinding)} | {"as_of"}))
    plan = build_plan(engine.rule_set, engine.analysis, _fact_types(engine), keys,
                      passthrough=("_invalid", *sorted(set(reads) | {"as_of"})), decoded=False)
    return SqlEngine(engine, plan, reads, python_engine, render(plan.query, "duckdb", pretty=False))


def _fact_types(engine: RuleEngine) -> dict:
    return {p: s.type for p, s in engine.vocab.facts.items()}


def run_duckdb(engine: RuleEngine | SqlEngine, path: str | Path, *, as_of: date | None = None,
               batch_size: int = 20000) -> Iterator[RowResult | CaseError]:
    import duckdb

    sql_engine = engine if isinstance(engine, SqlEngine) else compile_sql(engine)
    con = duckdb.connect()
    try:
        _load(con, str(path), sql_engine, as_of)
        con.execute(f"CREATE TABLE results AS {sql_engine.duckdb_sql}")
        # Rows the Python engine decides, with their cells as read, fetched in one pass.
        handed = con.execute("SELECT r.* FROM raw r JOIN (SELECT _row FROM results WHERE _invalid OR _recheck) "
                             "USING (_row) ORDER BY _row").fetchall()
        names = [d[0] for d in con.description]
        python_rows = {cells[0]: dict(zip(names[1:], cells[1:])) for cells in handed}
        con.execute("SELECT * FROM results ORDER BY _row")
        shaper = _Shaper(sql_engine, [d[0] for d in con.description])
        while True:
            rows = con.fetchmany(batch_size)
            if not rows:
                break
            for row in rows:
                if row[0] in python_rows:
                    yield _python_row(sql_engine, row[0], python_rows.pop(row[0]), as_of)
                    continue
                try:
                    yield RowResult(row[0], shaper.shape(row))
                except PolicyError:  # a Python-computed conclusion failed: the engine reports the row
                    cells = con.cursor().execute("SELECT * EXCLUDE (_row) FROM raw WHERE _row = ?", [row[0]])
                    names = [d[0] for d in cells.description]
                    yield _python_row(sql_engine, row[0], dict(zip(names, cells.fetchone())), as_of)
    finally:
        con.close()


def _load(con, path: str, sql_engine: SqlEngine, as_of: date | None) -> None:
    lower = path.lower()
    if not Path(path).exists():
        raise FactsFileError(f"无法读取输入文件 cannot read input file {path}")
    literal = "'" + path.replace("'", "''") + "'"
    if lower.endswith(".parquet"):
        reader = f"read_parquet({literal})"
    elif lower.endswith(".csv"):
        reader = f"read_csv({literal}, all_varchar = true, header = true)"
    else:
        raise FactsFileError(f"输入文件须为 .csv 或 .parquet input must be .csv or .parquet: {path}")
    try:
        con.execute(f"CREATE TABLE raw0 AS SELECT * FROM {reader}")
    except Exception as exc:  # noqa: BLE001 - DuckDB's reader errors are its own classes
        raise FactsFileError(f"无法读取输入文件 cannot read {path}: {str(exc).splitlines()[0]}") from None
    con.execute("CREATE VIEW raw AS SELECT rowid AS _row, * FROM raw0")
    columns = {name: str(kind) for name, kind in con.execute("SELECT column_name, column_type FROM "
                                                             "(DESCRIBE raw0)").fetchall()}
    con.execute(facts_view(columns, sql_engine.engine.vocab, path, as_of.isoformat() if as_of else None))


def _python_row(sql_engine: SqlEngine, index: int, cells: dict, as_of: date | None) -> RowResult | CaseError:
    facts = row_facts(cells, sql_engine.engine)
    try:
        return RowResult(index, sql_engine.engine.evaluate(facts, as_of=as_of).to_json())
    except FactsError as exc:
        return CaseError(index, tuple(exc.problems))
    except PolicyError as exc:
        return CaseError(index, (("", exc.render()),))


_INT = re.compile(r"-?[0-9]+")


def row_facts(cells: dict[str, Any], engine: RuleEngine) -> dict:
    """Raw cells → nested facts as a facts file would give them; what does not parse is passed on
    as written, for the Python engine's validation to name."""
    out: dict[str, Any] = {}
    for path, value in cells.items():
        if value is None or (isinstance(value, str) and not value.strip()):
            continue
        spec = engine.vocab.facts.get(path)
        kind = spec.type.kind if spec else ""
        if isinstance(value, str):
            text = value.strip()
            if kind == "bool" and text in ("true", "false"):
                value = text == "true"
            elif kind == "int" and _INT.fullmatch(text):
                value = int(text)
            elif kind in ("set", "list"):
                try:
                    value = json.loads(text, parse_float=Decimal)
                except ValueError:
                    value = text
            else:
                value = text
        elif isinstance(value, float):  # a Parquet DOUBLE: its shortest text, as a JSON number would be read
            value = Decimal(repr(value))  # float-ok: read from its text, never used in arithmetic
        head, _, rest = path.partition(".")
        if rest:
            out.setdefault(head, {})[rest] = value
        else:
            out[head] = value
    return out


class _Shaper:
    """Result rows → the eval JSON object, conclusion by conclusion."""

    def __init__(self, sql_engine: SqlEngine, names: list[str]) -> None:
        self.engine, self.plan = sql_engine.engine, sql_engine.plan
        self.python_engine = sql_engine.python_engine
        self.pos = {name: i for i, name in enumerate(names)}
        self.reason_cache: dict[tuple, str] = {}
        self.decoded: dict[tuple, tuple] = {}
        self.clauses = []
        for cid, clause in self.engine.rule_set.clauses.items():
            has = None if clause.subject == "always" else self.pos.get(f"_has_{clause.subject}")
            cells = []
            for name in clause.conclusions:
                key = f"{cid}.{name}"
                kind = self.engine.slot_type(key).kind
                if key in self.plan.outputs:
                    words, has_elems = self.plan.masks[key]
                    missing = (tuple((w, self.pos[f"{key}#m{w}"]) for w in words),
                               self.pos[f"{key}#e"] if has_elems else None)
                    cells.append((name, kind, self.pos[key], missing, None))
                else:
                    cells.append((name, kind, None, None, key))
            self.clauses.append((cid, clause.subject == "always", has, cells))
        self.python_reads = [(p, self.pos[p], self.engine.vocab.facts[p].type.kind) for p in sql_engine.python_facts]
        self.as_of = self.pos["as_of"]

    def shape(self, row: tuple) -> dict:
        python_values = self._python(row) if self.python_engine is not None else None
        clauses = {}
        for cid, always, has, cells in self.clauses:
            if not always and not row[has]:
                clauses[cid] = {"applicable": False, "conclusions": {}}
                continue
            out = {}
            for name, kind, vi, mi, key in cells:
                if key is not None:
                    out[name] = self._value(python_values[key], kind)  # type: ignore[index]
                elif row[vi] is None:
                    out[name] = self._undetermined(self._missing(row, mi))
                else:
                    out[name] = self._value(row[vi], kind)
            clauses[cid] = {"applicable": True, "conclusions": out}
        as_of = row[self.as_of]
        return {"policy_set": self.engine.name, "as_of": as_of.isoformat() if as_of else None, "clauses": clauses}

    def _python(self, row: tuple) -> dict:
        flat: dict[str, Any] = {}
        for path, i, kind in self.python_reads:
            value = row[i]
            if value is None:
                continue
            if kind == "set":
                value = frozenset(value)
            elif kind == "list":
                value = tuple({k: v for k, v in rec.items() if v is not None} for rec in value)
            flat[path] = value
        program = self.python_engine.program  # type: ignore[union-attr]
        return dict(zip(program.keys, program.run(flat)))

    def _missing(self, row: tuple, where: tuple) -> tuple:
        words, elems = where
        key = tuple((w, row[i]) for w, i in words)
        found = self.decoded.get(key)
        if found is None:
            found = self.decoded[key] = tuple(self.plan.names.decode({w: row[i] or 0 for w, i in words}))
        if elems is not None and row[elems]:
            return tuple(sorted(set(found) | set(row[elems])))
        return found

    def _undetermined(self, missing: tuple) -> dict:
        reason = self.reason_cache.get(missing)
        if reason is None:
            reasons = {m: self.plan.reasons[m] for m in missing if m in self.plan.reasons}
            reason = self.reason_cache[missing] = reason_text(Unknown(missing, reasons), self.engine.vocab)
        return {"undetermined": True, "missing": list(missing), "reason": reason}

    def _value(self, value: Any, kind: str) -> Any:
        if value.__class__ is Unknown:
            return {"undetermined": True, "missing": sorted(value.missing), "reason": reason_text(value, self.engine.vocab)}
        if kind == "money":
            return format_money(value)
        if kind in ("decimal", "rate"):
            return format_decimal(value)
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, (list, tuple, frozenset)):
            return sorted(value, key=str)
        return value
