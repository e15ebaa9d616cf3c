"""The query specialised for rows where every fact it reads is known.

A register of one subject (units, persons …) mostly has every fact: there no value is
NULL for want of a fact, every `#missing` mask is 0 and every Kleene `CASE` takes its first
or second branch. `specialise` rewrites the planned columns under that assumption: an
IS NULL test of a column that cannot be NULL is FALSE, and the constant folding that
follows drops the masks, the third branch of each `if` and the lists of missing names. What
can still be NULL there (a delegated parameter, a divisor of 0) keeps its general form, so the
specialised columns equal the general ones on every such row (plan.py runs both, UNION ALL).
"""
from __future__ import annotations

import sqlglot.expressions as e

from .dialects import Checked

_STRICT = (e.Binary, e.Not, e.Neg, e.Paren, e.Cast, e.In, e.Between, e.Abs, e.Round, e.Greatest, e.Least,
           e.DateAdd, e.AddMonths, e.Sign)


def nonnull(x: e.Expression, known: set[str]) -> bool:
    """Whether x is never NULL when the columns `known` are not."""
    if isinstance(x, e.Column):
        return x.name in known
    if isinstance(x, (e.Dot, e.Identifier)):  # a list element's field (inside a lambda) may be NULL
        return False
    if isinstance(x, (e.Literal, e.Boolean, e.Array, e.DataType, e.Var)):
        return True
    if isinstance(x, e.Is):
        return True
    if isinstance(x, Checked):  # these rows are not rechecked
        return all(c.name in known for c in x.find_all(e.Column))
    if isinstance(x, e.Case):
        results = [i.args["true"] for i in x.args.get("ifs") or []]
        default = x.args.get("default")
        return default is not None and all(nonnull(r, known) for r in results + [default])
    if isinstance(x, e.Coalesce):
        return any(nonnull(a, known) for a in [x.this, *x.expressions])
    if isinstance(x, _STRICT):
        parts = [v for v in x.args.values() if isinstance(v, e.Expression)]
        parts += [v for vs in x.args.values() if isinstance(vs, list) for v in vs if isinstance(v, e.Expression)]
        return all(nonnull(v, known) for v in parts)
    return False


def _bool(x: e.Expression) -> bool | None:
    while isinstance(x, e.Paren):
        x = x.this
    return bool(x.this) if isinstance(x, e.Boolean) else None


def _zero(x: e.Expression) -> bool:
    return isinstance(x, e.Literal) and not x.is_string and x.this == "0"


def fold(x: e.Expression, known: set[str]) -> e.Expression:
    """x with IS NULL of never-NULL operands made FALSE and the constants that follow folded."""
    for key, value in list(x.args.items()):
        if isinstance(value, e.Expression):
            x.set(key, fold(value, known))
        elif isinstance(value, list):
            x.set(key, [fold(v, known) if isinstance(v, e.Expression) else v for v in value])
    return _fold_node(x, known)


def _fold_node(x: e.Expression, known: set[str]) -> e.Expression:
    if isinstance(x, Checked) and x.args.get("known") is not None and nonnull(x, known):
        return x.args["known"]
    if isinstance(x, e.Is) and isinstance(x.expression, e.Null) and nonnull(x.this, known):
        return e.false()
    if isinstance(x, e.Paren) and _bool(x.this) is not None:
        return x.this
    if isinstance(x, e.Not) and _bool(x.this) is not None:
        return e.Boolean(this=not _bool(x.this))
    if isinstance(x, (e.And, e.Or)):
        a, b = _bool(x.this), _bool(x.expression)
        absorbing = isinstance(x, e.Or)  # TRUE absorbs OR, FALSE absorbs AND
        if a is absorbing or b is absorbing:
            return e.Boolean(this=absorbing)
        if a is not None:
            return x.expression
        if b is not None:
            return x.this
    if isinstance(x, e.BitwiseOr):
        if _zero(x.this):
            return x.expression
        if _zero(x.expression):
            return x.this
    if isinstance(x, e.Coalesce) and nonnull(x.this, known):
        return x.this
    if isinstance(x, e.Case):
        return _fold_case(x, known)
    return x


def _fold_case(x: e.Case, known: set[str]) -> e.Expression:
    whens: list[e.If] = []
    default = x.args.get("default")
    for i in x.args.get("ifs") or []:
        test = _bool(i.this)
        if test is False:
            continue
        if test is True:
            default = i.args["true"]
            break
        if whens and _negates(i.this, whens[-1].this) and nonnull(whens[-1].this, known):
            default = i.args["true"]  # WHEN c … WHEN NOT (c): nothing is left for later branches
            break
        whens.append(i)
    results = [i.args["true"] for i in whens] + [default if default is not None else e.Null()]
    if all(_zero(r) for r in results) or not whens:
        return results[-1] if not whens else results[0]
    return e.Case(ifs=whens, default=default)


def _negates(test: e.Expression, prior: e.Expression) -> bool:
    inner = test.this if isinstance(test, e.Not) else None
    while isinstance(inner, e.Paren):
        inner = inner.this
    while isinstance(prior, e.Paren):
        prior = prior.this
    return inner is not None and inner == prior


def specialise(defs: list[tuple[str, e.Expression]], final: list[e.Expression],
               facts: set[str]) -> tuple[list[tuple[str, e.Expression]], list[e.Expression]]:
    """The columns and the result under `facts` all being known (copies; the arguments are kept)."""
    known = set(facts)
    out = []
    for name, x in defs:
        folded = fold(x.copy(), known)
        if nonnull(folded, known):
            known.add(name)
        out.append((name, folded))
    return _inline_once(out, [fold(x.copy(), known) for x in final])


def _inline_once(defs: list[tuple[str, e.Expression]],
                 final: list[e.Expression]) -> tuple[list[tuple[str, e.Expression]], list[e.Expression]]:
    """Columns read once written where they are read: inside a CASE branch DuckDB then computes
    them only for the rows that take it (the layoff test of a unit of 30 or fewer, or more)."""
    uses: dict[str, int] = {}
    for x in [x for _, x in defs] + final:
        for c in x.find_all(e.Column):
            uses[c.name] = uses.get(c.name, 0) + 1
    inline: dict[str, e.Expression] = {}

    def put(node: e.Expression) -> e.Expression:
        if isinstance(node, e.Column) and node.name in inline:
            x = inline[node.name]
            return x if isinstance(x, (e.Column, e.Literal, e.Boolean, e.Paren)) else e.Paren(this=x)
        return node

    out = []
    for name, x in defs:
        x = x.transform(put, copy=False)
        if uses.get(name, 0) == 1 and not name.startswith("_has_"):
            inline[name] = x
        else:
            out.append((name, x))
    return out, [x.transform(put, copy=False) for x in final]
