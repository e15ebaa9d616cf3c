"""The statements of codegen.Gen that set each named item: a value in force by date, exceptions
weighed, money rounded half-up to the fen once (in each branch of an `if` whose condition is
known), or the value as it is. A mixin: Gen provides emit, expr, const and the rest.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from . import nodes as n
from .periods.history import value_on
from .values import Unknown, quantize_money

if TYPE_CHECKING:
    from .codegen import Gen

INT_LITERAL = re.compile(r"\(-?[0-9]+\)").fullmatch  # an int constant as Gen.const writes it


class SlotStatements:
    def _slot(self: "Gen", slot) -> None:
        """The statements setting `slot`'s local (none for a known constant: it is used directly)."""
        target = self.slot_local[slot.key]
        if slot.history and slot.history_by is not None:  # by the clause's period date (periods/history.py)
            kind, name = slot.history_by
            day = (f"F.get({self.const(name)}, {self.const(Unknown({name}))})" if kind == "fact"
                   else self.const_slot.get(name) or self.slot_local[name])
            said = name if kind == "fact" else name.split(".", 1)[1]  # a definition by its own name
            self.emit(f"{target} = {self.const(value_on)}({day}, {self.const(tuple(slot.history))}, {self.const(said)})")
            self.maybe.add(target)
            return
        if slot.history:
            table = self.const(tuple(slot.history))
            self.emit(f"{target} = _hist(_asof, {table})")  # the function defines _asof: the date the case is judged on
            self.history = True
            self.maybe.add(target)
            return
        if slot.key in self.const_slot:
            return  # a known constant: references and the result use it directly
        if slot.expr is None:
            self.emit(f"{target} = {self.const(slot.const)}")
            self.local_const[target] = self.const(slot.const)
            self.result(target, self.const(slot.const))
            return
        if slot.money and not slot.exceptions and not self.trace and isinstance(slot.expr, n.If) \
                and self._money_if(slot.expr, target):
            return
        value = self.expr(slot.expr)
        if slot.exceptions:
            pairs = []
            for when, val in slot.exceptions:
                pairs.append((self.expr(when), self.expr(val)))
            value_tmp = self.result(self.tmp(), value, *(x for pair in pairs for x in pair))
            # Decided in line when the highest exception holds or none can; otherwise _exc weighs them.
            (w1, v1), none_holds = pairs[0], " and ".join(f"{w} is False" for w, _ in pairs)
            table = ", ".join(f"({w}, {v})" for w, v in pairs)
            self.emit(f"{value_tmp} = {v1} if {w1} is True else ({value} if {none_holds} else _exc({value}, ({table},)))")
            value = value_tmp
        known = self.local_const.get(value, value)
        if slot.money and known in self.consts:  # a constant amount (or unknown) is rounded once, here
            rounded_const = self.const(quantize_money(self.consts[known]))
            self.emit(f"{target} = {rounded_const}")
            self.result(target, known)
            self.alias[target] = rounded_const
        elif slot.money:
            rounded = None if self.trace else self._find(("q", value))
            self.current.append(self.node_ids[id(slot.expr)])
            if rounded is not None:
                self.emit(f"{target} = {rounded}")
                self.alias[target] = self.alias.get(rounded, rounded)
            else:
                self.emit(f"{target} = {value}.quantize(_CENT, _HALF_UP, _WIDE) if {value}.__class__ is _Dec else _q({value})")
            self.current.pop()
            self.avail[-1][("q", value)] = target
            self.result(target, value)
        else:
            self.emit(f"{target} = {value}")
            self.result(target, value)
            if value.startswith(("_t", "_s", "_f", "_k")):
                self.alias[target] = self.alias.get(value, value)

    def _money_if(self: "Gen", node: n.If, target: str) -> bool:
        """A money item `if c then x else y` whose condition cannot be unknown: each branch rounds
        its own value (a constant one is rounded here, once), so `else 0` costs no quantize per
        case. False, with nothing but the condition emitted, when c can be unknown."""
        key = self.key(node)
        done = None if key is None else self._find(("q", key))
        if done is not None:  # the same item rounded before (another clause's copy of it)
            self.emit(f"{target} = {done}")
            self.alias[target] = self.alias.get(done, done)
            self.result(target, done)
            return True
        if key is not None and self._find(key) is not None:
            return False  # its value is at hand: round that
        c = self.expr(node.cond)
        if self.may(c):
            return False  # the general path finds c already computed
        values = []
        self.current.append(self.node_ids[id(node)])
        for head, branch in ((f"if {c}:", node.then), ("else:", node.orelse)):
            self.emit(head)
            self.enter()
            value = self.expr(branch)
            known = self.local_const.get(value, value)
            if known in self.consts or INT_LITERAL(known):
                self.emit(f"{target} = {self.const(quantize_money(self.value_of(known)))}")
            else:
                self.emit(f"{target} = {value}.quantize(_CENT, _HALF_UP, _WIDE) if {value}.__class__ is _Dec else _q({value})")
            self.leave()
            values.append(value)
        self.current.pop()
        self.result(target, *values)
        if key is not None:
            self.avail[-1][("q", key)] = target
        return True
