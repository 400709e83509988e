"""The app factory: routes, error handlers, the token and size checks, the OpenAPI document."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware

from sdv_studio import __version__
from sdv_studio.api.auth import BearerAuth
from sdv_studio.api.cached_deployment import DeploymentShortcut
from sdv_studio.api.context import ApiContext
from sdv_studio.api.errors import known_query_only, on_http_error, on_problems, on_validation_error
from sdv_studio.api.limits import BodySizeLimit
from sdv_studio.api.routes import deployments, devices, events, packages, signals
from sdv_studio.api.settings import ApiSettings
from sdv_studio.core.errors import Problems

DESCRIPTION = """\
The deployment API of the SDV deployment guide, served by SDV Studio on this computer.

Every request needs `Authorization: Bearer <token>`, this document and the WebSocket included.
Errors answer `{"detail": "...", "problems": ["field: message", ...]}`.

Live progress: WebSocket `/api/deployments/{deploymentId}/events` sends the deployment's events
in order (`{"seq", "kind": "progress"|"log"|"wave"|"finished", ...}`), from the first one, then closes.
Live signals: WebSocket `/api/devices/{deviceId}/signals?path=Vehicle.Speed&path=…` (and/or `app=NAME`)
sends `{"seq", "kind": "link-up"|"subscribed"|"signal"|"broker-down"|"link-down", "deviceId", ...}`
until the client leaves (its plain GET, below, says more).
Browsers cannot set headers on a WebSocket: they offer the token as subprotocols instead,
`new WebSocket(url, ["bearer", token])` (`Sec-WebSocket-Protocol: bearer, <token>`); the server
answers with the subprotocol `bearer`.

Web pages on the origins the server was started with (`serve --cors-origin`) may call the API from
a browser (CORS); their preflight requests need no token, the requests themselves do.
"""


def create_app(settings: ApiSettings, ctx: ApiContext | None = None) -> FastAPI:
    ctx = ctx or ApiContext(settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        await ctx.deployments.shutdown(settings.shutdown_timeout)

    app = FastAPI(title="SDV Studio", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  openapi_url="/api/openapi.json", docs_url=None, redoc_url=None,
                  dependencies=[Depends(known_query_only)])  # no UI: it loads from a CDN
    app.state.ctx = ctx
    for module in (devices, signals, packages, deployments, events):
        app.include_router(module.router)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(Problems, on_problems)
    # Added last runs first: CORS preflights are answered without the token, then the token is checked
    # before anything else, then the polled GET short-cut, the size before a body is read.
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(DeploymentShortcut, deployments=ctx.deployments)
    app.add_middleware(BearerAuth, token=settings.token)
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"], expose_headers=["Location"],
                           max_age=600)
    _document_bearer(app)
    return app


def _document_bearer(app: FastAPI) -> None:
    """Declare the bearer scheme in the OpenAPI document, and the answers given before a route runs
    (401 everywhere, 422 in our shape, 400 for a malformed request; 413 where a body is taken) on every operation."""
    plain = app.openapi
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = plain()
            schema.setdefault("components", {})["securitySchemes"] = {
                "bearer": {"type": "http", "scheme": "bearer"}}
            schema["security"] = [{"bearer": []}]
            for methods in schema["paths"].values():
                for operation in methods.values():
                    responses = operation.setdefault("responses", {})
                    responses["401"] = {"description": "missing or wrong bearer token", **error}
                    # Our validation answers (unknown query parameters included) replace FastAPI's shape.
                    responses["422"] = {"description": "invalid request: one `field: message` line per problem",
                                        **error}
                    if "requestBody" in operation:
                        responses["400"] = {"description": "the body cannot be decoded (not UTF-8)", **error}
                        responses["413"] = {"description": "request body too large", **error}
                    else:  # the server's HTTP parser refuses a malformed request line before any route runs
                        responses["400"] = {"description": "a malformed HTTP request (the server's plain-text answer)"}
            for unused in ("HTTPValidationError", "ValidationError"):
                schema["components"]["schemas"].pop(unused, None)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
