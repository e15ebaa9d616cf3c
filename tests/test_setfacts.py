"""Facts declared by a rule set (`facts:` in policy-set.yaml): usable in expressions by the set and
every set built on it, validated in cases like the vocabulary's, labelled in Chinese in
explanations; redefinitions, unknown subjects and the unknown-fact error point at the file.

The fixture sets (tests/fixtures/decl_province, decl_city) are test data, not a policy: the
province declares five facts of different types and screens units with them; the city extends it,
declares a set of enum and a list of record, and uses both its own and the province's facts.
"""
from __future__ import annotations

import json
import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy_dsl import FactsError, load
from policy_dsl.checker import analyse
from policy_dsl.errors import CheckFailed
from policy_dsl.factcheck import checker
from policy_dsl.facts import facts_schema, validate, validate_with_schema
from policy_dsl.loader import load_rule_set
from policy_dsl.setfacts import ancestors, declared_by_sets
from policy_dsl.vocabulary import vocabulary

FIXTURES = Path(__file__).parent / "fixtures"
CITY, PROVINCE = FIXTURES / "decl_city", FIXTURES / "decl_province"

# Worked by hand: 8 layoffs of which 3 are not counted → 5 of 100 insured = 5% <= 6%; arrears 1200.00
# but rectified on 2022-05-20 <= 2022-06-30; not a zombie; credit good → not excluded. Manufacturing
# and good credit → eligible; 2 skilled key staff × 500元 = 1000.00元.
CASE = {
    "as_of": "2022-05-01",
    "unit": {"kind": "enterprise", "insured_headcount": 100, "layoffs": 8, "separations_not_counted": 3,
             "zombie_enterprise": False, "credit_level": "good", "ui_arrears": "1200.00",
             "rectified_on": "2022-05-20", "sectors": ["manufacturing"],
             "key_staff": [{"skilled": True, "age": 30}, {"skilled": False, "age": 41}, {"skilled": True, "age": 52}]},
}


def _values(engine, facts) -> dict:
    return {f"{cid}.{name}": value for cid, clause in engine.evaluate(facts).to_json()["clauses"].items()
            for name, value in clause["conclusions"].items()}


def test_declared_facts_are_used_by_expressions_and_evaluated() -> None:
    got = _values(load(CITY), CASE)
    assert got["refund_screening.counted_layoffs"] == 5
    assert got["refund_screening.not_excluded"] is True
    assert got["city_bonus.eligible"] is True
    assert got["city_bonus.amount"] == "1000.00"


def test_each_declared_fact_decides_on_its_own() -> None:
    engine = load(CITY)
    zombie = _values(engine, {**CASE, "unit": {**CASE["unit"], "zombie_enterprise": True}})
    assert zombie["refund_screening.not_excluded"] is False and zombie["city_bonus.amount"] == "0.00"
    late = _values(engine, {**CASE, "unit": {**CASE["unit"], "rectified_on": "2022-07-01"}})
    assert late["refund_screening.not_excluded"] is False       # arrears 1200.00 and rectified after 2022-06-30
    counted = _values(engine, {**CASE, "unit": {**CASE["unit"], "separations_not_counted": 1}})
    assert counted["refund_screening.counted_layoffs"] == 7       # 7% > 6%
    assert counted["refund_screening.not_excluded"] is False
    services = _values(engine, {**CASE, "unit": {**CASE["unit"], "sectors": ["services"]}})
    assert services["refund_screening.not_excluded"] is True and services["city_bonus.eligible"] is False


def test_a_missing_declared_fact_is_unknown_and_named() -> None:
    unit = {k: v for k, v in CASE["unit"].items() if k != "credit_level"}
    got = _values(load(CITY), {**CASE, "unit": unit})
    assert got["refund_screening.not_excluded"]["undetermined"] is True
    assert got["refund_screening.not_excluded"]["missing"] == ["unit.credit_level"]
    assert "信用等级（unit.credit_level）" in got["refund_screening.not_excluded"]["reason"]


