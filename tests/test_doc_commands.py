"""Every `$ command` in a ```console block of docs/*.md runs, and its output is compared with
the text pasted under it, so the docs cannot drift from the tool.

Conventions the docs follow:
- Commands run in bash from the repository root with the package's `policy` on PATH.
- `/tmp/` stands for a fresh scratch directory per block (replaced in commands and output alike).
- `$ cat FILE` of a file that does not exist yet creates it with the text shown (how the docs
  show a file they then use).
- A line `……（略）` in the pasted output stands for any number of lines.
- `<!-- docs-test: setup: CMD -->` just before a block runs CMD first (a block that continues a
  demo started elsewhere); `<!-- docs-test: skip: REASON -->` leaves a block out, with the reason.

POLICY_DOCS_UPDATE=1 rewrites the pasted output in place with what the commands print now.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
_BLOCK = re.compile(r"(?:<!-- docs-test: (setup|skip): (.*?) -->\n)?```console\n(.*?)```", re.S)


@dataclass
class Step:
    command: str
    expected: str


@dataclass
class Block:
    doc: str
    line: int
    steps: list[Step]
    setup: str | None
    skip: str | None
    span: tuple[int, int]      # where the block's body is in the doc's text


def _blocks() -> list[Block]:
    out = []
    for doc in sorted((ROOT / "docs").glob("*.md")):
        text = doc.read_text(encoding="utf-8")
        for m in _BLOCK.finditer(text):
            steps: list[Step] = []
            for line in m.group(3).splitlines():
                if line.startswith("$ "):
                    steps.append(Step(line[2:], ""))
                elif steps:
                    steps[-1].expected += line + "\n"
            kind, arg = m.group(1), m.group(2)
            out.append(Block(doc.name, text.count("\n", 0, m.start(3)), steps, arg if kind == "setup" else None,
                             arg if kind == "skip" else None, m.span(3)))
    return out


BLOCKS = _blocks()


def _run(command: str, scratch: Path) -> str:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", "COLUMNS": "100",
           "NO_COLOR": "1", "LANG": "C.UTF-8"}
    env.pop("POLICY_PATH", None)
    done = subprocess.run(["bash", "-c", command.replace("/tmp/", f"{scratch}/")], cwd=ROOT, env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300)
    return done.stdout.replace(f"{scratch}/", "/tmp/")


ELIDED = "……（略）"


def _matches(expected: str, actual: str) -> bool:
    """Line by line; a line "……（略）" in the doc stands for any number of lines."""
    if ELIDED not in expected:
        return _normal(actual) == _normal(expected)
    parts = [re.escape(line) if line != ELIDED else r"(?:[^\n]*\n)*?" for line in _normal(expected).splitlines()]
    pattern = "".join(p if p.endswith("*?") else p + r"\n" for p in parts)
    return re.fullmatch(pattern, _normal(actual) + "\n") is not None


def _normal(text: str) -> str:
    """Trailing blanks dropped; content hashes (which change with every rule edit) compared as a shape."""
    text = re.sub(r"sha256:[0-9a-f]{64}", "sha256:…", text)
    return "\n".join(line.rstrip() for line in text.strip("\n").splitlines())


@pytest.mark.parametrize("block", BLOCKS, ids=[f"{b.doc}:{b.line}" for b in BLOCKS])
def test_doc_command_output_matches(block: Block, tmp_path: Path) -> None:
    if block.skip:
        pytest.skip(block.skip)  # a reason written in the doc, next to the block
    if block.setup:
        _run(block.setup, tmp_path)
    actual: list[str] = []
    for step in block.steps:
        m = re.fullmatch(r"cat (/tmp/\S+)", step.command)
        if m and not Path(m.group(1).replace("/tmp/", f"{tmp_path}/")).exists():
            target = Path(m.group(1).replace("/tmp/", f"{tmp_path}/"))
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(step.expected, encoding="utf-8")
        actual.append(_run(step.command, tmp_path))
    if os.environ.get("POLICY_DOCS_UPDATE") and not any(ELIDED in s.expected for s in block.steps):
        _update(block, actual)
        return
    for step, got in zip(block.steps, actual):
        assert _matches(step.expected, got), f"{block.doc}:{block.line}: $ {step.command}\n{got}"


def _update(block: Block, actual: list[str]) -> None:
    doc = ROOT / "docs" / block.doc
    text = doc.read_text(encoding="utf-8")
    body = "".join(f"$ {s.command}\n{got.rstrip()}\n" if got.strip() else f"$ {s.command}\n"
                   for s, got in zip(block.steps, actual))
    old = "".join(f"$ {s.command}\n{s.expected}" for s in block.steps)
    doc.write_text(text.replace(old, body, 1), encoding="utf-8")
