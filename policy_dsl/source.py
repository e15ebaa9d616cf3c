"""Where things come from: a source text and a span inside it.

Spans are attached to every AST node and every error. Line and column are
1-based; end_column is exclusive. Spans never take part in node equality.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Source:
    """A named text: a rule file, a facts file or a bare expression."""

    name: str
    text: str

    def line(self, number: int) -> str:
        lines = self.text.splitlines()
        return lines[number - 1] if 0 < number <= len(lines) else ""


@dataclass(frozen=True)
class Span:
    line: int
    column: int
    end_line: int
    end_column: int
    source: Source | None = field(default=None, compare=False, repr=False)

    @property
    def name(self) -> str:
        return self.source.name if self.source else "<expression>"

    def location(self) -> str:
        return f"{self.name}:{self.line}:{self.column}"

    def snippet(self) -> str:
        """The source line with a caret under the span (first line only)."""
        if self.source is None:
            return ""
        text = self.source.line(self.line)
        if not text:
            return ""
        end = self.end_column if self.end_line == self.line else len(text) + 1
        column = self.column
        if len(text) > 100:  # a window around the column, so one long line stays readable
            start = max(0, column - 41)
            text = ("…" if start else "") + text[start : start + 80] + ("…" if start + 80 < len(text) else "")
            column -= start - (1 if start else 0)
            end = min(end - start + (1 if start else 0), len(text) + 1)
        width = max(1, end - column)
        gutter = f"{self.line:>5} | "
        # East Asian characters take two terminal cells; pad the caret line to match.
        pad = _cells(text[: column - 1])
        carets = "^" * max(1, _cells(text[column - 1 : column - 1 + width]))
        return f"{gutter}{text}\n{' ' * (len(gutter) - 2)}| {' ' * pad}{carets}"


def _cells(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
