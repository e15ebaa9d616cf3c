"""--explain: one short Chinese reason per row and clause — the deciding
condition with its citation — read off the explanation trace.

For a clause with a payout rule the reason follows the payment: not eligible
(why), eligible and 免申即享 (why), or eligible, not 免申即享, and applied in
time or late. Otherwise it explains the clause's first yes/no conclusion.
Sentences come from prose.py, so they read like `policy explain`.
"""
from __future__ import annotations

from dataclasses import replace

from ..prose import cite, comparison, reasons, show_value
from ..render_json import reason_text
from ..trace import TraceBuilder, TraceNode
from ..values import Unknown
from .summary import PAYOUTS


def row_reasons(decision, clauses: tuple[str, ...]) -> dict[str, str]:
    """clause id → reason, for the applicable clauses among `clauses` that have one."""
    engine = decision.engine
    builder = TraceBuilder(engine, decision)
    out = {}
    for cid in clauses:
        result = decision.clauses[cid]
        if not result.applicable or not result.conclusions:
            continue
        spec = engine.vocab.clauses.get(cid)
        labels = spec.labels if spec else {}
        text = _payout_reason(builder, cid, labels) if cid in PAYOUTS else _first_bool(builder, cid, result, labels)
        if text:
            out[cid] = text
    return out


def _payout_reason(builder: TraceBuilder, cid: str, labels: dict) -> str:
    rule = PAYOUTS[cid]
    eligible = builder.conclusion(cid, rule.eligible)
    if eligible.value is not True:
        return _verdict_line(eligible, labels)
    automatic = builder.conclusion(cid, rule.automatic)
    amount = builder.decision.clauses[cid].conclusions.get(rule.amount)
    pay = f"；{labels.get(rule.amount, rule.amount)} {show_value(amount, 'money')}"
    auto_label = labels.get(rule.automatic, rule.automatic)
    if automatic.value is True:
        return f"{auto_label}，直接拨付：{_why(automatic, labels, skip=rule.eligible)}{pay}"
    vocab = builder.engine.vocab
    head = (f"符合条件；是否{auto_label}待定：{reason_text(automatic.value, vocab)}"  # type: ignore[arg-type]
            if automatic.value.__class__ is Unknown else f"符合条件；非{auto_label}：{_why(automatic, labels, skip=rule.eligible)}")
    in_time = builder.conclusion(cid, rule.in_time)
    if in_time.value is True:
        return f"{head}；已在申请期限内申请：{_why(in_time, labels)}{pay}"
    if in_time.value is False:
        return f"{head}；逾期申请，不拨付：{_why(in_time, labels)}"
    return f"{head}；是否按期申请待定：{reason_text(in_time.value, vocab)}"  # type: ignore[arg-type]


def _first_bool(builder: TraceBuilder, cid: str, result, labels: dict) -> str | None:
    for name, value in result.conclusions.items():
        if value is True or value is False or (value.__class__ is Unknown and builder.engine.slot_type(
                f"{cid}.{name}").kind == "bool"):
            return _verdict_line(builder.conclusion(cid, name), labels)
    return None


def _verdict_line(node: TraceNode, labels: dict) -> str:
    label = labels.get(node.label, node.label)
    if node.value is True:
        return f"{label}：{_why(node, labels)}"
    if node.value is False:
        return f"不{label}：{_why(node, labels)}" if label.startswith("符合") else f"{label}：否——{_why(node, labels)}"
    return f"{label}待定：{_why(node, labels)}"


def _why(node: TraceNode, labels: dict, skip: str | None = None) -> str:
    """The deciding parts of a yes/no node, each as a sentence, with the citation."""
    applied = [c for c in node.children if c.kind == "exception" and c.value is True]
    if applied:
        exc = applied[0]
        return f"例外「{exc.label}」适用：{exc.expr}（{cite(exc)}）"
    kids = [_labelled(c, labels) for c in node.children if c.kind not in ("literal", "exception") and c.evaluated]
    if node.op in ("and", "or"):
        if node.value.__class__ is Unknown:
            picked = [k for k in kids if k.value.__class__ is Unknown]
        elif (node.op == "and") == (node.value is False):
            picked = [k for k in kids if k.value is node.value]
        else:
            picked = kids
        picked = [k for k in picked if skip is None or k.label != labels.get(skip, skip)] or picked
        parts = [_part(k, labels) for k in picked]
        cites = list(dict.fromkeys(cite(k) for k in picked if k.kind == "condition" and cite(k)))
        where = "；".join(cites) or cite(node)
        return "；".join(parts) + (f"（{where}）" if where else "")
    else:
        sentence = comparison(replace(node, children=kids), "zh")
        parts = [sentence] if sentence else ["；".join(reasons(replace(node, children=kids), "zh"))]
    where = cite(node)
    return "；".join(parts) + (f"（{where}）" if where else "")


def _part(node: TraceNode, labels: dict) -> str:
    if node.kind == "conclusion":
        return f"{node.label}：{show_value(node.value, node.value_type)}"
    detail = "；".join(reasons(node, "zh"))
    if node.kind == "condition" and node.label not in detail:
        return f"{node.label}——{detail}"
    return detail


def _labelled(node: TraceNode, labels: dict) -> TraceNode:
    """A conclusion of the same clause read in a sentence by its Chinese label (申请截止日期, not apply_by)."""
    if node.kind == "conclusion" and node.label in labels:
        return replace(node, label=labels[node.label])
    return node
