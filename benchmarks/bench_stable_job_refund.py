"""Throughput of the public API against a hand-written function, in one run.

    python benchmarks/bench_stable_job_refund.py [--set fushun] [-n 20000] [--rounds 5] [--block 2000]

Every side gets the same synthetic units (fixed random start) as NESTED facts, the way a caller
passes them ({"unit": {"layoffs": 3, ...}, "region": {...}}), with Decimal money and
date objects. Timed in interleaved rounds, block by block: each block of a side's cases is
timed between two runs of the hand-written function on the same block of units, and its
ratio taken there (this machine's speed can change twofold from one second to the next,
which whole-run medians of separate sides would mix up). Reported: each side's median
cases/s and the median of its blocks' ratios:

  hand-written       the 稳岗返还 rules of 辽人社发〔2021〕7号 一（一） with 抚人社发〔2021〕20号 一's
                     rates, written by hand in Decimal: eligible, refund rate, amount, auto-pay
  evaluate           engine.evaluate(facts), one case at a time: validation, the whole rule set
                     (every clause the case is about), a Decision
  evaluate_many      list(engine.evaluate_many(cases))
  traced evaluate    engine.evaluate(facts, trace=True), one case at a time
  mixed evaluate_many  units, persons, graduates and households (a quarter each), facts drawn
                     from the vocabulary; its ratio is to the hand-written function on units
  JSON-shaped ...    the same units as a JSON file carries them: money and dates as text

The engine's conclusions are checked against the hand-written function record by record
before anything is timed, and evaluate, evaluate_many and traced evaluate against each
other on the mixed load. Load + check + compile is timed cold, in fresh interpreters, without
the load cache (policy_dsl.cache), on a miss (first load of the files) and on a hit.
It is a benchmark, not a test: nothing here asserts a speed.
"""
from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, localcontext
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from policy_dsl import load  # noqa: E402
from policy_dsl.factcheck import checker  # noqa: E402
from policy_dsl.values import CONTEXT  # noqa: E402
from policy_dsl.vocabulary import vocabulary  # noqa: E402

KINDS = {"enterprise", "social_organization", "foundation", "social_service_agency", "law_firm", "accounting_firm",
         "individual_economic_org"}
CENT = Decimal("0.01")
R20, R6, R30, R60 = Decimal("0.2"), Decimal("0.06"), Decimal("0.3"), Decimal("0.6")
APPLY_BY = date(2021, 12, 31)
TARGETS = {"evaluate": 0.3, "evaluate_many": 0.5, "traced evaluate": 0.1}


def synthetic_units(n: int, start: int = 20211231) -> list[dict]:
    """Units shaped like the province's: small firms dominate, half lay nobody off."""
    rng = random.Random(start)
    kinds = ["enterprise"] * 90 + ["social_organization", "foundation", "social_service_agency", "law_firm",
                                   "accounting_firm", "individual_economic_org", "other"] + ["enterprise"] * 3
    start = date(2021, 6, 30)  # applications under the notice, from its 印发之日 (an earlier one is not judged by it)
    out = []
    for _ in range(n):
        headcount = max(1, int(rng.lognormvariate(2.708, 1.2)))  # median about 15
        layoffs = 0 if rng.random() < 0.5 else min(headcount, round(headcount * rng.betavariate(1.2, 12)))
        size = "large" if rng.random() < 0.0025 else rng.choice(["medium", "small", "micro"])
        payroll = Decimal(str(round(rng.lognormvariate(13.5, 1.0), 2)))
        out.append({
            "region": {"ui_fund_reserve_months": Decimal(rng.choice([8, 11, 12, 13, 15, 18, 24]))},
            "unit": {
                "kind": rng.choice(kinds), "size": size, "ui_insured": rng.random() < 0.93,
                "insured_headcount": headcount, "layoffs": layoffs,
                "ui_contribution_last_year": (payroll * Decimal("0.005")).quantize(CENT),
                "insured_headcount_end_2020": max(1, headcount + rng.randint(-3, 3)),
                "application_date": start + timedelta(days=rng.randint(0, 365)),
            },
        })
    return out


