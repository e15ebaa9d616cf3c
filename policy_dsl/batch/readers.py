"""Registers in: CSV, JSONL or Parquet, told apart by the file's extension.

Each reader checks the header first (columns.read_header) and then yields one
`Row` per data row, lazily, so a register of any length streams through in
bounded memory. A row carries either a case for the engine (nested by subject,
values typed by the vocabulary; an empty cell is simply absent, i.e. unknown) or
the problems that keep it from being evaluated. Rows are never dropped.
"""
from __future__ import annotations

import codecs
import csv
import io
import json
import os
import re
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Iterator

from ..errors import UsageError
from ..vocabulary import Vocabulary
from .cells import CellError
from .columns import Header, read_header

# (column or fact path, the cell as written, message)
Problem = tuple[str, str, str]

FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".pq": "parquet"}
_UNDECODABLE = re.compile("[\udc80-\udcff]")  # bytes the codec could not read, kept by surrogateescape


@dataclass(slots=True)
class Row:
    number: int                       # 1-based data row (CSV/Parquet: header excluded; JSONL: line)
    case: dict | None                 # None when the row has problems
    problems: list[Problem] = field(default_factory=list)
    kept: tuple = ()                  # the --keep columns, as read
    line: int | None = None           # CSV: physical line where the record starts


class Reader:
    """Common shape: `header` (None for JSONL), `rows()`, and `progress()` as (done, total)."""

    header: Header | None = None
    unit = "bytes"

    def rows(self) -> Iterator[Row]:  # pragma: no cover - interface
        raise NotImplementedError

    def progress(self) -> tuple[int, int]:  # pragma: no cover - interface
        raise NotImplementedError

    def close(self) -> None:
        pass


def input_format(path: str) -> str:
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise UsageError(f"无法从扩展名判断输入格式：{path}",
                         hint="输入文件应以 .csv、.jsonl（或 .ndjson）、.parquet 结尾")
    return fmt


def open_reader(path: str, vocab: Vocabulary, *, encoding: str = "utf-8", keep: tuple[str, ...] = ()) -> Reader:
    fmt = input_format(path)
    if not os.path.isfile(path):
        raise UsageError(f"找不到输入文件 {path}")
    if fmt == "csv":
        return CsvReader(path, vocab, _codec(encoding), keep)
    if fmt == "jsonl":
        if keep:
            raise UsageError("--keep 只用于 CSV / Parquet 输入（JSONL 的每行是完整的事实对象）")
        return JsonlReader(path, _codec(encoding))
    from .parquet_io import ParquetReader

    return ParquetReader(path, vocab, keep)


def _codec(encoding: str) -> str:
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        raise UsageError(f"未知的文字编码 {encoding}", hint="常用：utf-8（默认，可带 BOM）、gb18030（兼容 GBK/GB2312）") from None
    return "utf-8-sig" if name in ("utf-8", "utf-8-sig") else name  # a BOM is not part of the first column name


def _undecodable_message(encoding: str) -> str:
    hint = "；文件若由 GBK/GB2312 系统导出，请加 --encoding gb18030" if encoding.startswith("utf") else ""
    shown = "utf-8" if encoding == "utf-8-sig" else encoding
    return f"含有无法按 {shown} 解读的字节" + hint


def typed_row(number: int, cells: list, header: Header, kept_index: tuple[int, ...],
              line: int | None = None, undecodable: str | None = None) -> Row:
    """Type every non-empty cell of one row; collect every problem of the row."""
    case: dict = {}
    problems: list[Problem] = []
    for index, name, subject, fact, parse in header.plan:
        cell = cells[index]
        if cell is None:
            continue
        if cell.__class__ is str:
            cell = cell.strip()
            if not cell:
                continue
            if undecodable and _UNDECODABLE.search(cell):
                problems.append((name, cell.encode("utf-8", "replace").decode(), undecodable))
                continue
        try:
            value = parse(cell)
        except CellError as exc:
            problems.append((name, cell if isinstance(cell, str) else _text(cell), str(exc)))
            continue
        if subject is None:
            case[fact] = value
        else:
            sub = case.get(subject)
            if sub is None:
                case[subject] = {fact: value}
            else:
                sub[fact] = value
    kept = tuple(_text(cells[i]) for i in kept_index) if kept_index else ()
    if undecodable:
        for i, value in zip(kept_index, kept):
            if _UNDECODABLE.search(value):
                problems.append((header.columns[i].name, value.encode("utf-8", "replace").decode(), undecodable))
    return Row(number, None if problems else case, problems, kept, line)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str)


