"""The SQL backend (policy_dsl.sql): DuckDB against the Python engine, cell for cell.

Hand-worked cases pin the semantics (half-up at the fen, month-end dates, Kleene
logic with its missing lists, delegated parameters with their reasons, exceptions
by priority, household members); the differential run compares every cell of
generated rows, undetermined cells and their missing lists included.
"""
from __future__ import annotations

import csv
import json

import pytest
import sqlglot

from policy_dsl.cli import main
from policy_dsl.engine import CaseError, load
from policy_dsl.errors import FactsError, PolicyError
from policy_dsl.sql.cases import write_csv
from policy_dsl.sql.dialects import DIALECTS, render
from policy_dsl.sql.duckdb_run import RowResult, compile_sql, row_facts, run_duckdb
from policy_dsl.sql.plan import build_plan

UNIT = {"unit.kind": "enterprise", "unit.size": "large", "unit.ui_insured": "true", "unit.insured_headcount": "100",
        "unit.layoffs": "0", "unit.ui_contribution_last_year": "1234.55", "unit.insured_headcount_end_2020": "150",
        "unit.application_date": "2021-11-30", "region.ui_fund_reserve_months": "12", "as_of": "2021-09-01"}


def _write(path, rows: list[dict[str, str]]) -> str:
    columns = sorted({c for r in rows for c in r})
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=columns)
        w.writeheader()
        w.writerows(rows)
    return str(path)


def _python(engine, cells: dict, index: int):
    try:
        return RowResult(index, engine.evaluate(row_facts(cells, engine)))
    except FactsError as exc:
        return CaseError(index, tuple(exc.problems))
    except PolicyError as exc:
        return CaseError(index, (("", exc.render()),))


def _both(tmp_path, name: str, rows: list[dict[str, str]]):
    engine = load(name)
    got = list(run_duckdb(engine, _write(tmp_path / "in.csv", rows)))
    want = [_python(engine, cells, i) for i, cells in enumerate(rows)]
    assert got == want
    return [r.result["clauses"] for r in got]


def test_money_rounds_half_up_at_the_fen(tmp_path):
    # 1234.55 × 30% = 370.365 → 370.37 (half-up; banker's rounding would give 370.36)
    # 1234.575 × 60% = 740.745 → 740.75
    other = {**UNIT, "unit.size": "medium", "unit.ui_contribution_last_year": "1234.575"}
    clauses = _both(tmp_path, "fushun", [UNIT, other])
    assert clauses[0]["stable_job_refund"]["conclusions"]["amount"] == "370.37"
    assert clauses[1]["stable_job_refund"]["conclusions"]["amount"] == "740.75"
    assert clauses[1]["stable_job_refund"]["conclusions"]["max_refund_rate"] == "0.6"


def test_delegated_parameter_is_undetermined_with_its_reason(tmp_path):
    sjr = _both(tmp_path, "liaoning", [{**UNIT, "unit.size": "small"}])[0]["stable_job_refund"]["conclusions"]
    assert sjr["eligible"] is True
    assert sjr["refund_rate"] == {"undetermined": True, "missing": ["中小微企业及其他单位返还比例"],
                                  "reason": "由各市确定，不超过60%"}
    assert sjr["max_amount"] == "740.73"  # 1234.55 × 60% = 740.73


def test_kleene_logic_decides_what_the_known_facts_decide(tmp_path):
    # kind "other" is not an insured unit: not eligible whatever the missing layoff facts say
    other = {k: v for k, v in UNIT.items() if k not in ("unit.layoffs", "unit.insured_headcount")}
    unknown = dict(other)
    other["unit.kind"] = "other"
    rows = _both(tmp_path, "fushun", [other, unknown])
    assert rows[0]["stable_job_refund"]["conclusions"]["eligible"] is False
    assert rows[0]["stable_job_refund"]["conclusions"]["amount"] == "0.00"
    eligible = rows[1]["stable_job_refund"]["conclusions"]["eligible"]
    # 未裁员 needs the layoffs; which ceiling applies (20% or 6%) needs the headcount
    assert eligible["missing"] == ["unit.insured_headcount", "unit.layoffs"]


