"""Which facts a clause reads (`policy facts`), from the checker's name bindings and
slot dependencies, and a commented template or JSON Schema of just those facts.
"""
from __future__ import annotations

import copy

from .. import nodes as n
from .. import types as T
from ..checker import Analysis
from ..facts import facts_schema
from ..model import Clause, Named, RuleSet
from ..typer import FactBinding
from ..vocabulary import Vocabulary

SCHEMA = "policy-facts/v1"


def _roots(clause: Clause, name: str) -> list[n.Expr]:
    item = clause.items()[name]
    roots = [item.expr] if isinstance(item, Named) else []
    for rule in clause.exceptions:
        if rule.conclusion == name:
            roots += [rule.when, rule.value]
    return roots


def direct_facts(analysis: Analysis, clause: Clause, name: str) -> set[str]:
    return {b.path for r in _roots(clause, name) for node in n.walk(r)
            if isinstance(b := analysis.notes.bindings.get(id(node)), FactBinding)}


def facts_read(rs: RuleSet, analysis: Analysis, clause_ids: list[str]) -> list[str]:
    """Fact paths the clauses' items read, directly or through other clauses' items, in vocabulary order."""
    todo = [f"{cid}.{name}" for cid in clause_ids for name in rs.clauses[cid].items()]
    seen: set[str] = set()
    paths: set[str] = set()
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.add(key)
        cid, _, name = key.partition(".")
        paths |= direct_facts(analysis, rs.clauses[cid], name)
        todo.extend(analysis.deps.get(key, ()))
    order = list(rs.vocab.facts)
    return sorted(paths, key=lambda p: order.index(p) if p in order else len(order))


def _describe_type(t: T.Type, path: str, vocab: Vocabulary) -> str:
    spec = vocab.facts.get(path)
    labels = dict(spec.value_labels) if spec else {}
    if t.kind == "enum" or (t.kind == "set" and t.elem is not None and t.elem.kind == "enum"):
        values = t.values if t.kind == "enum" else t.elem.values  # type: ignore[union-attr]
        shown = " | ".join(f"{v} {labels[v]}" if v in labels else v for v in values)
        return f"{t}: {shown}" + ("（列表，可多选）" if t.kind == "set" else "")
    shown = {"money": "money，元，如 \"6000.00\"", "rate": "rate，如 0.6", "date": "date，YYYY-MM-DD",
             "bool": "bool，true/false"}.get(t.kind, str(t))
    return f"{shown}，单位 {spec.unit}" if spec and spec.unit and t.kind != "money" else shown


def template_yaml(rs: RuleSet, paths: list[str], title: str, vocab: Vocabulary | None = None) -> str:
    vocab = vocab or rs.vocab
    lines = [f"# 事实模板 facts template: {title}",
             "# 填写已知的事实；不知道的留空（空 = 未知：结论会是“未确定”，不会当作 0 或“否”）。",
             f"# 运行 run: policy eval {rs.name} 此文件.yaml"]
    rows: list[tuple[str, str]] = []
    current = None
    for path in paths:
        spec = vocab.facts[path]
        head, _, field = path.partition(".")
        if not field:
            rows.append((f"{head}:", f"{spec.zh} ({_describe_type(spec.type, path, vocab)})"))
            continue
        if head != current:
            rows.append((f"{head}:", ""))
            current = head
        if spec.type.kind == "list" and spec.type.elem is not None and spec.type.elem.kind == "record":
            rows.append((f"  {field}:", f"{spec.zh} (列表 list，每项一个记录)"))
            labels = dict(spec.field_labels)
            for i, (fname, ftype) in enumerate(spec.type.elem.fields or ()):
                rows.append((f"    {'- ' if i == 0 else '  '}{fname}:", f"{labels.get(fname, fname)} ({_describe_type(ftype, '', vocab)})"))
            continue
        rows.append((f"  {field}:", f"{spec.zh} ({_describe_type(spec.type, path, vocab)})"))
    width = max((len(k) for k, _ in rows), default=0) + 2
    for key, comment in rows:
        lines.append(f"{key.ljust(width)}# {comment}" if comment else key)
    return "\n".join(lines) + "\n"


def template_schema(rs: RuleSet, paths: list[str], title: str) -> dict:
    """The vocabulary's facts schema cut down to these paths (still 2020-12; unknown keys still rejected)."""
    full = copy.deepcopy(facts_schema(rs.vocab))
    props: dict = {}
    for path in paths:
        head, _, field = path.partition(".")
        if not field:
            props[head] = full["properties"][head]
            continue
        subject = props.setdefault(head, {**full["properties"][head], "properties": {}})
        subject["properties"][field] = full["properties"][head]["properties"][field]
    return {**full, "$id": f"https://policy-dsl.example/facts/{rs.name}.schema.json",
            "title": f"案例事实 facts: {title}", "properties": props}
