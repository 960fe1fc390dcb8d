"""PySide6 6.12.0 drops a reference to None on each call of a static void function. On Python 3.11
(None is not immortal there) a counter PC that runs all day, or this test suite, then aborts with
"Fatal Python error: deallocating None". pyproject.toml keeps such a build out; this catches it."""

from __future__ import annotations

import sys

from PySide6.QtCore import QCoreApplication, QThread
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

CALLS = 2000


def test_static_calls_keep_the_reference_count_of_none(qtbot: QtBot) -> None:
    for name, call in (("QCoreApplication.processEvents", QCoreApplication.processEvents),
                       ("QThread.msleep", lambda: QThread.msleep(0)),
                       ("QApplication.restoreOverrideCursor", QApplication.restoreOverrideCursor)):
        before = sys.getrefcount(None)
        for _ in range(CALLS):
            call()
        lost = before - sys.getrefcount(None)
        assert lost < CALLS // 2, f"{name} dropped {lost} references to None in {CALLS} calls"
