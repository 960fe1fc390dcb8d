"""The frozen bundle, built once per test session with PyInstaller (build.spec) when dist/guide-app is
missing or older than any source it is made from.

The build starts in the background as soon as collection finishes (most of the suite waits on
processes and sockets, so the build's two minutes mostly overlap with other tests); the ``bundle``
fixture waits for it. A file lock keeps two test runs from building into the same folder at once.
"""

from __future__ import annotations

import fcntl
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
DIST = ROOT / "dist" / "guide-app"
CONSOLE = DIST / "guide-app-console"
WINDOWED = DIST / "guide-app"
BUILD_LOG = ROOT / "build" / "bundle-build.log"
BUILD_TIMEOUT_S = 600

_build: dict[str, Any] = {}


def newest_source() -> float:
    files = [ROOT / "build.spec", ROOT / "pyproject.toml"]
    files += [p for p in (ROOT / "guide_app").rglob("*") if p.suffix in (".py", ".mako")]
    files += [p for p in (ROOT / "resources").rglob("*") if p.is_file()]
    return max(p.stat().st_mtime for p in files if p.exists())


def stale() -> bool:
    return not CONSOLE.exists() or CONSOLE.stat().st_mtime < newest_source()


def _start_build() -> None:
    """Take the lock and, when the bundle is stale, start PyInstaller without waiting for it."""
    if _build:
        return
    (ROOT / "build").mkdir(exist_ok=True)
    lock: IO[str] = open(ROOT / "build" / ".bundle.lock", "w")  # held until the build ends
    fcntl.flock(lock, fcntl.LOCK_EX)
    _build["lock"] = lock
    if not stale():
        return
    log: IO[str] = open(BUILD_LOG, "w")  # the child writes to it
    _build["log"] = log
    _build["started"] = time.monotonic()
    _build["proc"] = subprocess.Popen(
        [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
         "--distpath", str(ROOT / "dist"), "--workpath", str(ROOT / "build"), str(ROOT / "build.spec")],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def _finish_build() -> None:
    proc: subprocess.Popen[bytes] | None = _build.get("proc")
    try:
        if proc is not None:
            waited = time.monotonic()
            try:
                code = proc.wait(timeout=BUILD_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
            _build["log"].close()
            assert code == 0, BUILD_LOG.read_text(encoding="utf-8", errors="replace")[-4000:]
            now = time.monotonic()
            print(f"bundle built in {now - _build['started']:.0f} s (waited {now - waited:.0f} s for it)")
    finally:
        _build.pop("proc", None)
        lock = _build.pop("lock", None)
        if lock is not None:
            fcntl.flock(lock, fcntl.LOCK_UN)
            lock.close()


def pytest_collection_finish(session: pytest.Session) -> None:
    if any(HERE in Path(str(item.path)).parents for item in session.items):
        _start_build()


@pytest.fixture(scope="session")
def bundle() -> Path:
    _start_build()  # no-op when collection already started it
    _finish_build()
    assert CONSOLE.is_file() and WINDOWED.is_file()
    return DIST
