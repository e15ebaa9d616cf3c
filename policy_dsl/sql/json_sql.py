"""The batch outputs of the python engine, spelt in DuckDB SQL over the compiled query's result.

* `line(clauses)`: the JSONL line the python engine writes for a row (batch/render.py
  JsonRows.line), byte for byte: values as render_json.json_value writes them, an
  undetermined value as {"undetermined":true,"missing":[…],"reason":"…"} decoded from the
  query's bit masks, with the reason sentence of render_json.reason_text. Every text piece
  (names, labels, reasons) is JSON-escaped here in Python, so SQL only joins constants.
* Conclusions the query does not cover (Plan.python, e.g. an exact quotient) come from
  Python functions registered in DuckDB, run once per distinct combination of the facts they
  read (a register repeats few), each returning the conclusion's JSON text and its masks.
* `count(summary)`: batch/summary.py's tallies, as SQL aggregates.
"""
from __future__ import annotations

import json
from decimal import Decimal
from typing import TYPE_CHECKING

from ..batch.render import EVALUATION_HEADER, JsonRows
from ..batch.summary import PAYOUTS
from ..checker import split_key
from ..model import Parameter
from ..nodes import walk as _walk
from ..typer import FactBinding, SlotBinding
from ..values import Unknown
from .columns import _q, _s
from .missing import WORD_BITS
from .shape import engine_value

if TYPE_CHECKING:
    from .duckdb_run import SqlEngine
    from .plan import Plan

_NONE = object()
SUPPORTED = {"bool", "int", "money", "decimal", "rate", "date", "enum", "string", "set", "duration"}


