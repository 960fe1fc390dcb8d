"""A fault-injecting HTTP/1.1 proxy on 127.0.0.1 that sits between counter PCs and HQ.

Runs its own asyncio loop on a background thread, so synchronous clients in the same process can
use it. Each request whose path starts with ``prefix`` meets a fault with probability ``rate``,
drawn from a seeded ``random.Random`` (the same seed and request order give the same faults):

- ``drop_before``: the connection closes before anything reaches HQ;
- ``drop_after``:  HQ handles (and commits) the request, the answer never arrives;
- ``delay``:       the request waits 20–300 ms, then goes through normally;
- ``reset_mid_body``: the answer's headers and part of its body arrive, then a TCP reset;
- ``truncate``:    part of the body arrives and the connection closes cleanly (short read);
- ``http_500`` / ``http_503`` / ``http_429``: the proxy answers itself, HQ never sees the request.

It also reads every push answer that reaches a client, to count applied and duplicate mutations.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import struct
import threading
from collections import Counter
from dataclasses import dataclass, field

KINDS = ("drop_before", "drop_after", "delay", "reset_mid_body", "truncate", "http_500", "http_503", "http_429")
_REASONS = {500: "Internal Server Error", 503: "Service Unavailable", 429: "Too Many Requests"}


@dataclass
class ProxyStats:
    requests: Counter[str] = field(default_factory=Counter)  # by path
    faults: Counter[str] = field(default_factory=Counter)  # by kind
    push_results: Counter[str] = field(default_factory=Counter)  # applied / duplicate / rejected, delivered

    def summary(self) -> dict[str, object]:
        return {"requests": sum(self.requests.values()), "faults": dict(sorted(self.faults.items())),
                "faults_total": sum(self.faults.values()), "push_results_delivered": dict(self.push_results)}


class _Closed(Exception):
    pass


async def _read_head(reader: asyncio.StreamReader) -> bytes:
    try:
        return await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError) as exc:
        raise _Closed() from exc


def _headers(head: bytes) -> tuple[str, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    found: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            found[name.strip().lower()] = value.strip()
    return lines[0], found


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = b""
    while True:
        size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
        if size == 0:
            await reader.readline()
            return body
        body += await reader.readexactly(size)
        await reader.readline()


class FaultProxy:
    def __init__(self, upstream: str, *, seed: int = 1, rate: float = 0.3, prefix: str = "/v1/sync/",
                 kinds: tuple[str, ...] = KINDS) -> None:
        host, _, port = upstream.removeprefix("http://").rstrip("/").partition(":")
        self.upstream = (host, int(port or 80))
        self.rng = random.Random(seed)
        self.rate = rate
        self.prefix = prefix
        self.kinds = kinds
        self.enabled = False  # off while PCs sign in and for the final, fault-free rounds
        self.stats = ProxyStats()
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._serve, "127.0.0.1", 0), self._loop).result(10)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        async def close() -> None:
            if self._server is not None:
                self._server.close()
                await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _pick(self, path: str) -> str | None:
        with self._lock:
            self.stats.requests[path] += 1
            if not self.enabled or not path.startswith(self.prefix) or self.rng.random() >= self.rate:
                return None
            kind = self.rng.choice(self.kinds)
            self.stats.faults[kind] += 1
            return kind

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:  # keep-alive: one request after another on the client's connection
                if not await self._one(reader, writer):
                    break
        except (_Closed, ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _one(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        head = await _read_head(reader)
        request_line, headers = _headers(head)
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        path = request_line.split(" ")[1].split("?")[0] if " " in request_line else ""
        fault = self._pick(path)
        if fault == "drop_before":
            return False
        if fault in ("http_500", "http_503", "http_429"):
            status = int(fault[-3:])
            payload = json.dumps({"code": "server_error", "detail": f"proxy {status}",
                                  "message_zh": "服务器暂时不可用"}).encode()
            extra = "Retry-After: 0\r\n" if status == 429 else ""
            writer.write(f"HTTP/1.1 {status} {_REASONS[status]}\r\nContent-Type: application/json\r\n"
                         f"Content-Length: {len(payload)}\r\n{extra}\r\n".encode() + payload)
            await writer.drain()
            return True
        if fault == "delay":
            await asyncio.sleep(self.rng.uniform(0.02, 0.3))
        status_line, resp_headers, resp_body = await self._forward(head, body)
        if fault == "drop_after":
            return False
        if path.endswith("/sync/push") and status_line.split(" ")[1:2] == ["200"] and fault in (None, "delay"):
            try:
                for result in json.loads(resp_body).get("results", []):
                    with self._lock:
                        self.stats.push_results[str(result.get("status"))] += 1
            except ValueError:
                pass
        out_head = (status_line + "\r\n" + "".join(f"{k}: {v}\r\n" for k, v in resp_headers.items())
                    + f"content-length: {len(resp_body)}\r\n\r\n").encode("latin-1")
        if fault in ("reset_mid_body", "truncate"):
            writer.write(out_head + resp_body[: len(resp_body) // 2])
            await writer.drain()
            if fault == "reset_mid_body":
                sock = writer.get_extra_info("socket")
                if sock is not None:  # SO_LINGER 0: close sends RST instead of FIN
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.transport.abort()
            return False
        writer.write(out_head + resp_body)
        await writer.drain()
        return True

    async def _forward(self, head: bytes, body: bytes) -> tuple[str, dict[str, str], bytes]:
        """One request on a fresh upstream connection (``Connection: close``); the whole answer."""
        lines = head.decode("latin-1").split("\r\n")
        kept = [line for line in lines[1:] if line and line.split(":")[0].strip().lower() not in
                ("connection", "keep-alive")]
        up_head = "\r\n".join([lines[0], *kept, "Connection: close", "", ""]).encode("latin-1")
        up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        try:
            up_writer.write(up_head + body)
            await up_writer.drain()
            status_line, headers = _headers(await _read_head(up_reader))
            if headers.get("transfer-encoding", "").lower() == "chunked":
                resp_body = await _read_chunked(up_reader)
            elif "content-length" in headers:
                resp_body = await up_reader.readexactly(int(headers["content-length"]))
            else:
                resp_body = await up_reader.read()
        finally:
            up_writer.close()
        skip = ("content-length", "transfer-encoding", "connection", "keep-alive")
        return status_line.split("\r\n")[0], {k: v for k, v in headers.items() if k not in skip}, resp_body
