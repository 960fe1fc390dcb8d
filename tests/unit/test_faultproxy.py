"""The fault proxy does what tests/e2e/soak.py and docs/reliability.md say each fault kind does,
against a tiny upstream that counts the requests reaching it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.faultproxy import KINDS, FaultProxy

BODY = json.dumps({"last_seq": 2, "results": [{"seq": 1, "status": "applied"}, {"seq": 2, "status": "duplicate"}],
                   "pad": "x" * 4000}).encode()


class Upstream(BaseHTTPRequestHandler):
    hits = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        type(self).hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def upstream() -> Iterator[str]:
    Upstream.hits = 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def push_through(upstream: str, kind: str | None) -> tuple[int | str, int, FaultProxy]:
    with FaultProxy(upstream, rate=1.0, kinds=(kind,) if kind else KINDS) as proxy:
        proxy.enabled = kind is not None
        try:
            r = httpx.post(f"{proxy.url}/v1/sync/push", json={"device_id": "d", "mutations": []}, timeout=5)
            outcome: int | str = r.status_code if r.content == BODY or r.status_code != 200 else "altered"
        except httpx.TransportError as exc:
            outcome = type(exc).__name__
        return outcome, Upstream.hits, proxy


@pytest.mark.parametrize(("kind", "answer", "reached_hq"), [
    (None, 200, 1),
    ("delay", 200, 1),
    ("drop_before", "RemoteProtocolError", 0),
    ("drop_after", "RemoteProtocolError", 1),
    ("reset_mid_body", "ReadError", 1),
    ("truncate", "RemoteProtocolError", 1),
    ("http_500", 500, 0),
    ("http_503", 503, 0),
    ("http_429", 429, 0),
])
def test_each_fault_kind(upstream: str, kind: str | None, answer: int | str, reached_hq: int) -> None:
    outcome, hits, proxy = push_through(upstream, kind)
    assert (outcome, hits) == (answer, reached_hq)
    assert proxy.stats.faults == ({kind: 1} if kind else {})
    # only answers a client really got count as delivered push results
    delivered = {"applied": 1, "duplicate": 1} if kind in (None, "delay") else {}
    assert dict(proxy.stats.push_results) == delivered
