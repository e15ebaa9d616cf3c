"""Every machine-readable output carries "schema" and "version" and follows the JSON Schema
shipped for it in policy_dsl/schema/ (so a consumer can validate and detect a new version)."""
from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from policy_dsl.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _schema(name: str) -> dict:
    return json.loads(resources.files("policy_dsl").joinpath(f"schema/{name}").read_text(encoding="utf-8"))


@pytest.fixture(autouse=True)
def _at_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("POLICY_PATH", raising=False)


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "policy_dsl" / "schema").glob("*.json")))
def test_every_shipped_schema_is_a_valid_2020_12_schema(name: str) -> None:
    jsonschema.Draft202012Validator.check_schema(_schema(name))


CASES = [
    ("evaluation-v1.json", "policy-dsl/evaluation", ["eval", "fushun", "examples/unit-medium.yaml", "--format", "json"], 0),
    ("evaluation-v1.json", "policy-dsl/evaluation", ["eval", "liaoning", "examples/unit-medium.yaml", "--format", "json"], 0),
    ("decision-v2.json", "policy-dsl/decision", ["explain", "fushun", "examples/unit-medium.yaml", "--format", "json"], 0),
    ("test-report-v1.json", "policy-dsl/test-report", ["test", "fushun", "--format", "json"], 0),
    ("diff-v1.json", "policy-dsl/diff", ["diff", "liaoning", "fushun", "--cases", "policies/fushun/tests", "--format", "json"], 0),
    ("diff-v1.json", "policy-dsl/diff", ["diff", "liaoning", "fushun", "--generate", "--format", "json"], 0),
    # a moved threshold, widened and narrowed bounds, a removed condition, a history entry (undeclared: exit 1)
    ("diff-v1.json", "policy-dsl/diff", ["diff", "tests/fixtures/diffgen/old", "tests/fixtures/diffgen/new", "--generate",
                                         "--format", "json"], 1),
    ("show-v1.json", "policy-dsl/show", ["show", "fushun", "--format", "json"], 0),
]


@pytest.mark.parametrize(("schema", "tag", "argv", "code"), CASES, ids=[" ".join(c[2][:2]) + f"#{i}" for i, c in enumerate(CASES)])
def test_json_output_is_versioned_and_follows_its_schema(capsys, schema: str, tag: str, argv: list[str], code: int) -> None:
    assert main(argv) == code
    data = json.loads(capsys.readouterr().out)
    assert (data["schema"], data["version"]) == (tag, int(schema.rsplit("-v", 1)[1].split(".")[0]))
    jsonschema.Draft202012Validator(_schema(schema)).validate(data)


def test_a_failing_test_report_follows_its_schema(capsys, tmp_path: Path) -> None:
    shutil.copytree(ROOT / "policies" / "fushun", tmp_path / "fushun")
    shutil.copytree(ROOT / "policies" / "liaoning", tmp_path / "liaoning")
    tests = tmp_path / "fushun" / "tests" / "stable_job_refund.yaml"
    tests.write_text(tests.read_text(encoding="utf-8").replace('refund_rate: "0.3"', 'refund_rate: "0.25"', 1), encoding="utf-8")
    assert main(["test", str(tests), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator(_schema("test-report-v1.json")).validate(data)
    assert data["failed"] == 1 and data["failures"][0]["mismatches"][0]["key"] == "stable_job_refund.refund_rate"
