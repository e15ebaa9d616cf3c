"""Throughput of the compiled 稳岗返还 rules against a hand-written function.

    python benchmarks/bench_stable_job_refund.py [--set fushun] [-n 100000] [--rounds 3]

Both sides get the same 100,000 synthetic units (fixed random start) (as the flat fact
mappings the engine evaluates) and do the same Decimal arithmetic; the script
checks that they agree record by record, then prints records/s for the
hand-written function, the compiled rules with tracing off and on, and the
ratios. It is a benchmark, not a test: nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from policy_dsl import load  # noqa: E402
from policy_dsl.values import CONTEXT  # noqa: E402

TARGETS = ["stable_job_refund.eligible", "stable_job_refund.refund_rate", "stable_job_refund.amount",
           "stable_job_refund.auto_pay", "stable_job_refund.payable"]
APPLY_BY = date(2021, 12, 31)
KINDS = {"enterprise", "social_organization", "foundation", "social_service_agency", "law_firm", "accounting_firm",
         "individual_economic_org"}
CENT = Decimal("0.01")
R20, R6, R30, R60 = Decimal("0.2"), Decimal("0.06"), Decimal("0.3"), Decimal("0.6")


def synthetic(n: int, random_start: int = 20211231) -> list[dict]:
    """Units shaped like real case loads: small firms dominate, half lay nobody off."""
    rng = random.Random(random_start)
    kinds = ["enterprise"] * 90 + ["social_organization", "foundation", "social_service_agency", "law_firm",
                                   "accounting_firm", "individual_economic_org", "other"] + ["enterprise"] * 3
    start = date(2021, 3, 1)
    out = []
    for _ in range(n):
        headcount = max(1, int(rng.lognormvariate(2.708, 1.2)))  # median about 15
        layoffs = 0 if rng.random() < 0.5 else min(headcount, round(headcount * rng.betavariate(1.2, 12)))
        size = "large" if rng.random() < 0.0025 else rng.choice(["medium", "small", "micro"])
        payroll = Decimal(str(round(rng.lognormvariate(13.5, 1.0), 2)))
        out.append({
            "region.ui_fund_reserve_months": Decimal(rng.choice([8, 11, 12, 13, 15, 18, 24])),
            "unit.kind": rng.choice(kinds),
            "unit.size": size,
            "unit.ui_insured": rng.random() < 0.93,
            "unit.insured_headcount": headcount,
            "unit.layoffs": layoffs,
            "unit.ui_contribution_last_year": (payroll * Decimal("0.005")).quantize(CENT),
            "unit.insured_headcount_end_2020": max(1, headcount + rng.randint(-3, 3)),
            "unit.application_date": start + timedelta(days=rng.randint(0, 365)),
            "$subjects": frozenset({"unit", "region"}),
        })
    return out


def hand_written(r: dict) -> tuple:
    """辽人社发〔2021〕7号 一（一） with 抚人社发〔2021〕20号 一's exact rates, by hand."""
    headcount, layoffs = r["unit.insured_headcount"], r["unit.layoffs"]
    rate = Decimal(layoffs) / headcount
    layoff_ok = layoffs == 0 or (rate <= R20 if headcount <= 30 else rate <= R6)
    eligible = (r["unit.ui_insured"] and r["unit.kind"] in KINDS and r["region.ui_fund_reserve_months"] >= 12
                and layoff_ok)
    refund_rate = R30 if (r["unit.kind"] == "enterprise" and r["unit.size"] == "large") else R60
    amount = (r["unit.ui_contribution_last_year"] * refund_rate).quantize(CENT, ROUND_HALF_UP) if eligible \
        else Decimal("0.00")
    auto_pay = eligible and r["unit.insured_headcount_end_2020"] <= 200
    payable = eligible and (auto_pay or r["unit.application_date"] <= APPLY_BY)
    return eligible, refund_rate, amount, auto_pay, payable


def run_hand(records: list[dict]) -> list[tuple]:
    from decimal import localcontext

    with localcontext(CONTEXT):
        return [hand_written(r) for r in records]


def run_engine(engine, records: list[dict], trace: bool) -> list[list]:
    """Every slot of every record; with trace, one node-value record per unit as explain keeps."""
    if trace:
        run = engine.program.run
        return [run(r, {}) for r in records]
    return engine.program.run_many(records)


def targets_of(engine, rows: list[list]) -> list[tuple]:
    idx = [engine.program.keys.index(k) for k in TARGETS]
    return [tuple(values[i] for i in idx) for values in rows]


def timed(fn, *args) -> tuple[float, object]:
    # The collector would otherwise scan the growing result lists many times, for both sides alike.
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        result = fn(*args)
        return time.perf_counter() - t0, result
    finally:
        gc.enable()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="fushun")
    ap.add_argument("-n", type=int, default=100_000)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()

    t0 = time.perf_counter()
    engine = load(args.set, targets=TARGETS)
    load_s = time.perf_counter() - t0
    records = synthetic(args.n)

    expected = run_hand(records)
    got = targets_of(engine, run_engine(engine, records, trace=False))
    assert targets_of(engine, run_engine(engine, records[:2000], trace=True)) == expected[:2000]
    bad = [i for i, (a, b) in enumerate(zip(expected, got)) if a != b]
    if bad:
        i = bad[0]
        sys.exit(f"MISMATCH on {len(bad)} records; first #{i}: hand {expected[i]} engine {got[i]}\n{records[i]}")
    eligible = sum(1 for e in expected if e[0])
    total = sum((e[2] for e in expected if e[4]), Decimal(0))  # a payout counts only what is payable

    rates: dict[str, list[float]] = {"hand-written": [], "compiled, trace off": [], "compiled, trace on": []}
    for _ in range(args.rounds):  # interleaved rounds: this VM is noisy
        for name, fn in (("hand-written", lambda: run_hand(records)),
                         ("compiled, trace off", lambda: run_engine(engine, records, False)),
                         ("compiled, trace on", lambda: run_engine(engine, records, True))):
            seconds, _ = timed(fn)
            rates[name].append(args.n / seconds)

    base = statistics.median(rates["hand-written"])
    print(f"rule set {args.set}: load+check+compile {load_s * 1000:.0f} ms; {args.n:,} units, "
          f"{eligible:,} eligible, total payable refund {total:,} yuan; engine == hand-written on every record")
    print(f"{'evaluator':<22}{'records/s (median)':>20}{'vs hand-written':>18}")
    for name, values in rates.items():
        med = statistics.median(values)
        print(f"{name:<22}{med:>20,.0f}{med / base:>17.2f}x")


if __name__ == "__main__":
    main()
