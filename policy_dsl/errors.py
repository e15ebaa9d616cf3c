"""One error root for everything a user can get wrong.

Errors are raised low, where the position is known, and rendered once at the
edge (the CLI, the pytest plugin). Every user-facing message says where, what
was found, what was expected, and — for a misspelt name — what was meant.
"""
from __future__ import annotations

import difflib
from typing import Iterable

from .source import Span


class PolicyError(Exception):
    """Root of every user-facing error."""

    kind = "error"
    label = "错误"

    def __init__(
        self,
        message: str,
        span: Span | None = None,
        *,
        found: str | None = None,
        expected: str | None = None,
        hint: str | None = None,
        related: Span | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.found = found
        self.expected = expected
        self.hint = hint
        self.related = related

    def with_span(self, span: Span) -> "PolicyError":
        if self.span is None:
            self.span = span
        return self

    def render(self, label: str | None = None) -> str:
        where = self.span.location() + ": " if self.span else ""
        out = [f"{where}{label or self.label}: {self.message}"]
        if self.span and self.span.snippet():
            out.append(self.span.snippet())
        if self.found is not None:
            out.append(f"  实际 found:    {self.found}")
        if self.expected is not None:
            out.append(f"  应为 expected: {self.expected}")
        if self.hint:
            out.append(f"  {self.hint}")
        if self.related is not None:
            out.append(f"  相关位置 see also: {self.related.location()}")
            if self.related.snippet():
                out.append(self.related.snippet())
        return "\n".join(out)

    def __str__(self) -> str:
        return self.render()


class PolicySyntaxError(PolicyError):
    kind = "syntax"
    label = "语法错误 syntax error"


class PolicyNameError(PolicyError):
    kind = "name"
    label = "名字错误 name error"


class PolicyTypeError(PolicyError):
    kind = "type"
    label = "类型错误 type error"


class PolicyEvaluationError(PolicyError):
    kind = "evaluation"
    label = "求值错误 evaluation error"


class PolicyLimitError(PolicyError):
    kind = "limit"
    label = "超出限制 limit exceeded"


class RuleFileError(PolicyError):
    """A malformed rule file: YAML syntax, duplicate or unknown key, wrong shape."""

    kind = "rule-file"
    label = "规则文件错误 rule-file error"


class TestFileError(RuleFileError):
    """A malformed YAML rule test (policies/<set>/tests/*.yaml)."""

    label = "测试文件错误 test-file error"
    __test__ = False  # not a pytest test class, whatever its name


class UsageError(PolicyError):
    """The command was asked for something that is not there (a rule set, a clause)."""

    kind = "usage"
    label = "用法错误 usage error"


class FactsFileError(PolicyError):
    """A facts file that cannot be read as YAML or JSON."""

    kind = "facts"
    label = "事实文件错误 facts-file error"


class FactsError(PolicyError):
    """Facts that do not fit the vocabulary; carries every problem at once."""

    kind = "facts"
    label = "事实数据错误 facts error"

    def __init__(self, problems: list[tuple[str, str]], source: str = "") -> None:
        self.problems = problems
        lines = [f"  {path or '(根)'}: {msg}" for path, msg in problems]
        head = f"{source}: " if source else ""
        super().__init__(f"{head}{len(problems)} 处问题\n" + "\n".join(lines))

    def render(self, label: str | None = None) -> str:
        return f"{label or self.label}: {self.message}"


class CheckFailed(PolicyError):
    """`policy check` found diagnostics; each is a PolicyError of its own."""

    kind = "check"
    label = "检查未通过 check failed"

    def __init__(self, diagnostics: list[PolicyError]) -> None:
        self.diagnostics = diagnostics
        super().__init__(f"{len(diagnostics)} 个问题")

    def render(self, label: str | None = None) -> str:
        return "\n\n".join(d.render() for d in self.diagnostics) + f"\n\n{label or self.label}: {self.message}"


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """'是否要写 …？' for the closest candidate, or None."""
    matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"是否要写 did you mean: {matches[0]}？" if matches else None
