"""One-layer fakes for the engine's unit tests: an in-memory LocalStore and a tiny in-process HQ
behind httpx.MockTransport (the real HQ is exercised by tests/e2e)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from guide_app.sync.protocol import (
    Mutation,
    MutationResult,
    PullResponse,
    PushResponse,
    RowChange,
    TokenPair,
)


@dataclass
class Row:
    m: Mutation
    status: str = "pending"
    code: str = ""
    reason: str = ""


@dataclass
class FakeStore:
    rows: dict[int, Row] = field(default_factory=dict)
    state: dict[str, str] = field(default_factory=dict)
    pages: list[PullResponse] = field(default_factory=list)

    def add(self, n: int, *, size: int = 10) -> None:
        start = max(self.rows, default=0) + 1
        for seq in range(start, start + n):
            self.rows[seq] = Row(Mutation(seq=seq, op_id=f"op{seq}", entity="customer", entity_id=f"c{seq}",
                                          fields={"notes": "x" * size}, hlc={"notes": f"{seq:013d}-0000-n"}))

    def first_pending_seq(self) -> int | None:
        return min((s for s, r in self.rows.items() if r.status == "pending"), default=None)

    def mutations_from(self, seq: int, limit: int) -> list[Mutation]:
        return [self.rows[s].m for s in sorted(self.rows) if s >= seq][:limit]

    def record_push(self, sent: Sequence[int], response: PushResponse) -> None:
        by_seq = {r.seq: r for r in response.results}
        for seq in sent:
            r = by_seq.get(seq)
            row = self.rows[seq]
            if r is None:
                if seq <= response.last_seq and row.status == "pending":
                    row.status = "acked"
                continue
            if r.status == "rejected" or (r.status == "duplicate" and r.code):
                row.status, row.code, row.reason = "rejected", r.code, r.reason
            elif row.status == "pending":
                row.status = "acked"

    def pending_count(self) -> int:
        return sum(r.status == "pending" for r in self.rows.values())

    def pull_cursor(self) -> int:
        return int(self.state.get("pull_cursor", "0"))

    def apply_pull(self, page: PullResponse) -> None:
        self.pages.append(page)
        self.state["pull_cursor"] = str(page.next_cursor)

    def get_state(self, key: str) -> str | None:
        return self.state.get(key)

    def set_state(self, key: str, value: str) -> None:
        self.state[key] = value


class FakeHQ:
    """Enough of HQ's sync contract to drive the engine: seq dedupe, gaps, rejections, pages."""

    def __init__(self, *, versions: int = 0, now_ms: int = 1_700_000_000_000) -> None:
        self.last_seq = 0
        self.applied: list[int] = []
        self.reject: dict[int, str] = {}
        self.versions = versions
        self.now_ms = now_ms
        self.requests: list[httpx.Request] = []
        self.valid_tokens = {"a1"}
        self.refreshes = 0
        self.faults: list[Callable[[httpx.Request], httpx.Response | None]] = []
        self.push_sizes: list[int] = []

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for fault in list(self.faults):
            answer = fault(request)
            if answer is not None:
                return answer
        if request.url.path == "/v1/auth/refresh":
            self.refreshes += 1
            token = f"a{self.refreshes + 1}"
            self.valid_tokens = {token}
            return httpx.Response(200, json=TokenPair(access_token=token, access_expires_in=900,
                                                      refresh_token=f"r{self.refreshes + 1}").model_dump())
        if request.headers.get("Authorization", "").removeprefix("Bearer ") not in self.valid_tokens:
            return httpx.Response(401, json={"code": "token_expired", "detail": "expired", "message_zh": "登录已过期"})
        if request.url.path == "/v1/sync/push":
            return self.push(json.loads(request.content))
        if request.url.path == "/v1/sync/pull":
            return self.pull(int(request.url.params["cursor"]), int(request.url.params["limit"]))
        return httpx.Response(404, json={"code": "not_found", "detail": request.url.path})

    def push(self, body: dict[str, Any]) -> httpx.Response:
        muts = body["mutations"]
        self.push_sizes.append(len(muts))
        if muts and muts[0]["seq"] > self.last_seq + 1:
            return httpx.Response(409, json={"code": "seq_gap", "detail": f"expected {self.last_seq + 1}",
                                             "message_zh": ""})
        results = []
        for m in muts:
            seq = m["seq"]
            if seq <= self.last_seq:
                results.append(MutationResult(seq=seq, status="duplicate"))
            elif seq in self.reject:
                results.append(MutationResult(seq=seq, status="rejected", code="bad", reason=self.reject[seq]))
                self.last_seq = seq
            else:
                self.applied.append(seq)
                results.append(MutationResult(seq=seq, status="applied"))
                self.last_seq = seq
        return httpx.Response(200, json=PushResponse(last_seq=self.last_seq, results=results,
                                                     server_time_ms=self.now_ms).model_dump())

    def pull(self, cursor: int, limit: int) -> httpx.Response:
        if cursor > self.versions:
            return httpx.Response(409, json={"code": "cursor_ahead", "detail": "restored", "message_zh": ""})
        rows = [RowChange(entity="customer", id=f"s{v}", fields={"name": f"n{v}"}, hlc={"name": f"{v:013d}-0000-h"},
                          version=v) for v in range(cursor + 1, min(self.versions, cursor + limit) + 1)]
        nxt = rows[-1].version if rows else cursor
        return httpx.Response(200, json=PullResponse(rows=rows, next_cursor=nxt, has_more=nxt < self.versions,
                                                     store_version=self.versions,
                                                     server_time_ms=self.now_ms).model_dump())
