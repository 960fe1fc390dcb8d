"""What the guide sees when the app crashes: unsaved input is saved as drafts first, then a message
in the UI language says where the crash report is, with buttons to open that folder, carry on, or
quit. Also routes Qt's own messages into the log (a qFatal writes a crash report before Qt aborts).

Reports from other threads reach the dialog through a queued signal, so widgets are only touched on
the GUI thread.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QMessageLogContext, QObject, QtMsgType, QUrl, Signal, qInstallMessageHandler
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox

from guide_app.i18n import tr
from guide_app.logs import CrashReporter
from guide_app.views.drafts import save_open_drafts

qt_log = logging.getLogger("qt")
EXIT_AFTER_CRASH = 70  # EX_SOFTWARE

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
}


def crash_text(report: Path, drafts: int) -> str:
    text = tr("ui.crash.text", path=str(report))
    if drafts:
        text += "\n\n" + tr("ui.crash.drafts_saved", count=drafts)
    return text


class CrashDialogs(QObject):
    """Listens to a :class:`CrashReporter` and shows one message box at a time."""

    crashed = Signal(str)  # the report's path; queued to the GUI thread

    def __init__(self, app: QApplication, reporter: CrashReporter,
                 save_drafts: Callable[[], int] = save_open_drafts) -> None:
        super().__init__(app)
        self.app = app
        self.reporter = reporter
        self.save_drafts = save_drafts
        self.box: QMessageBox | None = None
        self.crashed.connect(self.show_report)
        reporter.listeners.append(self._on_crash)

    def _on_crash(self, path: Path, _exc: BaseException | None) -> None:
        self.crashed.emit(str(path))  # direct on the GUI thread, queued from any other

    def show_report(self, path: str) -> None:
        if self.box is not None and self.box.isVisible():
            return  # a crash while the message is up is in the log and its own report file
        try:
            drafts = self.save_drafts()
        except Exception:
            qt_log.exception("saving drafts after a crash failed")
            drafts = 0
        box = QMessageBox(QMessageBox.Icon.Critical, tr("ui.crash.title"), crash_text(Path(path), drafts))
        box.setObjectName("crashDialog")
        self.open_folder = box.addButton(tr("ui.crash.open_folder"), QMessageBox.ButtonRole.ActionRole)
        self.keep_going = box.addButton(tr("ui.crash.continue"), QMessageBox.ButtonRole.AcceptRole)
        self.quit_button = box.addButton(tr("ui.crash.quit"), QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(self.keep_going)
        box.buttonClicked.connect(lambda button: self._clicked(button, Path(path)))
        self.box = box
        box.open()

    def _clicked(self, button: object, path: Path) -> None:
        if button is self.open_folder:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))
        elif button is self.quit_button:
            self.app.exit(EXIT_AFTER_CRASH)


def show_startup_crash(report: Path) -> None:
    """A crash before the main window exists (e.g. a damaged database file): the same message, modal,
    with the report's folder one click away."""
    app = QApplication.instance() or QApplication(["guide-app"])
    assert isinstance(app, QApplication)
    box = QMessageBox(QMessageBox.Icon.Critical, tr("ui.crash.title"), crash_text(report, 0))
    box.setObjectName("crashDialog")
    open_folder = box.addButton(tr("ui.crash.open_folder"), QMessageBox.ButtonRole.ActionRole)
    box.addButton(tr("ui.crash.quit"), QMessageBox.ButtonRole.RejectRole)
    box.exec()
    if box.clickedButton() is open_folder:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(report.parent)))


def install_qt_message_handler(reporter: CrashReporter) -> object:
    """Qt's warnings go to the log (and the log file); a fatal message leaves a crash report.
    Returns the handler it replaced."""

    def handler(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
        if kind == QtMsgType.QtFatalMsg:
            reporter.report_message(f"Qt fatal: {message} ({context.file}:{context.line})", where="Qt")
            return
        qt_log.log(_QT_LEVELS.get(kind, logging.WARNING), "%s", message)

    return qInstallMessageHandler(handler)
