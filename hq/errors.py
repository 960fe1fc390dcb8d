"""Every error answer is an :class:`ErrorBody` (code, English detail, zh_CN message), never a trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from guide_app.sync.protocol import ErrorBody
from hq import landing_pages
from hq.messages import zh

log = logging.getLogger("hq")


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
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        body = ErrorBody(code=code, detail=str(exc.detail), message_zh=zh(code, status=exc.status_code))
        return error_response(exc.status_code, body, getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        body = ErrorBody(code="server_error", detail=type(exc).__name__, message_zh=zh("server_error"))
        return error_response(500, body)
