"""Fetching leaderboards from HQ (``GET /v1/leaderboards`` and ``/v1/leaderboards/trend``).

Read-only calls through the same authenticated client as sync (one refresh-and-retry on 401, every
failure a typed :mod:`guide_app.sync.errors` error), so the caller can tell "offline" from "refused".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from guide_app.sync.client import HqClient
from guide_app.sync.protocol import (
    BoardMetric,
    BoardPeriod,
    BoardScope,
    BoardUnit,
    LeaderboardResponse,
    LeaderboardTrend,
)


@dataclass(frozen=True)
class BoardRequest:
    scope: BoardScope
    metric: BoardMetric
    period: BoardPeriod
    unit: BoardUnit | None = None
    scope_id: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None
    campaign_id: str = ""

    def params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"scope": self.scope, "metric": self.metric, "period": self.period}
        if self.unit:
            params["unit"] = self.unit
        if self.scope_id:
            params["scope_id"] = self.scope_id
        if self.period == "custom":
            params["from"] = self.date_from.isoformat() if self.date_from else ""
            params["to"] = self.date_to.isoformat() if self.date_to else ""
        if self.period == "campaign":
            params["campaign"] = self.campaign_id
        return params

    def cache_key(self) -> str:
        """Identifies the board: every parameter that changes its rows."""
        p = self.params()
        return "|".join(str(p.get(k, "")) for k in ("scope", "unit", "scope_id", "metric", "period", "from", "to",
                                                      "campaign"))


def fetch_board(client: HqClient, request: BoardRequest) -> LeaderboardResponse:
    return client._authed("GET", "/v1/leaderboards", LeaderboardResponse, params=request.params())


def fetch_trend(client: HqClient, scope: BoardScope, scope_id: str, metric: BoardMetric, weeks: int
                ) -> LeaderboardTrend:
    params: dict[str, Any] = {"scope": scope, "metric": metric, "weeks": weeks}
    if scope_id:
        params["scope_id"] = scope_id
    return client._authed("GET", "/v1/leaderboards/trend", LeaderboardTrend, params=params)
