"""policy batch writes the common Decision from its Shape's plan (batch/shaped.py, Summary._plan):
the result file and the summary must be byte for byte what the general path (Decision.clauses,
ClauseResult) writes. Each set, JSONL whole set and --clause, CSV and Parquet with --keep, over
generated registers with empty cells (unknown facts), bad cells (error rows) and, for liaoning-2022,
cases judged by the older edition (its EditionDecision takes the general path)."""
from __future__ import annotations

import csv
import random

import pytest

from policy_dsl.batch.render import JsonRows
from policy_dsl.batch.shaped import ShapedLines
from policy_dsl.cli import main
from policy_dsl.decision import Decision
from policy_dsl.engine import load
from policy_dsl.sql.cases import write_register

UNITS = ["unit.name", "unit.kind", "unit.size", "unit.ui_insured", "unit.insured_headcount", "unit.layoffs",
         "unit.ui_contribution_last_year", "unit.insured_headcount_end_2020", "unit.application_date",
         "region.ui_fund_reserve_months"]


def facts_register(path, name: str, rows: int) -> str:
    """Every fact of the set as a column, ~15 % of cells empty, a few bad cells (CaseMaker)."""
    return str(write_register(load(name), path, rows, start=5))


def units_register(path, name: str, rows: int) -> str:
    """A register of units only (the clauses about people are inapplicable on every row), some
    cells empty, a few rows with a word for a number; liaoning-2022 also gets its acceptance date."""
    rng = random.Random(11)
    dated = name == "liaoning-2022"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(UNITS + (["unit.acceptance_date"] if dated else []))
        for i in range(rows):
            headcount = rng.randint(1, 400)
            row = [f"单位{i}", rng.choice(["enterprise", "enterprise", "law_firm", "other"]),
                   rng.choice(["large", "medium", "small", "micro"]), rng.choice(["是", "是", "否"]), str(headcount),
                   str(rng.randint(0, headcount // 5)), f"{rng.randint(100, 900000)}.{rng.randint(0, 99):02d}",
                   str(headcount + rng.randint(-3, 3)), rng.choice(["", "", "2021-09-01", "2022-02-01"]),
                   rng.choice(["11", "12", "18", "24"])]
            if dated:
                row.append(rng.choice(["2021-08-15", "2022-03-01", "2023-01-05", ""]))
            for _ in range(rng.choice([0, 0, 0, 1, 3])):
                row[rng.randrange(1, len(row))] = ""
            if rng.random() < 0.03:
                row[4] = "三十"
            w.writerow(row)
    return str(path)


def outputs(capsys, tmp_path, tag: str, args: list[str], out: str) -> tuple:
    target = tmp_path / f"{tag}-{out}"
    code = main(["batch", *args, "--out", str(target)])
    summary = capsys.readouterr().out.replace(str(target), "OUT")
    return code, summary, target.read_bytes(), (tmp_path / f"{tag}-{out}.errors.jsonl").read_bytes()


RUNS = [([], "o.jsonl"), (["--clause", "stable_job_refund"], "c.jsonl"), (["--keep", "unit.name"], "o.csv"),
        (["--clause", "stable_job_refund", "--keep", "unit.name"], "c.parquet")]


@pytest.mark.parametrize("name", ["fushun", "liaoning", "liaoning-2022"])
@pytest.mark.parametrize("kind", ["facts", "units"])
def test_shaped_output_is_the_general_paths_byte_for_byte(tmp_path, capsys, monkeypatch, name, kind):
    make = facts_register if kind == "facts" else units_register
    source = make(tmp_path / "register.csv", name, 300)
    runs = [(extra, out) for extra, out in RUNS if kind == "units" or "--keep" not in extra]
    shaped_lines = []
    record = ShapedLines.record
    monkeypatch.setattr(ShapedLines, "record", lambda self, *a: shaped_lines.append(record(self, *a)) or shaped_lines[-1])
    shaped = [outputs(capsys, tmp_path, "shaped", [name, source, *extra], out) for extra, out in runs]
    assert sum(text is not None for text in shaped_lines) >= 100  # the plans did write (JSONL) rows
    monkeypatch.setattr(Decision, "_bare", lambda self: None)  # every Decision through Decision.clauses
    general = [outputs(capsys, tmp_path, "general", [name, source, *extra], out) for extra, out in runs]
    for (extra, out), a, b in zip(runs, shaped, general):
        assert a == b, (extra, out)
    code, summary, result, errors = shaped[0]
    assert code == 1 and errors and "共 300 行" in summary  # bad cells are error rows, accounted for
    assert b'"undetermined":true' in result
    if name == "liaoning-2022" and kind == "units":  # cases accepted in 2021: judged by liaoning, named
        assert b'"edition":{"set":"liaoning"' in result


def test_a_decision_that_is_not_the_common_kind_has_no_plan():
    """Built by the constructor, traced, or patched by an edition chain: the general path, always."""
    engine = load("fushun")
    rows = JsonRows(engine, tuple(engine.rule_set.clauses))
    case = {"unit": {"kind": "enterprise", "size": "small", "ui_insured": True}}
    plain = engine.evaluate(case)
    assert plain._bare() is not None and rows._shaped.record(1, plain, None) is not None
    traced = engine.evaluate(case, trace=True)
    assert traced._bare() is None and rows._shaped.record(1, traced, None) is None
    built = Decision(plain.policy_set, plain.as_of, plain.content_hash, dict(plain.clauses), engine=engine)
    assert built._bare() is None
    assert rows.line(1, built, None) == rows.line(1, plain, None)  # the general path, the same text
    assert plain._bare() is None  # once its clauses are built (above), they are what is read
