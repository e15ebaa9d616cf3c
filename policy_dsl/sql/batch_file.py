"""`policy batch SET register.csv --engine duckdb` without a Python object per row.

DuckDB reads the CSV itself, the compiled query evaluates every row, and each
JSONL line — the very text the python engine writes, `{"row": N, ...}` — is built
in SQL (json_sql.py) and streamed to the output file as Arrow string buffers. The
summary is counted with SQL aggregates. Python sees only the rows it must decide
itself, found in SQL: a cell SQL does not take exactly as the batch reader would
(another spelling, a set or member list, a value outside the vocabulary's
min/max), a row the query flags `_recheck`, or a list-element path in a missing
list. Those rows go through the batch reader's own cell parser and the Python
engine, so their output lines, errors and summary counts are the python engine's.

Anything unusual about the file (another encoding, a quoted line break, a short
row, an empty line) or the run (--explain, CSV/Parquet output) returns None and
the command takes the general path, which reads rows in Python.
"""
from __future__ import annotations

from datetime import date
from typing import Any

from ..engine import RuleEngine
from ..errors import PolicyError
from .columns import _q, _s, column_type
from .duckdb_run import SqlEngine, compile_sql
from .json_sql import JsonSql

BATCH_ROWS = 16384  # Arrow batch size when streaming lines out


def _line_count(path: str) -> int:
    """Physical lines of the file (a last line without a newline counts)."""
    count, last = 0, b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (0 if last == b"\n" else 1)


def _typed(column: str, spec) -> tuple[str, str]:
    """(typed value, test that the batch reader reads the cell as exactly this value) — a subset of
    what batch/cells.py accepts; any other spelling is left to the reader."""
    c, t = _q(column), spec.type
    k = t.kind
    if k == "bool":
        value = f"CASE WHEN {c} IN ('true', 'TRUE', 'True', '1', '是') THEN TRUE " \
                f"WHEN {c} IN ('false', 'FALSE', 'False', '0', '否') THEN FALSE END"
        ok = f"{value} IS NOT NULL"
    elif k in ("int", "money", "decimal", "rate", "date"):
        pattern, sql_type = {
            "int": (r"-?[0-9]{1,18}", "BIGINT"), "money": (r"-?[0-9]{1,14}(\.[0-9]{1,4})?", "DECIMAL(18, 4)"),
            "decimal": (r"-?[0-9]{1,12}(\.[0-9]{1,6})?", "DECIMAL(18, 6)"),
            "rate": (r"-?[0-9]{1,12}(\.[0-9]{1,6})?", "DECIMAL(18, 6)"), "date": (r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "DATE"),
        }[k]
        value = f"TRY_CAST({c} AS {sql_type})"
        ok = f"regexp_full_match({c}, {_s(pattern)}) AND {value} IS NOT NULL"
        if k == "date":
            ok += f" AND year({value}) BETWEEN 1 AND 9999"
        for bound, op in ((spec.minimum, ">="), (spec.maximum, "<=")):
            if bound is not None:
                literal = f"DATE {_s(bound.isoformat())}" if isinstance(bound, date) else _s(str(bound))
                ok += f" AND {value} {op} CAST({literal} AS {sql_type})"
    elif k == "enum":
        value = c
        ok = f"{c} IN ({', '.join(_s(v) for v in t.values)})" if t.values else "FALSE"
    elif k == "string":
        value = c
        ok = f"NOT regexp_matches({c}, '^\\s|\\s$')"
    else:  # sets and member lists: the reader's spellings (a;b, JSON objects) are its own
        return "NULL", "FALSE"
    return value, ok


def _facts_view(header, vocab, as_of: date | None) -> str:
    by_path = {col.path: f"c{col.index}" for col in header.facts}
    select, invalid = ["rowid AS _row"], []
    for path, spec in vocab.facts.items():
        if path == "as_of" and as_of is not None:
            select.append(f"DATE {_s(as_of.isoformat())} AS as_of")
            continue
        column = by_path.get(path)
        if column is None:
            select.append(f"CAST(NULL AS {column_type(spec.type)}) AS {_q(path)}")
            continue
        value, ok = _typed(column, spec)
        present = f"nullif(trim({_q(column)}), '') IS NOT NULL"
        select.append(f"CASE WHEN {present} THEN CAST({value} AS {column_type(spec.type)}) END AS {_q(path)}")
        invalid.append(f"({present} AND NOT coalesce({ok}, FALSE))")
    select.append(f"({' OR '.join(invalid) or 'FALSE'}) AS _invalid")
    return "CREATE VIEW facts AS SELECT " + ",\n  ".join(select) + " FROM raw0"


