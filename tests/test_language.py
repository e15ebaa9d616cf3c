"""The expression language beyond the conformance corpus: AST shapes and spans,
the packaged grammar, and the "only our own errors escape" properties."""
from __future__ import annotations

import subprocess
import sys
import venv
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy_dsl import PolicyError, compile_expression, parse_expression
from policy_dsl import nodes as n
from policy_dsl import types as T
from policy_dsl.source import Source
from policy_dsl.unparse import unparse

ROOT = Path(__file__).resolve().parent.parent


def test_ast_shape_ignores_spans() -> None:
    expr = parse_expression("unit.layoffs / unit.insured_headcount <= 6%")
    assert expr == n.Compare("<=", n.Arith("/", n.Ref(("unit", "layoffs")), n.Ref(("unit", "insured_headcount"))),
                             n.Literal(Decimal("0.06"), T.RATE))


def test_precedence_and_binds_tighter_than_or() -> None:
    assert parse_expression("a or b and c") == n.Or(n.Ref(("a",)), n.And(n.Ref(("b",)), n.Ref(("c",))))
    assert parse_expression("not a and b") == n.And(n.Not(n.Ref(("a",))), n.Ref(("b",)))
    assert parse_expression("1 - 2 - 3") == n.Arith("-", n.Arith("-", n.Literal(1, T.INT), n.Literal(2, T.INT)),
                                                    n.Literal(3, T.INT))


def test_literals_are_exact() -> None:
    assert parse_expression("500万元") == n.Literal(Decimal(5000000), T.MONEY)
    assert parse_expression("0.5%").value == Decimal("0.005")  # type: ignore[union-attr]
    assert parse_expression("2021-12-31").value == date(2021, 12, 31)  # type: ignore[union-attr]


def test_spans_are_absolute_inside_a_yaml_file() -> None:
    # An expression that starts at line 7, column 14 of a file, continued on the next line.
    src = Source("rules.yaml", "\n" * 6 + "  eligible: | \n    参保 and\n    裁员率达标\n")
    expr = parse_expression("参保 and\n裁员率达标", src, line=8, column=5, block_indent=4)
    assert isinstance(expr, n.And)
    assert (expr.left.span.line, expr.left.span.column) == (8, 5)    # type: ignore[union-attr]
    assert (expr.right.span.line, expr.right.span.column) == (9, 5)  # type: ignore[union-attr]


@pytest.mark.parametrize("text", [
    "a - (b - c)", "(a or b) and c", "not (a and b)", "if x then 1 else 2", "count(m in L where m.x)",
    "-(1 + 2) * 3", '{"a", "b"}', "sum(m.x for m in L where m.y > 2)", "x not in [1, 2]", "d + 4 months",
])
def test_unparse_round_trips(text: str) -> None:
    expr = parse_expression(text)
    assert parse_expression(unparse(expr)) == expr


def test_compiled_expression_is_reusable_and_types_are_static() -> None:
    expr = compile_expression("unit.layoffs / unit.insured_headcount")
    assert expr.type == T.DECIMAL
    assert expr.evaluate({"unit": {"layoffs": 6, "insured_headcount": 100}}) == Decimal("0.06")
    assert expr.evaluate({"unit": {"layoffs": 1, "insured_headcount": 4}}) == Decimal("0.25")


def test_no_binary_float_reaches_the_engine() -> None:
    expr = compile_expression("unit.ui_contribution_last_year * 30%")
    # 0.1 + 0.2 style traps: a JSON/YAML number is read from its text.
    assert expr.evaluate({"unit": {"ui_contribution_last_year": 1000.05}}) == Decimal("300.015")


# --- properties ------------------------------------------------------------------------------
_ALPHABET = st.sampled_from(list("abcxyz 0123456789.+-*/()<>=!{}[],'\"%#\n") +
                            ["and ", "or ", "not ", "in ", "if ", "then ", "else ", "where ", "for ", "count(",
                             "unit.layoffs", "元", "万元", "个月", "天", "≤", "裁员率", "true", "2021-06-30", "min(",
                             "round(", "days_between(", " months", "sum(", "any(m in household.members where "])


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(_ALPHABET, max_size=25).map("".join))
def test_any_text_parses_or_raises_policy_error(text: str) -> None:
    try:
        parse_expression(text)
    except PolicyError:
        pass


_EXPRESSIONS = [
    "unit.layoffs / unit.insured_headcount <= 6%",
    "unit.ui_contribution_last_year * 60% + 1元",
    "if unit.ui_insured then unit.application_date + 4 months else 2021-12-31",
    'unit.kind in {"enterprise", "law_firm"} and not unit.ui_insured',
    "count(m in household.members where m.employed and m.working_age)",
    '"veteran" in person.identities or person.age >= 60',
    "days_between(person.application_date, 2021-12-31) > 30",
    "round(region.ui_fund_reserve_months / 12, 2)",
]
_ANY_VALUE = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=12),
                       st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-10**6, max_value=10**6),
                       st.dates(), st.lists(st.text(max_size=5), max_size=3))
_FACTS = st.fixed_dictionaries({}, optional={
    "unit": st.dictionaries(st.sampled_from(["layoffs", "insured_headcount", "ui_insured", "kind", "application_date",
                                             "ui_contribution_last_year", "bogus"]), _ANY_VALUE, max_size=5),
    "person": st.dictionaries(st.sampled_from(["identities", "age", "application_date"]), _ANY_VALUE, max_size=3),
    "household": st.fixed_dictionaries({"members": st.lists(st.dictionaries(
        st.sampled_from(["employed", "working_age", "x"]), _ANY_VALUE, max_size=2), max_size=3)}),
    "region": st.dictionaries(st.sampled_from(["ui_fund_reserve_months"]), _ANY_VALUE, max_size=1),
})
_COMPILED = [compile_expression(e) for e in _EXPRESSIONS]


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.sampled_from(range(len(_EXPRESSIONS))), _FACTS)
def test_any_facts_give_a_value_or_a_policy_error(which: int, facts: dict) -> None:
    try:
        _COMPILED[which].evaluate(facts)
    except PolicyError:
        pass


# --- packaging -------------------------------------------------------------------------------
def test_installed_wheel_ships_the_grammar(tmp_path: Path) -> None:
    """Build the wheel, install it (not editable) in a fresh venv, parse with it there."""
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)], check=True,
                   capture_output=True)
    wheel = next(dist.glob("*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    subprocess.run([str(py), "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, capture_output=True)
    # The wheel's dependencies are borrowed from this environment through a .pth file: plain
    # directory entries, so this environment's own editable install of policy_dsl is not seen.
    import jsonschema, lark, rich, yaml  # noqa: E401

    site = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], check=True,
                          capture_output=True, text=True).stdout.strip()
    dirs = {str(Path(m.__file__).resolve().parent.parent) for m in (jsonschema, lark, rich, yaml)}
    (Path(site) / "_deps.pth").write_text("\n".join(sorted(dirs)) + "\n")
    code = ("import policy_dsl, pathlib, importlib.resources as r;"
            "assert 'site-packages' in policy_dsl.__file__, policy_dsl.__file__;"
            "assert r.files('policy_dsl').joinpath('grammar/policy.lark').is_file();"
            "print(policy_dsl.evaluate_expression('1000.05元 * 30%', as_conclusion='money'))")
    out = subprocess.run([str(py), "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path)
    assert out.stdout.strip() == "300.02"
