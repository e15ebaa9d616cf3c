"""稳岗返还 on DuckDB: what users run, against hand-written baselines, in one run.

    python benchmarks/bench_sql.py [--set fushun] [-n 1000000] [--python-n 20000] [--csv-n 500000] [--csv-python]

The synthetic units of bench_stable_job_refund.py (fixed random start), n of them:
* hand-written Decimal: that benchmark's Python function (eligible, refund_rate, amount,
  auto_pay, payable), over all n units — the baseline every ratio is to;
* python engine: RuleEngine.evaluate_many (validation included) over python-n units;
* hand-written DuckDB SQL: the same five conclusions written by hand for DuckDB (exact
  DECIMAL, the layoff test by cross-multiplication, no missing lists), over the same table;
* hand-written, 20 columns: the same SQL writing also the columns the printed query returns besides
  those five (the other four conclusions, nine `#missing` lists as NULL — right for these units,
  which know every fact — `_has_unit`, `_recheck`): what materialising that output costs at least;
* policy sql: the text `policy sql SET --clause stable_job_refund` prints (every conclusion of
  the clause, with its `#missing` list), run as it is by DuckDB over the n units in a typed
  table `facts`, results materialised (CREATE TABLE AS). Best of --rounds, interleaved with the
  hand-written SQL. Every unit's five conclusions are compared with the hand-written function's;
* policy sql, five conclusions: `policy sql SET --conclusion stable_job_refund.eligible …` for the
  five the hand-written SQL computes (each with its `#missing` list), materialised likewise;
* consumed in DuckDB: each query's five conclusions (and the printed queries' five `#missing` lists)
  aggregated in DuckDB — counts and sums, so every one is computed for every unit — without
  materialising rows: the payout totals a province reads off the register (`SELECT sum(...) FROM
  (<printed query>)`). The cost of writing a million result rows is then out of the comparison;
* end to end: `policy batch SET units.csv --engine duckdb` on a csv-n-row CSV (reading,
  evaluating, writing the JSONL — every clause, as by default — the errors file and the summary),
  and the same with `--clause stable_job_refund`; with --csv-python also `--engine python`.
Nothing is asserted about speed; it prints units/s and ratios. The machine is shared: read the
ratios measured in the same run, not the absolute rates.
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

from bench_stable_job_refund import run_hand, synthetic_units, timed  # noqa: E402
from policy_dsl import load  # noqa: E402
from policy_dsl.sql.columns import column_type  # noqa: E402

FIVE = ("eligible", "refund_rate", "amount", "auto_pay", "payable")
KINDS = ("enterprise", "social_organization", "foundation", "social_service_agency", "law_firm", "accounting_firm",
         "individual_economic_org")

# 辽人社发〔2021〕7号 一（一） with 抚人社发〔2021〕20号 一's rates, by hand, for DuckDB.
HAND_SQL = f"""
SELECT _row,
  e AS eligible, r AS refund_rate,
  CASE WHEN e THEN ROUND("unit.ui_contribution_last_year" * r, 2) ELSE 0.00 END AS amount,
  e AND "unit.insured_headcount_end_2020" <= 200 AS auto_pay,
  e AND ("unit.insured_headcount_end_2020" <= 200 OR "unit.application_date" <= DATE '2021-12-31') AS payable
FROM (SELECT *,
  "unit.ui_insured" AND "unit.kind" IN ({", ".join(f"'{k}'" for k in KINDS)})
    AND "region.ui_fund_reserve_months" >= 12
    AND ("unit.layoffs" = 0 OR CASE WHEN "unit.insured_headcount" <= 30
           THEN "unit.layoffs" * 100 <= 20 * "unit.insured_headcount"
           ELSE "unit.layoffs" * 100 <= 6 * "unit.insured_headcount" END) AS e,
  CASE WHEN "unit.kind" = 'enterprise' AND "unit.size" = 'large' THEN 0.30 ELSE 0.60 END AS r
  FROM facts)
