"""policy batch end to end on the fushun rule set: every row accounted for, encodings, the three
input formats agree, each output row is exactly `policy eval --format json`, and the summary's
payout is the hand-worked one.

Hand-worked payout of examples/register-fushun.csv (抚人社发〔2021〕20号 一: 60% for 中小微 and
non-enterprise units, 30% for large enterprises; 辽人社发〔2021〕7号 一（一）: 免申即享 when
eligible and at most 200 insured at the end of 2020, otherwise apply by 2021-12-31):
  row 1  medium, 4/100 = 4% <= 6%          50000.00 x 60% = 30000.00     免申即享
  row 2  small, 25 insured, 5/25 = 20% <= 20%  12345.67 x 60% = 7407.402 -> 7407.40   免申即享
  row 3  large, 30/1500 = 2%, 1480 > 200   1000000.05 x 30% = 300000.015 -> 300000.02, applied 2021-11-11
  row 4  large, 880 > 200, applied 2022-01-05: late, 480000.00 x 30% = 144000.00 not paid
  row 5  law firm, no layoffs              3600.00 x 60% = 2160.00        免申即享
  row 6  layoffs missing -> undetermined
  row 7  8/40 = 20% > 6% (more than 30 insured) -> not eligible
  row 8  not insured -> not eligible
  row 9  headcount "三十" -> error row;   row 12 size "mini" -> error row
  row 10 social service agency             5400.00 x 60% = 3240.00        免申即享
  row 11 260 at end of 2020 missing, applied 2021-10-08 in time: 130000.00 x 60% = 78000.00 paid
  免申即享 30000.00 + 7407.40 + 2160.00 + 3240.00 = 42807.40; paid 42807.40 + 300000.02 + 78000.00 = 420807.42
"""
from __future__ import annotations

import csv
import functools
import json
from decimal import Decimal
from pathlib import Path

import pytest

import policy_dsl.engine
from policy_dsl.cli import main

ROOT = Path(__file__).resolve().parent.parent
FUSHUN = str(ROOT / "policies" / "fushun")
REGISTER = ROOT / "examples" / "register-fushun.csv"
_load = functools.lru_cache(maxsize=4)(policy_dsl.engine.load)


@pytest.fixture(autouse=True)
def _loaded_once(monkeypatch):
    monkeypatch.setattr(policy_dsl.engine, "load", _load)  # compile each rule set once for the whole module


