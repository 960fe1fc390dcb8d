"""httpx transport wrappers that inject faults in front of the real HQ process."""

from __future__ import annotations

from collections.abc import Callable

import httpx


class FaultTransport(httpx.BaseTransport):
    """Forwards to the real HQ; ``plan`` decides per request what goes wrong.

    A plan returns None (pass through), a Response (answered by a "proxy" without reaching HQ),
    or "drop-after" (HQ handles the request and commits, then the connection dies before the
    answer arrives), or "drop-body" (the answer starts arriving and is cut off).
    """

    def __init__(self, plan: Callable[[httpx.Request], object] | None = None) -> None:
        self.inner = httpx.HTTPTransport()
        self.plan = plan or (lambda request: None)
        self.seen: list[tuple[str, int | str]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        action = self.plan(request)
        name = request.url.path.rsplit("/", 1)[-1]
        if isinstance(action, httpx.Response):
            self.seen.append((name, action.status_code))
            return action
        response = self.inner.handle_request(request)
        if action == "drop-after":
            response.read()
            response.close()
            self.seen.append((name, "dropped"))
            raise httpx.ReadError("connection reset by peer", request=request)
        if action == "drop-body":
            body = response.read()
            response.close()
            self.seen.append((name, "cut"))
            return httpx.Response(response.status_code, headers={"Content-Type": "application/json"},
                                  content=body[: len(body) // 2], request=request)
        self.seen.append((name, response.status_code))
        return response

    def close(self) -> None:
        self.inner.close()


def once(kind: str, action: object) -> Callable[[httpx.Request], object]:
    """Apply ``action`` to the first request whose path ends with ``kind``."""
    done: list[bool] = []

    def plan(request: httpx.Request) -> object:
        if not done and request.url.path.endswith(kind):
            done.append(True)
            return action
        return None

    return plan
