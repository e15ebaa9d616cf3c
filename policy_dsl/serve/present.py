"""A screening step as JSON: the next question, what is still open, and per clause what is
already known (values in words, the Chinese explanation with its citations) for the page."""
from __future__ import annotations

from ..periods.words import clause_edition, edition_json
from ..engine import RuleEngine
from ..explain import render_text
from ..render.zh import Words, value_words
from ..render_json import json_value, reason_text
from ..values import Unknown
from .questions import Question, Screening
from .registry import citation_json

_VERDICT = ("eligible", "in_force", "valid")  # the conclusion that says whether a clause applies
# Words for a set's own extra conclusions, which the vocabulary does not label
_FALLBACK_LABELS = {"in_force": "在政策执行期内", "eligible": "符合条件", "amount": "金额", "period_end": "政策截止日期"}


def screening_json(engine: RuleEngine, s: Screening) -> dict:
    return {
        "policy_set": engine.name,
        "scope": list(s.scope),
        "question": question_json(s.question) if s.question else None,
        "open": [{"conclusion": key, "label": _label(engine, key), "missing": sorted(facts)}
                 for key, facts in s.open.items()],
        "unsettled": [{"conclusion": key, "label": _label(engine, key), "missing": sorted(u.missing),
                       "reason": reason_text(u, engine.vocab)} for key, u in s.unsettled.items()],
        "decision": {"schema": "policy-dsl/evaluation", "version": 1, **s.decision.to_json()},  # as evaluate gives it
        "results": [_clause(engine, s, cid) for cid in s.scope],
    }


def question_json(q: Question) -> dict:
    frac = q.settles_expected
    return {"fact": q.fact, "label": q.label, "type": q.type,
            "values": [{"value": v, "label": lbl} for v, lbl in q.values],
            "settles": {"always": q.settles_always,
                        "expected": str(frac.numerator) if frac.denominator == 1 else f"{frac.numerator}/{frac.denominator}"},
            "conclusions": list(q.conclusions)}


def _label(engine: RuleEngine, key: str) -> str:
    cid, name = key.split(".", 1)
    return f"{engine.rule_set.clauses[cid].title}·{Words(engine).conclusion(cid, name)}"


def _clause(engine: RuleEngine, s: Screening, cid: str) -> dict:
    clause = engine.rule_set.clauses[cid]
    spec = engine.vocab.clauses.get(cid)
    decision = s.decision
    words = Words(engine)
    conclusions = []
    for name in clause.conclusions:
        key = f"{cid}.{name}"
        value, t = decision.slots[key], engine.slot_type(key)
        unit = spec.units.get(name, "") if spec else ""
        text = value_words(value, str(t), unit, words.conclusion_enum(cid, name))  # the clerk's words: 60%, 未确定
        label = words.conclusion(cid, name)
        label = _FALLBACK_LABELS.get(name, name) if label == name else label
        conclusions.append({"name": name, "label": label, "type": t.kind,
                            "value": json_value(value, t, engine.vocab), "text": text,
                            "determined": value.__class__ is not Unknown})
    # only the vocabulary's verdicts: a set's own extra conclusion (onthejob in_force: the period is
    # still open) does not say the applicant qualifies
    verdict = next((decision.slots[f"{cid}.{v}"] for v in _VERDICT if spec and v in spec.conclusions), None)
    if verdict is True:
        status = "applies"
    elif verdict is False:
        status = "does_not_apply"
    elif verdict is None and all(c["determined"] for c in conclusions):
        status = "determined"
    else:
        status = "undetermined"
    out = {"id": cid, "title": clause.title, "citation": citation_json(clause.source),
           "departments": list(clause.departments), "status": status, "conclusions": conclusions,
           "explanation": render_text(decision, cid, "zh")}
    if engine.rule_set.period is not None:  # the edition that judged the clause (as eval's JSON says)
        out["edition"] = edition_json(clause_edition(decision, cid))
    return out

