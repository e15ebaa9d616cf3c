"""YAML in, with positions: a SafeLoader subclass that keeps line and column
of every key and string, rejects duplicate keys, and reads numbers with a
fraction as exact Decimals (never binary float).

Every YAML the tool reads (rule files, manifests, facts, test files, diff cases)
goes through here, so the limits hold at every door: file size, nesting depth,
alias expansion (a "billion laughs" file is refused while it is composed, long
before it is built), number length, and characters YAML forbids (NUL, BEL …).
"""
from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from .errors import PolicyLimitError, RuleFileError
from .source import Source, Span
from .values import number_problem

# Limits (docs/security.md). A rule file, a test file or a case file is a few kB;
# these leave two orders of magnitude of room and still bound time and memory.
MAX_FILE_BYTES = 2_000_000   # any YAML or JSON file read by the tool
MAX_DEPTH = 64               # nested mappings/lists
MAX_NODES = 200_000          # scalars, mappings and lists, every alias counted as the whole thing it repeats


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


class _Limits(yaml.composer.Composer):
    """The composer with the limits; the events come from libyaml's C parser when PyYAML has
    it (about 4x faster on rule files), else from PyYAML's own."""

    source: Source
    _depth = 0
    _sizes: dict

    def compose_node(self, parent, index):  # type: ignore[override]
        # Depth and expanded size are counted while composing: an alias costs the size of
        # the node it repeats, so a nested alias bomb is refused before anything is built.
        if self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark
            node = super().compose_node(parent, index)
            self._count(self._sizes.get(id(node), 1), mark)
            return node
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise _LimitHit(f"嵌套过深：超过 {MAX_DEPTH} 层 nested more than {MAX_DEPTH} levels",
                            self.peek_event().start_mark)
        try:
            node = super().compose_node(parent, index)
        finally:
            self._depth -= 1
        if isinstance(node, yaml.ScalarNode):
            size = 1
        elif isinstance(node, yaml.SequenceNode):
            size = 1 + sum(self._sizes.get(id(c), 1) for c in node.value)
        else:
            size = 1 + sum(self._sizes.get(id(k), 1) + self._sizes.get(id(v), 1) for k, v in node.value)
        self._sizes[id(node)] = size
        if size > MAX_NODES:
            raise _LimitHit(f"内容过大：展开后超过 {MAX_NODES} 个值（含别名 *alias 的重复） more than {MAX_NODES} values "
                            "after expanding aliases", node.start_mark)
        return node

    def _count(self, size: int, mark) -> None:
        self._aliases = getattr(self, "_aliases", 0) + size
        if self._aliases > MAX_NODES:
            raise _LimitHit(f"别名展开过多：超过 {MAX_NODES} 个值 aliases expand to more than {MAX_NODES} values", mark)


class _Loader(_Limits, yaml.SafeLoader):
    """PyYAML's own parser: the reference, and what reports a malformed file (its messages and
    positions are the ones documented and tested)."""


if getattr(yaml, "__with_libyaml__", False):
    class _FastLoader(_Limits, yaml._yaml.CParser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):  # type: ignore[misc]
        """The same composer and constructors over libyaml's C parser: about 4x faster on rule files.
        Any error it meets sends the text to _Loader, which reports it."""

        def __init__(self, stream: str) -> None:
            yaml._yaml.CParser.__init__(self, stream)
            yaml.composer.Composer.__init__(self)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
else:  # pragma: no cover - PyYAML built without libyaml
    _FastLoader = None  # type: ignore[assignment,misc]


class _LimitHit(Exception):
    def __init__(self, message: str, mark) -> None:
        super().__init__(message)
        self.message, self.mark = message, mark


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
    value.style = node.style or None  # plain: None (libyaml says "")
    return value


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> Decimal:
    text = str(loader.construct_scalar(node)).replace("_", "")
    if text.lower().lstrip("+-") in (".nan", ".inf"):
        raise RuleFileError(f"不是有限的数 not a finite number: {text}", _span(loader, node))
    try:
        value = Decimal(text)
    except ArithmeticError:
        raise RuleFileError(f"无法读作数字 not a number: {text}", _span(loader, node)) from None
    return _checked_number(loader, node, value)


def _checked_number(loader: _Loader, node: yaml.ScalarNode, value):
    problem = number_problem(value)
    if problem:
        raise PolicyLimitError(problem, _span(loader, node), found=str(node.value))
    return value


_DECIMAL_INT = re.compile(r"[-+]?(0|[1-9][0-9_]*)")


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> object:
    """Plain decimal integers only. YAML 1.1 reads 010 as 8, 0x10 as 16 and 1:40 as 100;
    such a scalar stays the text that was written, so it is reported as a wrong type."""
    text = str(loader.construct_scalar(node))
    if _DECIMAL_INT.fullmatch(text):
        digits = text.replace("_", "").lstrip("+-")
        if len(digits) > 40:  # before int(): Python refuses (slowly) to convert very long digit strings
            raise PolicyLimitError(f"数字过长：{len(digits)} 位 number too long", _span(loader, node))
        return _checked_number(loader, node, int(text.replace("_", "")))
    return _construct_str(loader, node)


