"""A pairwise covering array: rows that together take every pair of levels of every two factors.

Greedy (AETG-like, deterministic): each row starts from the first pair not yet covered and gives
every other factor the level that covers most uncovered pairs with the levels already chosen. The
number of rows grows with the product of the two largest level counts, not with the number of
factors; rows beyond `cap` are not made, and the report says how many pairs stayed uncovered.
"""
from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Any, Sequence

Pair = tuple[int, int, int, int]   # factor i, level a, factor j, level b (i < j)


@dataclass(frozen=True)
class CoveringArray:
    rows: tuple[tuple[int, ...], ...]   # level index per factor
    pairs: int                          # pairs of levels to cover
    uncovered: int                      # left uncovered when the cap stopped the rows
    capped: bool


def all_pairs(sizes: Sequence[int]) -> set[Pair]:
    return {(i, a, j, b) for i, j in combinations(range(len(sizes)), 2)
            for a in range(sizes[i]) for b in range(sizes[j])}


def covering_array(sizes: Sequence[int], cap: int) -> CoveringArray:
    todo = all_pairs(sizes)
    total = len(todo)
    rows: list[tuple[int, ...]] = []
    order = sorted(todo)
    cursor = 0
    while todo and len(rows) < cap:
        while order[cursor] not in todo:
            cursor += 1
        i, a, j, b = order[cursor]
        row: dict[int, int] = {i: a, j: b}
        for k in range(len(sizes)):
            if k in row:
                continue
            best, gain = 0, -1
            for level in range(sizes[k]):
                g = sum(((m, row[m], k, level) if m < k else (k, level, m, row[m])) in todo for m in row)
                if g > gain:
                    best, gain = level, g
            row[k] = best
        full = tuple(row[k] for k in range(len(sizes)))
        rows.append(full)
        todo -= covered_by(full)
    return CoveringArray(tuple(rows), total, len(todo), bool(todo))


def covered_by(row: Sequence[int]) -> set[Pair]:
    return {(i, row[i], j, row[j]) for i, j in combinations(range(len(row)), 2)}


def assignments(factors: Sequence[str], levels: Sequence[Sequence[Any]], array: CoveringArray) -> list[dict[str, Any]]:
    return [{f: levels[i][row[i]] for i, f in enumerate(factors)} for row in array.rows]
