"""policy batch, the register's cells and header: each spelling a clerk's export may use is typed
by the vocabulary exactly as docs/batch.md lists it, money never through float, and a bad column
stops the run before any row is read."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from policy_dsl.batch.cells import CellError, parser_for
from policy_dsl.batch.columns import read_header
from policy_dsl.errors import UsageError
from policy_dsl.vocabulary import vocabulary

VOCAB = vocabulary()

GOOD = [
    ("unit.ui_insured", "是", True), ("unit.ui_insured", "否", False), ("unit.ui_insured", "TRUE", True),
    ("unit.ui_insured", "false", False), ("unit.ui_insured", "1", True), ("unit.ui_insured", "0", False),
    ("unit.layoffs", "4", 4), ("unit.layoffs", " 12 ", 12), ("unit.layoffs", "-1", -1),
    ("unit.ui_contribution_last_year", "50000.00", Decimal("50000.00")),
    ("unit.ui_contribution_last_year", "12,345.67", Decimal("12345.67")),
    ("unit.ui_contribution_last_year", "0.1", Decimal("0.1")),
    ("unit.ui_contribution_last_year", "1000000.05", Decimal("1000000.05")),
    ("region.ui_fund_reserve_months", "11.5", Decimal("11.5")),
    ("unit.application_date", "2021-08-20", date(2021, 8, 20)),
    ("unit.application_date", "2021/8/2", date(2021, 8, 2)),
    ("unit.application_date", "2021年12月31日", date(2021, 12, 31)),
    ("unit.kind", "enterprise", "enterprise"), ("unit.kind", "企业", "enterprise"),
    ("unit.kind", "以单位形式参保的个体经济组织", "individual_economic_org"), ("unit.size", "大型", "large"),
    ("person.identities", "disabled;veteran", ["disabled", "veteran"]),
    ("person.identities", "退役士兵｜残疾人".replace("｜", "|"), ["disabled", "veteran"]),
    ("person.identities", "残疾人；退役士兵", ["disabled", "veteran"]),
    ("person.identities", "[]", []),
    ("unit.name", " 抚顺某公司 ", "抚顺某公司"),
    ("household.members", '[{"employed": false, "working_age": true}]', [{"employed": False, "working_age": True}]),
]

BAD = [
    ("unit.ui_insured", "Y", "是/否"),
    ("unit.layoffs", "三十", "不是整数"), ("unit.layoffs", "3.0", "不是整数"),
    ("unit.ui_contribution_last_year", "1e5", "十进制数"), ("unit.ui_contribution_last_year", "1,23.4", "十进制数"),
    ("unit.ui_contribution_last_year", "50000元", "十进制数"),
    ("unit.application_date", "2021-02-30", "不存在的日期"), ("unit.application_date", "20210820", "不是日期"),
    ("unit.kind", "enterprize", "did you mean: enterprise"), ("unit.size", "mini", "可选：large（大型）"),
    ("person.identities", "disabled;disabled", "重复"), ("person.identities", "disabled;unknown_x", "不是人员身份的可选值"),
    ("household.members", "3 个成员", "JSONL 或 Parquet"),
]


@pytest.mark.parametrize("path,text,expected", GOOD)
def test_text_cells_are_typed_by_the_vocabulary(path, text, expected):
    value = parser_for(VOCAB.facts[path])(text)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("path,text,fragment", BAD)
def test_bad_text_cells_say_what_is_wrong(path, text, fragment):
    with pytest.raises(CellError) as err:
        parser_for(VOCAB.facts[path])(text)
    assert fragment in str(err.value)


def test_parquet_native_values():
    money = parser_for(VOCAB.facts["unit.ui_contribution_last_year"])
    assert money(Decimal("1.10")) == Decimal("1.10")
    assert money(1234.56) == Decimal("1234.56")           # float-ok: the shortest repr is the written number
    assert money(50000) == Decimal(50000)
    with pytest.raises(CellError, match="17 位有效数字"):
        money(0.1 + 0.2)                                  # float-ok: 0.30000000000000004 has no exact meaning
    with pytest.raises(CellError):
        money(float("nan"))  # float-ok
    count = parser_for(VOCAB.facts["unit.layoffs"])
    assert count(3.0) == 3                                # float-ok: pandas turns int columns with gaps into floats
    with pytest.raises(CellError):
        count(3.5)
    with pytest.raises(CellError):
        count(True)
    assert parser_for(VOCAB.facts["person.identities"])(["veteran", "disabled"]) == ["disabled", "veteran"]


def _header_error(names, keep=()):
    with pytest.raises(UsageError) as err:
        read_header(names, VOCAB, tuple(keep), "r.csv")
    return err.value.render()


def test_header_unknown_column_with_did_you_mean():
    text = _header_error(["unit.kind", "unit.layofs", "备注"])
    assert "unit.layofs" in text and "did you mean: unit.layoffs" in text
    assert "备注" in text and "--keep" in text and "未读取任何数据行" in text


def test_header_chinese_label_points_at_the_fact_path():
    assert "unit.layoffs" in _header_error(["上年度裁员人数"])


def test_header_member_field_columns_explain_where_members_go():
    text = _header_error(["household.members.employed"])
    assert "household.members" in text and "JSON 数组" in text and "JSONL / Parquet" in text


def test_header_duplicates_blank_and_missing_keep():
    text = _header_error(["unit.kind", "unit.kind", ""], keep=["统一社会信用代码"])
    assert "重复" in text and "第 3 列没有列名" in text and "统一社会信用代码" in text


def test_header_bom_and_kept_columns():
    header = read_header(["\ufeffunit.kind", "统一社会信用代码", "as_of"], VOCAB, ("统一社会信用代码",), "r.csv")
    assert [c.path for c in header.columns] == ["unit.kind", None, "as_of"]
    assert header.subjects == {"unit"}
