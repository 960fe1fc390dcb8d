"""Log files rotate in the log folder; an uncaught exception in the main thread or another thread
leaves a crash report with its traceback and reaches the listeners."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from guide_app.logs import BACKUP_COUNT, LOG_FILE, CrashReporter, setup_logging


@pytest.fixture()
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)


def test_log_file_rotates(tmp_path: Path, restore_logging: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("guide_app.logs.MAX_BYTES", 2000)
    path = setup_logging(tmp_path / "logs")
    assert path == tmp_path / "logs" / LOG_FILE
    log = logging.getLogger("guide_app.test")
    for i in range(200):
        log.info("line %d %s", i, "x" * 50)
    files = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert LOG_FILE in files and f"{LOG_FILE}.1" in files
    assert len(files) == 1 + BACKUP_COUNT  # older ones are dropped
    assert "line 199" in path.read_text(encoding="utf-8")
    # a second setup replaces its handlers instead of doubling every line
    setup_logging(tmp_path / "logs")
    assert sum(getattr(h, "_guide_app", False) for h in logging.getLogger().handlers) == 2


def _raise(message: str) -> None:
    raise ValueError(message)


def test_uncaught_exceptions_write_crash_reports(tmp_path: Path) -> None:
    reporter = CrashReporter(tmp_path / "logs")
    seen: list[tuple[Path, BaseException | None]] = []
    reporter.listeners.append(lambda path, exc: seen.append((path, exc)))
    reporter.install()
    try:
        try:
            _raise("boom in main")
        except ValueError:
            sys.excepthook(*sys.exc_info())  # what the interpreter does with an uncaught exception
        thread = threading.Thread(target=_raise, args=("boom in worker",), name="worker-1")
        thread.start()
        thread.join()
    finally:
        reporter.uninstall()
    assert sys.excepthook is sys.__excepthook__ or sys.excepthook is not reporter._sys_hook
    assert len(reporter.reports) == 2 and len(seen) == 2
    main_text = reporter.reports[0].read_text(encoding="utf-8")
    assert "ValueError: boom in main" in main_text and "_raise" in main_text and "where: main thread" in main_text
    worker_text = reporter.reports[1].read_text(encoding="utf-8")
    assert "boom in worker" in worker_text and "thread worker-1" in worker_text
    assert all(p.parent == tmp_path / "logs" and p.name.startswith("crash-") for p in reporter.reports)


def test_a_failing_listener_does_not_lose_the_report(tmp_path: Path) -> None:
    reporter = CrashReporter(tmp_path)
    calls: list[Path] = []

    def broken(path: Path, exc: BaseException | None) -> None:
        raise RuntimeError("listener broke")

    reporter.listeners += [broken, lambda path, exc: calls.append(path)]
    path = reporter.report_message("Qt fatal: test", where="Qt")
    assert calls == [path]
    assert "Qt fatal: test" in path.read_text(encoding="utf-8")
