"""policy diff --generate around every threshold of both sets, coverage per changed threshold, and the
static report of bounds, delegations, histories and removed items.

tests/fixtures/diffgen/old and new are two editions of a small layoff-rate clause: the cap for units
over 30 staff moves from 6 % to 5.5 % (the miss of issue 18: no case had a rate in (5.5 %, 6 %]),
the application deadline from 2021-12-31 to 2022-06-30, the law-firm exclusion is removed, the
small-unit refund rate's bound widens from 60 % to 90 % and the large-enterprise one narrows from
30 % to 25 %, a history entry is added and a delegation goes further down.
"""
from __future__ import annotations

import io
import json
import shutil
from contextlib import redirect_stdout
from datetime import date
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import pytest

from policy_dsl import load
from policy_dsl.cli import main
from policy_dsl.diff import static_diff
from policy_dsl.diffgen.pairwise import all_pairs, covered_by, covering_array
from policy_dsl.diffgen.params import bounds_direction
from policy_dsl.generate import generate_cases

ROOT = Path(__file__).resolve().parent.parent
FIX = Path(__file__).parent / "fixtures" / "diffgen"
OLD, NEW = str(FIX / "old"), str(FIX / "new")
OLD_CAP, NEW_CAP = Fraction(3, 50), Fraction(11, 200)     # 6 %, 5.5 %


@lru_cache(maxsize=None)
def _engine(path: str):
    return load(path)


@lru_cache(maxsize=None)
def _generated(base: str, variant: str):
    return generate_cases(_engine(base), _engine(variant))


@pytest.fixture(scope="module")
def report() -> dict:
    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["diff", OLD, NEW, "--generate", "--format", "json"])
    assert code == 1  # the fixture declares no expected differences
    return json.loads(out.getvalue())


def _rates(big: bool) -> list[tuple[Fraction, int, int]]:
    """(layoff rate, layoffs, headcount) of the generated cases that reach the 6 %/5.5 % test (more than
    30 staff) or the 20 % test (30 or fewer), with layoffs: the comparison is evaluated only then."""
    out = []
    for _, facts in _generated(OLD, NEW)[0]:
        unit = facts.get("unit", {})
        laid, staff = unit.get("layoffs"), unit.get("insured_headcount")
        if laid is None or staff is None or laid == 0 or staff == 0 or (staff > 30) != big:
            continue
        out.append((Fraction(laid, staff), laid, staff))
    return out


@pytest.mark.parametrize("cap", [OLD_CAP, NEW_CAP])
def test_a_moved_cap_gets_cases_below_at_and_one_step_above_each_value(cap: Fraction) -> None:
    rates = _rates(big=True)
    assert any(r < cap for r, _, _ in rates)
    assert any(r == cap for r, _, _ in rates)                       # exactly on the cap (a headcount of 200 …)
    # one layoff more than the cap allows at that headcount: the smallest step above, in the underlying integers
    assert any(r > cap and Fraction(laid - 1, staff) <= cap for r, laid, staff in rates)
    assert any(r < cap and Fraction(laid + 1, staff) >= cap for r, laid, staff in rates)


def test_cases_fall_between_the_old_and_the_new_cap() -> None:
    """The miss of issue 18: more than 30 staff and a rate in (5.5 %, 6 %]."""
    between = [(laid, staff) for r, laid, staff in _rates(big=True) if NEW_CAP < r <= OLD_CAP]
    assert len(between) >= 3
    assert any(NEW_CAP < Fraction(laid, staff) < OLD_CAP for laid, staff in between)   # strictly between too


def test_the_unchanged_small_unit_cap_is_hit_on_both_sides_too() -> None:
    rates = _rates(big=False)
    cap = Fraction(1, 5)
    assert {r < cap for r, _, _ in rates} == {True, False} and any(r == cap for r, _, _ in rates)


def test_a_moved_deadline_gets_both_sides_of_both_dates_and_between() -> None:
    days = {facts["unit"].get("application_date") for _, facts in _generated(OLD, NEW)[0] if "unit" in facts}
    for d in (date(2021, 12, 31), date(2022, 6, 30)):
        assert {date.fromordinal(d.toordinal() - 1), d, date.fromordinal(d.toordinal() + 1)} <= days
    assert any(date(2021, 12, 31) < d < date(2022, 6, 30) for d in days if d)


def test_a_new_history_value_is_tried_in_its_own_period() -> None:
    pairs = {(f.get("as_of"), f["unit"].get("insured_headcount_end_2020")) for _, f in _generated(OLD, NEW)[0] if "unit" in f}
    assert {(date(2022, 1, 1), n) for n in (299, 300, 301)} <= pairs
    assert {(date(2021, 12, 31), n) for n in (199, 200, 201)} & pairs


def _by_compare(report: dict, compare: str) -> dict:
    return next(c for c in report["thresholds"]["changed"] if c.get("compare") == compare)


def _and3(*xs):
    return False if any(x is False for x in xs) else None if any(x is None for x in xs) else True