def test_the_effective_vocabulary_is_the_package_one_plus_the_chain() -> None:
    province, city = load_rule_set(PROVINCE), load_rule_set(CITY)
    assert [a.name for a in ancestors(city)] == ["decl_province"]
    assert list(province.declared_facts) == ["unit.zombie_enterprise", "unit.separations_not_counted",
                                             "unit.credit_level", "unit.ui_arrears", "unit.rectified_on"]
    assert list(city.declared_facts) == ["unit.sectors", "unit.key_staff"]
    assert [s.path for s in declared_by_sets(city.vocab)] == [*province.declared_facts, *city.declared_facts]
    assert set(vocabulary().facts) < set(city.vocab.facts)
    assert "unit.sectors" not in province.vocab.facts                 # a base does not see its variant's facts
    spec = city.vocab.facts["unit.credit_level"]
    assert (spec.zh, spec.type.kind, spec.type.values, spec.declared_in) == \
        ("信用等级", "enum", ("good", "seriously_dishonest"), "decl_province")
    assert dict(spec.value_labels) == {"good": "良好", "seriously_dishonest": "严重失信"}
    assert (city.vocab.facts["unit.separations_not_counted"].minimum, city.vocab.facts["unit.ui_arrears"].unit) == (0, "元")
    assert city.vocab.facts["unit.rectified_on"].maximum == date(2099, 12, 31)
    # a set that declares nothing works with the package vocabulary itself
    assert load_rule_set(FIXTURES / "mini_city").vocab is vocabulary()


def test_facts_of_a_declared_type_are_validated_by_path() -> None:
    vocab = load_rule_set(CITY).vocab
    bad = {"unit": {"zombie_enterprise": "yes", "separations_not_counted": -1, "credit_level": "bad",
                    "ui_arrears": "-5", "rectified_on": "1999-12-31", "sectors": ["mining"],
                    "key_staff": [{"skilled": 1}]}}
    problems = dict(validate(bad, vocab))
    assert set(problems) == {"unit.zombie_enterprise", "unit.separations_not_counted", "unit.credit_level",
                             "unit.ui_arrears", "unit.rectified_on", "unit.sectors[0]", "unit.key_staff[0].skilled"}
    assert "僵尸企业" in problems["unit.zombie_enterprise"]
    assert "不计入裁员的离职人数" in problems["unit.separations_not_counted"]
    assert "good" in problems["unit.credit_level"] and "seriously_dishonest" in problems["unit.credit_level"]
    assert sorted(validate(bad, vocab)) == sorted(validate_with_schema(bad, vocab))
    with pytest.raises(FactsError) as info:
        load(CITY).evaluate(bad)
    assert {p for p, _ in info.value.problems} == set(problems)
    # the package vocabulary alone does not know them
    [(path, message)] = validate({"unit": {"zombie_enterprise": False}})
    assert path == "unit.zombie_enterprise" and message.startswith("未知的事实 unknown fact")


def test_the_published_schema_lists_the_declared_facts() -> None:
    unit = facts_schema(load_rule_set(CITY).vocab)["properties"]["unit"]["properties"]
    assert unit["credit_level"] == {"type": "string", "enum": ["good", "seriously_dishonest"], "title": "信用等级"}
    assert unit["separations_not_counted"] == {"type": "integer", "minimum": 0, "title": "不计入裁员的离职人数"}
    assert unit["rectified_on"]["formatMinimum"] == "2000-01-01"
    assert unit["key_staff"]["items"]["properties"]["age"] == {"type": "integer", "title": "年龄"}
    assert "layoffs" in unit                                            # the vocabulary's facts stay


# --- the compiled validator agrees with the published schema on the declared facts -------------------

_VOCAB = load_rule_set(CITY).vocab
_CHECK = checker(_VOCAB)
_DECLARED = {s.path.split(".")[1]: s for s in declared_by_sets(_VOCAB)}
_JUNK = st.one_of(st.none(), st.booleans(), st.integers(-3, 300), st.text(max_size=4),
                  st.sampled_from(["", "-5", "0", "1e5", "NaN", "12.50", "2021-02-30", "1999-12-31", "2100-01-01",
                                   "2022-05-20", "good", "manufacturing", "mining"]),
                  st.decimals(places=2, min_value=-10, max_value=10**6), st.lists(st.integers(0, 3), max_size=2),
                  st.lists(st.dictionaries(st.sampled_from(["skilled", "age", "x"]),
                                           st.one_of(st.booleans(), st.integers(-2, 99), st.none()), max_size=3),
                           max_size=2))


