"""Issue 14: every door holds against hostile and broken input.

One table of hostile inputs, one parametrized test: each row builds files in a fresh
policies root, runs one `policy` command, and states the exit code and what the output
must (and must not) say. Every row also asserts the command did not fail internally.
The numbers in the ids are the items of the issue.
"""
from __future__ import annotations

import io
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from policy_dsl.cli import main

MANIFEST = "name: {name}\nvocabulary: partial\ndocuments: [{{id: 某文}}]\n"
DEMO = """id: demo
subject: unit
{body}
"""
GOOD = "conclusions:\n  total: unit.layoffs + 1\n"


@dataclass
class Case:
    id: str
    files: dict[str, str | bytes]          # path under the root → content ("@link:target" makes a symlink)
    argv: list[str]                        # {root} is the policies root
    code: int
    says: list[str] = field(default_factory=list)
    never: list[str] = field(default_factory=list)
    stdin: str | None = None


def demo_set(name: str = "s", body: str = GOOD, extra: str = "") -> dict[str, str]:
    return {f"{name}/policy-set.yaml": MANIFEST.format(name=name) + extra,
            f"{name}/clauses/demo.yaml": DEMO.format(body=body)}


def chain(n: int) -> str:
    return "definitions:\n" + "".join(f"  d{i}: d{i + 1} + 1\n" for i in range(n)) + \
        f"  d{n}: unit.layoffs\nconclusions:\n  total: d0\n"


BOMB = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n" for i in range(9))
ELSE_IFS = " ".join(f"if unit.layoffs == {i} then {i} else" for i in range(99)) + " 0"
NESTED_ANY = "unit.layoffs > 0"
for _i in range(21):
    NESTED_ANY = f"any(m{_i} in household.members where {NESTED_ANY})"
FACTS = {"f.json": '{"unit": {"layoffs": 3}}'}

