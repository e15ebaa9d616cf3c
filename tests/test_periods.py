"""Editions in force by period: a case is judged, clause by clause, by the edition whose period
contains the case's own period date (tests/periods/chain-cases.yaml, worked out by hand), the
same through evaluate, evaluate_many and traced evaluation; JSON outputs name the edition and
validate against their schemas; history values follow the period date and cite their entry."""
from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from policy_dsl.periods.chain import EditionEngine, wrap
from policy_dsl.engine import build, load
from policy_dsl.errors import CheckFailed
from policy_dsl.explain import explain_json, render_text
from policy_dsl.loader import load_rule_set
from policy_dsl.render_text import decision_text
from policy_dsl.trace import build_trace

HERE = Path(__file__).parent
FIXTURES = HERE / "fixtures" / "periods"
CASES = yaml.safe_load((HERE / "periods" / "chain-cases.yaml").read_text(encoding="utf-8"))


def _schema(name: str) -> dict:
    return json.loads(resources.files("policy_dsl").joinpath(f"schema/{name}").read_text(encoding="utf-8"))


def _chain() -> EditionEngine:
    """jobs-2022, which supersedes jobs-2021 (loaded with its predecessor)."""
    engine = load(FIXTURES / "jobs-2022")
    assert isinstance(engine, EditionEngine) and engine.rule_set.predecessor.name == "jobs-2021"
    return engine


CHAIN = _chain()
DATED = wrap(build(load_rule_set(FIXTURES / "dated")))


def _facts(case: dict) -> dict:
    return json.loads(json.dumps(case["facts"], default=str))  # dates as the text a facts file gives


def _check(decision_json: dict, case: dict) -> None:
    clauses = decision_json["clauses"]
    for key, want in case["expect"].items():
        cid, name = key.split(".", 1)
        got = clauses[cid]["conclusions"][name]
        if isinstance(want, dict):
            assert isinstance(got, dict) and got["undetermined"] is True, (key, got)
            assert got["missing"] == want["missing"], (key, got)
            for words in want.get("reason", ()):
                assert words in got["reason"], (key, words, got["reason"])
        else:
            assert got == want, (key, got)
    for cid, name in (case.get("editions") or {}).items():
        # the row names its own edition once (policy_set, title, period); a clause only when judged otherwise
        if name == decision_json["policy_set"]:
            assert "edition" not in clauses[cid], (cid, clauses[cid])
            continue
        edition = clauses[cid]["edition"]
        assert (edition["set"] if edition else None) == name, (cid, edition)


@pytest.mark.parametrize("case", CASES["chain"], ids=[c["name"] for c in CASES["chain"]])
def test_chain_case(case: dict) -> None:
    decision = CHAIN.evaluate(_facts(case))
    got = decision.to_json()
    jsonschema.validate({"schema": "policy-dsl/evaluation", "version": 1, **got}, _schema("evaluation-v1.json"))
    _check(got, case)


@pytest.mark.parametrize("case", CASES["dated"], ids=[c["name"] for c in CASES["dated"]])
def test_history_by_period_date(case: dict) -> None:
    decision = DATED.evaluate(_facts(case), trace=True)
    _check(decision.to_json(), case)
    nodes = [n for tree in build_trace(decision)["layoff_refund"].values() for n in tree.walk()]
    for param, (document, article, text) in (case.get("cites") or {}).items():
        [node] = [n for n in nodes if n.kind == "parameter" and n.label == param][:1]
        assert (node.citation.document, node.citation.article, node.citation.text) == (document, article, text)
        assert node.set_by == (node.citation,)  # so the clerk's basis lists it
        assert f"{document} {article}" in render_text(decision)


@pytest.mark.parametrize("engine, cases", [(CHAIN, CASES["chain"]), (DATED, CASES["dated"])], ids=["chain", "dated"])
def test_evaluate_many_and_traced_agree_with_evaluate(engine, cases: list[dict]) -> None:
    facts = [_facts(c) for c in cases]
    one = [engine.evaluate(f).to_json() for f in facts]
    many = [d.to_json() for d in engine.evaluate_many(facts)]
    traced = [engine.evaluate(f, trace=True).to_json() for f in facts]
    many_traced = [d.to_json() for d in engine.evaluate_many(facts, trace=True)]
    assert one == many == traced == many_traced


def test_explanations_name_the_edition_and_validate() -> None:
    [case] = [c for c in CASES["chain"] if c["facts"]["unit"].get("application_date") == "2021-09-01"
              or str(c["facts"]["unit"].get("application_date")) == "2021-09-01"]
    decision = CHAIN.evaluate(_facts(case), trace=True)
    explained = explain_json(decision)
    jsonschema.validate(explained, _schema("decision-v2.json"))
    assert explained["period"] == {"from": "2022-01-01", "to": "2022-12-31", "zh": "2022年受理的申请"}
    assert explained["clauses"]["layoff_refund"]["edition"]["set"] == "jobs-2021"
    # the trace is that of the edition that judged the clause: its cap, its text
    trace = json.dumps(explained["clauses"]["layoff_refund"]["conclusions"]["eligible"]["trace"], ensure_ascii=False)
    assert '"value": "0.06"' in trace and "某人社发〔2021〕1号" in trace
    text = render_text(decision)
    assert "按《测试用2021年度稳岗通知》（2021年受理的申请）判断" in text
    assert "37037.03元" in text
    plain = decision_text(decision)
    assert "本版本管辖 2022年受理的申请（2022年1月1日至2022年12月31日）" in plain
    assert "本条未判断：申请日期为2021年9月1日" in plain  # spring_bonus: the 2021 edition has no such clause


