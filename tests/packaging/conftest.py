"""The frozen bundle, built once per test session with PyInstaller (build.spec) when dist/guide-app is
missing or older than any source it is made from; a file lock keeps two test runs from building into
the same folder at once."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "dist" / "guide-app"
CONSOLE = DIST / "guide-app-console"
WINDOWED = DIST / "guide-app"
BUILD_TIMEOUT_S = 600


def newest_source() -> float:
    files = [ROOT / "build.spec", ROOT / "pyproject.toml"]
    files += [p for p in (ROOT / "guide_app").rglob("*") if p.suffix in (".py", ".mako")]
    files += [p for p in (ROOT / "resources").rglob("*") if p.is_file()]
    return max(p.stat().st_mtime for p in files if p.exists())


def stale() -> bool:
    return not CONSOLE.exists() or CONSOLE.stat().st_mtime < newest_source()


@pytest.fixture(scope="session")
def bundle() -> Path:
    (ROOT / "build").mkdir(exist_ok=True)
    with open(ROOT / "build" / ".bundle.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stale():
            started = time.monotonic()
            done = subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                                   "--distpath", str(ROOT / "dist"), "--workpath", str(ROOT / "build"),
                                   str(ROOT / "build.spec")],
                                  cwd=ROOT, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
            assert done.returncode == 0, done.stderr[-4000:]
            print(f"bundle built in {time.monotonic() - started:.0f} s")
    assert CONSOLE.is_file() and WINDOWED.is_file()
    return DIST
