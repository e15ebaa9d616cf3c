"""An input file (CSV or Parquet, columns named by fact path) → the typed relation
`facts` that the compiled query reads, with `_row` (0-based input order) and
`_invalid`.

A cell is taken by SQL only when it has exactly one reading that the Python
engine shares: booleans `true`/`false`, integers, decimals within the column's
DECIMAL (money 14 integer and 4 decimal places, other decimals 12 and 6), ISO
dates between the years 100 and 9900, enum values of the vocabulary, JSON lists
for sets and household members. Any other non-empty cell marks the row
`_invalid`: the runner then hands that row to the Python engine, which either
evaluates it exactly or reports the problem in its own words. An empty cell is
an unknown fact.
"""
from __future__ import annotations

from .. import types as T
from ..errors import FactsFileError, did_you_mean
from ..vocabulary import Vocabulary

_PATTERNS = {
    "bool": r"true|false",
    "int": r"-?[0-9]{1,18}",
    "money": r"-?[0-9]{1,14}(\.[0-9]{1,4})?",
    "decimal": r"-?[0-9]{1,12}(\.[0-9]{1,6})?",
    "rate": r"-?[0-9]{1,12}(\.[0-9]{1,6})?",
    "date": r"[0-9]{4}-[0-9]{2}-[0-9]{2}",
}
SQL_TYPES = {"bool": "BOOLEAN", "int": "BIGINT", "money": "DECIMAL(18, 4)", "decimal": "DECIMAL(18, 6)",
             "rate": "DECIMAL(18, 6)", "date": "DATE", "string": "VARCHAR", "enum": "VARCHAR",
             "set": "VARCHAR[]"}


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _s(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _members_type(t: T.Type) -> str:
    fields = ", ".join(f"{_q(name)} {SQL_TYPES[ft.kind]}" for name, ft in (t.elem.fields if t.elem else ()))
    return f"STRUCT({fields})[]"


def column_type(t: T.Type) -> str:
    return _members_type(t) if t.kind == "list" else SQL_TYPES[t.kind]


def _typed(path: str, t: T.Type, source_type: str) -> tuple[str, str]:
    """(typed expression, test that the cell is acceptable) for one present column."""
    raw = _q(path)
    k = t.kind
    if k == "list":
        if source_type.endswith("[]"):
            return f"CAST({raw} AS {_members_type(t)})", "TRUE"
        names = ", ".join(_s(name) for name, _ in (t.elem.fields if t.elem else ()))
        ok = (f"CASE WHEN json_valid({raw}) AND json_type({raw}) = 'ARRAY' THEN coalesce(list_bool_and(list_transform("
              f"CAST(json_extract({raw}, '$[*]') AS JSON[]), lambda x: CASE WHEN json_type(x) = 'OBJECT' THEN "
              f"coalesce(list_bool_and(list_transform(json_keys(x), lambda k: k IN ({names}) AND "
              f"json_type(x, '$.\"' || k || '\"') IN ('BOOLEAN', 'NULL'))), TRUE) ELSE FALSE END)), TRUE) ELSE FALSE END")
        return f"CASE WHEN {ok} THEN from_json({raw}, '{_json_shape(t)}') END", ok
    if k == "set":
        values = ", ".join(_s(v) for v in (t.elem.values if t.elem else ()))
        member = f"x IN ({values})" if values else "x IS NOT NULL"
        if source_type.endswith("[]"):
            arr = f"CAST({raw} AS VARCHAR[])"
        else:
            arr = (f"CASE WHEN CASE WHEN json_valid({raw}) AND json_type({raw}) = 'ARRAY' THEN coalesce(list_bool_and("
                   f"list_transform(CAST(json_extract({raw}, '$[*]') AS JSON[]), lambda j: json_type(j) = 'VARCHAR')), TRUE) "
                   f"ELSE FALSE END THEN from_json({raw}, '[\"VARCHAR\"]') END")
        ok = (f"{arr} IS NOT NULL AND coalesce(list_bool_and(list_transform({arr}, lambda x: {member})), TRUE) "
              f"AND len(list_distinct({arr})) = len({arr})")
        return f"CASE WHEN {ok} THEN list_sort({arr}) END", ok
    text = f"CAST({raw} AS VARCHAR)"
    if k == "enum":
        ok = f"{text} IN ({', '.join(_s(v) for v in t.values)})"
        return f"CASE WHEN {ok} THEN {text} END", ok
    if k == "string":
        return text, "TRUE"
    if k == "bool" and source_type == "BOOLEAN":
        return raw, "TRUE"
    if k == "date" and source_type == "DATE":
        ok = f"year({raw}) BETWEEN 100 AND 9900"
        return f"CASE WHEN {ok} THEN {raw} END", ok
    ok = f"regexp_full_match({text}, {_s(_PATTERNS[k])})"
    if k == "date":
        ok = f"{ok} AND try_cast({text} AS DATE) IS NOT NULL AND year(try_cast({text} AS DATE)) BETWEEN 100 AND 9900"
    return f"CASE WHEN {ok} THEN CAST({text} AS {SQL_TYPES[k]}) END", ok


def _json_shape(t: T.Type) -> str:
    fields = ", ".join(f'"{name}": "BOOLEAN"' for name, _ in (t.elem.fields if t.elem else ()))
    return "[{" + fields + "}]"


def facts_view(columns: dict[str, str], vocab: Vocabulary, source: str, as_of: str | None = None) -> str:
    """SQL creating the view `facts` over the relation `raw` (columns → DuckDB type names)."""
    unknown = [c for c in columns if c not in vocab.facts and c != "_row"]
    if unknown:
        name = unknown[0]
        hint = did_you_mean(name, list(vocab.facts))
        raise FactsFileError(f"{source}: 列 {name!r} 不是词汇表中的事实 unknown fact column"
                             + (f"；{hint}" if hint else ""), found=name, expected="事实路径 a fact path, e.g. unit.layoffs")
    select = ["_row"]
    invalid = []
    for path, spec in vocab.facts.items():
        if path == "as_of" and as_of is not None:
            select.append(f"DATE {_s(as_of)} AS as_of")
            continue
        if path not in columns:
            select.append(f"CAST(NULL AS {column_type(spec.type)}) AS {_q(path)}")
            continue
        typed, ok = _typed(path, spec.type, columns[path])
        select.append(f"{typed} AS {_q(path)}")
        present = f"{_q(path)} IS NOT NULL" if columns[path] != "VARCHAR" else f"nullif(trim({_q(path)}), '') IS NOT NULL"
        invalid.append(f"({present} AND NOT coalesce({ok}, FALSE))")
    select.append(f"({' OR '.join(invalid) or 'FALSE'}) AS _invalid")
    return "CREATE OR REPLACE VIEW facts AS SELECT " + ",\n  ".join(select) + " FROM raw"
