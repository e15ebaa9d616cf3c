"""Golden error messages of the expression language.

Each test pins the full `render()` text of one error, word for word: location
(<expression>:line:col), the source line with the caret under the right
characters, found / expected, and the did-you-mean hint. The caret columns
were counted by hand (Chinese characters take two terminal cells, so
`裁员律` gets six carets).

Where a part of a message is not right (see the notes at each such test),
that part is left out of the pin and everything else is still compared
exactly; the problem is reported instead of frozen into the golden text.
"""
from __future__ import annotations

from decimal import Decimal

import pytest

from policy_dsl import (PolicyError, PolicyEvaluationError, PolicyLimitError, PolicyNameError, PolicySyntaxError,
                        PolicyTypeError, Unknown, compile_expression)

EXPECTED_PREFIX = "  应为 expected: "
FOUND_PREFIX = "  实际 found:    "


def _error(text: str, definitions: dict | None = None) -> PolicyError:
    with pytest.raises(PolicyError) as info:
        compile_expression(text, definitions)
    return info.value


def _lines(*lines: str) -> str:
    return "\n".join(lines)


def _drop_line(rendered: str, prefix: str) -> str:
    """The rendered text without the one line starting with `prefix` (which must be there)."""
    lines = rendered.split("\n")
    matching = [line for line in lines if line.startswith(prefix)]
    assert len(matching) == 1, rendered
    return "\n".join(line for line in lines if not line.startswith(prefix))


# --- syntax -------------------------------------------------------------------------------------

def test_unbalanced_paren_points_at_the_end_and_expects_a_closing_paren() -> None:
    err = _error("(unit.layoffs + 1")
    assert isinstance(err, PolicySyntaxError) and err.kind == "syntax"
    assert err.render() == _lines(
        "<expression>:1:18: 语法错误 syntax error: 表达式不完整 incomplete expression",
        "    1 | (unit.layoffs + 1",
        "      |                  ^",
        "  实际 found:    表达式结束 end of expression",
        "  应为 expected: ')'",
    )


def test_extra_closing_paren_is_an_unexpected_token_at_its_column() -> None:
    err = _error("unit.layoffs + 1)")
    assert isinstance(err, PolicySyntaxError)
    assert err.render() == _lines(
        "<expression>:1:17: 语法错误 syntax error: 此处不应出现 ')' unexpected token",
        "    1 | unit.layoffs + 1)",
        "      |                 ^",
        "  实际 found:    ')'",
        "  应为 expected: 表达式结束 end of expression",
    )


def test_dangling_operator_reports_an_incomplete_expression() -> None:
    # The `expected` list is left out of the pin: it is cut after ten entries and
    # the cut drops exactly the useful ones (名字 name, 整数 integer, ...), keeping
    # keywords such as `false`, `sum`, `true` (reported to the lead).
    err = _error("unit.layoffs +")
    assert isinstance(err, PolicySyntaxError)
    assert _drop_line(err.render(), EXPECTED_PREFIX) == _lines(
        "<expression>:1:15: 语法错误 syntax error: 表达式不完整 incomplete expression",
        "    1 | unit.layoffs +",
        "      |               ^",
        "  实际 found:    表达式结束 end of expression",
    )


def test_chained_comparison_points_at_the_second_operator_with_a_hint() -> None:
    # `expected` left out: the LALR lookahead set offers ')', ',', ']', 'then', 'for'
    # at the top level, where none of them can follow (reported to the lead).
    err = _error("unit.layoffs < 3 < 5")
    assert isinstance(err, PolicySyntaxError)
    assert _drop_line(err.render(), EXPECTED_PREFIX) == _lines(
        "<expression>:1:18: 语法错误 syntax error: 此处不应出现 '<' unexpected token",
        "    1 | unit.layoffs < 3 < 5",
        "      |                  ^",
        "  实际 found:    '<'",
        "  比较不能连写：把 a < b < c 写成 a < b and b < c",
    )


