"""The next-question logic (policy_dsl/serve/questions.py) on the real sets, and the
next-question endpoint's request handling.

Worked by hand on examples/unit-medium.yaml (fushun) — see tests/test_serve_api.py for the
amounts. application_in_time = auto_pay (免申即享 exception) or application_date <= 2021-12-31, and
auto_pay = eligible and insured_headcount_end_2020 <= 200.
"""
from __future__ import annotations

import json
from copy import deepcopy
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from starlette.testclient import TestClient

from policy_dsl.facts import prepare
from policy_dsl.serve.app import create_app
from policy_dsl.serve.questions import candidates, scope_clauses, screen, thresholds
from policy_dsl.serve.registry import load_registry

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def registry():
    return load_registry(ROOT / "policies")


@pytest.fixture(scope="module")
def fushun(registry):
    return registry.get("fushun")


@pytest.fixture(scope="module")
def client(registry):
    return TestClient(create_app(registry=registry))


def medium() -> dict:
    return json.loads(json.dumps(yaml.safe_load((ROOT / "examples/unit-medium.yaml").read_text("utf-8")), default=str))


def unit_screen(engine, facts: dict, skip=()):
    flat = prepare(facts, engine.vocab)
    flat["$subjects"] = flat["$subjects"] | {"unit"}
    return screen(engine, flat, scope_clauses(engine, "unit", None), skip)


def test_nothing_left_to_ask_when_the_case_decides_everything(fushun) -> None:
    s = unit_screen(fushun, medium())
    assert s.question is None and s.open == {}
    # the 以工代训 standard is left to local documents: undetermined, but no answer can settle it
    assert list(s.unsettled) == ["onthejob_training_subsidy.amount"]
    assert s.unsettled["onthejob_training_subsidy.amount"].missing == {"以工代训补贴标准"}


def test_a_missing_fact_that_cannot_settle_alone_loses_to_one_that_always_settles(fushun) -> None:
    case = medium()
    del case["unit"]["application_date"], case["unit"]["insured_headcount_end_2020"]
    s = unit_screen(fushun, case)
    # open: auto_pay needs the end-2020 headcount; application_in_time needs it or the application date
    # payable = eligible and (auto_pay or application_in_time) needs the same two
    both = {"unit.insured_headcount_end_2020", "unit.application_date"}
    assert s.open == {"stable_job_refund.auto_pay": {"unit.insured_headcount_end_2020"},
                      "stable_job_refund.application_in_time": both, "stable_job_refund.payable": both}
    q = s.question
    assert q.fact == "unit.insured_headcount_end_2020" and q.label == "2020年末参保人数" and q.type == "int"
    # any headcount decides auto_pay; application_in_time and payable only when it is <= 200, and
    # an application date after 2021-12-31 leaves both open: the date settles nothing for every answer
    assert q.settles_always == 1
    assert 1 < q.settles_expected < 3


def test_the_application_date_is_asked_once_auto_pay_is_false(fushun) -> None:
    case = medium()
    del case["unit"]["application_date"]
    case["unit"]["insured_headcount_end_2020"] = 250  # > 200: no 免申即享, so the date decides
    s = unit_screen(fushun, case)
    assert s.question.fact == "unit.application_date" and s.question.type == "date"
    assert s.question.settles_always == 2  # application_in_time and payable: before or after 2021-12-31, decided


def test_numbers_are_tried_around_the_thresholds_the_rules_compare_them_with(fushun) -> None:
    case = medium()
    del case["unit"]["layoffs"]
    flat = prepare(case, fushun.vocab)
    s = unit_screen(fushun, case)
    assert s.question.fact == "unit.layoffs"
    tried = candidates(fushun, "unit.layoffs", flat, thresholds(fushun, s.decision).get("unit.layoffs", ()))
    assert {5, 6, 7} <= set(tried)  # 6% of 100 insured: 6 passes the layoff test, 7 fails it
    assert 0 in tried  # 未裁员 passes whatever the headcount


