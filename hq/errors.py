"""Every error answer is an :class:`ErrorBody` (code, English detail, zh_CN message), never a trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from guide_app.sync.protocol import ErrorBody
from hq import landing_pages
from hq.messages import zh

log = logging.getLogger("hq")


_MEANING = {
    400: "refused request (see code)",
    401: "not signed in, or the session, device or account is no longer valid (see code)",
    403: "the account or device may not do this for that store",
    404: "no such store, pack or campaign",
    409: "conflict with HQ's state: seq_gap (with expected_seq), device_forked or cursor_ahead",
    413: "body over the push limits",
    416: "Range outside the archive",
    422: "request does not match its schema",
    426: "client protocol or schema version outside HQ's window",
    429: "rate limited; wait Retry-After seconds",
    500: "unexpected fault (logged), never a trace",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for the refusals a route really gives, each an :class:`ErrorBody`."""
    return {status: {"model": ErrorBody, "description": _MEANING[status]} for status in statuses}


class ApiError(Exception):
    """A refusal with its HTTP status, stable code and zh_CN message (from hq.messages)."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        expected_seq: int | None = None,
        keep_changes: bool = False,
        **params: Any,
    ) -> None:
        super().__init__(detail)
        self.keep_changes = keep_changes  # commit the transaction's work before answering
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        self.expected_seq = expected_seq
        self.params = params

    def body(self) -> ErrorBody:
        return ErrorBody(
            code=self.code,
            detail=self.detail,
            message_zh=zh(self.code, expected_seq=self.expected_seq, **self.params),
            expected_seq=self.expected_seq,
        )


def error_response(status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body.model_dump(exclude_none=True), status_code=status, headers=headers)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.body(), exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        detail = "; ".join(
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', '')}" for err in exc.errors()[:5]
        )
        body = ErrorBody(code="invalid_request", detail=detail, message_zh=zh("invalid_request", problem=detail))
        return error_response(422, body)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and request.url.path.startswith("/a/"):
            # a shopper's link no route matches (a control character in it): the plain page, never JSON
            status, content = landing_pages.notice("unknown")
            return HTMLResponse(content, status_code=status, headers=landing_pages.SECURITY_HEADERS)
        if exc.status_code == 400:  # FastAPI could not parse the body (not JSON, not UTF-8): as push says it
            body = ErrorBody(code="invalid_request", detail="body is not JSON",
                             message_zh=zh("invalid_request", problem="JSON"))
            return error_response(422, body)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        body = ErrorBody(code=code, detail=str(exc.detail), message_zh=zh(code, status=exc.status_code))
        return error_response(exc.status_code, body, getattr(exc, "headers", None))

    @app.exception_handler(DataError)
    async def _data(_request: Request, exc: DataError) -> JSONResponse:
        # the database refused a value the request carried (PostgreSQL: a NUL in text): the caller's fault
        log.warning("database refused a request value: %s", str(exc.orig)[:200])
        body = ErrorBody(code="invalid_request", detail="a value the database cannot store (e.g. a NUL character)",
                         message_zh=zh("invalid_request", problem="NUL"))
        return error_response(422, body)

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        body = ErrorBody(code="server_error", detail=type(exc).__name__, message_zh=zh("server_error"))
        return error_response(500, body)
