"""One cell of a register → one typed fact value, by the fact's vocabulary type.

Text cells (CSV, and string columns of Parquet) are parsed exactly: money and
decimals straight from their digits into Decimal, never through float. Native
Parquet values are checked and converted the same way. A parser returns the
value or raises CellError with a message in the clerk's terms; an empty cell
never reaches a parser (it is an unknown fact).

Spellings accepted in text cells (docs/batch.md lists them for users):
  bool      是/否, true/false (any case), 1/0
  int       -?digits
  money, decimal   -?digits[.digits], thousands separators 1,234.56 allowed
  rate      as decimal, or a percentage 60%
  date      2021-08-20, 2021/8/20, 2021-8-20, 2021年8月20日
  enum      the code (enterprise) or its Chinese label (企业)
  set       elements separated by ; ； or |, each a code or label; [] is the empty set
  list of record   a JSON array of objects (household.members)
"""
from __future__ import annotations

import json
import math
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable

from .. import types as T
from ..errors import did_you_mean
from ..vocabulary import FactSpec


class CellError(Exception):
    """A cell whose text does not fit its fact's type; the message is for people."""


Parser = Callable[[Any], Any]

TRUE_WORDS = frozenset({"是", "true", "1"})
FALSE_WORDS = frozenset({"否", "false", "0"})
_BOOL_CELLS = {**dict.fromkeys(TRUE_WORDS, True), **dict.fromkeys(FALSE_WORDS, False)}
SET_SEPARATORS = re.compile(r"[;；|]")
EMPTY_SET = "[]"
# Any decimal with at most 15 significant digits survives a trip through a binary double, so the
# shortest repr of a float cell gives back exactly the digits that were written; more digits
# mean the number was computed in floating point and its exact value is not known.
FLOAT_SAFE_DIGITS = 15

_INT = re.compile(r"[+-]?\d+")
_PLAIN_DECIMAL = re.compile(r"\d+(\.\d+)?")
_DECIMAL = re.compile(r"[+-]?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?")
_DATE = re.compile(r"(\d{4})(?:-(\d{1,2})-(\d{1,2})|/(\d{1,2})/(\d{1,2})|年(\d{1,2})月(\d{1,2})日)")


def _shown(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value


def parse_bool(value: Any) -> bool:
    if value.__class__ is str:  # the common case first: a word as written
        known = _BOOL_CELLS.get(value)
        if known is not None:
            return known
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in TRUE_WORDS:
        return True
    if text in FALSE_WORDS:
        return False
    raise CellError(f"“{_shown(value)}”不是是/否值；可写 是/否、true/false 或 1/0")


def parse_int(value: Any) -> int:
    if value.__class__ is str and value.isascii() and value.isdigit():  # the common case first
        return int(value)
    if isinstance(value, bool):
        raise CellError(f"应为整数，实际是布尔值 {value}")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value):  # a Parquet float column that holds whole numbers
            return int(value)
        raise CellError(f"应为整数，实际是 {value!r}")
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        raise CellError(f"应为整数，实际是 {value}")
    text = str(value).strip()
    if _INT.fullmatch(text):
        return int(text)
    raise CellError(f"“{text}”不是整数")


def _decimal_text(text: str, what: str) -> Decimal:
    text = text.strip()
    if _DECIMAL.fullmatch(text):
        return Decimal(text.replace(",", ""))
    raise CellError(f"“{text}”不是{what}；应写成十进制数，如 10000.00")


def _from_double(value: float, what: str) -> Decimal:  # float-ok: a Parquet double in, read through its shortest text
    if not math.isfinite(value):
        raise CellError(f"{what}不能是 {value!r}")
    text = repr(value)  # the shortest text that reads back as this double
    digits = Decimal(text).as_tuple().digits
    if len(digits) > FLOAT_SAFE_DIGITS:
        raise CellError(f"浮点数 {text} 有 {len(digits)} 位有效数字，无法确定原本的精确数值；"
                        f"请把该列存为 decimal 或文字（如 \"{Decimal(text):.2f}\"）")
    return Decimal(text)


