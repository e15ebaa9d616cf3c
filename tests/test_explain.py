"""Explanations: golden zh prose and JSON for seed cases, the versioned schema,
and a citation on every trace node of both rule sets."""
from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path

import jsonschema
import pytest
import yaml

from policy_dsl import load
from policy_dsl.explain import explain_json, render_text, render_tree
from policy_dsl.trace import build_trace

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden" / "explain"
CASES = yaml.safe_load((GOLDEN / "cases.yaml").read_text(encoding="utf-8"))
SCHEMA = json.loads((ROOT / "policy_dsl" / "schema" / "decision-v2.json").read_text(encoding="utf-8"))


@lru_cache(maxsize=None)
def engine(name: str):
    return load(ROOT / "policies" / name)


def _decision(case: dict):
    return engine(case["set"]).evaluate(case["facts"], trace=True)


def _golden(path: Path, actual: str) -> None:
    if os.environ.get("UPDATE_GOLDEN"):
        path.write_text(actual, encoding="utf-8")
    assert path.is_file(), f"missing golden file {path}; run with UPDATE_GOLDEN=1 and review it"
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_zh_prose_is_pinned(case: dict) -> None:
    _golden(GOLDEN / f"{case['id']}.zh.txt", render_text(_decision(case), case["clause"], "zh"))


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_json_is_pinned_and_valid(case: dict) -> None:
    data = explain_json(_decision(case), case["clause"])
    jsonschema.Draft202012Validator(SCHEMA).validate(data)
    data["content_hash"] = "sha256:" + "0" * 64  # rule edits must not churn every golden file
    _golden(GOLDEN / f"{case['id']}.json", json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def test_the_issue_sentence_for_a_failed_layoff_test() -> None:
    case = next(c for c in CASES if c["id"] == "ineligible_small_liaoning")
    text = render_text(_decision(case), "stable_job_refund", "zh")
    assert "  应予拨付：不符合\n    · 不符合“裁员率达标”：" in text
    assert "上年度参保职工总数25人，在30人（含）以下；裁员率24%，高于20%" in text


def test_short_circuit_is_not_evaluated_not_false() -> None:
    case = next(c for c in CASES if c["id"] == "eligible_medium_fushun")
    tree = build_trace(_decision(case))["stable_job_refund"]["eligible"]
    statuses = {(n.label, n.status) for n in tree.walk()}
    # 100 staff: the 20% branch for small units is never computed.
    assert ("裁员率 <= 小微单位裁员率上限", "not_evaluated") in statuses
    assert ("裁员率 <= 裁员率上限", "true") in statuses


def test_failing_conditions_come_first() -> None:
    case = next(c for c in CASES if c["id"] == "ineligible_small_liaoning")
    tree = build_trace(_decision(case))["stable_job_refund"]["eligible"]
    assert [c.status for c in tree.children][0] == "false"


def test_decision_is_auditable() -> None:
    case = CASES[0]
    data = explain_json(_decision(case))
    assert data["policy_set"] == "fushun" and data["extends"] == "liaoning"
    assert data["as_of"] == "2021-09-01"
    assert data["content_hash"] == engine("fushun").rule_set.content_hash
    assert data["content_hash"] != engine("liaoning").rule_set.content_hash


@pytest.mark.parametrize("name", ["liaoning", "fushun"])
def test_every_trace_node_carries_a_citation(name: str) -> None:
    """Over many cases, every named node (conclusion, condition, definition, parameter,
    exception) of every applicable clause cites its document and article."""
    from policy_dsl.testing import discover, read_cases

    eng = engine(name)
    seen = 0
    for file in discover([str(ROOT / "policies" / name)]):
        for case in read_cases(file):
            decision = eng.evaluate(case.facts, as_of=case.as_of, trace=True)
            for conclusions in build_trace(decision).values():
                for tree in conclusions.values():
                    for node in tree.walk():
                        if node.kind in ("fact", "expr", "literal"):
                            continue
                        seen += 1
                        assert node.citation is not None, f"{node.clause}.{node.label} has no citation"
                        assert node.citation.document and node.citation.article, f"{node.clause}.{node.label}"
    assert seen > 500


def test_tree_fits_100_columns() -> None:
    out = render_tree(_decision(CASES[0]), "stable_job_refund", "zh", width=100)
    from rich.cells import cell_len

    assert max(cell_len(line) for line in out.splitlines()) <= 100
    assert "✓ 结论 eligible = 是" in out
