"""Headless Chromium (Debian's ``chromium`` package) driven over the DevTools protocol, for tests that
must see a page the way a phone's browser does: load it, fill and submit its form, take a screenshot."""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import websocket

from tests.pg import free_port

# WeChat's in-app browser on an iPhone: the page must work there
WECHAT_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN")
PHONE_VIEWPORT = (390, 844)


def chromium_or_fail(name: str = "chromium", fallback: str = "/usr/bin/chromium") -> str:
    """The chromium binary; missing it fails under CI (CI=true) and skips on a developer's box."""
    path = shutil.which(name) or (fallback if Path(fallback).exists() else None)
    if path is None:
        message = "chromium not found: apt-get install chromium (Debian's package) to run the browser test"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return path


class Browser:
    def __init__(self, binary: str, user_data_dir: Path, *, viewport: tuple[int, int] = PHONE_VIEWPORT) -> None:
        port = free_port()
        self.log = user_data_dir / "chromium.log"
        self._log = self.log.open("wb")
        self.proc = subprocess.Popen(
            [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-dev-shm-usage", f"--user-data-dir={user_data_dir}", f"--remote-debugging-port={port}",
             "--remote-allow-origins=*", f"--window-size={viewport[0]},{viewport[1]}", "about:blank"],
            stdout=self._log, stderr=subprocess.STDOUT,
        )
        self._ids = itertools.count(1)
        self._events: list[dict[str, Any]] = []
        try:
            self.ws = websocket.create_connection(self._page_target(port), timeout=30)
            self.call("Page.enable")
            self.call("Emulation.setUserAgentOverride", userAgent=WECHAT_UA, acceptLanguage="zh-CN,zh")
            self.call("Emulation.setDeviceMetricsOverride", width=viewport[0], height=viewport[1],
                      deviceScaleFactor=2, mobile=True)
        except BaseException:
            self.close()
            raise

    def _page_target(self, port: int) -> str:
        deadline = time.monotonic() + 30
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited with {self.proc.returncode}: {self.log.read_text(errors='replace')}")
            try:
                targets = httpx.get(f"http://127.0.0.1:{port}/json/list", timeout=2).json()
                pages = [t for t in targets if t.get("type") == "page"]
                if pages:
                    return str(pages[0]["webSocketDebuggerUrl"])
            except (httpx.HTTPError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("chromium's DevTools endpoint did not answer in 30 s")
            time.sleep(0.1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        msg_id = next(self._ids)
        self.ws.send(json.dumps({"id": msg_id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == msg_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                result: dict[str, Any] = msg.get("result", {})
                return result
            if "method" in msg:
                self._events.append(msg)

    def wait_for(self, event: str, timeout: float = 30) -> dict[str, Any]:
        for i, msg in enumerate(self._events):
            if msg["method"] == event:
                del self._events[: i + 1]
                return msg
        self.ws.settimeout(timeout)
        try:
            while True:
                msg = json.loads(self.ws.recv())
                if msg.get("method") == event:
                    self._events.clear()
                    return msg
        finally:
            self.ws.settimeout(30)

    def open(self, url: str) -> None:
        self._events.clear()
        self.call("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired")

    def evaluate(self, expression: str) -> Any:
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def submit_and_wait(self, form_selector: str = "form") -> None:
        """Submit through the form's own button, as a tap would, and wait for the next page."""
        self._events.clear()
        self.evaluate(f"document.querySelector({json.dumps(form_selector)}).requestSubmit()")
        self.wait_for("Page.loadEventFired")

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png", captureBeyondViewport=False)["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        ws = getattr(self, "ws", None)
        if ws is not None:
            ws.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