"""


# The hand-written SQL with the printed query's output columns (names as `policy sql` prints them).
_MISSING = ", ".join(f'CAST(NULL AS VARCHAR[]) AS "stable_job_refund.{k}#missing"' for k in (
    "eligible", "max_refund_rate", "max_amount", "refund_rate", "amount", "auto_pay", "apply_by",
    "application_in_time", "payable"))
HAND_SQL_20 = f"""
SELECT _row, eligible AS "stable_job_refund.eligible", refund_rate AS "stable_job_refund.max_refund_rate",
  amount AS "stable_job_refund.max_amount", refund_rate AS "stable_job_refund.refund_rate",
  amount AS "stable_job_refund.amount", auto_pay AS "stable_job_refund.auto_pay",
  DATE '2021-12-31' AS "stable_job_refund.apply_by", payable AS "stable_job_refund.application_in_time",
  payable AS "stable_job_refund.payable", {_MISSING}, TRUE AS _has_unit, FALSE AS _recheck
FROM ({HAND_SQL})
"""


def flat(record: dict) -> dict:
    return {f"{s}.{k}": v for s, facts in record.items() for k, v in facts.items()}


def facts_table(con, engine, records: list[dict]) -> None:
    """The units as the typed relation `facts` the printed query reads (every vocabulary fact a column)."""
    import pyarrow as pa

    rows = [flat(r) for r in records]
    data = {"_row": pa.array(range(len(rows)), pa.int64())}
    for path in rows[0]:
        data[path] = pa.array([r[path] for r in rows])
    con.register("units", pa.table(data))
    select = [f'CAST("{p}" AS {column_type(s.type)}) AS "{p}"' if p in data else
              f'CAST(NULL AS {column_type(s.type)}) AS "{p}"' for p, s in engine.vocab.facts.items()]
    con.execute(f"CREATE TABLE facts AS SELECT _row, {', '.join(select)} FROM units")
    con.unregister("units")


def write_units_csv(path: str, records: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        columns = list(flat(records[0]))
        w.writerow(columns)
        for r in records:
            cells = flat(r)
            w.writerow(["true" if cells[p] is True else "false" if cells[p] is False else cells[p] for p in columns])


def best_of(con, queries: dict[str, str], rounds: int) -> dict[str, float]:
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name, sql in queries.items():
            t0 = time.perf_counter()
            con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")
            took = time.perf_counter() - t0
            best[name] = min(best.get(name, took), took)
    return best


def printed_query(set_name: str, *options: str) -> str:
    printed = cli("sql", set_name, *options)
    if printed.returncode:
        sys.exit(printed.stderr)
    return printed.stdout.strip().rstrip(";")


def consume(query: str, prefix: str, missing: bool) -> str:
    """Every one of the five conclusions (and, for a printed query, their missing lists) aggregated."""
    e, r, a, auto, pay = (f'"{prefix}{k}"' for k in FIVE)
    columns = [f"count(*) FILTER (WHERE {e})", f"sum({r})", f"sum({a})", f"count(*) FILTER (WHERE {auto})",
               f"count(*) FILTER (WHERE {pay})", f"sum({a}) FILTER (WHERE {pay})"]
    columns += [f'count("{prefix}{k}#missing")' for k in FIVE] if missing else []
    return f"SELECT {', '.join(columns)} FROM ({query})"


def best_consumed(con, queries: dict[str, str], rounds: int) -> dict[str, float]:
    """Best seconds of each aggregate; the answers must agree (the same counts and sums)."""
    best: dict[str, float] = {}
    answers: dict[str, tuple] = {}
    for _ in range(rounds):
        for name, sql in queries.items():
            t0 = time.perf_counter()
            answers[name] = con.execute(sql).fetchall()[0][:6]
            took = time.perf_counter() - t0
            best[name] = min(best.get(name, took), took)
    if len(set(answers.values())) != 1:
        sys.exit(f"MISMATCH between the consumed aggregates: {answers}")
    return best


def _children_cpu() -> float:
    """CPU seconds (user + system) of finished child processes: on a shared machine the wall time of
    a run also counts the other processes' turns."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime  # float-ok: seconds, not money


