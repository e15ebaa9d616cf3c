"""Explanations for people (policy_dsl/render/): golden clerk texts and 告知书 drafts worked out
against the source articles, no identifiers or code in any Chinese text over generated cases of
both sets, and every value Fushun set citing 抚人社发〔2021〕20号."""
from __future__ import annotations

import os
import re
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

import pytest
import yaml

from policy_dsl import load
from policy_dsl.explain import render_notice, render_text, render_tree
from policy_dsl.facts import read_facts
from policy_dsl.generate import generate_cases
from policy_dsl.render.clerk import clerk_text
from policy_dsl.render.report import case_report
from policy_dsl.render.zh import money, number, percent, phrase, unit_of, value_words
from policy_dsl.trace import build_trace

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden" / "clerk"
CASES = yaml.safe_load((GOLDEN / "cases.yaml").read_text(encoding="utf-8"))
CITY_DOC = "抚人社发〔2021〕20号"


@lru_cache(maxsize=None)
def engine(name: str):
    return load(ROOT / "policies" / name)


def _decision(case: dict):
    return engine(case["set"]).evaluate(read_facts(str(ROOT / case["facts"])), trace=True)


def _golden(path: Path, actual: str) -> None:
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert path.is_file(), f"missing golden file {path}; run with UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_clerk_text_is_pinned(case: dict) -> None:
    _golden(GOLDEN / f"{case['id']}.txt", render_text(_decision(case), case.get("clause"), "zh"))


@pytest.mark.parametrize("case", [c for c in CASES if c.get("notice")], ids=lambda c: c["id"])
def test_notice_is_pinned(case: dict) -> None:
    _golden(GOLDEN / f"{case['id']}.notice.md", render_notice(_decision(case), case.get("clause"), "md"))
    _golden(GOLDEN / f"{case['id']}.notice.html", render_notice(_decision(case), case.get("clause"), "html"))


def test_golden_cases_cover_every_computable_clause() -> None:
    covered = set()
    for case in CASES:
        covered |= {c.id for c in case_report(_decision(case), case.get("clause")).clauses}
    for name in ("liaoning", "fushun"):
        computable = {cid for cid, c in engine(name).rule_set.clauses.items() if c.kind == "computable"}
        assert computable <= covered, computable - covered


# --- what a clerk reads -------------------------------------------------------------------------
def _text(case_id: str) -> str:
    case = next(c for c in CASES if c["id"] == case_id)
    return render_text(_decision(case), case.get("clause"), "zh")


def test_a_late_applicant_that_is_not_auto_paid_reads_as_not_accepted() -> None:
    # 辽人社发〔2021〕7号 一（一）: apply by 2021-12-31; 250 insured at the end of 2020 > 200: not 免申即享.
    text = _text("fushun_unit_late_not_auto_pay")
    assert "  应予拨付：不符合。逾期申请，不予受理\n    · 申请日期2022年1月5日，晚于申请截止日期2021年12月31日\n" in text
    assert "稳岗返还金额：60000.00元（按条件计算；逾期申请，不予受理）" in text


def test_boundaries_are_told_as_the_source_text_says_them() -> None:
    assert "上年度参保职工总数25人，在30人（含）以下；裁员率24%，高于20%" in _text("liaoning_unit_small_ineligible")
    assert "裁员率≈6.45%，高于6%" in _text("fushun_unit_rate_rounded")  # 20/310, exact in JSON
    assert "晚于法定退休日期前5年（2020年3月1日）" in _text("liaoning_near_retirement")  # 不足5年: strict
    assert "在法定退休日期前5年（2020年3月1日）当日或之后" in _text("liaoning_near_retirement")  # 5年以内: inclusive
    assert "培训开始日期2021年8月16日，在2021年12月31日前（含当日）" in _text("fushun_poverty_alleviated")


def test_household_members_are_counted_in_words() -> None:
    text = _text("fushun_zero_employment_household")
    assert "家庭3名成员中，在法定劳动年龄内、有劳动能力、有就业要求、未就业且无经营性、投资性收入的有2名，达到2人（含）以上" in text


def test_a_missing_fact_of_one_household_member_is_asked_for_by_member() -> None:
    text = _text("liaoning_household_member_facts_missing")
    assert "  请提供：第1名家庭成员“有经营性、投资性收入”、第2名家庭成员“已就业”\n" in text


def test_missing_facts_are_asked_for_once_and_open_rules_are_not() -> None:
    text = _text("fushun_unit_missing_layoffs")
    assert text.count("请提供：上年度裁员人数\n") == 1
    text = _text("liaoning_unit_small_ineligible")
    assert "中小微企业及其他单位返还比例未确定：由各市确定，不超过60%" in text and "请提供" not in text


