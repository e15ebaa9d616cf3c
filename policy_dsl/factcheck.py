"""Facts validation compiled once per vocabulary.

Two parts, both derived from the vocabulary (types, labels, min/max):

* `FactChecker.fast(facts)` — generated straight-line Python that accepts the common
  well-formed case and returns the flat {"unit.layoffs": 3, ...} mapping the rules read,
  or None as soon as anything is unusual (a wrong type, an unknown key, a float, a
  str subclass…). It never reports; it only says "certainly valid, and here it is".
* `FactChecker.problems(facts)` — every problem as (fact path, message), the same paths
  and messages as the published JSON Schema (facts.facts_schema) gives through
  jsonschema; tests/test_factcheck.py proves the two agree on a generated corpus.

`prepare` tries the fast path and falls back to problems + a general conversion, so the
fast path can stay small: it only has to accept a subset of the valid cases and convert
them exactly as the general path does (also tested).
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Callable, Mapping

from . import types as T
from .errors import FactsError, did_you_mean
from .vocabulary import Vocabulary

DECIMAL_PATTERN = r"^-?\d+(\.\d+)?$"
NONNEG_DECIMAL_PATTERN = r"^(\d+(\.\d+)?|-0+(\.0+)?)$"  # "-0.00" is zero, not negative
DATE_PATTERN = r"^\d{4}-\d{2}-\d{2}$"
_EXPECTED = {"integer": "整数 integer", "boolean": "true/false", "string": "文字 string", "array": "列表 list",
             "object": "映射 mapping", "number": "数字 number", "date": "日期 YYYY-MM-DD",
             "decimal": "十进制数 decimal number, e.g. \"10000.00\""}


# --- what counts as a number (shared with the schema validator in facts.py) ------------------------

def is_number(v: object) -> bool:
    """A JSON number: not a bool, not NaN or Infinity (JSON cannot carry those; money never is)."""
    if v.__class__ is bool or not isinstance(v, (int, float, Decimal)):
        return False
    return v.is_finite() if isinstance(v, Decimal) else (isinstance(v, int) or math.isfinite(v))  # float-ok


def is_integer(v: object) -> bool:
    """An integer fact takes integers only: 4.0 is a wrong type, not 4."""
    return isinstance(v, int) and v.__class__ is not bool


# --- messages (one wording for both validators) ----------------------------------------------------

def msg_unknown(key: str, allowed: list[str]) -> str:
    hint = did_you_mean(key, allowed)
    return "未知的事实 unknown fact" + (f"；{hint}" if hint else f"；可用：{', '.join(allowed)}")


def msg_not_allowed(instance: object, label: str, values: list[str]) -> str:
    hint = did_you_mean(str(instance), values)
    return f"{instance!r} 不是{label}的可选值 not an allowed value；可选：{', '.join(values)}" + (f"；{hint}" if hint else "")


def _show(instance: object) -> str:
    """A value as the facts wrote it: JSON text, a decimal number unquoted (it was a number)."""
    if isinstance(instance, Decimal):
        return str(instance)
    return json.dumps(instance, ensure_ascii=False, default=str)


def msg_wrong_type(label: str, expected: str, instance: object) -> str:
    return f"类型不对 wrong type：{label}应为 {expected}，实际是 {_show(instance)}"


def msg_duplicates(instance: object) -> str:
    return f"集合中有重复元素 duplicate items in a set：{instance}"


def msg_below(label: str, minimum: object, instance: object) -> str:
    return f"超出范围 out of range：{label}不能小于 {minimum}，实际是 {_show(instance)}"


def msg_above(label: str, maximum: object, instance: object) -> str:
    return f"超出范围 out of range：{label}不能大于 {maximum}，实际是 {_show(instance)}"


def msg_date_range(label: str, lo: object, hi: object, instance: object) -> str:
    return f"超出范围 out of range：{label}应在 {lo} 至 {hi} 之间，实际是 {instance}"


def msg_invalid_date(value: object) -> str:
    return f"不存在的日期 invalid date：{value}"


def msg_not_mapping(facts: object) -> str:
    name = "null" if facts is None else type(facts).__name__
    return f"事实应为映射（对象） facts must be a mapping, got {name}"


def render_path(parts) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


# --- input normalisation (both validators see the same data) -----------------------------------------

def drop_nulls(facts: Mapping) -> dict:
    """A null fact is an unknown fact: the same as leaving it out — also inside a record of a list."""
    out = {}
    for k, v in facts.items():
        if v is None:
            continue
        if isinstance(v, dict):
            v = {sk: _drop_record_nulls(sv) for sk, sv in v.items() if sv is not None}
        out[k] = v
    return out


def _drop_record_nulls(value: object) -> object:
    if isinstance(value, list) and any(isinstance(r, dict) for r in value):
        return [{k: x for k, x in r.items() if x is not None} if isinstance(r, dict) else r for r in value]
    return value


# --- one rule per fact -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rule:
    path: str
    kind: str                      # bool int decimal date string enum set list
    label: str
    minimum: object = None
    maximum: object = None
    values: tuple[str, ...] = ()   # enum values (also of a set's elements)
    fields: tuple[tuple[str, "Rule"], ...] = ()  # a list's record fields


def _rule(path: str, t: T.Type, label: str, lo: object = None, hi: object = None, field_labels: tuple = ()) -> Rule:
    k = t.kind
    if k in ("money", "rate", "decimal"):
        if hi is not None:  # a JSON Schema pattern cannot say "at most" for decimal text
            raise ValueError(f"vocabulary: {path}: max is supported for int and date facts only")
        return Rule(path, "decimal", label, lo, hi)
    if k == "set":
        elem = t.elem or T.STRING
        return Rule(path, "set", label, values=tuple(elem.values) if elem.kind == "enum" else ())
    if k == "list":
        labels = dict(field_labels)
        rec = t.elem or T.Type("record")
        return Rule(path, "list", label, fields=tuple((n, _rule(n, ft, labels.get(n, n))) for n, ft in rec.fields))
    return Rule(path, k, label, lo, hi, tuple(t.values) if k == "enum" else ())


class FactChecker:
    """Validation and flattening of cases for one vocabulary."""

    def __init__(self, vocab: Vocabulary) -> None:
        self.top: dict[str, Rule] = {}                    # facts without a subject (as_of)
        self.subjects: dict[str, dict[str, Rule]] = {}   # subject → name → rule, in vocabulary order
        self.order: list[str] = []                       # top-level keys in schema order
        for path, spec in vocab.facts.items():
            rule = _rule(path, spec.type, spec.zh, spec.minimum, spec.maximum, spec.field_labels)
            head, _, name = path.partition(".")
            if head not in self.order:
                self.order.append(head)
            if name:
                self.subjects.setdefault(head, {})[name] = rule
            else:
                self.top[path] = rule
        # Every fact path, in the order the fast path's flat mapping has them.
        self.paths: tuple[str, ...] = tuple(p for h in self.order
                                            for p in ([h] if h in self.top else [f"{h}.{n}" for n in self.subjects[h]]))
        from .factcheck_gen import generate_fast

        self.fast: Callable[[Any], dict | None] = generate_fast(self)

    # every problem ---------------------------------------------------------------------------------
    def problems(self, facts: Any) -> list[tuple[str, str]]:
        from .yamlio import plain

        if not isinstance(facts, Mapping):
            return [("", msg_not_mapping(facts))]
        data = plain(drop_nulls(facts), dates_as_text=True)
        found: list[tuple[tuple, str]] = []
        for key, value in data.items():
            if key in self.top:
                self._leaf((key,), self.top[key], value, found)
            elif key in self.subjects:
                rules = self.subjects[key]
                if not isinstance(value, dict):
                    found.append(((key,), msg_wrong_type("", _EXPECTED["object"], value)))
                    continue
                for name, v in value.items():
                    if name in rules:
                        self._leaf((key, name), rules[name], v, found)
                    else:
                        found.append(((key, name), msg_unknown(name, list(rules))))
            else:
                found.append(((key,), msg_unknown(key, self.order)))
        found.sort(key=lambda p: [str(x) for x in p[0]])
        return [(render_path(parts), message) for parts, message in found]

    def _leaf(self, at: tuple, rule: Rule, v: object, found: list) -> None:
        k, label = rule.kind, rule.label
        if k == "bool":
            if v.__class__ is not bool:
                found.append((at, msg_wrong_type(label, _EXPECTED["boolean"], v)))
        elif k == "int":
            if not is_integer(v):
                found.append((at, msg_wrong_type(label, _EXPECTED["integer"], v)))
            if is_number(v):  # as in JSON Schema, bounds apply to any number (-1.0 is both wrong and too small)
                self._bounds(at, rule, v, found)
        elif k == "decimal":
            if isinstance(v, str):
                if not re.search(DECIMAL_PATTERN, v):
                    found.append((at, msg_wrong_type(label, _EXPECTED["decimal"], v)))
                elif rule.minimum is not None and not re.search(NONNEG_DECIMAL_PATTERN, v):
                    found.append((at, msg_below(label, rule.minimum, v)))  # the schema's pattern says "not negative"
            elif not is_number(v):
                found.append((at, msg_wrong_type(label, _EXPECTED["decimal"], v)))
            else:
                self._bounds(at, rule, v, found)
        elif k == "date":
            if not isinstance(v, str) or not re.search(DATE_PATTERN, v):
                found.append((at, msg_wrong_type(label, _EXPECTED["date"], v)))
                return
            lo, hi = (str(b) if b is not None else None for b in (rule.minimum, rule.maximum))
            if (lo is not None and v < lo) or (hi is not None and v > hi):
                found.append((at, msg_date_range(label, lo, hi, v)))
            try:
                date.fromisoformat(v)
            except ValueError:
                found.append((at, msg_invalid_date(v)))
        elif k in ("string", "enum"):
            if not isinstance(v, str):
                found.append((at, msg_wrong_type(label, _EXPECTED["string"], v)))
            if k == "enum" and not (isinstance(v, str) and v in rule.values):
                found.append((at, msg_not_allowed(v, label, list(rule.values))))
        elif k == "set":
            if not isinstance(v, list):
                found.append((at, msg_wrong_type(label, _EXPECTED["array"], v)))
                return
            elem = Rule(rule.path, "enum" if rule.values else "string", label, values=rule.values)
            for i, e in enumerate(v):
                self._leaf((*at, i), elem, e, found)
            if not _unique(v):
                found.append((at, msg_duplicates(v)))
        elif k == "list":
            if not isinstance(v, list):
                found.append((at, msg_wrong_type(label, _EXPECTED["array"], v)))
                return
            fields = dict(rule.fields)
            for i, rec in enumerate(v):
                if not isinstance(rec, dict):
                    found.append(((*at, i), msg_wrong_type(label, _EXPECTED["object"], rec)))
                    continue
                for name, x in rec.items():
                    if name in fields:
                        self._leaf((*at, i, name), fields[name], x, found)
                    else:
                        found.append(((*at, i, name), msg_unknown(name, list(fields))))

    @staticmethod
    def _bounds(at: tuple, rule: Rule, v: Any, found: list) -> None:
        if rule.minimum is not None and v < rule.minimum:
            found.append((at, msg_below(rule.label, rule.minimum, v)))
        if rule.maximum is not None and v > rule.maximum:
            found.append((at, msg_above(rule.label, rule.maximum, v)))

    # flattening ------------------------------------------------------------------------------------
    def convert(self, facts: Mapping) -> dict[str, Any]:
        """The flat mapping of facts that `problems` found nothing wrong with."""
        from .yamlio import plain

        flat: dict[str, Any] = {}
        for key, value in plain(drop_nulls(facts)).items():
            if key in self.top:
                flat[key] = _convert(self.top[key], value)
            else:
                for name, v in value.items():
                    flat[f"{key}.{name}"] = _convert(self.subjects[key][name], v)
        # A subject given (even with every fact null) makes its clauses applicable.
        flat["$subjects"] = frozenset(str(k) for k, v in facts.items() if v is not None and (k in self.top or v))
        return flat

    def prepare(self, facts: Any, source: str = "") -> dict[str, Any]:
        flat = self.fast(facts)
        if flat is not None:
            return flat
        problems = self.problems(facts)
        if problems:
            raise FactsError(problems, source)
        return self.convert(facts)


def _convert(rule: Rule, value: Any) -> Any:
    k = rule.kind
    if k == "decimal":
        d = value if isinstance(value, Decimal) else Decimal(str(value))  # a number's text, never binary float
        return d.copy_abs() if not d else d  # -0.00 is 0.00
    if k == "date":
        return value if isinstance(value, date) else date.fromisoformat(value)
    if k == "set":
        return frozenset(value)
    if k == "list":
        fields = dict(rule.fields)
        return tuple({name: _convert(fields[name], v) for name, v in rec.items()} for rec in value)
    return value


def _unique(items: list) -> bool:
    """JSON Schema's uniqueItems: 1 and 1.0 are equal, 1 and true are not."""
    try:
        return len({_canon(x) for x in items}) == len(items)
    except TypeError:  # pragma: no cover - _canon makes everything hashable
        return False


def _canon(x: object) -> object:
    if isinstance(x, bool) or x is None:
        return ("b", x)
    if isinstance(x, (int, float, Decimal)):
        return ("n", x)
    if isinstance(x, str):
        return ("s", x)
    if isinstance(x, (list, tuple)):
        return ("l", tuple(_canon(e) for e in x))
    if isinstance(x, dict):
        return ("d", frozenset((k, _canon(v)) for k, v in x.items()))
    return ("o", repr(x))


_CHECKERS: dict[int, tuple[dict, FactChecker]] = {}


def checker(vocab: Vocabulary) -> FactChecker:
    """The compiled checker of a vocabulary (built on first use, then shared)."""
    key = id(vocab.facts)
    hit = _CHECKERS.get(key)
    if hit is None or hit[0] is not vocab.facts:
        hit = _CHECKERS[key] = (vocab.facts, FactChecker(vocab))
    return hit[1]

