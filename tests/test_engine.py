"""The embedding API at speed: clauses about subjects a case lacks are skipped without
changing any conclusion; evaluate, evaluate_many and traced evaluate agree on random cases
of every subject; targets restrict a Decision (and a wrong target is a clear error);
delegated parameters keep their own reasons; evaluate_many goes on after a bad case.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import policy_dsl
from policy_dsl import CaseError, Decision, PolicyError, Unknown
from policy_dsl.explain import explain_json
from policy_dsl.factcheck import checker
from policy_dsl.vocabulary import vocabulary

ROOT = Path(__file__).resolve().parent.parent
ENGINES = {name: policy_dsl.load(ROOT / "policies" / name) for name in ("liaoning", "fushun")}
RULES = checker(vocabulary())


def _value(rule) -> st.SearchStrategy:
    k = rule.kind
    if k == "bool":
        return st.booleans()
    if k == "int":
        return st.sampled_from([0, 1, 3, 6, 12, 29, 30, 31, 60, 100, 200, 201])
    if k == "decimal":
        return st.sampled_from([Decimal(0), Decimal(6), Decimal("11.9"), Decimal(12), Decimal("732.50"),
                                "5200.00", 3000])
    if k == "date":
        return st.dates(date(2016, 1, 1), date(2030, 12, 31))
    if k == "enum":
        return st.sampled_from(rule.values)
    if k == "set":
        return st.lists(st.sampled_from(rule.values), unique=True, max_size=3)
    if k == "list":
        return st.lists(st.fixed_dictionaries({}, optional={n: st.one_of(st.booleans(), st.none())
                                                           for n, _ in rule.fields}), max_size=4)
    return st.just("抚顺市")


def _subject(name: str) -> st.SearchStrategy:
    return st.fixed_dictionaries({}, optional={n: _value(r) for n, r in RULES.subjects[name].items()})


CASES = st.fixed_dictionaries({}, optional={**{s: _subject(s) for s in RULES.subjects},
                                            "as_of": st.dates(date(2020, 1, 1), date(2027, 12, 31))})


def _outcome(engine, facts) -> object:
    try:
        return engine.evaluate(facts).to_json()
    except PolicyError as exc:
        return ("error", exc.kind)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(CASES, min_size=1, max_size=3))
def test_evaluate_evaluate_many_and_traced_agree(cases) -> None:
    for engine in ENGINES.values():
        one = [_outcome(engine, c) for c in cases]
        many = [r.to_json() if isinstance(r, Decision) else ("error", "facts" if r.kind == "facts" else "evaluation")
                for r in engine.evaluate_many(cases)]
        traced = []
        for c in cases:
            try:
                d = engine.evaluate(c, trace=True)
                explain_json(d)  # the trace of the program that ran explains it
                traced.append(d.to_json())
            except PolicyError as exc:
                traced.append(("error", exc.kind))
        assert one == many == traced


# Every fact of each subject given: the fused program's second body (no unknown tests) runs.
COMPLETE = st.fixed_dictionaries({}, optional={
    **{s: st.fixed_dictionaries({n: _value(r) for n, r in RULES.subjects[s].items()}) for s in RULES.subjects},
    "as_of": st.dates(date(2020, 1, 1), date(2027, 12, 31))})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.lists(COMPLETE, min_size=1, max_size=3))
def test_cases_giving_every_fact_agree(cases) -> None:
    """The same Decision — conclusions, checked facts, header — as the general path (traced evaluate
    takes it), whichever body of the fused program ran."""
    for engine in ENGINES.values():
        for case, result in zip(cases, engine.evaluate_many(cases)):
            try:
                general = engine.evaluate(case, trace=True)
            except PolicyError as exc:
                assert isinstance(result, CaseError) and (result.kind == "facts") == (exc.kind == "facts")
                continue
            assert isinstance(result, Decision)
            assert result.to_json() == general.to_json()
            assert result.facts == general.facts
            assert (result.as_of, result.policy_set) == (general.as_of, general.policy_set)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(CASES)
def test_skipping_clauses_changes_no_conclusion(facts) -> None:
    """What the case's own program computes equals what the whole-set program computes."""
    for engine in ENGINES.values():
        try:
            decision = engine.evaluate(facts)
        except PolicyError:
            continue
        everything = engine.all_slots(decision.facts)
        for cid, result in decision.clauses.items():
            subject = engine.rule_set.clauses[cid].subject
            assert result.applicable == (subject == "always" or subject in decision.facts["$subjects"])
            for name, value in result.conclusions.items():
                assert value == everything[f"{cid}.{name}"] and type(value) is type(everything[f"{cid}.{name}"])
        # any item, even of a clause the case is not about, can still be read
        assert decision.value("zero_employment_family.is_zero_employment_family") == \
            everything["zero_employment_family.is_zero_employment_family"]


