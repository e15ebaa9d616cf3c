"""Rule files against their JSON Schema (policy_dsl/schema/*.json), each problem at its YAML
position, in the user's terms: an unknown key with did-you-mean, a missing key, a wrong type.

jsonschema is imported on first use: a load from the cache never validates a file.
"""
from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from .errors import RuleFileError, did_you_mean
from .yamlio import PosDict, plain

if TYPE_CHECKING:
    import jsonschema


@lru_cache(maxsize=None)
def _schema(name: str) -> dict:
    return json.loads(resources.files("policy_dsl").joinpath(f"schema/{name}").read_text(encoding="utf-8"))


def schema_problems(data: Any, schema_name: str, file: str) -> list[RuleFileError]:
    """Every place where a rule file's data breaks its JSON Schema, in file order, each at its YAML position."""
    if not isinstance(data, PosDict):
        return [RuleFileError(f"{file}: 文件内容应是一个映射（键: 值） the file must hold a mapping")]
    import jsonschema  # here, not at the top: a load from the cache never validates a file

    validator = jsonschema.Draft202012Validator(_schema(schema_name))
    found = [_schema_error(leaf, data) for err in validator.iter_errors(plain(data, dates_as_text=True))
             for leaf in _branch_errors(err)]
    return sorted(found, key=lambda e: (e.span.line, e.span.column) if e.span else (0, 0))


def _schema_error(err: jsonschema.ValidationError, data: PosDict) -> RuleFileError:
    node, span = data, data.span
    for part in err.absolute_path:
        if isinstance(node, dict) and isinstance(part, str):
            span = node.key_span(part)
        node = node[part] if isinstance(node, (dict, list)) else node
        if hasattr(node, "span"):
            span = node.span if not isinstance(node, dict) else span
    where = ".".join(str(p) for p in err.absolute_path) or "(文件顶层)"
    if err.validator == "additionalProperties" and isinstance(node, PosDict):
        allowed = list(err.schema.get("properties", {}))
        extra = [k for k in node if k not in allowed]
        key = extra[0] if extra else "?"
        return RuleFileError(f"未知的键 {key!r} unknown key（在 {where}）", node.key_span(key), found=key,
                             expected=", ".join(allowed), hint=did_you_mean(key, allowed))
    if err.validator == "required":
        missing = [k for k in err.validator_value if isinstance(err.instance, dict) and k not in err.instance]
        return RuleFileError(f"缺少必需的键 {'、'.join(missing) or err.message} missing key（在 {where}）", span,
                             expected=", ".join(err.validator_value))
    if err.validator == "enum":
        return RuleFileError(f"{where} 的值不在可选范围内 not an allowed value", span, found=repr(plain(err.instance)),
                             expected=", ".join(map(str, err.validator_value)),
                             hint=did_you_mean(str(err.instance), map(str, err.validator_value)))
    if err.validator == "oneOf":
        return RuleFileError(f"{where} 应是表达式文字，或含 expr 的映射 must be an expression or a mapping with expr",
                             span, found=_yaml_kind(err.instance), expected="如 unit.layoffs > 0，或 {expr: …, text: …}")
    if err.validator == "type":
        return RuleFileError(f"{where} 的类型不对 wrong type", span, found=_yaml_kind(err.instance),
                             expected=str(err.validator_value))
    return RuleFileError(f"{where}: {err.message}", span)


def _yaml_kind(value: Any) -> str:
    if value is None:
        return "空值 null（冒号后什么也没写）"
    return {dict: "映射 mapping", list: "列表 list", bool: "布尔 boolean"}.get(type(value), type(value).__name__)


def _branch_errors(err: jsonschema.ValidationError) -> list[jsonschema.ValidationError]:
    """An item written as a mapping failed the `expression | mapping` choice: report what is wrong
    with the mapping (a misspelt key, a wrong type name) at its own line, not the choice as a whole."""
    if err.validator != "oneOf" or not isinstance(err.instance, dict):
        return [err]
    branch = next((i for i, s in enumerate(err.validator_value) if s.get("type") == "object"), None)
    leaves = [e for e in err.context or () if e.relative_schema_path and e.relative_schema_path[0] == branch]
    if any(e.validator == "additionalProperties" for e in leaves):  # `expresion:` also makes `expr` missing: say it once
        leaves = [e for e in leaves if e.validator != "required"]
    return [leaf for e in leaves for leaf in _branch_errors(e)] or [err]
