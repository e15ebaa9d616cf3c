"""policy fmt: comments kept, canonical expressions, idempotent, and the formatted files read
back to the same model (parse(fmt(x)) == parse(x)), on both sets and on generated expressions."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from policy_dsl.authoring.fmt import format_text
from policy_dsl.cli import main
from policy_dsl.errors import PolicyError
from policy_dsl.loader import load_rule_set
from policy_dsl.model import RuleSet
from policy_dsl.parser import parse_expression
from policy_dsl.yamlio import load_text

ROOT = Path(__file__).resolve().parent.parent
RULE_FILES = sorted([*ROOT.glob("policies/*/clauses/*.yaml"), *ROOT.glob("policies/*/policy-set.yaml")])


def _kind(path: Path) -> str:
    return "manifest" if path.name == "policy-set.yaml" else "clause"


@pytest.mark.parametrize("path", RULE_FILES, ids=[f"{p.parent.parent.name}/{p.name}" for p in RULE_FILES])
def test_fmt_is_idempotent_and_keeps_every_comment(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    once = format_text(text, _kind(path))
    assert format_text(once, _kind(path)) == once
    comments = [line.strip() for line in text.splitlines() if line.lstrip().startswith("#")]
    assert [line.strip() for line in once.splitlines() if line.lstrip().startswith("#")] == comments


def _model(rs: RuleSet) -> dict:
    """What a rule set means, positions left out (expression nodes compare without their spans)."""
    out = {}
    for cid, c in rs.clauses.items():
        out[cid] = (c.title, c.kind, c.subject, c.source, c.departments, c.valid, c.notes,
                    {k: (p.type, p.value, p.history, p.delegated, p.bounds, p.source, p.note) for k, p in c.parameters.items()},
                    {k: (i.role, i.expr, i.declared, i.quote, i.note, i.source)
                     for k, i in {**c.definitions, **c.conditions, **c.conclusions}.items()},
                    [(e.id, e.conclusion, e.when, e.value, e.priority) for e in c.exceptions])
    return out


@pytest.mark.parametrize("name", ["liaoning", "fushun"])
def test_formatted_sets_mean_the_same(tmp_path: Path, name: str) -> None:
    shutil.copytree(ROOT / "policies", tmp_path / "policies")
    assert main(["fmt", str(tmp_path / "policies")]) == 0
    assert _model(load_rule_set(tmp_path / "policies" / name)) == _model(load_rule_set(ROOT / "policies" / name))
    assert main(["fmt", "--check", str(tmp_path / "policies")]) == 0  # nothing left to do


SAMPLE = """\
# 文件头注释
title: 示例   # 标题后的注释
id: c
subject: unit
parameters:
  上限: {type: rate, value: 6%}   # 行尾注释
conditions:
  # 条件前的注释
  达标:   unit.layoffs==0   or(unit.layoffs<=3  and unit.kind=="enterprise")
  多行: |
    unit.layoffs == 0
      or unit.layoffs <= 3     # 多行表达式保持原样
conclusions:
  eligible: {expr: "达标 and (多行)", text: 原文}
  rate: if 达标 then (if unit.kind == "enterprise" then 上限 else 0.5) else (if 多行 then 0.1 else 0)
