"""The lock screen that covers the main window, and the idle watcher that brings it up.

While locked the window's content is hidden (not just covered), open dialogs are closed, and the
only thing on screen is the person picker and the PIN / password field. Unlocking as someone else
is the quick switch of the signed-in guide.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from guide_app.domain.pins import PIN_MAX
from guide_app.i18n import tr
from guide_app.services.accounts import PcUser

_ACTIVITY = frozenset({QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
                       QEvent.Type.Wheel, QEvent.Type.TouchBegin})


class IdleWatcher(QObject):
    """Emits :attr:`idle` once no key, mouse or touch input reached the app for ``interval_ms``."""

    idle = Signal()

    def __init__(self, interval_ms: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.idle)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        self.timer.start()

    def set_interval(self, interval_ms: int) -> None:
        self.timer.setInterval(interval_ms)
        self.timer.start()

    def pause(self) -> None:
        self.timer.stop()

    def resume(self) -> None:
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY and self.timer.isActive():
            self.timer.start()  # restart: input means someone is at the counter
        return False


class LockScreen(QWidget):
    """Covers its parent window. Emits ``unlock_requested(guide_id, secret)``; the controller checks
    it on the DB thread and calls :meth:`failed` or hides the screen."""

    unlock_requested = Signal(str, str)
    sign_in_requested = Signal()
    add_guide_requested = Signal()

    def __init__(self, parent: QWidget, *, can_sign_in: bool) -> None:
        super().__init__(parent)
        self.setObjectName("lockScreen")
        self.setAutoFillBackground(True)
        self._by_password: dict[str, bool] = {}
        self.listed: list[PcUser] = []
        title = QLabel(tr("security.ui.locked_title"))
        title.setObjectName("pageTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint = QLabel(tr("security.ui.locked_hint"))
        hint.setObjectName("muted")
        hint.setWordWrap(True)
        hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.people = QComboBox()
        self.people.currentIndexChanged.connect(self._person_changed)
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.returnPressed.connect(self.submit)
        self.unlock_button = QPushButton(tr("security.ui.unlock"))
        self.unlock_button.setProperty("primary", True)
        self.unlock_button.clicked.connect(self.submit)
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.sign_in_button = QPushButton(tr("security.ui.sign_in_other"))
        self.sign_in_button.setFlat(True)
        self.sign_in_button.setVisible(can_sign_in)
        self.sign_in_button.clicked.connect(self.sign_in_requested)
        self.add_guide_button = QPushButton(tr("security.ui.add_guide"))
        self.add_guide_button.setFlat(True)
        self.add_guide_button.setVisible(not can_sign_in)  # no HQ to create accounts: the manager approves
        self.add_guide_button.clicked.connect(self.add_guide_requested)
        box = QWidget()
        box.setFixedWidth(340)
        col = QVBoxLayout(box)
        col.addWidget(title)
        col.addWidget(hint)
        col.addSpacing(12)
        col.addWidget(QLabel(tr("security.ui.who")))
        col.addWidget(self.people)
        col.addWidget(self.secret)
        col.addWidget(self.unlock_button)
        col.addWidget(self.error)
        col.addWidget(self.sign_in_button)
        col.addWidget(self.add_guide_button)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(box, 0, Qt.AlignmentFlag.AlignVCenter)
        outer.addStretch(1)
        parent.installEventFilter(self)
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parent() and event.type() == QEvent.Type.Resize:
            self._cover()
        return False

    def _cover(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())

    def set_people(self, people: list[PcUser], current_id: str) -> None:
        self.listed = list(people)
        self.people.blockSignals(True)
        self.people.clear()
        self._by_password = {}
        for p in people:
            self.people.addItem(p.name or tr("security.ui.unnamed"), p.guide_id)
            self._by_password[p.guide_id] = p.uses_password
        self.people.setCurrentIndex(max(0, self.people.findData(current_id)))
        self.people.blockSignals(False)
        self._person_changed()

    def _person_changed(self) -> None:
        manager = self.uses_password_for(self.current_guide_id())
        self.secret.clear()
        self.secret.setMaxLength(256 if manager else PIN_MAX)
        self.secret.setPlaceholderText(tr("security.ui.password") if manager else tr("security.ui.pin"))
        self.error.clear()

    def uses_password_for(self, guide_id: str) -> bool:
        return self._by_password.get(guide_id, False)

    def current_guide_id(self) -> str:
        return str(self.people.currentData() or "")

    def show_locked(self) -> None:
        self._cover()
        self.show()
        self.raise_()
        self.unlock_button.setEnabled(True)
        self.secret.setFocus()

    def submit(self) -> None:
        self.unlock_button.setEnabled(False)
        self.error.setText(tr("security.ui.checking"))
        self.unlock_requested.emit(self.current_guide_id(), self.secret.text())

    def failed(self, text: str) -> None:
        self.unlock_button.setEnabled(True)
        self.error.setText(text)
        self.secret.clear()
        self.secret.setFocus()
