"""What the compiler is given for each named item of a rule set: its SlotSpec (expression,
exceptions by priority, money or not, a parameter's value or what leaves it unknown), the items
a set of targets needs, and the values of the items no fact can change (computed once, at load).
"""
from __future__ import annotations

from . import nodes as n
from . import types as T
from .checker import Analysis, split_key
from .compiler import Program, SlotSpec, compile_program
from .errors import PolicyError
from .model import Parameter, RuleSet
from .periods.history import period_source
from .typer import FactBinding
from .values import Unknown


def static_values(analysis: Analysis, specs: dict[str, SlotSpec],
                  program: Program) -> tuple[dict[str, object], Program | None]:
    """The value of every computed item that depends on no fact (and no date-dependent parameter),
    and the program of those items alone (numbered as `program`) that computed them."""
    static: set[str] = set()
    for key in program.keys:
        spec = specs.get(key)
        if spec is None or spec.history or spec.expr is None and spec.const.__class__ is Unknown:
            continue
        if all(d in static for d in analysis.deps.get(key, ())) and not _reads_facts(spec, analysis):
            static.add(key)
    if not static:
        return {}, None
    keys = [k for k in program.keys if k in static]  # what they read is static too: a program of its own
    alone = compile_program([specs[k] for k in keys], analysis.notes, numbering=(program.nodes, program.node_ids))
    try:
        values = dict(zip(keys, alone.run({"$subjects": frozenset()})))
    except PolicyError:  # an item that fails on every case keeps failing where it is used
        return {}, None
    return {k: values[k] for k in static}, alone


def _reads_facts(spec: SlotSpec, analysis: Analysis) -> bool:
    roots = ([spec.expr] if spec.expr is not None else []) + [x for pair in spec.exceptions for x in pair]
    bindings = analysis.notes.bindings
    return any(isinstance(bindings.get(id(node)), FactBinding) for root in roots for node in n.walk(root))


def closure(analysis: Analysis, targets: set[str]) -> set[str]:
    """The targets and every item they read, directly or not."""
    keep: set[str] = set()
    stack = list(targets)
    while stack:
        key = stack.pop()
        if key not in keep:
            keep.add(key)
            stack.extend(analysis.deps.get(key, ()))
    return keep


def slot_spec(rs: RuleSet, analysis: Analysis, key: str) -> SlotSpec:
    """The compiler's view of one item: exceptions highest priority first; a conclusion of money type is rounded."""
    cid, name = split_key(key)
    clause = rs.clauses[cid]
    item = clause.items()[name]
    if isinstance(item, Parameter):
        return SlotSpec(key, const=parameter_value(item), history=item.history,
                        history_by=period_source(clause) if item.history else None)
    rules = sorted((r for r in clause.exceptions if r.conclusion == name), key=lambda r: -r.priority)
    money = item.role == "conclusion" and analysis.slot_types.get(key, T.ANY).kind == "money"
    return SlotSpec(key, expr=item.expr, money=money, exceptions=tuple((r.when, r.value) for r in rules))


def parameter_value(p: Parameter) -> object:
    """A parameter's value; unknown (with the reason people read) when delegated or not given."""
    if p.value is not None:
        return p.value
    if p.history:
        return None
    reason = p.delegated.reason if p.delegated else "未给出值"
    return Unknown({p.name}, {p.name: reason})
