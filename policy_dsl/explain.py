"""Renderers of an explained decision: a rich tree for terminals, prose in
Chinese or English, and versioned JSON (policy_dsl/schema/decision-v1.json).
They read Decision + TraceNode data only; nothing here evaluates.
"""
from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from .prose import conclusion_lines, show_value
from .render_json import json_value
from .trace import TraceNode, build_trace
from .values import Unknown, format_decimal, isolated

if TYPE_CHECKING:
    from .engine import Decision

SCHEMA_VERSION = 1
_MARK = {"true": "[green]✓[/]", "false": "[red]✗[/]", "unknown": "[yellow]?[/]", "value": "[cyan]·[/]",
         "not_evaluated": "[dim]⊘[/]"}
_KIND_ZH = {"conclusion": "结论", "condition": "条件", "definition": "定义", "parameter": "参数", "fact": "事实",
            "exception": "例外", "expr": "", "literal": ""}


# --- tree -----------------------------------------------------------------------------------
@isolated
def render_tree(decision: "Decision", clause: str | None = None, lang: str = "zh", width: int = 100) -> str:
    console = Console(file=io.StringIO(), width=width, force_terminal=False, color_system=None, highlight=False)
    traces = build_trace(decision, clause)
    engine = decision.engine
    assert engine is not None
    head = f"{decision.policy_set} · 评估日期 {decision.as_of or '未给出'}" if lang == "zh" else \
        f"{decision.policy_set} · as of {decision.as_of or 'not given'}"
    console.print(head)
    for cid, conclusions in traces.items():
        c = engine.rule_set.clauses[cid]
        cite = f"（{c.source.short()}）" if c.source else ""
        tree = Tree(f"[bold]{escape(c.title)}[/] {escape('[' + cid + ']')}{escape(cite)}")
        notes_shown: set[str] = set()  # each note once per clause: trees repeat shared definitions
        for node in conclusions.values():
            _add(tree, node, lang, c.source.short() if c.source else "", notes_shown)
        console.print(tree)
    return console.file.getvalue()  # type: ignore[attr-defined]


def _add(parent: Tree, node: TraceNode, lang: str, parent_cite: str, notes_shown: set[str]) -> None:
    if node.kind == "literal":
        return
    kind = _KIND_ZH.get(node.kind, "") if lang == "zh" else node.kind if node.kind != "expr" else ""
    value = node.value_label if (lang == "zh" and node.value_label and node.evaluated) else \
        show_value(node.value, node.value_type, lang)
    label = f"{_MARK[node.status]} {escape(kind + ' ' if kind else '')}{escape(node.label)} = {escape(value)}"
    if node.kind == "fact" and node.zh and lang == "zh":
        label += f" [dim]（{escape(node.zh)}）[/]"
    cite = node.citation.short() if node.citation else ""
    if cite and cite != parent_cite:
        label += f" [dim][{escape(cite)}][/]"
    if node.overridden_by:
        label += f" [magenta]（{escape(node.overridden_by)} 修改）[/]" if lang == "zh" else f" [magenta](set by {escape(node.overridden_by)})[/]"
    if node.delegated:
        label += f" [yellow]{escape(node.delegated)}[/]"
    if node.note and node.note not in notes_shown:
        notes_shown.add(node.note)
        label += f"\n[dim]注：{escape(node.note)}[/]" if lang == "zh" else f"\n[dim]note: {escape(node.note)}[/]"
    if node.ref:
        label += " [dim]（见上）[/]" if lang == "zh" else " [dim](see above)[/]"
    branch = parent.add(label)
    for child in node.children:
        _add(branch, child, lang, cite or parent_cite, notes_shown)


