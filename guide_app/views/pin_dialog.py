"""Set or change the signed-in guide's PIN on this PC (entered twice, digits only, never shown)."""

from __future__ import annotations

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from guide_app.domain.pins import PIN_MAX, PIN_MIN
from guide_app.i18n import tr
from guide_app.services.accounts import AccountService
from guide_app.tasks import TaskControl, TaskRunner
from guide_app.views.formatting import error_text


def pin_field() -> QLineEdit:
    field = QLineEdit()
    field.setEchoMode(QLineEdit.EchoMode.Password)
    field.setMaxLength(PIN_MAX)
    field.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d*")))
    field.setPlaceholderText(tr("security.ui.pin_placeholder", min=PIN_MIN, max=PIN_MAX))
    return field


class SetPinDialog(QDialog):
    def __init__(self, accounts: AccountService, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.accounts = accounts
        self.runner = runner
        self.setWindowTitle(tr("security.ui.set_pin_title"))
        self.setMinimumWidth(380)
        intro = QLabel(tr("security.ui.set_pin_intro", name=accounts.ctx.actor.name))
        intro.setWordWrap(True)
        self.pin = pin_field()
        self.confirm = pin_field()
        form = QFormLayout()
        form.addRow(tr("security.ui.pin"), self.pin)
        form.addRow(tr("security.ui.pin_again"), self.confirm)
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(tr("security.ui.save_pin"))
        ok.setProperty("primary", True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("ui.cancel"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.pin.setFocus()

    def submit(self) -> None:
        pin, confirm = self.pin.text(), self.confirm.text()
        self.buttons.setEnabled(False)

        def work(_: TaskControl) -> None:
            self.accounts.set_pin(pin, confirm)

        def failed(exc: BaseException) -> None:
            self.buttons.setEnabled(True)
            self.error.setText(error_text(exc))
            self.confirm.clear()

        self.runner.run_db(work, on_done=lambda _: self.accept(), on_error=failed, owner=self)
