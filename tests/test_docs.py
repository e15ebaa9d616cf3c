"""The Python examples in docs/embedding.md run as written."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "docs" / "embedding.md").read_text(encoding="utf-8"), re.S)


@pytest.mark.parametrize("code", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_embedding_example_runs(code: str, monkeypatch) -> None:
    monkeypatch.chdir(ROOT)
    exec(compile(code, "docs/embedding.md", "exec"), {"__name__": "__docs__"})  # the doc is ours, not user input