def run_file(args, engine: RuleEngine, reader, fmt: str, out: str, errors_path: str) -> int | None:
    """The batch run over a CSV register on DuckDB; None when the general path must run it."""
    from ..batch.readers import CsvReader

    if fmt != "jsonl" or args.explain or not isinstance(reader, CsvReader) or reader.encoding != "utf-8-sig":
        return None
    import duckdb

    sql_engine = compile_sql(engine)
    json_sql = JsonSql(engine, sql_engine.plan)
    if not json_sql.supported:
        return None
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")  # stderr is the batch command's: its own bar, or nothing
    try:
        return _read_and_run(con, args, engine, sql_engine, json_sql, reader, out, errors_path)
    except (KeyboardInterrupt, duckdb.InterruptException, RuntimeError) as exc:  # outputs already discarded
        if isinstance(exc, RuntimeError) and not interrupted(exc):
            raise
        import sys

        from ..batch.command import INTERRUPTED

        print(INTERRUPTED, file=sys.stderr)
        return 130
    finally:
        con.close()


def interrupted(exc: BaseException) -> bool:
    """Whether DuckDB stopped a query for Ctrl-C (or `kill`): its Python client reports the signal as
    a plain RuntimeError with this text, not as KeyboardInterrupt."""
    return isinstance(exc, RuntimeError) and str(exc) == "Query interrupted"


def _read_and_run(con, args, engine: RuleEngine, sql_engine: SqlEngine, json_sql: JsonSql, reader,
                  out: str, errors_path: str) -> int | None:
    import duckdb

    header = reader.header
    names = {f"c{i}": "VARCHAR" for i in range(len(header.columns))}
    columns = "{" + ", ".join(f"{_s(n)}: 'VARCHAR'" for n in names) + "}"
    try:
        con.execute(f"CREATE TABLE raw0 AS SELECT * FROM read_csv({_s(args.input)}, header = true, "
                    f"auto_detect = false, delim = ',', quote = '\"', escape = '\"', columns = {columns}, "
                    f"strict_mode = true, null_padding = false)")
    except duckdb.InterruptException:
        raise
    except duckdb.Error:
        return None  # the reader reports what DuckDB did not read (short rows, bad bytes …)
    rows = con.execute("SELECT count(*) FROM raw0").fetchall()[0][0]
    if rows != _line_count(args.input) - 1:
        return None  # quoted line breaks or empty lines: line numbers are the reader's to count
    con.execute(_facts_view(header, engine.vocab, args.as_of))
    return _evaluate(con, args, engine, sql_engine, json_sql, reader, out, errors_path)


