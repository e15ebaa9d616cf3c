"""The Spark dialect on Apache Spark (pyspark, local mode) against DuckDB, row by row.

One generated Parquet register of 10,000 rows, the same canonical query rendered
for each engine: every value and every missing list must be equal. The set is
liaoning (its delegated rates leave amounts undetermined with their parameter
named, while max_amount is exact DECIMAL money); the clauses are 稳岗返还 (money,
a quotient, an exception by priority) and 零就业家庭 (lambdas over household
members). Spark's start and planning take the time (about 2.5 minutes on a busy
2-core machine), not the rows; benchmarks/spark_vs_duckdb.py runs every clause
of both sets.
"""
from __future__ import annotations

import duckdb
import pytest

from policy_dsl.engine import load
from policy_dsl.sql.cases import write_csv
from policy_dsl.sql.dialects import render
from policy_dsl.sql.duckdb_run import load_file, compile_sql
from policy_dsl.sql.plan import build_plan
from policy_dsl.sql.spark import spark_session

ROWS = 10_000
CLAUSES = ("stable_job_refund", "zero_employment_family")


@pytest.fixture(scope="module")
def spark():
    session = spark_session("policy-sql-test")
    yield session
    session.stop()


def parquet_register(engine, tmp_path, rows: int) -> str:
    """Generated rows, typed by the same view the runner uses, written as Parquet."""
    csv_path = write_csv(engine, tmp_path / "cases.csv", rows, start=5, junk=0)
    con = duckdb.connect()
    load_file(con, str(csv_path), compile_sql(engine), None)
    out = str(tmp_path / "register.parquet")
    con.execute(f"COPY (SELECT * EXCLUDE (_invalid) FROM facts) TO '{out}' (FORMAT parquet)")
    return out


def test_spark_equals_duckdb_row_by_row(spark, tmp_path):
    engine = load("liaoning")
    register = parquet_register(engine, tmp_path, ROWS)
    facts = {p: s.type for p, s in engine.vocab.facts.items()}
    keys = [f"{c}.{n}" for c in CLAUSES for n in engine.rule_set.clauses[c].conclusions]
    plan = build_plan(engine.rule_set, engine.analysis, facts, keys)

    con = duckdb.connect()
    con.execute(f"CREATE VIEW facts AS SELECT * FROM read_parquet('{register}')")
    duck = con.execute(render(plan.query, "duckdb", pretty=False) + " ORDER BY _row").fetchall()
    columns = [d[0] for d in con.description]

    spark.read.parquet(register).createOrReplaceTempView("facts")
    rows = [tuple(r) for r in spark.sql(render(plan.query, "spark", pretty=False) + " ORDER BY _row").collect()]

    assert len(duck) == len(rows) == ROWS
    differing = [(a[0], [(c, x, y) for c, x, y in zip(columns, a, b) if x != y]) for a, b in zip(duck, rows) if a != b]
    assert differing == []
    amounts = columns.index("stable_job_refund.max_amount")
    assert sum(1 for r in duck if r[amounts] is not None and r[amounts] > 0) > 50  # money was computed, not only NULLs
