"""Rule-file mistakes an author makes on purpose: each is an error at the right line with a
did-you-mean where one exists, and warnings go to whoever can act on them."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from policy_dsl.checker import analyse
from policy_dsl.cli import main
from policy_dsl.errors import CheckFailed, PolicyError
from policy_dsl.loader import load_rule_set

ROOT = Path(__file__).resolve().parent.parent
PROVINCE = ROOT / "tests" / "fixtures" / "mini_province"


def _set(tmp_path: Path, clause: str, name: str = "t", extends: str | None = None, file: str | None = None) -> Path:
    d = tmp_path / name
    (d / "clauses").mkdir(parents=True)
    manifest = f"name: {name}\ntitle: 测试\nvocabulary: partial\ndocuments: [{{id: 某文件}}]\n"
    if extends:
        manifest += f"extends: {extends}\n"
        shutil.copytree(PROVINCE, tmp_path / "mini_province")
    (d / "policy-set.yaml").write_text(manifest, encoding="utf-8")
    cid = clause.split("\n", 1)[0].removeprefix("id: ").strip()
    (d / "clauses" / f"{file or cid}.yaml").write_text(clause, encoding="utf-8")
    return d


def _problems(path: Path) -> list[PolicyError]:
    with pytest.raises(CheckFailed) as failed:
        load_rule_set(path)
    return failed.value.diagnostics


def _one(path: Path) -> PolicyError:
    [problem] = _problems(path)
    return problem


CLAUSE = "id: c\nsubject: unit\n"


@pytest.mark.parametrize(("body", "line", "found", "meant"), [
    ("conditions:\n  ok:\n    expresion: unit.layoffs > 0\n", 5, "expresion", "expr"),
    ("conditions:\n  ok:\n    expr: unit.layoffs > 0\n    txt: 原文\n", 6, "txt", "text"),
    ("definitions:\n  d:\n    expr: unit.layoffs\n    nte: 说明\n", 6, "nte", "note"),
    ("parameters:\n  p:\n    value: 3\n    nte: 说明\n", 6, "nte", "note"),
])
def test_a_misspelt_key_inside_an_item_is_named_at_its_line(tmp_path: Path, body: str, line: int, found: str,
                                                            meant: str) -> None:
    err = _one(_set(tmp_path, CLAUSE + body))
    assert err.message.startswith(f"未知的键 {found!r} unknown key")
    assert err.span.line == line and err.found == found
    assert err.hint == f"是否要写 did you mean: {meant}？"
    assert "is not valid under any" not in err.render()


def test_a_misspelt_type_name_in_a_conclusion_gets_did_you_mean(tmp_path: Path) -> None:
    err = _one(_set(tmp_path, CLAUSE + "conclusions:\n  x:\n    expr: 1元\n    type: mony\n"))
    assert err.span.line == 6 and err.hint == "是否要写 did you mean: money？"


def test_an_empty_item_says_what_is_expected(tmp_path: Path) -> None:
    err = _one(_set(tmp_path, CLAUSE + "conclusions:\n  x:\n"))
    assert err.message.startswith("conclusions.x 应是表达式文字，或含 expr 的映射")
    assert err.found == "空值 null（冒号后什么也没写）" and err.span.line == 4


# --- patches ---------------------------------------------------------------------------------------

PATCH = "id: stable_job_refund\n"


def test_a_misspelt_parameter_in_a_patch_is_an_error_not_a_new_parameter(tmp_path: Path) -> None:
    err = _one(_set(tmp_path, PATCH + "parameters:\n  大型企业返还比列: {value: 25%}\n", extends="mini_province"))
    assert err.message.startswith("mini_province 的条款 stable_job_refund 没有参数 '大型企业返还比列'")
    assert err.span.line == 3
    assert err.hint.startswith("是否要写 did you mean: 大型企业返还比例？")


def test_a_new_item_in_a_patch_says_new_true(tmp_path: Path) -> None:
    city = _set(tmp_path, PATCH + "parameters:\n  大型企业返还比例: {value: 25%}\n  中小微返还比例: {value: 50%}\n"
                                  "  奖励: {value: 100元, new: true}\n"
                                  "conclusions:\n  bonus: {expr: if eligible then 奖励 else 0元, new: true}\n",
                extends="mini_province")
    rs = load_rule_set(city)
    assert "奖励" in rs.clauses["stable_job_refund"].parameters
    assert analyse(rs).diagnostics == []


def test_new_true_on_something_the_base_has_is_an_error(tmp_path: Path) -> None:
    err = _one(_set(tmp_path, PATCH + "parameters:\n  大型企业返还比例: {value: 25%, new: true}\n", extends="mini_province"))
    assert err.message == "mini_province 的条款 stable_job_refund 已有参数 大型企业返还比例，不能标为 new"
    assert err.span.line == 3


def test_a_misspelt_clause_id_in_a_patch_says_which_clause_was_meant(tmp_path: Path) -> None:
    problems = _problems(_set(tmp_path, "id: stable_job_refnd\nparameters:\n  大型企业返还比例: {value: 25%}\n",
                              extends="mini_province", file="stable_job_refund"))
    assert [p.message.split(" ", 1)[0] for p in problems] == ["条款", "mini_province"]
    assert problems[0].message.startswith("条款 id 'stable_job_refnd' 与文件名 stable_job_refund.yaml 不一致")
    assert problems[1].hint.startswith("是否要写 did you mean: stable_job_refund？")
    assert all(p.span.line == 1 and p.span.column == 5 for p in problems)


def test_a_new_clause_in_a_variant_needs_new_true_and_a_subject(tmp_path: Path) -> None:
    err = _one(_set(tmp_path, "id: city_bonus\nsubject: unit\nconclusions:\n  x: 1元\n", extends="mini_province"))
    assert err.message.startswith("mini_province 没有条款 'city_bonus'")
    assert err.hint == "若是本规则集新增的条款，在文件中写 new: true"
    shutil.rmtree(tmp_path / "t")
    shutil.rmtree(tmp_path / "mini_province")
    err = _one(_set(tmp_path, "id: city_bonus\nnew: true\nconclusions:\n  x: 1元\n", extends="mini_province"))
    assert err.message == "新条款 city_bonus 需要写 subject（适用对象） a new clause needs a subject"


def test_extends_a_misspelt_set_gets_did_you_mean_in_the_usual_format(tmp_path: Path, capsys) -> None:
    city = _set(tmp_path, PATCH, extends="mini_provnce")
    code = main(["check", str(city)])
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith(f"[错误 error] {city / 'policy-set.yaml'}:5:10: 规则文件错误 rule-file error: "
                          "找不到被扩展的规则集 'mini_provnce' base set not found")
    assert "  是否要写 did you mean: mini_province？" in out
    assert out.splitlines()[-1] == "✗ " + str(city) + ": 1 个错误（规则文件无法读取，未做进一步检查）"


def test_a_set_name_differing_from_its_directory_is_an_error(tmp_path: Path) -> None:
    d = _set(tmp_path, CLAUSE + "conclusions:\n  x: 1\n")
    d.rename(tmp_path / "other")
    err = _one(tmp_path / "other")
    assert err.message.startswith("规则集名 't' 与目录名 'other' 不一致") and err.span.line == 1


# --- values -------------------------------------------------------------------------------------

def test_a_bare_number_above_one_for_a_rate_hints_at_a_percentage(tmp_path: Path) -> None:
    err = _one(_set(tmp_path, PATCH + "parameters:\n  大型企业返还比例: {value: 25}\n  中小微返还比例: {value: 50%}\n",
                    extends="mini_province"))
    assert err.message.startswith("参数 大型企业返还比例 是比例，写成数字 25 即 2500%")
    assert err.hint == "是否要写 did you mean: 25%？" and err.span.line == 3


def test_a_negative_rate_is_rejected(tmp_path: Path) -> None:
    err = _one(_set(tmp_path, CLAUSE + "parameters:\n  r: {type: rate, value: -5%}\nconclusions:\n  x: r\n"))
    assert err.message == "参数 r 是比例，不能为负 a rate cannot be negative" and err.found == "-5%"


def test_a_fraction_for_a_rate_is_still_fine(tmp_path: Path) -> None:
    rs = load_rule_set(_set(tmp_path, CLAUSE + "parameters:\n  r: {type: rate, value: 0.25}\nconclusions:\n  x: r\n"))
    assert str(rs.clauses["c"].parameters["r"].value) == "0.25"


# --- warnings go to whoever can act --------------------------------------------------------------

def test_a_province_parameter_a_city_stops_using_is_not_a_warning_the_city_cannot_act_on(tmp_path: Path, capsys) -> None:
    city = _set(tmp_path, PATCH + "parameters:\n  大型企业返还比例: {value: 25%}\n  中小微返还比例: {value: 50%}\n"
                                  "conclusions:\n  apply_by: 2021-11-30\n", extends="mini_province")
    assert analyse(load_rule_set(city)).diagnostics == []  # 申请截止日 is the province's; the city cannot delete it
    assert main(["show", str(city), "--clause", "stable_job_refund"]) == 0
    assert "  未被引用 not used: 申请截止日" in capsys.readouterr().out.splitlines()


def test_an_empty_parameter_in_a_patch_says_it_changes_nothing(tmp_path: Path) -> None:
    err = _one(_set(tmp_path, PATCH + "parameters:\n  大型企业返还比例: {value: 25%}\n  中小微返还比例: {}\n",
                    extends="mini_province"))
    assert err.message.startswith("参数 中小微返还比例 写成了空的 {}") and err.span.line == 4
    assert err.hint == "沿用 mini_province 的值就删去这一行；要填写或改写就写 value"


def test_a_null_parameter_says_nothing_was_written(tmp_path: Path) -> None:
    err = _one(_set(tmp_path, PATCH + "parameters:\n  大型企业返还比例: {value: 25%}\n  中小微返还比例:\n",
                    extends="mini_province"))
    assert err.found == "空值 null（冒号后什么也没写）" and err.span.line == 4
