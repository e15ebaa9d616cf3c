"""The load cache: a hit gives the same engine without parsing, any change of the files is a
miss, a corrupted entry is ignored and rewritten, concurrent writers leave one whole entry."""
from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

import policy_dsl
from policy_dsl import cache, engine as engine_module
from policy_dsl.explain import explain_json
from policy_dsl.loader import load_rule_set

ROOT = Path(__file__).resolve().parent.parent
CASES = [
    {"as_of": "2021-09-01", "region": {"ui_fund_reserve_months": 15},
     "unit": {"kind": "enterprise", "size": "large", "ui_insured": True, "insured_headcount": 100, "layoffs": 4,
              "ui_contribution_last_year": "50000.00", "insured_headcount_end_2020": 120}},
    {"person": {"identities": ["veteran"], "employed": False}, "as_of": "2022-01-01"},
    {"household": {"urban": True, "members": [{"working_age": True, "employed": False}]}},
]


@pytest.fixture
def rules(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("POLICY_DSL_CACHE", str(tmp_path / "cache"))
    shutil.copytree(ROOT / "policies" / "liaoning", tmp_path / "sets" / "liaoning")
    shutil.copytree(ROOT / "policies" / "fushun", tmp_path / "sets" / "fushun")
    return tmp_path / "sets" / "fushun"


def _answers(engine) -> list:
    return [(engine.evaluate(c).to_json(), explain_json(engine.evaluate(c, trace=True))) for c in CASES]


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls = [0]

    def counting(where):
        calls[0] += 1
        return load_rule_set(where)

    monkeypatch.setattr(engine_module, "load_rule_set", counting)
    return calls


def test_a_hit_gives_the_same_engine_without_parsing(rules: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parses = _count_parses(monkeypatch)
    first = policy_dsl.load(rules)
    assert parses == [1] and len(list((rules.parent.parent / "cache").glob("*.pickle"))) == 1
    second = policy_dsl.load(rules)
    assert parses == [1]
    assert _answers(second) == _answers(first)
    assert second.rule_set.content_hash == first.rule_set.content_hash


def test_any_change_to_the_set_or_its_base_is_a_miss(rules: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parses = _count_parses(monkeypatch)
    policy_dsl.load(rules)
    base_clause = rules.parent / "liaoning" / "clauses" / "stable_job_refund.yaml"
    base_clause.write_text(base_clause.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    policy_dsl.load(rules)
    assert parses == [2]
    policy_dsl.load(rules)
    assert parses == [2]


def test_a_corrupted_entry_is_ignored_and_rewritten(rules: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parses = _count_parses(monkeypatch)
    expected = _answers(policy_dsl.load(rules))
    [entry] = (rules.parent.parent / "cache").glob("*.pickle")
    blob = bytearray(entry.read_bytes())
    blob[len(blob) // 2] ^= 0xFF
    entry.write_bytes(bytes(blob))
    assert _answers(policy_dsl.load(rules)) == expected
    assert parses == [2]
    entry.write_bytes(entry.read_bytes()[:100])  # truncated
    assert _answers(policy_dsl.load(rules)) == expected
    assert parses == [3]
    policy_dsl.load(rules)
    assert parses == [3]  # the rewritten entry is whole again


def test_concurrent_writers_leave_one_whole_entry(rules: Path) -> None:
    rule_set = load_rule_set(rules)
    analysis = policy_dsl.load(rules).analysis
    threads = [threading.Thread(target=cache.store, args=(rules, rule_set, analysis)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    files = list((rules.parent.parent / "cache").iterdir())
    assert [f.suffix for f in files] == [".pickle"]  # no temporary files left behind
    assert cache.lookup(rules) is not None


def test_the_cache_can_be_switched_off(rules: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICY_DSL_CACHE", "off")
    parses = _count_parses(monkeypatch)
    policy_dsl.load(rules)
    policy_dsl.load(rules)
    assert parses == [2]
    assert not (rules.parent.parent / "cache").exists()


def test_a_hit_in_a_fresh_interpreter_imports_neither_the_parser_nor_the_schema_validator(rules: Path) -> None:
    # Lark and jsonschema are most of `import policy_dsl`'s time; a process that loads a cached set
    # and evaluates must not pay for them (they are imported on first parse / file validation).
    import os
    import subprocess
    import sys

    code = ("import sys, policy_dsl; e = policy_dsl.load(sys.argv[1]); "
            "d = e.evaluate({'region': {'ui_fund_reserve_months': 15}, 'unit': {'kind': 'enterprise', 'size': 'small', 'layoffs': 0}}); "
            "print(d.clauses['stable_job_refund'].conclusions['refund_rate'], "
            "sorted(m for m in ('lark', 'jsonschema') if m in sys.modules))")
    env = {**os.environ, "POLICY_DSL_CACHE": os.environ["POLICY_DSL_CACHE"]}
    runs = [subprocess.run([sys.executable, "-c", code, str(rules)], capture_output=True, text=True, env=env, check=True,
                           cwd=ROOT).stdout.split(maxsplit=1) for _ in range(2)]
    assert runs[0] == ["0.60", "['jsonschema', 'lark']\n"]  # the miss parses and validates the files
    assert runs[1] == ["0.60", "[]\n"]  # 一（一）: 0.60 for a unit that is not a large enterprise