def test_exception_by_priority_and_agreeing_candidates(tmp_path):
    late = {**UNIT, "unit.application_date": "2022-01-05"}                      # auto_pay → in time anyway
    unsure_late = {**late, "region.ui_fund_reserve_months": ""}                 # auto_pay unknown, base false
    unsure_on_time = {**UNIT, "region.ui_fund_reserve_months": ""}              # auto_pay unknown, both true
    rows = _both(tmp_path, "fushun", [late, unsure_late, unsure_on_time])
    assert rows[0]["stable_job_refund"]["conclusions"]["application_in_time"] is True
    assert rows[1]["stable_job_refund"]["conclusions"]["application_in_time"]["missing"] == \
        ["region.ui_fund_reserve_months"]
    assert rows[2]["stable_job_refund"]["conclusions"]["application_in_time"] is True


def test_dates_follow_the_month_end_rule(tmp_path):
    # 2024-02-29 − 5 years = 2019-02-28 (the month has no 29th): 以内 counts from that day on
    person = {"person.registered_unemployed": "true", "person.statutory_retirement_date": "2024-02-29",
              "person.identities": "[]", "person.zero_employment_family": "false"}
    rows = _both(tmp_path, "liaoning", [{**person, "as_of": "2019-02-28"}, {**person, "as_of": "2019-02-27"}])
    assert "near_retirement_unemployed" in rows[0]["employment_difficulty"]["conclusions"]["categories"]
    assert "near_retirement_unemployed" not in rows[1]["employment_difficulty"]["conclusions"]["categories"]


def test_household_members_missing_fields_are_named_by_position(tmp_path):
    full = {"working_age": True, "able_to_work": True, "wants_work": True, "employed": False,
            "has_business_or_investment_income": False}
    gap = {k: v for k, v in full.items() if k != "employed"}
    rows = _both(tmp_path, "liaoning", [{"household.urban": "true", "household.members": json.dumps([full, gap])},
                                        {"household.urban": "true", "household.members": json.dumps([full, full])}])
    zero = rows[0]["zero_employment_family"]["conclusions"]["is_zero_employment_family"]
    assert zero["missing"] == ["household.members[1].employed"]
    assert rows[1]["zero_employment_family"]["conclusions"]["is_zero_employment_family"] is True


def test_rows_sql_does_not_take_go_to_the_python_engine(tmp_path):
    bad = {**UNIT, "unit.layoffs": "three"}                       # a facts error, in the engine's words
    zero = {**UNIT, "unit.layoffs": "2", "unit.insured_headcount": "0"}  # division by zero
    fine = {**UNIT, "unit.ui_contribution_last_year": "1234.56789"}  # more places than DECIMAL(18, 4)
    engine = load("fushun")
    got = list(run_duckdb(engine, _write(tmp_path / "in.csv", [bad, zero, fine])))
    assert isinstance(got[0], CaseError) and got[0].problems[0][0] == "unit.layoffs"
    assert isinstance(got[1], CaseError) and "除数为零" in got[1].problems[0][1]
    assert got[2].result["clauses"]["stable_job_refund"]["conclusions"]["amount"] == "370.37"  # 370.370367


@pytest.mark.parametrize("name", ["liaoning", "fushun"])
def test_differential_generated_rows(tmp_path, name):
    engine = load(name)
    path = write_csv(engine, tmp_path / "cases.csv", 4000, start=11)
    got = list(run_duckdb(compile_sql(engine), path))
    with open(path, newline="", encoding="utf-8") as f:
        want = [_python(engine, cells, i) for i, cells in enumerate(csv.DictReader(f))]
    assert len(got) == len(want) == 4000
    undetermined = 0
    for a, b in zip(got, want):
        assert a == b, (a, b)
        if isinstance(a, RowResult):
            undetermined += sum(isinstance(v, dict) for c in a.result["clauses"].values()
                                for v in c["conclusions"].values())
    assert undetermined > 4000  # the run exercises missing lists, not only known values


