"""Every clause of a rule set on Apache Spark (local mode) against DuckDB, row by row.

    python benchmarks/spark_vs_duckdb.py [--set liaoning --set fushun] [-n 10000]

Generated rows (the rules' thresholds, ~15 % unknown facts) are typed by the runner's
view and written as Parquet; the query `policy sql SET` prints is rendered for DuckDB and
for Spark and both results are compared value by value, missing lists included. Prints
the row count, the mismatches (expected: none) and the time each engine took.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import duckdb  # noqa: E402

from policy_dsl.engine import load  # noqa: E402
from policy_dsl.sql.cases import write_csv  # noqa: E402
from policy_dsl.sql.dialects import render  # noqa: E402
from policy_dsl.sql.duckdb_run import load_file, compile_sql  # noqa: E402
from policy_dsl.sql.plan import build_plan  # noqa: E402
from policy_dsl.sql.spark import spark_session  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", action="append", dest="sets")
    ap.add_argument("-n", type=int, default=10_000)
    args = ap.parse_args()
    t0 = time.perf_counter()
    spark = spark_session("policy-sql-bench")
    print(f"spark session: {time.perf_counter() - t0:.1f} s")
    failed = False
    for name in args.sets or ["liaoning", "fushun"]:
        engine = load(name)
        with tempfile.TemporaryDirectory() as tmp:
            csv_path = write_csv(engine, Path(tmp) / "cases.csv", args.n, start=5, junk=0)
            con = duckdb.connect()
            load_file(con, str(csv_path), compile_sql(engine), None)
            register = str(Path(tmp) / "register.parquet")
            con.execute(f"COPY (SELECT * EXCLUDE (_invalid) FROM facts) TO '{register}' (FORMAT parquet)")
            plan = build_plan(engine.rule_set, engine.analysis, {p: s.type for p, s in engine.vocab.facts.items()})
            con = duckdb.connect()
            con.execute(f"CREATE VIEW facts AS SELECT * FROM read_parquet('{register}')")
            t0 = time.perf_counter()
            duck = con.execute(render(plan.query, "duckdb", pretty=False) + " ORDER BY _row").fetchall()
            duck_s = time.perf_counter() - t0
            columns = [d[0] for d in con.description]
            t0 = time.perf_counter()
            spark.read.parquet(register).createOrReplaceTempView("facts")
            rows = [tuple(r) for r in spark.sql(render(plan.query, "spark", pretty=False) + " ORDER BY _row").collect()]
            spark_s = time.perf_counter() - t0
        bad = [(a[0], [(c, x, y) for c, x, y in zip(columns, a, b) if x != y]) for a, b in zip(duck, rows) if a != b]
        failed |= bool(bad) or len(duck) != len(rows)
        print(f"{name}: {len(plan.outputs)} conclusions in SQL, {len(duck):,} rows; DuckDB {duck_s:.1f} s, "
              f"Spark {spark_s:.1f} s; rows that differ: {len(bad)}")
        for row, cells in bad[:5]:
            print(f"  row {row}: {cells[:3]}")
    spark.stop()
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
