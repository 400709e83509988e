"""Error answers: ``{"detail": summary, "problems": ["field: message", ...]}``, the CLI's lines as JSON.

Invalid input is a 4xx with one line per problem, in the style of ``models.package.validation_lines``;
nothing a client sends may turn into a 500. Core's failures (``core.errors``) are translated here
alone: invalid input 422 (404 when it names nothing that exists), a failure 502 (503 when the server
itself cannot serve it).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from fastapi import Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection

from sdv_studio.core.errors import InvalidInput, NotFound, Problems, Unavailable
from sdv_studio.models.package import SYNTAX_ERROR

_SECTIONS = ("body", "query", "path", "header")


class ApiError(HTTPException):
    def __init__(self, status_code: int, detail: str, problems: Sequence[str] = (),
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(status_code, detail, dict(headers) if headers else None)
        self.problems = list(problems) or [detail]


def error_body(detail: str, problems: Sequence[str]) -> dict[str, Any]:
    return {"detail": detail, "problems": list(problems)}


def error_bytes(detail: str, problems: Sequence[str]) -> bytes:
    return json.dumps(error_body(detail, problems)).encode()


def problem_lines(errors: Sequence[Mapping[str, Any]]) -> list[str]:
    """``field: message`` for each of the framework's validation errors."""
    lines = []
    for error in errors:
        if error["type"] == SYNTAX_ERROR:
            lines.append(str(error["msg"]))
            continue
        loc = [str(part) for part in error.get("loc", ())]
        if error["type"] == "json_invalid":
            loc = loc[:1]  # the second part is a character offset, not a field
        if len(loc) > 1 and loc[0] in _SECTIONS:
            loc = loc[1:]
        where = ".".join(loc) or "body"
        lines.append(f"{where}: {_plain(error)}")
    return lines


def _plain(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        return "is not a known field"
    if kind == "json_invalid":
        reason = (error.get("ctx") or {}).get("error")
        return f"not valid JSON ({reason})" if reason else "not valid JSON"
    message = str(error["msg"])
    return message[0].lower() + message[1:] if message else message


async def known_query_only(connection: HTTPConnection) -> None:
    """Unknown query parameters are refused, as unknown body fields are: a typo never passes silently."""
    route = connection.scope.get("route")
    dependant = getattr(route, "dependant", None)
    allowed = _query_names(dependant) if isinstance(dependant, Dependant) else set()
    unknown = sorted(set(connection.query_params) - allowed)
    if unknown:
        raise ApiError(422, "invalid request", [f"{name}: is not a known query parameter" for name in unknown])


def _query_names(dependant: Dependant) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def on_http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HTTPException)
    problems = getattr(exc, "problems", None) or [str(exc.detail)]
    return JSONResponse(error_body(str(exc.detail), problems), exc.status_code, headers=exc.headers)


def status_for(exc: Problems) -> int:
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, InvalidInput):
        return 422
    if isinstance(exc, Unavailable):
        return 503
    return 502


async def on_problems(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problems)
    return JSONResponse(error_body(exc.summary, exc.problems), status_for(exc))


@contextmanager
def field_named(option: str, field: str) -> Iterator[None]:
    """Core's lines name an input as the command line does (``--device x: …``); a request names its
    field instead (``devices: x: …``)."""
    try:
        yield
    except Problems as exc:
        exc.problems = [f"{field}: {line.removeprefix(option).lstrip()}" if line.startswith(f"{option} ") else line
                        for line in exc.problems]
        raise


async def on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(error_body("invalid request", problem_lines(exc.errors())), 422)
