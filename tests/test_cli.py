"""The `policy` command through policy_dsl.cli.main: exit codes, eval output
(text and JSON) on tests/fixtures/mini_city + tests/fixtures/unit-medium.yaml,
--as-of, facts from JSON and from standard input, unknown sets, explain.

Worked by hand for unit-medium (medium enterprise, insured, 4 layoffs of 100,
contribution 50000.00, 120 insured at the end of 2020, applied 2021-08-20):
  layoff_rate 4/100 = 0.04 <= 6% (more than 30 insured) -> eligible;
  not large -> 中小微: ceiling 60%, mini_city rate 60% -> amount 50000.00 * 60% = 30000.00;
  auto_pay: eligible and 120 <= 200 -> true; apply_by 2021-12-31;
  application_in_time: the 免申即享 exception (auto_pay) -> true.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from policy_dsl.cli import main

ROOT = Path(__file__).resolve().parent.parent
CITY = "tests/fixtures/mini_city"
PROVINCE = "tests/fixtures/mini_province"
MEDIUM = "tests/fixtures/unit-medium.yaml"

MEDIUM_FACTS_JSON = {
    "as_of": "2021-09-01",
    "region": {"city": "抚顺市", "ui_fund_reserve_months": 15},
    "unit": {"name": "某公司", "kind": "enterprise", "size": "medium", "ui_insured": True, "insured_headcount": 100,
             "layoffs": 4, "ui_contribution_last_year": "50000.00", "insured_headcount_end_2020": 120,
             "application_date": "2021-08-20"},
}

CITY_CONCLUSIONS = {
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
}


def city_json(as_of: str = "2021-09-01") -> dict:
    return {"schema": "policy-dsl/evaluation", "version": 1, "policy_set": "mini_city", "as_of": as_of,
            "clauses": {"stable_job_refund": {"applicable": True, "conclusions": CITY_CONCLUSIONS}}}


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- check ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("path", "name"), [(CITY, "mini_city"), (PROVINCE, "mini_province")])
def test_check_a_clean_set_exits_0(capsys: pytest.CaptureFixture[str], path: str, name: str) -> None:
    code, out, err = run(capsys, "check", path)
    assert code == 0
    assert out == f"✓ {name}: 1 个条款（1 个可计算），0 个错误，0 个警告\n"
    assert err == ""


def test_check_a_set_with_an_error_exits_1_and_prints_the_diagnostic(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", "tests/fixtures/bad/unknown_fact")
    assert code == 1
    assert out.startswith("[错误 error] tests/fixtures/bad/unknown_fact/clauses/demo.yaml:4:33: 名字错误 name error: "
                          "未知的事实 'unit.layofs' unknown fact\n")
    assert "  是否要写 did you mean: unit.layoffs？\n" in out
    assert out.endswith("✗ unknown_fact: 1 个条款（1 个可计算），1 个错误，0 个警告\n")


def test_check_with_a_warning_only_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "check", "tests/fixtures/bad/unused_parameter")
    assert code == 1
    assert out.startswith("[警告 warning] tests/fixtures/bad/unused_parameter/clauses/demo.yaml:5:")
    assert out.endswith("✗ unused_parameter: 1 个条款（1 个可计算），0 个错误，1 个警告\n")


def test_check_a_set_that_fails_to_load_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", "tests/fixtures/bad/duplicate_key")
    assert code == 1
    assert err == ""
    assert out.startswith("[错误 error] tests/fixtures/bad/duplicate_key/")
    assert "重复的键 '参保' duplicate key" in out
    assert out.endswith("✗ tests/fixtures/bad/duplicate_key: 1 个错误（规则文件无法读取，未做进一步检查）\n")


# --- eval ----------------------------------------------------------------------------------------

def test_eval_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "eval", CITY, MEDIUM)
    assert code == 0 and err == ""
    assert out == "\n".join([
        "规则集 mini_city  评估日期 2021-09-01",
        "",
        "失业保险稳岗返还（测试） [stable_job_refund]（某市人社发〔2021〕2号 一）",
        "  eligible（符合稳岗返还条件）：是",
        "  layoff_rate（上年度裁员率）：4%",
        "  max_refund_rate（最高返还比例）：60%",
        "  refund_rate（返还比例）：60%",
        "  max_amount（最高可返还金额）：30000.00元",
        "  amount（稳岗返还金额）：30000.00元",
        "  auto_pay（免申即享）：是",
        "  apply_by（申请截止日期）：2021年12月31日",
        "  application_in_time（在申请期限内）：是",
        "  payable（应予拨付）：是",
    ]) + "\n"


def test_eval_text_of_the_province_shows_why_the_rate_is_undetermined(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "eval", PROVINCE, MEDIUM)
    assert code == 0
    lines = out.split("\n")
    assert "  refund_rate（返还比例）：未确定（缺少 中小微返还比例：由各市确定，不超过60%）" in lines
    assert "  amount（稳岗返还金额）：未确定（缺少 中小微返还比例：由各市确定，不超过60%）" in lines
    assert "  max_amount（最高可返还金额）：30000.00元" in lines


def test_eval_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "eval", CITY, MEDIUM, "--format", "json")
    assert code == 0 and err == ""
    assert json.loads(out) == city_json()


def test_eval_as_of_overrides_the_facts_date(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "eval", CITY, MEDIUM, "--format", "json", "--as-of", "2022-01-15")
    assert code == 0
    assert json.loads(out) == city_json(as_of="2022-01-15")


def test_eval_as_of_supplies_a_missing_date(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    facts = {k: v for k, v in MEDIUM_FACTS_JSON.items() if k != "as_of"}
    path = tmp_path / "no-date.json"
    path.write_text(json.dumps(facts, ensure_ascii=False), encoding="utf-8")
    code, out, _ = run(capsys, "eval", CITY, str(path), "--format", "json")
    assert code == 0 and json.loads(out)["as_of"] is None
    code, out, _ = run(capsys, "eval", CITY, str(path), "--format", "json", "--as-of", "2021-10-01")
    assert code == 0 and json.loads(out) == city_json(as_of="2021-10-01")


def test_eval_rejects_an_impossible_as_of(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["eval", CITY, MEDIUM, "--as-of", "2021-02-30"])
    assert info.value.code == 2
    assert "不是日期 not a date (YYYY-MM-DD): 2021-02-30" in capsys.readouterr().err


def test_eval_reads_facts_from_a_json_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "unit-medium.json"
    path.write_text(json.dumps(MEDIUM_FACTS_JSON, ensure_ascii=False), encoding="utf-8")
    code, out, _ = run(capsys, "eval", CITY, str(path), "--format", "json")
    assert code == 0
    assert json.loads(out) == city_json()


def test_eval_reads_json_facts_from_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(MEDIUM_FACTS_JSON, ensure_ascii=False)))
    code, out, _ = run(capsys, "eval", CITY, "-", "--format", "json")
    assert code == 0
    assert json.loads(out) == city_json()


def test_eval_reads_yaml_facts_from_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO((ROOT / MEDIUM).read_text(encoding="utf-8")))
    code, out, _ = run(capsys, "eval", CITY, "-", "--format", "json")
    assert code == 0
    assert json.loads(out) == city_json()


def test_eval_with_a_different_case_from_stdin(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # 7 layoffs of 100 = 7% > 6%: not eligible -> amounts 0.00, no auto_pay; applied in time by date
    facts = json.loads(json.dumps(MEDIUM_FACTS_JSON))
    facts["unit"]["layoffs"] = 7
    monkeypatch.setattr("sys.stdin", io.StringIO(json.dumps(facts, ensure_ascii=False)))
    code, out, _ = run(capsys, "eval", CITY, "-", "--format", "json")
    assert code == 0
    assert json.loads(out)["clauses"]["stable_job_refund"]["conclusions"] == {
        **CITY_CONCLUSIONS, "eligible": False, "layoff_rate": "0.07", "max_amount": "0.00", "amount": "0.00",
        "auto_pay": False, "payable": False}


def test_eval_malformed_json_on_stdin_exits_2(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"unit": {"layoffs": 4,}}'))
    code, out, err = run(capsys, "eval", CITY, "-")
    assert code == 2 and out == ""
    # the stray comma is fine to JSON's eyes until the `}` at column 24
    assert err == "\n".join([
        "<stdin>:1:24: 事实文件错误 facts-file error: JSON 格式错误 malformed JSON: "
        "Expecting property name enclosed in double quotes",
        '    1 | {"unit": {"layoffs": 4,}}',
        "      | " + " " * 23 + "^",
    ]) + "\n"


def test_eval_unknown_set_exits_2_with_a_clear_message(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "eval", "no_such_set", MEDIUM)
    assert code == 2 and out == ""
    assert err == ("用法错误 usage error: 找不到规则集 no_such_set no such rule set\n"
                   "  实际 found:    no_such_set\n"
                   "  应为 expected: fushun、liaoning、liaoning-2022（在 policies 中查找）\n"
                   "  可写规则集目录的路径，或用 --policies DIR / 环境变量 POLICY_PATH 指定规则集所在目录\n")


def test_eval_missing_facts_file_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "eval", CITY, "tests/fixtures/no-such-case.yaml")
    assert code == 2 and out == ""
    assert err == ("事实文件错误 facts-file error: 无法读取事实文件 cannot read facts file "
                   "tests/fixtures/no-such-case.yaml: No such file or directory\n")


def test_check_unknown_set_is_a_usage_error_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    # README: exit 1 = diagnostics of a rule set, 2 = usage. A set that does not exist
    # has no diagnostics; `policy check` currently answers 1.
    code, out, err = run(capsys, "check", "no_such_set")
    assert "找不到规则集 no_such_set no such rule set" in err
    assert code == 2


# --- explain -------------------------------------------------------------------------------------

def test_explain_tree(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "explain", CITY, MEDIUM, "--format", "tree", "--full")
    assert code == 0 and err == ""
    lines = out.split("\n")
    assert lines[0] == "mini_city · 评估日期 2021-09-01"
    assert "├── ✓ 结论 eligible = 是 [某人社发〔2021〕1号 一（一）]" in lines
    assert any(line.startswith("├── · 结论 amount = 30000.00元") for line in lines)
    assert any("参数 中小微返还比例 = 60%" in line and "（mini_city 修改）" in line for line in lines)


def test_explain_tree_heading_names_the_clause_id(capsys: pytest.CaptureFixture[str]) -> None:
    # the full tree writes "<title> [<clause id>]<citation>"; "[stable_job_refund]" must not be
    # taken as rich markup and disappear.
    code, out, _ = run(capsys, "explain", CITY, MEDIUM, "--full")
    assert code == 0
    heading = out.split("\n")[1]
    assert heading.startswith("失业保险稳岗返还（测试）")
    assert "stable_job_refund" in heading


def test_explain_text(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "explain", CITY, MEDIUM, "--format", "text")
    assert code == 0 and err == ""
    lines = out.split("\n")
    assert lines[:5] == ["测试用市级规则集 · 评估日期 2021年9月1日", "申请人：某公司", "", "一、失业保险稳岗返还",
                         "  应予拨付：符合"]
    # the amount and the rate were set by the city: they cite the city's article, not the province's
    assert "  稳岗返还金额：30000.00元（某市人社发〔2021〕2号 一）" in lines
    assert "  返还比例：60%（某市人社发〔2021〕2号 一）" in lines
    assert "    · 免申即享：2020年末参保人数120人，在200人（含）以下，无需申请，直接拨付" in lines
    assert "  依据：某市人社发〔2021〕2号 一；某人社发〔2021〕1号 一（一）" in lines


def test_explain_tree_for_the_clerk_follows_the_width_and_has_no_identifiers(capsys: pytest.CaptureFixture[str]) -> None:
    from rich.cells import cell_len

    code, out, err = run(capsys, "explain", CITY, MEDIUM, "--width", "60")
    assert code == 0 and err == ""
    assert max(cell_len(line) for line in out.splitlines()) <= 60
    assert "├── 应予拨付：符合" in out.replace("│   ", "") or "└── 应予拨付：符合" in out
    assert "stable_job_refund" not in out and "eligible" not in out
    assert "\x1b[" not in out  # not a terminal: no colour codes


def test_explain_notice_markdown_and_html(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "explain", CITY, MEDIUM, "--format", "notice")
    assert code == 0 and err == ""
    assert out.startswith("# 办理结果告知书（草稿）\n")
    assert "**申请人**：某公司" in out and "- 稳岗返还金额：30000.00元" in out and "承办部门：市人社局" in out
    code, out, err = run(capsys, "explain", CITY, MEDIUM, "--format", "notice", "--notice-format", "html")
    assert code == 0 and out.startswith("<!DOCTYPE html>") and "<style>" in out and "@page" in out
    assert "<li>稳岗返还金额：30000.00元</li>" in out
    assert "<script" not in out and "http" not in out.split("<body>")[1]  # self-contained


def test_explain_options_that_do_not_fit_the_format_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "explain", CITY, MEDIUM, "--format", "text", "--notice-format", "html")
    assert code == 2 and out == "" and "--notice-format" in err
    code, out, err = run(capsys, "explain", CITY, MEDIUM, "--format", "json", "--full")
    assert code == 2 and out == "" and "--full" in err


def test_explain_text_in_english_runs(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", CITY, MEDIUM, "--format", "text", "--lang", "en")
    assert code == 0
    assert out.startswith("失业保险稳岗返还（测试）（stable_job_refund）")
    assert "30000.00" in out


def test_explain_json(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "explain", CITY, MEDIUM, "--format", "json")
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert (doc["schema"], doc["version"]) == ("policy-dsl/decision", 2)
    assert (doc["policy_set"], doc["extends"], doc["as_of"]) == ("mini_city", "mini_province", "2021-09-01")
    assert doc["content_hash"].startswith("sha256:")
    clause = doc["clauses"]["stable_job_refund"]
    assert clause["applicable"] is True
    assert {name: c["value"] for name, c in clause["conclusions"].items()} == CITY_CONCLUSIONS
    assert clause["conclusions"]["eligible"]["trace"]["expr"] == "参保 and 裁员率达标"


def test_explain_one_clause_and_an_unknown_clause(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "explain", CITY, MEDIUM, "--format", "json", "--clause", "stable_job_refund")
    assert code == 0 and list(json.loads(out)["clauses"]) == ["stable_job_refund"]
    code, out, err = run(capsys, "explain", CITY, MEDIUM, "--clause", "stable_job_refnd")
    assert code == 2 and out == ""
    assert err == ("用法错误 usage error: 未知的条款 'stable_job_refnd' unknown clause\n"
                   "  是否要写 did you mean: stable_job_refund？\n")


def test_explain_unknown_set_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "explain", "no_such_set", MEDIUM)
    assert code == 2 and out == ""
    assert "找不到规则集 no_such_set no such rule set" in err
