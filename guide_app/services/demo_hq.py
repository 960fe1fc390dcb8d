"""The demo's own HQ: ``hq serve`` as a child process on 127.0.0.1 (a free port), with its database
in the demo data folder, seeded once with ``hq admin seed-demo`` (the org, a book per store and one
running campaign pack). The demo PC signs in to it like a real counter PC does, so ``make demo``
shows sync and campaigns working end to end without any setup.

It is a separate process, not a thread in the app: the HQ is a different program with its own
database, and stopping the demo stops it.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

log = logging.getLogger(__name__)

# the demo org that ``hq admin seed-demo`` creates (see hq/demo.py)
DEMO_PASSWORD = "demo-pass-2024"
DEMO_GUIDE = "sh01.guide1"
DEMO_MANAGER = "sh01.manager"
SEEDED_MARKER = "seeded"
# the day the demo campaign was last checked; a week later ``hq admin seed-demo-campaign`` runs again
# (it publishes a new version only once the running one's window has passed, and covers folders
# seeded before the demo had a campaign)
CAMPAIGN_MARKER = "campaign-checked"
CAMPAIGN_CHECK_DAYS = 7
START_TIMEOUT_S = 30.0


class DemoHQError(RuntimeError):
    """The demo HQ could not be seeded or started (the message says why, with the log's tail)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _reuse_port(path: Path) -> int:
    """The demo PC remembers its HQ address: serve on last run's port when it is still free."""
    try:
        port = int(path.read_text(encoding="utf-8").strip())
        with socket.socket() as s:
            s.bind(("127.0.0.1", port))
    except (OSError, ValueError):
        port = _free_port()
        path.write_text(str(port), encoding="utf-8")
    return port


def _campaign_check_due(marker: Path) -> bool:
    try:
        checked = dt.date.fromisoformat(marker.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return True
    return (dt.date.today() - checked).days >= CAMPAIGN_CHECK_DAYS


def _hq_command() -> list[str]:
    return [sys.executable, "-c", "import sys; from hq.cli import main; sys.exit(main())"]


@dataclass
class EmbeddedHQ:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @classmethod
    def start(cls, folder: Path, *, customers: int = 300) -> EmbeddedHQ:
        folder.mkdir(parents=True, exist_ok=True)
        db_url = f"sqlite:///{(folder / 'hq.sqlite3').resolve()}"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        log_path = folder / "hq.log"
        if not (folder / SEEDED_MARKER).exists():
            done = subprocess.run([*_hq_command(), "admin", "seed-demo", "--db", db_url, "--customers", str(customers)],
                                  env=env, capture_output=True, text=True)
            if done.returncode != 0:
                raise DemoHQError(f"hq admin seed-demo failed: {done.stderr[-1500:]}")
            (folder / SEEDED_MARKER).write_text(done.stdout, encoding="utf-8")
            (folder / CAMPAIGN_MARKER).write_text(dt.date.today().isoformat(), encoding="utf-8")
            log.info("demo HQ seeded:\n%s", done.stdout.strip())
        elif _campaign_check_due(folder / CAMPAIGN_MARKER):
            done = subprocess.run([*_hq_command(), "admin", "seed-demo-campaign", "--db", db_url],
                                  env=env, capture_output=True, text=True)
            if done.returncode == 0:  # without it the demo still runs, only its campaign page is older
                (folder / CAMPAIGN_MARKER).write_text(dt.date.today().isoformat(), encoding="utf-8")
                log.info("demo campaign: %s", done.stdout.strip())
            else:
                log.warning("hq admin seed-demo-campaign failed: %s", done.stderr[-1500:])
        port = _reuse_port(folder / "port")
        with log_path.open("ab") as out:
            process = subprocess.Popen(
                [*_hq_command(), "serve", "--db", db_url, "--host", "127.0.0.1", "--port", str(port),
                 "--log-level", "warning"],
                stdout=out, stderr=subprocess.STDOUT, env=env)
        hq = cls(f"http://127.0.0.1:{port}", process, log_path)
        atexit.register(hq.stop)  # also when the app leaves by an unexpected error
        hq._wait_ready()
        log.info("demo HQ serving at %s (log: %s)", hq.url, log_path)
        return hq

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise DemoHQError(f"hq serve exited: {self._log_tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        self.stop()
        raise DemoHQError(f"hq serve did not answer within {START_TIMEOUT_S:.0f} s: {self._log_tail()}")

    def _log_tail(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-1500:]
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