def test_chained_comparison_with_two_character_operator_underlines_both_characters() -> None:
    err = _error("unit.layoffs < 3 == true")
    assert _drop_line(err.render(), EXPECTED_PREFIX) == _lines(
        "<expression>:1:18: 语法错误 syntax error: 此处不应出现 '==' unexpected token",
        "    1 | unit.layoffs < 3 == true",
        "      |                  ^^",
        "  实际 found:    '=='",
        "  比较不能连写：把 a < b < c 写成 a < b and b < c",
    )


def test_unexpected_character() -> None:
    # `expected` left out for the same LALR-lookahead reason as above.
    err = _error("unit.layoffs @ 3")
    assert isinstance(err, PolicySyntaxError)
    assert _drop_line(err.render(), EXPECTED_PREFIX) == _lines(
        "<expression>:1:14: 语法错误 syntax error: 无法识别的字符 '@' unexpected character",
        "    1 | unit.layoffs @ 3",
        "      |              ^",
        "  实际 found:    '@'",
    )


def test_invalid_date_literal_underlines_the_whole_date() -> None:
    err = _error("2021-02-30")
    assert isinstance(err, PolicySyntaxError)
    assert err.render() == _lines(
        "<expression>:1:1: 语法错误 syntax error: 不存在的日期 2021-02-30 invalid date",
        "    1 | 2021-02-30",
        "      | ^^^^^^^^^^",
        "  实际 found:    2021-02-30",
        "  应为 expected: YYYY-MM-DD 的有效日期",
    )


def test_invalid_date_inside_a_larger_expression_is_located_at_the_date() -> None:
    err = _error("if unit.layoffs > 0 then 2021-04-31 else 2021-12-31")
    assert err.render() == _lines(
        "<expression>:1:26: 语法错误 syntax error: 不存在的日期 2021-04-31 invalid date",
        "    1 | if unit.layoffs > 0 then 2021-04-31 else 2021-12-31",
        "      |                          ^^^^^^^^^^",
        "  实际 found:    2021-04-31",
        "  应为 expected: YYYY-MM-DD 的有效日期",
    )


def test_syntax_error_on_the_second_line_of_an_expression() -> None:
    err = _error("unit.layoffs +\n  * 3")
    assert _drop_line(err.render(), EXPECTED_PREFIX) == _lines(
        "<expression>:2:3: 语法错误 syntax error: 此处不应出现 '*' unexpected token",
        "    2 |   * 3",
        "      |   ^",
        "  实际 found:    '*'",
    )


# --- names --------------------------------------------------------------------------------------

def test_unknown_fact_suggests_the_close_fact() -> None:
    err = _error("unit.layofs > 3")
    assert isinstance(err, PolicyNameError) and err.kind == "name"
    assert err.render() == _lines(
        "<expression>:1:1: 名字错误 name error: 未知的事实 'unit.layofs' unknown fact",
        "    1 | unit.layofs > 3",
        "      | ^^^^^^^^^^^",
        "  实际 found:    unit.layofs",
        "  应为 expected: 词汇表中的事实名 a fact of the vocabulary",
        "  是否要写 did you mean: unit.layoffs？",
    )


def test_unknown_function_suggests_min() -> None:
    err = _error("mn(1, 2)")
    assert isinstance(err, PolicyNameError)
    assert err.render() == _lines(
        "<expression>:1:1: 名字错误 name error: 未知的函数 'mn' unknown function",
        "    1 | mn(1, 2)",
        "      | ^^^^^^^^",
        "  实际 found:    mn",
        "  应为 expected: abs, days_between, intersect, known, max, min, months_between, round, size, tags, years_between",
        "  是否要写 did you mean: min？",
    )


def test_unknown_local_name_with_a_close_definition_suggests_it() -> None:
    err = _error("裁员律 > 3", {"裁员率": "unit.layoffs / unit.insured_headcount"})
    assert isinstance(err, PolicyNameError)
    assert err.render() == _lines(
        "<expression>:1:1: 名字错误 name error: 未知的名字 '裁员律' unknown name",
        "    1 | 裁员律 > 3",
        "      | ^^^^^^",
        "  实际 found:    裁员律",
        "  应为 expected: 本条款的参数/定义/条件/结论、其他条款的结论（条款id.名字）或事实（如 unit.layoffs）",
        "  是否要写 did you mean: 裁员率？",
    )


