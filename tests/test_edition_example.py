"""The worked edition policies/liaoning-2022 (docs/editions.md): it checks clean, its static diff
against liaoning names every change in the edition's own terms, and a case is judged by the
edition of its own acceptance date. The conclusions themselves are hand-worked in
policies/liaoning-2022/tests/; these tests hold what YAML tests cannot see."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from policy_dsl.cli import main

ROOT = Path(__file__).resolve().parent.parent


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_edition_checks_with_no_error_and_no_warning(capsys) -> None:
    code, out, _ = run(capsys, "check", "liaoning-2022")
    assert code == 0
    assert out.splitlines()[-1].endswith("0 个错误，0 个警告")


def _changes(capsys) -> dict[tuple[str, str], dict]:
    code, out, _ = run(capsys, "diff", "liaoning", "liaoning-2022", "--format", "json")
    assert code == 0
    return {(c["kind"], c["name"]): c for c in json.loads(out)["changes"] if c["clause"] == "stable_job_refund"}


def test_the_static_diff_lists_each_change_of_the_edition(capsys) -> None:
    changes = _changes(capsys)
    assert changes[("parameter", "裁员率上限")]["base"] == "6%" and changes[("parameter", "裁员率上限")]["variant"] == "5.5%"
    assert changes[("parameter", "免申即享参保人数上限")]["change"] == "removed"
    assert changes[("condition", "未列入严重失信主体名单")]["change"] == "added"
    assert changes[("condition", "不是僵尸企业")]["change"] == "added"
    for name, old, new in (("大型企业返还比例", "≤ 30%", "≤ 50%"), ("中小微企业及其他单位返还比例", "≤ 60%", "≤ 90%")):
        widened = changes[("bounds", name)]
        assert (widened["change"], widened["base"], widened["variant"]) == ("widened", old, new)


def test_a_still_delegated_parameter_shows_the_editions_own_bounds(capsys) -> None:
    # The row of a delegation whose reason changed gives the bounds the cities must now keep:
    # the edition's 50%, not the predecessor's 30% (fixed here: it showed the base's bounds).
    changes = _changes(capsys)
    assert changes[("parameter", "大型企业返还比例")]["bounds"] == "≤ 50%"
    assert changes[("parameter", "中小微企业及其他单位返还比例")]["bounds"] == "≤ 90%"


def test_the_catalog_of_an_edition_is_built_with_the_editions_values(capsys) -> None:
    # The static diff of an edition has bounds changes, a kind the catalog did not name (it stopped on a KeyError).
    code, out, _ = run(capsys, "catalog", "liaoning-2022", "--clause", "stable_job_refund")
    assert code == 0
    assert "| 裁员率上限 | 5.5% | 辽宁省2022年稳岗返还接续政策（示例，概述） 一 |" in out
    assert "| 大型企业返还比例 | 由各市确定，不超过50% |" in out


def test_generated_cases_carry_the_date_that_chooses_the_edition(capsys) -> None:
    # stable_job_refund is dated by a fact only liaoning-2022 declares (unit.acceptance_date). Generated
    # cases now take it around each edition's period, so the 2022 edition judges some of them: the
    # differences found are its rules' (a value on its side), not only the absence of the date.
    code, out, _ = run(capsys, "diff", "liaoning", "liaoning-2022", "--generate", "--format", "json")
    assert code == 0
    report = json.loads(out)
    judged = [d for d in report["differences"]
              if d["conclusion"] == "stable_job_refund.eligible" and isinstance(d["variant"], bool)]
    assert judged, "no generated case was judged by the 2022 edition"
    moved = next(t for t in report["thresholds"]["changed"] if t.get("compare") == "裁员率 <= 裁员率上限")
    assert moved["regions"]["between"]["differing"] > 0
