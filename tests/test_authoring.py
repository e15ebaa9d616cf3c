"""policy show / facts / completion / --version / --help, set discovery, and the
check warning for delegated parameters a variant leaves unfilled."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

from policy_dsl.checker import analyse
from policy_dsl.cli import main
from policy_dsl.loader import load_rule_set
from policy_dsl.sets import resolve_set

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
SCHEMAS = ROOT / "policy_dsl" / "schema"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("POLICY_PATH", raising=False)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _city(tmp_path: Path, params: str = "") -> Path:
    """mini_province and a city beside it that patches stable_job_refund with `params`."""
    shutil.copytree(FIXTURES / "mini_province", tmp_path / "mini_province")
    city = tmp_path / "city"
    (city / "clauses").mkdir(parents=True)
    (city / "policy-set.yaml").write_text(
        "name: city\ntitle: 某市\nextends: mini_province\ndocuments:\n  - {id: 某市文件, title: 某市细则}\n",
        encoding="utf-8")
    (city / "clauses" / "stable_job_refund.yaml").write_text(
        "id: stable_job_refund\ndepartments: [市人社局]\n" + params, encoding="utf-8")
    return city


# --- policy show ---------------------------------------------------------------------------------

def test_show_a_clause_lists_parameters_with_delegation_and_who_filled_them(capsys) -> None:
    code, out, _ = run(capsys, "show", "tests/fixtures/mini_city", "--clause", "stable_job_refund")
    assert code == 0
    lines = out.splitlines()
    i = lines.index("    大型企业返还比例  (rate) = 30%")
    assert lines[i + 1:i + 5] == [
        "      范围 bounds: ≤ 30%",
        "      委托 delegated: mini_province 交由各市确定：由各市确定，不超过30%（已填写）",
        "      由 mini_city 填写或改写 set by mini_city: tests/fixtures/mini_city/clauses/stable_job_refund.yaml:5",
        "      出处 source: 某市人社发〔2021〕2号 一（mini_city）",
    ]
    assert "    amount: money  稳岗返还金额" in lines
    assert "    eligible: bool  符合稳岗返还条件" in lines
    assert lines[-1] == "委托参数都已填写 every delegated parameter is filled"


def test_show_lists_what_a_variant_leaves_unfilled(capsys, tmp_path: Path) -> None:
    city = _city(tmp_path, "parameters:\n  大型企业返还比例: {value: 25%}\n")
    code, out, _ = run(capsys, "show", str(city))
    assert code == 0
    assert out.splitlines()[-2:] == [
        "仍未确定的委托参数 delegated parameters still open（1 个）:",
        "  stable_job_refund.中小微返还比例: mini_province 交由各市确定：由各市确定，不超过60%",
    ]


def test_show_of_a_province_says_what_it_delegates_without_calling_it_missing(capsys) -> None:
    code, out, _ = run(capsys, "show", "tests/fixtures/mini_province")
    assert code == 0
    assert "交由下级确定的参数 delegated to a lower level（2 个，由扩展本规则集的下级规则集填写）:" in out
    assert "未填写" not in out
    assert "    大型企业返还比例  (rate) = （交由各市确定 left to a lower level）" in out.splitlines()
    assert "      委托 delegated: mini_province 交由各市确定：由各市确定，不超过30%（由下级填写）" in out.splitlines()


@pytest.mark.parametrize("name", ["liaoning", "fushun"])
def test_show_json_follows_its_schema(capsys, name: str) -> None:
    code, out, _ = run(capsys, "show", name, "--format", "json")
    assert code == 0
    data = json.loads(out)
    jsonschema.Draft202012Validator(json.loads((SCHEMAS / "show-v1.json").read_text(encoding="utf-8"))).validate(data)
    assert (data["schema"], data["version"]) == ("policy-dsl/show", 1)
    refund = next(c for c in data["clauses"] if c["id"] == "stable_job_refund")
    rate = next(p for p in refund["parameters"] if p["name"] == "大型企业返还比例")
    assert rate["delegated"]["by"] == "liaoning"
    assert rate["bounds"]["max"] == {"json": "0.3", "text": "30%"}
    if name == "fushun":
        assert rate["value"] == {"json": "0.3", "text": "30%"} and rate["overridden_by"]["set"] == "fushun"
    else:
        assert rate["value"] is None and rate["filled"] is False and rate["overridden_by"] is None


def test_show_an_unknown_clause_is_a_usage_error_with_did_you_mean(capsys) -> None:
    code, out, err = run(capsys, "show", "fushun", "--clause", "stable_job_refnd")
    assert code == 2 and out == ""
    assert "是否要写 did you mean: stable_job_refund？" in err


# --- check: delegated parameters a variant leaves unfilled ---------------------------------------

def test_check_warns_the_variant_for_each_delegated_parameter_it_leaves_unfilled(tmp_path: Path) -> None:
    city = _city(tmp_path, "parameters:\n  大型企业返还比例: {value: 25%}\n")
    analysis = analyse(load_rule_set(city))
    [warning] = analysis.warnings
    assert warning.message.startswith("mini_province 把参数 stable_job_refund.中小微返还比例 交由各市确定，city 没有填写")
    assert warning.span.source.name == str(city / "clauses" / "stable_job_refund.yaml")  # the city's own file
    assert warning.expected == "rate，范围 ≤ 60%（mini_province：由各市确定，不超过60%）"
    assert warning.related.source.name.endswith("mini_province/clauses/stable_job_refund.yaml")


def test_a_variant_that_passes_a_delegation_on_with_its_reason_is_not_warned(tmp_path: Path) -> None:
    city = _city(tmp_path, "parameters:\n  大型企业返还比例: {value: 25%}\n"
                           "  中小微返还比例: {delegated: {to: 各县区, reason: 由各县区确定}}\n")
    assert analyse(load_rule_set(city)).warnings == []


def test_the_province_itself_is_not_warned_for_what_it_delegates() -> None:
    assert analyse(load_rule_set(FIXTURES / "mini_province")).diagnostics == []


# --- finding sets ----------------------------------------------------------------------------------

def test_a_set_name_is_looked_up_in_policies_dir_then_policy_path_then_policies(tmp_path: Path, monkeypatch) -> None:
    shutil.copytree(FIXTURES / "mini_province", tmp_path / "mini_province")
    assert resolve_set("mini_province", tmp_path) == tmp_path / "mini_province"
    monkeypatch.setenv("POLICY_PATH", f"{FIXTURES / 'variants'}")
    assert resolve_set("mini_province") == FIXTURES / "variants" / "mini_province"
    monkeypatch.delenv("POLICY_PATH")
    assert resolve_set("fushun") == Path("policies") / "fushun"


def test_policies_option_works_for_every_command_before_or_after_it(capsys, tmp_path: Path) -> None:
    assert run(capsys, "--policies", "tests/fixtures", "check", "mini_city")[0] == 0
    assert run(capsys, "check", "mini_city", "--policies", "tests/fixtures")[0] == 0
    assert run(capsys, "show", "mini_province", "--policies", "tests/fixtures")[0] == 0
    code, _, err = run(capsys, "check", "mini_city")
    assert code == 2 and "找不到规则集 mini_city" in err


def test_an_unknown_set_name_gets_did_you_mean_in_every_command(capsys) -> None:
    for argv in (["check", "fushn"], ["eval", "fushn", "examples/unit-medium.yaml"], ["test", "fushn"], ["show", "fushn"]):
        code, _, err = run(capsys, *argv)
        assert code == 2, argv
        assert "用法错误 usage error: 找不到规则集 fushn no such rule set" in err
        assert "是否要写 did you mean: fushun？" in err


def test_policy_test_without_arguments_uses_policy_path(capsys, tmp_path: Path, monkeypatch) -> None:
    shutil.copytree(ROOT / "policies" / "liaoning", tmp_path / "liaoning")
    monkeypatch.setenv("POLICY_PATH", str(tmp_path))
    code, out, _ = run(capsys, "test")
    assert code == 0
    files = len(list((tmp_path / "liaoning" / "tests").glob("*.yaml")))
    assert out.splitlines()[-1].startswith(f"{files} 个测试文件：")


# --- version, help, completion ---------------------------------------------------------------------

def test_version(capsys) -> None:
    from policy_dsl import __version__

    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"policy-dsl {__version__}\n"


def _commands() -> list[str]:
    from policy_dsl.cli import build_parser
    import argparse

    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(sub.choices)


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help_with_examples_exit_codes_and_text_for_each_argument(capsys, command: str) -> None:
    with pytest.raises(SystemExit):
        main([command, "--help"])
    out = capsys.readouterr().out
    assert "退出码 exit codes:" in out and "  0  " in out
    from policy_dsl.cli import build_parser
    import argparse

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    for action in sub.choices[command]._actions:
        assert action.help, f"{command}: {action.dest} has no help text"
    if command in ("check", "eval", "explain", "test", "diff", "show", "facts"):
        assert f"  policy {command} " in out or f"  policy --policies" in out


def test_bash_completion_completes_commands_options_choices_and_set_names(capsys, tmp_path: Path) -> None:
    code, script, _ = run(capsys, "completion", "bash")
    assert code == 0
    (tmp_path / "c.sh").write_text(script, encoding="utf-8")

    def complete(*words: str) -> list[str]:
        words_ = " ".join(f"'{w}'" for w in words)
        cmd = f"source {tmp_path / 'c.sh'}; COMP_WORDS=({words_}); COMP_CWORD={len(words) - 1}; _policy; " \
              'printf "%s\\n" "${COMPREPLY[@]}"'
        out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, cwd=ROOT, check=True).stdout
        return sorted(set(out.split()))

    assert {"check", "eval", "show", "facts", "completion"} <= set(complete("policy", ""))
    assert complete("policy", "eval", "--format", "") == ["json", "text"]
    assert complete("policy", "facts", "x", "--format", "") == ["json-schema", "yaml"]
    assert complete("policy", "check", "fu") == ["fushun"]
    assert "--clause" in complete("policy", "show", "--")


# --- policy facts ----------------------------------------------------------------------------------

def test_facts_template_lists_what_the_clause_reads_with_labels_types_and_values(capsys) -> None:
    code, out, _ = run(capsys, "facts", "fushun", "--clause", "stable_job_refund")
    assert code == 0
    data = yaml.safe_load(out)
    # stable_job_refund's conditions and conclusions read exactly these (read by hand from the clause file)
    assert {k: sorted(v) for k, v in data.items()} == {
        "region": ["ui_fund_reserve_months"],
        "unit": sorted(["kind", "size", "ui_insured", "insured_headcount", "layoffs", "ui_contribution_last_year",
                        "insured_headcount_end_2020", "application_date"]),
    }
    assert all(v is None for section in data.values() for v in section.values())  # empty = unknown
    lines = out.splitlines()
    assert any(line.startswith("  kind:") and line.endswith(
        "# 参保单位类型 (enum: enterprise 企业 | social_organization 社会团体 | foundation 基金会 | "
        "social_service_agency 社会服务机构 | law_firm 律师事务所 | accounting_firm 会计师事务所 | "
        "individual_economic_org 以单位形式参保的个体经济组织 | other 其他)") for line in lines)
    assert any(line.startswith("  ui_contribution_last_year:") and line.endswith(
        "# 上年度单位及其职工实际缴纳失业保险费 (money，元，如 \"6000.00\")") for line in lines)


def test_facts_template_runs_as_is_and_every_conclusion_is_undetermined(capsys, tmp_path: Path) -> None:
    template = tmp_path / "case.yaml"
    template.write_text(run(capsys, "facts", "fushun", "--clause", "stable_job_refund")[1], encoding="utf-8")
    code, out, _ = run(capsys, "eval", "fushun", str(template), "--format", "json")
    assert code == 0
    refund = json.loads(out)["clauses"]["stable_job_refund"]
    assert refund["applicable"] is True
    assert refund["conclusions"]["eligible"]["undetermined"] is True


def test_facts_of_a_clause_include_those_read_through_another_clause(capsys, tmp_path: Path) -> None:
    for name in ("mini_province", "city_new_clause"):
        shutil.copytree(FIXTURES / "variants" / name, tmp_path / name)
    code, out, _ = run(capsys, "facts", str(tmp_path / "city_new_clause"), "--clause", "city_bonus")
    assert code == 0
    # city_bonus reads stable_job_refund.eligible = 参保 and 裁员率达标 (unit.ui_insured, layoffs, headcount)
    assert sorted(yaml.safe_load(out)["unit"]) == ["insured_headcount", "layoffs", "ui_insured"]


def test_facts_json_schema_is_a_schema_of_just_those_facts(capsys) -> None:
    code, out, _ = run(capsys, "facts", "liaoning", "--clause", "stable_job_refund", "--format", "json-schema")
    assert code == 0
    schema = json.loads(out)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert not list(validator.iter_errors({"unit": {"kind": "enterprise", "layoffs": 0}}))
    assert [e.validator for e in validator.iter_errors({"unit": {"kind": "company"}})] == ["enum"]
    assert [e.validator for e in validator.iter_errors({"person": {"age": 30}})] == ["additionalProperties"]
    assert schema["properties"]["unit"]["properties"]["kind"]["title"] == "参保单位类型"


# --- diff and test reports -------------------------------------------------------------------------

def _variants(tmp_path: Path) -> Path:
    for name in ("mini_province", "city_new_clause"):
        shutil.copytree(FIXTURES / "variants" / name, tmp_path / name)
    return tmp_path


def test_diff_text_says_how_many_undeclared_differences_it_does_not_list(capsys, tmp_path: Path) -> None:
    d = _variants(tmp_path)
    argv = ["diff", str(d / "mini_province"), str(d / "city_new_clause"), "--generate"]
    assert main([*argv, "--format", "json"]) == 1
    undeclared = [x for x in json.loads(capsys.readouterr().out)["differences"] if not x["declared"]]
    assert len(undeclared) > 20
    code, out, _ = run(capsys, *argv)
    assert code == 1
    assert sum(line.startswith("未声明：") for line in out.splitlines()) == 20
    assert (f"……另有 {len(undeclared) - 20} 处未声明的差异未列出 not shown；加 --format json 查看全部"
            "（differences 中 declared 为 false 的项）") in out


def test_diff_shows_a_new_clauses_values_as_new_not_null(capsys, tmp_path: Path) -> None:
    d = _variants(tmp_path)
    argv = ["diff", str(d / "mini_province"), str(d / "city_new_clause"), "--cases", str(FIXTURES / "variants" / "cases.yaml")]
    code, out, _ = run(capsys, *argv)
    assert code == 1  # the new clause's values are undeclared differences
    bonus = [line for line in out.splitlines() if line.startswith("未声明：") and "city_bonus.bonus" in line]
    assert bonus and all("city_bonus.bonus: （新增） → " in line for line in bonus)
    assert "null" not in out
    data = json.loads(run(capsys, *argv, "--format", "json")[1])
    new = [x for x in data["differences"] if x["conclusion"] == "city_bonus.bonus"]
    assert new and all(x["added"] is True and x["base"] is None for x in new)
    assert all(x["added"] is False for x in data["differences"] if x["conclusion"] != "city_bonus.bonus")


def test_diff_with_a_missing_expected_file_is_a_usage_error(capsys) -> None:
    code, out, err = run(capsys, "diff", "liaoning", "fushun", "--generate", "--expected", "no/such/file.yaml")
    assert code == 2 and out == ""
    assert err.startswith("用法错误 usage error: 找不到预期差异文件 --expected no/such/file.yaml no such file")


def test_a_malformed_test_file_is_reported_once_and_not_counted_as_failed_cases(capsys, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "policies" / "liaoning", tmp_path / "liaoning")
    tests = tmp_path / "liaoning" / "tests"
    (tests / "zz_broken.yaml").write_text(
        "- name: a\n  facts: {}\n  expect: {stable_job_refund.eligible: true}\n- name: b\n  fact: {}\n  expect: {stable_job_refund.eligible: true}\n", encoding="utf-8")
    good = run(capsys, "test", str(tmp_path / "liaoning" / "tests" / "stable_job_refund.yaml"))[1].splitlines()[-1]
    passed = int(good.split("：")[1].split(" ")[0])
    code, out, _ = run(capsys, "test", str(tests / "stable_job_refund.yaml"), str(tests / "zz_broken.yaml"))
    assert code == 1
    assert out.count("测试文件无法读取") == 1
    assert f"zz_broken.yaml  测试文件无法读取，其中的用例没有运行 test file unreadable, its cases did not run" in out
    assert "未知的键 'fact' unknown key in a test case" in out
    assert out.splitlines()[-1] == f"2 个测试文件：{passed} passed, 0 failed，1 个文件无法读取 unreadable"


def test_an_expected_percentage_gets_a_hint_on_how_to_write_it(capsys, tmp_path: Path) -> None:
    for name in ("liaoning", "fushun"):
        shutil.copytree(ROOT / "policies" / name, tmp_path / name)
    file = tmp_path / "fushun" / "tests" / "stable_job_refund.yaml"
    text = file.read_text(encoding="utf-8")
    file.write_text(text.replace('stable_job_refund.refund_rate: "0.3"', 'stable_job_refund.refund_rate: "30%"', 1),
                    encoding="utf-8")
    code, out, _ = run(capsys, "test", str(file))
    assert code == 1
    assert "      应为 expected: \"30%\"\n      实际 actual:   \"0.3\"\n" \
           "      提示 hint: 比例在测试中写成小数：30% 应写作 \"0.3\"，与实际值相同" in out


# --- policy test --coverage ------------------------------------------------------------------------

COVERAGE_CASES = """\
- name: 中型企业，符合条件，免申即享
  facts:
    as_of: 2021-09-01
    unit: {kind: enterprise, size: medium, ui_insured: true, insured_headcount: 100, layoffs: 4,
           ui_contribution_last_year: "50000.00", insured_headcount_end_2020: 120, application_date: 2021-08-20}
  expect:
    stable_job_refund.eligible: true
    stable_job_refund.application_in_time: true
