"""Province → city variants: tests/fixtures/mini_province and mini_city, and the
extra cities under tests/fixtures/variants/ (each `extends: mini_province`;
`extends` names a sibling directory, so those are copied next to a copy of
mini_province in a temporary directory).

Expected values are worked out by hand from the fixture rules:
  裁员率 = layoffs / insured_headcount; passes when layoffs == 0, or
  (headcount <= 30 and rate <= 20%) or (headcount > 30 and rate <= 6%);
  refund_rate: large enterprise 大型企业返还比例, otherwise 中小微返还比例;
  amount = contribution * refund_rate when eligible, else 0元;
  auto_pay = eligible and headcount_end_2020 <= 200.
"""
from __future__ import annotations

import os
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

import policy_dsl
from policy_dsl import Unknown
from policy_dsl.checker import analyse
from policy_dsl.loader import load_rule_set
from policy_dsl.vocabulary import vocabulary

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
CLAUSE = "stable_job_refund"

MEDIUM = {  # tests/fixtures/unit-medium.yaml
    "as_of": date(2021, 9, 1),
    "region": {"city": "抚顺市", "ui_fund_reserve_months": 15},
    "unit": {"name": "某公司", "kind": "enterprise", "size": "medium", "ui_insured": True, "insured_headcount": 100,
             "layoffs": 4, "ui_contribution_last_year": "50000.00", "insured_headcount_end_2020": 120,
             "application_date": date(2021, 8, 20)},
}


def case(**unit) -> dict:
    return {**MEDIUM, "unit": {**MEDIUM["unit"], **unit}}


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def load_from_root(path: str) -> policy_dsl.RuleEngine:
    """Load with the repository root as working directory (file names stay relative)."""
    before = os.getcwd()
    os.chdir(ROOT)
    try:
        return policy_dsl.load(path)
    finally:
        os.chdir(before)


@pytest.fixture(scope="module")
def province() -> policy_dsl.RuleEngine:
    return load_from_root("tests/fixtures/mini_province")


@pytest.fixture(scope="module")
def city() -> policy_dsl.RuleEngine:
    return load_from_root("tests/fixtures/mini_city")


def variant(tmp_path: Path, name: str) -> Path:
    """tests/fixtures/variants/<name> next to a copy of mini_province."""
    shutil.copytree(FIXTURES / "mini_province", tmp_path / "mini_province")
    shutil.copytree(FIXTURES / "variants" / name, tmp_path / name)
    return tmp_path / name


def conclusions(decision: policy_dsl.Decision, clause: str = CLAUSE) -> dict:
    return decision.to_json()["clauses"][clause]["conclusions"]


# --- mini_city over mini_province ---------------------------------------------------------------

def test_city_fills_the_two_delegated_parameters(city: policy_dsl.RuleEngine) -> None:
    params = city.rule_set.clauses[CLAUSE].parameters
    assert params["大型企业返还比例"].value == Decimal("0.3")
    assert params["中小微返还比例"].value == Decimal("0.6")
    for name in ("大型企业返还比例", "中小微返还比例"):
        assert params[name].origin is not None and params[name].origin.set_name == "mini_city"
    # the province's bounds still apply to the city's values
    assert params["大型企业返还比例"].bounds == (None, Decimal("0.3"))
    assert params["中小微返还比例"].bounds == (None, Decimal("0.6"))


def test_city_keeps_the_province_conditions_definitions_and_exceptions(city: policy_dsl.RuleEngine) -> None:
    clause = city.rule_set.clauses[CLAUSE]
    assert list(clause.conditions) == ["参保", "裁员率达标"]
    assert list(clause.definitions) == ["裁员率", "按大型企业"]
    assert [r.id for r in clause.exceptions] == ["免申即享无需申请"]
    for item in [*clause.conditions.values(), *clause.definitions.values(), *clause.conclusions.values()]:
        assert item.origin is not None and item.origin.set_name == "mini_province", item.name
    # untouched parameters are the province's
    assert clause.parameters["裁员率上限"].value == Decimal("0.06")
    assert clause.parameters["小微单位人数"].value == 30


