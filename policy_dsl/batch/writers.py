"""Outputs: the decisions (JSONL, CSV or Parquet) and the errors JSONL.

Every output is written to a temporary file in the target's directory and
moved over the target with os.replace only when the whole run has finished, so
an interrupted or crashed run never leaves a half-written payout list where a
finished one is expected. `discard()` removes the temporary file on Ctrl-C or
an error; a process killed outright (SIGKILL) can leave only a hidden
`.<name>.*.partial` file, never the target.
"""
from __future__ import annotations

import csv
import json
import os
import signal
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from .render import JsonRows, TableShape

OUTPUT_FORMATS = ("jsonl", "csv", "parquet")


class AtomicFile:
    def __init__(self, target: str, binary: bool = False, encoding: str = "utf-8") -> None:
        self.target = target
        directory = os.path.dirname(os.path.abspath(target))
        fd, self.temp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".partial", dir=directory)
        self.stream: IO = os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding=encoding, newline="")

    def commit(self) -> None:
        self.stream.flush()
        os.fsync(self.stream.fileno())
        self.stream.close()
        os.replace(self.temp, self.target)

    def discard(self) -> None:
        try:
            self.stream.close()
        finally:
            try:
                os.unlink(self.temp)
            except FileNotFoundError:
                pass


@contextmanager
def all_or_nothing() -> Iterator[list[AtomicFile]]:
    """A run's outputs (the files appended to the yielded list) appear whole or not at all: committed
    together when the block ends, discarded on any exception. `kill` (SIGTERM) stops the run as Ctrl-C
    does; the caller turns the KeyboardInterrupt into its exit status."""
    files: list[AtomicFile] = []
    previous = _on_sigterm()  # before any file exists, so that `kill` always cleans up
    try:
        yield files
        for f in files:
            f.commit()
    except BaseException:
        for f in files:
            f.discard()
        raise
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _on_sigterm():
    def interrupt(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread (an embedding program): leave signals alone
        return None


class ErrorsWriter:
    """One JSON line per bad row: {"row", "line"?, "problems": [{"column", "value", "message"}]}."""

    def __init__(self, target: str) -> None:
        self.file = AtomicFile(target)

    def write(self, number: int, line: int | None, problems) -> None:
        record: dict = {"row": number}
        if line is not None:
            record["line"] = line
        record["problems"] = [{"column": c, "value": v, "message": m} for c, v, m in problems]
        self.file.stream.write(json.dumps(record, ensure_ascii=False) + "\n")


class JsonlWriter:
    """`{"row": N, ...}` per line, the rest being what `policy eval --format json` prints for the row's case
    (with --explain, an "explain" object after it)."""

    def __init__(self, target: str, rows: JsonRows) -> None:
        self.file = AtomicFile(target, binary=True)  # UTF-8 lines, encoded by JsonRows.record
        self._write = self.file.stream.write
        self.rows = rows

    def write(self, number: int, kept: tuple, decision, reason: dict | None) -> None:
        self._write(self.rows.record(number, decision, None if reason is None else {"explain": reason}))


class CsvWriter:
    def __init__(self, target: str, shape: TableShape, encoding: str = "utf-8-sig") -> None:
        # A BOM by default: Excel, which most clerks open a payout list with, needs it to read UTF-8.
        self.file = AtomicFile(target, encoding=encoding)
        self.shape = shape
        self._writer = csv.writer(self.file.stream)
        self._writer.writerow(shape.names)

    def write(self, number: int, kept: tuple, decision, reason: dict | None) -> None:
        self._writer.writerow(self.shape.csv_cells(number, kept, decision, _joined(reason, self.shape.vocab)))


class ParquetOut:
    def __init__(self, target: str, shape: TableShape) -> None:
        from .parquet_io import ParquetWriter

        self.file = AtomicFile(target, binary=True)
        self.shape = shape
        self._writer = ParquetWriter(self.file.stream, [(c.name, c.kind) for c in shape.columns])

    def write(self, number: int, kept: tuple, decision, reason: dict | None) -> None:
        self._writer.write(self.shape.parquet_values(number, kept, decision, _joined(reason, self.shape.vocab)))

    def finish(self) -> None:
        self._writer.close()


def _joined(reason: dict | None, vocab) -> str | None:
    """One cell for the reasons of a row: a single clause's as is, several each under the clause's name."""
    if reason is None:
        return None
    if len(reason) == 1:
        return next(iter(reason.values()))
    return "；".join(f"【{vocab.clauses[cid].zh if cid in vocab.clauses else cid}】{text}" for cid, text in reason.items())


def open_writer(fmt: str, target: str, rows: JsonRows, shape: TableShape, csv_encoding: str = "utf-8-sig"):
    if fmt == "jsonl":
        return JsonlWriter(target, rows)
    if fmt == "csv":
        return CsvWriter(target, shape, csv_encoding)
    return ParquetOut(target, shape)


def default_output(input_path: str, fmt: str) -> str:
    p = Path(input_path)
    return str(p.with_name(f"{p.stem}.decisions.{fmt}"))
