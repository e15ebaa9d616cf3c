"""Facts in: validate a case against the vocabulary, then flatten it.

A case is nested by subject ({"unit": {"layoffs": 3}}). The published contract is a
JSON Schema derived from the vocabulary (facts_schema), types and domain constraints
(min/max) included. Cases are checked by a validator compiled from the same vocabulary
(factcheck.py), which reports every problem at once by fact path, in the user's terms;
`validate_with_schema` runs the schema itself through jsonschema and is what the tests
hold the compiled validator to. Flattening turns a case into the {"unit.layoffs": 3}
mapping the compiled rules read, with exact Decimals and dates. Missing facts are
simply absent: unknown, never 0 or false.
"""
from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Mapping


from . import types as T
from .factcheck import (DATE_PATTERN, DECIMAL_PATTERN, NONNEG_DECIMAL_PATTERN, checker, drop_nulls, is_integer,
                        is_number, msg_above, msg_below, msg_date_range, msg_duplicates, msg_invalid_date,
                        msg_not_allowed, msg_not_mapping, msg_unknown, msg_wrong_type, render_path)
from .vocabulary import FactSpec, Vocabulary, vocabulary
from .errors import FactsFileError, PolicyError
from .yamlio import plain

if TYPE_CHECKING:
    import jsonschema

_DECIMAL_PATTERN, _DATE_PATTERN = DECIMAL_PATTERN, DATE_PATTERN  # names kept for importers


def _schema_of(t: T.Type, zh: str, field_labels: tuple = (), spec: FactSpec | None = None) -> dict:
    k = t.kind
    lo, hi = (spec.minimum, spec.maximum) if spec else (None, None)
    if k == "bool":
        s: dict = {"type": "boolean"}
    elif k == "int":
        s = {"type": "integer"}
        if lo is not None:
            s["minimum"] = lo
        if hi is not None:
            s["maximum"] = hi
    elif k in ("decimal", "money", "rate"):
        s = {"type": ["number", "string"], "pattern": DECIMAL_PATTERN}
        if lo is not None:
            if lo != 0:  # pragma: no cover - the text pattern can only say "not negative"
                raise ValueError(f"vocabulary: {spec.path if spec else zh}: a decimal fact's min must be 0")
            s["minimum"] = 0
            s["pattern"] = NONNEG_DECIMAL_PATTERN
    elif k == "date":
        s = {"type": "string", "pattern": DATE_PATTERN, "format": "date"}
        # formatMinimum/formatMaximum (as in ajv-formats): the date range this fact accepts.
        if lo is not None:
            s["formatMinimum"] = str(lo)
        if hi is not None:
            s["formatMaximum"] = str(hi)
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
    """JSON Schema (2020-12) of a case, derived from the vocabulary.

    Beyond plain JSON Schema: integers are integers only (4.0 is not 4), numbers are
    finite, and a fact may be null, which means unknown (like leaving it out)."""
    vocab = vocab or vocabulary()
    props: dict[str, dict] = {}
    for path, spec in vocab.facts.items():
        parts = path.split(".")
        if len(parts) == 1:
            props[path] = _schema_of(spec.type, spec.zh, spec=spec)
            continue
        subject = props.setdefault(parts[0], {"type": "object", "additionalProperties": False, "properties": {}})
        subject["properties"][parts[1]] = _schema_of(spec.type, spec.zh, spec.field_labels, spec)
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
    return checker(vocab or vocabulary()).problems(facts)


def prepare(facts: Any, vocab: Vocabulary | None = None, source: str = "") -> dict[str, Any]:
    """Validate then flatten; raises FactsError listing every problem."""
    return checker(vocab or vocabulary()).prepare(facts, source)


# --- the published schema, run through jsonschema (the reference the compiled validator is tested against)

def _format_bound(cmp):
    def keyword(validator, bound, instance, schema):
        import jsonschema

        if isinstance(instance, str) and re.search(DATE_PATTERN, instance) and cmp(instance, bound):
            yield jsonschema.ValidationError(f"{instance} out of range")
    return keyword


