"""Where rule sets are found: one rule for every command and every caller.

A SET argument is either a directory holding `policy-set.yaml`, or a set name looked
up in the policy directories: `--policies DIR` if given, else the `POLICY_PATH`
variable (directories separated by the system's path separator, like PATH), else
`./policies`. A name that is nowhere gets a did-you-mean over the sets that exist.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Iterator

from .errors import UsageError, did_you_mean

MANIFEST = "policy-set.yaml"
ENV = "POLICY_PATH"
DEFAULT_DIR = "policies"

# Set for the duration of one CLI command by `--policies DIR` (a context variable, not the
# environment, so an in-process caller such as a test or the service is not affected).
_chosen: ContextVar[tuple[Path, ...] | None] = ContextVar("policy_dirs", default=None)


def search_dirs(policies_dir: str | Path | None = None) -> tuple[Path, ...]:
    """The directories a set name is looked up in, first match wins."""
    if policies_dir is not None:
        return (Path(policies_dir),)
    chosen = _chosen.get()
    if chosen is not None:
        return chosen
    env = os.environ.get(ENV, "")
    dirs = tuple(Path(p) for p in env.split(os.pathsep) if p)
    return dirs or (Path(DEFAULT_DIR),)


@contextmanager
def using(policies_dir: str | Path | None) -> Iterator[None]:
    """Within the block, set names are looked up in `policies_dir` (no-op for None)."""
    if policies_dir is None:
        yield
        return
    token = _chosen.set((Path(policies_dir),))
    try:
        yield
    finally:
        _chosen.reset(token)


def available_sets(policies_dir: str | Path | None = None) -> list[str]:
    """Names of the sets in the policy directories, in search order, without repeats."""
    names: list[str] = []
    for d in search_dirs(policies_dir):
        if d.is_dir():
            for child in sorted(d.iterdir()):
                if (child / MANIFEST).is_file() and child.name not in names:
                    names.append(child.name)
    return names


def resolve_set(name_or_path: str | Path, policies_dir: str | Path | None = None) -> Path:
    """The directory of a set given by path or by name; UsageError with did-you-mean otherwise."""
    given = Path(name_or_path)
    if (given / MANIFEST).is_file():
        return given
    text = str(name_or_path)
    dirs = search_dirs(policies_dir)
    if given.is_dir():
        raise UsageError(f"目录 {text} 不是规则集 not a rule set: 其中没有 {MANIFEST}",
                         hint="规则集目录应含 policy-set.yaml 和 clauses/")
    if not _looks_like_path(text):
        for d in dirs:
            if (d / text / MANIFEST).is_file():
                return d / text
    known = available_sets(policies_dir)
    where = "、".join(str(d) for d in dirs)
    raise UsageError(
        f"找不到规则集 {text} no such rule set", found=text,
        expected=("、".join(known) if known else f"含 {MANIFEST} 的目录") + f"（在 {where} 中查找）",
        hint=did_you_mean(text, known) or f"可写规则集目录的路径，或用 --policies DIR / 环境变量 {ENV} 指定规则集所在目录")


def _looks_like_path(text: str) -> bool:
    return os.sep in text or "/" in text or text.startswith(".")