CASES = [
    # 1. constants in generated code
    Case("1-int-param-negated", demo_set(body="parameters:\n  n: {value: 30}\nconclusions:\n  total: -n + unit.layoffs\n")
         | FACTS, ["eval", "{root}/s", "{root}/f.json"], 0, ["total：-27"]),
    Case("1-money-conclusion-int-literal", demo_set(body="conclusions:\n  amount: {expr: '5', type: money}\n") | FACTS,
         ["eval", "{root}/s", "{root}/f.json"], 0, ["5.00"]),
    Case("1-membership-int-literal", demo_set(body="conclusions:\n  hit: unit.layoffs in {0, unit.insured_headcount}\n")
         | {"f.json": '{"unit": {"layoffs": 0, "insured_headcount": 5}}'}, ["eval", "{root}/s", "{root}/f.json"], 0, ["hit：是"]),
    # 2. a city may narrow the province's bounds, never widen them
    Case("2-widened-bounds", demo_set("p", body="parameters:\n  r: {type: rate, delegated: {reason: 市定}, bounds: {max: 60%}}\n"
                                           "conclusions:\n  total: unit.ui_contribution_last_year * r\n")
         | demo_set("c", body="parameters:\n  r: {value: 90%, bounds: {max: 100%}}\n", extra="extends: p\n"),
         ["check", "{root}/c"], 1, ["比上级规定的更宽 bounds wider", "c/clauses/demo.yaml:4:"]),
    Case("2-dropped-bound", demo_set("p", body="parameters:\n  r: {type: rate, delegated: {reason: 市定}, bounds: {min: 10%, max: 60%}}\n"
                                          "conclusions:\n  total: unit.ui_contribution_last_year * r\n")
         | demo_set("c", body="parameters:\n  r: {value: 50%, bounds: {max: 50%}}\n", extra="extends: p\n"),
         ["check", "{root}/c"], 0, ["0 个错误"]),  # min not written: the base's 10% still holds
    Case("2-narrowed-bounds-ok", demo_set("p", body="parameters:\n  r: {type: rate, delegated: {reason: 市定}, bounds: {max: 60%}}\n"
                                               "conclusions:\n  total: unit.ui_contribution_last_year * r\n")
         | demo_set("c", body="parameters:\n  r: {value: 40%, bounds: {max: 50%}}\n", extra="extends: p\n"),
         ["check", "{root}/c"], 0, ["0 个错误"]),
    # 4. duplicate keys in JSON facts, on stdin and in diff cases
    Case("4-json-duplicate-key", demo_set() | {"f.json": '{"unit": {"layoffs": 3, "layoffs": 4}}'},
         ["eval", "{root}/s", "{root}/f.json"], 2, ["重复的键 'layoffs' duplicate key", "f.json:1:"]),
    Case("4-stdin-duplicate-key", demo_set(), ["eval", "{root}/s", "-"], 2, ["<stdin>:1:", "duplicate key"],
         stdin='{"unit": {"layoffs": 3}, "unit": {}}'),
    Case("4-diff-cases-duplicate-key", demo_set("p") | demo_set("c", extra="extends: p\n")
         | {"cases.json": '[{"facts": {"unit": {"layoffs": 1, "layoffs": 2}}}]'},
         ["diff", "{root}/p", "{root}/c", "--cases", "{root}/cases.json"], 2, ["duplicate key"]),
    # 7. decimals past the limits
    Case("7-29-digit-fact", demo_set() | {"f.json": '{"unit": {"ui_contribution_last_year": 1000000000000000000000000000.5}}'},
         ["eval", "{root}/s", "{root}/f.json"], 2, ["整数部分最多 18 位"]),
    Case("7-rule-value-1e400", demo_set(body="parameters:\n  big: {type: decimal, value: 1.0e+400}\nconclusions:\n  total: big * 2\n"),
         ["check", "{root}/s"], 1, ["整数部分最多 18 位", "demo.yaml:4:"]),
    # 8. only the documented escapes
    Case("8-unicode-escape", demo_set(body="conclusions:\n  t: unit.kind == \"\\u00e9\"\n"),
         ["check", "{root}/s"], 1, ["不支持的转义", "demo.yaml:4:20"]),
    Case("8-escaped-backslash-is-fine", demo_set(body="conclusions:\n  t: unit.kind == \"\\\\u00e9\"\n"),
         ["check", "{root}/s"], 1, ["不是可选值"]),  # \\ is a backslash: a string, just not a kind
    # 9. clause ids that are paths
    Case("9-dotted-id", {"s/policy-set.yaml": MANIFEST.format(name="s"), "s/clauses/a.yaml": "id: a.b\nconclusions: {t: '1'}\n"},
         ["check", "{root}/s"], 1, ["条款 id 'a.b' 不合法"]),
    Case("9-path-id", {"s/policy-set.yaml": MANIFEST.format(name="s"), "s/clauses/a.yaml": "id: ../../x\nconclusions: {t: '1'}\n"},
         ["check", "{root}/s"], 1, ["不合法"]),
    # 10. shapes the parser accepts but later stages could not
    Case("10-99-else-ifs", demo_set(body=f"conclusions:\n  t: '{ELSE_IFS}'\n"), ["check", "{root}/s"], 1,
         ["嵌套过深", "demo.yaml:4:"]),
    Case("10-21-nested-any", demo_set(body=f"conclusions:\n  t: '{NESTED_ANY}'\n"), ["check", "{root}/s"], 1, ["聚合"]),
    Case("10-124-definitions-top-down", demo_set(body=chain(124)) | FACTS, ["explain", "{root}/s", "{root}/f.json", "--format", "json"], 0,
         ['"total"']),
    Case("10-330-chain", demo_set(body=chain(330)), ["check", "{root}/s"], 1, ["定义链过深"]),
    Case("10-1000-cycle", demo_set(body="definitions:\n" + "".join(f"  d{i}: d{(i + 1) % 1000} + 1\n" for i in range(1000))
                                   + "conclusions:\n  total: d0\n"), ["check", "{root}/s"], 1,
         ["循环引用 circular definition: demo.d0", "共 1000 项", "demo.yaml:1003:"]),
    Case("10-cycle-through-exception", demo_set(body="conclusions:\n  a: unit.layoffs > 1\n  b: a\n"
                                                     "exceptions:\n  - {id: e, conclusion: a, when: b, value: true}\n"),
         ["check", "{root}/s"], 1, ["循环引用", "demo.yaml:5:6"], never=["when 必须是布尔值"]),
    # 11. bounded arithmetic, with the position of the expression
    Case("11-overflow-at-position", demo_set(body="conclusions:\n  t: unit.layoffs * unit.layoffs * unit.layoffs\n")
         | {"f.json": '{"unit": {"layoffs": 1000000000}}'}, ["eval", "{root}/s", "{root}/f.json"], 2,
         ["demo.yaml:4:6", "计算结果过大"]),
    # 12. characters YAML forbids, non-UTF-8, deep nesting, huge integers
    Case("12-nul-in-rule-file", demo_set(body="conclusions:\n  t: 'unit.layoffs\x00'\n"), ["check", "{root}/s"], 1,
         ["U+0000", "demo.yaml:4:19"]),
    Case("12-bel-in-facts", demo_set() | {"f.yaml": "unit: {layoffs: 3}\n# \x07\n"}, ["eval", "{root}/s", "{root}/f.yaml"], 2,
         ["U+0007", "f.yaml:2:"]),
    Case("12-non-utf8-facts", demo_set() | {"f.yaml": b"unit: {kind: \xff}\n"}, ["eval", "{root}/s", "{root}/f.yaml"], 2,
         ["UTF-8"]),
    Case("12-deep-yaml-facts", demo_set() | {"f.yaml": "a: " + "[" * 1000 + "]" * 1000 + "\n"},
         ["eval", "{root}/s", "{root}/f.yaml"], 2, ["嵌套过深"]),
    Case("12-deep-json-facts", demo_set() | {"f.json": "[" * 1000 + "]" * 1000}, ["eval", "{root}/s", "{root}/f.json"], 2,
         ["嵌套过深", "f.json:1:65"]),
    Case("12-5000-digit-int-yaml", demo_set() | {"f.yaml": "unit: {layoffs: " + "9" * 5000 + "}\n"},
         ["eval", "{root}/s", "{root}/f.yaml"], 2, ["数字过长", "f.yaml:1:"]),
    Case("12-5000-digit-int-json", demo_set() | {"f.json": '{"unit": {"layoffs": ' + "9" * 5000 + "}}"},
         ["eval", "{root}/s", "{root}/f.json"], 2, ["数字过长"]),
    Case("12-datetime-in-facts", demo_set() | {"f.yaml": "unit: {application_date: 2021-01-01 10:00:00}\n"},
         ["eval", "{root}/s", "{root}/f.yaml"], 2, ["不能带时间", "f.yaml:1:26"]),
    Case("12-datetime-in-rule", demo_set(body="parameters:\n  d: {value: 2021-12-31 23:59:59}\nconclusions:\n"
                                              "  t: unit.application_date <= d\n"), ["check", "{root}/s"], 1, ["不能带时间"]),
    # 13. resource exhaustion
    Case("13-alias-bomb-facts", demo_set() | {"f.yaml": BOMB}, ["eval", "{root}/s", "{root}/f.yaml"], 2, ["别名", "f.yaml:"]),
    Case("13-alias-bomb-manifest", {"s/policy-set.yaml": MANIFEST.format(name="s") + "notes: x\n" + BOMB.replace("a:", "x_a:"),
                                    "s/clauses/demo.yaml": DEMO.format(body=GOOD)}, ["check", "{root}/s"], 1, ["别名"]),
    Case("13-alias-bomb-test-file", demo_set() | {"s/tests/t.yaml": BOMB}, ["test", "{root}/s/tests/t.yaml"], 1, ["别名"]),
    Case("13-alias-bomb-cases", demo_set("p") | demo_set("c", extra="extends: p\n") | {"cases.yaml": BOMB},
         ["diff", "{root}/p", "{root}/c", "--cases", "{root}/cases.yaml"], 2, ["别名"]),
    Case("13-huge-facts-file", demo_set() | {"f.yaml": "unit: {layoffs: 3}\n" + "#" * 2_000_000 + "\n"},
         ["eval", "{root}/s", "{root}/f.yaml"], 2, ["文件过大"]),
    # 14. extends and files confined to the policies root
    # a set is found by its directory name, so a manifest name that differs is itself an error (before any cycle)
    Case("14-extends-cycle-names-differ", {"dir_a/policy-set.yaml": MANIFEST.format(name="alpha") + "extends: dir_b\n",
                                            "dir_a/clauses/demo.yaml": DEMO.format(body=GOOD),
                                            "dir_b/policy-set.yaml": MANIFEST.format(name="beta") + "extends: dir_a\n",
                                            "dir_b/clauses/demo.yaml": DEMO.format(body=GOOD)},
         ["check", "{root}/dir_a"], 1, ["与目录名", "不一致"]),
    Case("14-extends-outside", demo_set(extra="extends: ../../outside/evil\n"), ["check", "{root}/s"], 1, ["规则集名", "不合法"]),
    Case("14-extends-absolute", demo_set(extra="extends: /etc\n"), ["check", "{root}/s"], 1, ["不合法"]),
    Case("14-clause-symlink-dev-zero", demo_set() | {"s/clauses/zero.yaml": "@link:/dev/zero"}, ["check", "{root}/s"], 1,
         ["根目录"]),
    Case("14-sibling-symlink-outside", demo_set(extra="extends: base\n") | {"base": "@link:../outside"}
         | {"../outside/policy-set.yaml": MANIFEST.format(name="base"), "../outside/clauses/demo.yaml": DEMO.format(body=GOOD)},
         ["check", "{root}/s"], 1, ["根目录"]),
    Case("14-clause-symlink-outside", demo_set() | {"s/clauses/x.yaml": "@link:../../../outside.yaml",
                                                   "../outside.yaml": "id: x\nconclusions: {t: '1'}\n"},
         ["check", "{root}/s"], 1, ["根目录"]),
    Case("14-name-is-a-path", {"s/policy-set.yaml": MANIFEST.format(name="../x"), "s/clauses/demo.yaml": DEMO.format(body=GOOD)},
         ["check", "{root}/s"], 1, ["规则集名 '../x' 不合法"]),
    # 15. silent shadowing
    Case("15-condition-and-conclusion", demo_set(body="conditions:\n  ok: unit.layoffs > 1\nconclusions:\n  ok: unit.layoffs > 2\n"),
         ["check", "{root}/s"], 1, ["'ok' 同时出现在 conditions 和 conclusions"]),
    Case("15-parameter-and-definition", demo_set(body="parameters:\n  n: {value: 3}\ndefinitions:\n  n: unit.layoffs\n"
                                                      "conclusions:\n  t: n\n"), ["check", "{root}/s"], 1, ["同时出现在 parameters 和 definitions"]),
    Case("15-duplicate-exception-ids", demo_set(body="conclusions:\n  t: unit.layoffs > 1\nexceptions:\n"
                                                     "  - {id: e, conclusion: t, when: 'true', value: 'true'}\n"
                                                     "  - {id: e, conclusion: t, when: 'false', value: 'false'}\n"),
         ["check", "{root}/s"], 1, ["例外 id 'e' 重复"]),
    # 16. policy test: shapes and empty assertions
    Case("16-expect-is-a-list", demo_set() | {"s/tests/t.yaml": "- {name: x, facts: {}, expect: [1, 2]}\n"},
         ["test", "{root}/s"], 1, ["expect 应是映射", "t.yaml:1:"]),
    Case("16-facts-is-a-list", demo_set() | {"s/tests/t.yaml": "- {name: x, facts: [1], expect: {demo.total: 1}}\n"},
         ["test", "{root}/s"], 1, ["facts 应是映射"]),
    Case("16-expect-empty", demo_set() | {"s/tests/t.yaml": "- {name: x, facts: {}, expect: {}}\n"},
         ["test", "{root}/s"], 1, ["没有任何断言"]),
    Case("16-changes-without-compare", demo_set() | {"s/tests/t.yaml": "- {name: x, facts: {}, expect: {demo.total: 1}, changes: [demo.total]}\n"},
         ["test", "{root}/s"], 1, ["changes 需要 compare"]),
    Case("16-test-file-symlink-outside", demo_set() | {"s/tests/t.yaml": "@link:../../../outside.yaml",
                                                      "../outside.yaml": "- {name: x, facts: {}, expect: {demo.total: 1}}\n"},
         ["test", "{root}/s"], 1, ["根目录之外"]),
    # 17. policy diff: the cases and the expected differences
    Case("17-scalar-cases", demo_set("p") | demo_set("c", extra="extends: p\n") | {"cases.yaml": "42\n"},
         ["diff", "{root}/p", "{root}/c", "--cases", "{root}/cases.yaml"], 2, ["应是事实映射或案例列表"]),
    Case("17-empty-cases", demo_set("p") | demo_set("c", extra="extends: p\n") | {"cases.yaml": ""},
         ["diff", "{root}/p", "{root}/c", "--cases", "{root}/cases.yaml"], 2, ["应是事实映射或案例列表"]),
    Case("17-facts-list", demo_set("p") | demo_set("c", extra="extends: p\n") | {"cases.yaml": "- {facts: [1, 2]}\n"},
         ["diff", "{root}/p", "{root}/c", "--cases", "{root}/cases.yaml"], 2, ["facts 应是映射", "cases.yaml:1:"]),
    Case("17-malformed-json-cases", demo_set("p") | demo_set("c", extra="extends: p\n") | {"cases.json": "[{"},
         ["diff", "{root}/p", "{root}/c", "--cases", "{root}/cases.json"], 2, ["JSON 格式错误"]),
    Case("17-missing-expected", demo_set("p") | demo_set("c", extra="extends: p\n") | {"cases.yaml": "- {facts: {}}\n"},
         ["diff", "{root}/p", "{root}/c", "--cases", "{root}/cases.yaml", "--expected", "{root}/nope.yaml"], 2,
         ["找不到预期差异文件"]),
    Case("17-directory-expected", demo_set("p") | demo_set("c", extra="extends: p\n") | {"cases.yaml": "- {facts: {}}\n"},
         ["diff", "{root}/p", "{root}/c", "--cases", "{root}/cases.yaml", "--expected", "{root}/c"], 2, ["找不到预期差异文件"]),
    # 20. the format is the extension's
    Case("20-yaml-flow-mapping", demo_set() | {"f.yaml": "{unit: {layoffs: 3}}\n"}, ["eval", "{root}/s", "{root}/f.yaml"], 0,
         ["total：4"]),
    Case("20-unknown-extension", demo_set() | {"f.txt": "unit: {layoffs: 3}\n"}, ["eval", "{root}/s", "{root}/f.txt"], 2,
         [".yaml、.yml 或 .json"]),
    # 21. one meaning per exit code: a rule-file error is 1 in every command
    Case("21-rule-error-eval", demo_set(body="conclusions:\n  t: unit.layofs\n") | FACTS, ["eval", "{root}/s", "{root}/f.json"], 1,
         ["未知的事实"]),
    Case("21-rule-error-explain", demo_set(body="conclusions:\n  t: unit.layofs\n") | FACTS,
         ["explain", "{root}/s", "{root}/f.json"], 1, ["未知的事实"]),
    Case("21-malformed-expected-differences", demo_set("p") | demo_set("c", extra="extends: p\n")
         | {"cases.yaml": "- {facts: {}}\n", "c/expected-differences.yaml": "42\n"},
         ["diff", "{root}/p", "{root}/c", "--cases", "{root}/cases.yaml"], 1, ["应是列表"]),
    # 22. terminal escapes are shown, not obeyed
    Case("22-escape-in-facts-key", demo_set() | {"f.json": '{"unit": {"\\u001b[31mred": 1}}'},
         ["eval", "{root}/s", "{root}/f.json"], 2, ["\\u001b[31mred"], never=["\x1b"]),
    Case("22-escape-in-rule-text", demo_set(body='conclusions:\n  t: {expr: unit.layoffs, note: "\\e[2J\\u202e"}\n')
         | {"s/tests/t.yaml": "- {name: x, facts: {}, expect: {demo.t: 1}}\n"}, ["explain", "{root}/s", "-", "--format", "text"], 0,
         never=["\x1b", "\u202e"], stdin='{"unit": {"layoffs": 1}}'),
    # 24. reserved words are not names
    Case("24-reserved-parameter", demo_set(body="parameters:\n  then: {value: 3}\nconclusions:\n  t: unit.layoffs\n"),
         ["check", "{root}/s"], 1, ["'then' 是保留字"]),
]


def _build(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str) and content.startswith("@link:"):
            os.symlink(content[len("@link:"):], path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile_input(case: Case, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                       monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "policies"
    root.mkdir()
    _build(root, case.files)
    if case.stdin is not None:
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(case.stdin.encode("utf-8")), encoding="utf-8"))
    code = main([a.replace("{root}", str(root)) for a in case.argv])
    out, err = capsys.readouterr()
    text = out + err
    assert "内部错误 internal error" not in text, text[-2000:]
    assert "Traceback" not in text
    assert code == case.code, text[-3000:]
    for piece in case.says:
        assert piece in text, f"{piece!r} not in:\n{text[-3000:]}"
    for piece in case.never:
        assert piece not in text
