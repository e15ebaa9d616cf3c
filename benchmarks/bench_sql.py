"""稳岗返还 on DuckDB: the compiled SQL against a hand-written Decimal function and the Python engine.

    python benchmarks/bench_sql.py [--set fushun] [-n 1000000] [--python-n 20000] [--csv-n 500000]

The same synthetic units as bench_stable_job_refund.py (fixed random start):
* hand-written: the Decimal function of that benchmark, over all n units;
* python engine: RuleEngine.evaluate_many (validation included) over python-n units (it is
  the slowest; its rate is what counts);
* duckdb: the query `policy sql SET --clause stable_job_refund` prints, run by DuckDB over
  the n units in a DuckDB table, results materialised in DuckDB (CREATE TABLE AS) — the
  rate of the SQL backend itself. Every unit's eligible, refund_rate, amount, auto_pay and
  payable are then compared with the hand-written function's;
* end to end: `policy batch SET units.csv --engine duckdb` on a csv-n-row CSV (reading,
  evaluating, writing the JSONL, the errors file and the summary), timed as a user runs it.
Nothing is asserted about speed; it prints units/s and ratios.
"""
from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

import duckdb  # noqa: E402

from bench_stable_job_refund import TARGETS, run_hand, synthetic, timed  # noqa: E402
from policy_dsl import load  # noqa: E402
from policy_dsl.sql.dialects import render  # noqa: E402
from policy_dsl.sql.plan import build_plan  # noqa: E402

COLUMNS = ["region.ui_fund_reserve_months", "unit.kind", "unit.size", "unit.ui_insured", "unit.insured_headcount",
           "unit.layoffs", "unit.ui_contribution_last_year", "unit.insured_headcount_end_2020",
           "unit.application_date"]
TYPES = {"region.ui_fund_reserve_months": "DECIMAL(18, 6)", "unit.kind": "VARCHAR", "unit.size": "VARCHAR",
         "unit.ui_insured": "BOOLEAN", "unit.insured_headcount": "BIGINT", "unit.layoffs": "BIGINT",
         "unit.ui_contribution_last_year": "DECIMAL(18, 4)", "unit.insured_headcount_end_2020": "BIGINT",
         "unit.application_date": "DATE"}


def nested(record: dict) -> dict:
    out: dict = {}
    for path in COLUMNS:
        head, name = path.split(".")
        out.setdefault(head, {})[name] = record[path]
    return out


def duckdb_table(con, engine, records: list[dict]) -> None:
    """The units as the typed `facts` relation the query reads (every vocabulary fact a column)."""
    import pyarrow as pa

    data = {"_row": pa.array(range(len(records)), pa.int64())}
    for path in COLUMNS:
        data[path] = pa.array([r[path] for r in records])
    con.register("units", pa.table(data))
    others = [f'CAST(NULL AS {_type(engine, p)}) AS "{p}"' for p in engine.vocab.facts if p not in COLUMNS]
    typed = [f'CAST("{p}" AS {TYPES[p]}) AS "{p}"' for p in COLUMNS]
    con.execute(f"CREATE TABLE facts AS SELECT _row, {', '.join(typed + others)} FROM units")


def _type(engine, path: str) -> str:
    from policy_dsl.sql.columns import column_type

    return column_type(engine.vocab.facts[path].type)


def write_units_csv(path: str, records: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in records:
            w.writerow(["true" if r[p] is True else "false" if r[p] is False else r[p] for p in COLUMNS])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="fushun")
    ap.add_argument("-n", type=int, default=1_000_000)
    ap.add_argument("--python-n", type=int, default=20_000)
    ap.add_argument("--csv-n", type=int, default=500_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    engine = load(args.set)
    records = synthetic(args.n)
    rates: dict[str, float] = {}

    seconds, expected = timed(run_hand, records)
    rates["hand-written Decimal"] = args.n / seconds

    cases = [nested(r) for r in records[: args.python_n]]
    seconds, decisions = timed(lambda: list(engine.evaluate_many(cases)))
    rates[f"python engine evaluate_many ({args.python_n:,})"] = args.python_n / seconds
    for d, e in zip(decisions, expected):
        got = tuple(d.value(k) for k in TARGETS)
        assert got == e, (got, e)

    facts = {p: s.type for p, s in engine.vocab.facts.items()}
    keys = [f"stable_job_refund.{n}" for n in engine.rule_set.clauses["stable_job_refund"].conclusions]
    plan = build_plan(engine.rule_set, engine.analysis, facts, keys)
    query = render(plan.query, "duckdb", pretty=False)
    con = duckdb.connect()
    duckdb_table(con, engine, records)
    best = None
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        con.execute(f"CREATE OR REPLACE TABLE results AS {query}")
        took = time.perf_counter() - t0
        best = took if best is None else min(best, took)
    rates["duckdb, compiled SQL"] = args.n / best  # type: ignore[operator]
    names = ", ".join(f'"{k}"' for k in TARGETS)
    got_rows = con.execute(f"SELECT {names} FROM results ORDER BY _row").fetchall()
    bad = [i for i, (a, b) in enumerate(zip(got_rows, expected)) if tuple(a) != b]
    if bad:
        sys.exit(f"MISMATCH on {len(bad)} units; first #{bad[0]}: duckdb {got_rows[bad[0]]} hand {expected[bad[0]]}")
    total = sum((e[2] for e in expected if e[4]), Decimal(0))

    base = rates["hand-written Decimal"]
    print(f"rule set {args.set}: {args.n:,} units; total payable refund {total:,} yuan; "
          f"DuckDB == hand-written on every unit, python engine == hand-written on {args.python_n:,}")
    print(f"{'evaluator':<44}{'units/s':>16}{'vs hand-written':>18}")
    for name, rate in rates.items():
        print(f"{name:<44}{rate:>16,.0f}{rate / base:>17.2f}x")

    if args.csv_n:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "units.csv")
            write_units_csv(path, synthetic(args.csv_n, random_start=7))
            policy = str(Path(sys.executable).with_name("policy"))
            t0 = time.perf_counter()
            done = subprocess.run([policy, "batch", args.set, path, "--engine", "duckdb", "--out",
                                   os.path.join(tmp, "out.jsonl")], capture_output=True, text=True)
            took = time.perf_counter() - t0
            print(f"end to end: policy batch {args.set} ({args.csv_n:,}-row CSV) --engine duckdb: {took:.1f} s "
                  f"({args.csv_n / took:,.0f} rows/s), exit {done.returncode}")
            print("\n".join(done.stdout.splitlines()[:3]))


if __name__ == "__main__":
    main()
