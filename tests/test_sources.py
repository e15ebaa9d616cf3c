"""Quote verification: every quoted text of both rule sets is the cited article's wording,
and a wrong quote is an error at its position with the closest passage as a hint."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from policy_dsl.checker import analyse
from policy_dsl.errors import CheckFailed
from policy_dsl.loader import load_rule_set
from policy_dsl.sources import QuoteError, check_quotes, quotes_of, read_document, resolve_articles

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"


@pytest.mark.parametrize("name", ["liaoning", "fushun"])
def test_every_quote_of_the_shipped_sets_is_verbatim(name: str) -> None:
    rs = load_rule_set(POLICIES / name)
    assert all(d.text_path for d in rs.documents.values()), "every document of the set names its text"
    assert check_quotes(rs) == []
    quotes = list(quotes_of(rs))
    assert len(quotes) > 100  # clause, parameter, condition and exception quotes are all looked at
    assert {q.what.split()[0] for q in quotes} >= {"条款", "参数", "条件", "例外"}


def test_document_articles_follow_the_headings() -> None:
    doc = read_document(str(POLICIES / "liaoning" / "source.md"), "辽人社发〔2021〕7号")
    assert doc.articles["附件2 一、1"].text.startswith("1.城镇零就业家庭成员。")
    # a parent article holds its sub-articles; the editor's note before the first heading is no article
    assert "免申即享" in doc.articles["一"].text and "免申即享" in doc.articles["一（一）"].text
    assert "条目编号" not in doc.whole
    # a sentence broken by a page in the original is joined (whitespace never counts)
    assert "当地农村最低生活保障标准的1.5倍" in doc.articles["一（三）"].text
    fushun = read_document(str(POLICIES / "fushun" / "source.md"), "抚人社发〔2021〕20号")
    assert fushun.articles["附件2 责任分工表（十八） 责任单位"].text == "市人社局市财政局市就业中心市社保中心"
    assert "<p" not in fushun.whole


def test_composite_article_references() -> None:
    doc = read_document(str(POLICIES / "liaoning" / "source.md"), "辽人社发〔2021〕7号")
    ids = lambda ref: [a.id for a in resolve_articles(doc, ref) or []]  # noqa: E731
    assert ids("五（十六）、一（一）") == ["五（十六）", "一（一）"]
    assert ids("附件2 一、1；四（十三）") == ["附件2 一、1", "四（十三）"]
    assert ids("附件2 二、5") == ["附件2 二、5"]
    assert resolve_articles(doc, "一（十九）") is None


@pytest.fixture
def liaoning_copy(tmp_path: Path) -> Path:
    target = tmp_path / "liaoning"
    shutil.copytree(POLICIES / "liaoning", target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _quote_errors(where: Path) -> list[QuoteError]:
    return [e for e in analyse(load_rule_set(where)).errors if isinstance(e, QuoteError)]


def test_a_changed_word_is_an_error_at_that_word(liaoning_copy: Path) -> None:
    clause = liaoning_copy / "clauses" / "stable_job_refund.yaml"
    _edit(clause, 'text: "30人（含）以下的参保单位裁员率不高于参保职工总数20%的"}',
          'text: "30人（含）以下的参保单位裁员率低于参保职工总数20%的"}')
    [error] = _quote_errors(liaoning_copy)
    line_no = next(i for i, line in enumerate(clause.read_text(encoding="utf-8").splitlines(), 1) if "裁员率低于" in line)
    line = clause.read_text(encoding="utf-8").splitlines()[line_no - 1]
    assert error.span.name == str(clause)
    assert (error.span.line, error.span.column) == (line_no, line.index("低于") + 1)   # points at the changed word
    assert "参数 小微单位人数上限 的出处" in error.message and "一（一）" in error.message
    assert error.found.startswith("……低于")
    assert "「30人（含）以下的参保单位裁员率不高于参保职工总数20%的" in error.hint
    assert error.related is not None and error.related.name.endswith("source.md")
    rendered = error.render()
    assert f"{clause}:{line_no}:{line.index('低于') + 1}" in rendered


def test_a_quote_from_another_article_is_an_error(liaoning_copy: Path) -> None:
    clause = liaoning_copy / "clauses" / "unemployment_subsidy.yaml"
    _edit(clause, 'article: 一（六）\n      text: "失业补助金只能申领享受一次。"',
          'article: 一（五）\n      text: "失业补助金只能申领享受一次。"')
    [error] = _quote_errors(liaoning_copy)
    assert "一（五）" in error.message and error.span.line > 1


def test_an_unknown_article_names_the_nearest(liaoning_copy: Path) -> None:
    clause = liaoning_copy / "clauses" / "unemployment_subsidy.yaml"
    _edit(clause, 'article: 一（六）\n      text: "失业补助金只能申领享受一次。"',
          'article: 一（六)\n      text: "失业补助金只能申领享受一次。"')
    [error] = _quote_errors(liaoning_copy)
    assert "不存在" in error.message and error.found == "一（六)"
    assert "一（六）" in (error.hint or "")


def test_an_editorial_remark_inside_a_quote_is_an_error(liaoning_copy: Path) -> None:
    clause = liaoning_copy / "clauses" / "skill_upgrade_subsidy.yaml"
    _edit(clause, 'text: "企业在职职工"', 'text: "企业在职职工（即在职人员）"')
    [error] = _quote_errors(liaoning_copy)
    assert "条件 企业在职职工 的原文" in error.message and error.found.startswith("……（即在职人员）")


def test_omission_marks_keep_the_order_of_the_text(liaoning_copy: Path) -> None:
    clause = liaoning_copy / "clauses" / "unemployment_subsidy.yaml"
    good = 'text: "申领受理时间截至2021年7月31日；……申领受理时间截至2021年12月31日"'
    _edit(clause, good, 'text: "实际发放时间最长可至2022年6月30日……申领受理时间截至2021年7月31日"')
    [error] = _quote_errors(liaoning_copy)
    assert error.found == "申领受理时间截至2021年7月31日" and "顺序" in (error.hint or "")


def test_whitespace_and_line_folding_do_not_count(liaoning_copy: Path) -> None:
    clause = liaoning_copy / "clauses" / "unemployment_subsidy.yaml"
    _edit(clause, '    text: "失业补助金只能申领享受一次。"\n  在受理期限内申领',
          '    text: >-\n      失业补助金只能\n      申领享受 一次。\n  在受理期限内申领')
    assert _quote_errors(liaoning_copy) == []


def test_a_missing_document_text_is_a_load_error(liaoning_copy: Path) -> None:
    (liaoning_copy / "source.md").unlink()
    with pytest.raises(CheckFailed) as failed:
        load_rule_set(liaoning_copy)
    [error] = failed.value.diagnostics
    assert "source.md" in error.message and error.span is not None and error.span.name.endswith("policy-set.yaml")


def test_check_cli_reports_a_wrong_quote(liaoning_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from policy_dsl.cli import main

    _edit(liaoning_copy / "clauses" / "training_living_allowance.yaml", "每人每月300元。", "每人每月300元（含交通费）。")
    code = main(["check", str(liaoning_copy)])
    out = capsys.readouterr().out
    assert code == 1
    assert re.search(r"training_living_allowance\.yaml:\d+:\d+: 引文错误 quote error", out)
    assert "1 个错误" in out


def test_a_citation_without_a_quote_must_name_an_existing_article(liaoning_copy: Path) -> None:
    clause = liaoning_copy / "clauses" / "employment_difficulty.yaml"
    _edit(clause, "article: 附件2 一、4}", "article: 附件2 一、40}")
    [error] = _quote_errors(liaoning_copy)
    line = next(i for i, row in enumerate(clause.read_text(encoding="utf-8").splitlines(), 1) if "附件2 一、40" in row)
    assert error.span.line == line and "附件2 一、40" in error.message and "不存在" in error.message


def test_a_document_text_that_is_not_utf8_is_reported(liaoning_copy: Path) -> None:
    (liaoning_copy / "source.md").write_bytes("# 辽人社发〔2021〕7号\n".encode("gb18030"))
    errors = analyse(load_rule_set(liaoning_copy)).errors
    assert [e.message for e in errors] == [f"原文文件不是 UTF-8 编码 not UTF-8: {liaoning_copy / 'source.md'}"]


def test_a_duplicate_article_heading_is_reported(liaoning_copy: Path) -> None:
    doc = liaoning_copy / "source.md"
    doc.write_text(doc.read_text(encoding="utf-8") + "\n### 一（三）\n\n重复\n", encoding="utf-8")
    errors = analyse(load_rule_set(liaoning_copy)).errors
    assert len(errors) == 1 and "重复" in errors[0].message and errors[0].span.name == str(doc)


def test_a_citation_of_a_document_the_set_does_not_list_is_an_error(liaoning_copy: Path) -> None:
    clause = liaoning_copy / "clauses" / "unemployment_subsidy.yaml"
    _edit(clause, "document: 辽人社发〔2021〕7号\n      article: 一（六）\n      text: \"失业补助金只能申领享受一次。\"",
          "document: 辽人社发[2021]7号\n      article: 一（六）\n      text: \"失业补助金只能申领享受一次。\"")
    [error] = _quote_errors(liaoning_copy)
    assert "不在规则集清单中" in error.message and error.found == "辽人社发[2021]7号"
    assert "辽人社发〔2021〕7号" in (error.hint or "")
