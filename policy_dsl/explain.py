"""Renderers of an explained decision: a rich tree for terminals, prose in
Chinese or English, and versioned JSON (policy_dsl/schema/decision-v2.json).
They read Decision + TraceNode data only; nothing here evaluates.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

from .prose import conclusion_lines
from .render_json import json_value
from .trace import TraceNode, build_trace
from .values import Unknown, format_decimal, isolated

if TYPE_CHECKING:
    from .engine import Decision

SCHEMA_VERSION = 2  # 2: set_by on trace nodes; label and text on conclusions (schema/decision-v2.json)


# --- tree -----------------------------------------------------------------------------------
@isolated
def render_tree(decision: "Decision", clause: str | None = None, lang: str = "zh", width: int | None = 100,
                full: bool = True, colour: bool = False) -> str:
    """The tree: for developers (`full`) every node with identifiers, notes and citations; otherwise
    the clerk's report as a tree (Chinese only)."""
    from .render.report import case_report
    from .render.tree import full_tree, layout, render_lines, report_tree, terminal_width

    roots = full_tree(decision, clause, lang) if full or lang != "zh" else [report_tree(case_report(decision, clause))]
    return render_lines([line for root in roots for line in layout(root, terminal_width(width))], colour)


# --- prose -----------------------------------------------------------------------------------
@isolated
def render_text(decision: "Decision", clause: str | None = None, lang: str = "zh") -> str:
    """Chinese: the clerk's text (render/clerk.py). English: the developer's prose, clause by clause."""
    if lang == "zh":
        from .render.clerk import clerk_text
        from .render.report import case_report

        return clerk_text(case_report(decision, clause))
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
        out.append("not applicable (no such subject in the case): " + ", ".join(skipped))
    return "\n".join(out).rstrip() + "\n"


def render_notice(decision: "Decision", clause: str | None = None, form: str = "md") -> str:
    """A 告知书 draft for the applicant: Markdown or self-contained, print-ready HTML."""
    from .render.notice import notice_html, notice_markdown
    from .render.report import case_report

    report = case_report(decision, clause)
    return notice_html(report) if form == "html" else notice_markdown(report)


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
        out["citation"] = {k: v for k, v in vars(node.citation).items() if v and k != "span"}
    if node.set_by:
        out["set_by"] = [{k: v for k, v in vars(c).items() if v and k != "span"} for c in node.set_by]
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
    from .periods.words import edition_header, edition_json, named_edition, period_json
    from .render.zh import Words

    engine = decision.engine
    assert engine is not None
    words = Words(engine)
    traces = build_trace(decision, clause)
    clauses = {}
    for cid, result in decision.clauses.items():
        if clause and cid != clause:
            continue
        c = engine.rule_set.clauses[cid]
        entry: dict = {"applicable": result.applicable, "title": c.title, "kind": c.kind,
                       "departments": list(c.departments)}
        if c.source:
            entry["citation"] = {k: v for k, v in vars(c.source).items() if v and k != "span"}
        named, edition = named_edition(decision, cid)
        if named:  # editions by period: judged by an older edition, or not judged (null)
            entry["edition"] = edition_json(edition)
        conclusions = {}
        for name, value in result.conclusions.items():
            t = engine.slot_type(f"{cid}.{name}")
            node = traces[cid][name]
            conclusions[name] = {"value": json_value(value, t, engine.vocab), "label": words.conclusion(cid, name),
                                 "text": words.value(node), "trace": node_json(node, engine)}
        entry["conclusions"] = conclusions
        clauses[cid] = entry
    period = {"period": period_json(engine.rule_set.period)} if engine.rule_set.period else {}
    return {
        "schema": "policy-dsl/decision",
        "version": SCHEMA_VERSION,
        "policy_set": decision.policy_set,
        **edition_header(engine.rule_set),
        "extends": engine.rule_set.extends,
        "content_hash": decision.content_hash,
        "as_of": decision.as_of.isoformat() if decision.as_of else None,
        **period,
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
    if getattr(args, "notice_format", None) and args.format != "notice":
        raise UsageError("--notice-format 只用于 --format notice（告知书）", hint="policy explain SET FACTS --format notice --notice-format html")
    if getattr(args, "full", False) and args.format != "tree":
        raise UsageError("--full 只用于 --format tree（完整条件树）", hint="policy explain SET FACTS --format tree --full")
    decision = engine.evaluate(read_facts(args.facts), as_of=args.as_of, trace=True, source=args.facts)
    if args.format == "notice":
        print(render_notice(decision, args.clause, args.notice_format or "md"), end="")
    elif args.format == "json":
        print(json.dumps(explain_json(decision, args.clause), ensure_ascii=False, indent=2))
    elif args.format == "text":
        print(render_text(decision, args.clause, args.lang), end="")
    else:
        from .render.tree import use_colour

        print(render_tree(decision, args.clause, args.lang, args.width, full=args.full, colour=use_colour()), end="")
    return 0
