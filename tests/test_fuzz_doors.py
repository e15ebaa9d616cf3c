"""Every door holds against generated and mutated input (benchmarks/fuzz_doors.py at a
representative size; docs/security.md gives the counts of a full 10,000-per-door run)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location("fuzz_doors", Path(__file__).parent.parent / "benchmarks" / "fuzz_doors.py")
fuzz = importlib.util.module_from_spec(_SPEC)  # type: ignore[arg-type]
_SPEC.loader.exec_module(fuzz)  # type: ignore[union-attr]


@pytest.mark.parametrize("door", ["facts", "api", "rules", "tests", "diff"])
def test_no_internal_error_at_the_door(door: str) -> None:
    result = fuzz.main(["--per-door", "120", "--door", door, "--rng-state", "3", "--quiet"])[door]
    assert result.inputs == 120
    assert result.internal == 0, "\n".join(result.examples)
    # the generator reaches both outcomes, so the door was really exercised
    assert result.held > 0 and result.policy_errors > 0, (result.held, result.policy_errors)
