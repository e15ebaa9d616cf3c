"""`--help` of every command: examples and exit codes (shown verbatim, so the
epilogs use RawDescriptionHelpFormatter), and the options every command shares.
"""
from __future__ import annotations

import argparse

from ..sets import ENV

_SET_RULE = (f"SET 可写规则集目录，或规则集名（在 --policies DIR、环境变量 {ENV} 或 ./policies 中查找）。\n"
             f"SET is a set directory or a set name looked up in --policies DIR, ${ENV}, or ./policies.")


def _epilog(examples: str, codes: str) -> str:
    return f"示例 examples:\n{examples}\n\n退出码 exit codes:\n{codes}\n\n{_SET_RULE}"


EPILOGS: dict[str, str] = {
    "check": _epilog(
        "  policy check liaoning\n  policy check policies/fushun\n  policy --policies ~/rules check mycity",
        "  0  没有错误也没有警告 no errors, no warnings\n"
        "  1  有错误或警告（含规则文件无法读取）errors or warnings\n"
        "  2  用法错误（如找不到规则集）usage error"),
    "eval": _epilog(
        "  policy eval fushun examples/unit-medium.yaml\n"
        "  policy eval fushun case.yaml --format json --as-of 2021-09-01\n"
        "  cat case.json | policy eval fushun -",
        "  0  已求值 evaluated\n  1  规则集有错误 the rule set has errors\n"
        "  2  用法错误、事实文件无法读取或不符合词汇表 usage error, unreadable or invalid facts"),
    "explain": _epilog(
        "  policy explain fushun examples/unit-medium.yaml --clause stable_job_refund\n"
        "  policy explain fushun case.yaml --format text --lang en",
        "  0  已解释 explained\n  1  规则集有错误 the rule set has errors\n"
        "  2  用法错误、事实文件错误 usage error, invalid facts"),
    "test": _epilog(
        "  policy test                           # 所有规则集的测试 every set's tests\n"
        "  policy test fushun\n  policy test policies/fushun/tests/stable_job_refund.yaml --format json\n"
        "  policy test liaoning --coverage --fail-under 90",
        "  0  全部通过 all passed\n  1  有失败的用例、测试文件有错、没有找到用例或覆盖率不足 failures, bad test files, "
        "no cases, coverage below --fail-under\n  2  用法错误 usage error"),
    "diff": _epilog(
        "  policy diff liaoning fushun\n  policy diff liaoning fushun --cases policies/fushun/tests\n"
        "  policy diff liaoning fushun --generate --format json",
        "  0  没有未声明的差异 no undeclared differences\n"
        "  1  有未声明的差异，或规则集有错误 undeclared differences, rule-set errors\n"
        "  2  用法错误（如 --expected 文件不存在）usage error"),
    "show": _epilog(
        "  policy show fushun\n  policy show fushun --clause stable_job_refund\n  policy show liaoning --format json",
        "  0  已列出 listed\n  1  规则集有错误 the rule set has errors\n  2  用法错误（如未知条款）usage error"),
    "facts": _epilog(
        "  policy facts fushun --clause stable_job_refund > case.yaml\n"
        "  policy facts liaoning --format json-schema",
        "  0  已输出 printed\n  1  规则集有错误 the rule set has errors\n  2  用法错误（如未知条款）usage error"),
    "fmt": _epilog(
        "  policy fmt --check                    # CI：有需要整理的文件时退出码 1\n  policy fmt fushun\n"
        "  policy fmt policies/fushun/clauses/stable_job_refund.yaml",
        "  0  已整理，或 --check 时无需整理 formatted / nothing to do\n  1  --check 时有需要整理的文件 would reformat\n"
        "  2  用法错误 usage error"),
    "lsp": _epilog(
        "  policy lsp                            # 由编辑器启动，经标准输入输出通信（见 docs/editor.md）",
        "  0  编辑器关闭连接 the editor closed the connection\n  2  未安装 pygls（pip install 'policy-dsl[lsp]'）"),
    "completion": _epilog(
        "  policy completion bash > ~/.local/share/bash-completion/completions/policy\n"
        "  source <(policy completion bash)",
        "  0  已输出脚本 printed\n  2  用法错误 usage error"),
}

_GENERIC = "退出码 exit codes:\n  0  成功 success\n  1  检查未通过 check failed\n  2  用法错误或输入错误 usage or input error"


def finish(sub: argparse._SubParsersAction) -> None:
    """Epilogs and the shared `--policies` option on every command, including plugged ones."""
    for name, parser in sub.choices.items():
        if parser.epilog is None:
            parser.epilog = EPILOGS.get(name, f"{_GENERIC}\n\n{_SET_RULE}")
        parser.formatter_class = argparse.RawDescriptionHelpFormatter
        if "--policies" not in parser._option_string_actions:
            add_policies_option(parser, argparse.SUPPRESS)


def add_policies_option(parser: argparse.ArgumentParser, default: object = None) -> None:
    parser.add_argument("--policies", metavar="DIR", default=default,
                        help=f"在此目录中按名字查找规则集 look set names up in DIR (default: ${ENV} or ./policies)")
