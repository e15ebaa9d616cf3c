"""The shared vocabulary (policy_dsl/vocabulary.yaml, shipped inside the package):
fact paths and their types, subjects, clause ids and their conclusions.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import yaml

from . import types as T
from .source import Span


@dataclass(frozen=True)
class FactSpec:
    path: str
    type: T.Type
    zh: str
    value_labels: tuple[tuple[str, str], ...] = ()  # enum value → Chinese label
    field_labels: tuple[tuple[str, str], ...] = ()  # record field → Chinese label
    minimum: object = None                          # domain constraints (min/max in the vocabulary),
    maximum: object = None                          # enforced when facts are validated
    doc: str | None = None
    unit: str | None = None                         # unit word for people (元, 人, 个月)
    declared_in: str | None = None                  # the rule set whose `facts:` declares it; None: this file
    span: Span | None = field(default=None, compare=False)  # where a set declares it (for redefinition errors)


@dataclass(frozen=True)
class ClauseSpec:
    id: str
    zh: str
    subject: str
    conclusions: dict[str, T.Type]
    labels: dict[str, str] = field(default_factory=dict)  # conclusion → Chinese label, for people
    units: dict[str, str] = field(default_factory=dict)   # conclusion → unit word (个月, 次) for counts
    value_labels: dict[str, dict[str, str]] = field(default_factory=dict)  # conclusion → enum code → label


@dataclass(frozen=True)
class Vocabulary:
    facts: dict[str, FactSpec]
    clauses: dict[str, ClauseSpec]

    @property
    def subjects(self) -> set[str]:
        return {p.split(".")[0] for p in self.facts}

    def label(self, path: str) -> str:
        spec = self.facts.get(path)
        return spec.zh if spec else path

    def value_label(self, path: str, value: object) -> str | None:
        """'企业（enterprise）' for an enum fact's value; for a set, each element so."""
        spec = self.facts.get(path)
        if spec is None or not spec.value_labels:
            return None
        labels = dict(spec.value_labels)
        if isinstance(value, str):
            return f"{labels.get(value, value)}（{value}）"
        if isinstance(value, frozenset):
            return "、".join(f"{labels.get(v, v)}" for v in sorted(value)) or "（空）"
        return None


def _fact_type(spec: dict) -> T.Type:
    kind = spec["type"]
    values = tuple(spec.get("values", {}) or ())
    if kind == "list of record":
        fields = tuple((name, _fact_type(f)) for name, f in spec.get("fields", {}).items())
        return T.list_of(T.Type("record", fields=fields))
    parsed = T.parse_type_name(kind, values)
    if parsed is None:
        raise ValueError(f"vocabulary: unknown type {kind!r}")
    return parsed


def _conclusion_type(clause: dict, name: str, kind: str) -> T.Type:
    if kind == "enum":
        return T.enum(tuple(clause.get(f"{name}_values", {}) or ()))
    if kind == "set":
        values = {
            "categories": clause.get("category_values"),
            "reference_categories": clause.get("reference_category_values"),
        }.get(name) or {}
        return T.set_of(T.enum(tuple(values)) if values else T.STRING)
    parsed = T.parse_type_name(kind)
    if parsed is None:
        raise ValueError(f"vocabulary: unknown conclusion type {kind!r}")
    return parsed


def _value_labels(clause: dict) -> dict[str, dict[str, str]]:
    """Chinese labels of enum conclusions' codes: `<name>_values`, and the two category sets."""
    out: dict[str, dict[str, str]] = {}
    for name in clause.get("conclusions", {}):
        table = clause.get(f"{name}_values") or {"categories": clause.get("category_values"),
                                                   "reference_categories": clause.get("reference_category_values")
                                                   }.get(name)
        if table:
            out[name] = {str(k): str(v) for k, v in table.items()}
    return out


def parse_vocabulary(data: dict) -> Vocabulary:
    facts = {path: FactSpec(path, _fact_type(spec), spec.get("zh", path),
                            tuple((str(k), str(lbl)) for k, lbl in (spec.get("values") or {}).items()),
                            tuple((str(k), str(f.get("zh", k))) for k, f in (spec.get("fields") or {}).items()),
                            spec.get("min"), spec.get("max"), spec.get("doc"), spec.get("unit"))
             for path, spec in data["facts"].items()}
    clauses = {}
    for cid, spec in data["clauses"].items():
        conclusions = {name: _conclusion_type(spec, name, str(kind)) for name, kind in spec["conclusions"].items()}
        clauses[cid] = ClauseSpec(cid, spec.get("zh", cid), spec["subject"], conclusions,
                                  {str(k): str(v) for k, v in (spec.get("labels") or {}).items()},
                                  {str(k): str(v) for k, v in (spec.get("units") or {}).items()},
                                  _value_labels(spec))
    return Vocabulary(facts, clauses)


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    text = resources.files("policy_dsl").joinpath("vocabulary.yaml").read_text(encoding="utf-8")
    # libyaml's safe loader when installed (the same safe loading, several times faster).
    return parse_vocabulary(yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
