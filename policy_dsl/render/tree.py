"""Trees for the terminal: the clerk's report as a tree (`--format tree`) and the full condition
tree for developers (`--format tree --full`).

Laid out here, not by rich's wrapper: a line breaks only between segments or after Chinese
punctuation and spaces, never inside a label, a value or an identifier; the width comes from
the terminal. Colour (through rich) only on a terminal, and NO_COLOR turns it off.
"""
from __future__ import annotations

import io
import os
import re
import shutil
import sys
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from ..prose import show_value
from ..trace import TraceNode, build_trace
from .report import MET, NOT_MET, CaseReport

if TYPE_CHECKING:
    from ..engine import Decision

Segment = tuple[str, str, bool]   # text, rich style, atomic (never broken)


@dataclass
class Node:
    segments: list[Segment]
    children: list["Node"] = field(default_factory=list)

    def add(self, *segments: Segment) -> "Node":
        child = Node(list(segments))
        self.children.append(child)
        return child


def seg(text: str, style: str = "", atomic: bool = False) -> Segment:
    return (text, style, atomic)


def atom(text: str, style: str = "") -> Segment:
    return (text, style, True)


# --- layout -------------------------------------------------------------------------------------
_BREAK_AFTER = re.compile(r"(?<=[，；：、。）」”])|(?<= )")


def _tokens(segments: list[Segment]) -> list[tuple[str, str, bool]]:
    out: list[tuple[str, str, bool]] = []
    for text, style, atomic in segments:
        if atomic or text == "\n":
            out.append((text, style, True))
            continue
        out.extend((piece, style, False) for piece in _BREAK_AFTER.split(text) if piece)
    return out


# Inside running Chinese text a line may break between two characters (as Chinese typesetting does)
# when no punctuation comes soon enough; never inside a run of ASCII (a number, a date, a code).
_PARTICLE = re.compile(r"(?<=[和或及按的与并且])(?![）〕」”])")
_UNITS = re.compile(r"[\u4e00-\u9fff]{0,8}〔\d{4}〕\d+号"       # a document number: 抚人社函〔2021〕23号
                    r"|\d{4}年\d{1,2}月\d{1,2}日"                 # a date
                    r"|≈?[\d.,]+(?:个月|万元|元|人|天|次|年|日|周岁|倍|名|%)?"  # an amount with its unit
                    r"|[A-Za-z0-9_.%/+-]+|.", re.S)


def _wrap(segments: list[Segment], width: int) -> list[list[tuple[str, str]]]:
    lines: list[list[tuple[str, str]]] = [[]]
    used = 0

    def put(text: str, style: str) -> None:
        nonlocal used
        size = cell_len(text)
        if used and used + size > width:
            lines.append([])
            used = 0
            text = text.lstrip(" ")
            size = cell_len(text)
        lines[-1].append((text, style))
        used += size

    for text, style, atomic in _tokens(segments):
        if text == "\n":
            lines.append([])
            used = 0
        elif atomic or cell_len(text) <= width - used or cell_len(text) <= width // 2:
            put(text, style)
        else:  # a long run of text: break after a particle, or else between two characters
            for chunk in _PARTICLE.split(text):
                if cell_len(chunk) <= width // 2:
                    put(chunk, style)
                    continue
                for unit in _UNITS.findall(chunk):
                    put(unit, style)
    return lines


def layout(root: Node, width: int) -> list[list[tuple[str, str]]]:
    """Lines of (text, style) pieces: guides, then the node's wrapped segments."""
    out: list[list[tuple[str, str]]] = []

    def emit(node: Node, first: str, rest: str) -> None:
        avail = max(20, width - cell_len(first))
        for i, line in enumerate(_wrap(node.segments, avail)):
            out.append([((first if i == 0 else rest), "dim")] + line)
        for j, child in enumerate(node.children):
            last = j == len(node.children) - 1
            emit(child, rest + ("└── " if last else "├── "), rest + ("    " if last else "│   "))

    emit(root, "", "")
    return out


def render_lines(lines: list[list[tuple[str, str]]], colour: bool) -> str:
    if not colour:
        return "".join("".join(t for t, _ in line).rstrip() + "\n" for line in lines)
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=10_000, highlight=False, soft_wrap=True)
    for line in lines:
        text = Text()
        for piece, style in line:
            text.append(piece, style=style or None)
        console.print(text, soft_wrap=True)
    return buffer.getvalue()


def terminal_width(given: int | None) -> int:
    return given or shutil.get_terminal_size((100, 24)).columns


def use_colour(stream=None) -> bool:
    stream = stream or sys.stdout
    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ


# --- the clerk's report as a tree ---------------------------------------------------------------
_STATUS_STYLE = {MET: "bold green", NOT_MET: "bold red"}