UNIT = {"as_of": "2021-09-01", "region": {"ui_fund_reserve_months": 15},
        "unit": {"kind": "enterprise", "size": "medium", "ui_insured": True, "insured_headcount": 100, "layoffs": 4,
                 "ui_contribution_last_year": "50000.00", "insured_headcount_end_2020": 120,
                 "application_date": "2021-08-20"}}


def test_a_unit_case_makes_only_unit_and_always_clauses_applicable() -> None:
    decision = ENGINES["fushun"].evaluate(UNIT)
    computable = {cid for cid, c in ENGINES["fushun"].rule_set.clauses.items() if c.kind == "computable"}
    applicable = {cid for cid, r in decision.clauses.items() if r.applicable and cid in computable}
    assert applicable == {"stable_job_refund", "onthejob_training_subsidy", "implementation_deadlines"}
    assert decision.clauses["stable_job_refund"].conclusions["amount"] == Decimal("30000.00")
    assert decision.clauses["employment_difficulty"].conclusions == {}


def test_targets_restrict_the_decision() -> None:
    engine = policy_dsl.load(ROOT / "policies" / "fushun",
                             targets=["stable_job_refund.amount", "implementation_deadlines.local_rules_due"])
    decision = engine.evaluate(UNIT)
    out = {cid: {k: v for k, v in c.items() if k != "edition"} for cid, c in decision.to_json()["clauses"].items()}
    assert out == {"stable_job_refund": {"applicable": True, "conclusions": {"amount": "30000.00"}},
                   "implementation_deadlines": {"applicable": True, "conclusions": {"local_rules_due": "2021-07-30"}}}  # 30 days after 2021-06-30
    assert decision.value("stable_job_refund.eligible") is True  # what a target reads is computed too
    traced = engine.evaluate(UNIT, trace=True)
    assert set(explain_json(traced)["clauses"]) == {"stable_job_refund", "implementation_deadlines"}


def test_an_unknown_target_is_a_name_error_with_a_suggestion() -> None:
    with pytest.raises(policy_dsl.PolicyNameError) as info:
        policy_dsl.load(ROOT / "policies" / "fushun", targets=["stable_job_refund.amout"])
    assert "stable_job_refund.amout" in info.value.message
    assert info.value.hint == "是否要写 did you mean: stable_job_refund.amount？"