def test_coverage_of_the_moved_cap_counts_each_region_and_the_differences(report) -> None:
    got = _by_compare(report, "裁员率 <= 裁员率上限")
    assert (got["change"], got["base"], got["variant"], got["parameters"]) == (
        "moved", "6%", "5.5%", ["layoff_refund.裁员率上限"])
    # Worked out from the facts alone: the comparison is evaluated for layoffs > 0 and more than 30 staff.
    expected = {"below": [0, 0], "at_lower": [0, 0], "between": [0, 0], "at_upper": [0, 0], "above": [0, 0]}
    separating = differing = 0
    for _, facts in _generated(OLD, NEW)[0]:
        unit = facts.get("unit", {})
        laid, staff = unit.get("layoffs"), unit.get("insured_headcount")
        if not laid or staff is None or staff <= 30:
            continue
        r = Fraction(laid, staff)
        region = "below" if r < NEW_CAP else "at_lower" if r == NEW_CAP else "between" if r < OLD_CAP \
            else "at_upper" if r == OLD_CAP else "above"
        # old: 参保 and 非律师事务所 and 裁员率达标; new: 参保 and 裁员率达标 — in (5.5 %, 6 %] 达标 is true
        # in the old set and false in the new, so eligible (and auto_pay) differ unless old eligible is false
        kind = unit.get("kind")
        old_eligible = _and3(unit.get("ui_insured"), None if kind is None else kind != "law_firm", True)
        differs = NEW_CAP < r <= OLD_CAP and old_eligible is not False   # counted only where the caps disagree
        expected[region][0] += 1
        expected[region][1] += differs
        separating += NEW_CAP < r <= OLD_CAP
        differing += differs
    assert {k: [v["cases"], v["differing"]] for k, v in got["regions"].items()} == expected
    assert (got["separating_cases"], got["separating_differing"]) == (separating, differing)
    assert separating == expected["between"][0] + expected["at_upper"][0] and differing > 0
    assert got["difference_found"] is True


def test_coverage_of_the_moved_deadline(report) -> None:
    got = _by_compare(report, "unit.application_date <= 申请截止日")
    assert (got["base"], got["variant"]) == ("2021-12-31", "2022-06-30")
    days = [f["unit"]["application_date"] for _, f in _generated(OLD, NEW)[0]
            if "unit" in f and f["unit"].get("application_date") is not None]
    late_for_old = [d for d in days if date(2021, 12, 31) < d <= date(2022, 6, 30)]
    assert got["separating_cases"] == len(late_for_old) > 0
    assert got["regions"]["at_upper"]["cases"] == days.count(date(2022, 6, 30)) > 0
    assert got["difference_found"] is True


def test_every_comparison_of_both_sets_saw_both_outcomes(report) -> None:
    t = report["thresholds"]
    assert t["comparisons"] == 12 and t["both_outcomes"] == 12 and t["one_outcome_only"] == []
    assert t["exactly_at"] == t["ordered"] == t["both_sides"] == 10


def test_static_diff_reports_bounds_removed_items_history_and_delegation() -> None:
    changes = {(c.kind, c.name): c for c in static_diff(_engine(OLD).rule_set, _engine(NEW).rule_set)}
    widened, narrowed = changes[("bounds", "中小微返还比例")], changes[("bounds", "大型企业返还比例")]
    assert (widened.change, widened.base, widened.variant) == ("widened", "≤ 60%", "≤ 90%")
    assert (narrowed.change, narrowed.base, narrowed.variant) == ("narrowed", "≤ 30%", "≤ 25%")
    removed = changes[("condition", "非律师事务所")]
    assert (removed.change, removed.base, removed.variant) == ("removed", 'unit.kind != "law_firm"', None)
    assert changes[("parameter", "裁员率上限")].detail == "6% → 5.5%（调低）"
    assert changes[("parameter", "申请截止日")].detail == "2021-12-31 → 2022-06-30（推后）"
    assert changes[("parameter", "免申即享人数上限")].detail == "新增 2022-01-01起 300"
    assert changes[("parameter", "大型企业返还比例")].detail == "委托对象 各市 → 各县（市、区）"


def test_text_output_names_the_moved_threshold_and_the_bounds_in_chinese(capsys) -> None:
    assert main(["diff", OLD, NEW, "--generate"]) == 1
    out = capsys.readouterr().out
    assert "参数范围" in out and "放宽" in out and "收紧" in out and "删除" in out
    assert "两个规则集不同的阈值" in out and "两值之间" in out
    row = next(line for line in out.splitlines() if "裁员率 <=" in line)
    assert "6%" in row and "5.5%" in row and row.rstrip(" │").endswith("是")


