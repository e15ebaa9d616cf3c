"""`policy batch` end to end: a synthetic register of insured units as CSV → payout list.

    python benchmarks/bench_batch.py [-n 500000] [--corrupt-n 1000000] [--set fushun] [--dir DIR]

1. Writes n synthetic units (the distribution of bench_stable_job_refund.py: small firms
   dominate, half lay nobody off) to a CSV register, then runs the command a 统筹地区 runs,
       policy batch SET register.csv --out payout.csv --clause stable_job_refund --keep unit.name
   as a subprocess, and prints wall time, rows/s and the peak RSS of that process. In the same
   run, a hand-written pipeline (csv module → the 稳岗返还 rules by hand → csv writer) reads the
   same file, as the baseline; both payout totals must agree to the fen. Then the whole set as
   JSONL, `policy batch SET register.csv --out payout.jsonl`, timed the same way.
2. Writes a register of --corrupt-n rows of which 1 % are corrupt (a word for a number, a
   misspelt kind, an impossible date, a row cut short), runs the command, and checks that every
   row is accounted for: rows in = result rows + error rows, and the error rows are exactly the
   corrupted ones.

A benchmark, not a test: it asserts correctness, never a speed. The target for step 1 is < 30 s
for 500,000 units on a 2-core machine. Wall and CPU seconds are both printed: on a shared machine
the wall time mostly measures the other processes. Peak RSS is the largest child so far.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policy_dsl.values import CONTEXT  # noqa: E402

HEADER = ["unit.name", "unit.kind", "unit.size", "unit.ui_insured", "unit.insured_headcount", "unit.layoffs",
          "unit.ui_contribution_last_year", "unit.insured_headcount_end_2020", "unit.application_date",
          "region.ui_fund_reserve_months"]
KINDS = ["enterprise"] * 93 + ["social_organization", "foundation", "social_service_agency", "law_firm",
                               "accounting_firm", "individual_economic_org", "other"]
LISTED = set(KINDS) - {"other"}
CENT = Decimal("0.01")


def units(n: int, state: int = 20211231):
    """Rows of text cells, streamed: a register is written, never held."""
    rng = random.Random(state)
    start = date(2021, 7, 1)
    for i in range(n):
        headcount = max(1, int(rng.lognormvariate(2.708, 1.2)))  # median about 15
        layoffs = 0 if rng.random() < 0.5 else min(headcount, round(headcount * rng.betavariate(1.2, 12)))
        size = "large" if rng.random() < 0.0025 else rng.choice(["medium", "small", "micro"])
        payroll = Decimal(int(rng.lognormvariate(13.5, 1.0) * 100)) / 100
        applied = "" if rng.random() < 0.7 else (start + timedelta(days=rng.randint(0, 250))).isoformat()
        yield [f"单位{i + 1:07d}", rng.choice(KINDS), size, "是" if rng.random() < 0.93 else "否", str(headcount),
               str(layoffs), str((payroll * Decimal("0.005")).quantize(CENT)),
               str(max(1, headcount + rng.randint(-3, 3))), applied, rng.choice(["11", "12", "15", "18", "24"])]


CORRUPTIONS = [
    lambda r: r[:4] + ["三十"] + r[5:],                      # a word for a number
    lambda r: r[:1] + ["enterprize"] + r[2:],                # a misspelt kind
    lambda r: r[:8] + ["2021-02-30"] + r[9:],                # an impossible date
    lambda r: r[:6],                                         # a row cut short
]


def write_register(path: Path, n: int, corrupt_every: int = 0) -> set[int]:
    """The register; returns the row numbers that were corrupted."""
    bad: set[int] = set()
    rng = random.Random(7)
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER)
        for number, row in enumerate(units(n), start=1):
            if corrupt_every and rng.randrange(corrupt_every) == 0:
                row = CORRUPTIONS[number % len(CORRUPTIONS)](row)
                bad.add(number)
            out.writerow(row)
    return bad


def hand_written(path: Path, out_path: Path) -> Decimal:
    """The baseline: the same file through the 稳岗返还 rules written by hand (抚顺 rates)."""
    total = Decimal(0)
    deadline = date(2021, 12, 31)
    with localcontext(CONTEXT), path.open(encoding="utf-8", newline="") as f, \
            out_path.open("w", encoding="utf-8", newline="") as o:
        reader, writer = csv.reader(f), csv.writer(o)
        next(reader)
        writer.writerow(["row", "unit.name", "eligible", "amount", "auto_pay", "application_in_time"])
        for number, r in enumerate(reader, start=1):
            kind, size, insured = r[1], r[2], r[3] == "是"
            headcount, layoffs = int(r[4]), int(r[5])
            contribution, end_2020, reserve = Decimal(r[6]), int(r[7]), Decimal(r[9])
            rate = Decimal(layoffs) / headcount
            layoff_ok = layoffs == 0 or (rate <= Decimal("0.2") if headcount <= 30 else rate <= Decimal("0.06"))
            eligible = insured and kind in LISTED and reserve >= 12 and layoff_ok
            refund = Decimal("0.3") if (kind == "enterprise" and size == "large") else Decimal("0.6")
            amount = (contribution * refund).quantize(CENT, ROUND_HALF_UP) if eligible else Decimal("0.00")
            auto = eligible and end_2020 <= 200
            in_time = True if auto else (date.fromisoformat(r[8]) <= deadline if r[8] else None)
            if eligible and (auto or in_time is True):
                total += amount
            writer.writerow([number, r[0], eligible, amount, auto, "" if in_time is None else in_time])
    return total


def run_batch(args: list[str]) -> tuple[float, float, int, str, int]:
    """Wall seconds, CPU seconds and peak RSS (KiB) of the command, its summary, its exit code.
    CPU seconds matter on a shared machine, where wall time mostly measures the neighbours."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "policy_dsl", "batch", *args], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    seconds = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if proc.returncode not in (0, 1):
        sys.exit(f"policy batch failed ({proc.returncode}):\n{proc.stderr}")
    return seconds, cpu, after.ru_maxrss, proc.stdout, proc.returncode