def test_city_records_exactly_what_it_overrides(city: policy_dsl.RuleEngine) -> None:
    clause = city.rule_set.clauses[CLAUSE]
    city_file = "tests/fixtures/mini_city/clauses/stable_job_refund.yaml"
    assert set(clause.overrides) == {"source", "departments", "parameters.大型企业返还比例", "parameters.中小微返还比例"}
    lines = {key: (o.set_name, o.file, o.span.line if o.span else None) for key, o in clause.overrides.items()}
    assert lines == {
        "source": ("mini_city", city_file, 2),
        "departments": ("mini_city", city_file, 3),
        "parameters.大型企业返还比例": ("mini_city", city_file, 5),
        "parameters.中小微返还比例": ("mini_city", city_file, 6),
    }
    assert clause.source is not None and clause.source.document == "某市人社发〔2021〕2号"
    assert clause.departments == ("市人社局",)
    # both citations are kept, by set
    assert clause.sources["mini_province"].document == "某人社发〔2021〕1号"
    assert clause.sources["mini_city"].document == "某市人社发〔2021〕2号"


def test_province_clause_records_no_overrides(province: policy_dsl.RuleEngine) -> None:
    assert province.rule_set.clauses[CLAUSE].overrides == {}
    assert province.rule_set.extends is None


def test_city_medium_enterprise_json(city: policy_dsl.RuleEngine) -> None:
    # 4/100 = 0.04 <= 6%; medium -> 60%; 50000.00 * 60% = 30000.00; 120 <= 200 -> auto_pay
    assert city.evaluate(MEDIUM).to_json() == {
        "policy_set": "mini_city",
        "as_of": "2021-09-01",
        "clauses": {
            CLAUSE: {
                "applicable": True,
                "conclusions": {
                    "eligible": True,
                    "layoff_rate": "0.04",
                    "max_refund_rate": "0.6",
                    "refund_rate": "0.6",
                    "max_amount": "30000.00",
                    "amount": "30000.00",
                    "auto_pay": True,
                    "apply_by": "2021-12-31",
                    "application_in_time": True,
                    "payable": True,
                },
            }
        },
    }


def test_city_large_enterprise_gets_the_city_30_percent(city: policy_dsl.RuleEngine) -> None:
    # 10/1000 = 0.01 <= 6%; large -> 30%; 200000.00 * 30% = 60000.00; 900 > 200 -> no auto_pay
    got = conclusions(city.evaluate(case(size="large", insured_headcount=1000, layoffs=10,
                                         ui_contribution_last_year="200000.00", insured_headcount_end_2020=900)))
    assert got["layoff_rate"] == "0.01"
    assert (got["max_refund_rate"], got["refund_rate"]) == ("0.3", "0.3")
    assert (got["max_amount"], got["amount"]) == ("60000.00", "60000.00")
    assert got["auto_pay"] is False
    assert got["application_in_time"] is True  # 2021-08-20 <= 2021-12-31


def test_city_still_applies_the_province_layoff_condition(city: policy_dsl.RuleEngine) -> None:
    # 7/100 = 7% > 6%: not eligible, so amount is 0.00 and auto_pay false
    got = conclusions(city.evaluate(case(layoffs=7)))
    assert got["eligible"] is False
    assert got["layoff_rate"] == "0.07"
    assert got["amount"] == "0.00"
    assert got["auto_pay"] is False
    # 30 insured (含30人): 6/30 = 20% is still allowed for small units
    got = conclusions(city.evaluate(case(insured_headcount=30, layoffs=6, insured_headcount_end_2020=30)))
    assert got["eligible"] is True
    assert got["layoff_rate"] == "0.2"
    assert got["amount"] == "30000.00"


