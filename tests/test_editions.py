"""Editions (`supersedes`) and the richer patches: `remove:`, re-noting without restating,
bounds changes — against tests/fixtures/mini_province.

Each directory under tests/fixtures/editions/ is a rule set built on mini_province (or on a
sibling); its expect.yaml gives the exit code of `policy check` and lines its output must
contain (positions included). They are copied next to a copy of mini_province, since
`extends`/`supersedes` name a sibling directory.

Expected values are worked out by hand from the fixture rules (see tests/test_variants.py):
  eligible when insured and (layoffs == 0, or headcount <= 小微单位人数 and rate <= 20%, or
  headcount > 小微单位人数 and rate <= 裁员率上限); amount = contribution × refund rate.
"""
from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

import policy_dsl
from policy_dsl import Unknown
from policy_dsl.cache import _key
from policy_dsl.cli import main
from policy_dsl.editions import ancestors, chain, editions, relation, same_level
from policy_dsl.explain import render_tree

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
CASES = sorted(p.name for p in (FIXTURES / "editions").iterdir() if (p / "expect.yaml").is_file())
CLAUSE = "stable_job_refund"

UNIT = {"kind": "enterprise", "size": "medium", "ui_insured": True, "insured_headcount": 100, "layoffs": 4,
        "ui_contribution_last_year": "50000.00", "insured_headcount_end_2020": 120, "application_date": date(2021, 8, 20)}


def facts(**unit) -> dict:
    return {"as_of": date(2022, 5, 1), "region": {"ui_fund_reserve_months": 15}, "unit": {**UNIT, **unit}}


@pytest.fixture
def sets(tmp_path: Path) -> Path:
    """Every fixture set of tests/fixtures/editions next to a copy of mini_province (and mini_city)."""
    for name in ("mini_province", "mini_city"):
        shutil.copytree(FIXTURES / name, tmp_path / name)
    for case in (FIXTURES / "editions").iterdir():
        shutil.copytree(case, tmp_path / case.name)
    return tmp_path


@pytest.mark.parametrize("case", CASES)
def test_policy_check(case: str, sets: Path, capsys: pytest.CaptureFixture[str]) -> None:
    expect = yaml.safe_load((FIXTURES / "editions" / case / "expect.yaml").read_text(encoding="utf-8"))
    code = main(["check", str(sets / case)])
    captured = capsys.readouterr()
    out = captured.out + captured.err
    for line in expect["output"]:
        assert line in out, out
    assert code == expect["exit"], out
    if expect["exit"] == 0:
        assert "警告 warning" not in out


# --- loading an edition ----------------------------------------------------------------------

def test_an_edition_keeps_its_predecessor_and_the_chain_helpers_walk_it(sets: Path) -> None:
    rs = policy_dsl.load(sets / "edition_raise").rule_set
    assert (rs.supersedes, rs.extends) == ("mini_province", None)
    assert rs.predecessor is rs.base and rs.predecessor.name == "mini_province"
    assert relation(rs) == "supersedes" and relation(rs.base) is None
    assert [r.name for r in chain(rs)] == ["edition_raise", "mini_province"]
    assert [(how, r.name) for how, r in ancestors(rs)] == [("supersedes", "mini_province")]
    assert [r.name for r in editions(rs)] == ["edition_raise", "mini_province"]
    assert same_level(rs) == {"edition_raise", "mini_province"}
    # the predecessor's resolved clauses are untouched by the edition's patch
    assert rs.predecessor.clauses[CLAUSE].parameters["裁员率上限"].value == Decimal("0.06")
    city = policy_dsl.load(sets / "mini_city").rule_set
    assert (city.extends, city.supersedes, city.predecessor) == ("mini_province", None, None)
    assert [(how, r.name) for how, r in ancestors(city)] == [("extends", "mini_province")]
    assert [r.name for r in editions(city)] == ["mini_city"] and same_level(city) == {"mini_city"}


