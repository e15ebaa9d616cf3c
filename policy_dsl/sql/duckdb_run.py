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
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from ..engine import CaseError, Decision, RuleEngine, build
from ..errors import FactsError, FactsFileError, PolicyError
from ..typer import FactBinding
from .columns import facts_view
from .dialects import render
from .plan import Plan, build_plan
from .shape import Shaper


@dataclass(frozen=True)
class RowResult:
    """One evaluated row: its 0-based position in the input and its Decision; `result` is the
    `policy eval --format json` object."""

    index: int
    decision: Decision = field(compare=False)

    @property
    def result(self) -> dict:
        return self.decision.to_json()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RowResult) and (self.index, self.result) == (other.index, other.result)

    __hash__ = None  # type: ignore[assignment]


@dataclass
class SqlEngine:
    engine: RuleEngine
    plan: Plan
    python_facts: tuple[str, ...]       # facts the Python-computed conclusions read
    python_engine: RuleEngine | None    # compiled for the conclusions in plan.python only
    duckdb_sql: str = ""


def compile_sql(engine: RuleEngine) -> SqlEngine:
    keys = [f"{cid}.{name}" for cid, c in engine.rule_set.clauses.items() for name in c.conclusions]
    made: dict = {"engine": None, "reads": ()}

    def passthrough(python: dict[str, str]) -> tuple[str, ...]:
        # the conclusions left to Python are known once planned: their program, and the facts it reads
        if python:
            made["engine"] = build(engine.rule_set, engine.vocab, targets=list(python))
            notes = engine.analysis.notes
            made["reads"] = tuple(sorted({b.path for node in made["engine"].program.nodes
                                          if isinstance(b := notes.bindings.get(id(node)), FactBinding)} | {"as_of"}))
        return ("_invalid", *sorted(set(made["reads"]) | {"as_of"}))

    plan = build_plan(engine.rule_set, engine.analysis, _fact_types(engine), keys, passthrough=passthrough,
                      decoded=False)
    return SqlEngine(engine, plan, made["reads"], made["engine"], render(plan.query, "duckdb", pretty=False, copy=False))


def _fact_types(engine: RuleEngine) -> dict:
    return {p: s.type for p, s in engine.vocab.facts.items()}


def run_duckdb(engine: RuleEngine | SqlEngine, path: str | Path, *, as_of: date | None = None,
               batch_size: int = 20000) -> Iterator[RowResult | CaseError]:
    """Every row of a CSV or Parquet file, read by DuckDB, in input order."""
    import duckdb

    sql_engine = engine if isinstance(engine, SqlEngine) else compile_sql(engine)
    con = duckdb.connect()
    try:
        load_file(con, str(path), sql_engine, as_of)
        for index, result in _results(con, sql_engine, sql_engine.duckdb_sql, as_of, batch_size):
            yield RowResult(index, result) if isinstance(result, Decision) else result
    finally:
        con.close()


def _results(con, sql_engine: SqlEngine, query: str, as_of: date | None,
             batch_size: int) -> Iterator[tuple[int, Decision | CaseError]]:
    con.execute(f"CREATE OR REPLACE TABLE results AS {query}")
    # Rows the Python engine decides, with their cells as read, fetched in one pass.
    handed = con.execute("SELECT r.* FROM raw r JOIN (SELECT _row FROM results WHERE _invalid OR _recheck) "
                         "USING (_row) ORDER BY _row").fetchall()
    names = [d[0] for d in con.description]
    python_rows = {cells[0]: dict(zip(names[1:], cells[1:])) for cells in handed}
    con.execute("SELECT * FROM results ORDER BY _row")
    shaper = Shaper(sql_engine, [d[0] for d in con.description])
    while True:
        rows = con.fetchmany(batch_size)
        if not rows:
            break
        for row in rows:
            index = row[0]
            if index in python_rows:
                yield index, _reindexed(_python_row(sql_engine, python_rows.pop(index), as_of), index)
                continue
            try:
                yield index, shaper.decision(row)
            except PolicyError:  # a Python-computed conclusion failed: the engine reports the row
                cells = con.cursor().execute("SELECT * EXCLUDE (_row) FROM raw WHERE _row = ?", [index])
                names = [d[0] for d in cells.description]
                yield index, _reindexed(_python_row(sql_engine, dict(zip(names, cells.fetchone())), as_of), index)


def load_file(con, path: str, sql_engine: SqlEngine, as_of: date | None) -> None:
    """The file on connection `con`: table raw0 as read, view raw (with _row, the 0-based input
    order) and view facts (typed, with _invalid), which the compiled query reads."""
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


def _python_row(sql_engine: SqlEngine, cells: dict, as_of: date | None) -> Decision | CaseError:
    facts = row_facts(cells, sql_engine.engine)
    try:
        return sql_engine.engine.evaluate(facts, as_of=as_of)
    except FactsError as exc:
        return CaseError(-1, tuple(exc.problems))
    except PolicyError as exc:
        return CaseError(-1, (("", exc.render()),))


def _reindexed(result: Decision | CaseError, index: int) -> Decision | CaseError:
    return CaseError(index, result.problems) if isinstance(result, CaseError) else result


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
