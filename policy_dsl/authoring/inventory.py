"""What a rule set contains, as JSON-ready data (`policy show`): clauses with titles
and citations, parameters with value, bounds, delegation and who set or changed them,
conclusions with their types. Rendering is in show_render.py.
"""
from __future__ import annotations

from typing import Any

from ..checker import Analysis
from ..periods.words import period_json
from ..model import Citation, Clause, Origin, Parameter, RuleSet
from ..render_json import json_value
from ..values import format_typed
from ..setfacts import declared_by_sets, fact_json
from ..vocabulary import vocabulary

SCHEMA = "policy-dsl/show"  # with "version": 1; policy_dsl/schema/show-v1.json


def chain(rs: RuleSet) -> list[RuleSet]:
    """The set and its bases, the set itself first."""
    out = [rs]
    while out[-1].base is not None:
        out.append(out[-1].base)  # type: ignore[arg-type]
    return out


def delegated_by(rs: RuleSet, cid: str, name: str) -> str | None:
    """The set that wrote the delegation in force: the base-most one still carrying it unchanged
    (a variant that passes a delegation on with its own reason is its author)."""
    current = rs.clauses[cid].parameters[name].delegated
    who = None
    for s in chain(rs):
        clause = s.clauses.get(cid)
        param = clause.parameters.get(name) if clause else None
        if param is None or param.delegated != current:
            break
        who = s.name
    return who if current is not None else None


def unfilled(rs: RuleSet) -> list[tuple[Clause, Parameter]]:
    """Delegated parameters with no value in this set."""
    return [(c, p) for c in rs.clauses.values() for p in c.parameters.values() if p.delegated and not p.filled]


def _citation(c: Citation | None, set_name: str | None = None) -> dict | None:
    if c is None:
        return None
    return {"set": set_name, "document": c.document, "article": c.article, "text": c.text}


def _where(o: Origin | None) -> dict | None:
    if o is None:
        return None
    return {"set": o.set_name, "file": o.file, "line": o.span.line if o.span else None}


def _value(v: object, p: Parameter) -> Any:
    return None if v is None else {"json": json_value(v, p.type), "text": format_typed(v, p.type.kind)}


def parameter(rs: RuleSet, clause: Clause, p: Parameter) -> dict:
    lo, hi = p.bounds
    base_param = rs.base.clauses[clause.id].parameters.get(p.name) if rs.base and clause.id in rs.base.clauses else None
    changed = p.origin is not None and base_param is not None and p.origin.set_name == rs.name
    return {
        "name": p.name, "type": str(p.type), "value": _value(p.value, p),
        "history": [{"from": d.isoformat(), "value": _value(v, p),
                     **({"source": _citation(c)} if c else {})}
                    for (d, v), c in zip(p.history, p.history_sources or (None,) * len(p.history))],
        "filled": p.filled,
        "bounds": {"min": _value(lo, p), "max": _value(hi, p)} if (lo, hi) != (None, None) else None,
        "delegated": {"to": p.delegated.to, "reason": p.delegated.reason,
                      "by": delegated_by(rs, clause.id, p.name)} if p.delegated else None,
        "set": p.origin.set_name if p.origin else None,
        "overridden_by": _where(clause.overrides.get(f"parameters.{p.name}") or p.origin) if changed else None,
        "defined_at": _where(p.origin),
        "citation": _citation(clause.cite(p.source, p.origin), p.origin.set_name if p.origin else None),
        "note": p.note,
    }


def clause_data(rs: RuleSet, analysis: Analysis, clause: Clause) -> dict:
    spec = vocabulary().clauses.get(clause.id)
    used = set().union(*analysis.deps.values()) if analysis.deps else set()
    start, end = clause.valid
    return {
        "id": clause.id, "title": clause.title, "kind": clause.kind, "subject": clause.subject,
        "valid": {"from": start.isoformat() if start else None, "to": end.isoformat() if end else None},
        **({"period_by": str(clause.period_by)} if clause.period_by else {}),
        "citations": [_citation(c, s) for s, c in clause.sources.items()] or
                     ([_citation(clause.source)] if clause.source else []),
        "departments": list(clause.departments),
        "defined_in": clause.origin.set_name if clause.origin else None,
        "patched_by": _where(getattr(clause, "patched_by", None)),
        "parameters": [parameter(rs, clause, p) for p in clause.parameters.values()],
        "conditions": [{"name": c.name, "expr": c.text, "quote": c.quote,
                        "set": c.origin.set_name if c.origin else None} for c in clause.conditions.values()],
        "conclusions": [{"name": c.name, "type": str(analysis.slot_types.get(f"{clause.id}.{c.name}", c.declared or "any")),
                         "label": (spec.labels.get(c.name) if spec else None) or c.label or None,
                         "in_vocabulary": bool(spec and c.name in spec.conclusions),
                         "set": c.origin.set_name if c.origin else None} for c in clause.conclusions.values()],
        "unused": [name for name in [*clause.parameters, *clause.definitions]
                   if f"{clause.id}.{name}" not in used],
        "exceptions": [{"id": e.id, "conclusion": e.conclusion, "when": e.when_text,
                        "set": e.origin.set_name if e.origin else None} for e in clause.exceptions],
    }


def inventory(rs: RuleSet, analysis: Analysis, clause_id: str | None = None) -> dict:
    clauses = [rs.clauses[clause_id]] if clause_id else list(rs.clauses.values())
    return {
        "schema": SCHEMA, "version": 1, "set": rs.name, "title": rs.title, "jurisdiction": rs.jurisdiction,
        "extends": rs.extends, "supersedes": rs.supersedes, "path": rs.path, "content_hash": rs.content_hash,
        **({"period": period_json(rs.period)} if rs.period else {}),
        "documents": [{"id": d.id, "title": d.title, "date": d.date.isoformat() if d.date else None}
                      for d in rs.documents.values()],
        "clauses": [clause_data(rs, analysis, c) for c in clauses],
        "declared_facts": [fact_json(spec) for spec in declared_by_sets(rs.vocab)],
        "unfilled_delegations": [{"clause": c.id, "parameter": p.name, "to": p.delegated.to,  # type: ignore[union-attr]
                                  "reason": p.delegated.reason,  # type: ignore[union-attr]
                                  "by": delegated_by(rs, c.id, p.name)}
                                 for c, p in unfilled(rs) if clause_id in (None, c.id)],
    }
