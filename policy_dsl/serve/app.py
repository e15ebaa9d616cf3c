"""The HTTP service: routes over a Registry of sets loaded once at start.

Every handler turns a request into one engine call and the result into JSON; errors are
rendered here once: bad JSON 400, unknown set or clause 404, invalid facts 422 (every fact
path), a rule that cannot be evaluated on these facts 422, oversized body 413 (middleware).
"""
from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..engine import RuleEngine
from ..errors import FactsError, PolicyError, did_you_mean
from ..explain import explain_json, render_notice, render_text
from ..facts import facts_schema, prepare
from .middleware import AccessLog, BodyLimit
from .openapi import openapi_document
from .present import screening_json
from .questions import scope_clauses, screen
from .registry import Registry, load_registry, set_detail, set_summary

DEFAULT_MAX_BODY = 64 * 1024  # a case is a few hundred bytes; a household list fits many times over


class ApiError(Exception):
    def __init__(self, status: int, kind: str, message: str, problems: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.kind, self.message, self.problems = status, kind, message, problems


def create_app(policies: str | Path | None = "policies", *, max_body: int = DEFAULT_MAX_BODY,
               registry: Registry | None = None) -> Any:
    """The ASGI app: every set in `policies` (None: $POLICY_PATH or ./policies) loaded, checked and
    compiled now, once."""
    reg = registry or load_registry(policies)
    static = resources.files("policy_dsl.serve").joinpath("static")

    def engine_of(request: Request) -> RuleEngine:
        name = request.path_params["set"]
        engine = reg.get(name)
        if engine is None:
            hint = did_you_mean(name, reg.engines)
            raise ApiError(404, "not_found", f"没有规则集 no rule set {name!r}" + (f"；{hint}" if hint else ""))
        return engine

    async def index(request: Request) -> Response:
        return Response(static.joinpath("index.html").read_bytes(), media_type="text/html; charset=utf-8")

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "sets": sorted(reg.engines)})

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document())

    async def sets(request: Request) -> Response:
        return JSONResponse({"sets": [set_summary(e) for e in reg.engines.values()]})

    async def one_set(request: Request) -> Response:
        return JSONResponse(set_detail(engine_of(request)))

    async def schema(request: Request) -> Response:
        return JSONResponse(facts_schema(engine_of(request).vocab))

    async def evaluate(request: Request) -> Response:
        engine = engine_of(request)
        facts = await _json_object(request)
        decision = _evaluate(engine, facts, _as_of(request), trace=False)
        return JSONResponse(evaluation_json(decision))

    async def explain(request: Request) -> Response:
        engine = engine_of(request)
        lang = request.query_params.get("lang", "zh")
        fmt = request.query_params.get("format", "json")
        clause = request.query_params.get("clause") or None
        if lang not in ("zh", "en") or fmt not in ("json", "text", "notice"):
            raise ApiError(400, "bad_request", "lang 只能是 zh 或 en，format 只能是 json、text 或 notice")
        _known_clauses(engine, [clause] if clause else [])
        facts = await _json_object(request)
        decision = _evaluate(engine, facts, _as_of(request), trace=True)
        if fmt == "text":
            return PlainTextResponse(render_text(decision, clause, lang))
        if fmt == "notice":  # the 告知书 draft, self-contained print-ready HTML
            return HTMLResponse(render_notice(decision, clause, "html"))
        return JSONResponse(explain_json(decision, clause))

    async def next_question(request: Request) -> Response:
        engine = engine_of(request)
        body = await _json_object(request)
        return JSONResponse(await run_in_threadpool(_next_question, engine, body))

    routes = [
        Route("/", index), Route("/health", health), Route("/openapi.json", openapi),
        Route("/v1/sets", sets), Route("/v1/sets/{set}", one_set), Route("/v1/sets/{set}/facts-schema", schema),
        Route("/v1/sets/{set}/evaluate", evaluate, methods=["POST"]),
        Route("/v1/sets/{set}/explain", explain, methods=["POST"]),
        Route("/v1/sets/{set}/next-question", next_question, methods=["POST"]),
        Mount("/static", StaticFiles(directory=str(static)), name="static"),
    ]
    app = Starlette(routes=routes, exception_handlers={ApiError: _api_error, 404: _not_found, 405: _not_allowed})
    app.state.registry = reg
    return AccessLog(BodyLimit(app, max_body))


def evaluation_json(decision) -> dict:
    """What `policy eval --format json` prints: the decision JSON under its schema name and version
    (policy_dsl/schema/evaluation-v1.json)."""
    return {"schema": "policy-dsl/evaluation", "version": 1, **decision.to_json()}


