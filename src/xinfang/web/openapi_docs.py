"""The OpenAPI document tells the truth: the error answers each operation gives, and the files some of them send.

FastAPI documents only the success status and its own 422; but every operation answers the app's error envelope
(`{"detail": {"code", "message", "params"?}}` from `XinfangError`, a list of `{loc, msg, type}` for request
validation, or a plain string for routing errors) with 401/403/404/409/413/422. A client generated from the
schema, and the schemathesis fuzzing in tests/fuzz, must see those. The statuses are derived from what each route
is, not blanket-declared:

- 401 and 403 where the route depends on the logged-in actor (`deps.current_actor`) or the CSRF check;
- 404 where the path names an object, or the body may name one (department codes, petition ids, users);
- 409 on writes (state transitions and version conflicts);
- 400 and 413 where there is a request body (a body that is not JSON/UTF-8 at all; web.body_limit);
- 422 where there is anything to validate;
- plus per-path extras for the few public operations with their own rules (login lockout, signed callbacks).

A route that declares a status itself (`responses=` on the decorator) keeps its own description and content.

Routes that send a file (XLSX exports, DOCX notices, PNG/SVG maps, ZIP bundles, attachments) declare its media
types with `files(...)`, so that a client knows what it gets and the fuzzing can check the Content-Type.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from xinfang.web.deps import current_actor

ERROR_SCHEMA_NAME = "ErrorResponse"
ERROR_SCHEMA: dict[str, Any] = {
    "title": ERROR_SCHEMA_NAME,
    "type": "object",
    "required": ["detail"],
    "properties": {
        "detail": {
            "anyOf": [
                {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "params": {"type": "object"},
                    },
                },
                {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["loc", "msg", "type"],
                        "properties": {
                            "loc": {
                                "type": "array",
                                "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                            },
                            "msg": {"type": "string"},
                            "type": {"type": "string"},
                        },
                    },
                },
                {"type": "string"},
            ]
        }
    },
}
DESCRIPTIONS = {
    400: "请求无效",
    401: "未登录、登录已过期或签名无效",
    403: "当前角色无权执行此操作",
    404: "对象不存在或无权查看",
    409: "状态冲突(当前状态不允许此操作,或版本已变化)",
    413: "请求内容过大",
    422: "参数校验失败",
    423: "账户已锁定",
    429: "尝试过于频繁",
}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Public operations with rules of their own (no actor dependency to derive them from).
EXTRA_BY_PATH: dict[str, set[int]] = {
    "/api/auth/token": {401, 423, 429},  # bad credentials, locked account, throttled
    # signature, unknown platform or referral, replay
    "/api/referrals/callback/{platform}": {401, 404, 409, 413},
}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BINARY = {"schema": {"type": "string", "format": "binary"}}


def files(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route whose 200 is a file in one of `media_types` (besides JSON, when the route's
    response class is the default one, e.g. `?format=xlsx` beside `?format=json`)."""
    return {200: {"description": "文件", "content": {m: BINARY for m in media_types}}}


def _depends_on(dependant: Any, target: Any) -> bool:
    return any(d.call is target or _depends_on(d, target) for d in dependant.dependencies)


def _statuses(path: str, method: str, route: APIRoute, operation: dict[str, Any]) -> set[int]:
    statuses = set(EXTRA_BY_PATH.get(path, ()))
    has_body = "requestBody" in operation
    has_params = bool(operation.get("parameters"))
    if _depends_on(route.dependant, current_actor):
        statuses |= {401, 403}
    if "{" in path or (has_body and method in WRITE_METHODS):
        statuses.add(404)
    if method in WRITE_METHODS:
        statuses.add(409)
    if has_body:
        statuses |= {400, 413}
    if has_body or has_params:
        statuses.add(422)
    return statuses


def document_errors(app: FastAPI, schema: dict[str, Any]) -> dict[str, Any]:
    """Add the derived error responses to `schema` (the app's OpenAPI dict), in place; return it."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components[ERROR_SCHEMA_NAME] = ERROR_SCHEMA
    ref = {"$ref": f"#/components/schemas/{ERROR_SCHEMA_NAME}"}
    routes: dict[tuple[str, str], APIRoute] = {}
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and route.include_in_schema and context.path:
            for method in context.methods or ():
                routes[(method, context.path)] = route
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            route = routes.get((method.upper(), path))
            if route is None or not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            for status in sorted(_statuses(path, method.upper(), route, operation)):
                key = str(status)
                entry = responses.setdefault(key, {"description": DESCRIPTIONS[status]})
                if status == 422 or "content" not in entry:
                    # FastAPI's own 422 names only the validation list; domain checks answer 422 too.
                    entry["content"] = {"application/json": {"schema": ref}}
    return schema


def install(app: FastAPI) -> None:
    """Post-process the app's OpenAPI once, when it is first asked for (after every router is included)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if not getattr(app.state, "openapi_errors_documented", False):
            document_errors(app, build())
            app.state.openapi_errors_documented = True
        return build()

    app.openapi = openapi  # type: ignore[method-assign]
