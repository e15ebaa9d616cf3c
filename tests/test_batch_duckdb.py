"""`policy batch --engine duckdb` writes what `--engine python` writes: the same result file,
errors file and summary, byte for byte, over generated registers with unknown facts, bad
cells and zero divisors."""
from __future__ import annotations

import csv
import json

import pytest

from policy_dsl.cli import main
from policy_dsl.engine import load
from policy_dsl.sql.cases import CaseMaker, write_register


def register(path, name: str, rows: int) -> str:
    return str(write_register(load(name), path, rows, start=3))


def run(capsys, *args) -> tuple[int, str]:
    code = main(["batch", *args])
    return code, capsys.readouterr().out


@pytest.mark.parametrize("name,fmt", [("fushun", "jsonl"), ("liaoning", "csv")])
def test_duckdb_engine_writes_what_the_python_engine_writes(tmp_path, capsys, name, fmt):
    source = register(tmp_path / "register.csv", name, 600)
    outputs = {}
    for engine in ("python", "duckdb"):
        out = tmp_path / f"{engine}.{fmt}"
        code, summary = run(capsys, name, source, "--engine", engine, "--out", str(out))
        outputs[engine] = (code, summary.replace(str(out), "OUT"), out.read_bytes(),
                           (tmp_path / f"{engine}.{fmt}.errors.jsonl").read_bytes())
    assert outputs["duckdb"] == outputs["python"]
    code, summary, result, errors = outputs["duckdb"]
    assert code == 1 and errors  # the register has bad cells: error rows, accounted for
    assert "共 600 行" in summary


def test_duckdb_engine_refuses_explain(tmp_path, capsys):
    source = register(tmp_path / "register.csv", "fushun", 5)
    assert main(["batch", "fushun", source, "--engine", "duckdb", "--explain",
                 "--out", str(tmp_path / "o.jsonl")]) == 2
    assert "--engine python" in capsys.readouterr().err


def _day(cell: str) -> str:
    """An ISO date cell as text (compares as a date), or "~" for an empty or unreadable one."""
    return cell if len(cell) == 10 and cell[4] == "-" and cell[7] == "-" else "~"


