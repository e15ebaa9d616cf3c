"""`policy catalog SET`: registered through cli.PLUGGED_COMMANDS."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..errors import UsageError, did_you_mean

SUBJECT_CHOICES = ("unit", "person", "graduate", "household")


def cmd_catalog(args: argparse.Namespace) -> int:
    from ..engine import load
    from .model import build_catalog

    engine = load(args.set)
    for cid in args.clause or ():
        if cid not in engine.rule_set.clauses:
            raise UsageError(f"规则集 {engine.rule_set.name} 中没有条款 {cid!r} no such clause", found=cid,
                             expected="、".join(engine.rule_set.clauses), hint=did_you_mean(cid, engine.rule_set.clauses))
    catalog = build_catalog(engine, args.subject, args.clause)
    text = render(catalog, args.format)
    if args.out:
        try:
            Path(args.out).write_text(text, encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"无法写入 {args.out} cannot write: {exc.strerror}") from None
    else:
        print(text, end="")
    return 0


def render(catalog, fmt: str) -> str:
    if fmt == "json":
        from .render_json import catalog_json

        return json.dumps(catalog_json(catalog), ensure_ascii=False, indent=2) + "\n"
    if fmt == "html":
        from .render_html import catalog_html

        return catalog_html(catalog)
    from .render_md import catalog_md

    return catalog_md(catalog)


_EPILOG = """示例 examples:
  policy catalog fushun > 抚顺市政策清单.md
  policy catalog fushun --format html --out 抚顺市政策清单.html    # 可直接打印 print-ready, A4
  policy catalog liaoning --subject unit --format json
  policy catalog fushun --clause stable_job_refund --clause internship_subsidy

退出码 exit codes:
  0  已输出 printed
  1  规则集有错误 the rule set has errors
  2  用法错误（如未知条款、无法写入 --out）usage error

SET 可写规则集目录，或规则集名（在 --policies DIR、环境变量 POLICY_PATH 或 ./policies 中查找）。"""


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("catalog", help="政策清单和办事指南 the policy list and service guide, from the rules",
                       epilog=_EPILOG)
    c.add_argument("set", help="规则集目录或名称 rule-set directory or name (e.g. fushun)")
    c.add_argument("--format", choices=["md", "html", "json"], default="md",
                   help="md：Markdown；html：可打印的单页；json：给门户网站（policy_dsl/schema/catalog-v1.json）(default: md)")
    c.add_argument("--out", help="写入文件（默认输出到标准输出）write to this file")
    c.add_argument("--subject", choices=SUBJECT_CHOICES,
                   help="只列面向此对象的政策（说明性条款总是列出）only policies for this subject")
    c.add_argument("--clause", action="append", metavar="ID", help="只列这些条款（可重复）only these clause ids")
    c.set_defaults(func=cmd_catalog)
