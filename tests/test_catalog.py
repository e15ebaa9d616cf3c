"""`policy catalog`: the 政策清单 / 办事指南 generated from the rule sets (policy_dsl/catalog/).

Golden catalogs for both sets (reviewed against policies/*/source.md); every parameter value of every
clause shown in its own guide entry, written out here independently of the renderer; a changed rule
file changes the guide; the JSON follows its schema; the HTML is self-contained and Chromium draws it.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from decimal import Decimal
from datetime import date
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

import policy_dsl
from policy_dsl.catalog.model import build_catalog
from policy_dsl.catalog.render_md import catalog_md
from policy_dsl.cli import main
from policy_dsl.render.zh import Words
from policy_dsl.values import Duration

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden" / "catalog"
CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("POLICY_PATH", raising=False)


def _md(set_name: str, *args: str, capsys) -> str:
    assert main(["catalog", set_name, *args]) == 0
    return capsys.readouterr().out


def _section(md: str, cid: str) -> str:
    """The guide entry of one clause (from its heading to the next)."""
    parts = [p for p in re.split(r"\n(?=### )", md) if f"编号 `{cid}`" in p]
    assert len(parts) == 1, f"clause {cid} has {len(parts)} entries in the guide"
    return parts[0]


@pytest.mark.parametrize("set_name", ["liaoning", "fushun"])
def test_golden_catalog(set_name: str, capsys) -> None:
    actual = _md(set_name, capsys=capsys)
    path = GOLDEN / f"{set_name}.md"
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.is_file(), f"missing golden file {path}; run with UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_text(encoding="utf-8")


def _expected_words(value: object, kind: str, labels: dict[str, str]) -> list[str]:
    """How a value must read in the guide, written out here, not by the renderer."""
    if isinstance(value, bool):
        return ["是" if value else "否"]
    if isinstance(value, date):
        return [f"{value.year}年{value.month}月{value.day}日"]
    if isinstance(value, Duration):
        return [f"{value.amount}{ {'day': '日', 'month': '个月', 'year': '年'}[value.unit] }"]
    if isinstance(value, frozenset):
        return [labels.get(v, v) for v in value]
    if kind == "money":
        return [f"{Decimal(value):.2f}元"]
    if kind == "rate":
        return [f"{(Decimal(value) * 100).normalize():f}%"]
    if isinstance(value, (int, Decimal)):
        return [f"{Decimal(value).normalize():f}"]
    return [str(value)]


@pytest.mark.parametrize("set_name", ["liaoning", "fushun"])
def test_every_parameter_value_is_in_its_guide_entry(set_name: str, capsys) -> None:
    md = _md(set_name, capsys=capsys)
    engine = policy_dsl.load(set_name)
    labels = Words(engine).all_enum_labels()
    checked = 0
    for cid, clause in engine.rule_set.clauses.items():
        section = _section(md, cid)
        for p in clause.parameters.values():
            if not p.filled:
                assert p.delegated is not None, f"{cid}.{p.name} has no value and no delegation"
                assert f"{p.name}：由{p.delegated.to}确定" in section, f"open {cid}.{p.name} not listed as open"
                continue
            for words in _expected_words(p.value, p.type.kind, labels):
                pattern = r"(?<![\d.])" + re.escape(words) + (r"(?![\d.]*\d)" if words[-1].isdigit() else "")
                assert re.search(pattern, section), f"{set_name} {cid}.{p.name} = {words} not in its guide entry"
                checked += 1
    assert checked > 60  # every threshold, rate, amount and date of the set, not a handful


def test_boundaries_read_as_the_text_says(capsys) -> None:
    md = _md("fushun", capsys=capsys)
    refund = _section(md, "stable_job_refund")
    # 辽人社发〔2021〕7号 一（一）: "30人（含）以下的参保单位裁员率不高于参保职工总数20%", "裁员率不高于6%",
    # "2021年12月31日前", "200人（含）以下 … 免申领直接拨付"
    assert "上年度参保职工总数30人（含）以下" in refund
    assert "裁员率不高于20%" in refund and "裁员率不高于6%" in refund
    assert "申请截止日期：2021年12月31日" in refund
    assert "- 免申即享：符合稳岗返还条件且2020年末参保人数200人（含）以下的，免申领直接拨付，无需申请" in refund
    assert "- 申请：其余符合条件的按期提出申请" in refund
    # 抚人社发〔2021〕20号 一 fixed the rates the province capped ("按不超过……30%"): both citations shown
    assert "| 参数「大型企业返还比例」 | 填写 | 未定（由各市确定，不超过30%）（辽人社发〔2021〕7号 一（一）" in refund
    assert "| 30%（抚人社发〔2021〕20号 一「大型企业按企业及其职工上年度实际缴纳失业保险费的30%返还」） |" in refund
    living = _section(md, "training_living_allowance")
    assert "培训开始日期在2021年12月31日前（含当日）" in living


def test_an_edition_cites_its_predecessor_without_the_text_it_changed(capsys) -> None:
    refund = _section(_md("liaoning-2022", capsys=capsys), "stable_job_refund")
    basis = refund.split("**政策依据**", 1)[1].split("**享受条件**", 1)[0]
    # the 2022 edition lowers 辽人社发〔2021〕7号's 6% to 5.5%: its basis must not quote "不高于6%"
    assert basis.strip().splitlines() == ["- 辽人社发〔2021〕7号 一（一）", "- 辽宁省2022年稳岗返还接续政策（示例，概述） 一、二、三、四"]
    assert "裁员率不高于5.5%" in refund and "不高于6%" not in refund
    # a condition the edition kept still quotes the earlier notice where it is listed
    assert "原文：“实施上述稳岗返还政策的统筹地区，上年度失业保险基金滚存结余备付期限应在1年以上”" in refund


def test_the_province_catalog_says_what_it_leaves_open(capsys) -> None:
    md = _md("liaoning", capsys=capsys)
    refund = _section(md, "stable_job_refund")
    assert "- 大型企业返还比例：由各市确定，不超过30%，本规则集尚未填写" in refund
    assert "本市相对省级文件的调整" not in md
    tail = md.split("## 尚待确定的事项", 1)[1]
    assert "失业保险稳岗返还：大型企业返还比例" in tail


@pytest.mark.parametrize("set_name", ["liaoning", "fushun"])
def test_all_eighteen_articles_and_both_attachments_are_covered(set_name: str) -> None:
    catalog = build_catalog(policy_dsl.load(set_name))
    articles = [c.article for c in catalog.coverage]
    assert len(articles) == 20 and articles[0] == "一（一）" and articles[17] == "五（十八）"
    assert articles[18:] == ["附件1", "附件2"]
    assert all(c.clauses for c in catalog.coverage), [c.article for c in catalog.coverage if not c.clauses]


def test_a_changed_parameter_changes_the_guide(tmp_path: Path, capsys) -> None:
    for name in ("liaoning", "fushun"):
        shutil.copytree(ROOT / "policies" / name, tmp_path / name)
    before = _md(str(tmp_path / "fushun"), capsys=capsys)
    rules = tmp_path / "liaoning" / "clauses" / "stable_job_refund.yaml"
    text = rules.read_text(encoding="utf-8")
    assert "    value: 30\n" in text and "    value: 6%\n" in text
    rules.write_text(text.replace("    value: 30\n", "    value: 50\n", 1).replace("    value: 6%\n", "    value: 5.5%\n", 1),
                     encoding="utf-8")
    after = _md(str(tmp_path / "fushun"), capsys=capsys)
    refund = _section(after, "stable_job_refund")
    assert "上年度参保职工总数50人（含）以下" in refund and "否则裁员率不高于5.5%" in refund
    assert "| 小微单位人数上限 | 50人 |" in refund and "| 裁员率上限 | 5.5% |" in refund
    # the quoted original still says 30 and 6%: only the rules' own words change
    assert "上年度参保职工总数30人（含）以下" not in refund and "否则裁员率不高于6%" not in refund
    assert _section(before, "internship_subsidy") == _section(after, "internship_subsidy")


def test_subject_and_clause_filters(capsys) -> None:
    md = _md("fushun", "--subject", "unit", capsys=capsys)
    assert "编号 `stable_job_refund`" in md and "编号 `onthejob_training_subsidy`" in md
    assert "编号 `unemployment_subsidy`" not in md and "编号 `info_policy_delivery`" in md  # informational: always
    one = _md("fushun", "--clause", "stable_job_refund", capsys=capsys)
    assert one.count("编号 `") == 1


def test_an_unknown_clause_is_a_usage_error(capsys) -> None:
    assert main(["catalog", "fushun", "--clause", "stable_job_refnd"]) == 2
    err = capsys.readouterr().err
    assert "stable_job_refnd" in err and "stable_job_refund" in err and "Traceback" not in err


@pytest.mark.parametrize("set_name", ["liaoning", "fushun"])
def test_json_is_versioned_and_follows_its_schema(set_name: str, capsys) -> None:
    data = json.loads(_md(set_name, "--format", "json", capsys=capsys))
    assert (data["schema"], data["version"]) == ("policy-dsl/catalog", 1)
    schema = json.loads(resources.files("policy_dsl").joinpath("schema/catalog-v1.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)
    refund = next(e for e in data["entries"] if e["id"] == "stable_job_refund")
    rates = {p["name"]: p["data"] for p in refund["parameters"]}
    assert rates["裁员率上限"] == "0.06" and rates["小微单位人数上限"] == 30
    assert rates["大型企业返还比例"] == ("0.3" if set_name == "fushun" else None)


def test_html_is_one_self_contained_page(tmp_path: Path, capsys) -> None:
    out = tmp_path / "fushun.html"
    assert main(["catalog", "fushun", "--format", "html", "--out", str(out)]) == 0
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and '<html lang="zh-CN">' in html and "@page { size: A4" in html
    for external in ("<script", "<link", "src=", "url(", "http://", "https://", "@import"):
        assert external not in html
    assert "上年度参保职工总数30人（含）以下" in html and "font-family" in html


def test_chromium_draws_the_html_page(tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists(), "Chromium is needed: apt-get install -y chromium (.ci/run does it)"
    page, png = tmp_path / "catalog.html", tmp_path / "catalog.png"
    assert main(["catalog", "fushun", "--clause", "stable_job_refund", "--format", "html", "--out", str(page)]) == 0
    subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={png}",
                    "--window-size=900,1200", page.as_uri()], check=True, capture_output=True, timeout=120)
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (900, 1200)
    assert len(data) > 40_000  # a page of text and tables, not a blank canvas (a blank one is ~5 kB)


def test_catalog_md_is_the_same_from_the_api() -> None:
    engine = policy_dsl.load("liaoning")
    assert catalog_md(build_catalog(engine)).startswith("# 辽宁省就业创业政策清单和办事指南\n")


def test_the_excerpts_in_docs_are_real_output(capsys) -> None:
    doc = (ROOT / "docs" / "catalog.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```markdown\n(.*?)```", doc, re.S)
    assert len(blocks) >= 4
    whole = _md("fushun", capsys=capsys) + _md("liaoning", capsys=capsys)
    for block in blocks:
        assert block.rstrip("\n") in whole, block[:80]
    assert (ROOT / "docs" / "catalog-stable-job-refund.png").is_file() and (ROOT / "docs" / "catalog-fushun.png").is_file()


def test_deadlines_are_time_limits_not_cut_off_dates(capsys) -> None:
    section = _section(_md("fushun", capsys=capsys), "unemployment_subsidy")
    limits = section.split("**办理时限**", 1)[1].split("**办理方式**", 1)[0]
    # 辽人社发〔2021〕7号 一（六）: 申领受理时间截至2021年7月31日 / 2021年12月31日; 2020年12月31日 only sorts the cases
    assert "失业补助金申领截止日期：如果属旧情形，为2021年7月31日；否则为2021年12月31日" in limits
    assert "旧情形截止日期" not in limits
    internship = _section(_md("fushun", capsys=capsys), "internship_subsidy")
    assert "- 政策受理期限：2021年12月31日" in internship


def test_an_unwritable_out_path_is_a_usage_error(tmp_path: Path, capsys) -> None:
    assert main(["catalog", "fushun", "--out", str(tmp_path / "no" / "such" / "dir" / "c.md")]) == 2
    err = capsys.readouterr().err
    assert "无法写入" in err and "Traceback" not in err
