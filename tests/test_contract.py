"""The shared vocabulary is the contract: the packaged copy is the spec's, the facts
schema is derived from it, both rule sets honour it, and `policy eval --format json`
has exactly its shape."""
from __future__ import annotations

import json
import threading
from decimal import Decimal
from pathlib import Path

import jsonschema
import pytest
import yaml

from policy_dsl import load
from policy_dsl.checker import analyse
from policy_dsl.cli import main
from policy_dsl.facts import facts_schema
from policy_dsl.loader import load_rule_set
from policy_dsl.vocabulary import vocabulary

ROOT = Path(__file__).resolve().parent.parent
PACKAGED = ROOT / "policy_dsl" / "vocabulary.yaml"
# The contract of names (version 1), frozen as it was agreed: the project's vocabulary may add to it
# (labels, facts, comments) but every fact path, type, clause id and conclusion in it keeps working.
CONTRACT = ROOT / "tests" / "fixtures" / "vocabulary-contract-v1.yaml"


def test_packaged_vocabulary_keeps_every_contract_name() -> None:
    contract = yaml.safe_load(CONTRACT.read_text(encoding="utf-8"))
    ours = yaml.safe_load(PACKAGED.read_text(encoding="utf-8"))
    for path, spec in contract["facts"].items():
        assert path in ours["facts"], path
        assert ours["facts"][path]["type"] == spec["type"], path
        for value in spec.get("values") or {}:
            assert value in (ours["facts"][path].get("values") or {}), (path, value)
        for name, field in (spec.get("fields") or {}).items():
            assert ours["facts"][path]["fields"][name]["type"] == field["type"], (path, name)
    for cid, spec in contract["clauses"].items():
        assert cid in ours["clauses"], cid
        assert ours["clauses"][cid]["subject"] == spec["subject"], cid
        for name, kind in spec["conclusions"].items():
            assert ours["clauses"][cid]["conclusions"][name] == kind, (cid, name)


def test_facts_schema_is_derived_from_every_vocabulary_fact() -> None:
    schema = facts_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    raw = yaml.safe_load(PACKAGED.read_text(encoding="utf-8"))["facts"]
    json_type = {"bool": "boolean", "int": "integer", "date": "string", "string": "string", "enum": "string",
                 "set of enum": "array", "list of record": "array"}
    for path, spec in raw.items():
        node = schema["properties"]
        for part in path.split(".")[:-1]:
            node = node[part]["properties"]
        prop = node[path.split(".")[-1]]
        assert prop["title"] == spec["zh"]
        want = json_type.get(spec["type"], ["number", "string"])
        assert prop["type"] == want, path
        if spec["type"] == "enum":
            assert prop["enum"] == list(spec["values"])


@pytest.mark.parametrize("name", ["liaoning", "fushun"])
def test_both_sets_honour_the_vocabulary(name: str) -> None:
    analysis = analyse(load_rule_set(ROOT / "policies" / name))
    assert analysis.diagnostics == []
    for cid, spec in vocabulary().clauses.items():
        for concl in spec.conclusions:
            assert f"{cid}.{concl}" in analysis.slot_types