def test_unknown_local_name_with_nothing_close_has_no_hint() -> None:
    err = _error("裁员率 > 3")
    assert isinstance(err, PolicyNameError)
    assert err.hint is None
    assert err.render() == _lines(
        "<expression>:1:1: 名字错误 name error: 未知的名字 '裁员率' unknown name",
        "    1 | 裁员率 > 3",
        "      | ^^^^^^",
        "  实际 found:    裁员率",
        "  应为 expected: 本条款的参数/定义/条件/结论、其他条款的结论（条款id.名字）或事实（如 unit.layoffs）",
    )


def test_unknown_field_of_a_bound_variable() -> None:
    err = _error("count(m in household.members where m.employd)")
    assert isinstance(err, PolicyNameError)
    assert err.render() == _lines(
        "<expression>:1:36: 名字错误 name error: m 没有字段 'employd' unknown field",
        "    1 | count(m in household.members where m.employd)",
        "      |                                    ^^^^^^^^^",
        "  实际 found:    employd",
        "  应为 expected: working_age, able_to_work, wants_work, employed, has_business_or_investment_income",
        "  是否要写 did you mean: employed？",
    )


# --- types --------------------------------------------------------------------------------------

def test_misspelt_enum_value_points_at_the_string_and_suggests_the_value() -> None:
    err = _error('unit.kind == "enterprize"')
    assert isinstance(err, PolicyTypeError) and err.kind == "type"
    assert err.render() == _lines(
        "<expression>:1:14: 类型错误 type error: 'enterprize' 不是可选值 not a value of this enum",
        '    1 | unit.kind == "enterprize"',
        "      |              ^^^^^^^^^^^^",
        "  实际 found:    'enterprize'",
        "  应为 expected: enterprise, social_organization, foundation, social_service_agency, law_firm, "
        "accounting_firm, individual_economic_org, other",
        "  是否要写 did you mean: enterprise？",
    )


def test_misspelt_enum_value_inside_a_set_literal() -> None:
    err = _error('unit.kind in {"enterprise", "foundatoin"}')
    assert err.render() == _lines(
        "<expression>:1:29: 类型错误 type error: 'foundatoin' 不是可选值 not a value of this enum",
        '    1 | unit.kind in {"enterprise", "foundatoin"}',
        "      |                             ^^^^^^^^^^^^",
        "  实际 found:    'foundatoin'",
        "  应为 expected: enterprise, social_organization, foundation, social_service_agency, law_firm, "
        "accounting_firm, individual_economic_org, other",
        "  是否要写 did you mean: foundation？",
    )


def test_date_plus_money() -> None:
    err = _error("2021-06-30 + 300元")
    assert isinstance(err, PolicyTypeError)
    assert err.render() == _lines(
        "<expression>:1:1: 类型错误 type error: 不能对 date 和 money 做 + 运算 cannot apply +",
        "    1 | 2021-06-30 + 300元",
        "      | " + "^" * 18,  # 16 ASCII characters + 元 (two cells)
        "  实际 found:    date + money",
        "  应为 expected: 数字+数字、金额+金额、日期+期间、集合+集合",
    )


def test_string_compared_with_number() -> None:
    err = _error('"a" < 3')
    assert isinstance(err, PolicyTypeError)
    assert err.render() == _lines(
        "<expression>:1:1: 类型错误 type error: 不能比较 string 和 int cannot compare",
        '    1 | "a" < 3',
        "      | ^^^^^^^",
        "  实际 found:    string < int",
        "  应为 expected: 同类的值：数字与数字、金额与金额、日期与日期、文字与文字",
    )


def test_if_with_a_non_bool_condition_points_at_the_condition() -> None:
    err = _error("if unit.layoffs then 1 else 2")
    assert isinstance(err, PolicyTypeError)
    assert err.render() == _lines(
        "<expression>:1:4: 类型错误 type error: if 的条件必须是布尔值 condition of `if` must be bool",
        "    1 | if unit.layoffs then 1 else 2",
        "      |    ^^^^^^^^^^^^",
        "  实际 found:    int",
        "  应为 expected: bool",
    )


