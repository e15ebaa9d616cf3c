"""The embedding API against hostile callers (issue 14, items 6 and 7): results never depend on
the caller's decimal context, and the documented limits are the enforced ones."""
from __future__ import annotations

import decimal
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from policy_dsl import PolicyError, compile_expression, load
from policy_dsl import shape, values, yamlio
from policy_dsl.explain import explain_json, render_tree
from policy_dsl.facts import MAX_FACTS_BYTES, read_facts

ROOT = Path(__file__).parent.parent
HOSTILE = decimal.Context(prec=3, rounding=decimal.ROUND_DOWN, Emax=6, Emin=-6,
                          traps=[decimal.Inexact, decimal.Rounded, decimal.InvalidOperation, decimal.Overflow,
                                 decimal.Underflow, decimal.Clamped, decimal.Subnormal])


def _outputs() -> list[str]:
    engine = load(ROOT / "policies" / "fushun")
    out = []
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        decision = engine.evaluate(read_facts(str(path)), trace=True)
        out.append(json.dumps(decision.to_json(), ensure_ascii=False, sort_keys=True))
        out.append(render_tree(decision))
        out.append(json.dumps(explain_json(decision), ensure_ascii=False, sort_keys=True, default=str))
    for text in ("12.3456%", "1000.05元 * 30%", "100元 / 3", "round(2.675, 2)", "500万元"):
        out.append(repr(compile_expression(text).evaluate({}, as_conclusion="money" if "元" in text else None)))
    return out


def test_a_hostile_decimal_context_changes_nothing() -> None:
    expected = _outputs()
    with decimal.localcontext(HOSTILE):
        assert _outputs() == expected
        assert decimal.getcontext().prec == 3  # and the caller's context is left as it was


def test_literals_are_read_whatever_the_context() -> None:
    with decimal.localcontext(HOSTILE):
        assert compile_expression("12.3456%").evaluate({}) == Decimal("0.123456")
        assert compile_expression("500万元").evaluate({}) == Decimal("5000000")
    # a rate one unit past the limit of digits is refused, not rounded onto the bound
    with pytest.raises(PolicyError) as info:
        compile_expression("60.00000000000000000000000000001%")
    assert info.value.kind == "limit"


def test_to_json_under_a_low_precision_never_says_nan() -> None:
    engine = load(ROOT / "policies" / "liaoning")
    decision = engine.evaluate(read_facts(str(ROOT / "examples" / "unit-medium.yaml")))
    with decimal.localcontext(decimal.Context(prec=5)):
        assert "NaN" not in json.dumps(decision.to_json())


@pytest.mark.parametrize("text, digits", [("1000000000000000000", "18 位"), ("0.00000000000000000000000000001", "28 位")])
def test_numbers_past_the_limits_are_limit_errors(text: str, digits: str) -> None:
    with pytest.raises(PolicyError) as info:
        compile_expression(text)
    assert info.value.kind == "limit" and digits in info.value.message


def test_the_limits_in_docs_are_the_limits_in_code() -> None:
    doc = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")
    stated = {
        f"{yamlio.MAX_FILE_BYTES:,} bytes": True, f"{MAX_FACTS_BYTES:,} bytes": True,
        f"{yamlio.MAX_DEPTH} levels": True, f"{yamlio.MAX_NODES:,} values": True,
        f"≤ {values.MAX_INT_DIGITS} digits before the point, ≤ {values.MAX_DIGITS} digits in all": True,
        f"Emax={values.MAX_INT_DIGITS - 1}": True, f"{shape.MAX_BLOCK_DEPTH} levels (aggregates: {shape.MAX_AGGREGATE_NESTING})": True,
        f"{shape.MAX_TRACE_DEPTH} levels": True,
    }
    missing = [s for s in stated if s not in doc]
    assert not missing, missing
    assert re.search(r"magnitude < 10\^18", doc) and values.MAX_INT == 10 ** 18
