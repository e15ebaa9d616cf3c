"""policy_dsl — Chinese employment-policy rules as code.

    engine = policy_dsl.load("policies/fushun")      # load, check, compile once
    decision = engine.evaluate({"unit": {...}})       # many times, thread-safe
    decision.to_json()
"""
from .engine import CaseError, Decision, RuleEngine, load
from .errors import (CheckFailed, FactsError, PolicyError, PolicyEvaluationError, PolicyLimitError, PolicyNameError,
                     PolicySyntaxError, PolicyTypeError, RuleFileError)
from .expression import CompiledExpression, compile_expression, evaluate_expression
from .values import Duration, Unknown

__version__ = "0.1.0"


def __getattr__(name: str):  # parse_expression brings in Lark: imported on first use (PEP 562)
    if name == "parse_expression":
        from .parser import parse_expression

        return parse_expression
    raise AttributeError(f"module 'policy_dsl' has no attribute {name!r}")
__all__ = [
    "load", "RuleEngine", "Decision", "CaseError", "compile_expression", "evaluate_expression", "CompiledExpression",
    "parse_expression", "Unknown", "Duration", "PolicyError", "PolicySyntaxError", "PolicyNameError",
    "PolicyTypeError", "PolicyEvaluationError", "PolicyLimitError", "RuleFileError", "FactsError", "CheckFailed",
]
