"""The JSONL line of the common Decision, straight from its values, by a plan made once per Shape.

The common Decision is one an evaluation made and nothing has added to (`Decision._bare()`): its
conclusions are its values list read at the positions its Shape records. A register's rows share a
few Shapes (which clauses apply, where each conclusion's value sits), so everything rows of one
Shape write alike — clause keys, inapplicable clauses, conclusions the rules fix — is text made
once, and a row converts only its own values. The text is exactly `JsonRows.line`'s general path
(render.py), which any other Decision (built by the constructor, traced, an edition chain's)
still takes; tests/test_batch_shaped.py holds the two equal byte for byte.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Callable

from ..values import Unknown, format_money

Text = Callable[[object], str]  # a value of one conclusion → its JSON text
_BOUND = 4096  # remembered texts per conclusion, whatever the register


class ShapedLines:
    """`line(number, decision, extra)` for the common Decision; None for any other."""

    def __init__(self, rows) -> None:
        self.rows = rows  # the JsonRows whose general path this reproduces
        self._plans: dict = {}  # Shape → (template, ((position, text), ...)), or None: the general path
        self._unknowns: dict[tuple, str] = {}
        self._days: dict[date, str] = {}
        # per clause, per conclusion: its JSON text function (the clause's converter, then encoded)
        self._texts = {cid: {name: self._text(convert, rows.kinds[cid][name])
                             for name, convert in rows.converters[cid].items()} for cid in rows.clauses}

    def line(self, number: int, decision, extra: dict | None) -> str | None:
        shape = decision._bare()
        if shape is None:
            return None
        plan = self._plans.get(shape, False)
        if plan is False:
            if len(self._plans) > 256:  # bounded: an engine makes a few Shapes per program
                self._plans.clear()
            plan = self._plans[shape] = self._plan(shape)
        if plan is None:
            return None
        template, dynamic, day_at = plan
        values, x = decision._v, decision._x
        if day_at is None or (x is not None and (x.get("facts") is not None or "header" in x)):
            day = decision.as_of
        else:  # what Decision.facts would hold (without building it): a date given, else none
            day = values[day_at] if day_at >= 0 else None
            if day.__class__ is not date:
                day = None
        as_of = "null" if day is None else self._day(day)
        tail = "".join(f",{self.rows._encode(k)}:{self.rows._encode(v)}" for k, v in extra.items()) if extra else ""
        return template % (number, as_of, *[text(values[i]) for i, text in dynamic], tail)

    def _day(self, day: date) -> str:
        text = self._days.get(day)
        if text is None:
            if len(self._days) > _BOUND:
                self._days.clear()
            text = self._days[day] = f'"{day.isoformat()}"'
        return text

    def _plan(self, shape) -> tuple | None:
        """The line of every Decision of `shape` as a %-template: the row number, as_of, then the
        text of each value the rows do not share, then the tail. None: take the general path."""
        rows, encode = self.rows, self.rows._encode
        reported = {cid: (applicable, at) for cid, applicable, at in shape.reported}
        pieces: list = []  # str, or (position, text function) where a row's own value goes
        for n, cid in enumerate(rows.clauses):
            if cid not in reported:
                return None
            applicable, at = reported[cid]
            where = {name: (i, c) for name, i, c in at}
            if len(where) != len(at):
                return None  # a conclusion reported twice: the general path says what that means
            pieces.append("," if n else "")
            if not at:
                pieces.append(rows._empty[cid][applicable])
                continue
            pieces.append(f'{rows._keys[cid]}:{{"applicable":{"true" if applicable else "false"},"conclusions":{{')
            first = True
            for name, text in self._texts[cid].items():
                if name not in where:
                    continue
                i, constant = where[name]
                pieces.append(("" if first else ",") + f"{encode(name)}:")
                first = False
                pieces.append((i, text) if i >= 0 else text(constant))
            pieces.append("}}")
        head = (f'{{"row":%s,{_escaped(rows._header)}"policy_set":{_escaped(encode(shape.engine.rule_set.name))}'
                f'{_escaped(rows._title)},"as_of":%s{_escaped(rows._period)},"clauses":{{')
        template, dynamic = [head], []
        for piece in pieces:
            if piece.__class__ is str:
                template.append(_escaped(piece))
            else:
                template.append("%s")
                dynamic.append(piece)
        template.append("}%s}")
        # where as_of is in the values (-1: not among the facts a fused program reads; None: not fused)
        paths = shape.paths
        day_at = None if paths is None else paths.index("as_of") if "as_of" in paths else -1
        return "".join(template), tuple(dynamic), day_at

    # --- the text of one value, as the general path's converters and encoder give it -----------------
    def _unknown(self, value: Unknown) -> str:
        key = (value.missing, tuple(sorted(value.reasons.items())))
        text = self._unknowns.get(key)
        if text is None:
            if len(self._unknowns) > 10_000:
                self._unknowns.clear()
            text = self._unknowns[key] = self.rows._encode(self.rows.unknown(value))
        return text

    def _text(self, convert, kind: str) -> Text:
        encode, unknown = self.rows._encode, self._unknown

        def general(value: object) -> str:
            return unknown(value) if value.__class__ is Unknown else encode(convert(value))  # type: ignore[arg-type]

        if kind == "bool":
            return lambda v: "true" if v is True else "false" if v is False else general(v)
        if kind == "money":  # format_money's text is digits, sign and point (or Infinity, NaN): nothing to escape
            return lambda v: f'"{format_money(v)}"' if v.__class__ is Decimal else general(v)
        if kind == "date":
            return lambda v: self._day(v) if v.__class__ is date else general(v)
        seen: dict = {}
        if kind in ("decimal", "rate"):
            def number(v: object) -> str:
                if v.__class__ is not Decimal or not v or not v.is_finite():  # type: ignore[union-attr]
                    return general(v)  # a zero may be -0, which equals 0 but reads "-0"; a NaN has no hash
                text = seen.get(v)  # equal Decimals have one canonical text (format_decimal normalises)
                if text is None:
                    if len(seen) > _BOUND:
                        seen.clear()
                    text = seen[v] = general(v)
                return text
            return number

        def remembered(v: object) -> str:
            if v.__class__ is not str:  # enum codes and strings repeat; anything else is converted each time
                return general(v)
            text = seen.get(v)
            if text is None:
                if len(seen) > _BOUND:
                    seen.clear()
                text = seen[v] = general(v)
            return text
        return remembered


def _escaped(text: str) -> str:
    return text.replace("%", "%%")