def cli(*args: str) -> subprocess.CompletedProcess:
    policy = str(Path(sys.executable).with_name("policy"))
    return subprocess.run([policy, *args], capture_output=True, text=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="fushun")
    ap.add_argument("-n", type=int, default=1_000_000)
    ap.add_argument("--python-n", type=int, default=20_000)
    ap.add_argument("--csv-n", type=int, default=500_000)
    ap.add_argument("--csv-python", action="store_true", help="also time policy batch --engine python end to end")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    engine = load(args.set)
    records = synthetic_units(args.n)
    rates: dict[str, float] = {}

    expected: list = []
    seconds = timed(lambda: expected.extend(run_hand(records)))
    rates["hand-written Decimal function"] = args.n / seconds

    cases = records[: args.python_n]
    decisions: list = []
    seconds = timed(lambda: decisions.extend(engine.evaluate_many(cases)))
    rates[f"python engine evaluate_many ({args.python_n:,})"] = args.python_n / seconds
    for d, e in zip(decisions, expected):
        got = tuple(d.clauses["stable_job_refund"].conclusions[k] for k in FIVE)
        assert got == e, (got, e)

    query = printed_query(args.set, "--clause", "stable_job_refund")
    five = printed_query(args.set, *(x for k in FIVE for x in ("--conclusion", f"stable_job_refund.{k}")))
    con = duckdb.connect()
    facts_table(con, engine, records)
    best = best_of(con, {"hand": HAND_SQL, "hand20": HAND_SQL_20, "printed": query, "five": five}, args.rounds)
    rates["hand-written DuckDB SQL"] = args.n / best["hand"]
    rates["hand-written SQL, the 20 output columns"] = args.n / best["hand20"]
    rates["policy sql, run by DuckDB"] = args.n / best["printed"]
    rates["policy sql, five conclusions"] = args.n / best["five"]
    consumed = best_consumed(con, {"hand": consume(HAND_SQL, "", False), "printed": consume(query, "stable_job_refund.", True),
                                   "five": consume(five, "stable_job_refund.", True)}, args.rounds)
    rates["consumed: hand-written DuckDB SQL"] = args.n / consumed["hand"]
    rates["consumed: policy sql (whole clause)"] = args.n / consumed["printed"]
    rates["consumed: policy sql, five conclusions"] = args.n / consumed["five"]
    names = ", ".join(f'"stable_job_refund.{k}"' for k in FIVE)
    for table, columns in (("printed", names), ("five", names), ("hand", ", ".join(FIVE)), ("hand20", names)):
        got = con.execute(f"SELECT {columns} FROM {table} ORDER BY _row").fetchall()
        bad = [i for i, (a, b) in enumerate(zip(got, expected)) if tuple(a) != b]
        if bad:
            sys.exit(f"MISMATCH ({table}) on {len(bad)} units; first #{bad[0]}: {got[bad[0]]} vs {expected[bad[0]]}")
    total = sum((e[2] for e in expected if e[4]), Decimal(0))

    base, sql_base = rates["hand-written Decimal function"], rates["hand-written DuckDB SQL"]
    sql20 = rates["hand-written SQL, the 20 output columns"]
    print(f"rule set {args.set}: {args.n:,} units; total payable refund {total:,} yuan; DuckDB (policy sql and "
          f"hand-written SQL) == hand-written function on every unit, python engine on {args.python_n:,}")
    print(f"{'evaluator':<44}{'units/s':>14}{'vs Decimal fn':>15}{'vs hand SQL':>13}{'vs 20-col SQL':>15}")
    for name, rate in rates.items():
        print(f"{name:<44}{rate:>14,.0f}{rate / base:>14.2f}x{rate / sql_base:>12.2f}x{rate / sql20:>14.2f}x")

    if args.csv_n:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "units.csv")
            write_units_csv(path, synthetic_units(args.csv_n, 7))
            runs = [("duckdb", ()), ("duckdb", ("--clause", "stable_job_refund"))]
            if args.csv_python:
                runs.append(("python", ()))
            for engine_name, extra in runs:
                out = os.path.join(tmp, f"out-{engine_name}{len(extra)}.jsonl")
                t0, cpu0 = time.perf_counter(), _children_cpu()
                done = cli("batch", args.set, path, "--engine", engine_name, "--out", out, *extra)
                took, cpu = time.perf_counter() - t0, _children_cpu() - cpu0
                size = os.path.getsize(out) / 1e6 if os.path.exists(out) else 0
                print(f"end to end: policy batch {args.set} ({args.csv_n:,}-row CSV) --engine {engine_name} "
                      f"{' '.join(extra)}: {took:.1f} s wall, {cpu:.1f} s CPU ({args.csv_n / took:,.0f} rows/s, "
                      f"{size:,.0f} MB JSONL), "
                      f"exit {done.returncode}")
                print("  " + "\n  ".join(done.stdout.splitlines()[:2]))


if __name__ == "__main__":
    main()
