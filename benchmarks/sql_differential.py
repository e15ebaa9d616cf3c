"""The Python engine against the DuckDB backend on many generated rows, cell for cell.

    python benchmarks/sql_differential.py [--set liaoning --set fushun] [-n 100000]

Rows cluster at the rules' thresholds with ~15 % of the facts unknown, a few bad cells
and zero divisors (policy_dsl/sql/cases.py). Each row's result must be identical: every
conclusion to the fen, every undetermined cell with the same missing list and reason,
every error row with the same problems. Prints the counts and the first differences.
"""
from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policy_dsl.engine import CaseError, load  # noqa: E402
from policy_dsl.errors import FactsError, PolicyError  # noqa: E402
from policy_dsl.sql.cases import write_csv  # noqa: E402
from policy_dsl.sql.duckdb_run import RowResult, compile_sql, row_facts, run_duckdb  # noqa: E402


def python_rows(engine, path: str):
    with open(path, newline="", encoding="utf-8") as f:
        for i, cells in enumerate(csv.DictReader(f)):
            try:
                yield RowResult(i, engine.evaluate(row_facts(cells, engine)))
            except FactsError as exc:
                yield CaseError(i, tuple(exc.problems))
            except PolicyError as exc:
                yield CaseError(i, (("", exc.render()),))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", action="append", dest="sets")
    ap.add_argument("-n", type=int, default=100_000)
    args = ap.parse_args()
    failed = False
    for name in args.sets or ["liaoning", "fushun"]:
        engine = load(name)
        with tempfile.TemporaryDirectory() as tmp:
            path = str(write_csv(engine, Path(tmp) / "cases.csv", args.n, start=2021))
            t0 = time.perf_counter()
            got = list(run_duckdb(compile_sql(engine), path))
            duck_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            differ, undetermined, errors, rows = [], 0, 0, 0
            for a, b in zip(got, python_rows(engine, path)):
                rows += 1
                if a != b:
                    differ.append((a, b))
                elif isinstance(a, CaseError):
                    errors += 1
                else:
                    undetermined += sum(isinstance(v, dict) for c in a.result["clauses"].values()
                                        for v in c["conclusions"].values())
            py_s = time.perf_counter() - t0
        failed |= bool(differ) or rows != len(got) or rows != args.n
        print(f"{name}: {rows:,} rows ({errors:,} error rows, {undetermined:,} undetermined cells); "
              f"DuckDB {duck_s:.0f} s, Python engine {py_s:.0f} s; rows that differ: {len(differ)}")
        for a, b in differ[:3]:
            print(f"  duckdb {a}\n  python {b}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