def _valid(spec) -> st.SearchStrategy:
    k = spec.type.kind
    if k == "bool":
        return st.booleans()
    if k == "int":
        return st.integers(0, 10**6)
    if k == "money":
        d = st.decimals(min_value=0, max_value=10**7, places=2)
        return st.one_of(d, d.map(str), st.integers(0, 10**6))
    if k == "date":
        d = st.dates(date(2000, 1, 1), date(2099, 12, 31))
        return st.one_of(d, d.map(date.isoformat))
    if k == "enum":
        return st.sampled_from(spec.type.values)
    if k == "set":
        return st.lists(st.sampled_from(spec.type.elem.values), unique=True, max_size=3)
    fields = {"skilled": st.one_of(st.booleans(), st.none()), "age": st.one_of(st.integers(0, 99), st.none())}
    return st.lists(st.fixed_dictionaries({}, optional=fields), max_size=3)


def _unit(broken: bool) -> st.SearchStrategy:
    value = (lambda s: st.one_of(_valid(s), _JUNK)) if broken else (lambda s: st.one_of(_valid(s), st.none()))
    return st.fixed_dictionaries({}, optional={
        **{name: value(spec) for name, spec in _DECLARED.items()},
        "layoffs": st.integers(0, 5), **({"zombie": _JUNK} if broken else {})}).map(lambda u: {"unit": u})


def _agree(facts) -> None:
    got = _CHECK.problems(facts)
    assert sorted(got) == sorted(validate_with_schema(facts, _VOCAB))
    flat = _CHECK.fast(facts)
    if flat is not None:
        assert got == []
        assert flat == _CHECK.convert(facts)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_unit(broken=False))
def test_validator_agrees_with_the_schema_on_valid_declared_facts(facts) -> None:
    assert _CHECK.problems(facts) == []
    _agree(facts)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_unit(broken=True))
def test_validator_agrees_with_the_schema_on_broken_declared_facts(facts) -> None:
    _agree(facts)


# --- errors in `facts:` and the unknown-fact error ----------------------------------------------------

def _copy_sets(tmp_path: Path) -> Path:
    for name in ("decl_province", "decl_city"):
        shutil.copytree(FIXTURES / name, tmp_path / name)
    return tmp_path / "decl_city"


def _errors(set_dir: Path) -> list:
    with pytest.raises(CheckFailed) as info:
        load_rule_set(set_dir)
    return info.value.diagnostics


def test_redefining_a_fact_is_an_error_at_the_key(tmp_path: Path) -> None:
    city = _copy_sets(tmp_path)
    manifest = city / "policy-set.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8")
                        + "  unit.credit_level: {type: bool, zh: 信用}\n  unit.layoffs: {type: int, zh: 裁员}\n",
                        encoding="utf-8")
    first, second = _errors(city)
    assert (first.span.line, first.span.column, second.span.line, second.span.column) == (19, 3, 20, 3)
    assert first.message == ("事实 unit.credit_level 已由规则集 decl_province 声明 already declared by set decl_province："
                             "不能重新定义 a fact cannot be redefined")
    assert first.related.location().endswith("decl_province/policy-set.yaml:11:3")
    assert second.message == "事实 unit.layoffs 已在词汇表中定义 already in the vocabulary：不能重新定义 a fact cannot be redefined"
    assert second.expected == "上年度裁员人数（int）"