def report_tree(report: CaseReport) -> Node:
    root = Node([atom(report.set_title, "bold"), seg(" · 评估日期 "), atom(report.as_of),
                 seg("\n"), seg("申请人："), atom(report.applicant)])
    for c in report.clauses:
        clause = root.add(atom(c.title, "bold"))
        if c.edition:  # 按《…》（2022年受理的申请）判断: which edition's rules the case was judged by
            clause.add(seg(c.edition, "dim"))
        for v in c.verdicts:
            branch = clause.add(atom(v.label), seg("："), atom(v.status, _STATUS_STYLE.get(v.status, "bold yellow")),
                                *([seg("。"), atom(v.notice, "bold red")] if v.notice else []))
            for r in v.reasons:
                branch.add(seg(r))
            if v.also:
                branch.add(seg(f"{v.also_label}："), seg("、".join(v.also)))
        if c.requests:
            clause.add(atom("请提供：", "bold yellow"), seg("、".join(c.requests)))
        for p in c.pending:
            clause.add(seg(p, "yellow"))
        for r in c.results + c.deadlines:
            cited = [seg("（", "dim"), *_joined(r.cites, "；", "dim"), seg("）", "dim")] if r.cites else []
            line = clause.add(atom(f"{r.label}："), atom(r.text, "cyan"), *cited)
            for reason in r.reasons:
                line.add(seg(reason))
        clause.add(atom("依据：", "dim"), *_joined(c.basis, "；", "dim"))
        if c.departments:
            clause.add(atom("责任单位：", "dim"), seg("、".join(c.departments), "dim"))
    if report.untouched:
        root.add(atom("未涉及：", "dim"), seg("、".join(report.untouched), "dim"))
    return root


def _joined(items, separator: str, style: str = "") -> list[Segment]:
    """Each item whole (a citation, a name), the line free to break after the separators."""
    out: list[Segment] = []
    for i, item in enumerate(items):
        if i:
            out.append(seg(separator, style))
        out.append(atom(item, style))
    return out


# --- the full condition tree, for developers ------------------------------------------------------
_MARK = {"true": ("✓", "green"), "false": ("✗", "red"), "unknown": ("?", "yellow"), "value": ("·", "cyan"),
         "not_evaluated": ("⊘", "dim")}
_KIND_ZH = {"conclusion": "结论", "condition": "条件", "definition": "定义", "parameter": "参数", "fact": "事实",
            "exception": "例外", "expr": "", "literal": ""}


def full_tree(decision: "Decision", clause: str | None, lang: str) -> list[Node]:
    engine = decision.engine
    assert engine is not None
    zh = lang == "zh"
    head = f"{decision.policy_set} · 评估日期 {decision.as_of or '未给出'}" if zh else \
        f"{decision.policy_set} · as of {decision.as_of or 'not given'}"
    roots = [Node([seg(head)])]
    for cid, conclusions in build_trace(decision, clause).items():
        c = engine.rule_set.clauses[cid]
        cite = c.source.short() if c.source else ""
        branch = Node([atom(c.title, "bold"), seg(" "), atom(f"[{cid}]"), *([seg(f"（{cite}）")] if cite else [])])
        roots.append(branch)
        notes: set[str] = set()  # each note once per clause: trees repeat shared definitions
        for node in conclusions.values():
            _full(branch, node, zh, cite, notes)
    return roots


def _full(parent: Node, node: TraceNode, zh: bool, parent_cite: str, notes: set[str]) -> None:
    if node.kind == "literal":
        return
    mark, style = _MARK[node.status]
    kind = _KIND_ZH.get(node.kind, "") if zh else (node.kind if node.kind != "expr" else "")
    value = node.value_label if (zh and node.value_label and node.evaluated) else \
        show_value(node.value, node.value_type, "zh" if zh else "en")
    segments = [atom(mark, style), seg(" ")] + ([atom(kind, "dim"), seg(" ")] if kind else [])
    label = seg(node.label) if node.kind == "expr" else atom(node.label, "bold" if node.kind == "conclusion" else "")
    segments += [label, seg(" = "), seg(value, style) if "、" in value else atom(value, style)]
    if node.kind == "fact" and node.zh and zh:
        segments += [seg(" "), atom(f"（{node.zh}）", "dim")]
    cite = node.citation.short() if node.citation else ""
    if cite and cite != parent_cite:
        segments += [seg(" "), atom(f"[{cite}]", "dim")]
    for c in node.set_by:
        if c.short() != cite and node.kind != "parameter":
            segments += [seg(" "), atom(f"[{'数值' if zh else 'value'}：{c.short()}]", "magenta")]
    if node.overridden_by:
        segments += [seg(" "), atom(f"（{node.overridden_by} 修改）" if zh else f"(set by {node.overridden_by})", "magenta")]
    if node.delegated:
        segments += [seg(" "), seg(node.delegated, "yellow")]
    if node.ref:
        segments += [seg(" "), atom("（见上）" if zh else "(see above)", "dim")]
    if node.note and node.note not in notes:
        notes.add(node.note)
        segments += [seg("\n"), atom("注：" if zh else "note: ", "dim"), seg(node.note, "dim")]
    branch = parent.add(*segments)
    for child in node.children:
        _full(branch, child, zh, cite or parent_cite, notes)
