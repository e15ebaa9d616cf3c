"""Facts in: validation against the vocabulary (every problem at once, by fact
path, in the user's terms), exact numbers, null = unknown, and `policy eval`
refusing bad facts with exit code 2 before evaluating anything.
"""
from __future__ import annotations

import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from policy_dsl import FactsError, PolicyError, Unknown, compile_expression
from policy_dsl.cli import main
from policy_dsl.facts import prepare, read_facts, validate

ROOT = Path(__file__).resolve().parent.parent
UNIT_KINDS = ("enterprise, social_organization, foundation, social_service_agency, law_firm, accounting_firm, "
              "individual_economic_org, other")


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


# --- one problem each ---------------------------------------------------------------------------

def test_wrong_type_names_the_fact_its_label_and_the_value() -> None:
    assert validate({"unit": {"layoffs": "4"}}) == [
        ("unit.layoffs", '类型不对 wrong type：上年度裁员人数应为 整数 integer，实际是 "4"')]
    assert validate({"unit": {"ui_insured": 1}}) == [
        ("unit.ui_insured", "类型不对 wrong type：在本省参加失业保险应为 true/false，实际是 1")]
    # true is not a number, even though Python's bool is an int
    assert validate({"unit": {"layoffs": True}}) == [
        ("unit.layoffs", "类型不对 wrong type：上年度裁员人数应为 整数 integer，实际是 true")]


def test_wrong_decimal_text() -> None:
    assert validate({"unit": {"ui_contribution_last_year": "5万"}}) == [
        ("unit.ui_contribution_last_year",
         '类型不对 wrong type：上年度单位及其职工实际缴纳失业保险费应为 十进制数 decimal number, e.g. "10000.00"，实际是 "5万"')]


def test_bad_enum_value_suggests_the_value() -> None:
    assert validate({"unit": {"kind": "enterprize"}}) == [
        ("unit.kind", f"'enterprize' 不是参保单位类型的可选值 not an allowed value；可选：{UNIT_KINDS}"
                      "；是否要写 did you mean: enterprise？")]


def test_bad_enum_value_inside_a_set_is_located_by_index() -> None:
    [(path, message)] = validate({"person": {"identities": ["veteran", "veterans"]}})
    assert path == "person.identities[1]"
    assert message.startswith("'veterans' 不是人员身份的可选值 not an allowed value；可选：poverty_alleviated, ")
    assert message.endswith("；是否要写 did you mean: veteran？")


def test_unknown_key_suggests_the_fact() -> None:
    assert validate({"unit": {"layofs": 4}}) == [("unit.layofs", "未知的事实 unknown fact；是否要写 did you mean: layoffs？")]


def test_unknown_key_with_nothing_close_lists_what_is_allowed() -> None:
    [(path, message)] = validate({"honor": {"colour": "red"}})
    assert path == "honor.colour"
    assert message == "未知的事实 unknown fact；可用：kind, level"


def test_unknown_subject_suggests_the_subject() -> None:
    assert validate({"unti": {"layoffs": 4}}) == [("unti", "未知的事实 unknown fact；是否要写 did you mean: unit？")]


def test_invalid_calendar_date() -> None:
    assert validate({"unit": {"application_date": "2021-02-30"}}) == [
        ("unit.application_date", "不存在的日期 invalid date：2021-02-30")]
    assert validate({"as_of": "2021-02-29"}) == [("as_of", "不存在的日期 invalid date：2021-02-29")]
    assert validate({"as_of": "2020-02-29"}) == []  # a leap year


def test_date_in_the_wrong_format() -> None:
    # The engine currently reports this twice (wrong type, and again "invalid date");
    # only the useful message is required here (the duplicate is reported to the lead).
    problems = validate({"unit": {"application_date": "2021/02/03"}})
    assert ("unit.application_date", '类型不对 wrong type：申请日期应为 日期 YYYY-MM-DD，实际是 "2021/02/03"') in problems
    assert {path for path, _ in problems} == {"unit.application_date"}


def test_list_of_records_problems_carry_the_index() -> None:
    problems = validate({"household": {"members": [{"employed": "no"}, {"employd": True}]}})
    assert [path for path, _ in problems] == ["household.members[0].employed", "household.members[1].employd"]
    assert problems[1][1] == "未知的事实 unknown fact；是否要写 did you mean: employed？"
    assert problems[0][1].startswith("类型不对 wrong type：")
    assert problems[0][1].endswith("应为 true/false，实际是 \"no\"")


