"""Facts in: validate a case against the vocabulary, then flatten it.

A case is nested by subject ({"unit": {"layoffs": 3}}). Validation uses a JSON
Schema derived from the vocabulary (facts_schema), and reports every problem at
once by fact path, in the user's terms. Flattening turns it into the
{"unit.layoffs": 3} mapping the compiled rules read, with exact Decimals and
dates. Missing facts are simply absent: unknown, never 0 or false.
"""
from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import jsonschema

from . import types as T
from .errors import FactsError, FactsFileError, PolicyError, did_you_mean
from .vocabulary import Vocabulary, vocabulary
from .yamlio import plain

_DECIMAL_PATTERN = r"^-?\d+(\.\d+)?$"
_DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"


def _schema_of(t: T.Type, zh: str, field_labels: tuple = ()) -> dict:
    k = t.kind
    if k == "bool":
        s: dict = {"type": "boolean"}
    elif k == "int":
        s = {"type": "integer"}
    elif k in ("decimal", "money", "rate"):
        s = {"type": ["number", "string"], "pattern": _DECIMAL_PATTERN}
    elif k == "date":
        s = {"type": "string", "pattern": _DATE_PATTERN, "format": "date"}
    elif k == "string":
        s = {"type": "string"}
    elif k == "enum":
        s = {"type": "string", "enum": list(t.values)}
    elif k == "set":
        s = {"type": "array", "items": _schema_of(t.elem or T.STRING, zh), "uniqueItems": True}
    elif k == "list":
        s = {"type": "array", "items": _schema_of(t.elem or T.Type("record"), zh, field_labels)}
    elif k == "record":
        labels = dict(field_labels)
        s = {"type": "object", "additionalProperties": False,
             "properties": {name: _schema_of(ft, labels.get(name, name)) for name, ft in t.fields}}
    else:  # pragma: no cover - the vocabulary has no other kinds
        raise ValueError(k)
    if zh:
        s["title"] = zh
    return s


def facts_schema(vocab: Vocabulary | None = None) -> dict:
    """JSON Schema (2020-12) of a case, derived from the vocabulary."""
    vocab = vocab or vocabulary()
    props: dict[str, dict] = {}
    for path, spec in vocab.facts.items():
        parts = path.split(".")
        if len(parts) == 1:
            props[path] = _schema_of(spec.type, spec.zh)
            continue
        subject = props.setdefault(parts[0], {"type": "object", "additionalProperties": False, "properties": {}})
        subject["properties"][parts[1]] = _schema_of(spec.type, spec.zh, spec.field_labels)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://policy-dsl.example/facts.schema.json",
        "title": "案例事实 facts of a case",
        "type": "object",
        "additionalProperties": False,
        "properties": props,
    }


def validate(facts: Any, vocab: Vocabulary | None = None) -> list[tuple[str, str]]:
    """Every problem in `facts`, as (fact path, message)."""
    vocab = vocab or vocabulary()
    if not isinstance(facts, dict):
        return [("", f"事实应为映射（对象） facts must be a mapping, got {type(facts).__name__}")]
    schema = _cached_schema(vocab)
    validator = jsonschema.Draft202012Validator(schema)
    problems = []
    data = plain(_drop_nulls(facts), dates_as_text=True)
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        problems.extend(_describe(err, data, vocab))
    problems.extend(_check_values(data, vocab))
    return problems


_SCHEMAS: dict[int, dict] = {}


def _cached_schema(vocab: Vocabulary) -> dict:
    key = id(vocab)
    if key not in _SCHEMAS:
        _SCHEMAS[key] = facts_schema(vocab)
    return _SCHEMAS[key]