def _evaluate(engine: RuleEngine, facts: dict, as_of: date | None, *, trace: bool):
    try:
        return engine.evaluate(facts, as_of=as_of, trace=trace)
    except FactsError as exc:
        raise ApiError(422, "invalid_facts", "事实数据不符合词汇表 facts do not fit the vocabulary",
                       list(exc.problems)) from None
    except PolicyError as exc:
        raise ApiError(422, exc.kind, exc.render()) from None


def _next_question(engine: RuleEngine, body: dict) -> dict:
    unknown = sorted(set(body) - {"facts", "subject", "clauses", "skip"})
    if unknown:
        raise ApiError(422, "bad_request", f"未知的字段 unknown fields: {', '.join(unknown)}；可用：facts, subject, clauses, skip")
    facts = body.get("facts", {})
    subject = body.get("subject")
    clauses = body.get("clauses")
    skip = body.get("skip", [])
    if not isinstance(facts, dict):
        raise ApiError(422, "invalid_facts", "facts 应为对象 must be an object", [("facts", "应为对象 must be an object")])
    if subject is not None and subject not in engine.vocab.subjects:
        hint = did_you_mean(str(subject), engine.vocab.subjects)
        raise ApiError(422, "bad_request", f"未知的对象 unknown subject {subject!r}" + (f"；{hint}" if hint else ""))
    if clauses is not None and not (isinstance(clauses, list) and all(isinstance(c, str) for c in clauses)):
        raise ApiError(422, "bad_request", "clauses 应为条款编号列表 must be a list of clause ids")
    if not (isinstance(skip, list) and all(isinstance(s, str) for s in skip)):
        raise ApiError(422, "bad_request", "skip 应为事实路径列表 must be a list of fact paths")
    _known_clauses(engine, clauses or [])
    try:
        flat = prepare(facts, engine.vocab)
    except FactsError as exc:
        raise ApiError(422, "invalid_facts", "事实数据不符合词汇表 facts do not fit the vocabulary",
                       list(exc.problems)) from None
    scope = scope_clauses(engine, subject, clauses)
    present = {engine.rule_set.clauses[c].subject for c in scope} | ({subject} if subject else set())
    if subject is None and clauses is None:  # no scope given: the clauses about what the case already carries
        scope = tuple(c for c in scope if engine.rule_set.clauses[c].subject in flat["$subjects"] | {"always"})
        present = set()
    flat["$subjects"] = frozenset(flat["$subjects"] | present - {"always"})
    try:
        return screening_json(engine, screen(engine, flat, scope, skip))
    except PolicyError as exc:
        raise ApiError(422, exc.kind, exc.render()) from None


def _known_clauses(engine: RuleEngine, clauses: list[str]) -> None:
    for c in clauses:
        if c not in engine.rule_set.clauses:
            hint = did_you_mean(c, engine.rule_set.clauses)
            raise ApiError(404, "not_found", f"没有条款 no clause {c!r}" + (f"；{hint}" if hint else ""))


def _as_of(request: Request) -> date | None:
    text = request.query_params.get("as_of")
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ApiError(400, "bad_request", f"as_of 不是日期 not a date (YYYY-MM-DD): {text}") from None


async def _json_object(request: Request) -> dict:
    raw = await request.body()
    try:
        data = json.loads(raw or b"{}", parse_float=Decimal)  # numbers read from their text, never via float
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f"第{exc.lineno}行第{exc.colno}列 line {exc.lineno} column {exc.colno}: " if isinstance(exc, json.JSONDecodeError) else ""
        raise ApiError(400, "bad_json", f"请求体不是合法的 JSON malformed JSON: {where}{getattr(exc, 'msg', exc)}") from None
    if not isinstance(data, dict):
        raise ApiError(422, "invalid_facts", "请求体应为 JSON 对象 the body must be a JSON object",
                       [("", "应为对象 must be an object")])
    return data


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    body: dict = {"error": exc.kind, "message": exc.message}
    if exc.problems is not None:
        body["problems"] = [{"path": p, "message": m} for p, m in exc.problems]
    return JSONResponse(body, status_code=exc.status)


async def _not_found(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": "not_found", "message": f"没有这个地址 no such path: {request.url.path}"}, 404)


async def _not_allowed(request: Request, exc: Exception) -> Response:
    return JSONResponse({"error": "method_not_allowed", "message": f"{request.method} 不可用于 not allowed on {request.url.path}"}, 405)
