"""The compiled facts validator agrees with the published JSON Schema (run through jsonschema)
on a generated corpus of valid and broken cases, and its fast path only ever accepts valid
cases, converted exactly as the general path converts them. Then the domain rules: numbers
that are not numbers, facts that are not a mapping, bounds, integers that are integers,
null inside a household member.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import policy_dsl
from policy_dsl import FactsError
from policy_dsl.factcheck import checker
from policy_dsl.facts import facts_schema, prepare, validate, validate_with_schema
from policy_dsl.vocabulary import vocabulary

VOCAB = vocabulary()
CHECK = checker(VOCAB)

_TRICKY_TEXT = ["", "abc", "-5", "-0.00", "0", "007", "1:40", "1e5", "NaN", "Infinity", "12.50", "5万", " 5",
                "2021-02-30", "1899-12-31", "2200-01-01", "2021-09-01", "2021/09/01", "enterprise", "veteran",
                "２０２１-09-01", "10000.00"]
_SCALAR_JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 300), st.sampled_from(_TRICKY_TEXT), st.text(max_size=4),
    st.floats(allow_nan=True, allow_infinity=True), st.decimals(places=2, min_value=-10, max_value=10**6),
    st.sampled_from([Decimal("NaN"), Decimal("Infinity"), Decimal("-0.00"), 4.0, -0.0, 100.0, date(2021, 9, 1),
                     date(1800, 1, 1), datetime(2021, 9, 1, 8, 30)]))
_ELEMENT_JUNK = st.one_of(st.integers(-3, 3), st.booleans(), st.sampled_from(_TRICKY_TEXT), st.none())
_JUNK = st.one_of(_SCALAR_JUNK, st.lists(_ELEMENT_JUNK, max_size=3),
                  st.dictionaries(st.sampled_from(["employed", "employd", "x"]), _ELEMENT_JUNK, max_size=2))


def _valid(rule) -> st.SearchStrategy:
    k = rule.kind
    if k == "bool":
        return st.booleans()
    if k == "int":
        return st.integers(0, 10**6)
    if k == "decimal":
        d = st.decimals(min_value=0, max_value=10**7, places=2)
        return st.one_of(d, d.map(str), st.integers(0, 10**6), st.just(Decimal("-0.00")), st.just("-0"),
                         st.floats(0, 10**6, allow_nan=False))
    if k == "date":
        d = st.dates(date(1900, 1, 1), date(2199, 12, 31))
        return st.one_of(d, d.map(date.isoformat))
    if k == "enum":
        return st.sampled_from(rule.values)
    if k == "set":
        return st.lists(st.sampled_from(rule.values), unique=True, max_size=4)
    if k == "list":
        fields = {name: st.one_of(st.booleans(), st.none()) for name, _ in rule.fields}
        return st.lists(st.fixed_dictionaries({}, optional=fields), max_size=3)
    return st.text(max_size=5)


def _case(broken: bool) -> st.SearchStrategy:
    def value(rule):
        return st.one_of(_valid(rule), _JUNK) if broken else st.one_of(_valid(rule), st.none())

    subjects = {s: st.fixed_dictionaries({}, optional={**{n: value(r) for n, r in rules.items()},
                                                       **({"layofs": _JUNK, "Kind": _JUNK} if broken else {})})
                for s, rules in CHECK.subjects.items()}
    extra = {"unti": _JUNK, "as_of ": _JUNK} if broken else {}
    top = {k: value(r) for k, r in CHECK.top.items()}
    case = st.fixed_dictionaries({}, optional={**subjects, **top, **extra})
    if broken:
        return st.one_of(case, st.fixed_dictionaries({}, optional={s: _JUNK for s in CHECK.subjects}), _JUNK)
    return case


def _agree(facts) -> None:
    got = CHECK.problems(facts)
    assert sorted(got) == sorted(validate_with_schema(facts, VOCAB))
    flat = CHECK.fast(facts)
    if flat is not None:
        assert got == []
        assert flat == CHECK.convert(facts)
    if not got:
        assert CHECK.prepare(facts) == CHECK.convert(facts)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_case(broken=False))
def test_compiled_validator_agrees_with_the_schema_on_valid_cases(facts) -> None:
    assert CHECK.problems(facts) == []
    assert CHECK.fast(facts) is not None or any(isinstance(v, float) for s in facts.values()
                                                if isinstance(s, dict) for v in s.values())
    _agree(facts)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(_case(broken=True))
def test_compiled_validator_agrees_with_the_schema_on_broken_cases(facts) -> None:
    _agree(facts)


# --- the domain ----------------------------------------------------------------------------------

def test_nan_and_infinity_are_not_money() -> None:
    for bad in (float("nan"), float("inf"), Decimal("NaN"), Decimal("-Infinity"), "NaN", "Infinity"):  # float-ok
        [(path, message)] = validate({"unit": {"ui_contribution_last_year": bad}})
        assert path == "unit.ui_contribution_last_year"
        assert message.startswith("类型不对 wrong type：上年度单位及其职工实际缴纳失业保险费应为 十进制数")


@pytest.mark.parametrize("facts, name", [([], "list"), ([("unit", {"layoffs": 3})], "list"), (None, "null"),
                                         (42, "int"), ("x", "str")])
def test_facts_that_are_not_a_mapping_are_refused(facts, name) -> None:
    engine = _engine()
    with pytest.raises(FactsError) as info:
        engine.evaluate(facts)
    assert info.value.problems == [("", f"事实应为映射（对象） facts must be a mapping, got {name}")]


def test_counts_and_money_are_not_negative() -> None:
    assert validate({"unit": {"layoffs": -10, "ui_contribution_last_year": "-5.00"},
                     "region": {"ui_fund_reserve_months": -1}}) == [
        ("region.ui_fund_reserve_months", "超出范围 out of range：上年度失业保险基金滚存结余备付期限（月）不能小于 0，实际是 -1"),
        ("unit.layoffs", "超出范围 out of range：上年度裁员人数不能小于 0，实际是 -10"),
        ("unit.ui_contribution_last_year", '超出范围 out of range：上年度单位及其职工实际缴纳失业保险费不能小于 0，实际是 "-5.00"'),
    ]


def test_negative_zero_is_zero() -> None:
    for zero in ("-0.00", Decimal("-0.00"), -0.0, "-0"):
        value = prepare({"unit": {"ui_contribution_last_year": zero}})["unit.ui_contribution_last_year"]
        assert value == 0 and not value.is_signed()
    out = _engine().evaluate({"unit": {"ui_contribution_last_year": "-0.00"}}).to_json()
    assert "-" not in str(out["clauses"]["stable_job_refund"]["conclusions"]["max_amount"])


def test_dates_in_a_sane_range() -> None:
    assert validate({"as_of": "1899-12-31", "unit": {"application_date": date(2200, 1, 1)}}) == [
        ("as_of", "超出范围 out of range：评估日期应在 1900-01-01 至 2199-12-31 之间，实际是 1899-12-31"),
        ("unit.application_date", "超出范围 out of range：申请日期应在 1900-01-01 至 2199-12-31 之间，实际是 2200-01-01"),
    ]
    assert validate({"as_of": "1900-01-01", "unit": {"application_date": "2199-12-31"}}) == []


def test_an_integer_fact_takes_integers_only() -> None:
    for value in (100.0, 4.0, Decimal("4"), "4"):
        [(path, message)] = validate({"unit": {"insured_headcount": value}})
        assert path == "unit.insured_headcount"
        assert message.startswith("类型不对 wrong type：上年度参保职工总数应为 整数 integer，实际是 ")
    with pytest.raises(FactsError):
        _engine().evaluate({"unit": {"insured_headcount": 100.0, "layoffs": 4}})
    # JSON 4.0 arrives as Decimal("4.0"): shown as the number it was
    assert validate({"unit": {"layoffs": Decimal("4.0")}}) == [
        ("unit.layoffs", "类型不对 wrong type：上年度裁员人数应为 整数 integer，实际是 4.0")]


def test_yaml_1_1_octal_and_sexagesimal_are_not_silently_numbers(tmp_path) -> None:
    from policy_dsl.facts import read_facts

    path = tmp_path / "case.yaml"
    path.write_text("unit: {layoffs: 010, insured_headcount: 1:40}\nregion: {ui_fund_reserve_months: 0x10}\n",
                    encoding="utf-8")
    problems = dict(validate(read_facts(str(path))))
    assert problems == {
        "unit.layoffs": '类型不对 wrong type：上年度裁员人数应为 整数 integer，实际是 "010"',
        "unit.insured_headcount": '类型不对 wrong type：上年度参保职工总数应为 整数 integer，实际是 "1:40"',
        "region.ui_fund_reserve_months":
            '类型不对 wrong type：上年度失业保险基金滚存结余备付期限（月）应为 十进制数 decimal number, e.g. "10000.00"，实际是 "0x10"',
    }


def test_null_in_a_household_member_is_unknown() -> None:
    facts = {"household": {"urban": True, "members": [
        {"working_age": True, "able_to_work": True, "wants_work": True, "employed": None,
         "has_business_or_investment_income": False}]}}
    assert validate(facts) == []
    assert prepare(facts)["household.members"] == ({"working_age": True, "able_to_work": True, "wants_work": True,
                                                   "has_business_or_investment_income": False},)
    value = _engine().evaluate(facts).clauses["zero_employment_family"].conclusions["is_zero_employment_family"]
    assert isinstance(value, policy_dsl.Unknown) and value.missing == {"household.members[0].employed"}


def test_the_published_schema_carries_the_constraints() -> None:
    unit = facts_schema()["properties"]["unit"]["properties"]
    assert unit["layoffs"]["minimum"] == 0
    assert unit["ui_contribution_last_year"]["minimum"] == 0
    assert facts_schema()["properties"]["as_of"]["formatMinimum"] == "1900-01-01"


_LOADED = {}


def _engine():
    if not _LOADED:
        _LOADED["fushun"] = policy_dsl.load(Path(__file__).resolve().parent.parent / "policies" / "fushun")
    return _LOADED["fushun"]
