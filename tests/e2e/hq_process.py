"""A real ``hq serve`` process on 127.0.0.1 with its own SQLite file, seeded with the demo org."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

DEMO_PASSWORD = "demo-pass-2024"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def hq_command() -> list[str]:
    return [sys.executable, "-c", "import sys; from hq.cli import main; sys.exit(main())"]


@dataclass
class HQProcess:
    url: str
    db_url: str
    proc: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def start_hq(workdir: Path, *, customers: int = 20) -> HQProcess:
    workdir.mkdir(parents=True, exist_ok=True)
    db_url = f"sqlite:///{workdir / 'hq.sqlite3'}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    subprocess.run([*hq_command(), "admin", "seed-demo", "--db", db_url, "--customers", str(customers)],
                   check=True, env=env, stdout=subprocess.DEVNULL)
    port = free_port()
    log = workdir / "hq.log"
    proc = subprocess.Popen([*hq_command(), "serve", "--db", db_url, "--port", str(port), "--log-level", "warning"],
                            stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"hq serve exited: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                return HQProcess(url, db_url, proc, log)
        except httpx.TransportError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError(f"hq serve did not start: {log.read_text()[-2000:]}")