def test_a_case_outside_every_period_is_explained_in_plain_chinese() -> None:
    [case] = [c for c in CASES["chain"] if str(c["facts"]["unit"].get("application_date")) == "2020-11-01"]
    text = render_text(CHAIN.evaluate(_facts(case), trace=True), "layoff_refund")
    assert "尚不能确定" in text and "原政策" in text and "0.00元" not in text


def test_liaoning_judges_an_application_accepted_before_the_notice_as_outside_its_period() -> None:
    engine = load("liaoning")
    facts = {"as_of": "2021-09-01", "region": {"ui_fund_reserve_months": 15},
             "unit": {"kind": "enterprise", "size": "medium", "ui_insured": True, "insured_headcount": 100,
                      "layoffs": 4, "ui_contribution_last_year": "50000.00", "insured_headcount_end_2020": 120}}
    late = engine.evaluate({**facts, "unit": {**facts["unit"], "application_date": "2021-06-30"}}).to_json()
    assert late["clauses"]["stable_job_refund"]["conclusions"]["max_amount"] == "30000.00"  # 50000 × 60%
    assert late["period"] == {"from": "2021-06-30", "zh": "辽人社发〔2021〕7号实施后受理的申请"}
    early = engine.evaluate({**facts, "unit": {**facts["unit"], "application_date": "2021-06-29"}}).to_json()
    got = early["clauses"]["stable_job_refund"]
    assert got["edition"] is None
    assert got["conclusions"]["max_amount"]["undetermined"] is True
    assert "2021年6月29日" in got["conclusions"]["max_amount"]["reason"]
    assert "原政策" in got["conclusions"]["max_amount"]["reason"]
    # a unit paid without applying (免申即享) is placed by the evaluation date
    auto = engine.evaluate(facts).to_json()
    refund = auto["clauses"]["stable_job_refund"]
    # judged by the set itself: named once at top level, not in the clause
    assert refund["conclusions"]["payable"] is True and "edition" not in refund
    assert (auto["policy_set"], auto["title"]) == ("liaoning", "关于延续实施和优化完善减负稳岗扩就业政策措施的通知")
    # other clauses are not dated: an early application date changes nothing there
    assert early["clauses"]["onthejob_training_subsidy"] == late["clauses"]["onthejob_training_subsidy"]


def test_sets_without_periods_keep_the_plain_engine() -> None:
    from policy_dsl.engine import RuleEngine

    assert type(load(HERE / "fixtures" / "mini_province")) is RuleEngine
    assert type(DATED) is RuleEngine  # period_by only chooses history values there
    assert isinstance(load("fushun"), EditionEngine)  # a city governs its province's period


def _copy(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    return target


@pytest.mark.parametrize("edit, words", [
    (("period_by: 受理日期", "period_by: 受理日"), "受理日"),
    (("period_by: 受理日期", "period_by: unit.ui_insured"), "不是日期"),
    (("period_by: 受理日期", "period_by: unit.no_such_date"), "unit.no_such_date"),
], ids=["unknown name", "not a date", "unknown fact"])
def test_a_bad_period_date_is_an_error_at_its_position(tmp_path: Path, edit: tuple[str, str], words: str) -> None:
    target = _copy(tmp_path, "dated")
    clause = target / "clauses" / "layoff_refund.yaml"
    text = clause.read_text(encoding="utf-8").replace(*edit)
    clause.write_text(text, encoding="utf-8")
    with pytest.raises(CheckFailed) as failed:
        build(load_rule_set(target))
    [error] = [e for e in failed.value.diagnostics if "period_by" in e.message]
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith("period_by:"))
    assert (error.span.line, error.span.column) == (line, 12) and words in error.render()


def test_a_period_that_ends_before_it_starts_is_an_error(tmp_path: Path) -> None:
    target = _copy(tmp_path, "jobs-2021")
    manifest = target / "policy-set.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace("to: 2021-12-31", "to: 2020-12-31"), encoding="utf-8")
    with pytest.raises(CheckFailed) as failed:
        load_rule_set(target)
    assert "截止日早于起始日" in failed.value.diagnostics[0].message


def test_policy_test_checks_the_edition_per_clause(capsys) -> None:
    from policy_dsl.cli import main

    assert main(["test", str(FIXTURES / "jobs-2022")]) == 0
    assert "3 passed, 0 failed" in capsys.readouterr().out


