"""Authoring commands: show, facts, fmt, lsp, completion (registered through cli.PLUGGED_COMMANDS)."""
from __future__ import annotations

import argparse
import json

from ..errors import UsageError, did_you_mean


def _load(set_name: str, clause: str | None):
    from ..checker import analyse
    from ..loader import load_rule_set

    rs = load_rule_set(set_name)
    if clause is not None and clause not in rs.clauses:
        raise UsageError(f"规则集 {rs.name} 中没有条款 {clause!r} no such clause", found=clause,
                         expected="、".join(rs.clauses), hint=did_you_mean(clause, rs.clauses))
    return rs, analyse(rs)


def cmd_show(args: argparse.Namespace) -> int:
    from .inventory import inventory
    from .show_render import show_text

    rs, analysis = _load(args.set, args.clause)
    data = inventory(rs, analysis, args.clause)
    if args.format == "json":
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(show_text(data), end="")
    return 0


def cmd_facts(args: argparse.Namespace) -> int:
    from .facts_template import facts_read, template_schema, template_yaml

    rs, analysis = _load(args.set, args.clause)
    ids = [args.clause] if args.clause else [cid for cid, c in rs.clauses.items() if c.kind == "computable"]
    paths = facts_read(rs, analysis, ids)
    title = f"{rs.name} · {args.clause}（{rs.clauses[args.clause].title}）" if args.clause else f"{rs.name}（全部条款）"
    if args.format == "json-schema":
        print(json.dumps(template_schema(rs, paths, title), ensure_ascii=False, indent=2))
    else:
        print(template_yaml(rs, paths, title), end="")
    return 0


def cmd_fmt(args: argparse.Namespace) -> int:
    from .fmt import run_fmt

    return run_fmt(args.paths, args.check)


def cmd_lsp(args: argparse.Namespace) -> int:
    try:
        from .lsp import main
    except ImportError:
        raise UsageError("语言服务器需要 pygls the language server needs pygls",
                         hint="pip install 'policy-dsl[lsp]'") from None
    return main()


def cmd_completion(args: argparse.Namespace) -> int:
    from ..cli import build_parser
    from .completion import bash_script

    print(bash_script(build_parser()), end="")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("show", help="列出规则集：条款、参数、结论 list a set's clauses, parameters, conclusions")
    s.add_argument("set", help="规则集目录或名称 rule-set directory or name (e.g. fushun)")
    s.add_argument("--clause", help="只列一个条款 only this clause id")
    s.add_argument("--format", choices=["text", "json"], default="text",
                   help="text 给人看；json 机器可读（policy_dsl/schema/show-v1.json）(default: text)")
    s.set_defaults(func=cmd_show)

    f = sub.add_parser("facts", help="事实模板：条款读取哪些事实 the facts a clause reads, as a template")
    f.add_argument("set", help="规则集目录或名称 rule-set directory or name (e.g. fushun)")
    f.add_argument("--clause", help="只列此条款读取的事实 only the facts this clause reads")
    f.add_argument("--format", choices=["yaml", "json-schema"], default="yaml",
                   help="yaml：带注释的事实模板；json-schema：这些事实的 JSON Schema (default: yaml)")
    f.set_defaults(func=cmd_facts)

    m = sub.add_parser("fmt", help="整理规则文件为统一格式（保留注释） format rule files canonically")
    m.add_argument("paths", nargs="*", metavar="PATH",
                   help="规则集、规则集所在目录或规则文件 sets, a directory of sets, or rule files (default: every set)")
    m.add_argument("--check", action="store_true", help="只检查不修改；有需要整理的文件时退出码 1 check only")
    m.set_defaults(func=cmd_fmt)

    s2 = sub.add_parser("lsp", help="启动语言服务器（stdio），供编辑器使用 run the language server over stdio")
    s2.set_defaults(func=cmd_lsp)

    c = sub.add_parser("completion", help="输出 shell 补全脚本 print a shell completion script")
    c.add_argument("shell", choices=["bash"], help="shell（bash；zsh 可用 bashcompinit 加载）")
    c.set_defaults(func=cmd_completion)
