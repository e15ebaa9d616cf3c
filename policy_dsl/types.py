"""Static types of the expression language.

A type is a small frozen value. Enums carry their values so that a comparison
with a misspelt value is caught before anything is evaluated.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Type:
    kind: str                                   # bool int decimal rate money date duration string enum set list record any
    values: tuple[str, ...] = ()                # enum values
    elem: "Type | None" = None                  # element type of set / list
    fields: tuple[tuple[str, "Type"], ...] = ()  # record fields

    def __str__(self) -> str:
        if self.kind in ("set", "list") and self.elem is not None:
            return f"{self.kind} of {self.elem}"
        return self.kind

    def field(self, name: str) -> "Type | None":
        return dict(self.fields).get(name)


BOOL = Type("bool")
INT = Type("int")
DECIMAL = Type("decimal")
RATE = Type("rate")
MONEY = Type("money")
DATE = Type("date")
DURATION = Type("duration")
STRING = Type("string")
ANY = Type("any")            # the element type of an empty literal; unifies with anything

NUMERIC = ("int", "decimal", "rate")
ORDERED = ("int", "decimal", "rate", "money", "date", "string")
SIMPLE = {t.kind: t for t in (BOOL, INT, DECIMAL, RATE, MONEY, DATE, DURATION, STRING)}


def set_of(elem: Type) -> Type:
    return Type("set", elem=elem)


def list_of(elem: Type) -> Type:
    return Type("list", elem=elem)


def enum(values: tuple[str, ...]) -> Type:
    return Type("enum", values=tuple(values))


def is_numeric(t: Type) -> bool:
    return t.kind in NUMERIC


def is_stringish(t: Type) -> bool:
    return t.kind in ("string", "enum")


def assignable(actual: Type, declared: Type) -> bool:
    """May a value of `actual` stand where `declared` is expected (conclusions, parameters)?"""
    if actual == declared or actual.kind == "any" or declared.kind == "any":
        return True
    if declared.kind == "decimal" and actual.kind in ("int", "rate"):
        return True
    if declared.kind == "rate" and actual.kind in ("int", "decimal"):
        return True
    if declared.kind == "money" and actual.kind == "int":
        return True
    if declared.kind == "enum" and actual.kind in ("string", "enum"):
        return True
    if declared.kind == "string" and actual.kind == "enum":
        return True
    if declared.kind in ("set", "list") and actual.kind == declared.kind:
        if declared.elem is None or actual.elem is None:
            return True
        return assignable(actual.elem, declared.elem)
    return False


def parse_type_name(text: str, values: tuple[str, ...] = ()) -> Type | None:
    """Types as rule files and the vocabulary write them: 'money', 'set of enum', 'enum'."""
    text = text.strip()
    if text in SIMPLE:
        return SIMPLE[text]
    if text == "enum":
        return enum(values)
    if text in ("set", "set of enum", "set of string"):
        return set_of(enum(values) if values else STRING)
    if text in ("list of record", "list"):
        return list_of(Type("record"))
    return None
