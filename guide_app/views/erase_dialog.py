"""Erase a customer's personal data on their request (managers): says what happens, asks for the
reason and for the word 删除 / ERASE typed to confirm, since it cannot be undone."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from guide_app.i18n import tr
from guide_app.services.erase import REASON_MAX, EraseService
from guide_app.tasks import TaskControl
from guide_app.views.app_services import AppServices
from guide_app.views.form_dialog import error_label, ok_cancel, stack
from guide_app.views.formatting import error_text


class EraseDialog(QDialog):
    erased = Signal(str)

    def __init__(self, services: AppServices, customer_id: str, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.customer_id = customer_id
        self.setWindowTitle(tr("security.erase_ui.title"))
        self.setMinimumWidth(460)
        text = QLabel(tr("security.erase_ui.explain", name=name))
        text.setWordWrap(True)
        self.reason = QLineEdit()
        self.reason.setMaxLength(REASON_MAX)
        self.reason.setPlaceholderText(tr("security.erase_ui.reason_placeholder"))
        self.confirm = QLineEdit()
        self.confirm.setPlaceholderText(tr("security.erase_ui.confirm_word"))
        form = QFormLayout()
        form.addRow(tr("security.erase_ui.reason"), self.reason)
        form.addRow(tr("security.erase_ui.confirm", word=tr("security.erase_ui.confirm_word")), self.confirm)
        self.error = error_label()
        self.buttons = ok_cancel(tr("security.erase_ui.do_erase"), tr("ui.cancel"), self.submit, self.reject,
                                 emphasis="danger")
        ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setEnabled(False)
        self.confirm.textChanged.connect(
            lambda t: ok.setEnabled(t.strip() == tr("security.erase_ui.confirm_word")))
        stack(self, text, form, self.error, self.buttons)

    def submit(self) -> None:
        reason = self.reason.text()
        self.buttons.setEnabled(False)
        service = EraseService(self.services.ctx)

        def work(_: TaskControl) -> None:
            service.erase(self.customer_id, reason)

        def failed(exc: BaseException) -> None:
            self.buttons.setEnabled(True)
            self.error.setText(error_text(exc))

        def done(_: object) -> None:
            self.erased.emit(self.customer_id)
            self.accept()

        self.services.runner.run_db(work, on_done=done, on_error=failed, owner=self)
