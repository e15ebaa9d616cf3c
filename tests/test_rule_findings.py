"""Review findings on the two rule sets that YAML tests cannot see: where each item is cited,
which departments a clause names, and rule-file keys that are no longer accepted. The
behaviour changes have YAML tests next to the rules (policies/*/tests/)."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from policy_dsl import load
from policy_dsl.errors import CheckFailed
from policy_dsl.loader import load_rule_set
from policy_dsl.sources import read_document, resolve_articles, squeeze
from policy_dsl.trace import TraceNode, build_trace

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"


def _walk(node: TraceNode):
    yield node
    for child in node.children:
        yield from _walk(child)


def test_each_employment_difficulty_category_cites_its_own_item() -> None:
    rs = load_rule_set(POLICIES / "liaoning")
    clause = rs.clauses["employment_difficulty"]
    want = {"城市最低生活保障家庭成员": "附件2 一、2", "登记失业且距法定退休年龄5年以内": "附件2 一、3", "残疾人": "附件2 一、4",
            "单亲抚养未成年人者": "附件2 一、5", "随军后无工作的现役军人配偶": "附件2 一、6",
            "享受定期定量抚恤和生活补助的优抚对象": "附件2 一、7", "烈属": "附件2 一、8", "脱贫劳动力": "附件2 一、9",
            "农村低收入劳动力": "附件2 一、10", "城镇零就业家庭成员": "附件2 一、1", "县级以上劳动模范": "附件2 二、1",
            "土地被依法征收的失地农民": "附件2 二、2", "非重点帮扶县的脱贫劳动力": "附件2 二、3",
            "非重点帮扶县的农村低收入劳动力": "附件2 二、4", "符合条件的孤儿": "附件2 二、5"}
    for name, article in want.items():
        item = clause.conditions[name]
        assert clause.cite(item.source, item.origin).article == article, name
    # and the explanation shows it: a disabled martyr's family member in Fushun
    engine = load(POLICIES / "fushun")
    decision = engine.evaluate({"as_of": "2021-09-01", "person": {"identities": ["disabled", "martyr_family"],
                                                            "registered_unemployed": False, "zero_employment_family": False}}, trace=True)
    assert decision.clauses["employment_difficulty"].conclusions["categories"] == frozenset({"disabled", "martyr_family"})
    tree = build_trace(decision, "employment_difficulty")["employment_difficulty"]["categories"]
    cited = {n.label: n.citation.article for n in _walk(tree) if n.kind == "condition" and n.citation}
    assert cited["残疾人"] == "附件2 一、4" and cited["烈属"] == "附件2 一、8"


def test_fushun_onthejob_period_cites_the_city_extension() -> None:
    rs = load_rule_set(POLICIES / "fushun")
    param = rs.clauses["onthejob_training_subsidy"].parameters["以工代训实施期限"]
    assert (param.source.document, param.source.article) == ("抚人社发〔2021〕20号", "二")
    assert "抚人社发〔2020〕50号" in param.source.text
    base = load_rule_set(POLICIES / "liaoning").clauses["onthejob_training_subsidy"].parameters["以工代训实施期限"]
    assert param.value == base.value  # the same date: only the legal basis differs


@pytest.mark.parametrize("name", ["liaoning", "fushun"])
def test_departments_are_named_by_the_text(name: str) -> None:
    """A province clause lists only bodies its article names, in the article's words; a city
    clause the 责任单位 of its row of the 责任分工表 (and 各县区政府, which the table's note adds to every row)."""
    rs = load_rule_set(POLICIES / name)
    docs = {d.id: read_document(d.text_path, d.id) for d in rs.documents.values()}
    table = squeeze(docs["抚人社发〔2021〕20号"].articles["附件2 责任分工表"].text) if name == "fushun" else ""
    for cid, clause in rs.clauses.items():
        written_by = clause.overrides.get("departments") or clause.origin
        set_name = written_by.set_name if written_by else "liaoning"
        cite = clause.source_for(set_name)
        assert cite is not None, cid
        articles = resolve_articles(docs[cite.document], cite.article)
        assert articles, (cid, cite.article)
        text = "".join(a.text for a in articles)
        for department in clause.departments:
            if set_name == "fushun":
                assert squeeze(department) in table + text, (cid, department)
            else:
                assert squeeze(department) in text, (cid, department, cite.article)


def test_a_validity_period_without_a_period_date_is_refused_with_the_reason(tmp_path: Path) -> None:
    target = tmp_path / "liaoning"
    shutil.copytree(POLICIES / "liaoning", target)
    clause = target / "clauses" / "onthejob_training_subsidy.yaml"
    text = clause.read_text(encoding="utf-8").replace("subject: unit\n", "valid: {to: 2021-12-31}\nsubject: unit\n", 1)
    clause.write_text(text, encoding="utf-8")
    with pytest.raises(CheckFailed) as failed:
        load_rule_set(target)
    [error] = failed.value.diagnostics
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith("valid:"))
    assert (error.span.name, error.span.line, error.span.column) == (str(clause), line, 1)
    assert "valid" in error.message and "period_by" in error.hint and "as_of" in error.hint


def test_vocabulary_labels_every_conclusion_and_enum_value() -> None:
    from policy_dsl.vocabulary import vocabulary

    vocab = vocabulary()
    for cid, spec in vocab.clauses.items():
        assert set(spec.conclusions) <= set(spec.labels), cid
    assert vocab.clauses["stable_job_refund"].labels["payable"] == "应予拨付"
    for path, fact in vocab.facts.items():
        if fact.type.kind in ("enum", "set"):
            assert fact.value_labels and all(label for _, label in fact.value_labels), path
    for path in ("person.internship_application_date", "person.skill_upgrade_application_date",
                 "person.unemployment_subsidy_application_date", "graduate.flexibly_employed"):
        assert vocab.facts[path].zh, path
