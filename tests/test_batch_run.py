"""policy batch, the run itself: outputs appear only when the whole register is done (a killed run
leaves no result file), the batch JSON renderer is `Decision.to_json()` exactly on every kind of
case both rule sets give, and a row the engine cannot evaluate is isolated, not fatal."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from policy_dsl import CaseError, PolicyEvaluationError, load
from policy_dsl.batch.command import Failed, _evaluated
from policy_dsl.batch.readers import Row
from policy_dsl.batch.render import JsonRows
from policy_dsl.generate import generate_cases

ROOT = Path(__file__).resolve().parent.parent
UNIT = "enterprise,medium,是,{n},0,{n}00.00,{n},15"
HEADER = ("unit.kind,unit.size,unit.ui_insured,unit.insured_headcount,unit.layoffs,unit.ui_contribution_last_year,"
          "unit.insured_headcount_end_2020,region.ui_fund_reserve_months")


def _big_register(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as f:
        f.write(HEADER + "\n")
        for n in range(1, rows + 1):
            f.write(UNIT.format(n=n % 500 + 1) + "\n")


def _partial(directory: Path) -> list[Path]:
    return sorted(directory.glob(".o.jsonl.*.partial"))


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_a_run_killed_midway_leaves_no_result_file(tmp_path, sig):
    register = tmp_path / "r.csv"
    _big_register(register, 100_000)  # long enough to be caught midway; the kill comes at the first output bytes
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "policy_dsl", "batch", str(ROOT / "policies" / "fushun"),
                             str(register), "--out", str(tmp_path / "o.jsonl")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not any(p.stat().st_size > 0 for p in _partial(tmp_path)):
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    assert proc.poll() is None, "the run finished before it could be interrupted: use a longer register"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=120)
    assert not (tmp_path / "o.jsonl").exists() and not (tmp_path / "o.jsonl.errors.jsonl").exists()
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL  # nothing can clean up after SIGKILL: only a hidden .partial
    else:
        assert proc.returncode == 130 and "没有写出任何结果文件" in err.decode()
        assert _partial(tmp_path) == [] and not list(tmp_path.glob(".o.jsonl.errors.jsonl.*"))


@pytest.mark.parametrize("base,variant", [("liaoning", "fushun"), ("liaoning", "liaoning-2022")])
def test_batch_json_is_to_json_exactly(base, variant):
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    engines = [load(base), load(variant)]
    cases, _ = generate_cases(*engines)
    assert len(cases) > 50
    named: set = set()  # the editions clauses name: an edition's cases include older and not-judged ones
    # the edition's cases carry facts it declares (unit.acceptance_date), which its predecessor does not know
    for engine in engines[1:] if variant == "liaoning-2022" else engines:
        renderer = JsonRows(engine, tuple(engine.rule_set.clauses))
        for _, case in cases:
            decision = engine.evaluate(case)
            assert renderer.render(decision) == decision.to_json()
            assert renderer.render(decision) == decision.to_json()  # cached undetermined values render the same
            line = renderer.line(7, decision, {"explain": {"c": "理由"}})
            assert line == encode({"row": 7, "schema": "policy-dsl/evaluation", "version": 1, **decision.to_json(),
                                   "explain": {"c": "理由"}})
            named |= {(c["edition"] or {}).get("set") for c in decision.to_json()["clauses"].values() if "edition" in c}
    if variant == "liaoning-2022":
        assert named == {"liaoning", None}  # judged by the older edition, or not judged (null)


class _FlakyEngine:
    """Evaluates like the real engine but fails on a case whose unit is named "坏", reading ahead a
    few cases before it yields, as a vectorised engine may."""

    def __init__(self) -> None:
        self.engine = load("fushun")

    def evaluate_many(self, cases, *, as_of=None, trace=False):
        pending = []
        for case in cases:
            if case.get("unit", {}).get("name") == "坏":
                raise PolicyEvaluationError("日期超出日历范围")
            pending.append(case)
            if len(pending) == 3:
                yield from self.engine.evaluate_many(pending)
                pending = []
        yield from self.engine.evaluate_many(pending)


def test_a_row_that_fails_evaluation_is_isolated():
    names = ["a", "b", "坏", "c", "d", "e", None, "f"]
    rows = [Row(i, {"unit": {"name": n, "kind": "enterprise"}} if n else None, [] if n else [("", "", "x")])
            for i, n in enumerate(names, 1)]
    results = list(_evaluated(_FlakyEngine(), iter(rows), None, False))
    assert [r.number for r, _ in results] == list(range(1, 9))
    kinds = [type(x).__name__ for _, x in results]
    assert kinds == ["Decision", "Decision", "Failed", "Decision", "Decision", "Decision", "NoneType", "Decision"]
    assert "日期超出日历范围" in results[2][1].problems[0][1]
    assert [d.facts.get("unit.name") for _, d in results if d is not None and not isinstance(d, (Failed, CaseError))] \
        == ["a", "b", "c", "d", "e", "f"]


def test_payable_without_the_rule_sets_own_conclusion_is_kleene():
    """eligible and (auto_pay or application_in_time) in three values (None: undetermined), as the
    summary computes it for a rule set that has no `payable` conclusion of its own."""
    from itertools import product

    from policy_dsl.batch.summary import _kleene_payable

    def k_and(a, b):
        return False if False in (a, b) else True if (a, b) == (True, True) else None

    def k_or(a, b):
        return True if True in (a, b) else False if (a, b) == (False, False) else None

    for e, a, t in product((True, False, None), repeat=3):
        assert _kleene_payable(e, a, t) == k_and(e, k_or(a, t)), (e, a, t)