def test_clauses_the_case_does_not_touch_are_named_once_at_the_end() -> None:
    text = _text("fushun_unit_medium")
    last = text.rstrip("\n").split("\n")[-1]
    assert last.startswith("未涉及：") and "失业补助金" in last and "政策落实时限" in last
    assert text.count("失业补助金") == 1


def test_an_employee_hears_only_about_what_concerns_them() -> None:
    """Employed, 20 months of contributions, applying: 技能提升补贴 is decided; the clauses where nothing
    the case gives decides anything (就业困难人员认定, 失业补助金, 见习 …) are only named at the end."""
    facts = {"as_of": "2021-09-01", "person": {"employed": True, "ui_contribution_months": 20,
                                               "application_date": "2021-09-01"}}
    text = clerk_text(case_report(engine("fushun").evaluate(facts, trace=True)))
    assert [line for line in text.split("\n") if line[:2] in ("一、", "二、")] == ["一、技能提升补贴（展翅行动）申领条件"]
    assert "请提供" not in text and len(text.split("\n")) < 15
    assert "就业困难人员认定" in text.split("\n")[-2] and "失业补助金" in text.split("\n")[-2]


def test_numbers_for_people() -> None:
    assert percent(Decimal(20) / Decimal(310)) == "≈6.45%" and percent(Decimal("0.06")) == "6%"
    assert money(Decimal("300.015")) == "≈300.02元" and money(Decimal("5000000")) == "5000000.00元（500万元）"
    assert number(Decimal("6.5")) + unit_of("见习补贴月数") == "6.5个月"
    from datetime import date
    assert value_words(date(2021, 12, 31), "date") == "2021年12月31日"
    assert value_words(frozenset(), "set") == "无" and value_words(True, "bool") == "是"
    assert [unit_of(x) for x in ("上年度参保职工总数", "实际参加有效培训天数", "每年培训补贴次数上限", "孤儿最低年龄")] == \
        ["人", "天", "次", "周岁"]
    assert phrase("<=", "count", "30人", None) == "30人（含）以下"
    assert phrase("<=", "amount", "6%", True) == "不高于6%"
    assert phrase("<", "count", "5年", None) == "不足5年"
    assert phrase("<=", "date", "2021年12月31日", None) == "2021年12月31日前（含当日）"


# --- no code in Chinese text, over generated cases of both sets ----------------------------------
# An identifier, enum code or Python value (two ASCII letters or more, or a letter next to "_";
# "X证书" is a name and "____年" a form field), a brace, a bracket, or an operator. "元/人·月" is a
# unit in a fact's name.
_CODE = re.compile(r"[A-Za-z]{2,}|[A-Za-z]_|_[A-Za-z]|[{}\[\]<>=*+]|/(?!人·月)")


def _markdown_text(md: str) -> str:
    return "\n".join(re.sub(r"^(#+ |- |---$)", "", line).replace("**", "") for line in md.splitlines())


@lru_cache(maxsize=1)
def _generated() -> list[tuple[str, dict]]:
    """Boundary cases from the rules' own thresholds (policy diff --generate); every other one keeps
    the run short, and the tests check that every conclusion is still rendered."""
    cases, _ = generate_cases(engine("liaoning"), engine("fushun"))
    return cases[::2]


@pytest.mark.parametrize("name", ["liaoning", "fushun"])
def test_no_identifier_enum_code_or_operator_in_chinese_text(name: str) -> None:
    eng = engine(name)
    seen_conclusions: set[str] = set()
    for label, facts in _generated():
        decision = eng.evaluate(facts, trace=True)
        report = case_report(decision)
        texts = {"text": clerk_text(report), "tree": render_tree(decision, full=False, width=80),
                 "notice": _markdown_text(render_notice(decision))}
        for cid, result in decision.clauses.items():
            if result.applicable and cid in eng.rule_set.clauses and eng.rule_set.clauses[cid].subject == "always":
                report = case_report(decision, cid)  # deadlines only show when asked for
                texts[f"text {cid}"] = clerk_text(report)
        for kind, text in texts.items():
            bad = _CODE.search(text)
            assert bad is None, f"{name} {label} ({kind}): {bad.group(0)!r} in\n{text}"
        for c in decision.clauses.values():
            seen_conclusions |= {f"{c.id}.{k}" for k in c.conclusions}
    every = {f"{cid}.{k}" for cid, c in eng.rule_set.clauses.items() for k in c.conclusions}
    assert every <= seen_conclusions, every - seen_conclusions


