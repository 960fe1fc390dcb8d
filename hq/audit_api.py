"""The signed-in account's exports of the day as HQ holds them, so a PC counts the daily export limit
per person across every PC of the store (not per PC)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from guide_app.sync.protocol import ExportsTodayResponse
from hq import auth
from hq.audit import exports_since
from hq.db import Database
from hq.errors import error_responses


def add_routes(v1: APIRouter, caller: Callable[..., auth.Caller], db_of: Callable[[Request], Database]) -> None:
    """Add the audit routes to HQ's ``/v1`` router (it already checks client versions)."""

    @v1.get("/audit/exports-today", response_model=ExportsTodayResponse, tags=["audit"],
            responses=error_responses(401, 403))
    def exports_today(request: Request, since_ms: Annotated[int, Query(ge=0)],
                      who: auth.Caller = Depends(caller)) -> ExportsTodayResponse:  # noqa: B008
        """The caller's own export entries since ``since_ms`` (the PC's local midnight), from every PC;
        other people's are never included."""
        with db_of(request).read() as session:
            entries = exports_since(session, who.account_id, since_ms)
        return ExportsTodayResponse(account_id=who.account_id, since_ms=since_ms, entries=entries)