class CsvReader(Reader):
    def __init__(self, path: str, vocab: Vocabulary, encoding: str, keep: tuple[str, ...]) -> None:
        self.path, self.encoding = path, encoding
        self.size = os.path.getsize(path)
        self._raw = open(path, "rb")
        self._text = io.TextIOWrapper(self._raw, encoding=encoding, errors="surrogateescape", newline="")
        self._csv = csv.reader(self._text)
        try:
            names = next(self._csv)
        except StopIteration:
            self.close()
            raise UsageError(f"{path}: 文件是空的，没有表头") from None
        except csv.Error as exc:
            self.close()
            raise UsageError(f"{path}: 表头无法按 CSV 读取：{exc}") from None
        if any(_UNDECODABLE.search(n) for n in names):
            self.close()
            raise UsageError(f"{path}: 表头{_undecodable_message(encoding)}")
        try:
            self.header = read_header(names, vocab, keep, path)
        except UsageError:
            self.close()
            raise
        index = {c.name: c.index for c in self.header.columns}
        self._kept = tuple(index[k] for k in keep)

    def progress(self) -> tuple[int, int]:
        return self._raw.tell(), self.size

    def rows(self) -> Iterator[Row]:
        header, width = self.header, len(self.header.columns)  # type: ignore[union-attr]
        assert header is not None
        undecodable = _undecodable_message(self.encoding)
        number = 0
        reader = self._csv
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                number += 1
                yield Row(number, None, [("", "", f"该行无法按 CSV 读取：{exc}")], line=start)
                continue
            number += 1
            if len(cells) != width:
                yield Row(number, None, [("", "", _width_message(cells, width, start, reader.line_num))], line=start)
                continue
            joined = "".join(cells)
            bad = undecodable if not joined.isascii() and _UNDECODABLE.search(joined) else None
            yield typed_row(number, cells, header, self._kept, start, bad)

    def close(self) -> None:
        self._raw.close()


def _width_message(cells: list[str], width: int, start: int, end: int) -> str:
    if not cells:
        return "空行，没有任何数据"
    where = f"（第 {start}–{end} 行被读成一条记录，可能有未闭合的引号）" if end > start else ""
    return f"该行有 {len(cells)} 个单元格，表头有 {width} 列{where}"


class JsonlReader(Reader):
    """One nested case per line, exactly as a `policy eval` facts file; numbers read as Decimal."""

    def __init__(self, path: str, encoding: str) -> None:
        self.path, self.encoding = path, encoding
        self.size = os.path.getsize(path)
        self._raw = open(path, "rb")

    def progress(self) -> tuple[int, int]:
        return self._raw.tell(), self.size

    def rows(self) -> Iterator[Row]:
        for number, raw in enumerate(self._raw, start=1):
            try:
                text = raw.decode(self.encoding)
            except UnicodeDecodeError:
                yield Row(number, None, [("", "", _undecodable_message(self.encoding))], line=number)
                continue
            text = text.strip()
            if not text:
                yield Row(number, None, [("", "", "空行，没有任何数据")], line=number)
                continue
            try:
                case = json.loads(text, parse_float=Decimal)
            except json.JSONDecodeError as exc:
                yield Row(number, None, [("", _clip(text), f"JSON 格式错误（第 {exc.colno} 个字符）：{exc.msg}")],
                          line=number)
                continue
            if not isinstance(case, dict):
                yield Row(number, None, [("", _clip(text), "每行应是一个 JSON 对象（一个案例的事实）")], line=number)
                continue
            yield Row(number, case, line=number)

    def close(self) -> None:
        self._raw.close()


def _clip(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
