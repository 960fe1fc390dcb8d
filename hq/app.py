"""The HQ web app: health, auth and sync endpoints; every error is an ErrorBody."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

from guide_app.sync.protocol import (
    DEFAULT_PULL_LIMIT,
    MAX_PULL_LIMIT,
    MAX_PUSH_BYTES,
    MAX_PUSH_MUTATIONS,
    PROTOCOL_HEADER,
    SCHEMA_HEADER,
    LoginRequest,
    LoginResponse,
    LogoutRequest,
    PullResponse,
    PushRequest,
    PushResponse,
    RefreshRequest,
    TokenPair,
)
from hq import audit_api, auth, config, landing, pack_api, pack_progress_api, sync_pull, sync_push
from hq.db import Database
from hq.errors import ApiError, error_responses, install_error_handlers
from hq.leaderboards import make_router as leaderboard_router
from hq.security import OrgKeys, load_keys

DB_URL_ENV = "GUIDE_HQ_DB"
SERVER_TIME_HEADER = "X-Server-Time-Ms"
log = logging.getLogger("hq")

class HQ:
    """Per-process state: the database handle and the org keys (immutable once made, so caching them
    in a process is safe with several processes)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._keys: OrgKeys | None = None
        self._lock = threading.Lock()

    def keys(self) -> OrgKeys:
        with self._lock:
            if self._keys is None:
                with self.db.session() as session:
                    self._keys = load_keys(session, int(time.time() * 1000))
            return self._keys


def _hq(request: Request) -> HQ:
    return request.app.state.hq  # type: ignore[no-any-return]


def _header_int(request: Request, name: str) -> int | None:
    raw = request.headers.get(name)
    if raw is None:
        return None
    try:
        return int(raw.strip())
    except ValueError:
        return -1


def check_versions(request: Request) -> None:
    """Serve the [min, max] window of protocol and schema versions; 426 outside it."""
    protocol = _header_int(request, PROTOCOL_HEADER)
    schema = _header_int(request, SCHEMA_HEADER)
    params: dict[str, Any] = {
        "protocol": protocol,
        "schema": schema,
        "pmin": config.PROTOCOL_MIN,
        "pmax": config.PROTOCOL_MAX,
        "smin": config.SCHEMA_MIN,
        "smax": config.SCHEMA_MAX,
    }
    if protocol is None or schema is None:
        raise ApiError(426, "version_missing", f"{PROTOCOL_HEADER} and {SCHEMA_HEADER} headers are required")
    if not (config.PROTOCOL_MIN <= protocol <= config.PROTOCOL_MAX and config.SCHEMA_MIN <= schema <= config.SCHEMA_MAX):
        raise ApiError(
            426,
            "upgrade_required",
            f"client protocol {protocol}/schema {schema} outside "
            f"[{config.PROTOCOL_MIN},{config.PROTOCOL_MAX}]/[{config.SCHEMA_MIN},{config.SCHEMA_MAX}]",
            headers={"Upgrade": f"guide-protocol/{config.PROTOCOL_MAX}"},
            **params,
        )


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def caller(request: Request) -> auth.Caller:
    hq = _hq(request)
    with hq.db.read() as session:
        return auth.authenticate(session, hq.keys(), _bearer(request))