def test_delegated_parameters_of_the_same_name_keep_their_own_reasons(tmp_path: Path) -> None:
    tmp_path = tmp_path / "two_reasons"  # a set is named like its directory
    (tmp_path / "clauses").mkdir(parents=True)
    (tmp_path / "policy-set.yaml").write_text(
        "name: two_reasons\ntitle: 测试\njurisdiction: 某省\nvocabulary: partial\n"
        "documents:\n  - {id: 某人社发〔2021〕1号, title: 测试通知, issuer: [某省人社厅], date: 2021-06-30}\n",
        encoding="utf-8")
    for cid, subject, reason, extra in (
            ("service_capacity_award", "honor", "由各市确定奖补标准", ""),
            ("onthejob_training_subsidy", "unit", "由各地根据专账资金结余确定", "  period_end: 2021-12-31\n")):
        (tmp_path / "clauses" / f"{cid}.yaml").write_text(
            f"id: {cid}\ntitle: 测试\nsource: {{document: 某人社发〔2021〕1号, article: 一}}\nsubject: {subject}\n"
            f"parameters:\n  补贴标准:\n    type: money\n    delegated: {{to: 各市, reason: \"{reason}\"}}\n"
            f"conclusions:\n  amount: 补贴标准\n{extra}", encoding="utf-8")
    engine = policy_dsl.load(tmp_path)
    decision = engine.evaluate({"honor": {"kind": "youth_internship_base"}, "unit": {"kind": "enterprise"}})
    award = decision.clauses["service_capacity_award"].conclusions["amount"]
    subsidy = decision.clauses["onthejob_training_subsidy"].conclusions["amount"]
    assert isinstance(award, Unknown) and isinstance(subsidy, Unknown)
    assert dict(award.reasons) == {"补贴标准": "由各市确定奖补标准"}
    assert dict(subsidy.reasons) == {"补贴标准": "由各地根据专账资金结余确定"}


def test_a_money_if_rounds_each_branch_on_every_path(tmp_path: Path) -> None:
    # `if c then x else k` for money: each branch is rounded half-up on its own (a constant once, when
    # compiled); a copy of the item in another clause shares it; an unknown condition gives the
    # common value or what is missing. The fused, loop, general and traced paths agree.
    tmp_path = tmp_path / "money_if"
    (tmp_path / "clauses").mkdir(parents=True)
    (tmp_path / "policy-set.yaml").write_text(
        "name: money_if\ntitle: 测试\njurisdiction: 某省\nvocabulary: partial\n"
        "documents:\n  - {id: 某人社发〔2021〕1号, title: 测试通知, issuer: [某省人社厅], date: 2021-06-30}\n",
        encoding="utf-8")
    for cid in ("first_award", "second_award"):
        (tmp_path / "clauses" / f"{cid}.yaml").write_text(
            f"id: {cid}\ntitle: 测试\nsource: {{document: 某人社发〔2021〕1号, article: 一}}\nsubject: unit\n"
            "conclusions:\n"
            "  a: if unit.ui_insured then unit.ui_contribution_last_year * 0.333 else 0\n"
            "  b: if unit.layoffs == 0 then 1.005元 else unit.ui_contribution_last_year\n", encoding="utf-8")
    engine = policy_dsl.load(tmp_path)
    cases = [{"unit": {"ui_insured": True, "ui_contribution_last_year": Decimal("10.015"), "layoffs": 0}},
             {"unit": {"ui_insured": False, "ui_contribution_last_year": Decimal("10.015"), "layoffs": 2}},
             {"unit": {"ui_contribution_last_year": Decimal("10.015"), "layoffs": 2}}]
    expected = [(Decimal("3.33"), Decimal("1.01")), (Decimal("0.00"), Decimal("10.02"))]
    for trace in (False, True):
        one = [engine.evaluate(c, trace=trace) for c in cases]
        many = list(engine.evaluate_many(cases, trace=trace))
        for got in (one, many):
            for d, (a, b) in zip(got, expected):
                for cid in ("first_award", "second_award"):
                    c = d.clauses[cid].conclusions
                    assert (c["a"], c["b"]) == (a, b) and str(c["a"]) == str(a) and str(c["b"]) == str(b)
            unknown = got[2].clauses["first_award"].conclusions
            assert isinstance(unknown["a"], Unknown) and "unit.ui_insured" in unknown["a"].missing
            assert unknown["b"] == Decimal("10.02")