def synthetic_mixed(n: int, start: int = 7) -> list[dict]:
    """A quarter each of units, persons, graduates and households; each fact given with
    probability 0.8, values drawn from the vocabulary's types and ranges."""
    rng = random.Random(start)
    rules = checker(vocabulary()).subjects
    units = synthetic_units(n // 4 + 1, start)
    out = []
    for i in range(n):
        subject = ("unit", "person", "graduate", "household")[i % 4]
        if subject == "unit":
            out.append(units[i // 4])
            continue
        case = {"as_of": date(2021, 9, 1) + timedelta(days=rng.randint(-200, 400)), subject: {}}
        region = {name: _value(rng, r) for name, r in rules["region"].items() if rng.random() < 0.5}
        if subject in ("person", "graduate") and region:
            case["region"] = region
        for name, rule in rules[subject].items():
            if rng.random() < 0.8:
                case[subject][name] = _value(rng, rule)
        out.append(case)
    return out


def _value(rng: random.Random, rule):
    k = rule.kind
    if k == "bool":
        return rng.random() < 0.5
    if k == "int":
        return rng.choice([0, 1, 2, 3, 6, 12, 15, 24, 30, 31, 45, 60, 100, 200, 201])
    if k == "decimal":
        return Decimal(rng.choice(["0", "3", "12", "13.5", "600.00", "732.50", "3000", "5200.00"]))
    if k == "date":
        return date(2016, 1, 1) + timedelta(days=rng.randint(0, 6000))
    if k == "enum":
        return rng.choice(rule.values)
    if k == "set":
        return rng.sample(list(rule.values), rng.randint(0, min(3, len(rule.values))))
    if k == "list":
        return [{name: rng.random() < 0.7 for name, _ in rule.fields} for _ in range(rng.randint(0, 4))]
    return "抚顺市"


def json_shaped(cases: list[dict]) -> list[dict]:
    """Money and dates as text, as in a JSON facts file."""
    def text(v):
        return str(v) if isinstance(v, Decimal) else v.isoformat() if isinstance(v, date) else v
    return [{s: {k: text(v) for k, v in facts.items()} for s, facts in case.items()} for case in cases]


def hand_written(case: dict) -> tuple:
    """辽人社发〔2021〕7号 一（一） with 抚人社发〔2021〕20号 一's exact rates, by hand, on nested facts."""
    u, region = case["unit"], case["region"]
    headcount, layoffs = u["insured_headcount"], u["layoffs"]
    rate = Decimal(layoffs) / headcount
    layoff_ok = layoffs == 0 or (rate <= R20 if headcount <= 30 else rate <= R6)
    eligible = u["ui_insured"] and u["kind"] in KINDS and region["ui_fund_reserve_months"] >= 12 and layoff_ok
    refund_rate = R30 if (u["kind"] == "enterprise" and u["size"] == "large") else R60
    amount = (u["ui_contribution_last_year"] * refund_rate).quantize(CENT, ROUND_HALF_UP) if eligible \
        else Decimal("0.00")
    auto_pay = eligible and u["insured_headcount_end_2020"] <= 200
    payable = eligible and (auto_pay or u["application_date"] <= APPLY_BY)  # a late applicant is not paid
    return eligible, refund_rate, amount, auto_pay, payable


def run_hand(cases: list[dict]) -> list[tuple]:
    with localcontext(CONTEXT):
        return [hand_written(c) for c in cases]


def engine_answers(decision) -> tuple:
    c = decision.clauses["stable_job_refund"].conclusions
    return c["eligible"], c["refund_rate"], c["amount"], c["auto_pay"], c["payable"]


def timed(fn) -> float:
    # The collector would otherwise scan the growing result lists many times, for every side alike.
    gc.collect()
    gc.disable()
    try:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0
    finally:
        gc.enable()


def cold_load(set_name: str, runs: int) -> dict[str, list[tuple[float, float]]]:
    """(import seconds, load+check+compile seconds) in fresh interpreters: without the load
    cache, filling it (the first load of these files), and hitting it."""
    code = ("import time; t0 = time.perf_counter(); import policy_dsl; t1 = time.perf_counter(); "
            f"policy_dsl.load({set_name!r}); t2 = time.perf_counter(); print(t1 - t0, t2 - t1)")

    def one(cache: str) -> tuple[float, float]:
        env = {**os.environ, "POLICY_DSL_CACHE": cache}
        text = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True,
                              env=env).stdout
        a, b = map(float, text.split())  # float-ok: seconds
        return a, b

    out: dict[str, list[tuple[float, float]]] = {"no cache": [], "cache miss": [], "cache hit": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):  # interleaved, like the rest
            out["no cache"].append(one("off"))
            out["cache miss"].append(one(str(Path(tmp) / f"fresh{i}")))
            out["cache hit"].append(one(str(Path(tmp) / "warm")))  # the first of these fills it
    out["cache hit"] = out["cache hit"][1:] or out["cache hit"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", default="fushun")
    ap.add_argument("-n", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--block", type=int, default=2_000, help="cases per timed block (default 2,000)")
    ap.add_argument("--cold-runs", type=int, default=5, help="fresh interpreters per cold-start kind (0: none)")
    args = ap.parse_args()

    engine = load(args.set)
    units, mixed = synthetic_units(args.n), synthetic_mixed(args.n)
    texts = json_shaped(units)

    expected = run_hand(units)
    got = [engine_answers(d) for d in engine.evaluate_many(units)]
    bad = [i for i, (a, b) in enumerate(zip(expected, got)) if a != b]
    if bad:
        i = bad[0]
        sys.exit(f"MISMATCH on {len(bad)} units; first #{i}: hand {expected[i]} engine {got[i]}\n{units[i]}")
    one = [engine.evaluate(c).to_json() for c in mixed[:2000]]
    many = [d.to_json() for d in engine.evaluate_many(mixed[:2000])]
    traced = [engine.evaluate(c, trace=True).to_json() for c in mixed[:2000]]
    if not one == many == traced:
        sys.exit("MISMATCH between evaluate, evaluate_many and traced evaluate on the mixed load")
    if [engine_answers(d) for d in engine.evaluate_many(texts)] != got:
        sys.exit("MISMATCH between Python-typed and JSON-shaped facts")
    eligible = sum(1 for e in expected if e[0])
    total = sum((e[2] for e in expected if e[4]), Decimal(0))  # a payout counts only what is payable

    evaluate = engine.evaluate
    sides = {
        "evaluate": lambda block: [evaluate(c) for c in block],
        "evaluate_many": lambda block: list(engine.evaluate_many(block)),
        "traced evaluate": lambda block: [evaluate(c, trace=True) for c in block],
        "mixed evaluate_many": lambda block: list(engine.evaluate_many(block)),
        "mixed evaluate": lambda block: [evaluate(c) for c in block],
        "JSON-shaped evaluate_many": lambda block: list(engine.evaluate_many(block)),
    }
    loads = {"mixed evaluate_many": mixed, "mixed evaluate": mixed, "JSON-shaped evaluate_many": texts}
    # This machine's speed changes by up to 2x from one moment to the next, so each block of a
    # side is timed between two runs of the hand-written function on the same units block, and
    # the ratio is taken there; a side's ratio is the median of its blocks' ratios.
    rates: dict[str, list[float]] = {name: [] for name in ("hand-written", *sides)}
    ratios: dict[str, list[float]] = {name: [] for name in sides}
    size = max(1, min(args.block, args.n))
    for _ in range(args.rounds):  # interleaved rounds: every side sees the same noise
        for name, fn in sides.items():
            cases = loads.get(name, units)
            for at in range(0, args.n, size):
                hand_block, block = units[at:at + size], cases[at:at + size]
                before = timed(lambda: run_hand(hand_block))
                took = timed(lambda: fn(block))
                after = timed(lambda: run_hand(hand_block))
                hand_rate = 2 * len(hand_block) / (before + after)
                rates["hand-written"].append(hand_rate)
                rates[name].append(len(block) / took)
                ratios[name].append(len(block) / took / hand_rate)

    print(f"rule set {args.set}: {args.n:,} units, {eligible:,} eligible, total payable refund {total:,} yuan; "
          f"engine == hand-written on every unit; evaluate == evaluate_many == traced on {len(one):,} mixed cases")
    print(f"{'':<26}{'cases/s (median)':>18}{'vs hand-written':>17}{'target':>9}   (blocks of {size:,} cases)")
    for name, values in rates.items():
        ratio = statistics.median(ratios[name]) if name in ratios else 1.0
        target = f"≥ {TARGETS[name]}×" if name in TARGETS else ""
        print(f"{name:<26}{statistics.median(values):>18,.0f}{ratio:>16.2f}×{target:>9}")
    if args.cold_runs < 1:
        return
    print("cold start, fresh interpreters (medians; target: load + check + compile ≤ 300 ms):")
    for name, runs in cold_load(args.set, args.cold_runs).items():
        imp = statistics.median(a for a, _ in runs)
        lcc = statistics.median(b for _, b in runs)
        print(f"  {name:<12} import policy_dsl {imp * 1000:6.0f} ms   policy_dsl.load({args.set!r}) {lcc * 1000:6.0f} ms")


if __name__ == "__main__":
    main()
