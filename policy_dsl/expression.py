"""One expression on its own (conformance tests, the REPL-ish API):
compiled through the same checker and compiler as a rule set, as the single
conclusion `value` of a one-clause set whose definitions the caller gives.
"""
from __future__ import annotations

from typing import Any, Mapping

from . import types as T
from .checker import analyse
from .compiler import SlotSpec, compile_program
from .errors import CheckFailed
from .facts import prepare
from .model import Clause, Named, Origin, RuleSet
from .source import Source
from .values import quantize_money
from .vocabulary import Vocabulary, vocabulary

_CLAUSE = "expression"


class CompiledExpression:
    def __init__(self, text: str, definitions: Mapping[str, str] | None = None, vocab: Vocabulary | None = None) -> None:
        from .parser import parse_expression  # Lark on first use, not on `import policy_dsl`

        self.vocab = vocab or vocabulary()
        self.text = text
        clause = Clause(id=_CLAUSE, title="", kind="computable", subject="always", source=None)
        for name, expr_text in (definitions or {}).items():
            src = Source(f"<definition {name}>", expr_text)
            clause.definitions[name] = Named(name, "definition", parse_expression(expr_text, src), expr_text,
                                             origin=Origin("", src.name))
        self.expr = parse_expression(text)
        clause.conclusions["value"] = Named("value", "conclusion", self.expr, text, origin=Origin("", "<expression>"))
        rs = RuleSet("expression", "", "", {}, {_CLAUSE: clause}, path="")
        # The checker validates the vocabulary contract; a lone expression has no clauses to honour.
        analysis = analyse(rs, Vocabulary(self.vocab.facts, {}))
        errors = analysis.errors
        if errors:
            raise errors[0] if len(errors) == 1 else CheckFailed(errors)
        self.type: T.Type = analysis.slot_types[f"{_CLAUSE}.value"]
        self.program = compile_program([SlotSpec(k, expr=_named(clause, k).expr) for k in analysis.order], analysis.notes)
        self._index = self.program.keys.index(f"{_CLAUSE}.value")

    def evaluate(self, facts: Mapping[str, Any] | None = None, *, as_conclusion: str | None = None,
                 trace: dict | None = None) -> object:
        flat = prepare(dict(facts or {}), self.vocab)
        value = self.program.run(flat, trace)[self._index]
        if as_conclusion == "money":
            value = quantize_money(value)
        return value


def _named(clause: Clause, key: str) -> Named:
    return clause.items()[key.split(".", 1)[1]]  # type: ignore[return-value]


def compile_expression(text: str, definitions: Mapping[str, str] | None = None) -> CompiledExpression:
    return CompiledExpression(text, definitions)


def evaluate_expression(text: str, facts: Mapping[str, Any] | None = None, **kw: Any) -> object:
    return CompiledExpression(text, kw.pop("definitions", None)).evaluate(facts, **kw)