def test_texts_read_again_convert_as_the_first_time() -> None:
    # Converted texts are remembered (bounded, emptied when full): a text seen before, a bad one
    # seen again, and more distinct texts than are kept all give what a first reading gives.
    engine = ENGINES["fushun"]

    def case(amount: str, day: str) -> dict:
        return {"region": {"ui_fund_reserve_months": "12"},
                "unit": {"kind": "enterprise", "size": "small", "ui_insured": True, "insured_headcount": 10,
                         "layoffs": 0, "ui_contribution_last_year": amount, "application_date": day}}

    texts = [(f"{k}.{k % 100:02d}", f"2021-{k % 6 + 7:02d}-{k % 28 + 1:02d}") for k in range(1500)]
    cases = [case(*t) for t in texts + texts[:50]] + [case("12,00", "2021-07-01"), case("-1", "2021-07-01"),
                                                      case("12,00", "2021-07-01"), case("5", "2021-02-30")]
    results = list(engine.evaluate_many(cases))
    for (amount, _), got in zip(texts + texts[:50], results):
        assert got.clauses["stable_job_refund"].conclusions["amount"] == (Decimal(amount) * Decimal("0.6")).quantize(
            Decimal("0.01"), rounding="ROUND_HALF_UP")
    bad = results[-4:]
    assert [(r.kind, r.problems[0][0]) for r in bad] == [("facts", "unit.ui_contribution_last_year")] * 3 + [
        ("facts", "unit.application_date")]
    assert [engine.evaluate(c).to_json() for c in cases[:20]] == [r.to_json() for r in results[:20]]


def test_evaluate_many_reports_a_bad_case_and_goes_on() -> None:
    engine = ENGINES["fushun"]
    zero = {"unit": {"layoffs": 3, "insured_headcount": 0}}  # layoffs / headcount cannot be taken
    results = list(engine.evaluate_many([UNIT, {"unit": {"layofs": 3, "layoffs": -1}}, zero, None, UNIT]))
    assert [type(r).__name__ for r in results] == ["Decision", "CaseError", "CaseError", "CaseError", "Decision"]
    bad = results[1]
    assert isinstance(bad, CaseError) and bad.index == 1 and bad.kind == "facts" and not bad
    assert [p for p, _ in bad.problems] == ["unit.layoffs", "unit.layofs"]
    assert results[2].kind == "evaluation" and results[2].index == 2 and "除数为零" in results[2].problems[0][1]
    assert results[3].problems == (("", "事实应为映射（对象） facts must be a mapping, got null"),)
    assert results[4].to_json() == results[0].to_json()


def test_the_callers_decimal_context_does_not_leak_in() -> None:
    import decimal

    engine = ENGINES["fushun"]
    case = {**UNIT, "unit": {**UNIT["unit"], "layoffs": 7, "insured_headcount": 117}}
    expected = {cid: r.conclusions for cid, r in engine.evaluate(case).clauses.items()}
    assert expected["stable_job_refund"]["layoff_rate"] == Decimal(7) / Decimal(117)  # 28 digits
    with decimal.localcontext() as ctx:
        ctx.prec = 3
        ctx.rounding = decimal.ROUND_DOWN
        assert {cid: r.conclusions for cid, r in engine.evaluate(case).clauses.items()} == expected
        assert [{cid: r.conclusions for cid, r in d.clauses.items()} for d in engine.evaluate_many([case])] == [expected]
        assert decimal.getcontext().prec == 3  # and ours does not leak out