def test_province_alone_leaves_refund_rate_and_amount_undetermined(province: policy_dsl.RuleEngine) -> None:
    decision = province.evaluate(MEDIUM)
    for name in ("refund_rate", "amount"):
        value = decision.value(f"{CLAUSE}.{name}")
        assert isinstance(value, Unknown)
        assert value.missing == frozenset({"中小微返还比例"})
        assert dict(value.reasons) == {"中小微返还比例": "由各市确定，不超过60%"}
    # what the province does fix is known
    assert decision.value(f"{CLAUSE}.max_amount") == Decimal("30000.00")
    assert decision.value(f"{CLAUSE}.eligible") is True


def test_province_json_shows_the_undetermined_values(province: policy_dsl.RuleEngine) -> None:
    undetermined = {"undetermined": True, "missing": ["中小微返还比例"], "reason": "由各市确定，不超过60%"}
    assert province.evaluate(MEDIUM).to_json() == {
        "policy_set": "mini_province",
        "as_of": "2021-09-01",
        "clauses": {
            CLAUSE: {
                "applicable": True,
                "conclusions": {
                    "eligible": True,
                    "layoff_rate": "0.04",
                    "max_refund_rate": "0.6",
                    "refund_rate": undetermined,
                    "max_amount": "30000.00",
                    "amount": undetermined,
                    "auto_pay": True,
                    "apply_by": "2021-12-31",
                    "application_in_time": True,
                    "payable": True,
                },
            }
        },
    }


def test_province_large_enterprise_names_the_other_delegated_parameter(province: policy_dsl.RuleEngine) -> None:
    got = conclusions(province.evaluate(case(size="large")))
    assert got["refund_rate"] == {"undetermined": True, "missing": ["大型企业返还比例"], "reason": "由各市确定，不超过30%"}
    assert got["max_refund_rate"] == "0.3"
    assert got["max_amount"] == "15000.00"  # 50000.00 * 30%


def test_not_eligible_decides_the_amount_even_in_the_province(province: policy_dsl.RuleEngine) -> None:
    # if eligible then contribution * (unknown rate) else 0元: eligible false -> 0.00, known
    got = conclusions(province.evaluate(case(ui_insured=False)))
    assert got["eligible"] is False
    assert got["amount"] == "0.00"
    assert got["refund_rate"]["undetermined"] is True  # the rate itself still depends on the city


def test_json_shape_of_a_case_without_the_clause_subject(city: policy_dsl.RuleEngine) -> None:
    out = city.evaluate({"as_of": "2021-09-01", "region": {"city": "抚顺市"}}).to_json()
    assert out == {"policy_set": "mini_city", "as_of": "2021-09-01",
                   "clauses": {CLAUSE: {"applicable": False, "conclusions": {}}}}


def test_json_shape_follows_the_vocabulary_evaluation_json(city: policy_dsl.RuleEngine) -> None:
    out = city.evaluate(MEDIUM).to_json()
    assert list(out) == ["policy_set", "as_of", "clauses"]
    for entry in out["clauses"].values():
        assert list(entry) == ["applicable", "conclusions"]
    # every conclusion the vocabulary lists for the clause, and (in this set) no other
    assert set(out["clauses"][CLAUSE]["conclusions"]) == set(vocabulary().clauses[CLAUSE].conclusions)


# --- other kinds of variant ---------------------------------------------------------------------

