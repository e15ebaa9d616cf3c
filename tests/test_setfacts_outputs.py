"""A set's declared facts reach every output built on the vocabulary: batch register columns
(CSV, both engines), the SQL facts view, the facts template and its JSON Schema, `policy show`,
the service (facts schema, next question with the declared Chinese labels, evaluation, 422s).

Fixture sets and the worked case: see tests/test_setfacts.py.
"""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml
from starlette.testclient import TestClient

from policy_dsl.cli import main
from policy_dsl.serve.app import create_app

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
CITY = FIXTURES / "decl_city"

# Worked by hand (see tests/test_setfacts.py for the rules):
# 甲: 8 layoffs − 3 not counted = 5 of 100 (5% ≤ 6%), arrears rectified 2022-05-20 ≤ 2022-06-30, not a
#     zombie, credit 良好 → not excluded; 制造业 → eligible; 2 skilled × 500元 = 1000.00元.
# 乙: a zombie enterprise → excluded → not eligible, amount 0.00.
# 丙: credit level, separations not counted, sectors and key staff missing → undetermined.
# 丁: 制造 is not a value of 所属行业 → an error row naming the column.
REGISTER = """unit.name,as_of,unit.insured_headcount,unit.layoffs,unit.separations_not_counted,unit.zombie_enterprise,\
unit.credit_level,unit.ui_arrears,unit.rectified_on,unit.sectors,unit.key_staff
甲公司,2022-05-01,100,8,3,否,良好,1200.00,2022年5月20日,制造业;服务业,"[{""skilled"": true, ""age"": 30}, {""skilled"": true}]"
乙公司,2022-05-01,100,8,3,是,good,0,,manufacturing,[]
丙公司,2022-05-01,100,8,,false,,0,,,
丁公司,2022-05-01,100,8,2,false,严重失信,0,,制造,
"""


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, capsys.readouterr().out


