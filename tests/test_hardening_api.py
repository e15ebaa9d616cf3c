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


def test_a_set_outside_the_configured_root_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from policy_dsl.errors import UsageError
    from policy_dsl.loader import ROOT_ENV, load_rule_set  # ROOT_ENV re-exported from names

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.setenv(ROOT_ENV, str(elsewhere))
    with pytest.raises(UsageError) as info:
        load_rule_set(ROOT / "policies" / "fushun")
    assert "不在规则根目录" in info.value.message
    # the argument wins over the environment, and the shipped root holds both sets
    assert load_rule_set(ROOT / "policies" / "fushun", root=ROOT / "policies").extends == "liaoning"


def test_huge_decimal_facts_through_the_api_are_clear_errors_or_exact() -> None:
    engine = load(ROOT / "policies" / "liaoning")
    facts = {"unit": {"kind": "enterprise", "size": "medium", "ui_insured": True, "layoffs": 1, "insured_headcount": 100,
                      "ui_contribution_last_year": Decimal("1000000000000000000000000000.5")}}
    try:
        decision = engine.evaluate(facts, trace=True)
    except PolicyError as exc:  # past the limits: said so, at a position or a fact path
        assert exc.kind in ("evaluation", "facts"), exc.render()
        assert exc.kind == "facts" or exc.span is not None
        return
    render_tree(decision)  # accepted by validation: then it renders, and never rounds silently
    assert "NaN" not in json.dumps(decision.to_json())


def test_facts_nested_past_the_limit_through_the_api_are_a_limit_error() -> None:
    engine = load(ROOT / "policies" / "liaoning")
    deep: list = []
    for _ in range(5000):  # deeper than Python's recursion limit
        deep = [deep]
    for facts in ({"unit": {"kind": deep}}, {"unit": deep}, {"household": {"members": [deep]}}):
        with pytest.raises(PolicyError) as info:
            engine.evaluate(facts)
        assert "嵌套过深" in info.value.render()
