"""A throwaway PostgreSQL for tests: ``initdb`` in a temp dir as the ``postgres`` OS user (PostgreSQL
refuses to run as root), ``pg_ctl start`` on a free 127.0.0.1 port with its socket in the temp dir.

Missing binaries are an error, not a skip: CI has them, and a silently skipped PostgreSQL variant
would hide exactly the bugs (row locks, commit order) it is there to catch.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SEARCH_DIRS = ["/usr/local/bin", "/usr/local/pgsql/bin", *sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
OS_USER = "postgres"


class PostgresUnavailable(RuntimeError):
    pass


def find_binary(name: str) -> str:
    for folder in SEARCH_DIRS:
        candidate = Path(folder) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    raise PostgresUnavailable(
        f"PostgreSQL binary {name!r} not found in {', '.join(SEARCH_DIRS)} or PATH; "
        "install PostgreSQL (initdb, pg_ctl, postgres) to run the PostgreSQL variants of the HQ tests"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ensure_os_user() -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(OS_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OS_USER],
                       check=True, capture_output=True)
        return pwd.getpwnam(OS_USER)


def _demote(user: pwd.struct_passwd | None) -> Callable[[], None] | None:
    if user is None:
        return None

    def run() -> None:
        os.setgid(user.pw_gid)
        os.initgroups(user.pw_name, user.pw_gid)
        os.setuid(user.pw_uid)

    return run


@dataclass
class PostgresServer:
    root: Path
    port: int
    user: pwd.struct_passwd | None
    _dbs: list[str] = field(default_factory=list)

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "sock"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"}
        return subprocess.run(args, preexec_fn=_demote(self.user), env=env, capture_output=True, text=True,
                              cwd=self.root, check=False)

    def start(self) -> None:
        initdb, pg_ctl = find_binary("initdb"), find_binary("pg_ctl")
        self.data.mkdir()
        self.socket_dir.mkdir()
        if self.user is not None:
            for path in (self.root, self.data, self.socket_dir):
                os.chown(path, self.user.pw_uid, self.user.pw_gid)
        done = self._run([initdb, "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                          "--locale=C", "--no-sync"])
        if done.returncode:
            raise PostgresUnavailable(f"initdb failed:\n{done.stdout}\n{done.stderr}")
        options = (f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=100")
        done = self._run([pg_ctl, "-D", str(self.data), "-o", options, "-l", str(self.root / "server.log"),
                          "-w", "-t", "60", "start"])
        if done.returncode:
            log = (self.root / "server.log").read_text(errors="replace") if (self.root / "server.log").exists() else ""
            raise PostgresUnavailable(f"pg_ctl start failed:\n{done.stdout}\n{done.stderr}\n{log}")

    def create_database(self, name: str) -> str:
        import psycopg

        with psycopg.connect(f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres",
                             autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        self._dbs.append(name)
        return self.url(name)

    def stop(self) -> None:
        try:
            self._run([find_binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"])
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer:
    find_binary("initdb")  # fail fast with the clear message
    user = _ensure_os_user() if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="guide-pg-"))
    os.chmod(root, 0o755)
    server = PostgresServer(root=root, port=free_port(), user=user)
    for attempt in range(3):
        try:
            server.start()
            return server
        except PostgresUnavailable:
            if attempt == 2:
                shutil.rmtree(root, ignore_errors=True)
                raise
            shutil.rmtree(server.data, ignore_errors=True)
            shutil.rmtree(server.socket_dir, ignore_errors=True)
            server.port = free_port()  # the port may have been taken meanwhile
            time.sleep(0.2)
    raise AssertionError("unreachable")
