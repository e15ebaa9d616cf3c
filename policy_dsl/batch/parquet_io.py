"""Parquet in and out, through pyarrow, a batch of rows at a time.

In: columns are fact paths; decimal columns arrive as Decimal, dates as date,
lists as lists; a float column for a money or decimal fact is read through the
shortest text of each value and rejected where that text has more than 15
significant digits (cells.FLOAT_SAFE_DIGITS). Out: typed columns, money as
decimal128(38, 2); decimals and rates as their exact text (a fixed-scale decimal
column could not hold every exact quotient, such as a layoff rate of 1/3).
"""
from __future__ import annotations

from typing import Iterator

from ..errors import UsageError
from ..vocabulary import Vocabulary
from .readers import Reader, Row, typed_row

BATCH_ROWS = 8192


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:  # pragma: no cover - a dependency of the package
        raise UsageError("读写 Parquet 需要 pyarrow：pip install pyarrow") from None
    return pa, pq


class ParquetReader(Reader):
    unit = "rows"

    def __init__(self, path: str, vocab: Vocabulary, keep: tuple[str, ...]) -> None:
        from .columns import read_header

        pa, pq = _pyarrow()
        self.path = path
        try:
            self._file = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise UsageError(f"{path}: 不是可读的 Parquet 文件：{exc}") from None
        self.total = self._file.metadata.num_rows
        self.done = 0
        self.header = read_header(list(self._file.schema_arrow.names), vocab, keep, path)
        index = {c.name: c.index for c in self.header.columns}
        self._kept = tuple(index[k] for k in keep)

    def progress(self) -> tuple[int, int]:
        return self.done, self.total

    def rows(self) -> Iterator[Row]:
        pa, _ = _pyarrow()
        header = self.header
        assert header is not None
        number = 0
        batches = self._file.iter_batches(batch_size=BATCH_ROWS)
        while True:
            try:
                batch = next(batches)
            except StopIteration:
                return
            except pa.ArrowException as exc:
                raise UsageError(f"{self.path}: 第 {number + 1} 行起的数据无法读取（文件损坏？）：{exc}") from None
            columns = [col.to_pylist() for col in batch.columns]
            for cells in zip(*columns):
                number += 1
                yield typed_row(number, list(cells), header, self._kept)
            self.done = number


def _arrow_type(kind: str):
    pa, _ = _pyarrow()
    return {"bool": pa.bool_(), "int": pa.int64(), "money": pa.decimal128(38, 2), "date": pa.date32()}.get(
        kind, pa.string())


class ParquetWriter:
    """Rows of plain Python values (tabular.TableShape decides them), written a batch at a time."""

    def __init__(self, stream, fields: list[tuple[str, str]]) -> None:
        pa, pq = _pyarrow()
        self._pa = pa
        arrow_fields = []
        for name, kind in fields:
            if kind == "list":
                arrow_fields.append(pa.field(name, pa.list_(pa.string())))
            else:
                arrow_fields.append(pa.field(name, _arrow_type(kind)))
        self.schema = pa.schema(arrow_fields)
        self._writer = pq.ParquetWriter(stream, self.schema)
        self._pending: list[list] = [[] for _ in fields]
        self._count = 0

    def write(self, values: list) -> None:
        for column, value in zip(self._pending, values):
            column.append(value)
        self._count += 1
        if self._count >= BATCH_ROWS:
            self.flush()

    def flush(self) -> None:
        if self._count:
            arrays = [self._pa.array(col, type=f.type) for col, f in zip(self._pending, self.schema)]
            self._writer.write_batch(self._pa.RecordBatch.from_arrays(arrays, schema=self.schema))
            self._pending = [[] for _ in self._pending]
            self._count = 0

    def close(self) -> None:
        self.flush()
        self._writer.close()


def read_table_rows(path: str) -> list[dict]:
    """A whole (small) Parquet file as dicts: for tests and docs, not for registers."""
    _, pq = _pyarrow()
    return pq.read_table(path).to_pylist()
