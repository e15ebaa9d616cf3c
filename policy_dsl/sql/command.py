"""`policy sql SET [--dialect D] [--clause ID …] [--conclusion ID.NAME …] [--coverage]`: print the compiled query,
or what it covers. Registered from cli.PLUGGED_COMMANDS."""
from __future__ import annotations

import argparse

from ..errors import UsageError, did_you_mean
from .dialects import DIALECTS, QUOTIENT_SCALE, render
from .plan import Plan, build_plan

HEADER = """\
-- policy sql {name} --dialect {dialect}: 规则集 {name} 编译为 SQL（由 policy-dsl 生成，勿手改）
-- 输入：表或视图 facts，每行一个案例；列名为事实路径（如 "unit.layoffs"），另有 _row 标识行。
--   类型：bool→BOOLEAN，int→BIGINT，money→DECIMAL(18,4)，decimal/rate→DECIMAL(18,6)，date→DATE，
--   enum/string→VARCHAR，set→ARRAY<VARCHAR>（已排序、无重复），household.members→ARRAY<STRUCT<…BOOLEAN>>。
--   NULL 即未知事实。
-- 输出：每个结论一列（NULL 表示未确定），"<结论>#missing" 为决定它所缺的事实路径或参数名（已排序）；
--   _has_<主体> 为该主体条款是否适用；_recheck 为真的行须交 Python 引擎判定（除数为0，或参与乘法的数
--   超出 64 位计算的范围：金额 ≥ 10^12 元、整数 ≥ 10^15、比例或小数 ≥ 10^8）。
--   行序不保证（只判断一类主体时，事实齐全的行在前）；需要时 ORDER BY _row。
-- 金额在结论处四舍五入到分（ROUND 半数进位）；商保留 {scale} 位小数（半数进位）。
"""
SPARK_NOTE = "-- Spark：须 SET spark.sql.decimalOperations.allowPrecisionLoss=false（否则 DECIMAL 乘积会被截到 6 位小数）。\n"


def coverage_text(plan: Plan) -> str:
    lines = [f"{plan.name}: {len(plan.outputs) + len(plan.python)} 个结论，SQL 计算 {len(plan.outputs)} 个，"
             f"Python 引擎计算 {len(plan.python)} 个"]
    for key, why in plan.python.items():
        lines.append(f"  python  {key}: {why}")
    for key in plan.outputs:
        lines.append(f"  sql     {key}")
    return "\n".join(lines)


def _wanted(rs, clauses: list[str], conclusions: list[str]) -> list[str] | None:
    """The conclusions to compute ("clause.name"): those of each --clause, and each --conclusion;
    None (every conclusion of the set) when neither is given."""
    if not clauses and not conclusions:
        return None
    keys: list[str] = []
    for cid in clauses:
        keys += [f"{cid}.{name}" for name in _clause(rs, cid).conclusions]
    for key in conclusions:
        cid, _, name = key.partition(".")
        clause = _clause(rs, cid)
        if name not in clause.conclusions:
            hint = did_you_mean(name, list(clause.conclusions))
            raise UsageError(f"条款 {cid} 没有结论 {name!r} no such conclusion（写作 条款id.结论名，如 stable_job_refund.amount）"
                             + (f"；{hint}" if hint else ""))
        keys.append(key)
    if not keys:
        raise UsageError(f"条款 {', '.join(clauses)} 没有结论（说明性条款） no conclusions to compute")
    return list(dict.fromkeys(keys))


def _clause(rs, cid: str):
    clause = rs.clauses.get(cid)
    if clause is None:
        hint = did_you_mean(cid, list(rs.clauses))
        raise UsageError(f"规则集 {rs.name} 中没有条款 {cid!r} no such clause" + (f"；{hint}" if hint else ""))
    return clause


def run(args: argparse.Namespace) -> int:
    from ..engine import load

    engine = load(args.set)
    keys = _wanted(engine.rule_set, args.clause or [], args.conclusion or [])
    facts = {p: s.type for p, s in engine.vocab.facts.items()}
    plan = build_plan(engine.rule_set, engine.analysis, facts, keys)
    if args.coverage:
        print(coverage_text(plan))
        return 0
    head = HEADER.format(name=engine.name, dialect=args.dialect, scale=QUOTIENT_SCALE)
    if args.dialect == "spark":
        head += SPARK_NOTE
    for key, why in plan.python.items():
        head += f"-- 不在本查询中、由 Python 引擎计算：{key}（{why}）\n"
    print(head + render(plan.query, args.dialect, copy=False) + ";")
    return 0


def register(subparsers) -> None:
    s = subparsers.add_parser("sql", help="把规则集编译为 SQL compile a rule set to SQL")
    s.add_argument("set", help="规则集目录或名称 rule-set directory or name")
    s.add_argument("--dialect", choices=DIALECTS, default="duckdb",
                   help="SQL 方言：duckdb（默认）、spark、postgres、trino")
    s.add_argument("--clause", action="append", metavar="ID", help="只编译这些条款 only these clauses (repeatable)")
    s.add_argument("--conclusion", action="append", metavar="ID.NAME",
                   help="只计算这些结论，如 stable_job_refund.amount（可重复；与 --clause 合并）only these conclusions")
    s.add_argument("--coverage", action="store_true", help="列出 SQL 与 Python 各计算哪些结论")
    s.set_defaults(func=run)
