"""The short way for what clients poll: ``GET /api/deployments/{id}`` answered with cached JSON bytes.

It sits right behind the token check and answers only the plain case, a known deployment and no query;
everything else (unknown ids, query parameters, other methods) goes on to the documented route, which
gives the same bytes or the error. Through the framework (its middleware, routing and dependencies)
the same answer costs about five times the CPU (bench/api.py shows both).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from sdv_studio.api.deployment_runs import Deployments

PREFIX = "/api/deployments/"


class DeploymentShortcut:
    def __init__(self, app: ASGIApp, deployments: Deployments) -> None:
        self.app = app
        self.deployments = deployments

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = self._answer(scope) if scope["type"] == "http" else None
        if body is None:
            await self.app(scope, receive, send)
            return
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]})
        await send({"type": "http.response.body", "body": body})

    def _answer(self, scope: Scope) -> bytes | None:
        path: str = scope["path"]
        if scope["method"] != "GET" or scope["query_string"] or not path.startswith(PREFIX):
            return None
        deployment_id = path[len(PREFIX):]
        if not deployment_id or "/" in deployment_id:
            return None
        try:
            return self.deployments.snapshot(deployment_id)
        except (KeyError, ValueError):  # the route answers with the 404
            return None