@pytest.mark.parametrize("entry, message, at", [
    ("company.size: {type: int, zh: 规模}", "主体 'company' 不存在 unknown subject", "company"),
    ("zombie: {type: bool, zh: 僵尸企业}", "事实名 'zombie' 应写成 主体.名字", "zombie"),
    ("unit.a.b: {type: bool, zh: 甲}", "事实名 'unit.a.b' 应写成 主体.名字", "unit.a.b"),
    ("unit.then: {type: bool, zh: 甲}", "事实名 'unit.then' 不合法 invalid fact name：'then' 是保留字", "unit.then"),
    ("unit.level: {type: enum, zh: 等级}", "事实 unit.level 是枚举，需要 values", "enum"),
    ("unit.flag: {type: bool, zh: 甲, values: {a: 甲}}", "事实 unit.flag 的类型 bool 不能有 values", "{a"),
    ("unit.debt: {type: money, zh: 欠费, max: 5}", "事实 unit.debt（money）只支持 min: 0", "max"),
    ("unit.name2: {type: string, zh: 名, min: 1}", "事实 unit.name2（string）不能有 min", "min"),
    ("unit.when: {type: date, zh: 日期, min: someday}", "事实 unit.when 的 min 应是日期", "someday"),
    ("unit.staff: {type: list of record, zh: 职工}", "事实 unit.staff 是记录列表，需要 fields", "list of"),
    ("unit.kinds: {type: bolean, zh: 类}", "facts.unit.kinds.type 的值不在可选范围内", "bolean"),
    ("unit.kinds: {type: bool}", "缺少必需的键 zh", "unit.kinds"),
])
def test_a_bad_declaration_is_an_error_with_its_position(tmp_path: Path, entry: str, message: str, at: str) -> None:
    city = _copy_sets(tmp_path)
    manifest = city / "policy-set.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + f"  {entry}\n", encoding="utf-8")
    [error] = _errors(city)
    assert error.message.startswith(message)
    assert (error.span.line, error.span.column) == (19, 3 + entry.index(at))   # columns count characters
    assert error.span.location().startswith(str(manifest))


def test_an_unknown_fact_says_where_facts_are_declared(tmp_path: Path) -> None:
    city = _copy_sets(tmp_path)
    clause = city / "clauses" / "city_bonus.yaml"
    clause.write_text(clause.read_text(encoding="utf-8").replace('unit.credit_level == "good"', "unit.zombie"),
                      encoding="utf-8")
    [error] = analyse(load_rule_set(city)).errors
    assert error.message == "未知的事实 'unit.zombie' unknown fact"
    assert error.hint.startswith("是否要写 did you mean: unit.zombie_enterprise？\n"
                                 f"  如需新增事实，在 {city / 'policy-set.yaml'} 的 facts: 下声明")
    assert "unit.zombie: {type: bool, zh: 中文名称}" in error.hint
    clause.write_text(clause.read_text(encoding="utf-8").replace("unit.zombie", "unit.qqq"), encoding="utf-8")
    [error] = analyse(load_rule_set(city)).errors
    assert error.hint.startswith(f"如需新增事实，在 {city / 'policy-set.yaml'} 的 facts: 下声明")


def test_a_province_does_not_see_a_city_declared_fact(tmp_path: Path) -> None:
    city = _copy_sets(tmp_path)
    clause = tmp_path / "decl_province" / "clauses" / "refund_screening.yaml"
    clause.write_text(clause.read_text(encoding="utf-8").replace("not unit.zombie_enterprise",
                                                                 '\'"services" in unit.sectors\''), encoding="utf-8")
    assert [e.found for e in analyse(load_rule_set(tmp_path / "decl_province")).errors] == ["unit.sectors"]
    assert analyse(load_rule_set(city)).errors == []   # the city's own facts are visible in inherited clauses


def _cli(capsys: pytest.CaptureFixture[str], tmp_path: Path, *argv: str, facts: dict | None = None) -> str:
    from policy_dsl.cli import main

    case = tmp_path / "case.json"
    case.write_text(json.dumps(facts or CASE, ensure_ascii=False), encoding="utf-8")
    main([a.replace("CASE", str(case)) for a in argv])
    return capsys.readouterr().out


