"""`load(SET, targets=[...])` (what `policy batch --clause` uses): for every clause of every shipped set,
an engine compiled for that clause's conclusions alone reports exactly the whole set's values of them,
on a case of every subject, through evaluate, evaluate_many and traced evaluate — never a raw KeyError
(a dated clause outside the targets must not be read for its period date)."""
from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

import policy_dsl

SETS = ("liaoning", "fushun", "liaoning-2022")
CASES = [
    {"region": {"ui_fund_reserve_months": Decimal(15)},
     "unit": {"kind": "enterprise", "size": "medium", "ui_insured": True, "insured_headcount": 100, "layoffs": 4,
              "ui_contribution_last_year": Decimal("50000.00"), "insured_headcount_end_2020": 120,
              "application_date": date(2021, 9, 1)}},
    {"as_of": date(2021, 9, 1), "person": {"identities": ["veteran"], "employed": False, "hukou": "urban",
                                          "registered_unemployed": True, "age": 30}},
    {"as_of": date(2021, 9, 1), "graduate": {"school_kind": "university", "in_graduation_year": True,
                                            "certificate_kind": "x_certificate", "training_subsidies_this_year": 0}},
    {"household": {"urban": True, "members": [{"working_age": True, "able_to_work": True, "wants_work": True}]}},
]


def _conclusions(decision, cid: str) -> dict:
    return {name: repr(value) for name, value in decision.clauses[cid].conclusions.items()}


@pytest.mark.parametrize("set_name", SETS)
def test_an_engine_for_one_clause_agrees_with_the_whole_set(set_name: str) -> None:
    whole = policy_dsl.load(set_name)
    for cid, clause in whole.rule_set.clauses.items():
        if not clause.conclusions:
            continue
        targets = [f"{cid}.{name}" for name in clause.conclusions]
        one = policy_dsl.load(set_name, targets=targets)
        many = list(one.evaluate_many(CASES))
        for case, streamed in zip(CASES, many):
            full = whole.evaluate(case)
            alone, traced = one.evaluate(case), one.evaluate(case, trace=True)
            assert list(alone.clauses) == [cid], (set_name, cid)
            want = _conclusions(full, cid)
            assert _conclusions(alone, cid) == want, (set_name, cid, case)
            assert _conclusions(traced, cid) == want, (set_name, cid, case)
            assert _conclusions(streamed, cid) == want, (set_name, cid, case)
            assert alone.clauses[cid].applicable == full.clauses[cid].applicable