@lru_cache(maxsize=1)
def _schema_validator() -> Any:
    """The jsonschema validator class with our number types and date bounds (jsonschema is imported
    only here: the engine never runs it, and it is most of `import policy_dsl`'s time)."""
    import jsonschema

    types = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine_many(
        {"number": lambda _, v: is_number(v), "integer": lambda _, v: is_integer(v)})
    return jsonschema.validators.extend(
        jsonschema.Draft202012Validator, type_checker=types,
        validators={"formatMinimum": _format_bound(lambda v, b: v < b), "formatMaximum": _format_bound(lambda v, b: v > b)})


_SCHEMAS: dict[int, tuple[dict, Any]] = {}


def validate_with_schema(facts: Any, vocab: Vocabulary | None = None) -> list[tuple[str, str]]:
    """`validate`, done by running facts_schema through jsonschema: slower, and the reference."""
    vocab = vocab or vocabulary()
    if not isinstance(facts, Mapping):
        return [("", msg_not_mapping(facts))]
    hit = _SCHEMAS.get(id(vocab.facts))
    if hit is None or hit[0] is not vocab.facts:
        hit = _SCHEMAS[id(vocab.facts)] = (vocab.facts, _schema_validator()(facts_schema(vocab)))
    data = plain(drop_nulls(facts), dates_as_text=True)
    problems = []
    for err in sorted(hit[1].iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        problems.extend(_describe(err))
    problems.extend(_check_values(data, vocab))
    return problems


def _describe(err: jsonschema.ValidationError) -> list[tuple[str, str]]:
    path = render_path(err.absolute_path)
    label = err.schema.get("title", "")
    if err.validator == "additionalProperties":
        allowed = list(err.schema.get("properties", {}))
        return [(f"{path}.{key}" if path else key, msg_unknown(key, allowed)) for key in err.instance
                if key not in allowed]
    if err.validator == "enum":
        return [(path, msg_not_allowed(err.instance, label, err.validator_value))]
    if err.validator == "pattern" and err.schema["pattern"] == NONNEG_DECIMAL_PATTERN \
            and re.search(DECIMAL_PATTERN, err.instance):
        return [(path, msg_below(label, err.schema["minimum"], err.instance))]
    if err.validator in ("type", "pattern"):
        want = {"integer": "整数 integer", "boolean": "true/false", "string": "文字 string", "array": "列表 list",
                "object": "映射 mapping", "number": "数字 number"}
        expected = err.schema.get("type")
        expected = " 或 ".join(want.get(x, x) for x in (expected if isinstance(expected, list) else [expected]))
        if err.schema.get("pattern") == DATE_PATTERN:
            expected = "日期 YYYY-MM-DD"
        elif err.schema.get("pattern") in (DECIMAL_PATTERN, NONNEG_DECIMAL_PATTERN):
            expected = "十进制数 decimal number, e.g. \"10000.00\""
        return [(path, msg_wrong_type(label, expected, err.instance))]
    if err.validator == "minimum":
        return [(path, msg_below(label, err.validator_value, err.instance))]
    if err.validator == "maximum":
        return [(path, msg_above(label, err.validator_value, err.instance))]
    if err.validator in ("formatMinimum", "formatMaximum"):
        return [(path, msg_date_range(label, err.schema.get("formatMinimum"), err.schema.get("formatMaximum"),
                                      err.instance))]
    if err.validator == "uniqueItems":
        return [(path, msg_duplicates(err.instance))]
    return [(path, err.message)]


def _check_values(data: dict, vocab: Vocabulary) -> list[tuple[str, str]]:
    problems = []
    for path, value in _leaves(data):
        spec = vocab.facts.get(path)
        if spec and spec.type.kind == "date" and isinstance(value, str) and re.search(DATE_PATTERN, value):
            try:
                date.fromisoformat(value)
            except ValueError:
                problems.append((path, msg_invalid_date(value)))
    return problems


def _leaves(data: dict):
    for key, value in data.items():
        if isinstance(value, dict):
            for sub, v in value.items():
                yield f"{key}.{sub}", v
        else:
            yield key, value


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
