"""YAML in, with positions: a SafeLoader subclass that keeps line and column
of every key and string, rejects duplicate keys, and reads numbers with a
fraction as exact Decimals (never binary float).
"""
from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from .errors import RuleFileError
from .source import Source, Span


class PosStr(str):
    """A string scalar that knows where its text starts in the file."""

    span: Span
    style: str | None

    def text_origin(self) -> tuple[int, int]:
        """(line, column) of the first character of the value's text."""
        return self.span.line, self.span.column


class PosDict(dict):
    """A mapping that knows where it and each of its keys are."""

    span: Span
    key_spans: dict[str, Span]

    def key_span(self, key: str) -> Span:
        return self.key_spans.get(key, self.span)


class PosList(list):
    span: Span


class _Loader(yaml.SafeLoader):
    source: Source


def _span(loader: _Loader, node: yaml.Node) -> Span:
    s, e = node.start_mark, node.end_mark
    return Span(s.line + 1, s.column + 1, e.line + 1, e.column + 1, loader.source)


def _construct_str(loader: _Loader, node: yaml.ScalarNode) -> PosStr:
    value = PosStr(loader.construct_scalar(node))
    line, col = node.start_mark.line + 1, node.start_mark.column + 1
    if node.style in ('"', "'"):
        col += 1
    elif node.style in ("|", ">"):
        # Block scalars start on the next line, at that line's indentation.
        line += 1
        text = loader.source.line(line)
        col = len(text) - len(text.lstrip()) + 1
    value.span = Span(line, col, node.end_mark.line + 1, node.end_mark.column + 1, loader.source)
    value.style = node.style
    return value


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "")
    try:
        return Decimal(text)
    except ArithmeticError:
        raise RuleFileError(f"无法读作数字 not a number: {text}", _span(loader, node)) from None


_DECIMAL_INT = re.compile(r"[-+]?(0|[1-9][0-9_]*)")


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> object:
    """Plain decimal integers only. YAML 1.1 reads 010 as 8, 0x10 as 16 and 1:40 as 100;
    such a scalar stays the text that was written, so it is reported as a wrong type."""
    text = str(loader.construct_scalar(node))
    if _DECIMAL_INT.fullmatch(text):
        return int(text.replace("_", ""))
    return _construct_str(loader, node)


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> object:
    try:
        return yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except ValueError:
        raise RuleFileError(f"不存在的日期 invalid date: {node.value}", _span(loader, node),
                            expected="YYYY-MM-DD 的有效日期，如 2021-12-31") from None


def _construct_mapping(loader: _Loader, node: yaml.MappingNode, deep: bool = False) -> PosDict:
    loader.flatten_mapping(node)
    result = PosDict()
    result.span = _span(loader, node)
    result.key_spans = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, (str, int)):
            raise RuleFileError("键必须是文字 a key must be text", _span(loader, key_node))
        key = str(key)
        if key in result:
            raise RuleFileError(f"重复的键 {key!r} duplicate key", _span(loader, key_node),
                                hint="同一层级的键只能出现一次；YAML 会悄悄丢掉前一个，因此这里直接报错",
                                related=result.key_spans[key])
        result.key_spans[key] = _span(loader, key_node)
        result[key] = loader.construct_object(value_node, deep=True)
    return result


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> PosList:
    result = PosList(loader.construct_object(child, deep=True) for child in node.value)
    result.span = _span(loader, node)
    return result


_Loader.add_constructor("tag:yaml.org,2002:str", _construct_str)
_Loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
_Loader.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
_Loader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def load_text(text: str, name: str) -> Any:
    """Parse YAML text; errors name file:line:column."""
    source = Source(name, text)
    loader = _Loader(text)
    loader.source = source
    try:
        return loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        span = _mark_span(exc.problem_mark or exc.context_mark, source)
        opened = _mark_span(exc.context_mark, source) if exc.context_mark and exc.problem_mark else None
        hint = f"YAML: {exc.context}，开始于 {opened.location()}；检查那里的括号或引号是否闭合" if opened else None
        raise RuleFileError(f"YAML 格式错误 malformed YAML: {exc.problem or exc.context}", span, hint=hint,
                            related=opened) from None
    finally:
        loader.dispose()


def _mark_span(mark, source: Source) -> Span | None:
    if mark is None:
        return None
    line, column = mark.line + 1, mark.column + 1
    lines = source.text.splitlines()
    if line > len(lines) and lines:  # the end of the file: show the last line
        line, column = len(lines), len(lines[-1]) + 1
    return Span(line, column, line, column + 1, source)


def load_file(path: str | Path) -> Any:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise RuleFileError(f"无法读取文件 cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise RuleFileError(f"文件不是 UTF-8 编码 not UTF-8: {path}") from None
    return load_text(text, str(path))


def plain(value: Any, dates_as_text: bool = False) -> Any:
    """Strip position wrappers; with dates_as_text, also turn dates into ISO text, so a JSON
    Schema sees what a JSON file would carry (Decimals stay numbers)."""
    if isinstance(value, dict):
        return {str(k): plain(v, dates_as_text) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v, dates_as_text) for v in value]
    if isinstance(value, PosStr):
        return str(value)
    if dates_as_text and isinstance(value, date):
        return value.isoformat()
    return value
