"""The product speaks for itself: nothing in the rule sets, the docs, the examples, the
benchmarks or the package points at a file outside the repository (the documents the rule
sets read are in the repository, policies/<set>/source.md)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
AREAS = ("policies", "docs", "examples", "benchmarks", "policy_dsl")
TEXT = {".py", ".yaml", ".yml", ".md", ".json", ".lark", ".txt", ".toml"}
# words that name material kept outside the repository
OUTSIDE = re.compile(r"种子|\bseeds?\b(?!:)|\.\./seeds|spec/|research/|examples\.md|perf\.md|/work/|\.\./\.\./\.\.|closing note|the issue", re.IGNORECASE)


def _files() -> list[Path]:
    files = [ROOT / "README.md"]
    for area in AREAS:
        files += [p for p in sorted((ROOT / area).rglob("*")) if p.is_file() and p.suffix in TEXT
                  and "__pycache__" not in p.parts]
    return files


@pytest.mark.parametrize("path", _files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_reference_outside_the_repository(path: Path) -> None:
    hits = [f"{n}: {line.strip()[:120]}" for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if OUTSIDE.search(line) and "schema=../../../policy_dsl" not in line]
    assert hits == [], f"{path.relative_to(ROOT)} refers to material outside the repository:\n" + "\n".join(hits)


def test_the_rule_sets_carry_their_documents() -> None:
    for name in ("liaoning", "fushun"):
        manifest = (ROOT / "policies" / name / "policy-set.yaml").read_text(encoding="utf-8")
        assert "file: source.md" in manifest
        assert (ROOT / "policies" / name / "source.md").is_file()