def _client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def create_app(db_url: str | None = None) -> FastAPI:
    url = db_url or os.environ.get(DB_URL_ENV) or config.DEFAULT_DB_URL
    app = FastAPI(
        title="Guide Desk HQ",
        version="1",
        description="Org, auth and offline-first sync for Guide Desk counter PCs.",
    )
    app.state.hq = HQ(Database(url))
    install_error_handlers(app)

    @app.middleware("http")
    async def _server_time(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers[SERVER_TIME_HEADER] = str(int(time.time() * 1000))
        return response

    @app.get("/healthz", tags=["ops"], responses=error_responses(500))
    def healthz(request: Request) -> dict[str, object]:
        """Liveness and database reachability."""
        # a read: on SQLite a write session waits for the write lock, so under pushes a balancer's
        # health check took seconds (and would fail past the busy timeout) while HQ was fine
        with _hq(request).db.read() as session:
            session.execute(text("SELECT 1"))
        return {"status": "ok", "server_time_ms": int(time.time() * 1000)}

    # each route documents the refusals it really gives (the API fuzz holds them to it)
    v1 = APIRouter(prefix="/v1", dependencies=[Depends(check_versions)], responses=error_responses(422, 426, 500))

    @v1.post("/auth/login", response_model=LoginResponse, tags=["auth"],
             responses=error_responses(400, 401, 403, 404, 429))
    def login(body: LoginRequest, request: Request) -> LoginResponse:
        """Sign in; enrolls this PC as a device of one store when ``device_id`` is not given."""
        hq = _hq(request)
        with hq.db.session() as session:
            return auth.login(session, hq.keys(), body, _client_address(request))

    @v1.post("/auth/refresh", response_model=TokenPair, tags=["auth"], responses=error_responses(401, 403))
    def refresh(body: RefreshRequest, request: Request) -> TokenPair:
        """Trade a refresh token for a new pair; a reused one ends the whole session."""
        hq = _hq(request)
        with hq.db.session() as session:
            return auth.refresh(session, hq.keys(), body)

    @v1.post("/auth/logout", status_code=204, tags=["auth"])
    def logout(request: Request, body: LogoutRequest | None = None) -> Response:
        """End the session of the refresh token in the body and/or the access token in the header."""
        hq = _hq(request)
        with hq.db.session() as session:
            auth.logout(session, hq.keys(), body.refresh_token if body else None, _bearer(request))
        return Response(status_code=204)

    @v1.post(
        "/sync/push",
        response_model=PushResponse,
        tags=["sync"],
        responses=error_responses(401, 403, 409, 413),
        openapi_extra={"requestBody": {"required": True,
                                       "content": {"application/json": {"schema": PushRequest.model_json_schema()}}}},
    )
    async def push(request: Request, who: Annotated[auth.Caller, Depends(caller)]) -> PushResponse:
        """Apply this device's outbox mutations in seq order (≤200 mutations or 1 MB)."""
        body = await request.body()
        if len(body) > MAX_PUSH_BYTES:
            raise ApiError(413, "push_too_large", f"push body is {len(body)} bytes",
                           max_mutations=MAX_PUSH_MUTATIONS, max_bytes=MAX_PUSH_BYTES)
        try:
            raw = json.loads(body)
        except ValueError as exc:
            raise ApiError(422, "invalid_request", "body is not JSON", problem="JSON") from exc
        if isinstance(raw, dict) and isinstance(raw.get("mutations"), list) and len(raw["mutations"]) > MAX_PUSH_MUTATIONS:
            raise ApiError(413, "push_too_large", f"{len(raw['mutations'])} mutations",
                           max_mutations=MAX_PUSH_MUTATIONS, max_bytes=MAX_PUSH_BYTES)
        try:
            req = PushRequest.model_validate(raw)
        except ValidationError as exc:
            detail = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
            raise ApiError(422, "invalid_request", detail, problem=detail) from exc
        if req.device_id != who.device_id:
            raise ApiError(403, "device_store_mismatch", "device_id differs from the signed-in device")
        db = _hq(request).db

        def _run() -> PushResponse:
            with db.session() as session:
                return sync_push.push(session, who.device_id, req.mutations)

        return await run_in_threadpool(_run)

    @v1.get("/sync/pull", response_model=PullResponse, tags=["sync"], responses=error_responses(401, 403, 404, 409))
    def pull(
        request: Request,
        who: Annotated[auth.Caller, Depends(caller)],
        cursor: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_PULL_LIMIT)] = DEFAULT_PULL_LIMIT,
        store_id: Annotated[str | None, Query(max_length=36)] = None,
    ) -> Response:
        """Rows of the device's store changed after ``cursor``, in version order (a ``PullResponse``)."""
        if store_id is not None and store_id != who.store_id:
            raise ApiError(403, "store_forbidden", "a device pulls only the store it is enrolled to")
        with _hq(request).db.read() as session:
            # built as JSON bytes by sync_pull: skips re-validating and re-serialising a big page
            return Response(sync_pull.pull(session, who.store_id, cursor, limit), media_type="application/json")

    pack_progress_api.add_routes(v1, caller, lambda r: _hq(r).db)  # before pack_api's /packs/{id}/{version}
    pack_api.add_routes(v1, caller, lambda r: _hq(r).db)
    audit_api.add_routes(v1, caller, lambda r: _hq(r).db)
    v1.include_router(leaderboard_router(caller))
    app.include_router(v1)
    # the shoppers' landing page (活码): human pages, no version headers
    app.include_router(landing.make_router(lambda r: _hq(r).db, lambda r: _hq(r).keys().token_secret,
                                           _client_address))
    return app


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` worker processes; the URL comes from GUIDE_HQ_DB."""
    return create_app(os.environ.get(DB_URL_ENV))
