"""The 政策清单 / 办事指南 as data, built from a loaded rule set (`policy catalog`).

Every sentence about a rule comes from render.zh.Words (the words `policy explain` uses), every
value from the rule files: nothing here is written beside the rules, so the guide cannot drift
from what the engine decides. Rendering (md, html, json) is in render_*.py.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..authoring.facts_template import direct_facts
from ..authoring.inventory import chain
from ..editions import editions
from ..model import Citation, Clause, Parameter, RuleSet
from ..render_json import json_value
from ..render.words import day, unit_of, value_words
from ..render.zh import Words
from ..sources import read_document, resolve_articles

if TYPE_CHECKING:
    from ..engine import RuleEngine

SCHEMA = "policy-dsl/catalog"  # with "version": 1; policy_dsl/schema/catalog-v1.json

SUBJECTS = {
    "unit": "用人单位（参保单位）",
    "person": "个人",
    "graduate": "高校毕业生",
    "household": "家庭",
    "honor": "获评称号的地区和公共就业服务机构",
    "always": "各地区、各有关部门",
}
# A case's date of application: a clause reading one is applied for (申请/申领).
_APPLICATION_FACT = re.compile(r"application_date$")
# A date parameter that is a time limit (受理期限, 执行期限, 申请截止日期), not a cut-off between regimes
# (旧情形截止日期) or a publication date: named so by the rule files.
_DEADLINE = re.compile(r"期限|申请截止|申领截止|受理截止|开始截止")
# The numbered articles of a document ("一（一）" … "五（十八）") and its attachments ("附件1").
_ARTICLE = re.compile(r"^[一二三四五六七八九十]+（[一二三四五六七八九十]+）$|^附件\d+$")


@dataclass(frozen=True)
class Cite:
    set: str | None
    document: str | None
    article: str | None
    text: str | None

    def short(self) -> str:
        return " ".join(x for x in (self.document, self.article) if x)


@dataclass(frozen=True)
class Line:
    """One rule in words: a label (a condition's or conclusion's name) and the sentence."""

    label: str
    text: str
    quote: str | None = None      # the original sentence the rule reads, when the rule file gives it


@dataclass(frozen=True)
class ParamRow:
    name: str
    value: str                    # in words with its unit ("30人", "20%", "2021年12月31日"), or why it is open
    data: object                  # the value as JSON (decimal strings, ISO dates, lists), None when open
    type: str
    filled: bool
    set: str | None               # the set whose file wrote the value
    citation: Cite | None
    delegated_to: str | None = None
    delegated_reason: str | None = None
    bounds: str | None = None


@dataclass(frozen=True)
class CityChange:
    """What the city changed relative to the province, with both citations."""

    what: str
    change: str                   # 填写 | 改写 | 新增 | 删除
    base: str | None
    variant: str | None
    base_citation: str | None
    variant_citation: str | None


@dataclass(frozen=True)
class Entry:
    id: str
    name: str                     # 政策名称
    kind: str                     # computable | informational
    subject: str
    subject_zh: str               # 适用对象
    citations: tuple[Cite, ...]   # 政策依据: province first, then the city
    terms: tuple[Line, ...]       # the definitions the conditions and amounts use (裁员率 …)
    conditions: tuple[Line, ...]  # 享受条件
    standards: tuple[Line, ...]   # 补贴标准 and how amounts are computed
    deadlines: tuple[Line, ...]   # 办理时限
    modes: tuple[Line, ...]       # 办理方式
    parameters: tuple[ParamRow, ...]
    departments: tuple[str, ...]  # 责任单位
    changes: tuple[CityChange, ...] = ()
    open: tuple[ParamRow, ...] = ()   # left to the city by the province and still not filled


@dataclass(frozen=True)
class Doc:
    id: str
    title: str
    date: str | None
    set: str                      # the rule set whose manifest lists it


@dataclass(frozen=True)
class Coverage:
    article: str
    document: str
    clauses: tuple[str, ...]


@dataclass(frozen=True)
class Catalog:
    set: str
    title: str
    jurisdiction: str
    extends: str | None
    documents: tuple[Doc, ...]
    entries: tuple[Entry, ...]
    coverage: tuple[Coverage, ...]
    open: tuple[tuple[str, ParamRow], ...]   # (clause id, parameter) of every delegation still open
    period: str | None = None                # the period the set governs, in words (policy-set.yaml `period`)


def build_catalog(engine: "RuleEngine", subject: str | None = None, clauses: list[str] | None = None) -> Catalog:
    rs = engine.rule_set
    words = Words(engine)
    ids = [cid for cid in rs.clauses if (not clauses or cid in clauses)]
    if subject:
        ids = [cid for cid in ids if rs.clauses[cid].subject in (subject, "always")]
    entries = tuple(_entry(engine, words, rs.clauses[cid]) for cid in ids)
    opened = tuple((e.id, p) for e in entries for p in e.open)
    rows = coverage(rs)
    if subject or clauses:  # a part of the catalog: only the articles its policies cite
        rows = tuple(Coverage(r.article, r.document, tuple(c for c in r.clauses if c in ids)) for r in rows)
        rows = tuple(r for r in rows if r.clauses)
    from ..periods.words import period_words

    return Catalog(rs.name, rs.title, rs.jurisdiction, rs.extends, _documents(rs), entries, rows, opened,
                   period_words(rs.period) if rs.period else None)


def _documents(rs: RuleSet) -> tuple[Doc, ...]:
    out: list[Doc] = []
    for s in reversed(chain(rs)):
        for d in s.documents.values():
            if all(d.id != x.id for x in out):  # a variant's manifest lists its base's documents too
                out.append(Doc(d.id, d.title, d.date.isoformat() if d.date else None, s.name))
    return tuple(out)


def _cite(c: Citation | None, set_name: str | None) -> Cite | None:
    return Cite(set_name, c.document, c.article, c.text) if c else None


def _superseded_unquoted(rs: RuleSet, cites: list[Cite]) -> list[Cite]:
    """Where an edition cites its own text for a clause, an earlier edition's citation stays as a
    reference without its quote: that text is what the edition changed (liaoning-2022's 稳岗返还
    would otherwise show 辽人社发〔2021〕7号's "不高于6%" above its own 5.5%). The conditions the
    edition kept still quote the earlier text where they are listed."""
    level = [s.name for s in editions(rs)]  # newest first
    cited = [c.set for c in cites if c.set in level]
    if not cited:
        return cites
    newest = min(level.index(name) for name in cited)
    return [Cite(c.set, c.document, c.article, None) if c.set in level and level.index(c.set) > newest else c
            for c in cites]


def _entry(engine: "RuleEngine", words: Words, clause: Clause) -> Entry:
    rs = engine.rule_set
    order = [s.name for s in reversed(chain(rs))]
    cites = [Cite(s, c.document, c.article, c.text) for s, c in sorted(clause.sources.items(),
                                                                        key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)]
    cites = _superseded_unquoted(rs, cites)
    if not cites and clause.source:
        cites = [Cite(rs.name, clause.source.document, clause.source.article, clause.source.text)]
    params = tuple(_param_row(rs, words, clause, p) for p in clause.parameters.values())
    conditions, standards, deadlines = _rules(engine, words, clause)
    return Entry(
        id=clause.id, name=words.clause(clause.id), kind=clause.kind, subject=clause.subject,
        subject_zh=SUBJECTS.get(clause.subject, clause.subject), citations=tuple(cites),
        terms=tuple(Line(name, words.rule(clause.id, name), d.quote) for name, d in clause.definitions.items()),
        conditions=conditions, standards=standards, deadlines=deadlines,
        modes=_modes(engine, words, clause), parameters=params, departments=clause.departments,
        changes=_changes(rs, words, clause), open=tuple(p for p in params if p.delegated_to and not p.filled))


def _param_row(rs: RuleSet, words: Words, clause: Clause, p: Parameter) -> ParamRow:
    from ..diff import _bounds  # the diff's own "≤ 30%" for a delegation's limits

    if p.history:
        value = "；".join(f"{day(d)}起{value_words(v, str(p.type), unit_of(p.name))}" for d, v in p.history)
    elif p.filled:
        value = words.rule(clause.id, p.name)
    elif p.delegated:
        reason = p.delegated.reason
        value = reason if reason.startswith(f"由{p.delegated.to}") else f"由{p.delegated.to}确定（{reason}）"
    else:
        value = "未规定"
    by = p.origin.set_name if p.origin else None
    data = json_value(p.value, p.type) if p.value is not None else \
        [{"from": d.isoformat(), "value": json_value(v, p.type)} for d, v in p.history] or None
    return ParamRow(p.name, value, data, str(p.type), p.filled, by, _cite(clause.cite(p.source, p.origin), by),
                    p.delegated.to if p.delegated else None, p.delegated.reason if p.delegated else None,
                    _bounds(p) if p.delegated else None)


def _rules(engine: "RuleEngine", words: Words, clause: Clause) -> tuple[tuple[Line, ...], tuple[Line, ...], tuple[Line, ...]]:
    conditions: list[Line] = []
    standards: list[Line] = []
    deadlines: list[Line] = []
    for name, item in clause.conditions.items():
        conditions.append(Line(name, words.rule(clause.id, name), item.quote))
    for name, item in clause.conclusions.items():
        t = str(engine.analysis.slot_types.get(f"{clause.id}.{name}", item.declared or ""))
        line = Line(words.conclusion(clause.id, name), words.rule(clause.id, name), item.quote)
        if t == "bool":
            conditions.append(line)
        elif t == "date":
            deadlines.append(line)
        else:
            standards.append(line)
    for rule in clause.exceptions:
        label = words.conclusion(clause.id, rule.conclusion)
        text = f"{words.rule_words(rule.when)}的，{label}视为“{words.rule_words(rule.value)}”"
        conditions.append(Line(f"例外：{rule.id}", text, rule.source.text if rule.source else None))
    for p in clause.parameters.values():
        shown = words.rule(clause.id, p.name) if p.filled else ""
        # a date the deadlines above already state (执行期限 behind period_end) is not repeated
        if str(p.type) == "date" and p.filled and _DEADLINE.search(p.name) and all(shown not in x.text for x in deadlines):
            deadlines.append(Line(p.name, words.rule(clause.id, p.name)))
    return tuple(conditions), tuple(standards), tuple(deadlines)


def _modes(engine: "RuleEngine", words: Words, clause: Clause) -> tuple[Line, ...]:
    if clause.kind != "computable":
        return ()
    out: list[Line] = []
    if "auto_pay" in clause.conclusions:
        out.append(Line("免申即享", f"{words.rule(clause.id, 'auto_pay')}的，免申领直接拨付，无需申请"))
    facts = set().union(*(direct_facts(engine.analysis, clause, name) for name in clause.items())) if clause.items() else set()
    applied = sorted(words.fact(f) for f in facts if _APPLICATION_FACT.search(f))
    if applied:
        who = "其余符合条件的" if out else "符合条件的"
        out.append(Line("申请", f"{who}按期提出申请（以{'、'.join(applied)}判断是否在期限内）"))
    if not out:
        out.append(Line("按规定办理", "条文未规定申请方式，由责任单位按规定认定、办理"))
    return tuple(out)


_CHANGE = {"filled": "填写", "changed": "改写", "added": "新增", "removed": "删除", "redelegated": "再委托",
           "delegated": "改为委托", "widened": "放宽", "narrowed": "收紧"}
_KIND = {"parameter": "参数", "definition": "定义", "condition": "条件", "conclusion": "结论", "exception": "例外",
         "metadata": "", "clause": "条款", "bounds": "参数范围"}
_META = {"title": "政策名称", "source": "政策依据", "departments": "责任单位", "notes": "说明", "subject": "适用对象",
         "kind": "条款类型", "valid": "有效期"}


def _changes(rs: RuleSet, words: Words, clause: Clause) -> tuple[CityChange, ...]:
    """The static diff (diff.static_diff) of this clause, province → city, in the guide's words."""
    from ..diff import _clause_diff

    if rs.base is None or clause.id not in rs.base.clauses:
        return ()
    out: list[CityChange] = []
    for ch in _clause_diff(rs.base.clauses[clause.id], clause):
        if ch.kind == "metadata" and ch.name in ("notes", "source"):
            continue  # the city's own citation is shown under 政策依据; notes are for authors
        what = _META.get(ch.name, ch.name) if ch.kind == "metadata" else f"{_KIND[ch.kind]}「{ch.name}」"
        base, variant = ch.base, ch.variant
        if ch.kind == "metadata" and ch.name == "departments":
            base = "、".join(rs.base.clauses[clause.id].departments) or "未列明"
            variant = "、".join(clause.departments) or "未列明"
        if ch.kind == "parameter" and ch.name in clause.parameters and clause.parameters[ch.name].filled:
            variant = words.rule(clause.id, ch.name)
        out.append(CityChange(what, _CHANGE.get(ch.change, ch.change), base, variant, ch.base_citation,
                              ch.variant_citation))
    return tuple(out)


def coverage(rs: RuleSet) -> tuple[Coverage, ...]:
    """Each numbered article and attachment of the province document, with the clauses citing it."""
    root = chain(rs)[-1]
    out: list[Coverage] = []
    for doc in root.documents.values():
        if not doc.text_path:
            continue
        text = read_document(doc.text_path, doc.id)
        cited: dict[str, list[str]] = {}
        for clause in rs.clauses.values():
            for c in clause.sources.values() or [clause.source]:
                if c is None or c.document != doc.id or not c.article:
                    continue
                for art in resolve_articles(text, c.article) or []:
                    cited.setdefault(art.id, []).append(clause.id)
        for aid in text.articles:
            if _ARTICLE.match(aid):
                hits = [cid for cited_id, cids in cited.items() if cited_id == aid or cited_id.startswith(aid + " ")
                        for cid in cids]
                out.append(Coverage(aid, doc.id, tuple(dict.fromkeys(hits))))
    return tuple(out)