def test_coverage_lists_what_python_computes(capsys):
    assert main(["sql", "liaoning", "--coverage"]) == 0
    out = capsys.readouterr().out
    assert "python  stable_job_refund.layoff_rate" in out
    assert "sql     stable_job_refund.amount" in out
    engine = load("liaoning")
    plan = compile_sql(engine).plan
    every = {f"{c}.{n}" for c, cl in engine.rule_set.clauses.items() for n in cl.conclusions}
    assert set(plan.outputs) | set(plan.python) == every  # nothing dropped


@pytest.mark.parametrize("dialect", DIALECTS)
def test_every_dialect_renders_parseable_sql(dialect):
    engine = load("fushun")
    facts = {p: s.type for p, s in engine.vocab.facts.items()}
    one = [f"stable_job_refund.{n}" for n in engine.rule_set.clauses["stable_job_refund"].conclusions]
    for keys in (None, one):  # the whole set; one subject, known rows first (UNION ALL)
        text = render(build_plan(engine.rule_set, engine.analysis, facts, keys).query, dialect)
        assert sqlglot.parse_one(text, read=dialect) is not None
        for ours in ("EXACT_DIV", "ELEM_INDEX", "MISSING(", "CHECKED("):
            assert ours not in text.upper()


def test_cli_prints_one_clause_and_rejects_unknown(capsys):
    assert main(["sql", "fushun", "--clause", "stable_job_refund", "--dialect", "spark"]) == 0
    out = capsys.readouterr().out
    assert "`stable_job_refund.amount`" in out and "allowPrecisionLoss=false" in out
    assert "employment_difficulty" not in out.split("WITH", 1)[1]
    assert main(["sql", "fushun", "--clause", "stable_job_refnd"]) == 2
    assert "stable_job_refund" in capsys.readouterr().err


def _exact_rows(con, sql_expr, **columns):
    import pyarrow as pa

    con.register("t", pa.table(columns))
    query = render(sqlglot.expressions.Select().select(sql_expr).from_("t"), "duckdb", pretty=False)
    return [r[0] for r in con.execute(query).fetchall()]


