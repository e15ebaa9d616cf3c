"""The rule sets a service answers for: every set under one directory, loaded once at start.

A request names a set by its name only; nothing a request carries is ever used as a path.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..engine import RuleEngine, load, parameter_value
from ..errors import UsageError
from ..loader import MANIFEST
from ..sets import search_dirs
from ..model import Citation, Clause
from ..render.zh import Words
from ..render_json import json_value


@dataclass(frozen=True)
class Registry:
    engines: dict[str, RuleEngine]

    def get(self, name: str) -> RuleEngine | None:
        return self.engines.get(name)


def load_registry(directory: str | Path | None = None) -> Registry:
    """Load, check and compile every set (a directory holding policy-set.yaml) in `directory`, or
    else in the directories set names are looked up in (POLICY_PATH, ./policies); first name wins."""
    dirs = search_dirs(directory)
    if directory is not None and not Path(directory).is_dir():
        raise UsageError(f"找不到规则集目录 no such policies directory: {directory}")
    engines: dict[str, RuleEngine] = {}
    for root in dirs:
        for sub in sorted(p for p in root.iterdir() if (p / MANIFEST).is_file()) if root.is_dir() else ():
            if sub.name not in engines:
                engine = load(sub)
                engines[engine.name] = engine
    if not engines:
        where = "、".join(map(str, dirs))
        raise UsageError(f"没有规则集 no rule set (a directory with {MANIFEST}) in {where}")
    return Registry(engines)


def citation_json(c: Citation | None) -> dict | None:
    """document, article and quoted text (where it was read from is for checks, not for clients)."""
    if c is None:
        return None
    return {k: v for k, v in (("document", c.document), ("article", c.article), ("text", c.text)) if v}


def set_summary(engine: RuleEngine) -> dict:
    rs = engine.rule_set
    from ..periods.words import period_json

    return {"name": rs.name, "title": rs.title, "jurisdiction": rs.jurisdiction, "extends": rs.extends,
            **({"period": period_json(rs.period)} if rs.period else {}),
            "content_hash": rs.content_hash,
            "documents": [{"id": d.id, "title": d.title, "issuer": list(d.issuer),
                           "date": d.date.isoformat() if d.date else None} for d in rs.documents.values()]}


def set_detail(engine: RuleEngine) -> dict:
    return {**set_summary(engine), "clauses": [_clause(engine, c) for c in engine.rule_set.clauses.values()]}


def _clause(engine: RuleEngine, c: Clause) -> dict:
    labels = Words(engine).conclusion_labels(c.id)
    out: dict = {"id": c.id, "title": c.title, "kind": c.kind, "subject": c.subject,
                 **({"period_by": str(c.period_by)} if c.period_by else {}),
                 **({"valid": {k: d.isoformat() for k, d in zip(("from", "to"), c.valid) if d}}
                    if c.valid != (None, None) else {}),
                 "citation": citation_json(c.source), "departments": list(c.departments),
                 "conclusions": [{"name": name, "label": labels.get(name, name),
                                  "type": engine.slot_type(f"{c.id}.{name}").kind} for name in c.conclusions],
                 "parameters": [_parameter(engine, c, name) for name in c.parameters]}
    return out


def _parameter(engine: RuleEngine, c: Clause, name: str) -> dict:
    p = c.parameters[name]
    out: dict = {"name": name, "type": p.type.kind,
                 "value": json_value(parameter_value(p), p.type, engine.vocab) if not p.history else None,
                 "citation": citation_json(p.source)}
    if p.history:
        sources = p.history_sources or (None,) * len(p.history)
        out["history"] = [{"from": start.isoformat(), "value": json_value(v, p.type, engine.vocab),
                           **({"source": citation_json(c)} if c else {})}
                          for (start, v), c in zip(p.history, sources)]
    if p.delegated:
        out["delegated"] = {"to": p.delegated.to, "reason": p.delegated.reason}
    return out