def count_lines(path: Path) -> int:
    with path.open("rb") as f:
        return sum(1 for _ in f)


def paid_total(summary: str) -> Decimal:
    line = next(x for x in summary.splitlines() if x.strip().startswith("拨付合计："))
    return Decimal(line.split("：")[1].split(" 元")[0].replace(",", ""))


def step_one(args, rule_set: str, d: Path) -> None:
    """500,000 units end to end, against the hand-written pipeline on the same file."""
    register = d / "register.csv"
    t0 = time.perf_counter()
    write_register(register, args.n)
    print(f"register: {args.n:,} units, {register.stat().st_size / 1e6:.0f} MB, written in "
          f"{time.perf_counter() - t0:.1f} s")
    t0, c0 = time.perf_counter(), time.process_time()
    hand_total = hand_written(register, d / "hand.csv")
    hand_s, hand_cpu = time.perf_counter() - t0, time.process_time() - c0
    seconds, cpu, peak, summary, _ = run_batch([rule_set, str(register), "--out", str(d / "payout.csv"),
                                           "--clause", "stable_job_refund", "--keep", "unit.name"])
    rows_out = count_lines(d / "payout.csv") - 1
    assert rows_out == args.n, (rows_out, args.n)
    total = paid_total(summary)
    assert total == hand_total, f"payout differs: batch {total}, hand-written {hand_total}"
    print(f"{'pipeline':<34}{'wall s':>8}{'rows/s':>10}{'CPU s':>8}{'rows/CPU s':>12}{'vs hand (CPU)':>15}")
    print(f"{'hand-written (csv → rules → csv)':<34}{hand_s:>8.1f}{args.n / hand_s:>10,.0f}{hand_cpu:>8.1f}"
          f"{args.n / hand_cpu:>12,.0f}{1:>14.2f}x")
    print(f"{'policy batch (CLI, end to end)':<34}{seconds:>8.1f}{args.n / seconds:>10,.0f}{cpu:>8.1f}"
          f"{args.n / cpu:>12,.0f}{hand_cpu / cpu:>14.2f}x")
    print(f"policy batch peak RSS {peak / 1024:.0f} MiB; target < 30 s: {'met' if seconds < 30 else 'NOT met'}; "
          f"payout {total:,} yuan, equal to the hand-written total")
    # the whole set as JSONL (every clause of every row, what `policy eval --format json` prints): the
    # rendering of ~25 clauses per row, not the rules, is most of this run
    seconds, cpu, _, summary, _ = run_batch([rule_set, str(register), "--out", str(d / "payout.jsonl")])
    assert count_lines(d / "payout.jsonl") == args.n and paid_total(summary) == hand_total
    print(f"{'policy batch, whole set → JSONL':<34}{seconds:>8.1f}{args.n / seconds:>10,.0f}{cpu:>8.1f}"
          f"{args.n / cpu:>12,.0f}{hand_cpu / cpu:>14.2f}x  ({(d / 'payout.jsonl').stat().st_size / 1e6:,.0f} MB)")
    for name in ("register.csv", "hand.csv", "payout.csv", "payout.jsonl"):
        (d / name).unlink()


def step_two(args, rule_set: str, d: Path) -> None:
    """1,000,000 rows, 1 % corrupt: every row accounted for, the error rows exactly the corrupted ones."""
    register = d / "corrupt.csv"
    bad = write_register(register, args.corrupt_n, corrupt_every=100)
    seconds, cpu, peak, _, code = run_batch([rule_set, str(register), "--out", str(d / "c.jsonl"),
                                        "--clause", "stable_job_refund"])
    rows_out = count_lines(d / "c.jsonl")
    with (d / "c.jsonl.errors.jsonl").open(encoding="utf-8") as f:
        error_rows = {json.loads(line)["row"] for line in f}
    assert code == 1 and rows_out + len(error_rows) == args.corrupt_n, (rows_out, len(error_rows))
    assert error_rows == bad, f"{len(error_rows ^ bad)} rows differ between corrupted and reported"
    print(f"corrupt register: {args.corrupt_n:,} rows, {len(bad):,} corrupted; {rows_out:,} results + "
          f"{len(error_rows):,} error rows = {rows_out + len(error_rows):,}, the error rows exactly the "
          f"corrupted ones; {seconds:.1f} s wall, {cpu:.1f} s CPU, {args.corrupt_n / seconds:,.0f} rows/s, "
          f"peak RSS {peak / 1024:.0f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="fushun")
    ap.add_argument("-n", type=int, default=500_000, help="units of the end-to-end run (0: skip)")
    ap.add_argument("--corrupt-n", type=int, default=1_000_000, help="rows of the 1 %% corrupt register (0: skip)")
    ap.add_argument("--dir", help="where to write the registers (default: a temporary directory)")
    args = ap.parse_args()
    rule_set = str(ROOT / "policies" / args.set) if (ROOT / "policies" / args.set).is_dir() else args.set

    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        d = Path(tmp)
        if args.n:
            step_one(args, rule_set, d)
        if args.corrupt_n:
            step_two(args, rule_set, d)


if __name__ == "__main__":
    main()