"""


def test_fmt_orders_the_clause_keys_canonicalises_one_line_expressions_and_keeps_the_rest() -> None:
    out = format_text(SAMPLE)
    assert out.splitlines()[:3] == ["# 文件头注释", "id: c", "title: 示例   # 标题后的注释"]
    assert '  达标: unit.layoffs == 0 or (unit.layoffs <= 3 and unit.kind == "enterprise")' in out.splitlines()
    assert "    unit.layoffs == 0\n      or unit.layoffs <= 3     # 多行表达式保持原样\n" in out
    assert '  eligible: {expr: "达标 and 多行", text: 原文}' in out.splitlines()
    assert ('  rate: if 达标 then (if unit.kind == "enterprise" then 上限 else 0.5) else if 多行 then 0.1 else 0'
            in out.splitlines())
    assert "  # 条件前的注释" in out.splitlines() and "  上限: {type: rate, value: 6%}   # 行尾注释" in out.splitlines()
    assert format_text(out) == out


def test_fmt_check_exits_1_and_names_the_files_it_would_change(tmp_path: Path, capsys) -> None:
    shutil.copytree(ROOT / "tests" / "fixtures" / "mini_province", tmp_path / "mini_province")
    clause = tmp_path / "mini_province" / "clauses" / "stable_job_refund.yaml"
    clause.write_text(clause.read_text(encoding="utf-8").replace("eligible: 参保 and 裁员率达标", "eligible: 参保  and(裁员率达标)"),
                      encoding="utf-8")
    before = clause.read_text(encoding="utf-8")
    assert main(["fmt", "--check", str(tmp_path / "mini_province")]) == 1
    out = capsys.readouterr().out
    assert out.splitlines() == [f"需要整理 would reformat: {clause}", "2 个规则文件，1 个需要整理"]
    assert clause.read_text(encoding="utf-8") == before  # --check changes nothing
    assert main(["fmt", str(tmp_path / "mini_province")]) == 0
    assert "  eligible: 参保 and 裁员率达标\n" in clause.read_text(encoding="utf-8")


# --- generated expressions -----------------------------------------------------------------------

_ATOMS = st.sampled_from(["unit.layoffs", "unit.insured_headcount", "上限", "达标", "3", "0.5", "6%", "300元",
                          '"enterprise"', "true", "2021-12-31", "{1, 2}"])
_SPACE = st.sampled_from(["", " ", "  "])


def _combine(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    binary = st.tuples(children, st.sampled_from(["and", "or", "+", "-", "*", "/", "<=", "==", "!=", ">"]), children, _SPACE)
    return st.one_of(
        binary.map(lambda t: f"{t[0]}{t[3]} {t[1]} {t[3]}{t[2]}"),
        children.map(lambda c: f"({c})"),
        children.map(lambda c: f"not {c}"),
        st.tuples(children, children, children).map(lambda t: f"if {t[0]} then {t[1]} else {t[2]}"),
        st.tuples(children, children).map(lambda t: f"max({t[0]},{t[1]})"),
    )


EXPRESSIONS = st.recursive(_ATOMS, _combine, max_leaves=8)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(EXPRESSIONS, st.sampled_from(["single", "double", "mapping"]))
def test_fmt_keeps_the_meaning_of_any_expression(expr: str, style: str) -> None:
    try:
        before = parse_expression(expr)
    except PolicyError:  # a generated text may not parse (e.g. `a < b < c`): not an expression to format
        assume(False)
    double = '"' + expr.replace("\\", "\\\\").replace('"', '\\"') + '"'
    single = "'" + expr.replace("'", "''") + "'"
    value = {"single": single, "double": double, "mapping": "{expr: " + double + "}"}[style]
    text = f"id: c\nconclusions:\n  x: {value}\n"
    out = format_text(text)
    data = load_text(out, "t.yaml")
    raw = data["conclusions"]["x"]
    written = raw["expr"] if isinstance(raw, dict) else raw
    assert parse_expression(str(written)) == before
    assert format_text(out) == out


def test_a_wrapped_flow_list_becomes_a_block_list_and_a_one_line_list_stays() -> None:
    text = ("id: c\nparameters:\n  p:\n    type: set\n    values: [a, b,\n             c]\n"
            "  q: {type: set, values: [x, y], value: '{\"x\"}'}\n")
    out = format_text(text)
    assert out == ("id: c\nparameters:\n  p:\n    type: set\n    values:\n      - a\n      - b\n      - c\n"
                   "  q: {type: set, values: [x, y], value: '{\"x\"}'}\n")
    assert format_text(out) == out
