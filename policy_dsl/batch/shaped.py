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

Text = Callable[[object], bytes]  # a value of one conclusion → its JSON text, UTF-8
_BOUND = 4096  # remembered texts per conclusion, whatever the register


class ShapedLines:
    """`record(number, decision, extra)`: the JSONL line of the common Decision; None for any other."""

    def __init__(self, rows) -> None:
        self.rows = rows  # the JsonRows whose general path this reproduces
        self._plans: dict = {}  # Shape → (template, ((position, text), ...)), or None: the general path
        self._unknowns: dict[tuple, bytes] = {}
        self._same: dict[int, tuple[Unknown, bytes]] = {}
        self._days: dict[date, bytes] = {}
        # per clause, per conclusion: its JSON text function (the clause's converter, then encoded)
        self._texts = {cid: {name: self._text(convert, rows.kinds[cid][name])
                             for name, convert in rows.converters[cid].items()} for cid in rows.clauses}

    def record(self, number: int, decision, extra: dict | None) -> bytes | None:
        """The JSONL line and its newline, UTF-8 encoded; None for a Decision not of the common kind."""
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
        chunks, dynamic, day_at = plan
        values, x = decision._v, decision._x
        if day_at is None or (x is not None and (x.get("facts") is not None or "header" in x)):
            day = decision.as_of
        else:  # what Decision.facts would hold (without building it): a date given, else none
            day = values[day_at] if day_at >= 0 else None
            if day.__class__ is not date:
                day = None
        encode = self.rows._encode
        tail = "".join(f",{encode(k)}:{encode(v)}" for k, v in extra.items()).encode() if extra else b""
        own = [b"%d" % number, b"null" if day is None else self._day(day), *[text(values[i]) for i, text in dynamic],
               tail]
        out = [b""] * (2 * len(own) + 1)  # the shared chunks with the row's own texts between them
        out[0::2] = chunks
        out[1::2] = own
        return b"".join(out)

    def _day(self, day: date) -> bytes:
        text = self._days.get(day)
        if text is None:
            if len(self._days) > _BOUND:
                self._days.clear()
            text = self._days[day] = f'"{day.isoformat()}"'.encode()
        return text

    def _plan(self, shape) -> tuple | None:
        """The line of every Decision of `shape` as the text its rows share, in chunks, between which
        go: the row number, as_of, the text of each value rows do not share, the tail. None: take
        the general path."""
        rows, encode = self.rows, self.rows._encode
        reported = {cid: (applicable, at) for cid, applicable, at in shape.reported}
        pieces: list = ['{"row":', None, f',{rows._header}"policy_set":{encode(shape.engine.rule_set.name)}'
                        f'{rows._title},"as_of":', None, f'{rows._period},"clauses":{{']
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
                pieces.append((i, text) if i >= 0 else text(constant).decode())
            pieces.append("}}")
        pieces += ["}", None, "}\n"]
        chunks, dynamic, current = [], [], []
        for piece in pieces:
            if piece.__class__ is str:
                current.append(piece)
            else:
                chunks.append("".join(current).encode())
                current = []
                if piece is not None:  # a value; None: the row number, as_of or the tail
                    dynamic.append(piece)
        chunks.append("".join(current).encode())
        # where as_of is in the values (-1: not among the facts a fused program reads; None: not fused)
        paths = shape.paths
        day_at = None if paths is None else paths.index("as_of") if "as_of" in paths else -1
        return chunks, tuple(dynamic), day_at

    # --- the text of one value, as the general path's converters and encoder give it -----------------
    def _unknown(self, value: Unknown) -> bytes:
        # generated code shares one Unknown among rows for a fact they lack: first, by identity (the
        # entry holds the value, so its id is not reused while remembered)
        seen = self._same.get(id(value))
        if seen is not None and seen[0] is value:
            return seen[1]
        key = (value.missing, tuple(sorted(value.reasons.items())))
        text = self._unknowns.get(key)
        if text is None:
            if len(self._unknowns) > 10_000:
                self._unknowns.clear()
            text = self._unknowns[key] = self.rows._encode(self.rows.unknown(value)).encode()
        if len(self._same) > _BOUND:
            self._same.clear()
        self._same[id(value)] = (value, text)
        return text

    def _text(self, convert, kind: str) -> Text:
        encode, unknown = self.rows._encode, self._unknown

        def general(value: object) -> bytes:
            return unknown(value) if value.__class__ is Unknown else encode(convert(value)).encode()  # type: ignore[arg-type]

        if kind == "bool":
            return lambda v: b"true" if v is True else b"false" if v is False else general(v)
        if kind == "money":  # format_money's text is digits, sign and point (or Infinity, NaN): nothing to escape
            return lambda v: f'"{format_money(v)}"'.encode() if v.__class__ is Decimal else general(v)
        if kind == "date":
            return lambda v: self._day(v) if v.__class__ is date else general(v)
        seen: dict = {}
        numeric = kind in ("decimal", "rate")

        def remembered(v: object) -> bytes:
            # Decimals (not zero: -0 equals 0 but reads "-0"; not NaN: no hash; equal Decimals have
            # one canonical text, format_decimal normalises), enum codes and strings repeat; anything
            # else is converted each time.
            if (v.__class__ is not Decimal or not v or not v.is_finite()) if numeric else v.__class__ is not str:  # type: ignore[union-attr]
                return general(v)
            text = seen.get(v)
            if text is None:
                if len(seen) > _BOUND:
                    seen.clear()
                text = seen[v] = general(v)
            return text
        return remembered