# --- citations in the variant --------------------------------------------------------------------
def test_every_value_fushun_sets_cites_the_city_document() -> None:
    """Each parameter Fushun overrides cites 抚人社发〔2021〕20号 wherever it is used, and so does every
    conclusion computed from one (refund_rate, amount, max_extension_months, policy_list_due …)."""
    from policy_dsl.render.zh import Words

    eng = engine("fushun")
    overridden = {(cid, key.split(".", 1)[1]) for cid, c in eng.rule_set.clauses.items()
                  for key in c.overrides if key.startswith("parameters.")}
    assert len(overridden) >= 6
    used_params, cited_conclusions = set(), set()
    for label, facts in _generated():
        decision = eng.evaluate(facts, trace=True)
        for cid, conclusions in build_trace(decision).items():
            for name, tree in conclusions.items():
                for node in tree.walk():
                    if node.kind == "parameter" and (node.clause, node.label) in overridden and node.evaluated:
                        used_params.add((node.clause, node.label))
                        assert node.citation and node.citation.document == CITY_DOC, (label, node.label)
                if any(c.document == CITY_DOC for c in tree.set_by):
                    cited_conclusions.add(f"{cid}.{name}")
        traces = build_trace(decision)
        for clause in case_report(decision).clauses:
            named = {Words(eng).conclusion(clause.id, k): v for k, v in traces[clause.id].items()}
            for result in clause.results + clause.deadlines:
                if named[result.label].set_by:
                    assert any(c.startswith(CITY_DOC) for c in result.cites), (label, result)
    assert used_params == overridden - {("implementation_deadlines", "本地细则发布日期"),
                                        ("implementation_deadlines", "政策清单公开时限")} or used_params >= {
        ("stable_job_refund", "大型企业返还比例"), ("stable_job_refund", "中小微企业及其他单位返还比例"),
        ("flexible_employment_si_extension", "延长享受期限上限月数")}
    assert {"stable_job_refund.refund_rate", "stable_job_refund.amount",
            "flexible_employment_si_extension.max_extension_months",
            "implementation_deadlines.policy_list_due"} <= cited_conclusions


def test_a_province_note_about_what_the_city_set_no_longer_shows() -> None:
    case = next(c for c in CASES if c["id"] == "fushun_unit_medium")
    full = render_tree(_decision(case), "stable_job_refund", "zh", width=200, full=True)
    assert "返还比例由各市确定，省级规则集中未确定" not in full
    assert "[数值：抚人社发〔2021〕20号 一]" in full
    province = render_tree(engine("liaoning").evaluate(read_facts(str(ROOT / case["facts"])), trace=True),
                           "stable_job_refund", "zh", width=200, full=True)
    assert "返还比例由各市确定，省级规则集中未确定" in province


# --- the rules in words, without a case (what a catalog of the rules shows) ------------------------
RULES_IN_WORDS = [
    ("liaoning", "stable_job_refund", "小微参保单位", "上年度参保职工总数30人（含）以下"),
    ("liaoning", "stable_job_refund", "裁员率达标", "未裁员或（如果小微参保单位，裁员率不高于20%；否则裁员率不高于6%）"),
    ("liaoning", "stable_job_refund", "基金备付期限1年以上", "上年度失业保险基金滚存结余备付期限12个月（含）以上"),
    ("liaoning", "stable_job_refund", "application_in_time", "申请日期在申请截止日期前（含当日）"),
    ("liaoning", "public_welfare_post_priority", "距法定退休年龄不足5年",
     "评估日期距法定退休日期不足5年"),
    ("liaoning", "zero_employment_family", "劳动年龄内成员均未就业", "家庭成员中没有在法定劳动年龄内且已就业的"),
    ("liaoning", "zero_employment_family", "无业且无经营投资性收入的成员达2名以上",
     "家庭成员中在法定劳动年龄内、有劳动能力、有就业要求、未就业且无经营性、投资性收入的人数2人（含）以上"),
    ("liaoning", "implementation_deadlines", "local_rules_due", "通知发布日期（2021年6月30日）后30日"),
    ("fushun", "graduate_training_subsidy", "list_approver",
     "如果中高职院校X证书，为市教育局；如果本科高校X证书，为各级教育行政部门；否则为县（区）人力资源社会保障部门"),
    ("fushun", "stable_job_refund", "refund_rate", "如果按大型企业返还，为30%；否则为60%"),
]


@pytest.mark.parametrize("name,cid,item,words", RULES_IN_WORDS, ids=[f"{r[0]}-{r[2]}" for r in RULES_IN_WORDS])
def test_a_rule_in_words(name: str, cid: str, item: str, words: str) -> None:
    from policy_dsl.render.zh import Words

    assert Words(engine(name)).rule(cid, item) == words