def test_enum_bool_and_set_answers(fushun) -> None:
    flat = prepare({}, fushun.vocab)
    assert candidates(fushun, "unit.kind", flat) == list(fushun.vocab.facts["unit.kind"].type.values)
    assert candidates(fushun, "unit.ui_insured", flat) == [True, False]
    identities = candidates(fushun, "person.identities", flat)
    assert identities[0] == frozenset() and frozenset({"poverty_alleviated"}) in identities
    assert len(identities) == 1 + len(fushun.vocab.facts["person.identities"].type.elem.values)
    assert candidates(fushun, "unit.ui_contribution_last_year", flat)[:2] == [Decimal(0), Decimal(1)]


def test_a_skipped_fact_is_not_asked_and_what_only_it_decides_is_unsettled(fushun) -> None:
    case = medium()
    del case["unit"]["application_date"], case["unit"]["insured_headcount_end_2020"]
    s = unit_screen(fushun, case, skip=["unit.insured_headcount_end_2020"])
    assert s.question.fact == "unit.application_date"
    assert "stable_job_refund.auto_pay" in s.unsettled


def test_endpoint_scope_by_clauses_and_subject(client) -> None:
    body = {"facts": {"as_of": "2021-09-01"}, "clauses": ["training_living_allowance"]}
    r = client.post("/v1/sets/liaoning/next-question", json=body).json()
    assert r["scope"] == ["training_living_allowance"] and r["question"]["fact"].startswith(("person.", "region."))
    assert [x["id"] for x in r["results"]] == ["training_living_allowance"]
    assert r["results"][0]["status"] == "undetermined"
    q = r["question"]
    assert q["fact"] == "person.identities" and q["type"] == "set"
    assert {"value": "poverty_alleviated", "label": "脱贫人口（全国扶贫开发信息系统内）"} in q["values"]
    unit = client.post("/v1/sets/fushun/next-question", json={"facts": {}, "subject": "unit"}).json()
    assert set(unit["scope"]) == {"stable_job_refund", "onthejob_training_subsidy"}
    assert unit["decision"]["clauses"]["stable_job_refund"]["applicable"] is True  # the subject counts as present


def test_endpoint_with_no_scope_screens_what_the_case_carries(client) -> None:
    r = client.post("/v1/sets/fushun/next-question", json={"facts": medium()}).json()
    assert "stable_job_refund" in r["scope"] and "training_living_allowance" not in r["scope"]
    assert r["question"] is None


def test_endpoint_rejects_bad_requests(client) -> None:
    url = "/v1/sets/fushun/next-question"
    assert client.post(url, json={"facts": {}, "subject": "unitt"}).status_code == 422
    assert "unit" in client.post(url, json={"facts": {}, "subject": "unitt"}).json()["message"]
    assert client.post(url, json={"facts": {}, "clauses": ["stable_job"]}).status_code == 404
    assert client.post(url, json={"facts": {}, "clause": ["stable_job_refund"]}).status_code == 422
    assert client.post(url, json={"facts": [], "subject": "unit"}).status_code == 422
    assert client.post(url, json={"facts": {}, "skip": "unit.kind"}).status_code == 422


def test_answering_with_the_settled_value_never_reopens_a_conclusion(fushun) -> None:
    """Walking the medium case by the service's questions: each answer leaves fewer open conclusions."""
    full, facts = medium(), {"as_of": "2021-09-01", "region": {"city": "抚顺市"}}
    previous = None
    for _ in range(20):
        s = unit_screen(fushun, facts)
        if s.question is None:
            break
        if previous is not None:
            assert len(s.open) <= previous
        previous = len(s.open)
        subject, name = s.question.fact.split(".")
        facts = deepcopy(facts)
        facts.setdefault(subject, {})[name] = full[subject][name]
    assert s.question is None
    assert s.decision.slots["stable_job_refund.amount"] == Decimal("30000.00")