def units_register(path, name: str, rows: int) -> str:
    """A register of units as a province keeps it: unit and region columns and as_of, ~15 % of
    cells empty (unknown facts), a few bad cells, zero headcounts."""
    engine = load(name)
    columns = [p for p in engine.vocab.facts if p.split(".")[0] in ("unit", "region")] + ["as_of"]
    maker = CaseMaker(engine, start=11)
    maker.subjects = ["region", "unit"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        for row in maker.rows(rows):
            w.writerow(row)
    return str(path)


@pytest.mark.parametrize("name", ["fushun", "liaoning"])
def test_duckdb_engine_decides_a_units_register_in_sql(tmp_path, capsys, monkeypatch, name):
    """The whole-file path (DuckDB reads the CSV and writes the JSONL lines): same bytes as the python
    engine, with the Python engine consulted only for the rows it must decide (bad cells, zero divisors)."""
    import policy_dsl.sql.batch_file as batch_file

    from policy_dsl.sql.json_sql import JsonSql

    source = units_register(tmp_path / "units.csv", name, 3000)
    folded: list[dict] = []
    fold = JsonSql.fold
    monkeypatch.setattr(JsonSql, "fold", lambda self, *a: folded.append(fold(self, *a) or dict(self.fixed)))
    handed: list[int] = []
    decide = batch_file._decide
    monkeypatch.setattr(batch_file, "_decide", lambda engine, row, as_of: handed.append(row.number)
                        or decide(engine, row, as_of))
    outputs = {}
    for engine in ("python", "duckdb"):
        out = tmp_path / f"{engine}.jsonl"
        code, summary = run(capsys, name, str(source), "--engine", engine, "--out", str(out))
        outputs[engine] = (code, summary.replace(str(out), "OUT"), out.read_bytes(),
                           (tmp_path / f"{engine}.jsonl.errors.jsonl").read_bytes())
    assert outputs["duckdb"] == outputs["python"]
    code, summary, result, errors = outputs["duckdb"]
    assert b'"undetermined":true' in result and "共 3,000 行" in summary
    # a unit accepted before the set's period (2021-06-30) is not judged by it: Python says why (periods/)
    with open(source, encoding="utf-8") as f:
        early = {i for i, row in enumerate(csv.DictReader(f), 1) if _day(row["unit.application_date"]) < "2021-06-30"}
    assert early <= set(handed)
    assert 0 < len(set(handed) - early) < 300  # the rest were decided and written by SQL
    # no row is about a person: the person clauses were written as constant text (JsonSql.fold), and a
    # value the rules fix for every unit too; the bytes are still the python engine's (above)
    [fixed] = folded
    assert fixed['"_has_person"'] is False, fixed
    assert fixed["implementation_deadlines.local_rules_due"] == '"2021-07-30"'


def test_duckdb_engine_leaves_unusual_files_to_the_batch_reader(tmp_path, capsys, monkeypatch):
    """A quoted line break (a record over two lines) or a short row: line numbers are the batch reader's
    to count, so the whole-file path steps aside and the general path writes the same files."""
    import policy_dsl.sql.batch_file as batch_file

    source = tmp_path / "units.csv"
    source.write_text('unit.name,unit.kind,unit.layoffs,unit.insured_headcount\n'
                      '"抚顺某机械\n有限公司",enterprise,3,100\n'
                      '抚顺某商店,enterprise,0\n'
                      '抚顺某厂,enterprise,1,0\n', encoding="utf-8")
    whole_file: list[int] = []
    evaluate = batch_file._evaluate
    monkeypatch.setattr(batch_file, "_evaluate", lambda *a: whole_file.append(1) or evaluate(*a))
    outputs = {}
    for engine in ("python", "duckdb"):
        out = tmp_path / f"{engine}.jsonl"
        code, summary = run(capsys, "fushun", str(source), "--engine", engine, "--out", str(out))
        outputs[engine] = (code, summary.replace(str(out), "OUT"), out.read_bytes(),
                           (tmp_path / f"{engine}.jsonl.errors.jsonl").read_bytes())
    assert outputs["duckdb"] == outputs["python"] and not whole_file
    errors = [json.loads(line) for line in outputs["duckdb"][3].decode().splitlines()]
    assert [(e["row"], e["line"]) for e in errors] == [(2, 4), (3, 5)]  # the short row; the zero divisor


def test_duckdb_engine_reads_a_sets_declared_facts(tmp_path, capsys):
    """A rule set that declares facts of its own (tests/fixtures/decl_city): its columns are typed from the
    set's vocabulary on the whole-file path too, so the JSONL, errors and summary are the python engine's."""
    from pathlib import Path

    city = Path(__file__).parent / "fixtures" / "decl_city"
    source = tmp_path / "register.csv"
    source.write_text("unit.name,as_of,unit.insured_headcount,unit.layoffs,unit.separations_not_counted,"
                      "unit.zombie_enterprise,unit.credit_level,unit.ui_arrears\n"
                      "甲公司,2022-05-01,100,8,3,false,good,1200.00\n"
                      "乙公司,2022-05-01,100,8,,true,seriously_dishonest,0\n"
                      "丙公司,2022-05-01,100,8,,false,,0\n"
                      "丁公司,2022-05-01,100,8,2,false,excellent,0\n", encoding="utf-8")
    outputs = {}
    for engine in ("python", "duckdb"):
        out = tmp_path / f"{engine}.jsonl"
        code, summary = run(capsys, str(city), str(source), "--engine", engine, "--out", str(out))
        outputs[engine] = (code, summary.replace(str(out), "OUT"), out.read_bytes(),
                           (tmp_path / f"{engine}.jsonl.errors.jsonl").read_bytes())
    assert outputs["duckdb"] == outputs["python"]
    assert outputs["duckdb"][0] == 1 and b"unit.credit_level" in outputs["duckdb"][3]  # 丁: not a credit level


def test_duckdb_engine_stopped_by_ctrl_c_writes_nothing(tmp_path, capsys, monkeypatch):
    """DuckDB's Python client reports Ctrl-C during a query as RuntimeError('Query interrupted'): the
    run stops as the python engine's does (exit 130, the Chinese notice, no output file), not as an
    internal error. The query is stopped where the output files are already open."""
    from policy_dsl.sql.json_sql import JsonSql

    source = units_register(tmp_path / "units.csv", "fushun", 50)

    def stopped(self, *args):
        raise RuntimeError("Query interrupted")

    monkeypatch.setattr(JsonSql, "fold", stopped)
    out = tmp_path / "o.jsonl"
    assert main(["batch", "fushun", source, "--engine", "duckdb", "--out", str(out)]) == 130
    assert "没有写出任何结果文件" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["units.csv"]  # no result, errors or .partial file


def test_a_clause_other_than_the_dated_one(tmp_path, capsys):
    """--clause onthejob_training_subsidy loads fushun for that clause only; the dated stable_job_refund
    (period_by 受理日期) is then not computed, and no edition is chosen for it (it stopped on a KeyError).
    Both engines write the same lines, with the clause's own undetermined amount (delegated standard)."""
    source = units_register(tmp_path / "units.csv", "fushun", 300)
    outputs = {}
    for engine in ("python", "duckdb"):
        out = tmp_path / f"{engine}.jsonl"
        code, summary = run(capsys, "fushun", source, "--engine", engine, "--out", str(out),
                            "--clause", "onthejob_training_subsidy")
        outputs[engine] = (code, summary.replace(str(out), "OUT"), out.read_bytes())
    assert outputs["duckdb"] == outputs["python"]
    code, summary, result = outputs["python"]
    assert code in (0, 1) and "共 300 行" in summary
    rows = [json.loads(line) for line in result.splitlines()]
    assert all(set(r["clauses"]) == {"onthejob_training_subsidy"} for r in rows)
    applicable = [r["clauses"]["onthejob_training_subsidy"]["conclusions"] for r in rows
                  if r["clauses"]["onthejob_training_subsidy"]["applicable"]]
    assert applicable and all(c["amount"]["missing"] == ["以工代训补贴标准"] for c in applicable)
