"""The `policy` command: check, eval, explain, test, diff.

Thin: parse arguments, call the API, print. PolicyError is rendered here, once;
anything else is an internal error (exit 2) with a one-line message.
Exit codes, the same in every command: 0 fine; 1 the rules are wrong — diagnostics, any
error in a rule file, test file or expected-differences file, failing tests, undeclared
differences; 2 the command could not run on its input — usage, unreadable or invalid facts
or cases, an evaluation error, an internal error.

Everything printed passes through a filter that shows control characters (terminal escape
sequences, bidi overrides) as visible \\u escapes: facts and rule files cannot drive the terminal.
"""
from __future__ import annotations

import argparse
import importlib
import json
import sys
from datetime import date
from typing import Callable, Sequence

from .errors import CheckFailed, FactsError, FactsFileError, PolicyError, PolicyEvaluationError, UsageError
from .safe_output import guarded_streams
from .sets import using

_SET_HELP = "规则集目录或名称 rule-set directory or name (e.g. liaoning)"


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"不是日期 not a date (YYYY-MM-DD): {text}") from None


def cmd_check(args: argparse.Namespace) -> int:
    from .checker import analyse
    from .loader import load_rule_set

    try:
        rs = load_rule_set(args.set)
    except CheckFailed as failed:  # the files could not even be read: same report, no analysis
        for error in failed.diagnostics:
            print(f"[错误 error] {error.render()}\n")
        print(f"✗ {args.set}: {len(failed.diagnostics)} 个错误（规则文件无法读取，未做进一步检查）")
        return 1
    analysis = analyse(rs)
    for diag in analysis.diagnostics:
        if diag.severity == "warning":
            print(f"[警告 warning] {diag.error.render('规则文件 rule file')}\n")
        else:
            print(f"[错误 error] {diag.error.render()}\n")
    computable = sum(1 for c in rs.clauses.values() if c.kind == "computable")
    summary = (f"{rs.name}: {len(rs.clauses)} 个条款（{computable} 个可计算），"
               f"{len(analysis.errors)} 个错误，{len(analysis.warnings)} 个警告")
    print(("✓ " if not analysis.diagnostics else "✗ ") + summary)
    return 1 if analysis.diagnostics else 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .engine import load
    from .facts import read_facts
    from .render_text import decision_text

    engine = load(args.set)
    facts = read_facts(args.facts)
    decision = engine.evaluate(facts, as_of=args.as_of, source=args.facts)
    if args.format == "json":
        # versioned on the command line only: decision.to_json() is the embedding contract and stays as it is
        print(json.dumps({"schema": "policy-dsl/evaluation", "version": 1, **decision.to_json()}, ensure_ascii=False, indent=2))
    else:
        print(decision_text(decision))
    return 0


def cmd_explain(args: argparse.Namespace) -> int:
    from .explain import run_explain

    return run_explain(args)


def cmd_test(args: argparse.Namespace) -> int:
    from .testing import run_cli

    return run_cli(args)


def cmd_diff(args: argparse.Namespace) -> int:
    from .diff import run_diff

    return run_diff(args)