def test_an_edition_changes_values_bounds_and_delegations(sets: Path) -> None:
    params = policy_dsl.load(sets / "edition_raise").rule_set.clauses[CLAUSE].parameters
    assert params["中小微返还比例上限"].value == Decimal("0.9")
    small = params["中小微返还比例"]
    # widened: the edition's bounds replace its predecessor's, and say where they were written
    assert small.bounds == (None, Decimal("0.9")) and small.bounds_origin.set_name == "edition_raise"
    assert small.delegated.reason == "由各市确定，不超过90%" and not small.filled
    # fixed by the province itself now: no longer delegated, and the delegate's bounds went with it
    large = params["大型企业返还比例"]
    assert (large.value, large.delegated, large.bounds) == (Decimal("0.25"), None, (None, None))
    assert params["裁员率上限"].value == Decimal("0.055")


def test_the_editions_values_decide(sets: Path) -> None:
    engine = policy_dsl.load(sets / "edition_raise")
    # 40 people, 3 laid off = 7.5% > 5.5% and 40 <= 50 (小微单位人数 now 50) → 7.5% <= 20%: eligible
    got = engine.evaluate(facts(insured_headcount=40, layoffs=3)).to_json()["clauses"][CLAUSE]["conclusions"]
    assert got["eligible"] is True
    # large enterprise: the province's own 25% → 50000.00 × 25% = 12500.00
    got = engine.evaluate(facts(size="large")).to_json()["clauses"][CLAUSE]["conclusions"]
    assert (got["refund_rate"], got["amount"]) == ("0.25", "12500.00")
    # 100 people, 6 laid off = 6%: eligible under the predecessor (<= 6%), not under the edition (> 5.5%)
    assert policy_dsl.load(sets / "mini_city").evaluate(facts(layoffs=6)).value(f"{CLAUSE}.eligible") is True
    assert engine.evaluate(facts(layoffs=6)).value(f"{CLAUSE}.eligible") is False
    # the medium enterprise's rate is delegated (to the cities) in this edition: undetermined, not 0
    assert isinstance(engine.evaluate(facts()).value(f"{CLAUSE}.amount"), Unknown)


# --- notes and citations ---------------------------------------------------------------------

def test_a_new_value_without_a_note_does_not_keep_the_old_note(sets: Path) -> None:
    params = policy_dsl.load(sets / "edition_raise").rule_set.clauses[CLAUSE].parameters
    assert params["小微单位人数"].value == 50
    assert params["小微单位人数"].note is None  # mini_province's "含30人" spoke of 30


def test_a_note_alone_keeps_the_inherited_value_and_citation(sets: Path) -> None:
    rs = policy_dsl.load(sets / "edition_raise").rule_set
    clause, old = rs.clauses[CLAUSE], rs.base.clauses[CLAUSE]
    p = clause.parameters["免申即享人数上限"]
    assert (p.value, p.note) == (200, "新一版仍为200人（含）")
    assert p.origin.set_name == "edition_raise" and clause.overrides["parameters.免申即享人数上限"].set_name == "edition_raise"
    # the citation is still the predecessor's document, though the edition's clause cites its own
    assert clause.cite(p.source, p.origin).document == "某人社发〔2021〕1号"
    assert clause.source.document == "某人社发〔2022〕3号"
    assert old.parameters["免申即享人数上限"].note is None


def test_a_source_alone_keeps_the_inherited_expression_and_quote(sets: Path) -> None:
    rs = policy_dsl.load(sets / "edition_raise").rule_set
    new, old = rs.clauses[CLAUSE].conditions["参保"], rs.base.clauses[CLAUSE].conditions["参保"]
    assert (new.expr, new.text) == (old.expr, old.text)
    assert new.source.document == "某人社发〔2022〕3号" and new.source.text == "参加失业保险"
    kept = rs.clauses[CLAUSE].conditions["裁员率达标"]
    assert kept is rs.base.clauses[CLAUSE].conditions["裁员率达标"]


def test_explanations_show_the_new_note_and_not_the_stale_one(sets: Path) -> None:
    engine = policy_dsl.load(sets / "edition_raise")
    text = render_tree(engine.evaluate(facts(insured_headcount=40, layoffs=3), trace=True), CLAUSE, width=200)
    assert "小微单位人数" in text and "含30人" not in text
    assert "新一版仍为200人（含）" in text
    old = render_tree(policy_dsl.load(sets / "mini_city").evaluate(facts(insured_headcount=40, layoffs=3), trace=True), CLAUSE,
                      width=200)
    assert "含30人" in old


# --- remove ----------------------------------------------------------------------------------