def decimal_parser(what: str, percent: bool = False) -> Parser:
    def parse(value: Any) -> Decimal:
        if value.__class__ is str and _PLAIN_DECIMAL.fullmatch(value):  # the common case first
            return Decimal(value)
        if isinstance(value, bool):
            raise CellError(f"应为{what}，实际是布尔值 {value}")
        if isinstance(value, Decimal):
            return value
        if isinstance(value, int):
            return Decimal(value)
        if isinstance(value, float):
            return _from_double(value, what)
        text = str(value).strip()
        if percent and text.endswith("%"):
            return _decimal_text(text[:-1], what) / 100
        return _decimal_text(text, what)

    return parse


def parse_date(value: Any) -> date:
    if value.__class__ is str and len(value) == 10 and value[4] == "-" and value[7] == "-" and value.isascii():
        try:
            return date.fromisoformat(value)  # the common case first
        except ValueError:
            pass  # an impossible date or a stray character: the full check below says which
    if isinstance(value, datetime):
        if value.time() != datetime.min.time():
            raise CellError(f"应为日期，实际是带时刻的时间 {value.isoformat()}")
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    m = _DATE.fullmatch(text)
    if not m:
        raise CellError(f"“{text}”不是日期；应写成 2021-08-20（也可 2021/8/20、2021年8月20日）")
    year = int(m.group(1))
    month, day = next((int(m.group(i)), int(m.group(i + 1))) for i in (2, 4, 6) if m.group(i))
    try:
        return date(year, month, day)
    except ValueError:
        raise CellError(f"不存在的日期 {text}") from None


def parse_string(value: Any) -> str:
    if isinstance(value, str):
        return value.strip()
    raise CellError(f"应为文字，实际是 {_shown(value)}")


def enum_parser(spec: FactSpec) -> Parser:
    codes = {code: code for code in spec.type.values}
    by_label = {label: code for code, label in spec.value_labels}
    lookup = {**by_label, **codes}
    allowed = "、".join(f"{code}（{label}）" for code, label in spec.value_labels) or "、".join(spec.type.values)

    def parse(value: Any) -> str:
        code = lookup.get(value) if value.__class__ is str else None  # the common case first
        if code is not None:
            return code
        text = value.strip() if isinstance(value, str) else _shown(value)
        code = lookup.get(text)
        if code is not None:
            return code
        hint = did_you_mean(text, list(lookup))
        raise CellError(f"“{text}”不是{spec.zh}的可选值；可选：{allowed}" + (f"；{hint}" if hint else ""))

    return parse


def set_parser(spec: FactSpec) -> Parser:
    element = enum_parser(FactSpec(spec.path, spec.type.elem or T.STRING, spec.zh, spec.value_labels)) \
        if (spec.type.elem and spec.type.elem.kind == "enum") else parse_string

    def parse(value: Any) -> list[str]:
        if isinstance(value, (list, tuple)):  # a Parquet list column
            items = [element(v) for v in value if v is not None]
        else:
            text = str(value).strip()
            if text == EMPTY_SET:
                return []
            items = [element(part) for part in SET_SEPARATORS.split(text) if part.strip()]
        if len(set(items)) != len(items):
            raise CellError(f"集合中有重复元素：{_shown(value)}")
        return sorted(items)

    return parse


def records_parser(spec: FactSpec) -> Parser:
    fields = "、".join(name for name, _ in spec.type.elem.fields) if spec.type.elem else ""

    def parse(value: Any) -> Any:
        if isinstance(value, (list, tuple)):  # Parquet list<struct>: a null field is an unknown one
            return [{k: x for k, x in v.items() if x is not None} if isinstance(v, dict) else v for v in value]
        try:
            data = json.loads(str(value), parse_float=Decimal)
        except json.JSONDecodeError:
            data = None
        if not isinstance(data, list):
            raise CellError(f"{spec.zh}是成员列表，CSV 单元格中须写 JSON 数组，如 "
                            f"[{{\"employed\": false}}]（字段：{fields}）；也可改用 JSONL 或 Parquet 输入")
        return data

    return parse


def parser_for(spec: FactSpec) -> Parser:
    kind = spec.type.kind
    if kind == "bool":
        return parse_bool
    if kind == "int":
        return parse_int
    if kind == "money":
        return decimal_parser("金额（元）")
    if kind == "decimal":
        return decimal_parser("数值")
    if kind == "rate":
        return decimal_parser("比例", percent=True)
    if kind == "date":
        return parse_date
    if kind == "enum":
        return enum_parser(spec)
    if kind == "set":
        return set_parser(spec)
    if kind == "list":
        return records_parser(spec)
    return parse_string
