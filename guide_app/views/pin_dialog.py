"""Set or change the signed-in guide's PIN on this PC (entered twice, digits only, never shown)."""

from __future__ import annotations

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QLineEdit, QWidget

from guide_app.domain.pins import PIN_MAX, PIN_MIN
from guide_app.i18n import tr
from guide_app.services.accounts import AccountService
from guide_app.tasks import TaskControl, TaskRunner
from guide_app.views.form_dialog import error_label, ok_cancel, stack
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
        self.error = error_label()
        self.buttons = ok_cancel(tr("security.ui.save_pin"), tr("ui.cancel"), self.submit, self.reject)
        stack(self, intro, form, self.error, self.buttons)
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