def test_quotient_of_integers_is_exact_on_both_paths():
    """ExactDiv of integers on DuckDB: 64-bit steps when |b| < 10^9, 128-bit otherwise; each half-up
    to 18 places, as the exact fraction says (signs, remainders just under a half, the bounds)."""
    import random
    from decimal import Context, Decimal
    from fractions import Fraction

    import duckdb
    import pyarrow as pa

    from policy_dsl.sql.dialects import ExactDiv
    from policy_dsl.sql.translate import col

    rng = random.Random(5)
    pairs = [(1, 3), (2, 3), (-2, 3), (2, -3), (0, 7), (10 ** 18 - 1, 10 ** 9 - 1), (-(10 ** 18 - 1), 3),
             (1, 2 * 10 ** 18 // 2), (5, 10 ** 9), (10 ** 18, 3), (-7, 10 ** 10), (1, 999999937)]
    for _ in range(20_000):
        b = rng.choice([rng.randint(1, 500), rng.randint(1, 10 ** 9 - 1), rng.randint(10 ** 9, 10 ** 12)]) * rng.choice([1, -1])
        pairs.append((rng.choice([rng.randint(-10 ** 4, 10 ** 4), rng.randint(-10 ** 18 + 1, 10 ** 18 - 1)]), b))
    con = duckdb.connect()
    got = _exact_rows(con, ExactDiv(this=col("a"), expression=col("b"), num_scale=0, den_scale=0),
                      a=pa.array([a for a, _ in pairs], pa.int64()), b=pa.array([b for _, b in pairs], pa.int64()))
    for (a, b), value in zip(pairs, got):
        scaled = abs(Fraction(a, b)) * 10 ** 18
        units = int(scaled) + (1 if scaled - int(scaled) >= Fraction(1, 2) else 0)
        assert value == Decimal(units if a * b >= 0 else -units).scaleb(-18, Context(prec=60)), (a, b)


def test_rounding_half_up_in_64_and_128_bits():
    from decimal import ROUND_HALF_UP, Decimal

    import duckdb
    import pyarrow as pa

    from policy_dsl.sql.dialects import cast, dec, round_half_up
    from policy_dsl.sql.translate import col

    texts = ["370.365", "-370.365", "0.005", "-0.005", "0.004999", "999999999999.994999", "999999999999.995",
             "-999999999999.995", "1000000000000.005", "-1000000000000.005", "12345678901234567.125", "0"]
    con = duckdb.connect()
    got = _exact_rows(con, round_half_up(cast(col("x"), dec(6)), 6, 2), x=pa.array([Decimal(t) for t in texts],
                                                                                 pa.decimal128(38, 6)))
    assert got == [Decimal(t).quantize(Decimal("0.01"), ROUND_HALF_UP) for t in texts]


def test_large_numbers_beyond_the_64_bit_gates_go_to_python(tmp_path):
    """A contribution of 5 trillion yuan (beyond the 10^12 gate of 64-bit money) and a headcount of
    10^16 (beyond 10^15) are rechecked rows: the Python engine decides them, exactly."""
    big_money = {**UNIT, "unit.ui_contribution_last_year": "5000000000000.0001"}
    big_count = {**UNIT, "unit.insured_headcount": str(10 ** 16), "unit.layoffs": str(10 ** 14)}
    clauses = _both(tmp_path, "fushun", [big_money, big_count, UNIT])
    assert clauses[0]["stable_job_refund"]["conclusions"]["amount"] == "1500000000000.00"  # 30% for a large firm
    assert clauses[1]["stable_job_refund"]["conclusions"]["eligible"] is True  # 1% laid off
    engine = load("fushun")
    facts = {p: s.type for p, s in engine.vocab.facts.items()}
    keys = [f"stable_job_refund.{n}" for n in engine.rule_set.clauses["stable_job_refund"].conclusions]
    import duckdb

    from policy_dsl.sql.duckdb_run import load_file

    con = duckdb.connect()  # the printed query flags the rows the runner above handed to Python
    load_file(con, _write(tmp_path / "big.csv", [big_money, big_count, UNIT]), compile_sql(engine), None)
    query = render(build_plan(engine.rule_set, engine.analysis, facts, keys).query, "duckdb", pretty=False)
    flags = [r[0] for r in con.execute(f"SELECT _recheck FROM ({query}) ORDER BY _row").fetchall()]
    assert flags == [True, True, False]


@pytest.mark.parametrize("name", ["liaoning", "fushun"])
def test_one_subject_query_known_rows_first_equals_the_general_form(tmp_path, name):
    """The printed query of one clause runs rows with every fact known through columns specialised
    for them (known.py), UNION ALL the rest: per row it equals the same query without the split,
    cell for cell (values, types, missing lists), and both branches take rows."""
    import duckdb

    from policy_dsl.sql.duckdb_run import load_file

    engine = load(name)
    path = write_csv(engine, tmp_path / "cases.csv", 3000, start=17, unknown=0.04)
    con = duckdb.connect()
    load_file(con, str(path), compile_sql(engine), None)
    con.execute("CREATE TABLE f AS SELECT * FROM facts WHERE NOT _invalid")
    con.execute("CREATE OR REPLACE VIEW facts AS SELECT * FROM f")
    facts = {p: s.type for p, s in engine.vocab.facts.items()}
    for cid in ("stable_job_refund", "zero_employment_family"):
        keys = [f"{cid}.{n}" for n in engine.rule_set.clauses[cid].conclusions]
        plain = render(build_plan(engine.rule_set, engine.analysis, facts, keys, known_first=False).query, "duckdb")
        union = build_plan(engine.rule_set, engine.analysis, facts, keys).query
        text = render(union, "duckdb", pretty=False)
        assert "UNION ALL" in text and "UNION ALL" not in plain
        want = con.execute(plain + " ORDER BY _row").fetchall()
        got = con.execute(text + " ORDER BY _row").fetchall()
        assert [tuple(map(str, r)) for r in got] == [tuple(map(str, r)) for r in want]
        known = union.this.copy()
        known.set("with_", union.args["with_"].copy())
        specialised = con.execute(f"SELECT count(*) FROM ({render(known, 'duckdb', pretty=False)})").fetchall()[0][0]
        assert 0 < specialised < len(got)  # both branches take rows


def test_conclusion_option_prints_only_those_columns_with_the_clauses_values(tmp_path, capsys):
    """`--conclusion ID.NAME` computes just those conclusions (and their missing lists): per row the
    same cells as the whole clause's query; an unknown name is a usage error with a suggestion."""
    import duckdb

    from policy_dsl.sql.duckdb_run import load_file

    engine = load("fushun")
    path = write_csv(engine, tmp_path / "cases.csv", 2000, start=5, unknown=0.1)
    con = duckdb.connect()
    load_file(con, str(path), compile_sql(engine), None)
    con.execute("CREATE TABLE f AS SELECT * FROM facts WHERE NOT _invalid")
    con.execute("CREATE OR REPLACE VIEW facts AS SELECT * FROM f")
    picked = ["stable_job_refund.amount", "stable_job_refund.payable"]
    assert main(["sql", "fushun", *(x for key in picked for x in ("--conclusion", key))]) == 0
    narrow = capsys.readouterr().out
    assert main(["sql", "fushun", "--clause", "stable_job_refund"]) == 0
    whole = capsys.readouterr().out
    columns = [*picked, *(f"{k}#missing" for k in picked)]
    select = ", ".join(f'"{c}"' for c in columns)
    got = con.execute(f"SELECT _row, {select} FROM ({narrow.rstrip().rstrip(';')}) ORDER BY _row").fetchall()
    want = con.execute(f"SELECT _row, {select} FROM ({whole.rstrip().rstrip(';')}) ORDER BY _row").fetchall()
    assert got == want and len(got) > 1000
    out_columns = [d[0] for d in con.execute(f"SELECT * FROM ({narrow.rstrip().rstrip(';')}) LIMIT 0").description]
    assert [c for c in out_columns if c.startswith("stable_job_refund.")] == \
        ["stable_job_refund.amount", "stable_job_refund.amount#missing", "stable_job_refund.payable",
         "stable_job_refund.payable#missing"]
    assert main(["sql", "fushun", "--conclusion", "stable_job_refund.amout"]) == 2
    assert "did you mean: amount" in capsys.readouterr().err


def test_specialised_columns_fold_only_what_known_facts_decide():
    """known.fold: IS NULL of a known column is FALSE and the Kleene forms fold; a list element's field
    (inside a lambda) and a CASE without ELSE stay as they are: they can be NULL with every fact known."""
    from policy_dsl.sql.known import fold, nonnull

    def folded(text: str, known: set[str]) -> str:
        return fold(sqlglot.parse_one(text, read="duckdb"), known).sql(dialect="duckdb")

    assert folded("CASE WHEN c THEN x WHEN NOT (c) THEN y WHEN x = y THEN x END", {"c"}) == \
        "CASE WHEN c THEN x ELSE y END"
    assert folded("CASE WHEN a IS NULL THEN 4 ELSE 0 END | CASE WHEN b IS NULL THEN 8 ELSE 0 END", {"a", "b"}) == "0"
    assert folded("CASE WHEN a IS NULL THEN 4 ELSE 0 END | CASE WHEN b IS NULL THEN 8 ELSE 0 END", {"a"}) == \
        "CASE WHEN b IS NULL THEN 8 ELSE 0 END"
    assert folded("NOT a IS NULL OR NOT b IS NULL", {"b"}) == "TRUE"
    assert folded("COALESCE(a = 0, FALSE)", {"a"}) == "a = 0"
    assert not nonnull(sqlglot.parse_one("CASE WHEN a > 0 THEN 1 END"), {"a"})  # no ELSE: NULL where a <= 0
    ex = sqlglot.expressions  # a member's field as the translator spells it inside a lambda
    field = ex.Dot(this=ex.to_identifier("_e0"), expression=ex.to_identifier("working_age"))
    test = ex.Is(this=field, expression=ex.Null())
    assert fold(test.copy(), {"household.members", "_e0", "working_age"}) == test