# Commands that live in their own subpackage register themselves there: each module named here
# has `register(subparsers)`, which adds its parser and sets `func`. One line per capability.
PLUGGED_COMMANDS: tuple[str, ...] = (
    ".batch.command",
    ".serve.command",
    ".authoring.commands",
    ".sql.command",
)


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .authoring.helptext import add_policies_option, finish

    p = argparse.ArgumentParser(prog="policy", description="政策规则即代码 policy rules as code",
                                epilog="每个命令的示例和退出码见 policy COMMAND --help", formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"policy-dsl {__version__}")
    add_policies_option(p)
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("check", help="检查规则集 check a rule set")
    c.add_argument("set", help=_SET_HELP)
    c.set_defaults(func=cmd_check)

    e = sub.add_parser("eval", help="对一个案例求值 evaluate a case")
    e.add_argument("set", help=_SET_HELP)
    e.add_argument("facts", help="事实文件 YAML/JSON，或 - 表示标准输入 facts file, or - for stdin")
    e.add_argument("--format", choices=["text", "json"], default="text",
                   help="text：给人看的结论；json：机器可读（policy_dsl/schema/evaluation-v1.json）(default: text)")
    e.add_argument("--as-of", type=_date, dest="as_of", help="评估日期 evaluation date (overrides the facts' as_of)")
    e.set_defaults(func=cmd_eval)

    x = sub.add_parser("explain", help="解释结论 explain a decision")
    x.add_argument("set", help=_SET_HELP)
    x.add_argument("facts", help="事实文件 YAML/JSON，或 - 表示标准输入 facts file, or - for stdin")
    x.add_argument("--clause", help="只解释一个条款 only this clause id")
    x.add_argument("--format", choices=["tree", "text", "json", "notice"], default="tree",
                   help="tree：带出处的树；text：窗口文字；json：机器可读；notice：告知书草稿 (default: tree)")
    x.add_argument("--full", action="store_true", help="完整条件树（开发者用，--format tree）")
    x.add_argument("--notice-format", choices=["md", "html"], dest="notice_format",
                   help="告知书格式：md（默认）或可打印的 html")
    x.add_argument("--lang", choices=["zh", "en"], default="zh", help="解释的语言 language of the explanation (default: zh)")
    x.add_argument("--as-of", type=_date, dest="as_of", help="评估日期 evaluation date (overrides the facts' as_of)")
    x.add_argument("--width", type=int, default=None, help="树形输出的宽度（默认为终端宽度）")
    x.set_defaults(func=cmd_explain)

    t = sub.add_parser("test", help="运行规则测试 run YAML rule tests")
    t.add_argument("paths", nargs="*", help="规则集或测试文件 sets or test files (default: every set under policies/)")
    t.add_argument("--format", choices=["text", "json"], default="text", help="text 或机器可读的 json (default: text)")
    t.add_argument("--coverage", action="store_true", help="报告条款、条件、例外的测试覆盖率 report clause/condition/exception coverage")
    t.add_argument("--fail-under", type=float, dest="fail_under", metavar="N",  # float-ok: a percentage threshold
                   help="覆盖率（合计）低于 N%% 时退出码 1 exit 1 when total coverage is below N percent")
    t.set_defaults(func=cmd_test)

    d = sub.add_parser("diff", help="比较省级与市级规则集 compare a base set with a variant")
    d.add_argument("base", help="上级（省级）规则集 base set, e.g. liaoning")
    d.add_argument("variant", help="下级（市级）规则集 variant set, e.g. fushun")
    d.add_argument("--cases", help="案例目录或文件 cases to evaluate under both sets")
    d.add_argument("--generate", action="store_true", help="由规则中的阈值自动生成边界案例")
    d.add_argument("--format", choices=["text", "json"], default="text", help="text 表格或机器可读的 json (default: text)")
    d.add_argument("--expected", help="预期差异文件 (default: <variant>/expected-differences.yaml)")
    d.set_defaults(func=cmd_diff)

    for module in PLUGGED_COMMANDS:
        importlib.import_module(module, __package__).register(sub)
    finish(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    with guarded_streams():
        return _main(argv)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        with using(getattr(args, "policies", None)):
            return func(args)
    except (FactsError, FactsFileError, UsageError, PolicyEvaluationError) as exc:
        print(exc.render(), file=sys.stderr)
        return 2
    except PolicyError as exc:  # the rules (or a test / expected-differences file) are wrong
        print(exc.render(), file=sys.stderr)
        return 1
    except BrokenPipeError:  # pragma: no cover - `policy eval … | head`
        return 0
    except Exception as exc:  # noqa: BLE001 - the one place internal errors are turned into a message
        print(f"内部错误 internal error: {type(exc).__name__}: {exc}\n"
              "这是 policy_dsl 的缺陷，请连同命令和输入文件报告。", file=sys.stderr)
        return 2