def _construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> object:
    try:
        value = yaml.SafeLoader.construct_yaml_timestamp(loader, node)
    except (ValueError, OverflowError):
        raise RuleFileError(f"不存在的日期 invalid date: {node.value}", _span(loader, node),
                            expected="YYYY-MM-DD 的有效日期，如 2021-12-31") from None
    if isinstance(value, datetime):  # the language has dates only; a time would not compare with them
        raise RuleFileError(f"只能写日期，不能带时间 a date without a time: {node.value}", _span(loader, node),
                            expected="YYYY-MM-DD，如 2021-12-31")
    return value


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


for _cls in (_Loader, _FastLoader):
    if _cls is not None:
        _cls.add_constructor("tag:yaml.org,2002:str", _construct_str)
        _cls.add_constructor("tag:yaml.org,2002:float", _construct_float)
        _cls.add_constructor("tag:yaml.org,2002:int", _construct_int)
        _cls.add_constructor("tag:yaml.org,2002:timestamp", _construct_timestamp)
        _cls.add_constructor("tag:yaml.org,2002:map", _construct_mapping)
        _cls.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def load_text(text: str, name: str) -> Any:
    """Parse YAML text; errors name file:line:column."""
    source = Source(name, text)
    if _FastLoader is not None:
        try:
            return _compose_and_build(_FastLoader(text), source)
        except (yaml.YAMLError, _LimitHit):
            pass  # reported below, by PyYAML's own parser
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (NUL, BEL, …)
        raise _reader_error(exc, source) from None
    try:
        return _compose_and_build(loader, source)
    except _LimitHit as exc:
        raise PolicyLimitError(exc.message, _mark_span(exc.mark, source)) from None
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, source) from None
    except yaml.MarkedYAMLError as exc:
        span = _mark_span(exc.problem_mark or exc.context_mark, source)
        opened = _mark_span(exc.context_mark, source) if exc.context_mark and exc.problem_mark else None
        hint = f"YAML: {exc.context}，开始于 {opened.location()}；检查那里的括号或引号是否闭合" if opened else None
        raise RuleFileError(f"YAML 格式错误 malformed YAML: {exc.problem or exc.context}", span, hint=hint,
                            related=opened) from None


def _compose_and_build(loader: _Limits, source: Source) -> Any:
    loader.source = source
    loader._sizes = {}
    try:
        return loader.get_single_data()  # type: ignore[attr-defined]
    finally:
        loader.dispose()  # type: ignore[attr-defined]


def _reader_error(exc: yaml.reader.ReaderError, source: Source) -> RuleFileError:
    before = source.text[: exc.position]
    line = before.count("\n") + 1
    column = exc.position - (before.rfind("\n") + 1) + 1
    char = exc.character if isinstance(exc.character, str) else chr(exc.character)
    return RuleFileError(f"文件中有不允许的控制字符 U+{ord(char):04X} control character not allowed",
                         Span(line, column, line, column + 1, source), found=f"U+{ord(char):04X}",
                         hint="删除该字符；需要时在双引号字符串中写转义")


def _mark_span(mark, source: Source) -> Span | None:
    if mark is None:
        return None
    line, column = mark.line + 1, mark.column + 1
    lines = source.text.splitlines()
    if line > len(lines) and lines:  # the end of the file: show the last line
        line, column = len(lines), len(lines[-1]) + 1
    return Span(line, column, line, column + 1, source)


def read_limited(path: str | Path, limit: int = MAX_FILE_BYTES, error: type = RuleFileError,
                 what: tuple[str, str] = ("文件", "")) -> str:
    """A regular file's text, UTF-8, at most `limit` bytes (devices, FIFOs and directories refused)."""
    path = Path(path)
    zh, en = what
    head = f"无法读取{zh} cannot read {en + ' ' if en else ''}{path}"
    try:
        if path.exists() and not path.is_file():
            raise error(f"{head}: {'是目录 a directory' if path.is_dir() else '不是普通文件 not a regular file'}")
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise error(f"{head}: {exc.strerror}") from None
    return decode_limited(data, str(path), limit, error)


def decode_limited(data: bytes, name: str, limit: int = MAX_FILE_BYTES, error: type = RuleFileError) -> str:
    if len(data) > limit:
        raise PolicyLimitError(f"{name}: 文件过大，超过 {limit} 字节 file larger than {limit} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(f"{name}:{line}: 文件不是 UTF-8 编码 not UTF-8（第 {exc.start} 字节 byte {exc.start}）") from None


def load_file(path: str | Path) -> Any:
    return load_text(read_limited(path), str(path))


def plain(value: Any, dates_as_text: bool = False, _depth: int = 0) -> Any:
    """Strip position wrappers; with dates_as_text, also turn dates into ISO text, so a JSON
    Schema sees what a JSON file would carry (Decimals stay numbers). Data nested deeper than
    MAX_DEPTH (possible through the API, where no file limit applied) is a limit error."""
    if isinstance(value, (dict, list)) and _depth >= MAX_DEPTH:
        raise PolicyLimitError(f"嵌套过深：超过 {MAX_DEPTH} 层 nested more than {MAX_DEPTH} levels")
    if isinstance(value, dict):
        return {str(k): plain(v, dates_as_text, _depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v, dates_as_text, _depth + 1) for v in value]
    if isinstance(value, PosStr):
        return str(value)
    if dates_as_text and isinstance(value, date):
        return value.isoformat()
    return value