MIN_SIGNATURE = "min(a, b, …): 数字、金额或日期，同一类 numbers, money or dates of one kind"


def test_min_with_no_arguments() -> None:
    err = _error("min()")
    assert isinstance(err, PolicyTypeError)
    assert err.render() == _lines(
        "<expression>:1:1: 类型错误 type error: 函数 min 需要 至少 2 个参数，实际 0 个 wrong number of arguments",
        "    1 | min()",
        "      | ^^^^^",
        "  实际 found:    0 个参数 arguments",
        "  应为 expected: " + MIN_SIGNATURE,
    )


def test_min_with_one_argument() -> None:
    # The found line reads "1 arguments" (English plural); left out of the pin, reported.
    err = _error("min(1)")
    assert isinstance(err, PolicyTypeError)
    assert _drop_line(err.render(), FOUND_PREFIX) == _lines(
        "<expression>:1:1: 类型错误 type error: 函数 min 需要 至少 2 个参数，实际 1 个 wrong number of arguments",
        "    1 | min(1)",
        "      | ^^^^^^",
        "  应为 expected: " + MIN_SIGNATURE,
    )


def test_min_with_mixed_argument_types() -> None:
    err = _error('min(1, "a")')
    assert err.render() == _lines(
        "<expression>:1:1: 类型错误 type error: 函数 min 的参数类型不对 wrong argument types",
        '    1 | min(1, "a")',
        "      | ^^^^^^^^^^^",
        "  实际 found:    min(int, string)",
        "  应为 expected: " + MIN_SIGNATURE,
    )


# --- evaluation ---------------------------------------------------------------------------------

def test_division_by_zero_at_evaluation_names_both_operands() -> None:
    expr = compile_expression("unit.layoffs / unit.insured_headcount")
    with pytest.raises(PolicyEvaluationError) as info:
        expr.evaluate({"unit": {"layoffs": 3, "insured_headcount": 0}})
    assert info.value.kind == "evaluation"
    assert info.value.render() == _lines(
        "<expression>:1:1: 求值错误 evaluation error: 除数为零 division by zero",
        "    1 | unit.layoffs / unit.insured_headcount",
        "      | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^",
        "  实际 found:    3 / 0",
        "  应为 expected: 除数不为零；可先用 if 判断 guard the divisor with if",
    )


def test_the_same_compiled_expression_divides_fine_and_an_unknown_divisor_is_not_an_error() -> None:
    expr = compile_expression("unit.layoffs / unit.insured_headcount")
    assert expr.evaluate({"unit": {"layoffs": 3, "insured_headcount": 4}}) == Decimal("0.75")
    unknown = expr.evaluate({"unit": {"layoffs": 3}})
    assert isinstance(unknown, Unknown)
    assert unknown.missing == frozenset({"unit.insured_headcount"})


# --- limits -------------------------------------------------------------------------------------

def test_too_deep_nesting_points_at_the_65th_bracket() -> None:
    text = "(" * 65 + "1" + ")" * 65  # 131 characters: shown as an 80-character window around the caret
    err = _error(text)
    assert isinstance(err, PolicyLimitError) and err.kind == "limit"
    # window = text[24:104]: brackets 25..65, the 1, then 38 closing brackets; the caret sits
    # under the 65th '(' (the 42nd cell after the gutter, the first being the ellipsis).
    assert err.render() == _lines(
        "<expression>:1:65: 超出限制 limit exceeded: 嵌套过深：超过 64 层括号",
        "    1 | …" + "(" * 41 + "1" + ")" * 38 + "…",
        "      | " + " " * 41 + "^",
        "  实际 found:    more than 64 levels",
        "  应为 expected: at most 64 levels of nesting",
    )


def test_64_levels_of_nesting_are_allowed() -> None:
    assert compile_expression("(" * 64 + "7" + ")" * 64).evaluate({}) == 7


