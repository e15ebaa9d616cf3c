"""Province → city: a city clause file with an existing id is a patch.

Each key the city writes replaces the province's at its own granularity —
parameters, definitions, conditions and conclusions by name, exceptions by id,
title/source/departments/valid/notes whole — and every replacement is recorded
in `Clause.overrides` so that diff and explain can say who changed what.
"""
from __future__ import annotations

import copy

from .model import Clause, Origin


def apply_patch(base: Clause, patch: Clause, written: dict) -> Clause:
    merged = copy.copy(base)
    merged.parameters = dict(base.parameters)
    merged.definitions = dict(base.definitions)
    merged.conditions = dict(base.conditions)
    merged.conclusions = dict(base.conclusions)
    merged.exceptions = list(base.exceptions)
    merged.overrides = dict(base.overrides)
    merged.sources = {**base.sources, **patch.sources}
    origin = patch.origin
    for key in ("title", "source", "departments", "valid", "notes", "subject", "kind"):
        if key in written:
            setattr(merged, key, getattr(patch, key))
            merged.overrides[key] = _at(origin, written, key)
    for section in ("parameters", "definitions", "conditions", "conclusions"):
        table = getattr(merged, section)
        for name, item in getattr(patch, section).items():
            table[name] = item
            merged.overrides[f"{section}.{name}"] = item.origin or origin  # type: ignore[assignment]
    for rule in patch.exceptions:
        merged.exceptions = [r for r in merged.exceptions if r.id != rule.id] + [rule]
        merged.overrides[f"exceptions.{rule.id}"] = rule.origin or origin  # type: ignore[assignment]
    merged.origin = base.origin
    merged.patched_by = origin  # type: ignore[attr-defined]
    return merged


def _at(origin: Origin | None, written: dict, key: str) -> Origin:
    assert origin is not None
    span = written.key_span(key) if hasattr(written, "key_span") else origin.span
    return Origin(origin.set_name, origin.file, span)
