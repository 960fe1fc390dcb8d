"""The HTTP client for HQ: base URL, protocol/schema headers, timeouts, bearer auth with one
refresh-and-retry on 401, and every failure mapped to a typed :mod:`guide_app.sync.errors` error.

It never retries on its own beyond the single 401 refresh: backoff belongs to the engine, which
knows whether a call is safe to repeat (push and pull both are, by device_seq and cursor).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ValidationError

from guide_app.sync.backoff import parse_retry_after
from guide_app.sync.errors import (
    AuthRequiredError,
    BadResponseError,
    ForbiddenError,
    LoginFailedError,
    OfflineError,
    RateLimitedError,
    RequestError,
    SeqGapError,
    ServerError,
    SyncError,
    UpgradeRequiredError,
)
from guide_app.sync.protocol import (
    DEFAULT_PULL_LIMIT,
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    SCHEMA_HEADER,
    SCHEMA_VERSION,
    ErrorBody,
    ExportsTodayResponse,
    LoginRequest,
    LoginResponse,
    PackListResponse,
    PackOverviewResponse,
    PackProgressResponse,
    PullResponse,
    PushRequest,
    PushResponse,
    RefreshRequest,
    TokenPair,
)
from guide_app.sync.tokens import TokenStore

M = TypeVar("M", bound=BaseModel)

DEFAULT_TIMEOUT = httpx.Timeout(connect=5.0, read=30.0, write=30.0, pool=5.0)
GAP_CODES = {"seq_gap", "gap"}


def _error_body(response: httpx.Response) -> ErrorBody | None:
    try:
        data = response.json()
    except (ValueError, json.JSONDecodeError):
        return None
    if isinstance(data, dict) and "detail" in data and isinstance(data["detail"], dict):
        data = data["detail"]  # FastAPI's HTTPException wraps the body in "detail"
    try:
        return ErrorBody.model_validate(data)
    except ValidationError:
        return None


def _expected_seq(response: httpx.Response) -> int | None:
    try:
        data = response.json()
    except ValueError:
        return None
    for holder in (data, data.get("detail") if isinstance(data, dict) else None):
        if isinstance(holder, dict):
            for key in ("expected_seq", "expected"):
                if isinstance(holder.get(key), int):
                    return int(holder[key])
    return None


def error_for(response: httpx.Response, *, login: bool = False) -> SyncError:
    """The typed error for a non-2xx answer from HQ."""
    body = _error_body(response)
    code = body.code if body else ""
    detail = f"HTTP {response.status_code} {code}: {body.detail if body else response.text[:200]}"
    server_message = body.message_zh if body else ""
    error = _typed_error(response.status_code, code, detail, server_message,
                         parse_retry_after(response.headers.get("Retry-After")), response, login)
    error.code = code
    return error


def _typed_error(status: int, code: str, detail: str, server_message: str, retry_after: float | None,
                 response: httpx.Response, login: bool) -> SyncError:
    if status == 426:
        return UpgradeRequiredError(detail, server_message=server_message)
    if status == 401:
        return (LoginFailedError if login else AuthRequiredError)(detail, server_message=server_message)
    if status == 403:
        return ForbiddenError(detail, server_message=server_message)
    if status == 409 and code in GAP_CODES:
        return SeqGapError(detail, expected_seq=_expected_seq(response))
    if status == 429:
        return RateLimitedError(detail, retry_after=retry_after)
    if status >= 500:
        return ServerError(detail, retry_after=retry_after)
    return RequestError(detail, server_message=server_message, status=status)


class HqClient:
    """One HQ at ``base_url``. ``device_id`` is set after enrollment; tokens live in ``tokens``."""

    def __init__(
        self,
        base_url: str,
        tokens: TokenStore,
        *,
        device_id: str | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        protocol_version: int = PROTOCOL_VERSION,
        schema_version: int = SCHEMA_VERSION,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.tokens = tokens
        self.device_id = device_id
        self._refresh_lock = threading.Lock()
        self._http = httpx.Client(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout,
            headers={
                PROTOCOL_HEADER: str(protocol_version),
                SCHEMA_HEADER: str(schema_version),
                "User-Agent": f"guide-desk/{protocol_version}",
            },
        )

    def close(self) -> None:
        self._http.close()

    # --- transport ------------------------------------------------------------------------------
    def _send(self, method: str, path: str, *, body: BaseModel | None = None,
              params: dict[str, Any] | None = None, token: str | None = None) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        content = body.model_dump_json().encode() if body is not None else None
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            return self._http.request(method, path, content=content, params=params, headers=headers)
        except httpx.TransportError as exc:  # refused, reset, timeouts, a dropped connection mid-body
            raise OfflineError(f"{type(exc).__name__}: {exc}") from exc

    @staticmethod
    def _parse(response: httpx.Response, model: type[M]) -> M:
        try:
            return model.model_validate_json(response.content)
        except ValidationError as exc:
            raise BadResponseError(f"{model.__name__}: {exc.errors()[:2]}") from exc

    def _authed(self, method: str, path: str, model: type[M], *, body: BaseModel | None = None,
                params: dict[str, Any] | None = None) -> M:
        token = self.tokens.access_token()
        if token is None:
            token = self.refresh()
        response = self._send(method, path, body=body, params=params, token=token)
        if response.status_code == 401:
            # the access token expired (or HQ restarted): refresh once, retry once
            token = self.refresh(stale=token)
            response = self._send(method, path, body=body, params=params, token=token)
        if response.status_code >= 400:
            raise error_for(response)
        return self._parse(response, model)

    # --- API --------------------------------------------------------------------------------------
    def login(self, request: LoginRequest) -> LoginResponse:
        response = self._send("POST", "/v1/auth/login", body=request)
        if response.status_code >= 400:
            raise error_for(response, login=True)
        result = self._parse(response, LoginResponse)
        self.device_id = result.device_id
        return result

    def refresh(self, stale: str | None = None) -> str:
        """A fresh access token from the refresh token (rotated: the new one replaces the old)."""
        with self._refresh_lock:
            current = self.tokens.access_token()
            if stale is not None and current is not None and current != stale:
                return current  # another call refreshed while we waited
            refresh_token = self.tokens.refresh_token()
            if not refresh_token or not self.device_id:
                raise AuthRequiredError("no refresh token")
            response = self._send("POST", "/v1/auth/refresh",
                                  body=RefreshRequest(refresh_token=refresh_token, device_id=self.device_id))
            if response.status_code in (400, 401, 403):
                raise AuthRequiredError(f"refresh refused: HTTP {response.status_code}")
            if response.status_code >= 400:
                raise error_for(response)
            pair = self._parse(response, TokenPair)
            self.tokens.save(pair)
            return pair.access_token

    def logout(self) -> None:
        """Revoke the session at HQ (best effort: offline logout still forgets the tokens locally)."""
        refresh_token = self.tokens.refresh_token()
        try:
            if refresh_token and self.device_id:
                self._send("POST", "/v1/auth/logout", token=self.tokens.access_token(),
                           body=RefreshRequest(refresh_token=refresh_token, device_id=self.device_id))
        except OfflineError:
            pass
        finally:
            self.tokens.clear()

    def push(self, request: PushRequest) -> PushResponse:
        return self._authed("POST", "/v1/sync/push", PushResponse, body=request)

    def pull(self, cursor: int, limit: int = DEFAULT_PULL_LIMIT) -> PullResponse:
        params: dict[str, Any] = {"cursor": cursor, "limit": limit}
        if self.device_id:
            params["device_id"] = self.device_id
        return self._authed("GET", "/v1/sync/pull", PullResponse, params=params)

    def exports_today(self, since_ms: int) -> ExportsTodayResponse:
        """The signed-in account's export audit entries HQ holds since ``since_ms``, from every PC."""
        return self._authed("GET", "/v1/audit/exports-today", ExportsTodayResponse, params={"since_ms": since_ms})

    # --- campaign packs ---------------------------------------------------------------------------
    def list_packs(self) -> PackListResponse:
        return self._authed("GET", "/v1/packs", PackListResponse)

    def pack_overview(self) -> PackOverviewResponse:
        """Every campaign reaching a store of the signed-in account's scope, with its completion there
        (also campaigns this PC's store does not get)."""
        return self._authed("GET", "/v1/packs/progress", PackOverviewResponse)

    def pack_progress(self, pack_id: str) -> PackProgressResponse:
        """A campaign's completion per store and guide, in the signed-in account's scope."""
        return self._authed("GET", f"/v1/packs/{quote(pack_id, safe='')}/progress", PackProgressResponse)

    def download_pack(self, pack_id: str, version: int, dest: Path, *, chunk: int = 256 * 1024,
                      cancelled: Callable[[], bool] = lambda: False) -> bool:
        """Fetch a pack archive into ``dest``, continuing a partial file with ``Range`` (so a dropped
        connection costs only the bytes not yet received). False when ``cancelled`` stopped it; the
        partial file stays for the next attempt."""
        path = f"/v1/packs/{pack_id}/{version}"
        refreshed = restarted = False
        while True:
            token = self.tokens.access_token() or self.refresh()
            offset = dest.stat().st_size if dest.exists() else 0
            headers = {"Authorization": f"Bearer {token}"}
            if offset:
                headers["Range"] = f"bytes={offset}-"
            try:
                with self._http.stream("GET", path, headers=headers) as response:
                    if response.status_code == 401 and not refreshed:
                        refreshed = True
                        self.refresh(stale=token)
                        continue
                    if response.status_code == 416 and not restarted:  # our partial file is not a prefix
                        restarted = True
                        dest.unlink(missing_ok=True)
                        continue
                    if response.status_code >= 400:
                        response.read()
                        raise error_for(response)
                    with dest.open("ab" if response.status_code == 206 else "wb") as fh:
                        for block in response.iter_bytes(chunk):
                            if cancelled():
                                return False
                            fh.write(block)
                    return True
            except httpx.TransportError as exc:
                raise OfflineError(f"{type(exc).__name__}: {exc}") from exc