def test_the_explanation_uses_the_declared_labels(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    dishonest = {**CASE, "unit": {**CASE["unit"], "credit_level": "seriously_dishonest"}}
    text = _cli(capsys, tmp_path, "explain", str(CITY), "CASE", facts=dishonest)
    assert "不符合“非严重失信”：信用等级为严重失信" in text
    assert "unit.credit_level" not in text and "seriously_dishonest" not in text
    unit = {k: v for k, v in CASE["unit"].items() if k not in ("zombie_enterprise", "credit_level")}
    text = _cli(capsys, tmp_path, "explain", str(CITY), "CASE", facts={**CASE, "unit": unit})
    assert "请提供：信用等级、僵尸企业\n" in text        # what is missing, in the staff's words
    assert "“非僵尸企业”尚不能确定：缺少僵尸企业" in text


def test_the_load_cache_keys_on_the_declared_facts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POLICY_DSL_CACHE", str(tmp_path / "cache"))
    city = _copy_sets(tmp_path / "sets")
    assert _values(load(city), CASE)["city_bonus.eligible"] is True
    assert _values(load(city), CASE)["city_bonus.eligible"] is True              # from the cache
    manifest = tmp_path / "sets" / "decl_province" / "policy-set.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(
        "values: {good: 良好, seriously_dishonest: 严重失信}", "values: {excellent: 优秀, seriously_dishonest: 严重失信}"),
        encoding="utf-8")
    with pytest.raises(CheckFailed):        # `"good"` is no longer a value of the base's declared fact
        load(city)
    assert Decimal(_values(load(FIXTURES / "decl_city"), CASE)["city_bonus.amount"]) == Decimal("1000.00")


# --- editions (supersedes) see and extend their predecessor's declared facts ---------------------------

_NEXT_MANIFEST = """name: decl_next
title: 测试用省级规则集（新一版）
jurisdiction: 某省
supersedes: decl_province
documents:
  - {id: 某人社发〔2023〕1号, title: 新一版测试通知, date: 2023-03-01}
facts:
  unit.under_investigation: {type: bool, zh: 正在接受立案调查}
"""
_NEXT_PATCH = """id: refund_screening
source: {document: 某人社发〔2023〕1号, article: 一}
conditions:
  未被立案调查: {expr: not unit.under_investigation, new: true}
conclusions:
  not_excluded:
    expr: 非僵尸企业 and 非严重失信 and 欠费已清或按期整改 and 裁员率达标 and 未被立案调查
"""


def _edition(tmp_path: Path, manifest: str = _NEXT_MANIFEST) -> Path:
    shutil.copytree(PROVINCE, tmp_path / "decl_province")
    (tmp_path / "decl_next" / "clauses").mkdir(parents=True)
    (tmp_path / "decl_next" / "policy-set.yaml").write_text(manifest, encoding="utf-8")
    (tmp_path / "decl_next" / "clauses" / "refund_screening.yaml").write_text(_NEXT_PATCH, encoding="utf-8")
    return tmp_path / "decl_next"


def test_an_edition_uses_its_predecessors_declared_facts_and_its_own(tmp_path: Path) -> None:
    edition = _edition(tmp_path)
    rs = load_rule_set(edition)
    assert [a.name for a in ancestors(rs)] == ["decl_province"]
    assert [s.path for s in declared_by_sets(rs.vocab)][-1] == "unit.under_investigation"
    assert analyse(rs).errors == []
    engine = load(edition)
    unit = {k: v for k, v in CASE["unit"].items() if k not in ("sectors", "key_staff")}   # the city's facts
    assert _values(engine, {**CASE, "unit": {**unit, "under_investigation": False}})["refund_screening.not_excluded"] is True
    assert _values(engine, {**CASE, "unit": {**unit, "under_investigation": True}})["refund_screening.not_excluded"] is False
    undecided = _values(engine, {**CASE, "unit": unit})["refund_screening.not_excluded"]
    assert undecided["missing"] == ["unit.under_investigation"] and "正在接受立案调查" in undecided["reason"]


def test_an_edition_cannot_redefine_its_predecessors_fact(tmp_path: Path) -> None:
    edition = _edition(tmp_path, _NEXT_MANIFEST + "  unit.zombie_enterprise: {type: bool, zh: 僵尸企业（新）}\n")
    [error] = _errors(edition)
    assert error.message.startswith("事实 unit.zombie_enterprise 已由规则集 decl_province 声明")
    assert (error.span.line, error.span.column) == (9, 3)