def _evaluate(con, args, engine: RuleEngine, sql_engine: SqlEngine, json_sql: JsonSql, reader,
              out: str, errors_path: str) -> int:
    from ..batch.command import INTERRUPTED, chosen_clauses
    from ..batch.writers import all_or_nothing
    from ..batch.readers import typed_row
    from ..batch.render import JsonRows
    from ..batch.summary import Summary
    from ..batch.writers import AtomicFile, ErrorsWriter
    import sys

    header = reader.header
    table = chosen_clauses(engine, args.clause, header.subjects)
    json_clauses = table if args.clause else tuple(engine.rule_set.clauses)
    con.execute(f"CREATE TABLE res0 AS {sql_engine.duckdb_sql}")
    json_sql.attach_python(con, sql_engine, "res0", "res")
    # Rows the Python engine decides, with their cells as the reader reads them.
    handed = con.execute("SELECT r.rowid, r.* FROM raw0 r JOIN (SELECT _row FROM res WHERE _py) p "
                         "ON r.rowid = p._row ORDER BY r.rowid").fetchall()
    kept_index = tuple(c.index for k in args.keep for c in header.columns if c.name == k)
    rows_out = JsonRows(engine, json_clauses)
    summary = Summary(engine, table)
    json_sql.count(con, summary, table)
    python: dict[int, tuple] = {}
    for raw in handed:
        index, cells = raw[0], list(raw[1:])
        row = typed_row(index + 1, cells, header, kept_index, index + 2)
        python[index] = (row, _decide(engine, row, args.as_of))
    try:
        with all_or_nothing() as files:
            target = AtomicFile(out, binary=True)
            files.append(target)
            errors = ErrorsWriter(errors_path)
            files.append(errors.file)
            json_sql.fold(con, "res", json_clauses)
            stream = con.sql(f"SELECT _row, CASE WHEN NOT _py THEN {json_sql.line(json_clauses)} END AS line "
                             f"FROM res").to_arrow_reader(BATCH_ROWS)
            behind = WriteBehind(target.stream)
            write = behind.write
            try:
                _write_lines(stream, write, python, rows_out, errors, summary)
            finally:
                behind.close()  # every line written (or the writing error raised) before the files are committed
    except KeyboardInterrupt:
        print(INTERRUPTED, file=sys.stderr)
        return 130
    print(summary.text(set_name=engine.name, source=args.input, out=out, errors_path=errors_path))
    return 1 if summary.errors else 0


def _write_lines(stream, write, python: dict, rows_out, errors, summary) -> None:
    """The SQL-built lines, batch by batch, with the lines of the rows Python decided put in their places."""
    from ..batch.command import wrote_problems

    for batch in stream:
        first = batch.column(0)[0].as_py() if batch.num_rows else 0
        data, offsets = _buffers(batch.column(1))
        start = 0
        for index in (i for i in sorted(python) if first <= i < first + batch.num_rows):
            k = index - first
            write(data[offsets[start]:offsets[k]])
            row, result = python.pop(index)
            if not wrote_problems(errors, summary, row, result):
                write((rows_out.line(row.number, result) + "\n").encode("utf-8"))
                summary.add(result)
            start = k + 1
        write(data[offsets[start]:offsets[batch.num_rows]])


class WriteBehind:
    """Writes to `stream` on a thread of its own, so that the disk takes one batch of lines while
    DuckDB builds the next (both release the GIL). At most `depth` pieces wait (bounded memory);
    an error in writing is raised in the caller, at its next write or at close()."""

    def __init__(self, stream, depth: int = 4) -> None:
        import queue
        import threading

        self.pieces: "queue.Queue" = queue.Queue(depth)
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(stream.write,), name="jsonl-writer", daemon=True)
        self.thread.start()

    def _run(self, write) -> None:
        while (piece := self.pieces.get()) is not None:
            if self.error is None:
                try:
                    write(piece)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                    self.error = exc

    def write(self, piece) -> None:
        if self.error is not None:
            raise self.error
        self.pieces.put(piece)

    def close(self) -> None:
        self.pieces.put(None)
        self.thread.join()
        if self.error is not None:
            raise self.error


def _buffers(lines) -> tuple[memoryview, Any]:
    """The UTF-8 bytes of a string column and its offsets (a NULL line is empty), without a copy."""
    import pyarrow as pa

    _, offsets_buf, data_buf = lines.buffers()
    width = "q" if isinstance(lines, pa.LargeStringArray) else "i"
    offsets = memoryview(offsets_buf).cast(width)[lines.offset:lines.offset + len(lines) + 1]
    return (memoryview(data_buf) if data_buf is not None else memoryview(b"")), offsets


def _decide(engine: RuleEngine, row, as_of) -> Any:
    """What the python engine's batch run makes of one row: None (the row's own problems), a Decision,
    a CaseError (bad facts), or Failed (an evaluation error)."""
    from ..batch.command import Failed

    if row.case is None:
        return None
    try:
        return next(iter(engine.evaluate_many([row.case], as_of=as_of)))
    except PolicyError as exc:  # as the general path reports an evaluation error
        return Failed((("", exc.render()),))
