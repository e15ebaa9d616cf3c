"""Rule sets compiled to SQL: one canonical sqlglot query per rule set, rendered for
DuckDB, Spark, PostgreSQL or Trino; an embedded DuckDB runner for batch runs.

Stages, one module each: translate/calls (expressions → value and missing
columns), plan (a rule set → the query, and what is left to Python), dialects
(canonical tree → one dialect's text), columns (an input file → the typed
`facts` relation), duckdb_run (rows of results in the Python engine's shape),
command (`policy sql`).
"""
