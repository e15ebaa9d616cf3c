"""Fact values that put a comparison right at its boundary.

The comparison's outcome is read off a traced evaluation (`probe`), as a function of one fact with
the others fixed; it is looked at in a few sample points and bisected wherever it changes. So the
boundary is found through whatever the fact side computes (a rate layoffs / headcount, an
application date falling back to another date, a date minus 5 years), in the fact's own steps: the
last value on one side and the first on the other, and one step further on each side.
"""
from __future__ import annotations

from typing import Any, Callable

from .steps import Domain

Probe = Callable[[Any], "bool | None"]   # outcome of the comparison for a value of the fact; None: not reached
_FLIPS = 3        # boundaries kept per search (a fact compared in a non-monotone way has several)
_BETWEEN = 5      # values kept strictly between two sets' boundaries


def flips(probe: Probe, dom: Domain, points: list[Any]) -> list[tuple[int, int]]:
    """Index pairs (last of one outcome, first of the other) where the outcome changes."""
    seen: list[tuple[int, bool]] = []
    for p in points:
        k = dom.index(p)
        if k is None:
            continue
        o = probe(dom.value(k))
        if o is not None:
            seen.append((k, o))
    out: list[tuple[int, int]] = []
    for (k1, o1), (k2, o2) in zip(seen, seen[1:]):
        if o1 == o2:
            continue
        lo, hi = k1, k2
        while hi - lo > 1:
            mid = (lo + hi) // 2
            o = probe(dom.value(mid))
            if o is None:
                break  # not reached in between: keep the bracket found so far
            if o == o1:
                lo = mid
            else:
                hi = mid
        out.append((lo, hi))
        if len(out) >= _FLIPS:
            break
    return out


def around_flip(dom: Domain, flip: tuple[int, int]) -> list[Any]:
    """One step before the last value of one side, that value, the first of the other, one step after."""
    lo, hi = flip
    return [dom.value(k) for k in (lo - 1, lo, hi, hi + 1) if 0 <= k < dom.size]


def between(dom: Domain, a: list[tuple[int, int]], b: list[tuple[int, int]]) -> list[Any]:
    """Values strictly between the boundaries two sets put at different places (evenly spaced, a few)."""
    out: list[Any] = []
    for (alo, ahi), (blo, bhi) in zip(a, b):
        if (alo, ahi) == (blo, bhi):
            continue
        lo, hi = min(ahi, bhi), max(alo, blo)
        if hi < lo:
            continue
        count = hi - lo + 1
        ks = range(lo, hi + 1) if count <= _BETWEEN else \
            sorted({lo + (count - 1) * i // (_BETWEEN - 1) for i in range(_BETWEEN)})
        out += [dom.value(k) for k in ks]
    return out
