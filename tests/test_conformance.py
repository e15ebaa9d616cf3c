"""The language's conformance corpus: tests/conformance/*.yaml, one parametrized test.

Set CONFORMANCE=<file stem> to run one file.
"""
from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from policy_dsl import PolicyError, Unknown, compile_expression

HERE = Path(__file__).parent / "conformance"


def _cases():
    only = os.environ.get("CONFORMANCE")
    for path in sorted(HERE.glob("*.yaml")):
        if only and path.stem != only:
            continue
        for i, case in enumerate(yaml.safe_load(path.read_text(encoding="utf-8")) or []):
            yield pytest.param(case, id=f"{path.stem}::{i}:{case.get('name', case['expr'])[:60]}")


def _same(actual: object, expected: object) -> bool:
    if isinstance(expected, bool) or isinstance(actual, bool):
        return actual is expected
    if isinstance(expected, list):
        if isinstance(actual, frozenset):
            return sorted(map(str, actual)) == sorted(map(str, expected))
        return isinstance(actual, (tuple, list)) and len(actual) == len(expected) and all(
            _same(a, e) for a, e in zip(actual, expected))
    if isinstance(actual, Decimal):
        return not isinstance(expected, bool) and actual == Decimal(str(expected))
    if isinstance(actual, int) and isinstance(expected, int):
        return actual == expected
    if isinstance(actual, date):
        return actual == expected
    return actual == expected and type(actual) is type(expected)


@pytest.mark.parametrize("case", list(_cases()))
def test_conformance(case: dict) -> None:
    expr = str(case["expr"])
    try:
        compiled = compile_expression(expr, case.get("definitions"))
        if "type" in case:
            assert str(compiled.type).split(" ")[0] == case["type"], f"static type {compiled.type}"
        value = compiled.evaluate(case.get("facts") or {}, as_conclusion=case.get("as_conclusion"))
    except PolicyError as exc:
        assert "error" in case, f"unexpected {exc.kind} error:\n{exc.render()}"
        assert exc.kind == case["error"], f"expected a {case['error']} error, got {exc.kind}:\n{exc.render()}"
        return
    assert "error" not in case, f"expected a {case['error']} error, got value {value!r}"
    if "unknown" in case:
        assert isinstance(value, Unknown), f"expected unknown, got {value!r}"
        assert sorted(value.missing) == sorted(case["unknown"]), f"missing {sorted(value.missing)}"
    else:
        assert not isinstance(value, Unknown), f"expected {case['result']!r}, got {value!r}"
        assert _same(value, case["result"]), f"expected {case['result']!r}, got {value!r}"