@pytest.mark.parametrize("engine", ["python", "duckdb"])
def test_batch_reads_declared_facts_as_columns(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                               engine: str) -> None:
    register = tmp_path / "register.csv"
    register.write_text(REGISTER, encoding="utf-8")
    out = tmp_path / "out.csv"
    code, summary = _cli(capsys, "batch", str(CITY), str(register), "--out", str(out), "--keep", "unit.name",
                         "--engine", engine)
    assert code == 1                                  # one error row
    rows = list(csv.DictReader(out.read_text(encoding="utf-8-sig").splitlines()))
    got = {r["unit.name"]: (r["refund_screening.not_excluded"], r["refund_screening.counted_layoffs"],
                            r["city_bonus.eligible"], r["city_bonus.amount"]) for r in rows}
    assert got == {"甲公司": ("true", "5", "true", "1000.00"), "乙公司": ("false", "5", "false", "0.00"),
                   "丙公司": ("", "", "", "")}
    gaps = next(r for r in rows if r["unit.name"] == "丙公司")["待补充事实"]
    assert gaps == ("信用等级（unit.credit_level）；重点岗位职工（unit.key_staff）；所属行业（unit.sectors）；"
                    "不计入裁员的离职人数（unit.separations_not_counted）")
    [error] = [json.loads(line) for line in Path(f"{out}.errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert error["row"] == 4 and error["problems"][0]["column"] == "unit.sectors"
    assert "不是所属行业的可选值" in error["problems"][0]["message"] and "制造业" in error["problems"][0]["message"]
    assert "不计入裁员的离职人数（unit.separations_not_counted）：1 行" in summary


def test_a_register_column_of_another_sets_fact_is_refused(tmp_path: Path, capsys) -> None:
    register = tmp_path / "register.csv"
    register.write_text("unit.layoffs,unit.sectors\n1,制造业\n", encoding="utf-8")
    code, _ = _cli(capsys, "batch", str(FIXTURES / "decl_province"), str(register), "--out", str(tmp_path / "o.csv"))
    assert code == 2                                  # the province does not declare unit.sectors


def test_the_sql_facts_view_has_the_declared_columns(capsys: pytest.CaptureFixture[str]) -> None:
    code, sql = _cli(capsys, "sql", str(CITY))
    assert code == 0
    for column in ("unit.zombie_enterprise", "unit.credit_level", "unit.sectors", "unit.key_staff"):
        assert f'"{column}"' in sql


def test_the_facts_template_lists_declared_facts_with_labels(capsys: pytest.CaptureFixture[str]) -> None:
    code, text = _cli(capsys, "facts", str(CITY))
    assert code == 0
    assert "  credit_level:             # 信用等级 (enum: good 良好 | seriously_dishonest 严重失信)" in text
    assert "  separations_not_counted:  # 不计入裁员的离职人数 (int，单位 人)" in text
    assert "    - skilled:              # 持有职业技能等级证书 (bool，true/false)" in text
    template = yaml.safe_load(text)
    assert set(template["unit"]) >= {"zombie_enterprise", "ui_arrears", "rectified_on", "sectors", "key_staff"}
    code, schema_text = _cli(capsys, "facts", str(CITY), "--format", "json-schema")
    schema = json.loads(schema_text)
    unit = schema["properties"]["unit"]["properties"]
    assert unit["sectors"]["items"]["enum"] == ["manufacturing", "services", "other"]
    validator = jsonschema.Draft202012Validator(schema)
    assert not list(validator.iter_errors({"unit": {"credit_level": "good", "sectors": ["services"]}}))
    assert list(validator.iter_errors({"unit": {"credit_level": "excellent"}}))


def test_show_lists_the_declared_facts_and_who_declared_them(capsys: pytest.CaptureFixture[str]) -> None:
    _, text = _cli(capsys, "show", str(CITY))
    assert "规则集声明的事实 facts declared by rule sets（policy-set.yaml 的 facts:）:" in text
    assert "  unit.credit_level  信用等级（enum：good 良好、seriously_dishonest 严重失信） ← decl_province" in text
    assert "  unit.key_staff  重点岗位职工（list of record：skilled 持有职业技能等级证书、age 年龄）" in text
    _, data = _cli(capsys, "show", str(CITY), "--format", "json")
    shown = json.loads(data)
    schema = json.loads((ROOT / "policy_dsl" / "schema" / "show-v1.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(schema).validate(shown)
    facts = {f["path"]: f for f in shown["declared_facts"]}
    assert facts["unit.rectified_on"] == {
        "path": "unit.rectified_on", "zh": "整改完成日期", "type": "date", "values": None, "fields": None,
        "min": "2000-01-01", "max": "2099-12-31", "doc": None, "unit": None, "declared_in": "decl_province"}
    assert facts["unit.sectors"]["declared_in"] == "decl_city"
    _, plain = _cli(capsys, "show", "policies/fushun", "--format", "json")
    assert json.loads(plain)["declared_facts"] == []


# --- the service ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    policies = tmp_path_factory.mktemp("policies")
    for name in ("decl_province", "decl_city"):
        shutil.copytree(FIXTURES / name, policies / name)
    return TestClient(create_app(policies))


CASE = {"as_of": "2022-05-01",
        "unit": {"insured_headcount": 100, "layoffs": 8, "separations_not_counted": 3, "zombie_enterprise": False,
                 "ui_arrears": "0", "sectors": ["manufacturing"], "key_staff": [{"skilled": True}]}}


def test_the_service_asks_for_a_declared_fact_in_its_words(client: TestClient) -> None:
    r = client.post("/v1/sets/decl_city/next-question", json={"facts": CASE, "subject": "unit"}).json()
    q = r["question"]
    assert q["fact"] == "unit.credit_level" and q["label"] == "信用等级" and q["type"] == "enum"
    assert q["values"] == [{"value": "good", "label": "良好"}, {"value": "seriously_dishonest", "label": "严重失信"}]
    answered = {**CASE, "unit": {**CASE["unit"], "credit_level": "good"}}
    r = client.post("/v1/sets/decl_city/next-question", json={"facts": answered, "subject": "unit"}).json()
    assert r["question"] is None
    assert r["decision"]["clauses"]["city_bonus"]["conclusions"]["amount"] == "500.00"   # 1 skilled × 500元


def test_the_service_validates_and_publishes_the_declared_facts(client: TestClient) -> None:
    schema = client.get("/v1/sets/decl_city/facts-schema").json()
    assert schema["properties"]["unit"]["properties"]["zombie_enterprise"] == {"type": "boolean", "title": "僵尸企业"}
    province = client.get("/v1/sets/decl_province/facts-schema").json()
    assert "sectors" not in province["properties"]["unit"]["properties"]
    bad = client.post("/v1/sets/decl_city/evaluate", json={"unit": {"credit_level": "excellent"}})
    assert bad.status_code == 422
    assert [p["path"] for p in bad.json()["problems"]] == ["unit.credit_level"]
    ok = client.post("/v1/sets/decl_city/evaluate", json={**CASE, "unit": {**CASE["unit"], "credit_level": "good"}})
    assert ok.json()["clauses"]["refund_screening"]["conclusions"]["not_excluded"] is True


# --- one case, two sets: the base does not know the variant's declared facts ---------------------------

def test_a_case_for_the_variant_is_seen_by_the_base_without_the_facts_only_the_variant_declares() -> None:
    from policy_dsl import load
    from policy_dsl.setfacts import as_seen_by

    province, city = load(FIXTURES / "decl_province"), load(CITY)
    case = {"unit": {"layoffs": 1, "credit_level": "good", "sectors": ["services"], "sectorz": 1}, "as_of": "2022-05-01"}
    assert as_seen_by(case, province.vocab, city.vocab) == {
        "unit": {"layoffs": 1, "credit_level": "good", "sectorz": 1}, "as_of": "2022-05-01"}  # a misspelling stays
    assert as_seen_by(case, city.vocab, province.vocab) is case


def test_generated_cases_that_set_a_declared_fact_are_compared_not_rejected(capsys) -> None:
    from policy_dsl import load
    from policy_dsl.generate import generate_cases

    cases, report = generate_cases(load(FIXTURES / "decl_province"), load(CITY))
    staffed = [c for _, c in cases if c.get("unit", {}).get("key_staff")]
    assert any("sectors" in c.get("unit", {}) for _, c in cases) and staffed
    assert {tuple(sorted(r)) for c in staffed for r in c["unit"]["key_staff"]} == {("age", "skilled")}
    assert report["rejected_inconsistent"] < len(cases)
    code, text = _cli(capsys, "diff", str(FIXTURES / "decl_province"), str(CITY), "--generate")
    assert code == 1 and "city_bonus.amount" in text and "事实数据错误" not in text   # 1: the new clause's results


def test_the_catalog_words_conditions_with_the_declared_labels(capsys: pytest.CaptureFixture[str]) -> None:
    code, text = _cli(capsys, "catalog", str(CITY))
    assert code == 0
    assert "- 非严重失信：信用等级不为严重失信" in text
    assert "- 欠费已清或按期整改：欠缴失业保险费等于0.00元或整改完成日期在2022年6月30日前（含当日）" in text
    assert "unit.credit_level" not in text and "seriously_dishonest" not in text
