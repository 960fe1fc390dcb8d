"""``hq serve`` keeps an idle keep-alive connection open longer than the 5 s clients and balancers
commonly reuse one for. With uvicorn's default of 5 s, a busy worker closed connections just as a
request arrived on them, and the load benchmark saw "server disconnected" errors."""

from __future__ import annotations

import socket
import time
from pathlib import Path

from hq.db import upgrade
from tests.hq_fixtures import start_hq_server

REQUEST = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n"


def _read_response(sock: socket.socket) -> bytes:
    """One whole HTTP response (healthz answers with a Content-Length), or b"" when the server closed."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return b""
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length"))
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            return b""
        body += chunk
    return head


def test_idle_connection_is_still_served_after_six_seconds(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hq.sqlite3'}"
    upgrade(url)
    with start_hq_server(url) as server:
        host, port = server.base_url.removeprefix("http://").split(":")
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            sock.sendall(REQUEST)
            assert _read_response(sock).startswith(b"HTTP/1.1 200")
            time.sleep(6)  # past uvicorn's default keep-alive of 5 s
            sock.sendall(REQUEST)
            assert _read_response(sock).startswith(b"HTTP/1.1 200"), "the server closed the idle connection"
