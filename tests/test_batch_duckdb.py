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
