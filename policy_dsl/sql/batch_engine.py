"""`policy batch --engine duckdb`: the batch engine seam (batch/engines.py) on embedded DuckDB.

The batch command reads the register (row numbers, --keep columns, cell problems,
the errors file) and hands cases over a chunk at a time; this engine writes each
chunk into a DuckDB table of text cells and runs the compiled query, prepared
once. Cases the query does not take as they are (see columns.py), rows it flags
for a recheck, and any case with a fact outside the vocabulary go to the Python
engine, so every Decision, CaseError and evaluation error is the Python engine's.
"""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any, Iterable, Iterator

from ..engine import CaseError, Decision, RuleEngine
from ..errors import FactsError, PolicyError, UsageError
from .columns import facts_view
from .duckdb_run import compile_sql
from .shape import Shaper


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else list(value)
        return json.dumps(items, ensure_ascii=False, default=str)
    return str(value)


class DuckDBBatchEngine:
    chunk = 50_000  # cases per call: each run of the prepared query costs about a second whatever its size

    def __init__(self, engine: RuleEngine) -> None:
        import duckdb

        self.engine = engine
        self.sql_engine = compile_sql(engine)
        self.paths = list(engine.vocab.facts)
        self.subjects = {p.split(".")[0] for p in self.paths if "." in p}
        self.con = duckdb.connect()
        columns = ", ".join(['_row BIGINT'] + [f'"{p}" VARCHAR' for p in self.paths])
        self.con.execute(f"CREATE TABLE raw0 ({columns})")
        self.con.execute("CREATE VIEW raw AS SELECT * FROM raw0")
        self.con.execute(facts_view({p: "VARCHAR" for p in self.paths}, engine.vocab, "batch"))
        self.con.execute(f"PREPARE policy_rules AS {self.sql_engine.duckdb_sql}")
        self.shaper: Shaper | None = None
        self.memo: dict[int, tuple[Any, Decision | CaseError | PolicyError]] = {}
        self.memo_as_of: date | None = None

    def evaluate_many(self, cases: Iterable[Any], *, as_of: date | None = None,
                      trace: bool = False) -> Iterator[Decision | CaseError]:
        """One result per case, in order; an evaluation error is raised at its case, as the Python
        engine does. The batch command then asks again from that case on: those answers are kept
        from the same run of the query (`memo`), so a failing row costs no second run."""
        if trace:
            raise UsageError("DuckDB 引擎不记录求值过程（--explain 请用 --engine python）")
        cases = list(cases)
        if not all(id(c) in self.memo for c in cases) or self.memo_as_of != as_of:
            self.memo = dict(zip(map(id, cases), zip(cases, self._run(cases, as_of))))
            self.memo_as_of = as_of
        for case in cases:
            result = self.memo[id(case)][1]
            if isinstance(result, PolicyError):
                raise result
            yield result

    def _run(self, cases: list[Any], as_of: date | None) -> list[Decision | CaseError | PolicyError]:
        cells, python = self._cells(cases, as_of)
        import pyarrow as pa

        table = pa.table({"_row": pa.array(range(len(cases)), pa.int64()),
                          **{p: pa.array(cells[p], pa.string()) for p in self.paths}})
        try:
            self.con.execute("DELETE FROM raw0")
            self.con.from_arrow(table).insert_into("raw0")
            rows = self.con.execute("EXECUTE policy_rules").fetchall()
        except RuntimeError as exc:
            from .batch_file import interrupted

            if interrupted(exc):  # Ctrl-C as the batch command expects it
                raise KeyboardInterrupt from None
            raise
        if self.shaper is None:
            self.shaper = Shaper(self.sql_engine, [d[0] for d in self.con.description])
        out: list[Decision | CaseError | PolicyError] = [None] * len(cases)  # type: ignore[list-item]
        for row in rows:
            index = row[0]
            if index in python or row[1] or row[-1]:  # outside the vocabulary, _invalid, _recheck
                out[index] = self._python(cases[index], index, as_of)
            else:
                out[index] = self.shaper.decision(row)
        return out

    def _cells(self, cases: list[Any], as_of: date | None) -> tuple[dict[str, list], set[int]]:
        cells: dict[str, list] = {p: [None] * len(cases) for p in self.paths}
        python: set[int] = set()
        for i, case in enumerate(cases):
            if not isinstance(case, dict):
                python.add(i)
                continue
            for head, value in case.items():
                if isinstance(value, dict) and head in self.subjects:
                    for name, v in value.items():
                        column = cells.get(f"{head}.{name}")
                        if column is None:
                            python.add(i)
                        else:
                            column[i] = _text(v)
                elif head in cells and not isinstance(value, dict):
                    cells[head][i] = _text(value)
                elif value is not None:
                    python.add(i)
            if as_of is not None:
                cells["as_of"][i] = as_of.isoformat()
        return cells, python

    def _python(self, case: Any, index: int, as_of: date | None) -> Decision | CaseError | PolicyError:
        try:
            return self.engine.evaluate(case, as_of=as_of)
        except FactsError as exc:
            return CaseError(index, tuple(exc.problems))
        except PolicyError as exc:  # raised when its case is reached, as RuleEngine.evaluate_many does
            return exc