def test_facts_must_be_a_mapping() -> None:
    assert validate([1, 2]) == [("", "事实应为映射（对象） facts must be a mapping, got list")]
    assert validate({"unit": 5}) == [("unit", "类型不对 wrong type：应为 映射 mapping，实际是 5")]


# --- all at once ----------------------------------------------------------------------------------

SEVERAL = {
    "as_of": date(2021, 9, 1),
    "unit": {"kind": "enterprize", "layofs": 4, "ui_insured": "yes", "application_date": "2021-02-30",
             "insured_headcount": 100},
    "persn": {"age": 30},
    "region": {"ui_fund_reserve_months": "abc"},
}

SEVERAL_PROBLEMS = [
    ("persn", "未知的事实 unknown fact；是否要写 did you mean: person？"),
    ("region.ui_fund_reserve_months",
     '类型不对 wrong type：上年度失业保险基金滚存结余备付期限（月）应为 十进制数 decimal number, e.g. "10000.00"，实际是 "abc"'),
    ("unit.application_date", "不存在的日期 invalid date：2021-02-30"),
    ("unit.kind", f"'enterprize' 不是参保单位类型的可选值 not an allowed value；可选：{UNIT_KINDS}；是否要写 did you mean: enterprise？"),
    ("unit.layofs", "未知的事实 unknown fact；是否要写 did you mean: layoffs？"),
    ("unit.ui_insured", '类型不对 wrong type：在本省参加失业保险应为 true/false，实际是 "yes"'),
]


def test_several_problems_are_listed_at_once_with_their_paths() -> None:
    assert sorted(validate(SEVERAL)) == SEVERAL_PROBLEMS


def test_prepare_raises_one_facts_error_with_every_problem() -> None:
    with pytest.raises(FactsError) as info:
        prepare(SEVERAL, source="case.yaml")
    err = info.value
    assert err.kind == "facts"
    assert sorted(err.problems) == SEVERAL_PROBLEMS
    lines = err.render().split("\n")
    assert lines[0] == "事实数据错误 facts error: case.yaml: 6 处问题"
    assert sorted(lines[1:]) == sorted(f"  {path}: {message}" for path, message in SEVERAL_PROBLEMS)


# --- missing, null, exact numbers ---------------------------------------------------------------

def test_missing_facts_are_fine_and_unknown() -> None:
    assert validate({}) == []
    assert validate({"unit": {"kind": "enterprise"}}) == []
    value = compile_expression("unit.layoffs / unit.insured_headcount").evaluate({"unit": {"layoffs": 4}})
    assert isinstance(value, Unknown)
    assert value.missing == frozenset({"unit.insured_headcount"})


def test_null_is_unknown_not_false_or_zero() -> None:
    facts = {"unit": {"layoffs": None, "ui_insured": None, "kind": "enterprise"}, "as_of": None}
    assert validate(facts) == []
    flat = prepare(facts)
    assert "unit.layoffs" not in flat and "unit.ui_insured" not in flat and "as_of" not in flat
    value = compile_expression("unit.layoffs == 0").evaluate(facts)
    assert isinstance(value, Unknown) and value.missing == frozenset({"unit.layoffs"})
    # Kleene: false and unknown = false — a null does not stop a decision the other facts make
    assert compile_expression('unit.kind == "foundation" and unit.ui_insured').evaluate(facts) is False


