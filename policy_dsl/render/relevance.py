"""Which policies concern a case: the ones the clerk should talk about.

A clause whose subject the case lacks does not (the engine says so: not applicable). Of the rest,
a clause concerns the case when one of its conclusions that depends on the case is decided, or
when the case gives a fact of the clause's subject that no other clause about that subject reads. An employee's 就业困难人员认定 or 失业补助金,
every conclusion undetermined for want of facts nobody gave, is named once under 未涉及 instead
of being asked about fact by fact. Which facts a conclusion depends on is read off the rules
(through every named item it uses, in any clause), not off one evaluation.
"""
from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from .. import nodes as n
from ..model import Named
from ..typer import FactBinding, SlotBinding
from ..values import Unknown

if TYPE_CHECKING:
    from ..engine import Decision, RuleEngine

_EVERYWHERE = frozenset({"as_of"})  # the evaluation date is in every case: it tells nothing


def concerns(decision: "Decision", cid: str) -> bool:
    engine = decision.engine
    assert engine is not None
    facts = _facts_by_conclusion(engine)
    result = decision.clauses[cid]
    for name, value in result.conclusions.items():
        if value.__class__ is not Unknown and facts[(cid, name)] - _EVERYWHERE:
            return True
    given = {path.split("[")[0] for path in decision.facts if not path.startswith("$")}
    return bool(_own_facts(engine, cid) & given)


@lru_cache(maxsize=8)
def _facts_by_conclusion(engine: "RuleEngine") -> dict[tuple[str, str], frozenset[str]]:
    bindings = engine.analysis.notes.bindings
    memo: dict[str, frozenset[str]] = {}

    def item_facts(key: str) -> frozenset[str]:
        if key in memo:
            return memo[key]
        memo[key] = frozenset()  # a cycle is a checker error; never loop here
        cid, name = key.split(".", 1)
        clause = engine.rule_set.clauses[cid]
        item = clause.items().get(name)
        exprs = [item.expr] if isinstance(item, Named) else []
        exprs += [e for r in clause.exceptions if r.conclusion == name for e in (r.when, r.value)]
        found: set[str] = set()
        for expr in exprs:
            for node in n.walk(expr):
                binding = bindings.get(id(node)) if isinstance(node, n.Ref) else None
                if isinstance(binding, FactBinding):
                    found.add(binding.path)
                elif isinstance(binding, SlotBinding):
                    found |= item_facts(binding.key)
        memo[key] = frozenset(found)
        return memo[key]

    return {(cid, name): item_facts(f"{cid}.{name}")
            for cid, clause in engine.rule_set.clauses.items() for name in clause.conclusions}


@lru_cache(maxsize=64)
def _own_facts(engine: "RuleEngine", cid: str) -> frozenset[str]:
    """The facts of this clause's subject that it reads and no other clause about the same subject
    does (城镇零就业家庭认定 owns household.members, though 就业困难人员认定 reads them too)."""
    by = _facts_by_conclusion(engine)
    clauses = engine.rule_set.clauses
    subject = clauses[cid].subject
    mine = frozenset().union(*(f for (c, _), f in by.items() if c == cid))
    others = frozenset().union(*(f for (c, _), f in by.items() if c != cid and clauses[c].subject == subject))
    return frozenset(p for p in mine - others - _EVERYWHERE if p.startswith(subject + "."))