def _path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _describe(err: jsonschema.ValidationError, data: dict, vocab: Vocabulary) -> list[tuple[str, str]]:
    path = _path(err.absolute_path)
    if err.validator == "additionalProperties":
        allowed = list(err.schema.get("properties", {}))
        extra = [k for k in err.instance if k not in allowed]
        out = []
        for key in extra:
            full = f"{path}.{key}" if path else key
            hint = did_you_mean(key, allowed)
            out.append((full, "未知的事实 unknown fact" + (f"；{hint}" if hint else f"；可用：{', '.join(allowed)}")))
        return out
    label = err.schema.get("title", "")
    if err.validator == "enum":
        hint = did_you_mean(str(err.instance), err.validator_value)
        return [(path, f"{err.instance!r} 不是{label}的可选值 not an allowed value；可选：{', '.join(err.validator_value)}"
                 + (f"；{hint}" if hint else ""))]
    if err.validator in ("type", "pattern"):
        want = {"integer": "整数 integer", "boolean": "true/false", "string": "文字 string", "array": "列表 list",
                "object": "映射 mapping", "number": "数字 number"}
        expected = err.schema.get("type")
        expected = " 或 ".join(want.get(x, x) for x in (expected if isinstance(expected, list) else [expected]))
        if err.schema.get("pattern") == _DATE_PATTERN:
            expected = "日期 YYYY-MM-DD"
        elif err.schema.get("pattern") == _DECIMAL_PATTERN:
            expected = "十进制数 decimal number, e.g. \"10000.00\""
        return [(path, f"类型不对 wrong type：{label}应为 {expected}，实际是 {json.dumps(err.instance, ensure_ascii=False, default=str)}")]
    if err.validator == "uniqueItems":
        return [(path, f"集合中有重复元素 duplicate items in a set：{err.instance}")]
    return [(path, err.message)]


def _check_values(data: dict, vocab: Vocabulary) -> list[tuple[str, str]]:
    problems = []
    for path, value in _leaves(data):
        spec = vocab.facts.get(path)
        if spec and spec.type.kind == "date" and isinstance(value, str) and re.fullmatch(_DATE_PATTERN, value):
            try:
                date.fromisoformat(value)
            except ValueError:
                problems.append((path, f"不存在的日期 invalid date：{value}"))
    return problems


def _leaves(data: dict):
    for key, value in data.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                yield f"{key}.{sub}", v
        else:
            yield key, value


def _drop_nulls(facts: dict) -> dict:
    """A null fact is an unknown fact: the same as leaving it out."""
    out = {}
    for k, v in facts.items():
        if v is None:
            continue
        out[k] = {sk: sv for sk, sv in v.items() if sv is not None} if isinstance(v, dict) else v
    return out


def _convert(value: Any, t: T.Type) -> Any:
    k = t.kind
    if k in ("decimal", "money", "rate"):
        if isinstance(value, Decimal):
            return value
        return Decimal(str(value))  # a number's text, never via binary float arithmetic
    if k == "date":
        return value if isinstance(value, date) else date.fromisoformat(value)
    if k == "set":
        return frozenset(value)
    if k == "list":
        elem = t.elem or T.Type("record")
        return tuple({name: _convert(v, elem.field(name) or T.STRING) for name, v in rec.items() if v is not None}
                     for rec in value)
    return value


def prepare(facts: Any, vocab: Vocabulary | None = None, source: str = "") -> dict[str, Any]:
    """Validate then flatten; raises FactsError listing every problem."""
    vocab = vocab or vocabulary()
    problems = validate(facts, vocab)
    if problems:
        raise FactsError(problems, source)
    flat: dict[str, Any] = {}
    for path, value in _leaves(_drop_nulls(facts)):
        spec = vocab.facts.get(path)
        if spec is None:
            continue
        try:
            flat[path] = _convert(value, spec.type)
        except (InvalidOperation, ValueError) as exc:  # pragma: no cover - schema catches these first
            raise FactsError([(path, str(exc))], source) from None
    subjects = {path.split(".")[0] for path in flat} | {k for k, v in facts.items() if isinstance(v, dict) and v}
    flat["$subjects"] = frozenset(subjects)
    return flat


MAX_FACTS_BYTES = 256_000  # one case's facts are a few kB; YAML at this size still reads in about a second


def read_facts(path: str) -> Any:
    """See _read_facts; a limit hit while reading input is an input error (exit 2), not a rule error."""
    from .errors import PolicyLimitError

    try:
        return _read_facts(path)
    except PolicyLimitError as exc:
        raise as_input_error(exc) from None


def as_input_error(exc: PolicyError) -> FactsFileError:
    return FactsFileError(f"超出限制 limit exceeded: {exc.message}", exc.span, found=exc.found,
                          expected=exc.expected, hint=exc.hint)


