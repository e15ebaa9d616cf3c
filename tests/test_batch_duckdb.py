"""`policy batch --engine duckdb` writes what `--engine python` writes: the same result file,
errors file and summary, byte for byte, over generated registers with unknown facts, bad
cells and zero divisors."""
from __future__ import annotations

import csv
import json

import pytest

from policy_dsl.cli import main
from policy_dsl.engine import load
from policy_dsl.sql.cases import CaseMaker


def register(path, name: str, rows: int) -> str:
    engine = load(name)
    maker = CaseMaker(engine, start=3)
    columns = [p for p in engine.vocab.facts if p != "as_of"] + ["as_of"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        for row in maker.rows(rows):
            for p, cell in row.items():  # sets as the register spells them: a;b, [] when empty
                if engine.vocab.facts[p].type.kind == "set" and cell.startswith("["):
                    try:
                        items = json.loads(cell)
                    except ValueError:
                        continue
                    row[p] = ";".join(items) if items else "[]"
            w.writerow(row)
    return str(path)


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

    source = units_register(tmp_path / "units.csv", name, 3000)
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