@pytest.mark.parametrize(("lo", "hi", "way"), [
    ((None, Decimal("0.6")), (None, Decimal("0.9")), "widened"),
    ((None, Decimal("0.6")), (None, None), "widened"),
    ((Decimal("0.1"), None), (Decimal("0.2"), None), "narrowed"),
    ((None, None), (None, Decimal("0.3")), "narrowed"),
    ((Decimal("0.1"), Decimal("0.6")), (Decimal("0.2"), Decimal("0.9")), "changed"),
    ((None, Decimal("0.6")), (None, Decimal("0.6")), None),
])
def test_bounds_direction(lo, hi, way) -> None:
    assert bounds_direction(lo, hi) == way


def test_the_covering_array_takes_every_pair_of_levels() -> None:
    sizes = [3, 4, 2, 5, 2]
    array = covering_array(sizes, cap=100)
    covered = set().union(*(covered_by(row) for row in array.rows))
    assert covered == all_pairs(sizes) and array.uncovered == 0 and not array.capped
    assert len(array.rows) < 3 * 4 * 2 * 5 * 2 // 4    # far fewer rows than all combinations
    small = covering_array(sizes, cap=5)
    assert small.capped and small.uncovered == len(all_pairs(sizes) - set().union(*(covered_by(r) for r in small.rows)))


def test_generated_facts_stay_within_the_vocabulary_and_are_valid_cases() -> None:
    for base, variant in ((OLD, NEW), ("liaoning", "fushun")):
        cases, gen = _generated(base, variant)
        facts_spec = _engine(variant).vocab.facts
        for name, facts in cases:
            for head, value in facts.items():
                for key, v in (value.items() if isinstance(value, dict) else [(None, value)]):
                    spec = facts_spec[f"{head}.{key}" if key else head]
                    if spec.minimum is not None and v is not None:
                        assert v >= spec.minimum, (name, head, key, v)
                    if spec.maximum is not None and v is not None:
                        assert v <= spec.maximum, (name, head, key, v)
            _engine(base).evaluate(facts)
            _engine(variant).evaluate(facts)
        assert gen["cases"] == len(cases)


def test_pairwise_is_reported_and_capped() -> None:
    _, gen = _generated("liaoning", "fushun")
    p = gen["pairwise"]
    assert 0 < p["pairs_covered"] <= p["pairs"] and p["rows"] <= p["row_cap"] * gen["clauses"]
    assert set(p["capped_clauses"]) <= {c for c in _engine("fushun").rule_set.clauses}


# --- an edition made with supersedes/remove (tests/fixtures/editions, built on tests/fixtures/mini_province) ---
@pytest.fixture(scope="module")
def edition(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("editions")
    for src in (ROOT / "tests" / "fixtures" / "mini_province", ROOT / "tests" / "fixtures" / "editions" / "edition_remove"):
        shutil.copytree(src, root / src.name)
    return root


def test_items_an_edition_removes_are_listed_with_the_edition_that_removed_them(edition: Path) -> None:
    base, variant = load(str(edition / "mini_province")), load(str(edition / "edition_remove"))
    changes = {(c.kind, c.name): c for c in static_diff(base.rule_set, variant.rule_set)}
    for kind, name in (("parameter", "小微单位人数"), ("parameter", "免申即享人数上限"), ("exception", "免申即享无需申请")):
        c = changes[(kind, name)]
        assert (c.change, c.variant, c.variant_citation) == ("removed", "由 edition_remove 删除（remove）", "某人社发〔2022〕4号 一")
    assert changes[("parameter", "小微单位人数")].base == "30"


def test_a_removed_threshold_is_covered_on_its_sides_and_its_effect_found(edition: Path) -> None:
    out = io.StringIO()
    with redirect_stdout(out):
        assert main(["diff", str(edition / "mini_province"), str(edition / "edition_remove"), "--generate",
                     "--format", "json"]) == 1
    report = json.loads(out.getvalue())
    got = _by_compare(report, "裁员率 <= 小微单位裁员率上限")
    assert (got["change"], got["base"], got["variant"]) == ("removed", "20%", None)
    cases, _ = generate_cases(load(str(edition / "mini_province")), load(str(edition / "edition_remove")))
    small = [Fraction(f["unit"]["layoffs"], f["unit"]["insured_headcount"]) for _, f in cases
             if f.get("unit", {}).get("layoffs") and f["unit"].get("insured_headcount") is not None
             and 0 < f["unit"]["insured_headcount"] <= 30]
    cap = Fraction(1, 5)
    assert [got["regions"][r]["cases"] for r in ("below", "at_lower", "above")] == [
        sum(r < cap for r in small), sum(r == cap for r in small), sum(r > cap for r in small)]
    assert got["separating_cases"] == len(small) and got["difference_found"] is True


def test_conditions_left_one_way_get_a_case_of_their_own() -> None:
    """Pairwise and one fact at a time left 两后生参加预备制培训 (preparatory training and 两后生 and rural) and
    非重点帮扶县的… true in no case; the targeted search finds one. 缴费方式可选 stays: every frequency the
    vocabulary allows is 可选, so it cannot be false."""
    _, gen = _generated("liaoning", "fushun")
    assert gen["targeted"] >= 3
    assert gen["conditions_one_way"] == ["flexible_pension_contribution.缴费方式可选"]