def test_batch_names_the_edition_and_both_engines_agree(tmp_path: Path, capsys) -> None:
    """tests/periods/register.csv: the chain's cases as a register. By hand, per row: the edition of
    layoff_refund and its amount (2021: 60 %, 2022: 90 % of 61728.38; 2020 and no date: not judged)."""
    import csv

    from policy_dsl.cli import main

    register = HERE / "periods" / "register.csv"
    outs = {}
    for engine in ("python", "duckdb"):
        for suffix in ("jsonl", "csv"):
            out = tmp_path / f"{engine}.{suffix}"
            assert main(["batch", str(FIXTURES / "jobs-2022"), str(register), "--out", str(out), "--engine", engine]) == 0
            outs[engine, suffix] = out.read_text(encoding="utf-8")
    assert outs["python", "jsonl"] == outs["duckdb", "jsonl"] and outs["python", "csv"] == outs["duckdb", "csv"]
    outs["python"] = outs["python", "jsonl"]
    first = json.loads(outs["python"].splitlines()[0])
    jsonschema.validate({k: v for k, v in first.items() if k != "row"}, _schema("evaluation-v1.json"))
    table = tmp_path / "out.csv"
    assert main(["batch", str(FIXTURES / "jobs-2022"), str(register), "--out", str(table)]) == 0
    rows = list(csv.DictReader(table.read_text(encoding="utf-8-sig").splitlines()))
    assert [r["layoff_refund.edition"] for r in rows] == ["jobs-2021", "jobs-2022", "jobs-2022", "", "", "jobs-2022"]
    assert [r["layoff_refund.amount"] for r in rows] == ["37037.03", "0.00", "55555.54", "", "", "55555.54"]
    assert [r["spring_bonus.bonus"] for r in rows] == ["", "", "500.00", "", "", ""]
    assert "2022年3月1日至2022年6月30日" in rows[5]["待补充事实"] and "2022年7月1日" in rows[5]["待补充事实"]
    capsys.readouterr()


def test_the_service_names_the_period_and_edition(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from policy_dsl.serve.app import create_app
    from policy_dsl.serve.registry import load_registry

    root = tmp_path / "policies"
    for name in ("jobs-2021", "jobs-2022"):
        shutil.copytree(FIXTURES / name, root / name)
    client = TestClient(create_app(registry=load_registry(root)))
    detail = client.get("/v1/sets/jobs-2022").json()
    assert detail["period"] == {"from": "2022-01-01", "to": "2022-12-31", "zh": "2022年受理的申请"}
    assert next(c for c in detail["clauses"] if c["id"] == "spring_bonus")["valid"] == {"from": "2022-03-01",
                                                                                         "to": "2022-06-30"}
    [case] = [c for c in CASES["chain"] if str(c["facts"]["unit"].get("application_date")) == "2021-09-01"]
    body = client.post("/v1/sets/jobs-2022/evaluate", json=_facts(case)).json()
    assert body["clauses"]["layoff_refund"]["edition"]["set"] == "jobs-2021"
    assert body["clauses"]["layoff_refund"]["conclusions"]["amount"] == "37037.03"
    explained = client.post("/v1/sets/jobs-2022/explain", json=_facts(case)).json()
    assert explained["clauses"]["layoff_refund"]["edition"]["set"] == "jobs-2021"
    prose = client.post("/v1/sets/jobs-2022/explain?format=text&lang=zh", json=_facts(case)).text
    assert "按《测试用2021年度稳岗通知》（2021年受理的申请）判断" in prose
    step = client.post("/v1/sets/jobs-2022/next-question", json={"facts": _facts(case), "subject": "unit"}).json()
    refund = next(r for r in step["results"] if r["id"] == "layoff_refund")
    assert refund["edition"]["set"] == "jobs-2021" and "2021年受理的申请" in refund["explanation"]


def test_an_edition_that_states_no_period_judges_every_case(tmp_path: Path) -> None:
    """Editions are chosen by period only once the newest says which period it governs."""
    from policy_dsl.engine import RuleEngine

    for name in ("jobs-2021", "jobs-2022"):
        shutil.copytree(FIXTURES / name, tmp_path / name)
    manifest = tmp_path / "jobs-2022" / "policy-set.yaml"
    manifest.write_text("".join(line for line in manifest.read_text(encoding="utf-8").splitlines(keepends=True)
                                if not line.startswith("period:")), encoding="utf-8")
    (tmp_path / "jobs-2022" / "clauses" / "spring_bonus.yaml").unlink()  # its valid: would need the layer
    engine = load(tmp_path / "jobs-2022")
    assert type(engine) is RuleEngine
    [case] = [c for c in CASES["chain"] if str(c["facts"]["unit"].get("application_date")) == "2021-09-01"]
    got = engine.evaluate(_facts(case)).to_json()
    assert "period" not in got and got["clauses"]["layoff_refund"]["conclusions"]["amount"] == "0.00"  # 2022's 5.5 %
