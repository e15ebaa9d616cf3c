"""Random rows for differential runs (Python engine vs SQL), as CSV cells by fact path.

Values cluster at the rules' own thresholds (every number and date the rule set
writes, and its neighbours), every enum value, true/false; about `unknown` of
the facts of a present subject are left empty; household members have missing
fields too. A few rows carry a divisor of 0 and cells the Python engine rejects,
so that the hand-over of such rows is exercised as well.
"""
from __future__ import annotations

import csv
import json
import random
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Iterator

from .. import nodes as n
from ..engine import RuleEngine


def _thresholds(engine: RuleEngine) -> tuple[list[int], list[Decimal], list[date]]:
    ints: set[int] = {0, 1, 2}
    decs: set[Decimal] = {Decimal(0)}
    dates: set[date] = set()
    values: list[object] = []
    for clause in engine.rule_set.clauses.values():
        for p in clause.parameters.values():
            values.append(p.value)
            values.extend(v for _, v in p.history)
    values.extend(node.value for node in engine.program.nodes if isinstance(node, n.Literal))
    for v in values:
        if isinstance(v, bool) or v is None:
            continue
        if isinstance(v, int):
            ints.update({v - 1, v, v + 1})
        elif isinstance(v, Decimal):
            decs.update({v, v * 100, v * 100 + 1, v * 100 - 1, v * 12})
        elif isinstance(v, date):
            dates.update({v - timedelta(days=1), v, v + timedelta(days=1)})
    return sorted(i for i in ints if i >= 0), sorted(d for d in decs if d >= 0), sorted(dates)


class CaseMaker:
    def __init__(self, engine: RuleEngine, start: int = 7, unknown: float = 0.15, junk: float = 0.003) -> None:  # float-ok: probabilities
        self.engine, self.rng, self.unknown, self.junk = engine, random.Random(start), unknown, junk
        self.ints, self.decs, self.dates = _thresholds(engine)
        self.subjects = sorted({p.split(".")[0] for p in engine.vocab.facts if "." in p})

    def value(self, path: str) -> str:
        rng = self.rng
        t = self.engine.vocab.facts[path].type
        k = t.kind
        if rng.random() < self.junk:
            return rng.choice(["abc", "-", "1.5.2", "2021-02-30", "[1"])
        if k == "bool":
            return rng.choice(["true", "false"])
        if k == "int":
            return str(rng.choice(self.ints) if rng.random() < 0.7 else rng.randint(0, 400))
        if k in ("money", "decimal", "rate"):
            if rng.random() < 0.5:
                return format(rng.choice(self.decs), "f")
            places = 2 if k == "money" else rng.choice([0, 1, 2])
            return format(Decimal(rng.randint(0, 10_000_000)).scaleb(-places), "f")
        if k == "date":
            if self.dates and rng.random() < 0.6:
                return rng.choice(self.dates).isoformat()
            return (date(2019, 1, 1) + timedelta(days=rng.randint(0, 3000))).isoformat()
        if k == "enum":
            return rng.choice(t.values)
        if k == "set":
            values = list(t.elem.values) if t.elem else []
            return json.dumps(rng.sample(values, rng.randint(0, min(3, len(values)))), ensure_ascii=False)
        if k == "list":
            fields = [name for name, _ in (t.elem.fields if t.elem else ())]
            members = [{f: rng.choice([True, False]) for f in fields if rng.random() >= self.unknown}
                       for _ in range(rng.randint(0, 4))]
            return json.dumps(members)
        return rng.choice(["抚顺市", "沈阳市"])

    def row(self) -> dict[str, str]:
        rng = self.rng
        present = [s for s in self.subjects if rng.random() < 0.5] or [rng.choice(self.subjects)]
        cells = {"as_of": "" if rng.random() < self.unknown else self.value("as_of")}
        for path in self.engine.vocab.facts:
            head = path.split(".")[0]
            if "." in path and head in present and rng.random() >= self.unknown:
                cells[path] = self.value(path)
        return cells

    def rows(self, count: int) -> Iterator[dict[str, str]]:
        for _ in range(count):
            yield self.row()


def write_csv(engine: RuleEngine, path: str | Path, count: int, start: int = 7, **options: float) -> Path:  # float-ok: probabilities
    maker = CaseMaker(engine, start, **options)
    columns = list(engine.vocab.facts)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for row in maker.rows(count):
            writer.writerow(row)
    return Path(path)


def write_register(engine: RuleEngine, path: str | Path, count: int, start: int = 7) -> Path:
    """`count` generated rows as a register keeps them: every fact a column (as_of last), a set
    spelled a;b ([] when empty) rather than as JSON."""
    maker = CaseMaker(engine, start)
    facts = engine.vocab.facts
    columns = [p for p in facts if p != "as_of"] + ["as_of"]
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for row in maker.rows(count):
            for p, cell in row.items():
                if facts[p].type.kind == "set" and cell.startswith("["):
                    try:
                        items = json.loads(cell)
                    except ValueError:  # a bad cell stays as it is
                        continue
                    row[p] = ";".join(items) if items else "[]"
            writer.writerow(row)
    return Path(path)
