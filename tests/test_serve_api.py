"""`policy serve` in-process (Starlette TestClient): every endpoint against the real sets, the
evaluate/explain bodies compared with what the `policy` command prints for the same case,
error statuses (400, 404, 413, 422 with every fact path), the OpenAPI document, the access log.

Hand-worked case (examples/unit-medium.yaml under fushun): medium enterprise, insured, 4 layoffs
of 100 (4% <= 6%), reserve 15 months >= 12, contribution 50000.00 -> 60% -> 30000.00; 120 insured
at the end of 2020 <= 200 -> 免申即享 (auto_pay) -> application_in_time true.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate as validate_openapi
from starlette.testclient import TestClient

from policy_dsl.cli import main
from policy_dsl.facts import facts_schema
from policy_dsl.serve.app import create_app
from policy_dsl.serve.registry import load_registry

ROOT = Path(__file__).resolve().parent.parent
MEDIUM = ROOT / "examples" / "unit-medium.yaml"


@pytest.fixture(scope="module")
def registry():
    return load_registry(ROOT / "policies")


@pytest.fixture(scope="module")
def client(registry):
    return TestClient(create_app(registry=registry))


def medium() -> dict:
    data = yaml.safe_load(MEDIUM.read_text(encoding="utf-8"))
    return json.loads(json.dumps(data, default=str))  # dates as ISO text, as a JSON client sends them


def cli_json(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_health_and_sets(client) -> None:
    assert client.get("/health").json() == {"status": "ok", "sets": ["fushun", "liaoning", "liaoning-2022"]}
    sets = {s["name"]: s for s in client.get("/v1/sets").json()["sets"]}
    assert set(sets) == {"fushun", "liaoning", "liaoning-2022"}
    assert sets["fushun"]["extends"] == "liaoning" and sets["liaoning"]["extends"] is None
    assert sets["liaoning-2022"]["extends"] is None  # an edition (supersedes), not a lower level's variant
    assert sets["liaoning"]["jurisdiction"] == "辽宁省"


def test_set_detail_has_clauses_parameters_and_citations(client) -> None:
    body = client.get("/v1/sets/fushun").json()
    refund = next(c for c in body["clauses"] if c["id"] == "stable_job_refund")
    assert refund["citation"]["document"] == "抚人社发〔2021〕20号" and refund["citation"]["article"] == "一"
    params = {p["name"]: p for p in refund["parameters"]}
    assert params["大型企业返还比例"]["value"] == "0.3"             # 抚人社发〔2021〕20号 一: 30%
    assert params["中小微企业及其他单位返还比例"]["value"] == "0.6"  # 60%
    labels = {c["name"]: c["label"] for c in refund["conclusions"]}
    assert labels["auto_pay"] == "免申即享" and labels["amount"] == "稳岗返还金额"
    province = client.get("/v1/sets/liaoning").json()
    onthejob = next(c for c in province["clauses"] if c["id"] == "onthejob_training_subsidy")
    # a set's own conclusion (not in the vocabulary) by the label its rule file gives, not by its name
    assert {c["name"]: c["label"] for c in onthejob["conclusions"]}["in_force"] == "以工代训政策在执行期内"
    delegated = [p for c in province["clauses"] for p in c["parameters"] if "delegated" in p]
    assert delegated and all(p["value"]["undetermined"] for p in delegated)  # left to each city: no value


def test_facts_schema_is_the_vocabulary_schema(client) -> None:
    assert client.get("/v1/sets/fushun/facts-schema").json() == facts_schema()


def test_evaluate_is_exactly_policy_eval_json(client, capsys) -> None:
    expected = cli_json(capsys, "eval", str(ROOT / "policies/fushun"), str(MEDIUM), "--format", "json")
    body = client.post("/v1/sets/fushun/evaluate", json=medium()).json()
    assert body == expected  # schema and version included: the same object, not just the same decision
    assert body["schema"] == "policy-dsl/evaluation" and body["version"] == 1
    schema = json.loads((ROOT / "policy_dsl/schema/evaluation-v1.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(body)
    refund = body["clauses"]["stable_job_refund"]["conclusions"]
    assert refund["amount"] == "30000.00" and refund["auto_pay"] is True


def test_evaluate_as_of_query_overrides_the_facts(client, capsys) -> None:
    expected = cli_json(capsys, "eval", str(ROOT / "policies/fushun"), str(MEDIUM), "--format", "json",
                        "--as-of", "2022-03-01")
    assert client.post("/v1/sets/fushun/evaluate?as_of=2022-03-01", json=medium()).json() == expected


def test_explain_json_is_the_versioned_explanation(client, capsys) -> None:
    expected = cli_json(capsys, "explain", str(ROOT / "policies/fushun"), str(MEDIUM), "--format", "json")
    body = client.post("/v1/sets/fushun/explain?lang=zh", json=medium()).json()
    assert body == expected
    schema = json.loads((ROOT / "policy_dsl/schema/decision-v2.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(body)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_explain_text_is_the_prose_of_policy_explain(client, capsys, lang: str) -> None:
    assert main(["explain", str(ROOT / "policies/fushun"), str(MEDIUM), "--format", "text", "--lang", lang,
                 "--clause", "stable_job_refund"]) == 0
    expected = capsys.readouterr().out
    r = client.post(f"/v1/sets/fushun/explain?lang={lang}&format=text&clause=stable_job_refund", json=medium())
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert r.text == expected


def test_explain_notice_is_the_html_notice_of_policy_explain(client, capsys) -> None:
    assert main(["explain", str(ROOT / "policies/fushun"), str(MEDIUM), "--format", "notice",
                 "--notice-format", "html"]) == 0
    expected = capsys.readouterr().out
    r = client.post("/v1/sets/fushun/explain?format=notice", json=medium())
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert r.text == expected
    assert "30000.00元" in r.text and "抚顺某机械有限公司" in r.text


def test_invalid_facts_are_422_with_every_fact_path(client) -> None:
    case = medium()
    case["unit"].update(kind="enterprize", layoffs="four")
    case["unit"]["headcount"] = 3
    r = client.post("/v1/sets/fushun/evaluate", json=case)
    assert r.status_code == 422
    paths = [p["path"] for p in r.json()["problems"]]
    assert sorted(paths) == ["unit.headcount", "unit.kind", "unit.layoffs"]
    assert "did you mean: enterprise" in next(p["message"] for p in r.json()["problems"] if p["path"] == "unit.kind")
    r = client.post("/v1/sets/fushun/next-question", json={"facts": case, "subject": "unit"})
    assert r.status_code == 422 and len(r.json()["problems"]) == 3


def test_a_body_that_is_not_an_object_is_422(client) -> None:
    r = client.post("/v1/sets/fushun/evaluate", json=[1, 2])
    assert r.status_code == 422 and r.json()["problems"] == [{"path": "", "message": "应为对象 must be an object"}]


def test_a_rule_that_cannot_be_evaluated_on_the_facts_is_422_not_500(client) -> None:
    case = medium()
    case["unit"].update(insured_headcount=0, layoffs=1)  # a layoff rate with no insured staff
    r = client.post("/v1/sets/fushun/evaluate", json=case)
    assert r.status_code == 422 and r.json()["error"] == "evaluation"
    assert "除数" in r.json()["message"]


def test_malformed_json_is_400_with_its_position(client) -> None:
    r = client.post("/v1/sets/fushun/evaluate", content=b'{"unit": {"layoffs": 4,}}',
                    headers={"content-type": "application/json"})
    assert r.status_code == 400 and "第1行第24列" in r.json()["message"]


def test_unknown_set_clause_and_path_are_404(client) -> None:
    r = client.post("/v1/sets/fushn/evaluate", json={})
    assert r.status_code == 404 and "fushun" in r.json()["message"]
    assert client.post("/v1/sets/fushun/explain?clause=stable_job", json={}).status_code == 404
    assert client.get("/v2/nothing").status_code == 404
    assert client.get("/v1/sets/fushun/evaluate").status_code == 405


@pytest.mark.parametrize("name", ["..%2Fpolicies%2Ffushun", "%2Fetc", "tests%2Ffixtures%2Fmini_city", "mini_city"])
def test_a_set_is_never_loaded_from_a_path_in_the_request(client, name: str) -> None:
    r = client.post(f"/v1/sets/{name}/evaluate", json={})
    assert r.status_code == 404


def test_body_size_cap_is_413_with_and_without_content_length(registry) -> None:
    small = TestClient(create_app(registry=registry, max_body=200))
    big = json.dumps({"unit": {"name": "x" * 500}}).encode()
    r = small.post("/v1/sets/fushun/evaluate", content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["error"] == "too_large"
    r = small.post("/v1/sets/fushun/evaluate", content=iter([big[:150], big[150:]]))  # chunked: no Content-Length
    assert r.status_code == 413
    assert small.post("/v1/sets/fushun/evaluate", json={"unit": {"layoffs": 1}}).status_code == 200


def test_access_log_is_one_json_object_per_request(client, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="policy_dsl.serve.access"):
        client.post("/v1/sets/fushun/evaluate?as_of=2021-09-01", json=medium())
        client.post("/v1/sets/nowhere/evaluate", json={})
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "policy_dsl.serve.access"]
    assert [(r["method"], r["path"], r["status"]) for r in records] == [
        ("POST", "/v1/sets/fushun/evaluate", 200), ("POST", "/v1/sets/nowhere/evaluate", 404)]
    assert records[0]["query"] == "as_of=2021-09-01" and records[0]["bytes"] > 0
    assert isinstance(records[0]["duration_us"], int)


def test_openapi_is_valid_and_lists_every_api_route(client) -> None:
    doc = client.get("/openapi.json").json()
    validate_openapi(doc)
    app_paths = {"/health", "/v1/sets", "/v1/sets/{set}", "/v1/sets/{set}/facts-schema", "/v1/sets/{set}/evaluate",
                 "/v1/sets/{set}/explain", "/v1/sets/{set}/next-question"}
    assert set(doc["paths"]) == app_paths
    for path in app_paths:  # each documented route answers (405/422 would mean a wrong method or shape)
        method = next(iter(doc["paths"][path]))
        url = path.replace("{set}", "fushun")
        r = client.get(url) if method == "get" else client.post(url, json={"facts": {}} if "next" in url else {})
        assert r.status_code == 200, (path, r.text)


def test_the_page_and_its_assets_are_served_without_external_references(client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and "就业政策筛查" in page.text
    for asset in ("/static/app.js", "/static/style.css"):
        r = client.get(asset)
        assert r.status_code == 200
        assert "http://" not in r.text and "https://" not in r.text and "//cdn" not in r.text
    assert "http://" not in page.text and "https://" not in page.text
    notice = client.post("/v1/sets/fushun/explain?format=notice", json=medium()).text  # shown in the page's iframe
    assert "http://" not in notice and "https://" not in notice and "<script" not in notice


def test_policy_serve_refuses_a_missing_policies_directory_before_listening(capsys, tmp_path) -> None:
    assert main(["serve", "--policies", str(tmp_path / "nowhere"), "--port", "1"]) == 2
    assert "找不到规则集目录" in capsys.readouterr().err
    assert main(["serve", "--policies", str(tmp_path), "--port", "1"]) == 2  # a directory with no set in it
    assert "没有规则集" in capsys.readouterr().err
