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
from typing import Any, Mapping

import jsonschema

from . import types as T
from .factcheck import (DATE_PATTERN, DECIMAL_PATTERN, NONNEG_DECIMAL_PATTERN, checker, drop_nulls, is_integer,
                        is_number, msg_above, msg_below, msg_date_range, msg_duplicates, msg_invalid_date,
                        msg_not_allowed, msg_not_mapping, msg_unknown, msg_wrong_type, render_path)
from .vocabulary import FactSpec, Vocabulary, vocabulary
from .yamlio import plain

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
        if isinstance(instance, str) and re.search(DATE_PATTERN, instance) and cmp(instance, bound):
            yield jsonschema.ValidationError(f"{instance} out of range")
    return keyword


_TYPES = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine_many(
    {"number": lambda _, v: is_number(v), "integer": lambda _, v: is_integer(v)})
_SchemaValidator = jsonschema.validators.extend(
    jsonschema.Draft202012Validator, type_checker=_TYPES,
    validators={"formatMinimum": _format_bound(lambda v, b: v < b), "formatMaximum": _format_bound(lambda v, b: v > b)})
_SCHEMAS: dict[int, tuple[dict, Any]] = {}


def validate_with_schema(facts: Any, vocab: Vocabulary | None = None) -> list[tuple[str, str]]:
    """`validate`, done by running facts_schema through jsonschema: slower, and the reference."""
    vocab = vocab or vocabulary()
    if not isinstance(facts, Mapping):
        return [("", msg_not_mapping(facts))]
    hit = _SCHEMAS.get(id(vocab.facts))
    if hit is None or hit[0] is not vocab.facts:
        hit = _SCHEMAS[id(vocab.facts)] = (vocab.facts, _SchemaValidator(facts_schema(vocab)))
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


def read_facts(path: str) -> Any:
    """A facts file (YAML or JSON, or '-' for standard input), numbers read exactly."""
    import sys
    from pathlib import Path

    from .errors import FactsFileError, RuleFileError
    from .yamlio import load_text

    if path == "-":
        text, name = sys.stdin.read(), "<stdin>"
    else:
        try:
            text, name = Path(path).read_text(encoding="utf-8"), path
        except OSError as exc:
            raise FactsFileError(f"无法读取事实文件 cannot read facts file {path}: {exc.strerror}") from None
    if name.endswith(".json") or text.lstrip().startswith("{"):
        try:
            return json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError as exc:
            from .source import Source, Span

            span = Span(exc.lineno, exc.colno, exc.lineno, exc.colno + 1, Source(name, text))
            raise FactsFileError(f"JSON 格式错误 malformed JSON: {exc.msg}", span) from None
    try:
        return plain(load_text(text, name))
    except RuleFileError as exc:  # the YAML reader speaks of rule files; here it is a facts file
        raise FactsFileError(exc.message, exc.span, found=exc.found, expected=exc.expected, hint=exc.hint) from None