def test_removed_items_are_gone_and_recorded(sets: Path) -> None:
    rs = policy_dsl.load(sets / "edition_remove").rule_set
    clause = rs.clauses[CLAUSE]
    assert list(clause.parameters) == ["大型企业返还比例上限", "中小微返还比例上限", "大型企业返还比例", "中小微返还比例",
                                       "裁员率上限", "申请截止日"]
    assert [r.id for r in clause.exceptions] == []
    lines = {key: (o.set_name, o.span.line, o.span.column) for key, o in clause.removed.items()}
    assert lines == {"parameters.免申即享人数上限": ("edition_remove", 5, 10),
                     "exceptions.免申即享无需申请": ("edition_remove", 5, 20),
                     "parameters.小微单位人数": ("edition_remove", 5, 30),
                     "parameters.小微单位裁员率上限": ("edition_remove", 5, 38)}
    assert "免申即享人数上限" in rs.base.clauses[CLAUSE].parameters  # the predecessor keeps them


def test_after_removing_the_headcount_limit_every_eligible_unit_is_paid_without_applying(sets: Path) -> None:
    engine = policy_dsl.load(sets / "edition_remove")
    # 500 people at the end of 2020 (above the old 200 limit), applied after the deadline
    got = engine.evaluate(facts(insured_headcount_end_2020=500, application_date=date(2022, 1, 5))).to_json()
    got = got["clauses"][CLAUSE]["conclusions"]
    assert (got["auto_pay"], got["application_in_time"], got["payable"]) == (True, True, True)
    # 20 people, 2 laid off = 10%: within the old 20% for 30 people or fewer, above 6% now
    got = engine.evaluate(facts(insured_headcount=20, layoffs=2)).to_json()["clauses"][CLAUSE]["conclusions"]
    assert (got["eligible"], got["amount"]) == (False, "0.00")


def test_policy_diff_lists_the_removed_items(sets: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["diff", str(sets / "mini_province"), str(sets / "edition_remove"), "--format", "json"])
    import json

    changes = json.loads(capsys.readouterr().out)["changes"]
    removed = {(c["kind"], c["name"]) for c in changes if c["change"] == "removed"}
    assert removed == {("parameter", "免申即享人数上限"), ("exception", "免申即享无需申请"),
                       ("parameter", "小微单位人数"), ("parameter", "小微单位裁员率上限")}
    assert code == 0


def test_the_cache_key_covers_the_predecessors_files(sets: Path) -> None:
    _, covered = _key(sets / "edition_raise")
    assert (sets / "mini_province" / "clauses" / "stable_job_refund.yaml").resolve() in covered
    assert (sets / "mini_province" / "policy-set.yaml").resolve() in covered


def test_an_exception_re_noted_by_id_keeps_its_rule_and_place(sets: Path) -> None:
    rs = policy_dsl.load(sets / "edition_raise").rule_set
    [new], [old] = rs.clauses[CLAUSE].exceptions, rs.base.clauses[CLAUSE].exceptions
    assert (new.conclusion, new.when, new.value, new.priority) == (old.conclusion, old.when, old.value, old.priority)
    assert new.note == "免申即享的单位无需申请，视为按时" and old.note is None
    assert new.origin.set_name == "edition_raise" and rs.clauses[CLAUSE].cite(new.source, new.origin).document == "某人社发〔2021〕1号"


def test_policy_show_names_the_superseded_edition(sets: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json
    from importlib import resources

    import jsonschema

    assert main(["show", str(sets / "edition_raise"), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    schema = json.loads(resources.files("policy_dsl").joinpath("schema/show-v1.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(data)
    assert (data["extends"], data["supersedes"]) == (None, "mini_province")
    assert main(["show", str(sets / "edition_raise")]) == 0
    assert "取代（新一版）supersedes: mini_province" in capsys.readouterr().out


def test_a_source_alone_keeps_the_value_and_the_note_in_explanations(sets: Path) -> None:
    engine = policy_dsl.load(sets / "edition_recite")
    p = engine.rule_set.clauses[CLAUSE].parameters["小微单位人数"]
    assert (p.value, p.note, p.source.document) == (30, "含30人", "某人社发〔2022〕5号")
    text = render_tree(engine.evaluate(facts(insured_headcount=20, layoffs=2), trace=True), CLAUSE, width=200)
    assert "含30人" in text and "某人社发〔2022〕5号" in text