@pytest.mark.parametrize("name", ["liaoning", "fushun"])
def test_every_rule_of_both_sets_in_words_has_no_code(name: str) -> None:
    from policy_dsl.render.zh import Words

    words = Words(engine(name))
    for cid, clause in engine(name).rule_set.clauses.items():
        for item in list(clause.definitions) + list(clause.conditions) + list(clause.conclusions):
            text = words.rule(cid, item)
            assert _CODE.search(text) is None and "按规则计算的值" not in text, f"{cid}.{item}: {text}"


# --- the terminal ----------------------------------------------------------------------------------
def test_tree_lines_break_between_words_never_inside_a_label_or_identifier() -> None:
    from rich.cells import cell_len

    case = next(c for c in CASES if c["id"] == "fushun_zero_employment_household")
    decision = _decision(case)
    for width in (80, 100):
        full = render_tree(decision, None, "zh", width=width, full=True)
        for line in full.splitlines():  # deep in the developer tree a long fact path may overflow, never break
            assert cell_len(line) <= width or re.search(r"[a-z_.]{%d,}" % (width // 3), line), line
        lines = full.splitlines()
        for path in ("household.members", "person.statutory_retirement_date", "employment_difficulty.城镇零就业家庭成员"):
            assert any(path in line for line in lines if path.split(".")[0] in line) or path not in full.replace("\n", "")
        for node_label in ("城镇零就业家庭成员", "同一家庭户口内的家庭成员（民法典第1045条）"):
            assert node_label in full  # a label is never split over two lines
        clerk = render_tree(decision, None, "zh", width=width, full=False)
        assert max(cell_len(line) for line in clerk.splitlines()) <= width
        for label in ("属于就业困难人员：符合", "城镇公益性岗位优先安置：符合"):
            assert label in clerk


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch) -> None:
    import io

    from policy_dsl.render.tree import use_colour

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert use_colour(Tty()) and not use_colour(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour(Tty())
    case = next(c for c in CASES if c["id"] == "fushun_unit_medium")
    coloured = render_tree(_decision(case), None, "zh", width=100, full=False, colour=True)
    plain = render_tree(_decision(case), None, "zh", width=100, full=False, colour=False)
    assert "\x1b[" in coloured and "\x1b[" not in plain
    assert re.sub(r"\x1b\[[0-9;]*m", "", coloured) == plain


def test_width_comes_from_the_terminal(monkeypatch) -> None:
    from rich.cells import cell_len

    monkeypatch.setenv("COLUMNS", "64")
    case = next(c for c in CASES if c["id"] == "fushun_unit_medium")
    out = render_tree(_decision(case), None, "zh", width=None, full=False)
    assert max(cell_len(line) for line in out.splitlines()) <= 64
    assert max(cell_len(line) for line in out.splitlines()) > 50


def test_a_rule_sets_own_payable_conclusion_is_the_decision_and_keeps_the_reasons() -> None:
    """When stable_job_refund has its own `payable` (应予拨付) conclusion, the clerk's decision is that
    conclusion, still told as 逾期申请，不予受理 with the date that decided it."""
    eng = load(ROOT / "tests" / "fixtures" / "mini_payable")
    facts = {"as_of": "2022-01-10", "region": {"ui_fund_reserve_months": 14},
             "unit": {"name": "某公司", "kind": "enterprise", "size": "medium", "ui_insured": True,
                      "insured_headcount": 240, "layoffs": 12, "ui_contribution_last_year": "100000.00",
                      "insured_headcount_end_2020": 250, "application_date": "2022-01-05"}}
    decision = eng.evaluate(facts, trace=True)
    assert decision.clauses["stable_job_refund"].conclusions["payable"] is False
    text = clerk_text(case_report(decision))
    assert "  应予拨付：不符合。逾期申请，不予受理\n    · 申请日期2022年1月5日，晚于申请截止日期2021年12月31日\n" in text
    assert "依据：某市人社发〔2021〕3号 一；" in text and text.count("  应予拨付") == 1


@pytest.mark.parametrize("name", ["liaoning", "fushun"])
def test_every_conclusion_has_a_chinese_label(name: str) -> None:
    """From the vocabulary, or for a set's own conclusion (以工代训 in_force) its rule file's `label`."""
    from policy_dsl.render.zh import Words

    words = Words(engine(name))
    for cid, clause in engine(name).rule_set.clauses.items():
        for conclusion in clause.conclusions:
            label = words.conclusion(cid, conclusion)
            assert label != conclusion and not label.isascii(), f"{cid}.{conclusion}"
