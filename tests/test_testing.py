"""`policy test`: every mismatch of a case is reported with the clause's citation,
regression assertions are checked, and mistakes in a test point at their line."""
from __future__ import annotations

import shutil
from pathlib import Path

from policy_dsl.cli import main

ROOT = Path(__file__).resolve().parent.parent


def _set_with_test(tmp_path: Path, text: str) -> Path:
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    tests = tmp_path / "policies" / "fushun" / "tests"
    for f in tests.glob("*.yaml"):
        f.unlink()
    (tests / "demo.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "policies" / "fushun"


MEDIUM = """  facts:
    as_of: 2021-09-01
    region: {ui_fund_reserve_months: 15}
    unit: {kind: enterprise, size: medium, ui_insured: true, insured_headcount: 100, layoffs: 4,
           ui_contribution_last_year: "50000.00", insured_headcount_end_2020: 120, application_date: 2021-08-20}
"""


def test_every_mismatch_is_reported_with_its_citation(tmp_path, capsys) -> None:
    path = _set_with_test(tmp_path, "- name: 两处都写错\n" + MEDIUM + """  expect:
    stable_job_refund.amount: "30000.01"
    stable_job_refund.auto_pay: false
    stable_job_refund.eligible: true
""")
    assert main(["test", str(path)]) == 1
    out = capsys.readouterr().out
    assert "fushun · stable_job_refund.amount（抚人社发〔2021〕20号 一）" in out
    assert '应为 expected: "30000.01"' in out and '实际 actual:   "30000.00"' in out
    assert "fushun · stable_job_refund.auto_pay" in out
    assert "stable_job_refund.eligible" not in out
    assert out.rstrip().endswith("0 passed, 1 failed")


def test_a_regression_assertion_that_does_not_hold_fails(tmp_path, capsys) -> None:
    # refund_rate does differ (undetermined in liaoning, 60% in fushun): claiming it unchanged fails.
    path = _set_with_test(tmp_path, "- name: 回归断言\n" + MEDIUM + """  compare: liaoning
  expect: {stable_job_refund.refund_rate: "0.6"}
  unchanged: [stable_job_refund.refund_rate, stable_job_refund.eligible]
""")
    assert main(["test", str(path)]) == 1
    out = capsys.readouterr().out
    assert "liaoning→fushun · stable_job_refund.refund_rate" in out
    assert "liaoning 与 fushun 相同 the same" in out
    assert "stable_job_refund.eligible" not in out


def test_a_misspelt_conclusion_points_at_its_line(tmp_path, capsys) -> None:
    path = _set_with_test(tmp_path, "- name: 拼错\n" + MEDIUM + "  expect:\n    stable_job_refund.elegible: true\n")
    assert main(["test", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"{path}/tests/demo.yaml:8:5: 测试文件错误 test-file error: 条款 stable_job_refund 没有 'elegible'" in out
    assert "是否要写 did you mean: eligible？" in out
