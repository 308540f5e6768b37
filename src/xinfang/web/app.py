"""The FastAPI application factory: create_app(settings) builds everything; nothing happens at import."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import DataError as DBAPIDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from xinfang.config import Settings
from xinfang.errors import AuthenticationFailed, XinfangError
from xinfang.runtime import Runtime
from xinfang.web import middleware, openapi_docs
from xinfang.web.api import account as account_api
from xinfang.web.api import admin as admin_api
from xinfang.web.api import alert_config as alert_config_api
from xinfang.web.api import alerts as alerts_api
from xinfang.web.api import analytics as analytics_api
from xinfang.web.api import desk as desk_api
from xinfang.web.api import dispatch, organisation, petitions, procedure, supervision, system
from xinfang.web.api import jobs as jobs_api
from xinfang.web.api import referrals as referrals_api
from xinfang.web.api import review as review_api
from xinfang.web.body_limit import BodySizeLimit
from xinfang.web.deps import TOTP_ENROLMENT_REQUIRED
from xinfang.web.metrics import Metrics
from xinfang.web.pages import router as pages_router
from xinfang.web.prevention_pages import all_routes as prevention_routes
from xinfang.web.public import router as public_router

HERE = Path(__file__).parent
log = logging.getLogger("xinfang.web")

STATUS_BY_CODE = {"auth.locked": 423}


def create_app(settings: Settings, *, runtime: Runtime | None = None) -> FastAPI:
    runtime = runtime or Runtime(settings=settings)
    app = FastAPI(
        title="xinfang 智慧信访 API",
        version="0.1.0",
        description="信访件登记、智能分派、依法办理与分析。个人信息(身份证号、电话)在所有响应中均已脱敏。",
    )
    app.state.runtime = runtime
    app.state.metrics = Metrics()
    # issue 8: refuse oversized bodies (413) before they are read; added first, so the access log sees the 413
    app.add_middleware(
        BodySizeLimit, max_bytes=settings.max_request_bytes, max_upload_bytes=settings.max_upload_bytes
    )
    middleware.install(app, metrics=app.state.metrics, production=settings.environment == "production")
    app.include_router(system.router)
    app.include_router(account_api.router)  # issue 8: TOTP second factor
    app.include_router(review_api.router)
    app.include_router(organisation.router)
    app.include_router(petitions.router)
    app.include_router(dispatch.router)
    app.include_router(alert_config_api.router)  # before alerts_api: /api/alerts/rules is not an alert id
    app.include_router(alerts_api.router)
    app.include_router(procedure.router)
    app.include_router(supervision.router)
    app.include_router(desk_api.router)
    app.include_router(admin_api.router)
    app.include_router(referrals_api.router)
    app.include_router(jobs_api.router)
    app.include_router(analytics_api.router)
    app.include_router(pages_router)
    app.include_router(public_router)
    app.include_router(prevention_routes)  # issue 9: /api prevention + joint, staff pages, /public/submit
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    _install_error_handlers(app)
    openapi_docs.install(app)  # issue 8: document the error answers (schemathesis checks them)
    return app


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api") and "text/html" in request.headers.get("accept", "")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(XinfangError)
    async def domain_error(request: Request, exc: XinfangError) -> Response:
        status = STATUS_BY_CODE.get(exc.code, exc.http_status)
        if exc.code == TOTP_ENROLMENT_REQUIRED and _wants_html(request):
            return RedirectResponse("/account", status_code=303)  # a role that must enrol does so first
        if isinstance(exc, AuthenticationFailed) and _wants_html(request):
            return RedirectResponse("/login", status_code=303)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        return JSONResponse({"detail": exc.to_dict()}, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(OverflowError)
    @app.exception_handler(DBAPIDataError)
    async def number_out_of_range(request: Request, exc: Exception) -> Response:
        # issue 8 (fuzzing): an id beyond what the column holds (SQLite: 64 bits, OverflowError; PostgreSQL: the
        # column's integer type, SQLSTATE 22003), or a date that far computed: the request is at fault, not the
        # server. Any other data error stays a 500.
        if isinstance(exc, DBAPIDataError) and getattr(exc.orig, "sqlstate", None) != "22003":
            raise exc
        body = {"code": "request.number_out_of_range", "message": "数值超出允许范围"}
        return JSONResponse({"detail": body}, status_code=422)
