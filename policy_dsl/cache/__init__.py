"""A cache of checked rule sets, so that loading a set already seen skips parsing and checking.

Loading fushun means reading ~50 YAML files, building the expression parser and parsing
every expression: most of a cold start. The result of load + check (the RuleSet and its
Analysis) depends only on the bytes of the set's files (and its base's), where they sit,
the policy_dsl code and vocabulary, and POLICY_DSL_* settings — all of which go into the
key. A hit unpickles that result; the Python code is still generated and compiled fresh.

Safety: entries live in a directory only the user can write (mode 0700:
$POLICY_DSL_CACHE, else $XDG_CACHE_HOME/policy-dsl, else ~/.cache/policy-dsl), so they are
trusted as far as the user's own files are — like Python's __pycache__. Each entry starts
with the SHA-256 of its payload: a truncated or corrupted entry is ignored and rewritten.
Writers write a temporary file and rename it into place, so concurrent writers and readers
never see half an entry. Any failure of the cache falls back to a normal load; set
POLICY_DSL_CACHE=off to disable it.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import sys
import tempfile
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

from .. import nodes as n
from ..checker import Analysis
from ..editions import parent_link
from ..errors import PolicyError
from ..model import RuleSet
from ..typer import Annotations

FORMAT = b"policy-dsl-cache-1\n"
_PACKAGE = Path(__file__).resolve().parent.parent


def cache_dir() -> Path | None:
    setting = os.environ.get("POLICY_DSL_CACHE", "")
    if setting.lower() in ("off", "0", "no", "false"):
        return None
    if setting:
        return Path(setting)
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:  # no home directory: no cache
            return None
    return Path(base) / "policy-dsl"


def lookup(set_path: Path) -> tuple[RuleSet, Analysis] | None:
    """The checked set cached for exactly these files, or None."""
    where = cache_dir()
    key, files = _key(set_path) if where is not None else (None, [])
    if key is None or where is None:
        return None
    try:
        blob = (where / f"{key}.pickle").read_bytes()
    except OSError:
        return None
    head = len(FORMAT) + 32
    if len(blob) < head or not blob.startswith(FORMAT) or hashlib.sha256(blob[head:]).digest() != blob[len(FORMAT):head]:
        return None  # corrupted or from another format: rebuilt and rewritten by the caller
    try:
        rule_set, analysis, types, bindings = pickle.loads(blob[head:])  # our own file, checked above
    except Exception:  # pragma: no cover - a digest-checked entry from an incompatible build
        return None
    if _resolved(rule_set.files) != files:
        return None  # the loader read other files than the key covers: do not trust the key
    notes = Annotations({id(node): t for node, t in types}, {id(node): b for node, b in bindings})
    return rule_set, replace(analysis, notes=notes)


def store(set_path: Path, rule_set: RuleSet, analysis: Analysis) -> None:
    """Remember a checked set; silently does nothing when it cannot."""
    where = cache_dir()
    key, files = _key(set_path) if where is not None else (None, [])
    if key is None or where is None or _resolved(rule_set.files) != files:
        return
    nodes = _nodes_by_id(rule_set)
    notes = analysis.notes
    if not (notes.types.keys() <= nodes.keys() and notes.bindings.keys() <= nodes.keys()):
        return  # an annotation of a node the rule set does not hold: not cacheable
    # Annotations are keyed by id(node), which a pickle cannot keep: store (node, value) pairs.
    payload = pickle.dumps((rule_set, replace(analysis, notes=Annotations()),
                            [(nodes[i], t) for i, t in notes.types.items()],
                            [(nodes[i], b) for i, b in notes.bindings.items()]), protocol=pickle.HIGHEST_PROTOCOL)
    try:
        where.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=where, prefix=".tmp-", suffix=".pickle")
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(FORMAT + hashlib.sha256(payload).digest() + payload)
            os.replace(tmp, where / f"{key}.pickle")
        except BaseException:
            os.unlink(tmp)
            raise
        _prune(where)
    except OSError:
        return


def _prune(where: Path, keep: int = 200) -> None:
    """Old entries go: at most `keep` stay (the most recently written)."""
    entries = sorted(where.glob("*.pickle"), key=lambda p: p.stat().st_mtime)
    for old in entries[:-keep]:
        old.unlink(missing_ok=True)


def _resolved(files) -> list[Path]:
    return sorted(Path(f).resolve() for f in files)


def _nodes_by_id(rule_set: RuleSet) -> dict[int, n.Expr]:
    out: dict[int, n.Expr] = {}
    rs: RuleSet | None = rule_set
    while rs is not None:
        for clause in rs.clauses.values():
            roots = [item.expr for item in clause.items().values() if hasattr(item, "expr")]
            roots += [x for rule in clause.exceptions for x in (rule.when, rule.value)]
            for root in roots:
                for node in n.walk(root):
                    out[id(node)] = node
        rs = rs.base
    return out


def _key(set_path: Path) -> tuple[str | None, list[Path]]:
    """A digest of everything a load + check of this set reads (None if it cannot be worked out),
    and the files it covers."""
    digest = hashlib.sha256(FORMAT)
    digest.update(_code_digest())
    digest.update(repr(sys.version_info[:2]).encode())
    for k, v in sorted(os.environ.items()):
        if k.startswith("POLICY_DSL") and k != "POLICY_DSL_CACHE":
            digest.update(f"{k}={v}\0".encode())
    seen: set[Path] = set()
    covered: list[Path] = []
    path: Path | None = set_path
    while path is not None:
        if path.resolve() in seen:
            return None, []  # an extends cycle: the loader reports it
        seen.add(path.resolve())
        manifest = path / "policy-set.yaml"
        files = [manifest, *sorted((path / "clauses").glob("*.yaml"))]
        for f in files:
            try:
                digest.update(f"{f}\0{f.resolve()}\0{f.is_symlink()}\0".encode())
                digest.update(f.read_bytes())
            except OSError:
                return None, []
            covered.append(f.resolve())
        ok, path = _base_of(manifest)
        if not ok:
            return None, []
    return digest.hexdigest(), sorted(covered)


def _base_of(manifest: Path) -> tuple[bool, Path | None]:
    """(understood, the base set's directory if the manifest extends or supersedes one)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data: Any = yaml.load(manifest.read_text(encoding="utf-8"), Loader=loader)  # a safe loader; only `extends`/`supersedes`
    except Exception:
        return False, None
    if not isinstance(data, dict):
        return False, None
    try:
        link = parent_link(data)
    except PolicyError:
        return False, None  # both extends and supersedes: the loader reports it
    base = link.name if link else None
    if base is None:
        return True, None
    return isinstance(base, str), manifest.parent.parent / str(base)


@lru_cache(maxsize=1)
def _code_digest() -> bytes:
    digest = hashlib.sha256()
    grammar = [_PACKAGE / "grammar" / "policy.lark", _PACKAGE.parent / "grammar" / "policy.lark"]
    for f in sorted(_PACKAGE.rglob("*.py")) + sorted(_PACKAGE.rglob("*.yaml")) + sorted(_PACKAGE.rglob("*.json")) \
            + [g for g in grammar if g.is_file()]:
        digest.update(str(f.relative_to(_PACKAGE.parent)).encode() + b"\0" + f.read_bytes())
    return digest.digest()
