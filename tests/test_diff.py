"""policy diff: each kind of override found statically with both citations; differences
in cases attributed from the traces; expected-differences gating; generated cases."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest

from policy_dsl import load
from policy_dsl.cli import main
from policy_dsl.diff import dynamic_diff, read_cases, static_diff

ROOT = Path(__file__).resolve().parent.parent
VARIANTS = Path(__file__).parent / "fixtures" / "variants"


@lru_cache(maxsize=None)
def engine(path: str):
    return load(path)


def _changes():
    return static_diff(engine(str(VARIANTS / "mini_province")).rule_set, engine(str(VARIANTS / "city_all")).rule_set)


def test_every_kind_of_override_is_listed() -> None:
    got = {(c.kind, c.name, c.change) for c in _changes()}
    assert got == {
        ("metadata", "source", "changed"), ("metadata", "departments", "changed"),
        ("parameter", "大型企业返还比例", "filled"), ("parameter", "中小微返还比例", "filled"),
        ("parameter", "免申即享人数上限", "changed"), ("condition", "非律师事务所", "added"),
        ("conclusion", "eligible", "changed"), ("conclusion", "apply_by", "changed"),
        ("exception", "社会团体延期", "added"), ("clause", "city_bonus", "added"),
    }


def test_filled_parameter_shows_the_bounds_and_both_citations() -> None:
    change = next(c for c in _changes() if c.name == "大型企业返还比例")
    assert change.base == "未定（由各市确定，不超过30%）"
    assert change.variant == "25%"
    assert change.bounds == "≤ 30%"
    assert change.base_citation == "某人社发〔2021〕1号 一（一）「大型企业按不超过……30%返还」"
    assert change.variant_citation == "某市人社发〔2021〕9号 一「大型企业按25%返还」"


def _differences():
    base, variant = engine(str(VARIANTS / "mini_province")), engine(str(VARIANTS / "city_all"))
    diffs, count = dynamic_diff(base, variant, read_cases(VARIANTS / "cases.yaml"), _changes())
    assert count == 3
    return {(d.case.rsplit("#", 1)[1], d.conclusion): d for d in diffs}


@pytest.mark.parametrize("case, conclusion, base, variant, because", [
    # 500 staff, 10 laid off (2%): eligible in both; the city filled the large-enterprise rate.
    ("large enterprise", "stable_job_refund.amount",
     {"undetermined": True, "missing": ["大型企业返还比例"], "reason": "由各市确定，不超过30%"}, "2500.00",
     ["stable_job_refund.大型企业返还比例"]),
    # 150 staff at the end of 2020: within the province's 200, over the city's 100.
    ("large enterprise", "stable_job_refund.auto_pay", True, False, ["stable_job_refund.免申即享人数上限"]),
    ("large enterprise", "stable_job_refund.apply_by", "2021-12-31", "2021-11-30", ["stable_job_refund.apply_by"]),
    # The city's added condition excludes law firms.
    ("law firm", "stable_job_refund.eligible", True, False,
     ["stable_job_refund.eligible", "stable_job_refund.非律师事务所"]),
    # Applied 2022-01-10: late for both deadlines, but the city's exception for social organisations applies.
    ("late social organization", "stable_job_refund.application_in_time", False, True,
     ["stable_job_refund.社会团体延期", "stable_job_refund.apply_by"]),
    ("law firm", "city_bonus.bonus", None, "0.00", ["city_bonus"]),
])
def test_differences_are_attributed_from_the_traces(case, conclusion, base, variant, because) -> None:
    d = _differences()[(case, conclusion)]
    assert (d.base, d.variant, d.because) == (base, variant, because)


def test_undeclared_differences_fail_and_declared_pass(capsys) -> None:
    code = main(["diff", str(VARIANTS / "mini_province"), str(VARIANTS / "city_all"), "--cases",
                 str(VARIANTS / "cases.yaml"), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1
    declared = {d["conclusion"] for d in report["differences"] if d["declared"]}
    assert declared == {"stable_job_refund.refund_rate"}
    assert report["summary"]["undeclared"] == report["summary"]["differences"] - 3


def test_liaoning_to_fushun_declares_every_difference_of_its_tests(capsys) -> None:
    code = main(["diff", "liaoning", "fushun", "--cases", str(ROOT / "policies" / "fushun" / "tests"), "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, [d for d in report["differences"] if not d["declared"]]
    assert report["summary"]["differences"] > 0


def test_generated_cases_reach_every_clause_and_every_declared_difference(capsys) -> None:
    code = main(["diff", "liaoning", "fushun", "--generate", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0
    gen = report["generated"]
    assert gen["cases"] > 200 and gen["clauses_reached"] == gen["clauses"] == 16
    assert gen["conditions_both_ways"] >= 0.8 * gen["conditions"]
    # every comparison of both sets saw both outcomes and a case exactly on its threshold (tests/test_diffgen.py)
    assert report["thresholds"]["both_outcomes"] == report["thresholds"]["comparisons"] > 0
    assert report["thresholds"]["exactly_at"] == report["thresholds"]["ordered"]
    found = {d["conclusion"] for d in report["differences"]}
    assert found == {"stable_job_refund.refund_rate", "stable_job_refund.amount",
                     "graduate_training_subsidy.list_approver", "graduate_training_subsidy.subsidy_standard_basis",
                     "flexible_employment_si_extension.max_extension_months",
                     "implementation_deadlines.policy_list_due"}


def test_static_text_output_names_both_sides(capsys) -> None:
    assert main(["diff", "liaoning", "fushun"]) == 0
    out = capsys.readouterr().out
    assert "liaoning → fushun" in out and "大型企业返还比例" in out and "填写委托参数" in out


def test_changing_a_parameter_the_province_did_not_delegate_is_a_warning(capsys) -> None:
    assert main(["check", str(VARIANTS / "city_all")]) == 1
    out = capsys.readouterr().out
    assert "[警告 warning]" in out and "参数 免申即享人数上限 在 mini_province 中不是委托给下级的参数" in out
    assert "[错误 error]" not in out


def test_a_city_that_keeps_a_delegation_open_but_changes_its_basis_is_listed(capsys) -> None:
    change = next(c for c in static_diff(engine("liaoning").rule_set, engine("fushun").rule_set)
                  if c.name == "以工代训补贴标准")
    assert change.change == "redelegated"
    assert "抚人社函〔2021〕23号" in change.variant


def test_a_misspelt_expected_difference_is_an_error_not_a_silent_declaration(tmp_path, capsys) -> None:
    bad = tmp_path / "expected.yaml"
    bad.write_text("- conclusion: stable_job_refund.amout\n  citation: 某市人社发〔2021〕9号 一\n", encoding="utf-8")
    code = main(["diff", str(VARIANTS / "mini_province"), str(VARIANTS / "city_all"), "--cases",
                 str(VARIANTS / "cases.yaml"), "--expected", str(bad)])
    err = capsys.readouterr().err
    assert code == 1  # a rule-side file is wrong: exit 1, as for any rule-file error
    assert f"{bad}:1:15:" in err and "是否要写 did you mean: stable_job_refund.amount？" in err


def test_declared_differences_that_no_case_shows_are_reported(capsys) -> None:
    main(["diff", "liaoning", "fushun", "--cases", str(ROOT / "policies" / "fushun" / "tests" / "stable_job_refund.yaml"),
          "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert "implementation_deadlines.policy_list_due" not in report["declared_not_observed"]
    assert "graduate_training_subsidy.list_approver" in report["declared_not_observed"]