def test_city_overriding_a_single_conclusion(tmp_path: Path) -> None:
    engine = policy_dsl.load(variant(tmp_path, "city_one_conclusion"))
    clause = engine.rule_set.clauses[CLAUSE]
    assert set(clause.overrides) == {"conclusions.auto_pay"}
    assert clause.overrides["conclusions.auto_pay"].set_name == "city_one_conclusion"
    assert clause.conclusions["auto_pay"].text == "eligible and unit.insured_headcount_end_2020 <= 免申即享人数上限 / 2"
    # everything else is the province's: citation, departments, other conclusions
    assert clause.source is not None and clause.source.document == "某人社发〔2021〕1号"
    assert clause.departments == ("省人社厅",)
    assert clause.conclusions["eligible"].origin.set_name == "mini_province"
    got = conclusions(engine.evaluate(MEDIUM))
    assert got["auto_pay"] is False                   # 120 > 200 / 2
    assert got["application_in_time"] is True         # no exception: 2021-08-20 <= 2021-12-31
    assert got["refund_rate"]["missing"] == ["中小微返还比例"]  # the city did not fill the rates
    late = conclusions(engine.evaluate(case(application_date="2022-01-05")))
    assert late["application_in_time"] is False
    assert late["payable"] is False                   # late and not 免申即享: eligible, but not paid
    assert conclusions(engine.evaluate(case(insured_headcount_end_2020=100)))["auto_pay"] is True


def test_city_adding_a_new_clause(tmp_path: Path) -> None:
    engine = policy_dsl.load(variant(tmp_path, "city_new_clause"))
    assert list(engine.rule_set.clauses) == [CLAUSE, "city_bonus"]
    bonus = engine.rule_set.clauses["city_bonus"]
    assert bonus.origin is not None and bonus.origin.set_name == "city_new_clause"
    assert bonus.overrides == {}
    assert set(engine.rule_set.clauses[CLAUSE].overrides) == {"parameters.大型企业返还比例", "parameters.中小微返还比例"}
    out = engine.evaluate(MEDIUM).to_json()["clauses"]
    assert out["city_bonus"] == {"applicable": True, "conclusions": {"bonus": "1000.00"}}
    assert out[CLAUSE]["conclusions"]["refund_rate"] == "0.5"
    assert out[CLAUSE]["conclusions"]["amount"] == "25000.00"      # 50000.00 * 50%
    assert out[CLAUSE]["conclusions"]["max_amount"] == "30000.00"  # the province ceiling stays 60%
    # the new clause reads the province clause's conclusion: not eligible -> no bonus
    assert conclusions(engine.evaluate(case(layoffs=50)), "city_bonus") == {"bonus": "0.00"}
    assert analyse(engine.rule_set).diagnostics == []


def test_city_replacing_a_whole_clause(tmp_path: Path) -> None:
    path = variant(tmp_path, "city_replace")
    engine = policy_dsl.load(path)
    clause = engine.rule_set.clauses[CLAUSE]
    assert clause.title == "稳岗返还（市级整条替换）"
    assert list(clause.parameters) == ["统一返还比例"]
    assert list(clause.conditions) == ["参保企业"]
    assert clause.definitions == {}
    assert clause.exceptions == []
    assert clause.origin is not None and clause.origin.set_name == "city_replace"
    # 50/100 layoffs would fail the province's 6% test; the replacement has no such test
    got = conclusions(engine.evaluate(case(layoffs=50)))
    assert got == {
        "eligible": True,
        "layoff_rate": "0.5",
        "max_refund_rate": "0.5",
        "refund_rate": "0.5",
        "max_amount": "25000.00",
        "amount": "25000.00",
        "auto_pay": False,
        "apply_by": "2021-11-30",
        "application_in_time": True,
        "payable": True,
    }
    assert conclusions(policy_dsl.load("tests/fixtures/mini_city").evaluate(case(layoffs=50)))["eligible"] is False
    # a social organisation is not an enterprise under the city's text
    assert conclusions(engine.evaluate(case(kind="social_organization")))["amount"] == "0.00"


def test_variant_sets_remember_their_base(tmp_path: Path) -> None:
    rs = load_rule_set(variant(tmp_path, "city_new_clause"))
    assert rs.extends == "mini_province"
    assert rs.base is not None and rs.base.name == "mini_province"
    assert rs.vocabulary == "partial"  # inherited from the province's manifest
    assert set(rs.documents) == {"某人社发〔2021〕1号", "某市人社发〔2021〕4号"}
