"""A clause file whose id exists in the base set is a patch: a city's (`extends`) or a
later edition's (`supersedes`, see editions.py).

Each key the patch writes replaces the base's at its own granularity —
parameters, definitions, conditions and conclusions by name, exceptions by id,
title/source/departments/valid/period_by/notes whole — and every replacement is recorded
in `Clause.overrides` so that diff and explain can say who changed what.
`remove: [name, …]` drops inherited items (recorded in `Clause.removed`).

An item written with only `note:`/`source:` (no value or expression) keeps the
inherited value or expression; an item given a new value or expression does not
keep the old note or citation, which spoke of the old value.
"""
from __future__ import annotations

import copy
from dataclasses import replace

from . import nodes as n
from . import types as T
from .editions import SUPERSEDES
from .model import Clause, ExceptionRule, Named, Origin, Parameter

# The expression of an item a patch re-notes without restating it (loader → apply_patch only).
INHERITED = n.Literal(None, T.ANY, "（沿用上级的表达式）")
# What restates a parameter's value; without any of them a patch item keeps the inherited value.
VALUE_KEYS = ("value", "history", "delegated")


def apply_patch(base: Clause, patch: Clause, written: dict, relation: str | None = None) -> Clause:
    merged = copy.copy(base)
    merged.parameters = dict(base.parameters)
    merged.definitions = dict(base.definitions)
    merged.conditions = dict(base.conditions)
    merged.conclusions = dict(base.conclusions)
    merged.exceptions = list(base.exceptions)
    merged.overrides = dict(base.overrides)
    merged.removed = dict(base.removed)
    merged.sources = {**base.sources, **patch.sources}
    origin = patch.origin
    for key in ("title", "source", "departments", "valid", "period_by", "notes", "subject", "kind"):
        if key in written:
            setattr(merged, key, getattr(patch, key))
            merged.overrides[key] = _at(origin, written, key)
    for section in ("parameters", "definitions", "conditions", "conclusions"):
        table = getattr(merged, section)
        raw = written.get(section) or {}
        for name, item in getattr(patch, section).items():
            old = getattr(base, section).get(name)
            if old is not None:
                w = raw.get(name) if isinstance(raw.get(name), dict) else {"expr": raw.get(name)}
                item = _parameter(base, old, item, w, relation) if isinstance(item, Parameter) else _named(base, old, item, w)
            table[name] = item
            merged.overrides[f"{section}.{name}"] = item.origin or origin  # type: ignore[assignment]
    for rule in patch.exceptions:
        if rule.when is INHERITED:  # re-noted or re-cited: the inherited rule, in its place
            merged.exceptions = [_renoted_exception(base, r, rule, _written_exception(written, rule.id))
                                 if r.id == rule.id else r for r in merged.exceptions]
        else:
            merged.exceptions = [r for r in merged.exceptions if r.id != rule.id] + [rule]
        merged.overrides[f"exceptions.{rule.id}"] = rule.origin or origin  # type: ignore[assignment]
    for entry in written.get("remove") or ():
        _remove(merged, str(entry), Origin(origin.set_name, origin.file, getattr(entry, "span", None)))  # type: ignore[union-attr]
    merged.origin = base.origin
    merged.patched_by = origin  # type: ignore[attr-defined]
    return merged


def _parameter(base: Clause, old: Parameter, new: Parameter, w: dict, relation: str | None) -> Parameter:
    if not any(k in w for k in VALUE_KEYS):  # re-noted, re-cited or re-bounded: the value stands
        return replace(new, value=old.value, history=old.history, value_span=old.value_span, delegated=old.delegated,
                       note=new.note if "note" in w else old.note,
                       source=new.source if "source" in w else base.cite(old.source, old.origin))
    new = replace(new, note=new.note if "note" in w else None, source=new.source if "source" in w else None)
    if relation == SUPERSEDES and "delegated" not in w and new.delegated is not None:
        # an edition that fixes a value itself takes it back from the level it was delegated to;
        # the bounds were the delegate's limits and go with the delegation unless restated
        new = replace(new, delegated=None, **({} if "bounds" in w else {"bounds": (None, None), "bounds_origin": None}))
    return new


def _named(base: Clause, old: Named, new: Named, w: dict) -> Named:
    if new.expr is not INHERITED:
        return new
    return replace(old, note=new.note if "note" in w else old.note,
                   source=new.source if "source" in w else base.cite(old.source, old.origin),
                   quote=new.quote if "text" in w else old.quote, quote_span=new.quote_span if "text" in w else old.quote_span,
                   label=new.label if "label" in w else old.label, origin=new.origin)


def _renoted_exception(base: Clause, old: ExceptionRule, new: ExceptionRule, w: dict) -> ExceptionRule:
    return replace(old, note=new.note if "note" in w else old.note,
                   source=new.source if "source" in w else base.cite(old.source, old.origin), origin=new.origin)


def _written_exception(written: dict, rid: str) -> dict:
    return next((e for e in written.get("exceptions") or () if isinstance(e, dict) and str(e.get("id")) == rid), {})


def _remove(merged: Clause, name: str, where: Origin) -> None:
    """Drop an item (or an exception by id); patch_problems has checked the name exists."""
    for section in ("parameters", "definitions", "conditions", "conclusions"):
        table = getattr(merged, section)
        if name in table:
            del table[name]
            merged.overrides.pop(f"{section}.{name}", None)
            merged.removed[f"{section}.{name}"] = where
            return
    if any(r.id == name for r in merged.exceptions):
        merged.exceptions = [r for r in merged.exceptions if r.id != name]
        merged.overrides.pop(f"exceptions.{name}", None)
        merged.removed[f"exceptions.{name}"] = where


def _at(origin: Origin | None, written: dict, key: str) -> Origin:
    assert origin is not None
    span = written.key_span(key) if hasattr(written, "key_span") else origin.span
    return Origin(origin.set_name, origin.file, span)