def _j(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _lit(text: str) -> str:
    """A SQL string literal of `text`, which is already JSON."""
    return _s(text)


AS_OF = "CASE WHEN as_of IS NULL THEN 'null' ELSE concat('\"', CAST(as_of AS VARCHAR), '\"') END"


class Text(str):
    """Constant text of a line (not yet a SQL literal)."""


def _concat(parts: list) -> str:
    merged: list = []
    for part in parts:
        if isinstance(part, Text) and merged and isinstance(merged[-1], Text):
            merged[-1] = Text(merged[-1] + part)
        else:
            merged.append(part)
    sql = [_lit(p) if isinstance(p, Text) else p for p in merged]
    return sql[0] if len(sql) == 1 else "concat(" + ", ".join(sql) + ")"


def value_facts(engine, keys: list[str], reads: tuple[str, ...]) -> tuple[str, ...]:
    """Of the facts a Python program for `keys` reads, those their values can depend on.

    A program computes a dated clause's period date (period_by) with its conclusions, since that
    date chooses the edition that judges them; but every row SQL answers is judged by the newest
    edition (the others are rechecked), so the date changes no value there unless a parameter's
    history is chosen by it. Leaving it out of the key that Python runs once per distinct value of
    (an application date: hundreds of values) runs Python far fewer times, with the same answers."""
    rs, bindings = engine.rule_set, engine.analysis.notes.bindings
    seen: set[str] = set()
    found: set[str] = {"as_of"}
    stack = list(keys)
    while stack:
        key = stack.pop()
        if key in seen:
            continue
        seen.add(key)
        cid, name = split_key(key)
        clause = rs.clauses[cid]
        item = clause.items()[name]
        if isinstance(item, Parameter):
            if item.history:  # chosen by a date: keep every fact the program reads
                return reads
            continue
        roots = [item.expr] + [x for rule in clause.exceptions if rule.conclusion == name for x in (rule.when, rule.value)]
        for binding in (bindings.get(id(node)) for root in roots for node in _walk(root)):
            if isinstance(binding, SlotBinding):
                stack.append(binding.key)
            elif isinstance(binding, FactBinding):
                found.add(binding.path)
    return tuple(p for p in reads if p in found)


class JsonSql:
    def __init__(self, engine, plan: "Plan") -> None:
        self.engine, self.plan, self.vocab = engine, plan, engine.vocab
        self.kinds = {f"{cid}.{n}": engine.slot_type(f"{cid}.{n}").kind
                      for cid, c in engine.rule_set.clauses.items() for n in c.conclusions}
        self.python_keys = [k for k in self.kinds if k not in plan.outputs]
        self.words = sorted({w for words, _ in plan.masks.values() for w in words}
                            | set(range((len(plan.names.order) + WORD_BITS - 1) // WORD_BITS)))
        subjects = {c.subject for c in engine.rule_set.clauses.values()} - {"always"}
        self.supported = (all(k in SUPPORTED for k in self.kinds.values())
                          and all(self.kinds[k] not in ("bool", "money") for k in self.python_keys)
                          and all(s in plan.subjects.values() for s in subjects))
        self.rows = JsonRows(engine, tuple(engine.rule_set.clauses))
        self.fixed: dict[str, object] = {}  # see fold(): JSON text of a value, or a bool of an applicability column
        self.sql_types: dict[str, str] = {}  # see fold(): the result's column types, for cheaper number text

    # Python-computed conclusions ------------------------------------------------------------------
    def attach_python(self, con, sql_engine: "SqlEngine", source: str, target: str) -> None:
        """Table `target`: `source` in row order with, for each conclusion Python computes, its JSON
        text `py:<key>` and masks `py:<key>#m<w>` (NULL text: the Python engine takes the row), and
        `_py`. Python runs once per distinct combination of the facts those conclusions read."""
        if not self.python_keys:
            con.execute(f"CREATE VIEW {target} AS SELECT *, {self._flag()} AS _py FROM {source}")
            return
        import pyarrow as pa

        program = sql_engine.python_engine.program  # type: ignore[union-attr]
        facts = self.vocab.facts
        reads = list(value_facts(self.engine, self.python_keys, sql_engine.python_facts))
        kinds = [facts[p].type.kind for p in reads]
        cols = ", ".join(_q(p) for p in reads)
        con.execute(f"CREATE TEMP TABLE _keys AS SELECT row_number() OVER () AS _k, * FROM "
                    f"(SELECT DISTINCT {cols} FROM {source})")
        keys = con.execute(f"SELECT _k, {cols} FROM _keys").fetchall()
        out: dict[str, list] = {"_k": [k[0] for k in keys]}
        for key in self.python_keys:
            out["py:" + key] = []
            out.update({f"py:{key}#m{w}": [] for w in self.words})
        for values in keys:
            flat = {}
            for path, kind, value in zip(reads, kinds, values[1:]):
                if value is not None:
                    flat[path] = engine_value(kind, value)
            try:
                results: dict | None = dict(zip(program.keys, program.run(flat)))
            except Exception:  # noqa: BLE001 - the row goes to the Python engine, which reports it
                results = None
            for key in self.python_keys:
                text, masks = self._python_value(key, None if results is None else results.get(key, _NONE))
                out["py:" + key].append(text)
                for w in self.words:
                    out[f"py:{key}#m{w}"].append(masks.get(w, 0))
        types = {name: pa.int64() if name == "_k" or "#m" in name else pa.string() for name in out}
        con.register("_pyvals", pa.table({n: pa.array(v, types[n]) for n, v in out.items()}))
        same = " AND ".join(f"r.{_q(p)} IS NOT DISTINCT FROM k.{_q(p)}" for p in reads)
        # Only this narrow table is sorted back into row order; a positional join puts it beside `source`.
        con.execute(f"CREATE TABLE _pyrow AS SELECT r._row AS _pyrow_row, v.* EXCLUDE (_k) FROM "
                    f"(SELECT _row, {cols} FROM {source}) r JOIN _keys k ON {same} JOIN _pyvals v ON k._k = v._k "
                    f"ORDER BY r._row")
        con.unregister("_pyvals")
        con.execute(f"CREATE VIEW {target} AS SELECT *, {self._flag()} AS _py FROM "
                    f"(SELECT * EXCLUDE (_pyrow_row) FROM {source} POSITIONAL JOIN _pyrow)")

    def _python_value(self, key: str, value: object) -> tuple[str | None, dict[int, int]]:
        if value is _NONE or (value.__class__ is Unknown and any("[" in m for m in value.missing)):  # type: ignore[attr-defined]
            return None, {}
        cid, name = split_key(key)
        if value.__class__ is Unknown:
            masks: dict[int, int] = {}
            for m in value.missing:  # type: ignore[attr-defined]
                w, b = self.plan.names.bit(m)
                masks[w] = masks.get(w, 0) | (1 << b)
            return self.rows._encode(self.rows.unknown(value)), masks  # type: ignore[arg-type]
        return self.rows._encode(self.rows.converters[cid][name](value)), {}

    def _flag(self) -> str:
        tests = ["_invalid", "_recheck"]
        tests += [f"coalesce(len({_q(k + '#e')}), 0) > 0" for k, (_, elems) in self.plan.masks.items() if elems]
        tests += [f"{_q('py:' + k)} IS NULL" for k in self.python_keys]
        return " OR ".join(tests)

    # the JSONL line -----------------------------------------------------------------------------
    def fold(self, con, source: str, clauses: tuple[str, ...]) -> None:
        """Find what is the same on every row SQL answers (NOT _py) of `source`, for line() to write as
        constant text: a register of units is about no person, so every person clause is inapplicable
        on every row; dates fixed by the rules and gaps every row has (a delegated parameter, an
        as_of not given) repeat too. Each such value is rendered once, by the very SQL that would
        render it per row. One aggregate pass over the result."""
        self.fixed = {}
        self.sql_types = {name: str(kind) for name, kind in
                          con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {source})").fetchall()}
        # what may be folded → the columns that must each hold one value there
        candidates: dict[str, list[str]] = {"as_of": ["as_of"]}
        flags: set[str] = set()
        for cid in clauses:
            has = self._applicable(cid)
            if has is not None:
                candidates[has] = [has]
                flags.add(has)
            for name in self.engine.rule_set.clauses[cid].conclusions:
                key = f"{cid}.{name}"
                if self.kinds[key] in ("set", "duration"):
                    continue
                if key in self.plan.outputs:
                    candidates[key] = [_q(key)] + [_q(f"{key}#m{w}") for w in self.plan.masks[key][0]]
                else:
                    candidates[key] = [_q("py:" + key)]
        columns = sorted({c for cols in candidates.values() for c in cols})
        if not columns:
            return
        stats = [f"min({c}), max({c}), count({c})" for c in columns]
        values = con.execute(f"SELECT count(*), {', '.join(stats)} FROM {source} WHERE NOT _py").fetchall()[0]
        rows = values[0]
        if not rows:
            return
        one = {c: (lo is None or (n == rows and lo == hi))
               for c, lo, hi, n in zip(columns, values[1::3], values[2::3], values[3::3])}
        folded = [thing for thing, cols in candidates.items() if all(one[c] for c in cols)]
        if not folded:
            return
        texts = [f"{t} IS TRUE" if t in flags else AS_OF if t == "as_of" else self._value(t) for t in folded]
        got = con.execute(f"SELECT {', '.join(texts)} FROM {source} WHERE NOT _py LIMIT 1").fetchall()[0]
        self.fixed = {thing: value for thing, value in zip(folded, got) if value is not None}

    def _applicable(self, cid: str) -> str | None:
        subject = self.engine.rule_set.clauses[cid].subject
        return None if subject == "always" else _q(f"_has_{subject}")

    def _value(self, key: str) -> str:
        if key not in self.plan.outputs:
            return _q("py:" + key)
        v, kind = _q(key), self.kinds[key]
        if kind == "bool":
            known = f"CASE WHEN {v} THEN 'true' ELSE 'false' END"
        elif kind == "int":
            known = f"CAST({v} AS VARCHAR)"
        elif kind == "date":
            known = f"concat('\"', CAST({v} AS VARCHAR), '\"')"
        elif kind == "money":
            known = f"concat('\"', {self._number(key)[0]}, '\"')"
        elif kind in ("decimal", "rate"):
            text, scale = self._number(key)
            if scale is None:  # type not known: the text says whether it has decimals
                known = (f"concat('\"', CASE WHEN contains({text}, '.') THEN rtrim(rtrim({text}, '0'), '.') "
                         f"ELSE {text} END, '\"')")
            else:  # with decimals, drop trailing zeros (and a bare point), as format_decimal does
                trimmed = f"rtrim(rtrim({text}, '0'), '.')" if scale else text
                known = f"concat('\"', {trimmed}, '\"')"
        else:  # enum, string, duration, set
            known = f"CAST(to_json({v}) AS VARCHAR)"
        return f"CASE WHEN {v} IS NULL THEN {self._unknown(key)} ELSE {known} END"

    def _number(self, key: str) -> tuple[str, int | None]:
        """The text of a DECIMAL column and its scale (None when its type is not known). A 128-bit
        DECIMAL(38, s) is written through DECIMAL(18, s) when the value fits, which DuckDB writes
        about three times faster, in the same digits."""
        v = _q(key)
        kind = self.sql_types.get(key, "")
        if not kind.startswith("DECIMAL("):
            return f"CAST({v} AS VARCHAR)", None
        precision, scale = (int(x) for x in kind[len("DECIMAL("):-1].split(","))
        if precision <= 18 or scale > 17:
            return f"CAST({v} AS VARCHAR)", scale
        return f"coalesce(CAST(TRY_CAST({v} AS DECIMAL(18, {scale})) AS VARCHAR), CAST({v} AS VARCHAR))", scale

    def _bit(self, key: str, name: str) -> str:
        w, b = self.plan.names.bit(name)
        return f"({_q(f'{key}#m{w}')} & {1 << b}) <> 0"

    def _unknown(self, key: str) -> str:
        names = self.plan.missable.get(key, ())
        if not names:
            return "NULL"
        reasons = self.plan.reasons
        listed = [f"CASE WHEN {self._bit(key, n)} THEN {_lit(_j(n))} END" for n in names]
        said = [f"CASE WHEN {self._bit(key, n)} THEN {_lit(_j(reasons[n])[1:-1])} END" for n in names if n in reasons]
        facts = [n for n in names if n not in reasons]
        if facts:
            labels = [f"CASE WHEN {self._bit(key, n)} THEN {_lit(_j(f'{self.vocab.label(n)}（{n}）')[1:-1])} END"
                      for n in facts]
            any_fact = " OR ".join(self._bit(key, n) for n in facts)
            said.append(f"CASE WHEN {any_fact} THEN concat({_lit(_j('缺少事实：')[1:-1])}, "
                        f"concat_ws('、', {', '.join(labels)})) END")
        return (f"concat('{{\"undetermined\":true,\"missing\":[', concat_ws(',', {', '.join(listed)}), "
                f"'],\"reason\":\"', concat_ws({_lit(_j('；')[1:-1])}, {', '.join(said)}), '\"}}')")

    def line(self, clauses: tuple[str, ...]) -> str:
        """One concat(...) of the line's pieces; constant text is kept as Python str (Text) and
        adjacent constants are joined before SQL sees them (an always-applicable clause of constant
        conclusions is then a single literal)."""
        head = "".join(f"{_j(k)}:{_j(v)}," for k, v in EVALUATION_HEADER.items())
        # A set that states its period: every row the query answers is judged by this edition, which
        # the row names once at top level (rows whose period date needs another edition, or none, are
        # rechecked by the Python engine), so no clause names an edition of its own.
        title, period = self._edition()
        parts: list = [Text('{"row":'), "CAST(_row + 1 AS VARCHAR)",
                       Text(f',{head}"policy_set":{_j(self.engine.name)}{title},"as_of":'),
                       Text(self.fixed["as_of"]) if "as_of" in self.fixed else AS_OF,
                       Text(f'{period},"clauses":{{')]
        for i, cid in enumerate(clauses):
            sep = "," if i else ""
            names = list(self.engine.rule_set.clauses[cid].conclusions)
            has = self._applicable(cid)
            if has is not None and has in self.fixed:  # the same on every row
                if not self.fixed[has]:
                    parts.append(Text(f'{sep}{_j(cid)}:{{"applicable":false,"conclusions":{{}}}}'))
                    continue
                has = None
            empty = {flag: f'{sep}{_j(cid)}:{{"applicable":{flag},"conclusions":{{}}}}' for flag in ("true", "false")}
            if not names:
                parts.append(Text(empty["true"]) if has is None
                             else f"CASE WHEN {has} THEN {_lit(empty['true'])} ELSE {_lit(empty['false'])} END")
                continue
            inner: list = [Text(f'{sep}{_j(cid)}:{{"applicable":true,"conclusions":{{')]
            for j, name in enumerate(names):
                inner.append(Text(("," if j else "") + _j(name) + ":"))
                key = f"{cid}.{name}"
                inner.append(Text(self.fixed[key]) if key in self.fixed else self._value(key))
            inner.append(Text("}}"))
            if has is None:
                parts.extend(inner)
            else:
                parts.append(f"CASE WHEN {has} THEN {_concat(inner)} ELSE {_lit(empty['false'])} END")
        parts.append(Text("}}\n"))
        return _concat(parts)

    def _edition(self) -> tuple[str, str]:
        """The `,"title":…` and `,"period":…` pieces of the set's own edition (empty without a period)."""
        return self.rows._title, self.rows._period

    # the summary --------------------------------------------------------------------------------
    def count(self, con, summary, clauses: tuple[str, ...]) -> None:
        """Add the rows SQL decided (NOT _py) to `summary`, as Summary.add would one by one."""
        selects: list[str] = ["count(*)"]
        readers: list = []

        def ask(sql: str, use) -> None:
            selects.append(sql)
            readers.append(use)

        row_masks: dict[int, list[str]] = {}
        for cid in clauses:
            has = self._applicable(cid) or "TRUE"
            tally = summary.tallies[cid]
            ask(f"count(*) FILTER (WHERE {has})", lambda n, t=tally: setattr(t, "applicable", t.applicable + n))
            bools, moneys = summary.watched[cid]
            for name in bools:
                v = _q(f"{cid}.{name}")
                for state, test in (("true", v), ("false", f"NOT {v}"), ("unknown", f"{v} IS NULL")):
                    ask(f"count(*) FILTER (WHERE {has} AND {test})",
                        lambda n, c=tally.bools[name], s=state: c.update({s: n}) if n else None)
            for name in moneys:
                v = _q(f"{cid}.{name}")
                ask(f"sum({v}) FILTER (WHERE {has})",
                    lambda x, t=tally, n=name: t.money.__setitem__(n, t.money[n] + x) if x is not None else None)
                ask(f"count({v}) FILTER (WHERE {has})",
                    lambda x, t=tally, n=name: t.money_known.update({n: x}) if x else None)
                ask(f"count(*) FILTER (WHERE {has} AND {v} IS NULL)",
                    lambda x, t=tally, n=name: t.money_unknown.update({n: x}) if x else None)
            for name in self.engine.rule_set.clauses[cid].conclusions:
                key = f"{cid}.{name}"
                if key in self.plan.outputs:
                    for w in self.plan.masks[key][0]:
                        row_masks.setdefault(w, []).append(
                            f"CASE WHEN {has} AND {_q(key)} IS NULL THEN {_q(f'{key}#m{w}')} ELSE 0 END")
                else:
                    for w in self.words:
                        row_masks.setdefault(w, []).append(f"CASE WHEN {has} THEN {_q(f'py:{key}#m{w}')} ELSE 0 END")
            rule = PAYOUTS.get(cid)
            if rule is not None:
                self._payout(con, cid, has, rule, tally)
        names = self.plan.names.order
        possible = {n for k in self.plan.outputs for n in self.plan.missable.get(k, ())}
        if self.python_keys:
            possible |= set(self.plan.names.order)
        values = con.execute(f"SELECT {', '.join(selects)} FROM res WHERE NOT _py").fetchall()[0]
        summary.rows += values[0]
        summary.evaluated += values[0]
        for use, value in zip(readers, values[1:]):
            use(value)
        if row_masks:
            # What each row misses, as one mask per word: rows are counted per distinct mask (a register
            # repeats a few kinds of gaps) and the bits of each are read here, not with a filter per name.
            masks = ", ".join(f"{' | '.join(terms)} AS _mask{w}" for w, terms in row_masks.items())
            groups = con.execute(f"SELECT *, count(*) FROM (SELECT {masks} FROM res WHERE NOT _py) GROUP BY ALL").fetchall()
            counts: dict[str, int] = {}
            for *words, n in groups:
                for w, mask in zip(row_masks, words):
                    while mask:
                        bit = mask & -mask
                        i = w * WORD_BITS + bit.bit_length() - 1
                        mask ^= bit
                        if i < len(names) and names[i] in possible:
                            counts[names[i]] = counts.get(names[i], 0) + n
            for name in sorted(counts, key=names.index):  # in the order the filters counted them
                self._missing(summary, name, counts[name])

    def _missing(self, summary, name: str, n: int) -> None:
        if n:
            summary.missing[name] += n
            if name in self.plan.reasons:
                summary.reasons[name] = self.plan.reasons[name]

    def _payout(self, con, cid: str, has: str, rule, tally) -> None:
        present = set(self.engine.rule_set.clauses[cid].conclusions)

        def c(name: str) -> str:
            return _q(f"{cid}.{name}") if name in present else "CAST(NULL AS BOOLEAN)"

        amount = _q(f"{cid}.{rule.amount}") if rule.amount in present else "CAST(NULL AS DECIMAL(38, 2))"
        payable = c(rule.payable) if rule.payable in present else f"({c(rule.automatic)} OR {c(rule.in_time)})"
        group = (f"CASE WHEN {payable} THEN CASE WHEN {c(rule.automatic)} IS TRUE THEN 'automatic' ELSE 'applied' END "
                 f"WHEN NOT {payable} THEN 'late' ELSE 'pending' END")
        rows = con.execute(f"SELECT {group} AS g, count(*), sum({amount}), count(*) FILTER (WHERE {amount} IS NULL) "
                           f"FROM res WHERE NOT _py AND {has} AND {c(rule.eligible)} IS TRUE GROUP BY g").fetchall()
        for g, n, total, unknown in rows:
            tally.payout[g] += n
            if total is not None:
                tally.payout_sum[g] = tally.payout_sum.get(g, Decimal(0)) + total
            if unknown:
                tally.payout[g + "_unknown_amount"] += unknown