def test_json_null_is_unknown(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text('{"unit": {"layoffs": null, "insured_headcount": 100}}', encoding="utf-8")
    value = compile_expression("unit.layoffs / unit.insured_headcount").evaluate(read_facts(str(path)))
    assert isinstance(value, Unknown) and value.missing == frozenset({"unit.layoffs"})


def test_yaml_number_is_read_as_exact_decimal(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text("region: {ui_fund_reserve_months: 0.1}\nunit: {ui_contribution_last_year: 1000.05}\n",
                    encoding="utf-8")
    facts = read_facts(str(path))
    months = facts["region"]["ui_fund_reserve_months"]
    assert type(months) is Decimal and months == Decimal("0.1")
    flat = prepare(facts)
    assert flat["region.ui_fund_reserve_months"] == Decimal("0.1")
    assert flat["unit.ui_contribution_last_year"] == Decimal("1000.05")
    # 0.1 * 3 is 0.3 exactly (binary float would give 0.30000000000000004)
    assert compile_expression("region.ui_fund_reserve_months * 3").evaluate(facts) == Decimal("0.3")


def test_json_number_is_read_as_exact_decimal(tmp_path: Path) -> None:
    path = tmp_path / "case.json"
    path.write_text('{"region": {"ui_fund_reserve_months": 0.1}, "unit": {"ui_contribution_last_year": 0.1}}',
                    encoding="utf-8")
    facts = read_facts(str(path))
    assert type(facts["region"]["ui_fund_reserve_months"]) is Decimal
    assert prepare(facts)["region.ui_fund_reserve_months"] == Decimal("0.1")
    assert compile_expression("unit.ui_contribution_last_year + 0.2元").evaluate(facts) == Decimal("0.3")


def test_python_float_is_read_from_its_text() -> None:
    flat = prepare({"region": {"ui_fund_reserve_months": 0.1}, "unit": {"ui_contribution_last_year": 1000.05}})
    assert flat["region.ui_fund_reserve_months"] == Decimal("0.1")  # not Decimal(0.1) = 0.1000000000000000055…
    assert flat["unit.ui_contribution_last_year"] == Decimal("1000.05")


def test_decimal_strings_and_integers_for_money() -> None:
    flat = prepare({"unit": {"ui_contribution_last_year": "50000.00"}})
    assert flat["unit.ui_contribution_last_year"] == Decimal("50000.00")
    flat = prepare({"unit": {"ui_contribution_last_year": 50000}})
    assert flat["unit.ui_contribution_last_year"] == Decimal(50000)
    assert type(flat["unit.ui_contribution_last_year"]) is Decimal


def test_unquoted_impossible_yaml_date_in_a_facts_file_is_a_user_error(tmp_path: Path) -> None:
    # PyYAML builds `2021-02-30` as a timestamp and fails with ValueError; reading
    # facts must turn that into a PolicyError naming the file (not an internal error).
    path = tmp_path / "case.yaml"
    path.write_text("unit: {layoffs: 4, application_date: 2021-02-30}\n", encoding="utf-8")
    escaped = None
    try:
        facts = read_facts(str(path))
        prepare(facts, source=str(path))
    except PolicyError as exc:
        # (the label says "rule-file error" for a facts file: wording not pinned, reported)
        lines = exc.render().split("\n")
        assert lines[0].startswith(f"{path}:1:38: ")
        assert lines[0].endswith("不存在的日期 invalid date: 2021-02-30")
        assert lines[1:] == [
            "    1 | unit: {layoffs: 4, application_date: 2021-02-30}",
            "      | " + " " * 37 + "^" * 10,
            "  应为 expected: YYYY-MM-DD 的有效日期，如 2021-12-31",
        ]
        return
    except ValueError as exc:
        escaped = f"ValueError escaped from read_facts: {exc}"
    pytest.fail(escaped or "an impossible date was accepted", pytrace=False)


# --- the CLI ------------------------------------------------------------------------------------

def test_policy_eval_with_bad_facts_exits_2_and_lists_every_problem(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "as_of: 2021-09-01\n"
        'unit: {kind: enterprize, layofs: 4, ui_insured: "yes", application_date: "2021-02-30", insured_headcount: 100}\n'
        "persn: {age: 30}\n"
        'region: {ui_fund_reserve_months: "abc"}\n', encoding="utf-8")
    code = main(["eval", "tests/fixtures/mini_city", str(path)])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""  # nothing evaluated, nothing printed on stdout
    lines = err.rstrip("\n").split("\n")
    assert lines[0] == f"事实数据错误 facts error: {path}: 6 处问题"
    assert sorted(lines[1:]) == sorted(f"  {p}: {m}" for p, m in SEVERAL_PROBLEMS)


def test_policy_eval_with_bad_json_facts_on_stdin(monkeypatch: pytest.MonkeyPatch,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"unit": {"layoffs": "4", "size": "mediun"}}'))
    code = main(["eval", "tests/fixtures/mini_city", "-", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 2
    assert out == ""
    lines = err.rstrip("\n").split("\n")
    assert lines[0] == "事实数据错误 facts error: -: 2 处问题"
    assert sorted(lines[1:]) == [
        '  unit.layoffs: 类型不对 wrong type：上年度裁员人数应为 整数 integer，实际是 "4"',
        "  unit.size: 'mediun' 不是企业规模的可选值 not an allowed value；可选：large, medium, small, micro"
        "；是否要写 did you mean: medium？",
    ]


def test_policy_eval_with_an_unquoted_impossible_date_is_not_an_internal_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "case.yaml"
    path.write_text("unit: {layoffs: 4, application_date: 2021-02-30}\n", encoding="utf-8")
    code = main(["eval", "tests/fixtures/mini_city", str(path)])
    out, err = capsys.readouterr()
    assert out == ""
    assert "内部错误" not in err
    assert str(path) in err and "2021-02-30" in err
    assert code == 2
