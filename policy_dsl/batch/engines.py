"""The seam where an evaluation engine plugs into `policy batch --engine NAME`.

An engine factory takes the loaded RuleEngine (the checked rule set, its
vocabulary and types) and returns an object with the many-case API:
`evaluate_many(cases, *, as_of=None, trace=False)` yielding, in order, one
Decision or CaseError per case. `supports_trace` says whether --explain can be
served. The python engine is RuleEngine itself; another engine (a DuckDB
backend, say) adds one entry to ENGINES.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator, Protocol

from ..engine import CaseError, Decision, RuleEngine


class BatchEngine(Protocol):
    def evaluate_many(self, cases: Iterable[Any], *, as_of=None,
                      trace: bool = False) -> Iterator[Decision | CaseError]: ...  # pragma: no cover


@dataclass(frozen=True)
class EngineChoice:
    make: Callable[[RuleEngine], BatchEngine]
    supports_trace: bool
    zh: str
    # (args, engine, reader, fmt, out, errors_path) → exit code, or None to take the general path
    run_file: Callable[..., int | None] | None = None


def _duckdb(engine: RuleEngine) -> BatchEngine:
    from ..sql.batch_engine import DuckDBBatchEngine

    return DuckDBBatchEngine(engine)


def _duckdb_file(*args: Any) -> int | None:
    from ..sql.batch_file import run_file

    return run_file(*args)


ENGINES: dict[str, EngineChoice] = {
    "python": EngineChoice(lambda engine: engine, True, "编译后的 Python 规则（RuleEngine.evaluate_many）"),
    "duckdb": EngineChoice(_duckdb, False, "编译为 SQL，在内嵌 DuckDB 中求值（policy_dsl.sql，见 docs/sql.md）",
                           _duckdb_file),
}