def test_eval_json_has_exactly_the_contract_shape(capsys) -> None:
    assert main(["eval", "fushun", str(ROOT / "examples" / "unit-medium.yaml"), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    # the version fields are added, and (a set that states its period) the additive title and period of
    # editions by period (docs/rule-files.md, 期间); nothing else
    assert set(out) == {"schema", "version", "policy_set", "title", "as_of", "period", "clauses"}
    assert out["title"] == "抚顺市关于延续实施和优化完善减负稳岗扩就业政策实施细则"
    assert out["period"] == {"from": "2021-06-30", "zh": "辽人社发〔2021〕7号实施后受理的申请"}  # fushun governs liaoning's
    assert (out["schema"], out["version"]) == ("policy-dsl/evaluation", 1)
    assert set(out["clauses"]) >= set(vocabulary().clauses)
    for cid, clause in out["clauses"].items():
        assert set(clause) == {"applicable", "conclusions"}  # every clause judged by fushun itself: no edition
        if not clause["applicable"]:
            assert clause["conclusions"] == {}
    refund = out["clauses"]["stable_job_refund"]["conclusions"]
    assert refund["amount"] == "30000.00" and refund["max_amount"] == "30000.00"  # money: 2 places
    assert Decimal(refund["refund_rate"]) == Decimal("0.6")


def test_sets_are_sorted_arrays(capsys, tmp_path) -> None:
    facts = tmp_path / "g.yaml"
    facts.write_text("graduate: {family_identities: [orphan, dibao_family, disabled]}\n", encoding="utf-8")
    assert main(["eval", "liaoning", str(facts), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["clauses"]["job_seeking_subsidy"]["conclusions"]["matched_identities"] == \
        ["dibao_family", "disabled", "orphan"]


def test_a_loaded_set_serves_many_threads() -> None:
    engine = load(ROOT / "policies" / "fushun")
    cases = [{"as_of": "2021-09-01", "region": {"ui_fund_reserve_months": 12 + i % 3},
              "unit": {"kind": "enterprise", "size": ["large", "medium"][i % 2], "ui_insured": True,
                       "insured_headcount": 10 + i, "layoffs": i % 7, "ui_contribution_last_year": f"{1000 + i}.05",
                       "insured_headcount_end_2020": 150 + i, "application_date": "2021-12-31"}} for i in range(200)]
    expected = [engine.evaluate(c).to_json() for c in cases]
    results: dict[int, dict] = {}

    def work(offset: int) -> None:
        for i in range(offset, len(cases), 4):
            results[i] = engine.evaluate(cases[i]).to_json()

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[i] for i in range(len(cases))] == expected


# --- whole rule sets under arbitrary well-typed facts --------------------------------------------
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from policy_dsl import PolicyError  # noqa: E402


def _value_strategy(t) -> st.SearchStrategy:
    k = t.kind
    if k == "bool":
        return st.booleans()
    if k == "int":
        return st.integers(-5, 10**6)
    if k in ("decimal", "money", "rate"):
        return st.decimals(min_value=-1000, max_value=10**7, places=2, allow_nan=False, allow_infinity=False).map(str)
    if k == "date":
        return st.dates().map(lambda d: d.isoformat())
    if k == "enum":
        return st.sampled_from(list(t.values))
    if k == "set":
        return st.lists(st.sampled_from(list(t.elem.values)), unique=True, max_size=4)
    if k == "list":
        fields = {name: st.booleans() for name, _ in t.elem.fields}
        return st.lists(st.fixed_dictionaries({}, optional=fields), max_size=4)
    return st.text(max_size=5)


def _facts() -> st.SearchStrategy:
    by_subject: dict[str, dict] = {}
    for path, spec in vocabulary().facts.items():
        if "." in path:
            subject, name = path.split(".", 1)
            by_subject.setdefault(subject, {})[name] = _value_strategy(spec.type)
    subjects = {s: st.fixed_dictionaries({}, optional=f) for s, f in by_subject.items()}
    return st.fixed_dictionaries({}, optional={**subjects, "as_of": st.dates().map(lambda d: d.isoformat())})


_ENGINES = {name: load(ROOT / "policies" / name) for name in ("liaoning", "fushun")}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_facts())
def test_any_well_typed_facts_give_a_decision_or_a_policy_error(facts: dict) -> None:
    for engine in _ENGINES.values():
        try:
            engine.evaluate(facts, trace=True).to_json()
        except PolicyError:
            pass


def test_content_hash_depends_on_the_rules_not_where_they_sit(tmp_path) -> None:
    import shutil

    shutil.copytree(ROOT / "policies", tmp_path / "elsewhere")
    here = load_rule_set(ROOT / "policies" / "fushun").content_hash
    assert load_rule_set(tmp_path / "elsewhere" / "fushun").content_hash == here
    clause = tmp_path / "elsewhere" / "liaoning" / "clauses" / "stable_job_refund.yaml"
    clause.write_text(clause.read_text(encoding="utf-8") + "\n# 改动\n", encoding="utf-8")
    assert load_rule_set(tmp_path / "elsewhere" / "fushun").content_hash != here  # the base is part of it
