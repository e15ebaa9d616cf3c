"""The OpenAPI 3.1 description of the service, written by hand next to the routes it describes
(tests check it is a valid OpenAPI document and that it lists every route)."""
from __future__ import annotations

from functools import lru_cache

from .. import __version__

_SET = {"name": "set", "in": "path", "required": True, "description": "规则集名称 rule-set name, e.g. fushun",
        "schema": {"type": "string"}}
_AS_OF = {"name": "as_of", "in": "query", "required": False, "description": "评估日期，覆盖事实中的 as_of",
          "schema": {"type": "string", "format": "date"}}


def _json(schema_ref: str, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": {"$ref": schema_ref}}}}


_ERRORS = {
    "400": _json("#/components/schemas/Error", "请求体不是合法 JSON，或查询参数不对 malformed JSON or bad query"),
    "404": _json("#/components/schemas/Error", "没有这个规则集或条款 unknown set or clause"),
    "413": _json("#/components/schemas/Error", "请求体过大 request body too large"),
    "422": _json("#/components/schemas/Error", "事实不符合词汇表（problems 列出每个事实路径）invalid facts"),
}
_FACTS_BODY = {"required": True, "description": "案例事实，按对象嵌套 facts nested by subject, as in `policy eval`",
               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Facts"}}}}

_COMPONENTS = {
    "Error": {"type": "object", "required": ["error", "message"], "properties": {
        "error": {"type": "string"}, "message": {"type": "string"},
        "problems": {"type": "array", "items": {"type": "object", "required": ["path", "message"], "properties": {
            "path": {"type": "string", "description": "事实路径 fact path, e.g. unit.layoffs"},
            "message": {"type": "string"}}}}}},
    "Facts": {"type": "object", "description": "见 GET /v1/sets/{set}/facts-schema（JSON Schema 2020-12）",
              "additionalProperties": True},
    "Undetermined": {"type": "object", "required": ["undetermined", "missing", "reason"], "properties": {
        "undetermined": {"const": True}, "missing": {"type": "array", "items": {"type": "string"}},
        "reason": {"type": "string"}}},
    "Decision": {"type": "object", "required": ["schema", "version", "policy_set", "as_of", "clauses"],
                 "description": "与 `policy eval --format json` 完全相同（policy_dsl/schema/evaluation-v1.json）",
                 "properties": {
                     "schema": {"const": "policy-dsl/evaluation"}, "version": {"type": "integer"},
                     "policy_set": {"type": "string"}, "as_of": {"type": ["string", "null"], "format": "date"},
                     "clauses": {"type": "object", "additionalProperties": {
                         "type": "object", "required": ["applicable", "conclusions"], "properties": {
                             "applicable": {"type": "boolean"}, "conclusions": {"type": "object"}}}}}},
    "Explanation": {"type": "object", "description": "版本化的解释 JSON（policy_dsl/schema/decision-v2.json）",
                    "required": ["schema", "version", "policy_set", "clauses"], "properties": {
                        "schema": {"const": "policy-dsl/decision"}, "version": {"type": "integer"},
                        "policy_set": {"type": "string"}, "clauses": {"type": "object"}}},
    "NextQuestionRequest": {"type": "object", "additionalProperties": False, "properties": {
        "facts": {"$ref": "#/components/schemas/Facts"},
        "subject": {"type": "string", "description": "案例对象 unit / person / graduate / household / honor"},
        "clauses": {"type": "array", "items": {"type": "string"}, "description": "只筛查这些条款 screen only these clauses"},
        "skip": {"type": "array", "items": {"type": "string"}, "description": "申请人答不出、不再追问的事实路径"}}},
    "Question": {"type": "object", "required": ["fact", "label", "type", "values", "settles", "conclusions"], "properties": {
        "fact": {"type": "string"}, "label": {"type": "string", "description": "中文名称"},
        "type": {"enum": ["bool", "enum", "set", "int", "decimal", "money", "rate", "date"]},
        "values": {"type": "array", "items": {"type": "object", "required": ["value", "label"], "properties": {
            "value": {"type": "string"}, "label": {"type": "string"}}}},
        "settles": {"type": "object", "required": ["always", "expected"], "properties": {
            "always": {"type": "integer", "description": "无论怎样回答都能确定的结论数"},
            "expected": {"type": "string", "description": "按候选答案平均能确定的结论数（精确分数，如 16/5）"}}},
        "conclusions": {"type": "array", "items": {"type": "string"}}}},
    "NextQuestion": {"type": "object", "required": ["policy_set", "scope", "question", "open", "unsettled", "decision",
                                                    "results"], "properties": {
        "policy_set": {"type": "string"}, "scope": {"type": "array", "items": {"type": "string"}},
        "question": {"oneOf": [{"$ref": "#/components/schemas/Question"}, {"type": "null"}]},
        "open": {"type": "array", "items": {"type": "object"}},
        "unsettled": {"type": "array", "items": {"type": "object"}},
        "decision": {"$ref": "#/components/schemas/Decision"},
        "results": {"type": "array", "items": {"type": "object"}}}},
}


def _get(summary: str, ref: str, params: list | None = None, tag: str = "sets") -> dict:
    op: dict = {"summary": summary, "tags": [tag], "responses": {"200": _json(ref, "成功 OK")}}
    if params:
        op["parameters"] = params
        op["responses"]["404"] = _ERRORS["404"]
    return {"get": op}


def _post(summary: str, ref: str, params: list, body: dict, op_id: str) -> dict:
    ok = _json(ref, "成功 OK")
    if op_id == "explain":  # format=text: the prose explanation
        ok["content"]["text/plain"] = {"schema": {"type": "string"}}
        ok["content"]["text/html"] = {"schema": {"type": "string"}}
    return {"post": {"summary": summary, "operationId": op_id, "tags": ["decisions"], "parameters": params,
                     "requestBody": body, "responses": {"200": ok, **_ERRORS}}}


@lru_cache(maxsize=1)
def openapi_document() -> dict:
    obj = {"type": "object"}
    return {
        "openapi": "3.1.0",
        "info": {"title": "policy-dsl 政策判定服务", "version": __version__,
                 "description": "就业政策规则即代码：判定、解释与逐题筛查。规则集在服务启动时从 --policies 目录一次性加载。"},
        "paths": {
            "/health": _get("健康检查 health", "#/components/schemas/Object", tag="service"),
            "/v1/sets": _get("规则集列表 list sets", "#/components/schemas/Object"),
            "/v1/sets/{set}": _get("条款、参数与出处 clauses, parameters, citations", "#/components/schemas/Object", [_SET]),
            "/v1/sets/{set}/facts-schema": _get("事实的 JSON Schema", "#/components/schemas/Object", [_SET]),
            "/v1/sets/{set}/evaluate": _post("判定一个案例 evaluate a case", "#/components/schemas/Decision",
                                             [_SET, _AS_OF], _FACTS_BODY, "evaluate"),
            "/v1/sets/{set}/explain": _post(
                "解释判定（带出处）explain with citations", "#/components/schemas/Explanation",
                [_SET, _AS_OF,
                 {"name": "lang", "in": "query", "schema": {"enum": ["zh", "en"], "default": "zh"},
                  "description": "format=text 时的语言"},
                 {"name": "format", "in": "query", "schema": {"enum": ["json", "text", "notice"], "default": "json"},
                  "description": "json 解释 JSON；text 中文（或英文）文字；notice 告知书草稿（HTML）"},
                 {"name": "clause", "in": "query", "schema": {"type": "string"}, "description": "只解释一个条款"}],
                _FACTS_BODY, "explain"),
            "/v1/sets/{set}/next-question": _post(
                "下一个问题：回答后能确定最多未定结论的事实 the next question", "#/components/schemas/NextQuestion",
                [_SET], {"required": True, "content": {"application/json": {
                    "schema": {"$ref": "#/components/schemas/NextQuestionRequest"}}}}, "nextQuestion"),
        },
        "components": {"schemas": {**_COMPONENTS, "Object": obj}},
    }