def _read_facts(path: str) -> Any:
    """A facts file (YAML or JSON, or '-' for standard input), numbers read exactly.

    The format is the file's extension (.json → JSON; .yaml/.yml → YAML); standard input is
    JSON when it starts with '{' or '[', YAML otherwise. At most MAX_FACTS_BYTES, UTF-8, and
    the YAML limits (nesting, aliases) apply to both formats."""
    import sys

    from .yamlio import decode_limited, read_limited

    if path == "-":
        data = sys.stdin.buffer.read(MAX_FACTS_BYTES + 1) if hasattr(sys.stdin, "buffer") \
            else sys.stdin.read(MAX_FACTS_BYTES + 1).encode("utf-8")
        text, name = decode_limited(data, "<stdin>", MAX_FACTS_BYTES, FactsFileError), "<stdin>"
        is_json = text.lstrip()[:1] in ("{", "[")
    else:
        suffix = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
        if suffix not in ("json", "yaml", "yml"):
            raise FactsFileError(f"事实文件应为 .yaml、.yml 或 .json facts file must be .yaml, .yml or .json: {path}",
                                 hint="按扩展名决定格式；标准输入用 -")
        text, name = read_limited(path, MAX_FACTS_BYTES, FactsFileError, ("事实文件", "facts file")), path
        is_json = suffix == "json"
    data = load_json(text, name) if is_json else load_yaml(text, name)
    if not isinstance(data, dict):  # an empty file, a scalar, a list: not one case's facts
        raise FactsFileError(f"{name}: 事实文件应是映射（主体: {{事实: 值}}） a facts file holds a mapping，"
                             f"实际是 {'空文件 empty' if data is None else type(data).__name__}",
                             hint='如 {"unit": {"layoffs": 3}}')
    return data


def load_yaml(text: str, name: str) -> Any:
    """YAML facts text → plain data; problems are facts-file errors with positions."""
    from .errors import PolicyLimitError, RuleFileError
    from .yamlio import load_text

    try:
        return plain(load_text(text, name))
    except PolicyLimitError:
        raise
    except RuleFileError as exc:  # the YAML reader speaks of rule files; here it is a facts file
        raise FactsFileError(exc.message, exc.span, found=exc.found, expected=exc.expected, hint=exc.hint) from None


def load_json(text: str, name: str) -> Any:
    """JSON text with exact numbers; duplicate keys, NaN/Infinity, over-long numbers and
    nesting past the YAML limit are errors with positions (Python's json takes all of them)."""
    from .errors import PolicyLimitError
    from .source import Source, Span
    from .values import number_problem
    from .yamlio import MAX_DEPTH

    source = Source(name, text)

    def at(pos: int) -> Span:
        line = text.count("\n", 0, pos) + 1
        col = pos - (text.rfind("\n", 0, pos) + 1) + 1
        return Span(line, col, line, col + 1, source)

    depth_error = _json_depth(text, MAX_DEPTH)
    if depth_error is not None:
        raise PolicyLimitError(f"嵌套过深：超过 {MAX_DEPTH} 层 nested more than {MAX_DEPTH} levels", at(depth_error))

    def pairs(items: list) -> dict:
        out: dict = {}
        for key, value in items:
            if key in out:
                raise _JsonProblem(f"重复的键 {key!r} duplicate key", key)
            out[key] = value
        return out

    def number(text_: str, convert):
        if len(text_.lstrip("-")) > 40:
            raise _JsonProblem(f"数字过长 number too long: {text_[:40]}…", None)
        value = convert(text_)
        problem = number_problem(value)
        if problem:
            raise _JsonProblem(f"{problem}: {text_}", None)
        return value

    def constant(word: str):
        raise _JsonProblem(f"不是有限的数 not a finite number: {word}", None)

    try:
        return json.loads(text, object_pairs_hook=pairs, parse_float=lambda t: number(t, Decimal),
                          parse_int=lambda t: number(t, int), parse_constant=constant)
    except json.JSONDecodeError as exc:
        raise FactsFileError(f"JSON 格式错误 malformed JSON: {exc.msg}", at(exc.pos)) from None
    except _JsonProblem as exc:
        span = at(_find_key(text, exc.key)) if exc.key is not None else None
        raise FactsFileError(f"{name}: {exc.message}" if span is None else exc.message, span) from None


class _JsonProblem(Exception):
    def __init__(self, message: str, key: str | None) -> None:
        super().__init__(message)
        self.message, self.key = message, key


def _find_key(text: str, key: str) -> int:
    """Where a duplicated key is written the second time (for the error's position)."""
    quoted = json.dumps(key)
    first = text.find(quoted)
    second = text.find(quoted, first + 1) if first >= 0 else -1
    return max(second, first, 0)


def _json_depth(text: str, limit: int) -> int | None:
    """Offset where brackets nest deeper than `limit` (outside strings), or None.
    Checked before json.loads, whose recursion would otherwise fail inside Python."""
    depth, in_string, escaped = 0, False, False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return i
        elif ch in "]}":
            depth -= 1
    return None