# --- prose -----------------------------------------------------------------------------------
@isolated
def render_text(decision: "Decision", clause: str | None = None, lang: str = "zh") -> str:
    engine = decision.engine
    assert engine is not None
    traces = build_trace(decision, clause)
    out = []
    for cid, conclusions in traces.items():
        c = engine.rule_set.clauses[cid]
        cite = c.source.short() if c.source else ""
        out.append(f"{c.title}（{cid}）· {cite}")
        for node in conclusions.values():
            out.extend("  " + line for line in conclusion_lines(node, lang))
        out.append("")
    skipped = [cid for cid, r in decision.clauses.items() if not r.applicable and (clause is None or cid == clause)]
    if skipped:
        out.append(("不适用（案例中没有相应对象）：" if lang == "zh" else "not applicable (no such subject in the case): ")
                   + "、".join(skipped))
    return "\n".join(out).rstrip() + "\n"


# --- JSON ------------------------------------------------------------------------------------
def node_json(node: TraceNode, engine) -> dict:
    out: dict = {"kind": node.kind, "label": node.label, "status": node.status}
    if node.evaluated:
        t = _type(node.value_type)
        out["value"] = json_value(node.value, t, engine.vocab)
    for key in ("expr", "clause", "note", "quote", "zh", "delegated", "overridden_by", "op", "value_type"):
        v = getattr(node, key)
        if v:
            out[key] = v
    if node.citation:
        out["citation"] = {k: v for k, v in vars(node.citation).items() if v}
    raw = node.raw_value
    if node.value_type == "money" and raw is not None and raw.__class__ is not Unknown and not isinstance(raw, bool) \
            and raw != node.value:
        out["unrounded"] = format_decimal(raw)  # the amount before the conclusion's rounding to the fen
    if node.value.__class__ is Unknown:
        out["missing"] = sorted(node.value.missing)  # type: ignore[attr-defined]
    if node.ref:
        out["ref"] = f"{node.clause}.{node.label}"
    reads = sorted({n.label for n in node.walk() if n.kind in ("fact", "parameter") and n.evaluated and n is not node})
    if reads:
        out["reads"] = reads
    if node.children:
        out["children"] = [node_json(c, engine) for c in node.children]
    return out


def _type(name: str | None):
    from . import types as T

    return T.parse_type_name(name.split(" ")[0]) if name else None


@isolated
def explain_json(decision: "Decision", clause: str | None = None) -> dict:
    engine = decision.engine
    assert engine is not None
    traces = build_trace(decision, clause)
    clauses = {}
    for cid, result in decision.clauses.items():
        if clause and cid != clause:
            continue
        c = engine.rule_set.clauses[cid]
        entry: dict = {"applicable": result.applicable, "title": c.title, "kind": c.kind,
                       "departments": list(c.departments)}
        if c.source:
            entry["citation"] = {k: v for k, v in vars(c.source).items() if v}
        conclusions = {}
        for name, value in result.conclusions.items():
            t = engine.slot_type(f"{cid}.{name}")
            conclusions[name] = {"value": json_value(value, t, engine.vocab),
                                 "trace": node_json(traces[cid][name], engine)}
        entry["conclusions"] = conclusions
        clauses[cid] = entry
    return {
        "schema": "policy-dsl/decision",
        "version": SCHEMA_VERSION,
        "policy_set": decision.policy_set,
        "extends": engine.rule_set.extends,
        "content_hash": decision.content_hash,
        "as_of": decision.as_of.isoformat() if decision.as_of else None,
        "facts": {k: json_value(v, engine.vocab.facts[k].type if k in engine.vocab.facts else None)
                  for k, v in decision.facts.items() if not k.startswith("$")},
        "clauses": clauses,
    }


def run_explain(args) -> int:
    from .engine import load
    from .facts import read_facts
    from .errors import UsageError, did_you_mean

    engine = load(args.set)
    if args.clause and args.clause not in engine.rule_set.clauses:
        raise UsageError(f"未知的条款 {args.clause!r} unknown clause", hint=did_you_mean(args.clause, engine.rule_set.clauses))
    decision = engine.evaluate(read_facts(args.facts), as_of=args.as_of, trace=True, source=args.facts)
    if args.format == "json":
        print(json.dumps(explain_json(decision, args.clause), ensure_ascii=False, indent=2))
    elif args.format == "text":
        print(render_text(decision, args.clause, args.lang), end="")
    else:
        print(render_tree(decision, args.clause, args.lang, args.width), end="")
    return 0
