"""Log files and crash reports, in the platform's user log folder (never next to the executable).

:func:`setup_logging` writes ``guide-app.log`` there, rotated at 1 MB with five old files kept, and
mirrors to stderr when there is one (the windowed build on Windows has none). :class:`CrashReporter`
is the last resort for an exception nobody caught, in the main thread (``sys.excepthook``, which
PySide6 also calls for exceptions raised in slots) or another thread (``threading.excepthook``): it
writes ``crash-<time>-<pid>.txt`` with the traceback, then tells its listeners (the GUI shows where
the report is and saves unsaved input). Qt-free: the Qt message handler lives in
``views/crash_dialog.py``.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
import threading
import time
import traceback
from collections.abc import Callable
from logging.handlers import RotatingFileHandler
from pathlib import Path
from types import TracebackType

from platformdirs import user_log_dir

from guide_app import __version__

APP_NAME = "GuideDesk"
LOG_FILE = "guide-app.log"
MAX_BYTES = 1_000_000
BACKUP_COUNT = 5
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

log = logging.getLogger("guide_app.crash")

CrashListener = Callable[[Path, BaseException | None], None]


def default_log_dir() -> Path:
    return Path(user_log_dir(APP_NAME, appauthor=False))


def setup_logging(log_dir: Path, *, level: int = logging.INFO) -> Path:
    """Send the app's log records to a rotating file in ``log_dir`` (and to stderr when present).

    Returns the log file's path. Calling it again replaces the handlers it added before.
    """
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_FILE
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_guide_app", False):
            root.removeHandler(handler)
            handler.close()
    formatter = logging.Formatter(LOG_FORMAT)
    handlers: list[logging.Handler] = [RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT,
                                                           encoding="utf-8")]
    if sys.stderr is not None:  # None in a windowed executable on Windows
        stderr = logging.StreamHandler(sys.stderr)
        stderr.setLevel(logging.INFO)
        handlers.append(stderr)
    for handler in handlers:
        handler.setFormatter(formatter)
        handler._guide_app = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(logging.WARNING)  # libraries: warnings only
    logging.getLogger("guide_app").setLevel(level)
    logging.getLogger("qt").setLevel(level)
    return path


def crash_report_text(exc_type: type[BaseException] | None, exc: BaseException | None,
                      tb: TracebackType | None, *, where: str) -> str:
    frozen = bool(getattr(sys, "frozen", False))
    lines = [
        f"Guide Desk {__version__} crash report",
        f"time: {time.strftime('%Y-%m-%d %H:%M:%S %z')}",
        f"where: {where}",
        f"python: {sys.version.split()[0]} ({'frozen bundle' if frozen else sys.executable})",
        f"platform: {platform.platform()}",
        f"argv: {sys.argv!r}",
        "",
    ]
    if exc_type is not None:
        lines.append("".join(traceback.format_exception(exc_type, exc, tb)).rstrip())
    return "\n".join(lines) + "\n"


class CrashReporter:
    """Writes a crash report for each uncaught exception and notifies the listeners."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.listeners: list[CrashListener] = []
        self.reports: list[Path] = []
        self._previous_sys: Callable[..., object] | None = None
        self._previous_thread: Callable[..., object] | None = None
        self._lock = threading.Lock()

    def write(self, text: str) -> Path:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self._lock:
            stamp = time.strftime("%Y%m%d-%H%M%S")
            path = self.log_dir / f"crash-{stamp}-{os.getpid()}.txt"
            n = 1
            while path.exists():  # two crashes in one second keep both reports
                n += 1
                path = self.log_dir / f"crash-{stamp}-{os.getpid()}-{n}.txt"
            path.write_text(text, encoding="utf-8")
            self.reports.append(path)
        return path

    def report(self, exc_type: type[BaseException], exc: BaseException | None, tb: TracebackType | None,
               *, where: str = "main thread") -> Path:
        path = self.write(crash_report_text(exc_type, exc, tb, where=where))
        log.critical("uncaught %s in %s; crash report: %s", exc_type.__name__, where, path,
                     exc_info=(exc_type, exc, tb) if exc is not None else None)
        self._notify(path, exc)
        return path

    def report_message(self, message: str, *, where: str) -> Path:
        """A fatal error that is not a Python exception (e.g. Qt's qFatal): the message and the
        Python stack at the point it was reported."""
        stack = "".join(traceback.format_stack()[:-1])
        path = self.write(crash_report_text(None, None, None, where=where) + message + "\n\n" + stack)
        log.critical("%s; crash report: %s", message, path)
        self._notify(path, None)
        return path

    def _notify(self, path: Path, exc: BaseException | None) -> None:
        for listener in list(self.listeners):
            try:
                listener(path, exc)
            except Exception:  # a failing listener must not hide the report or the other listeners
                log.exception("crash listener failed")

    def _sys_hook(self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt | SystemExit):
            sys.__excepthook__(exc_type, exc, tb)
            return
        self.report(exc_type, exc, tb)

    def _thread_hook(self, args: threading.ExceptHookArgs) -> None:
        if args.exc_type is SystemExit:
            return
        name = args.thread.name if args.thread is not None else "unknown"
        self.report(args.exc_type, args.exc_value, args.exc_traceback, where=f"thread {name}")

    def install(self) -> None:
        self._previous_sys = sys.excepthook
        self._previous_thread = threading.excepthook
        sys.excepthook = self._sys_hook
        threading.excepthook = self._thread_hook

    def uninstall(self) -> None:
        if self._previous_sys is not None:
            sys.excepthook = self._previous_sys  # type: ignore[assignment]
        if self._previous_thread is not None:
            threading.excepthook = self._previous_thread  # type: ignore[assignment]
        self._previous_sys = self._previous_thread = None