- name: 未参加失业保险
  facts:
    as_of: 2021-09-01
    unit: {kind: enterprise, size: medium, ui_insured: false, insured_headcount: 100, layoffs: 4}
  expect:
    stable_job_refund.eligible: false
"""


def _covered_set(tmp_path: Path) -> Path:
    shutil.copytree(FIXTURES / "mini_province", tmp_path / "mini_province")
    (tmp_path / "mini_province" / "tests").mkdir()
    (tmp_path / "mini_province" / "tests" / "stable_job_refund.yaml").write_text(COVERAGE_CASES, encoding="utf-8")
    return tmp_path / "mini_province"


def test_coverage_counts_clauses_conditions_both_ways_and_exceptions(capsys, tmp_path: Path) -> None:
    code, out, _ = run(capsys, "test", str(_covered_set(tmp_path)), "--coverage")
    assert code == 0
    # 参保 was true and false; 裁员率达标 (4% ≤ 6%) only true; the exception applied in case 1 (120 ≤ 200)
    assert out.split("\n\n", 1)[1].splitlines() == [
        "覆盖率 coverage · mini_province（2 个用例）：合计 75.0%",
        "  条款（有适用的用例）: 1/1（100.0%）",
        "  条件（真假两面都测到）: 1/2（50.0%）",
        "  例外（至少适用一次）: 1/1（100.0%）",
        "  未覆盖 not covered:",
        "    条件 stable_job_refund.裁员率达标：只测到真",
        "合计覆盖率 total coverage: 75.0%",
    ]


def test_fail_under_turns_low_coverage_into_exit_1(capsys, tmp_path: Path) -> None:
    path = str(_covered_set(tmp_path))
    code, out, _ = run(capsys, "test", path, "--fail-under", "80")
    assert code == 1 and out.rstrip().endswith("合计覆盖率 total coverage: 75.0%，低于 --fail-under 80.0% below the threshold")
    assert run(capsys, "test", path, "--fail-under", "75")[0] == 0
    code, out, _ = run(capsys, "test", path, "--coverage", "--format", "json")
    data = json.loads(out)
    jsonschema.Draft202012Validator(json.loads((SCHEMAS / "test-report-v1.json").read_text(encoding="utf-8"))).validate(data)
    assert data["coverage"]["sets"]["mini_province"]["conditions"] == {"covered": 1, "total": 2}
    assert data["coverage"]["sets"]["mini_province"]["conditions_one_way"] == {"stable_job_refund.裁员率达标": True}
    assert data["coverage"]["total_percent"] == "75.0"