def test_evaluate_many_keeps_the_callers_context_while_the_caller_runs() -> None:
    """The stream switches to the rules' context for a few cases at a time: the caller's code —
    the loop body between results, and the iterator the cases come from — always runs in the
    caller's own context, even when the caller changes it between results."""
    import decimal

    engine = ENGINES["fushun"]
    case = {**UNIT, "unit": {**UNIT["unit"], "layoffs": 7, "insured_headcount": 117}}
    expected = engine.evaluate(case).clauses["stable_job_refund"].conclusions
    seen_by_input: list[int] = []

    def cases():
        for _ in range(200):
            seen_by_input.append(decimal.getcontext().prec)
            yield case

    with decimal.localcontext() as ctx:
        ctx.prec = 3
        for i, decision in enumerate(engine.evaluate_many(cases())):
            assert decimal.getcontext() is ctx and ctx.prec == 3 + i % 2  # the body runs in the caller's context
            assert decision.clauses["stable_job_refund"].conclusions == expected
            ctx.prec = 3 + (i + 1) % 2  # the caller changes its own context between results
        assert decimal.getcontext() is ctx
    assert len(seen_by_input) == 200 and set(seen_by_input) <= {3, 4}


def test_evaluate_many_reads_ahead_only_a_little() -> None:
    engine = ENGINES["fushun"]
    read = []

    def cases():
        for i in range(5000):
            read.append(i)
            yield UNIT

    stream = engine.evaluate_many(cases())
    next(stream)
    assert len(read) == 1  # the first result needs only the first case
    for _ in range(200):
        next(stream)
    assert len(read) <= 255  # chunks of 1, 2, 4, … 128
    for _ in range(3000):
        next(stream)
    assert len(read) <= 3201 + 1024  # then at most 1,024 ahead


def test_threads_share_one_engine_while_its_programs_are_first_compiled() -> None:
    import threading

    cases = [UNIT, {"person": {"identities": ["disabled"], "registered_unemployed": True, "age": 50}},
             {"graduate": {"school_kind": "university", "in_graduation_year": True, "certificate_kind": "x_certificate",
                           "training_subsidies_this_year": 1}},
             {"household": {"urban": True, "members": [{"working_age": True, "able_to_work": True, "wants_work": True,
                                                        "employed": None}]}},
             {"honor": {"kind": "youth_internship_base", "level": "national"}}] * 20
    expected = [d.to_json() for d in policy_dsl.load(ROOT / "policies" / "fushun").evaluate_many(cases)]
    engine = policy_dsl.load(ROOT / "policies" / "fushun")  # no program per subject compiled yet
    results: dict[int, list] = {}

    def work(i: int) -> None:
        if i % 2:
            results[i] = [d.to_json() for d in engine.evaluate_many(cases, trace=i % 4 == 1)]
        else:
            results[i] = [engine.evaluate(c, trace=i % 4 == 0).to_json() for c in cases]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [results[i] == expected for i in range(8)] == [True] * 8


def test_evaluate_many_runs_of_cases_with_the_same_keys_keep_every_index() -> None:
    # Consecutive cases with the same top-level keys go through one generated loop: a case that
    # raises or does not pass the checks in the middle of such a run (and past the first chunks of the read-ahead)
    # is reported at its own index, and the cases around it are evaluated as `evaluate` does.
    engine = ENGINES["fushun"]
    ok = [{"unit": {"layoffs": k % 4, "insured_headcount": 10 + k, "kind": "enterprise"}} for k in range(80)]
    cases = list(ok)
    cases[3] = {"unit": {"layoffs": 3, "insured_headcount": 0}}       # division by zero
    cases[4] = {"unit": {"layoffs": -1, "insured_headcount": 10}}     # below the minimum
    cases[70] = {"unit": {"layoffs": 1, "insured_headcount": 0}}      # after the first chunks
    cases[71] = {"unit": {"layoffs": "1", "insured_headcount": 5}}    # not an integer
    results = list(engine.evaluate_many(cases))
    assert len(results) == 80
    errors = {r.index: r.kind for r in results if isinstance(r, CaseError)}
    assert errors == {3: "evaluation", 4: "facts", 70: "evaluation", 71: "facts"}
    assert results[4].problems[0][0] == "unit.layoffs" and results[71].problems[0][0] == "unit.layoffs"
    for i, r in enumerate(results):
        if i not in errors:
            assert r.to_json() == engine.evaluate(cases[i]).to_json()
