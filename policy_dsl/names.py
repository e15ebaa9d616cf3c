"""Names that reach the file system or the expression language, and the policies root.

A set's `name`, `extends` and a test's `compare` are bare directory names, so they cannot
point outside the policies root; every file a load reads must resolve (symlinks followed)
inside that root. Clause ids and item names must be names the language can refer to.
"""
from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

from .errors import RuleFileError
from .source import Span

ROOT_ENV = "POLICY_DSL_ROOT"
# A set name (manifest `name`, `extends`, a test's `compare`) is a bare directory name:
# never a path, so it cannot reach outside the policies root.
_SET_NAME = re.compile(r"[^\W_][\w-]*")
# Item names and clause ids must be names the expression language can refer to.
_NAME = re.compile(r"[^\W\d]\w*")
RESERVED = frozenset("if then else and or not in where for true false count any all sum "
                     "day days month months year years".split())


def check_set_name(raw: Any, span: Span | None, error: type = RuleFileError) -> str:
    name = str(raw)
    if not _SET_NAME.fullmatch(name):
        raise error(f"规则集名 {name!r} 不合法 invalid set name", getattr(raw, "span", None) or span, found=name,
                    expected="字母、数字、_ 或 -，不含 / 或 .（同一根目录下的目录名） a bare directory name")
    return name


def name_problem(name: str) -> str | None:
    """Why `name` cannot be a clause id or item name (None when it can)."""
    if not _NAME.fullmatch(name):
        return "应以字母或 _ 开头，只含字母、数字和 _（不含 . / 空格等） must be a name of the language"
    if name in RESERVED:
        return f"{name!r} 是保留字 a reserved word of the language"
    return None


def policies_root(set_dir: Path, root: str | Path | None = None) -> Path:
    """The directory rule sets are confined to: `root`, else $POLICY_DSL_ROOT, else the set's parent."""
    chosen = root if root is not None else os.environ.get(ROOT_ENV) or None
    return Path(chosen).resolve() if chosen is not None else set_dir.resolve().parent


def inside(file: Path, root: Path) -> bool:
    try:
        file.resolve().relative_to(root)
        return True
    except (ValueError, OSError, RuntimeError):  # RuntimeError: a symlink loop
        return False


def confined(file: Path, root: Path) -> Path:
    if not inside(file, root):
        raise RuleFileError(f"{file}: 指向规则根目录 {root} 之外（符号链接？） resolves outside the policies root",
                            hint="规则文件不能是指向根目录之外的符号链接")
    return file
