"""`policy test --coverage`: how much of each rule set its YAML tests exercise.

- a computable clause is covered when some case is about its subject (the clause applies);
- a condition is covered when cases saw it both true and false (while its clause applied);
- an exception is covered when some case made it apply.
Each set is measured over the cases written for it (its tests/ files), from the engine's values
and its explanation trace; the total is covered items / all items.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal

from ..trace import TraceBuilder


@dataclass
class SetCoverage:
    name: str
    cases: int = 0
    clauses: dict[str, bool] = field(default_factory=dict)                  # clause id → applied in some case
    conditions: dict[str, set[bool]] = field(default_factory=dict)          # clause.condition → truth values seen
    exceptions: dict[str, bool] = field(default_factory=dict)               # clause.exception id → applied

    def counts(self) -> dict[str, tuple[int, int]]:
        return {"clauses": (sum(self.clauses.values()), len(self.clauses)),
                "conditions": (sum(len(v) == 2 for v in self.conditions.values()), len(self.conditions)),
                "exceptions": (sum(self.exceptions.values()), len(self.exceptions))}

    def percent(self) -> Decimal:
        covered = sum(c for c, _ in self.counts().values())
        total = sum(t for _, t in self.counts().values())
        return _pct(covered, total)


def _pct(part: int, whole: int) -> Decimal:
    # rounded down, so "100%" is never shown for something short of it
    return (Decimal(100) * part / whole).quantize(Decimal("0.1"), rounding=ROUND_DOWN) if whole else Decimal(100)


def measure(outcomes) -> dict[str, SetCoverage]:
    """Coverage per set directory over the cases that ran (a case whose set failed to load is skipped)."""
    from ..errors import PolicyError
    from ..testing import engine_for

    out: dict[str, SetCoverage] = {}
    for outcome in outcomes:
        case = outcome.case
        try:
            engine = engine_for(str(case.set_path))
            decision = engine.evaluate(case.facts, as_of=case.as_of, trace=True, source=case.location)
        except PolicyError:
            continue
        cov = out.get(str(case.set_path))
        if cov is None:
            cov = out[str(case.set_path)] = _empty(engine)
        cov.cases += 1
        _record(cov, engine, decision)
    return out


def _empty(engine) -> SetCoverage:
    cov = SetCoverage(engine.name)
    for cid, clause in engine.rule_set.clauses.items():
        if clause.kind != "computable":
            continue
        cov.clauses[cid] = False
        cov.conditions.update({f"{cid}.{name}": set() for name in clause.conditions})
        cov.exceptions.update({f"{cid}.{rule.id}": False for rule in clause.exceptions})
    return cov


def _record(cov: SetCoverage, engine, decision) -> None:
    for cid, result in decision.clauses.items():
        if cid not in cov.clauses or not result.applicable:
            continue
        cov.clauses[cid] = True
        clause = engine.rule_set.clauses[cid]
        for name in clause.conditions:
            value = decision.slots.get(f"{cid}.{name}")
            if isinstance(value, bool):
                cov.conditions[f"{cid}.{name}"].add(value)
        targets = {rule.conclusion for rule in clause.exceptions}
        for name in targets:
            for node in TraceBuilder(engine, decision).conclusion(cid, name).walk():
                if node.kind == "exception" and node.value is True:
                    cov.exceptions[f"{cid}.{node.label}"] = True


def to_json(report: dict[str, SetCoverage]) -> dict:
    return {cov.name: {"cases": cov.cases, "percent": str(cov.percent()),
                       **{k: {"covered": c, "total": t} for k, (c, t) in cov.counts().items()},
                       "conditions_one_way": {k: sorted(v)[0] for k, v in cov.conditions.items() if len(v) == 1},
                       "conditions_never": [k for k, v in cov.conditions.items() if not v],
                       "clauses_not_applied": [k for k, v in cov.clauses.items() if not v],
                       "exceptions_never_applied": [k for k, v in cov.exceptions.items() if not v]}
            for cov in report.values()}


def render(report: dict[str, SetCoverage]) -> str:
    lines = []
    zh = {"clauses": "条款（有适用的用例）", "conditions": "条件（真假两面都测到）", "exceptions": "例外（至少适用一次）"}
    for cov in report.values():
        lines.append(f"覆盖率 coverage · {cov.name}（{cov.cases} 个用例）：合计 {cov.percent()}%")
        for key, (c, t) in cov.counts().items():
            lines.append(f"  {zh[key]}: {c}/{t}（{_pct(c, t)}%）")
        missing = ([f"    条款 {k}：没有适用的用例" for k, v in cov.clauses.items() if not v] +
                   [f"    条件 {k}：只测到{'真' if True in v else '假'}" for k, v in cov.conditions.items() if len(v) == 1] +
                   [f"    条件 {k}：没有测到真假" for k, v in cov.conditions.items() if not v] +
                   [f"    例外 {k}：没有适用过" for k, v in cov.exceptions.items() if not v])
        if missing:
            lines.append("  未覆盖 not covered:")
            lines += missing
    return "\n".join(lines)


def total_percent(report: dict[str, SetCoverage]) -> Decimal:
    covered = sum(c for cov in report.values() for c, _ in cov.counts().values())
    total = sum(t for cov in report.values() for _, t in cov.counts().values())
    return _pct(covered, total)