def run(capsys, *args) -> tuple[int, str, str]:
    code = main(["batch", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_example_register_payout_and_accounting(tmp_path, capsys):
    out = tmp_path / "payout.jsonl"
    code, text, err = run(capsys, FUSHUN, REGISTER, "--out", out, "--clause", "stable_job_refund")
    assert code == 1  # two rows are in the errors file
    assert err == ""  # not a terminal: no progress bar, only the summary
    rows, errors = jsonl(out), jsonl(tmp_path / "payout.jsonl.errors.jsonl")
    assert [r["row"] for r in rows] == [1, 2, 3, 4, 5, 6, 7, 8, 10, 11]
    assert [e["row"] for e in errors] == [9, 12]
    assert errors[0]["problems"] == [{"column": "unit.insured_headcount", "value": "三十", "message": "“三十”不是整数"}]
    assert errors[1]["problems"][0]["column"] == "unit.size" and errors[1]["line"] == 13
    amounts = {r["row"]: r["clauses"]["stable_job_refund"]["conclusions"]["amount"] for r in rows}
    assert amounts[2] == "7407.40" and amounts[3] == "300000.02" and amounts[4] == "144000.00"
    assert "共 12 行 = 已求值 10 行 + 错误 2 行" in text
    assert "免申即享（auto_pay）：4 行，稳岗返还金额合计 42,807.40 元" in text
    assert "已在申请期限内申请（非免申即享，或是否免申即享未确定）：2 行，稳岗返还金额合计 378,000.02 元" in text
    assert "拨付合计：420,807.42 元" in text
    assert "逾期申请（不拨付）：1 行，稳岗返还金额 144,000.00 元 不计入拨付" in text
    assert "上年度裁员人数（unit.layoffs）：1 行" in text


def test_rows_in_equal_rows_out_plus_error_rows_with_corrupt_rows(tmp_path, capsys):
    header = "unit.kind,unit.ui_insured,unit.insured_headcount,unit.layoffs,unit.ui_contribution_last_year"
    good = "enterprise,是,10,0,100.00"
    lines = [header]
    corrupt = {7: "enterprise,是,10,0", 13: "enterprise,maybe,10,0,100.00", 21: "enterprize,是,10,0,100.00",
               22: "", 30: "enterprise,是,10,0,1.2.3", 41: 'enterprise,是,10,"0,100.00'}
    for n in range(1, 51):
        lines.append(corrupt.get(n, good))
    register = tmp_path / "r.csv"
    register.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, text, _ = run(capsys, FUSHUN, register, "--out", tmp_path / "o.jsonl")
    rows, errors = jsonl(tmp_path / "o.jsonl"), jsonl(tmp_path / "o.jsonl.errors.jsonl")
    # row 41 opens a quote that is never closed: the rest of the file reads as one record
    assert [e["row"] for e in errors] == [7, 13, 21, 22, 30, 41]
    assert len(rows) + len(errors) == 41 and code == 1
    assert "第 42–51 行被读成一条记录" in errors[-1]["problems"][0]["message"]
    assert "空行" in errors[3]["problems"][0]["message"]
    assert errors[2]["problems"][0]["column"] == "unit.kind"
    assert "共 41 行 = 已求值 35 行 + 错误 6 行" in text


def test_encodings_bom_and_gb18030(tmp_path, capsys):
    text = "unit.name,unit.kind,unit.size\n抚顺某公司,企业,中型\n"
    for name, data in (("bom.csv", b"\xef\xbb\xbf" + text.encode()), ("gbk.csv", text.encode("gb18030"))):
        (tmp_path / name).write_bytes(data)
    code, _, _ = run(capsys, FUSHUN, tmp_path / "bom.csv", "--out", tmp_path / "a.jsonl")
    assert code == 0
    code, _, _ = run(capsys, FUSHUN, tmp_path / "gbk.csv", "--out", tmp_path / "b.jsonl", "--encoding", "gb18030")
    assert code == 0
    assert jsonl(tmp_path / "a.jsonl") == jsonl(tmp_path / "b.jsonl")
    code, _, _ = run(capsys, FUSHUN, tmp_path / "gbk.csv", "--out", tmp_path / "c.jsonl")  # GBK read as UTF-8
    errors = jsonl(tmp_path / "c.jsonl.errors.jsonl")
    assert code == 1 and "--encoding gb18030" in errors[0]["problems"][0]["message"]
    assert {p["column"] for p in errors[0]["problems"]} == {"unit.name", "unit.kind", "unit.size"}


def test_usage_errors_exit_2_and_write_nothing(tmp_path, capsys):
    register = tmp_path / "r.csv"
    register.write_text("unit.kind,unit.layofs\nenterprise,3\n", encoding="utf-8")
    code, _, err = run(capsys, FUSHUN, register, "--out", tmp_path / "o.jsonl")
    assert code == 2 and "did you mean: unit.layoffs" in err
    code, _, err = run(capsys, FUSHUN, REGISTER, "--out", tmp_path / "o.jsonl", "--clause", "stable_job_refnd")
    assert code == 2 and "stable_job_refund" in err
    code, _, err = run(capsys, FUSHUN, tmp_path / "r.xlsx", "--out", tmp_path / "o.jsonl")
    assert code == 2 and ".csv" in err
    code, _, err = run(capsys, FUSHUN, REGISTER, "--out", tmp_path / "o.jsonl", "--encoding", "big-5x")
    assert code == 2 and "gb18030" in err
    code, _, err = run(capsys, FUSHUN, REGISTER, "--out", tmp_path / "o.jsonl", "--errors", tmp_path / "o.jsonl")
    assert code == 2 and "同一个文件" in err
    assert list(tmp_path.iterdir()) == [register]


def _parquet_register(path: Path) -> None:
    """examples/register-fushun.csv's good rows as typed Parquet columns (decimal money, date32)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with REGISTER.open(encoding="utf-8") as f:
        records = [r for i, r in enumerate(csv.DictReader(f), 1) if i not in (9, 12)]
    from policy_dsl.batch.cells import parser_for
    from policy_dsl.vocabulary import vocabulary

    vocab = vocabulary()
    columns = {name: [parser_for(vocab.facts[name])(r[name]) if r[name].strip() else None for r in records]
               for name in records[0]}
    types = {"int": pa.int64(), "money": pa.decimal128(18, 2), "decimal": pa.decimal128(10, 1), "date": pa.date32(),
             "bool": pa.bool_()}
    table = pa.table({name: pa.array(values, type=types.get(vocab.facts[name].type.kind, pa.string()))
                      for name, values in columns.items()})
    pq.write_table(table, path)


def _jsonl_register(path: Path) -> None:
    with REGISTER.open(encoding="utf-8") as f:
        records = [r for i, r in enumerate(csv.DictReader(f), 1) if i not in (9, 12)]
    from policy_dsl.batch.cells import parser_for
    from policy_dsl.vocabulary import vocabulary

    vocab = vocabulary()
    with path.open("w", encoding="utf-8") as out:
        for r in records:
            case: dict = {}
            for name, cell in r.items():
                if cell.strip():
                    subject, field = name.split(".")
                    case.setdefault(subject, {})[field] = parser_for(vocab.facts[name])(cell)
            out.write(json.dumps(case, ensure_ascii=False, default=str) + "\n")


def test_csv_jsonl_parquet_inputs_agree(tmp_path, capsys):
    _parquet_register(tmp_path / "r.parquet")
    _jsonl_register(tmp_path / "r.jsonl")
    outputs = {}
    for name in ("r.parquet", "r.jsonl"):
        code, _, _ = run(capsys, FUSHUN, tmp_path / name, "--out", tmp_path / f"{name}.out.jsonl")
        assert code == 0
        outputs[name] = jsonl(tmp_path / f"{name}.out.jsonl")
    run(capsys, FUSHUN, REGISTER, "--out", tmp_path / "csv.out.jsonl")
    from_csv = jsonl(tmp_path / "csv.out.jsonl")
    assert len(from_csv) == 10
    strip = [{k: v for k, v in r.items() if k != "row"} for r in from_csv]
    for rows in outputs.values():
        assert [r["row"] for r in rows] == list(range(1, 11))
        assert [{k: v for k, v in r.items() if k != "row"} for r in rows] == strip


def test_csv_jsonl_parquet_outputs_agree(tmp_path, capsys):
    import pyarrow.parquet as pq

    for fmt in ("jsonl", "csv", "parquet"):
        run(capsys, FUSHUN, REGISTER, "--out", tmp_path / f"o.{fmt}", "--clause", "stable_job_refund",
            "--keep", "unit.name")
    rows = jsonl(tmp_path / "o.jsonl")
    with (tmp_path / "o.csv").open(encoding="utf-8-sig") as f:
        table = list(csv.DictReader(f))
    parquet = pq.read_table(tmp_path / "o.parquet").to_pylist()
    assert len(rows) == len(table) == len(parquet) == 10
    for r, c, p in zip(rows, table, parquet):
        assert int(c["row"]) == p["row"] == r["row"]
        assert c["unit.name"] == p["unit.name"]
        for name, value in r["clauses"]["stable_job_refund"]["conclusions"].items():
            column = f"stable_job_refund.{name}"
            if isinstance(value, dict):      # undetermined: empty / null, and named in 待补充事实
                assert c[column] == "" and p[column] is None
                assert set(value["missing"]) <= set(p["待补充事实"])
            elif isinstance(value, bool):
                assert c[column] == str(value).lower() and p[column] is value
            elif name in ("amount", "max_amount"):
                assert c[column] == value and p[column] == Decimal(value)
            else:
                assert c[column] == value and str(p[column]) == value
    assert table[5]["待补充事实"] == "申请日期（unit.application_date）；上年度裁员人数（unit.layoffs）"


def test_each_row_is_exactly_policy_eval_json(tmp_path, capsys):
    """Every row, and with --clause (only that clause is computed) the same object cut to that clause."""
    run(capsys, FUSHUN, REGISTER, "--out", tmp_path / "o.jsonl")
    run(capsys, FUSHUN, REGISTER, "--out", tmp_path / "one.jsonl", "--clause", "stable_job_refund")
    _jsonl_register(tmp_path / "r.jsonl")
    cases = (tmp_path / "r.jsonl").read_text(encoding="utf-8").splitlines()
    for row, one, case in zip(jsonl(tmp_path / "o.jsonl"), jsonl(tmp_path / "one.jsonl"), cases, strict=True):
        facts = tmp_path / "case.json"
        facts.write_text(case, encoding="utf-8")
        assert main(["eval", FUSHUN, str(facts), "--format", "json"]) == 0
        printed = json.loads(capsys.readouterr().out)
        assert list(printed) == [k for k in row if k != "row"]  # same keys in the same order
        assert {"row": row["row"], **printed} == row
        cut = {**printed, "clauses": {"stable_job_refund": printed["clauses"]["stable_job_refund"]}}
        assert {"row": row["row"], **cut} == one
        assert list(one["clauses"]["stable_job_refund"]["conclusions"]) == \
            list(printed["clauses"]["stable_job_refund"]["conclusions"])


def test_rows_without_row_are_evaluation_v1(tmp_path, capsys):
    import jsonschema

    schema = json.loads((ROOT / "policy_dsl" / "schema" / "evaluation-v1.json").read_text(encoding="utf-8"))
    run(capsys, FUSHUN, REGISTER, "--out", tmp_path / "o.jsonl", "--explain")
    for row in jsonl(tmp_path / "o.jsonl"):
        assert set(row["explain"]) == {"stable_job_refund", "onthejob_training_subsidy"}
        jsonschema.validate({k: v for k, v in row.items() if k not in ("row", "explain")}, schema)


def test_as_of_and_float_money_in_parquet(tmp_path, capsys):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"unit.kind": ["enterprise", "enterprise"], "unit.ui_contribution_last_year": [1234.56, 0.1 + 0.2]})
    pq.write_table(table, tmp_path / "f.parquet")
    code, _, _ = run(capsys, FUSHUN, tmp_path / "f.parquet", "--out", tmp_path / "o.jsonl", "--as-of", "2021-09-01")
    assert code == 1
    [row], [error] = jsonl(tmp_path / "o.jsonl"), jsonl(tmp_path / "o.jsonl.errors.jsonl")
    assert row["as_of"] == "2021-09-01" and error["row"] == 2
    assert error["problems"][0]["column"] == "unit.ui_contribution_last_year"


def test_jsonl_rows_with_bad_facts_name_the_fact_path(tmp_path, capsys):
    (tmp_path / "r.jsonl").write_text('{"unit": {"kind": "enterprise"}}\n{"unit": {"layofs": 3}}\nnot json\n[1]\n',
                                      encoding="utf-8")
    code, _, _ = run(capsys, FUSHUN, tmp_path / "r.jsonl", "--out", tmp_path / "o.jsonl")
    errors = jsonl(tmp_path / "o.jsonl.errors.jsonl")
    assert code == 1 and [e["row"] for e in errors] == [2, 3, 4]
    assert errors[0]["problems"][0]["column"] == "unit.layofs" and "did you mean: layoffs" in errors[0]["problems"][0]["message"]
    assert errors[0]["problems"][0]["value"] == "3"


def test_explain_gives_the_deciding_condition_with_its_citation(tmp_path, capsys):
    run(capsys, FUSHUN, REGISTER, "--out", tmp_path / "o.csv", "--clause", "stable_job_refund", "--explain")
    with (tmp_path / "o.csv").open(encoding="utf-8-sig") as f:
        reasons = {int(r["row"]): r["理由"] for r in csv.DictReader(f)}
    from policy_dsl.vocabulary import vocabulary

    pay = vocabulary().clauses["stable_job_refund"].labels["payable"]  # 应予拨付
    basis = "（依据：抚人社发〔2021〕20号 一；辽人社发〔2021〕7号 一（一））"
    assert reasons[4] == f"{pay}：不符合。逾期申请，不予受理——申请日期2022年1月5日，晚于申请截止日期2021年12月31日" + basis
    assert reasons[7].startswith(f"{pay}：不符合——不符合“裁员率达标”：") and "裁员率20%，高于6%" in reasons[7]
    assert reasons[1].startswith(f"{pay}：符合——") and "免申即享：2020年末参保人数120人，在200人（含）以下" in reasons[1]
    assert reasons[6].startswith(f"{pay}：尚不能确定——") and "请提供：上年度裁员人数" in reasons[6]
    assert all(r.endswith(basis) for r in reasons.values())


def test_docs_show_real_output(tmp_path, capsys, monkeypatch):
    """docs/batch.md pastes the summary, the error lines and a reason: they are what the command prints."""
    import re

    doc = (ROOT / "docs" / "batch.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```text\n(.*?)```", doc, re.S)
    summary = next(b for b in blocks if b.startswith("批量求值"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    (tmp_path / "policies").symlink_to(ROOT / "policies")
    args = ["fushun", "examples/register-fushun.csv", "--out", "拨付清单.csv", "--clause", "stable_job_refund",
            "--keep", "unit.name"]
    code, out, _ = run(capsys, *args)
    assert code == 1 and out == summary
    errors = (tmp_path / "拨付清单.csv.errors.jsonl").read_text(encoding="utf-8")
    assert errors in blocks
    run(capsys, *args, "--explain")
    with (tmp_path / "拨付清单.csv").open(encoding="utf-8-sig") as f:
        reason = [r for r in csv.DictReader(f) if r["row"] == "4"][0]["理由"]
    assert reason + "\n" in blocks


def test_household_members_from_a_json_cell_jsonl_and_parquet_agree(tmp_path, capsys):
    """零就业家庭 (辽人社发〔2021〕7号 附件2 一、1): an urban household where no working-age member has a job
    and at least 2 working-age members able and wanting to work are without a job and without business
    income. Household 1: two such members -> true; household 2: one of them employed -> false;
    household 3: whether the second one is employed is unknown -> undetermined."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    def member(employed):
        return {"working_age": True, "able_to_work": True, "wants_work": True, "employed": employed,
                "has_business_or_investment_income": False}

    members = [[member(False), member(False)], [member(False), member(True)], [member(False), member(None)]]
    with (tmp_path / "h.csv").open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["household.urban", "household.members"])
        for m in members:
            w.writerow(["是", json.dumps([{k: v for k, v in x.items() if v is not None} for x in m])])
    (tmp_path / "h.jsonl").write_text("".join(
        json.dumps({"household": {"urban": True, "members": [{k: v for k, v in x.items() if v is not None}
                                                             for x in m]}}) + "\n" for m in members),
        encoding="utf-8")
    pq.write_table(pa.table({"household.urban": [True] * 3, "household.members": members}), tmp_path / "h.parquet")
    results = []
    for name in ("h.csv", "h.jsonl", "h.parquet"):
        code, _, _ = run(capsys, FUSHUN, tmp_path / name, "--out", tmp_path / f"{name}.out.jsonl",
                         "--clause", "zero_employment_family")
        assert code == 0
        results.append([r["clauses"]["zero_employment_family"]["conclusions"]["is_zero_employment_family"]
                        for r in jsonl(tmp_path / f"{name}.out.jsonl")])
    assert results[0] == results[1] == results[2]
    assert results[0][:2] == [True, False] and results[0][2]["undetermined"] is True


def test_kept_columns_need_not_be_facts(tmp_path, capsys):
    (tmp_path / "r.csv").write_text("统一社会信用代码,unit.kind\n91210400MA0XXXXX1,enterprise\n", encoding="utf-8")
    code, _, _ = run(capsys, FUSHUN, tmp_path / "r.csv", "--out", tmp_path / "o.csv", "--keep", "统一社会信用代码")
    assert code == 0
    with (tmp_path / "o.csv").open(encoding="utf-8-sig") as f:
        [row] = list(csv.DictReader(f))
    assert row["统一社会信用代码"] == "91210400MA0XXXXX1" and row["stable_job_refund.eligible"] == ""
    assert "unit.ui_insured" in row["待补充事实"]


def test_province_set_leaves_the_amount_to_the_city(tmp_path, capsys):
    """辽人社发〔2021〕7号 only caps the refund rate (按不超过……返还): each city sets it, so under the province
    set every amount of an eligible unit is undetermined and the payout is not a number. The rate is open
    for every row of its size class, eligible or not: 8 中小微/non-enterprise rows, 2 large ones."""
    code, text, _ = run(capsys, str(ROOT / "policies" / "liaoning"), REGISTER, "--out", tmp_path / "o.csv",
                        "--clause", "stable_job_refund")
    assert code == 1
    assert "拨付合计：未确定（6 行金额都未确定）" in text
    assert "中小微企业及其他单位返还比例（由各市确定，不超过60%）：8 行" in text
    assert "大型企业返还比例（由各市确定，不超过30%）：2 行" in text


def test_summary_names_a_sets_own_conclusion_by_its_rule_file_label(tmp_path, capsys):
    # onthejob_training_subsidy.in_force is liaoning's own conclusion (label: 以工代训政策在执行期内);
    # a register gives no application dates for it, so no row can be judged either way
    code, text, _ = run(capsys, FUSHUN, REGISTER, "--out", tmp_path / "all.jsonl")
    assert "  以工代训政策在执行期内（in_force）：是 0 行，否 0 行，未确定 10 行" in text.splitlines()
