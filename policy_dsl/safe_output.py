"""Terminal safety: text that reaches the terminal shows control characters instead of
obeying them. Facts come from the public and rule files from many hands; an ESC sequence
or a bidi override inside a key, a name or a quote must not recolour, move the cursor or
reorder what a clerk reads. Newlines and tabs pass; everything else in Unicode's control
and format-control ranges is written as a visible \\uXXXX (valid inside JSON strings too).
"""
from __future__ import annotations

import contextlib
import re
import sys
from typing import Iterator, TextIO

# C0 except \t \n, DEL, C1, and the bidi controls (LRE…RLO, LRI…PDI, LRM/RLM/ALM).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """`text` with every unsafe character written as \\uXXXX."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class _Guard:
    """A text stream wrapper that makes everything written to it visible()."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def write(self, text: str) -> int:
        self._stream.write(visible(text))
        return len(text)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


@contextlib.contextmanager
def guarded_streams() -> Iterator[None]:
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = _Guard(sys.stdout), _Guard(sys.stderr)  # type: ignore[assignment]
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
