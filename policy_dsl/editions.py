"""How rule sets are built on each other: a city's variant (`extends`, a lower level) or
the next edition of the same document (`supersedes`, the same level, later in time).

One place answers "which set is this one built on, and how" — for the loader, the cache
key and anyone walking a loaded set's ancestors (declared facts, editions by period).
Both relations patch the parent's resolved clauses the same way (variants.py); they
differ in what a patch may change: an edition may change any value, bound or
delegation and remove items, a city fills what it was delegated within the bounds.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

from .errors import RuleFileError
from .model import Parameter, RuleSet
from .source import Span

RELATIONS = ("extends", "supersedes")
EXTENDS, SUPERSEDES = RELATIONS


@dataclass(frozen=True)
class Link:
    """What a manifest says it is built on: `relation` is "extends" or "supersedes"."""

    relation: str
    name: Any                # the set name as written (a PosStr in a loaded manifest)
    span: Span | None = None  # where the key is written

    @property
    def zh(self) -> str:
        return "扩展" if self.relation == EXTENDS else "取代"


def parent_link(manifest: Any) -> Link | None:
    """The manifest's `extends` or `supersedes`, or None; both at once is an error at the second key."""
    if not isinstance(manifest, dict):
        return None
    written = [key for key in RELATIONS if key in manifest]
    if len(written) > 1:
        span = manifest.key_span(SUPERSEDES) if hasattr(manifest, "key_span") else None
        raise RuleFileError(
            "extends 与 supersedes 只能写一个 a set is either a variant (extends) or an edition (supersedes), not both",
            span, found="extends 与 supersedes",
            hint="下级（如市）在上级规则集基础上细化写 extends；同一文件的新一版（如下一年度）写 supersedes")
    if not written:
        return None
    key = written[0]
    return Link(key, manifest[key], manifest.key_span(key) if hasattr(manifest, "key_span") else None)


# --- walking a loaded set -------------------------------------------------------------------
def ancestors(rule_set: RuleSet) -> Iterator[tuple[str, RuleSet]]:
    """The sets this one is built on, nearest first, each with the relation that leads to it
    ("extends": the next one up is a base of a lower level; "supersedes": an earlier edition)."""
    rs = rule_set
    while rs.base is not None:
        yield (SUPERSEDES if rs.supersedes else EXTENDS), rs.base
        rs = rs.base


def chain(rule_set: RuleSet) -> tuple[RuleSet, ...]:
    """The set and all its ancestors (extends and supersedes), nearest first."""
    return (rule_set, *(rs for _, rs in ancestors(rule_set)))


def editions(rule_set: RuleSet) -> tuple[RuleSet, ...]:
    """The set and the editions it supersedes, newest first (stops at the first `extends`)."""
    out = [rule_set]
    while out[-1].supersedes and out[-1].base is not None:
        out.append(out[-1].base)
    return tuple(out)


def same_level(rule_set: RuleSet) -> frozenset[str]:
    """Names of the sets at this set's level: itself and its earlier editions. Everything
    further up the chain is a higher level, whose bounds and fixed values bind this one."""
    return frozenset(rs.name for rs in editions(rule_set))


def relation(rule_set: RuleSet) -> str | None:
    """How the set is built on its base: "extends", "supersedes" or None (a set of its own)."""
    if rule_set.base is None:
        return None
    return SUPERSEDES if rule_set.supersedes else EXTENDS


# --- while loading ----------------------------------------------------------------------------
def level_names(name: str, base: RuleSet | None, link_relation: str | None) -> frozenset[str]:
    """`same_level` of a set being loaded (its RuleSet does not exist yet)."""
    if base is None or link_relation != SUPERSEDES:
        return frozenset({name})
    return frozenset({name}) | same_level(base)


def binding_bounds(base: Parameter, link_relation: str | None, level: frozenset[str]) -> bool:
    """Do the base's bounds on a parameter bind the patch? A city's always (it may narrow them,
    never widen them); an edition's only when a higher level set them (an edition of a city
    stays within the province's bounds) — its own level's bounds it may rewrite."""
    if link_relation != SUPERSEDES:
        return True
    return base.bounds_origin is not None and base.bounds_origin.set_name not in level
