"""Result rows of the compiled query → the Python engine's Decision, value by value.

Values are the engine's own: Decimal money to the fen, Decimal rates, dates,
frozensets, and Unknown(missing, reasons) for undetermined cells, its missing
names decoded from the query's bit masks (plus list-element paths) and its
reasons taken from the delegated parameters they name. Conclusions the query
does not cover are computed by a Python program built for just those.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..engine import ClauseResult, Decision
from ..values import Duration, Unknown

if TYPE_CHECKING:
    from .duckdb_run import SqlEngine

_DURATION_UNITS = {"天": "day", "个月": "month", "年": "year"}


def _duration(text: str) -> Duration:
    for zh, unit in _DURATION_UNITS.items():
        if text.endswith(zh):
            return Duration(int(text[: -len(zh)]), unit)
    raise ValueError(text)  # pragma: no cover - the query writes durations with these units only


class Shaper:
    def __init__(self, sql_engine: "SqlEngine", names: list[str]) -> None:
        self.engine, self.plan = sql_engine.engine, sql_engine.plan
        self.python_engine = sql_engine.python_engine
        self.pos = {name: i for i, name in enumerate(names)}
        self.unknowns: dict[tuple, Unknown] = {}
        self.clauses = []
        for cid, clause in self.engine.rule_set.clauses.items():
            has = None if clause.subject == "always" else self.pos.get(f"_has_{clause.subject}")
            cells = []
            for name in clause.conclusions:
                key = f"{cid}.{name}"
                kind = self.engine.slot_type(key).kind
                if key in self.plan.outputs:
                    words, has_elems = self.plan.masks[key]
                    missing = (tuple((w, self.pos[f"{key}#m{w}"]) for w in words),
                               self.pos[f"{key}#e"] if has_elems else None)
                    cells.append((name, kind, self.pos[key], missing, None))
                else:
                    cells.append((name, kind, None, None, key))
            self.clauses.append((cid, clause.subject == "always", has, tuple(cells)))
        vocab = self.engine.vocab
        self.python_reads = [(p, self.pos[p], vocab.facts[p].type.kind) for p in sql_engine.python_facts]
        self.as_of = self.pos["as_of"]
        self.hash = self.engine.rule_set.content_hash

    def decision(self, row: tuple) -> Decision:
        python_values = self._python(row) if self.python_engine is not None else None
        clauses = {}
        for cid, always, has, cells in self.clauses:
            if not always and not row[has]:
                clauses[cid] = ClauseResult(cid, False, {})
                continue
            out: dict[str, object] = {}
            for name, kind, vi, mi, key in cells:
                if key is not None:
                    out[name] = python_values[key]  # type: ignore[index]
                    continue
                value = row[vi]
                if value is None:
                    out[name] = self._unknown(row, mi)
                elif kind == "set":
                    out[name] = frozenset(value)
                elif kind == "duration":
                    out[name] = _duration(value)
                else:
                    out[name] = value
            clauses[cid] = ClauseResult(cid, True, out)
        return Decision(self.engine.name, row[self.as_of], self.hash, clauses, engine=self.engine)

    def _python(self, row: tuple) -> dict:
        flat: dict[str, Any] = {}
        for path, i, kind in self.python_reads:
            value = row[i]
            if value is not None:
                flat[path] = engine_value(kind, value)
        program = self.python_engine.program  # type: ignore[union-attr]
        return dict(zip(program.keys, program.run(flat)))

    def _unknown(self, row: tuple, where: tuple) -> Unknown:
        words, elems = where
        key = tuple((w, row[i]) for w, i in words)
        found = self.unknowns.get(key)
        if found is None:
            names = self.plan.names.decode({w: row[i] or 0 for w, i in words})
            reasons = {m: self.plan.reasons[m] for m in names if m in self.plan.reasons}
            found = self.unknowns[key] = Unknown(names, reasons)
        if elems is not None and row[elems]:
            return Unknown(found.missing | set(row[elems]), found.reasons)
        return found


def engine_value(kind: str, value: Any) -> Any:
    """A non-NULL SQL cell as the engine reads the fact: a set as a frozenset, a member list
    without the fields the row leaves NULL (unknown)."""
    if kind == "set":
        return frozenset(value)
    if kind == "list":
        return tuple({k: v for k, v in rec.items() if v is not None} for rec in value)
    return value