def test_too_long_expression_spread_over_lines() -> None:
    text = "1 +\n" * 1200 + "1"  # 4801 characters
    assert len(text) == 4801
    err = _error(text)
    assert isinstance(err, PolicyLimitError)
    assert err.render() == _lines(
        "<expression>:1:1: 超出限制 limit exceeded: 表达式过长：4801 个字符，上限 4000",
        "    1 | 1 +",
        "      | ^",
        "  实际 found:    4801 chars",
        "  应为 expected: at most 4000 chars",
    )


def test_too_long_expression_on_one_line_shows_a_window_of_the_line() -> None:
    text = "1 + " * 1500 + "1"
    err = _error(text)
    assert isinstance(err, PolicyLimitError)
    assert err.render() == _lines(
        "<expression>:1:1: 超出限制 limit exceeded: 表达式过长：6001 个字符，上限 4000",
        "    1 | " + "1 + " * 20 + "…",
        "      | ^",
        "  实际 found:    6001 chars",
        "  应为 expected: at most 4000 chars",
    )


def test_4000_characters_is_the_last_allowed_length() -> None:
    text = '"' + "a" * 3998 + '"'
    assert len(text) == 4000
    assert compile_expression(text).evaluate({}) == "a" * 3998
    with pytest.raises(PolicyLimitError):
        compile_expression('"' + "a" * 3999 + '"')


def _compile_or_limit(text: str):
    """compile_expression(text), or None when it refuses with a PolicyLimitError.

    Any other PolicyError fails the test; a RecursionError (or any non-policy
    exception) escaping the engine fails it with a one-line message.
    """
    escaped = None
    try:
        return compile_expression(text)
    except PolicyError as exc:
        assert isinstance(exc, PolicyLimitError), exc.render()
        return None
    except RecursionError:
        escaped = "RecursionError"
    pytest.fail(f"{escaped} escaped from compile_expression for a {len(text)}-character expression", pytrace=False)


def test_a_long_flat_sum_within_the_length_limit_never_escapes_as_recursion_error() -> None:
    # 2000 ones added together: 3999 characters, no brackets at all. The docs promise
    # (language.md §8) a clear error "instead of failing deep inside Python"; the
    # engine may accept it or refuse it with a PolicyLimitError, but never RecursionError.
    text = "1+" * 1999 + "1"
    assert len(text) == 3999
    expr = _compile_or_limit(text)
    if expr is not None:
        assert expr.evaluate({}) == 2000


def test_a_long_chain_of_not_never_escapes_as_recursion_error() -> None:
    text = "not " * 700 + "true"  # 2804 characters: 700 negations of true = true
    expr = _compile_or_limit(text)
    if expr is not None:
        assert expr.evaluate({}) is True


def test_a_long_chain_of_unary_minus_never_escapes_as_recursion_error() -> None:
    text = "-" * 1000 + "5"  # an even number of minus signs: 5
    expr = _compile_or_limit(text)
    if expr is not None:
        assert expr.evaluate({}) == 5


def test_operator_nesting_limit_message() -> None:
    text = "not " * 129 + "true"  # 520 characters
    err = _error(text)
    assert isinstance(err, PolicyLimitError)
    # the 129th `not` starts at column 4 * 128 + 1 = 513; the window is text[472:] = 11 × "not " + "true"
    assert err.render() == _lines(
        "<expression>:1:513: 超出限制 limit exceeded: 表达式嵌套过深：超过 128 层运算 expression nested too deeply",
        "    1 | …" + "not " * 11 + "true",
        "      | " + " " * 41 + "^",
        "  实际 found:    more than 128 nested operations",
        "  应为 expected: at most 128; split it into named definitions",
    )


def test_exactly_128_nested_operations_are_within_the_limit() -> None:
    # The message says "超过 128 层运算 / more than 128 nested operations", so 128 nested
    # operations must be accepted; 127 negations of true are false, 128 are true.
    assert compile_expression("not " * 127 + "true").evaluate({}) is False
    expr = _compile_or_limit("not " * 128 + "true")
    assert expr is not None, "128 nested `not`s refused as 'more than 128 nested operations'"
    assert expr.evaluate({}) is True
