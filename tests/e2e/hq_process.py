"""What the sync tests and the sync benchmark share about a real HQ process: the demo password,
a free port, the command that runs ``hq``, and the address/database of a running server (started
through ``tests.hq_fixtures.start_hq_server``)."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hq.demo import DEMO_PASSWORD

__all__ = ["DEMO_PASSWORD", "HQProcess", "free_port", "hq_command", "running_hq"]


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
    proc: Any = None
    log: Path | None = None

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(15)


@contextmanager
def running_hq(workdir: Path, *, customers: int = 20) -> Iterator[HQProcess]:
    """``hq serve`` on 127.0.0.1 over a SQLite file in ``workdir`` seeded with the demo org."""
    from tests.hq_fixtures import seed_demo_db, start_hq_server

    db_url = f"sqlite:///{workdir / 'hq.sqlite3'}"
    demo = seed_demo_db(db_url, customers_per_store=customers)
    with start_hq_server(db_url, demo=demo) as server:
        yield HQProcess(server.base_url, server.db_url)
