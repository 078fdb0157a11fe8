"""One error type, one mapping to OpenAI's error shape, and the handlers that enforce it.

Both HTTP servers (the embedded engine and the gateway) install :func:`install_error_handlers`
so every error a client can see — validation, unknown route, our own, or a bug — has the shape
``{"error": {"message", "type", "param", "code"}}``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from adapter.protocol import ErrorInfo, ErrorResponse

__all__ = ["APIError", "error_response", "install_error_handlers"]

log = logging.getLogger(__name__)


class APIError(Exception):
    """An error with an HTTP status and OpenAI's ``type``/``code``/``param`` fields."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 400,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type or _default_type(status)
        self.code = code
        self.param = param

    def to_response(self) -> ErrorResponse:
        return ErrorResponse(
            error=ErrorInfo(message=self.message, type=self.type, param=self.param, code=self.code)
        )


def _default_type(status: int) -> str:
    if status == 401:
        return "authentication_error"
    if status == 403:
        return "permission_error"
    if status == 404:
        return "not_found_error"
    if status == 429:
        return "rate_limit_error"
    if status < 500:
        return "invalid_request_error"
    return "server_error"


def _phrase(status: int) -> str:
    # `status in HTTPStatus` raises TypeError on Python 3.11: ask for the member instead.
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def error_response(exc: Exception) -> JSONResponse:
    """Map any exception to a JSON response in OpenAI's error shape."""
    headers: dict[str, str] = {}
    if isinstance(exc, APIError):
        err = exc
    elif isinstance(exc, RequestValidationError):
        err = _from_validation(exc)
    elif isinstance(exc, StarletteHTTPException):
        err = APIError(str(exc.detail or _phrase(exc.status_code)), status=exc.status_code)
        headers = dict(exc.headers or {})  # a 405's Allow, for one
    else:
        log.exception("unhandled error", exc_info=exc)
        err = APIError("internal server error", status=500, code="internal_error")
    if err.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    return JSONResponse(err.to_response().model_dump(), status_code=err.status,
                        headers=headers or None)


def _from_validation(exc: RequestValidationError) -> APIError:
    errors = exc.errors()
    if not errors:
        return APIError("invalid request", code="invalid_request")
    first = errors[0]
    if first.get("type") == "json_invalid":
        return APIError(
            f"request body is not valid JSON: {first.get('msg', '')}", code="invalid_json"
        )
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    param = ".".join(loc) or None
    where = f" (at '{param}')" if param else ""
    more = f"; and {len(errors) - 1} more error(s)" if len(errors) > 1 else ""
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    return APIError(f"{message}{where}{more}", param=param,
                    code="invalid_value")


def _allowed_methods(request: Request) -> str:
    """Every method some route serves on this path (Starlette's 405 names only the first
    route whose path matches, and ``/admin/adapters/pin`` also matches ``{name}``)."""
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches({**request.scope, "method": ""})
        if match is not Match.NONE:
            methods |= getattr(route, "methods", None) or set()
    return ", ".join(sorted(methods))


def install_error_handlers(
    app: FastAPI, observe: Callable[[Request, int], None] | None = None
) -> None:
    """Route every exception through :func:`error_response`; ``observe`` sees each status."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        response = error_response(exc)
        if response.status_code == 405:
            response.headers["Allow"] = _allowed_methods(request)
        if observe is not None:
            observe(request, response.status_code)
        return response

    app.add_exception_handler(APIError, handle)
    app.add_exception_handler(RequestValidationError, handle)
    app.add_exception_handler(StarletteHTTPException, handle)
    app.add_exception_handler(Exception, handle)
