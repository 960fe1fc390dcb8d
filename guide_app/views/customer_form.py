"""New / edit customer form. Validation happens in the service (one set of rules for the form,
import and sync); its UserError comes back here and is shown inline, next to the field, in the UI
language. A duplicate phone offers to open the customer who already has it."""

from __future__ import annotations

from dataclasses import asdict, fields
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from guide_app.domain.acquisition import edited_source, shown_source
from guide_app.domain.entities import GENDERS, MANUAL_STAGES
from guide_app.domain.errors import UserError
from guide_app.domain.phones import mask_phone
from guide_app.i18n import tr
from guide_app.services.customers import CustomerInput
from guide_app.services.import_values import parse_birthday
from guide_app.tasks import TaskControl
from guide_app.views.app_services import AppServices
from guide_app.views.drafts import DraftBar, draft_key
from guide_app.views.formatting import error_text

# which input an error belongs to (the rest show under the form)
_ERROR_FIELD = {
    "customer.name_required": "name",
    "customer.bad_birthday": "birthday",
    "customer.bad_gender": "gender",
    "customer.bad_stage": "stage",
}


def error_field(exc: UserError) -> str:
    if exc.key.startswith("phone."):
        return "phone"
    if exc.key == "customer.field_too_long":
        return str(exc.params.get("field", ""))
    return _ERROR_FIELD.get(exc.key, "")


def typed_day(text: str) -> str:
    """A date as people type it (1990/5/20, 1990.5.20, 1990年5月20日) in the stored form, the same
    way an import reads it; anything else is left for the service to refuse with its message."""
    if not text.strip() or text.strip().isdigit():
        return text
    try:
        return parse_birthday(text)
    except UserError:
        return text


class CustomerFormDialog(QDialog):
    saved = Signal(str)  # customer id
    open_existing = Signal(str)  # the customer who already has the typed phone

    def __init__(self, services: AppServices, customer_id: str | None = None,
                 initial: CustomerInput | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.customer_id = customer_id
        self.setWindowTitle(tr("ui.form.edit_title") if customer_id else tr("ui.form.new_title"))
        self.setMinimumSize(540, 640)  # room for the inline error lines

        self.name = QLineEdit()
        self.phone = QLineEdit()
        self.phone.setPlaceholderText(tr("ui.form.phone_placeholder"))
        self.wechat_id = QLineEdit()
        self.gender = QComboBox()
        for g in GENDERS:
            self.gender.addItem(tr(f"gender.{g}"), g)
        self.birthday = QLineEdit()
        self.birthday.setPlaceholderText(tr("ui.form.birthday_placeholder"))
        self.source = QLineEdit()
        self.stage = QComboBox()
        for s in MANUAL_STAGES:
            self.stage.addItem(tr(f"stage.{s}") if s else tr("ui.form.stage_auto"), s)
        self.preferences = QLineEdit()
        self.sizes = QLineEdit()
        self.notes = QPlainTextEdit()
        self.notes.setFixedHeight(72)
        self.notes.setTabChangesFocus(True)

        self.inputs: dict[str, QWidget] = {
            "name": self.name, "phone": self.phone, "wechat_id": self.wechat_id, "gender": self.gender,
            "birthday": self.birthday, "source": self.source, "stage": self.stage,
            "preferences": self.preferences, "sizes": self.sizes, "notes": self.notes,
        }
        self.field_errors: dict[str, QLabel] = {}
        form = QFormLayout()
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(6)
        for name, widget in self.inputs.items():
            label = tr(f"field.{name}") + ("  *" if name == "name" else "")
            holder = QWidget()
            col = QVBoxLayout(holder)
            col.setContentsMargins(0, 0, 0, 0)
            col.setSpacing(2)
            col.addWidget(widget)
            err = QLabel()
            err.setObjectName("fieldError")
            err.setWordWrap(True)
            err.hide()
            col.addWidget(err)
            self.field_errors[name] = err
            form.addRow(label, holder)

        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        self.open_existing_button = QPushButton(tr("ui.form.open_existing"))
        self.open_existing_button.hide()
        self.open_existing_button.clicked.connect(self._open_existing)
        self._existing_id = ""

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(tr("ui.save"))
        self.save_button.setProperty("primary", True)
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("ui.cancel"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)

        err_row = QHBoxLayout()
        err_row.addWidget(self.error, 1)
        err_row.addWidget(self.open_existing_button)
        # what was typed here when the app last crashed, offered back (views/drafts.py)
        self.draft = DraftBar(services.settings, draft_key("customer_form", customer_id),
                              lambda: asdict(self.value()), self._restore_draft)
        layout = QVBoxLayout(self)
        layout.addWidget(self.draft)
        layout.addLayout(form)
        layout.addLayout(err_row)
        layout.addWidget(self.buttons)
        if initial is not None:
            self.fill(initial)
        elif customer_id:
            self._load()

    def _load(self) -> None:
        cid = self.customer_id or ""
        customers = self.services.customers
        self.setEnabled(False)

        def load(_: TaskControl) -> CustomerInput:
            return CustomerInput.from_customer(customers.get(cid))

        def loaded(data: CustomerInput) -> None:
            self.setEnabled(True)
            self.fill(data)

        def failed(exc: BaseException) -> None:
            self.setEnabled(True)
            self.show_error(exc)
            self.save_button.setEnabled(False)

        self.services.runner.run_db(load, on_done=loaded, on_error=failed, owner=self)

    def fill(self, data: CustomerInput) -> None:
        self.name.setText(data.name)
        if data.phone.startswith("+"):
            # a stored number shows masked here too; left as is, the stored number is kept (views/safety)
            self._stored_phone = data.phone
            self.phone.setText(mask_phone(data.phone))
        else:
            self.phone.setText(data.phone)
        self.wechat_id.setText(data.wechat_id)
        self.gender.setCurrentIndex(max(0, self.gender.findData(data.gender)))
        self.birthday.setText(data.birthday)
        self.source.setText(shown_source(data.source))
        self._source = data.source
        self.stage.setCurrentIndex(max(0, self.stage.findData(data.stage)))
        self.preferences.setText(data.preferences)
        self.sizes.setText(data.sizes)
        self.notes.setPlainText(data.notes)
        self._owner = data.owner_guide_id

    def _restore_draft(self, saved: dict[str, Any]) -> None:
        known = {f.name for f in fields(CustomerInput)}
        self.fill(CustomerInput(**{k: str(v) for k, v in saved.items() if k in known}))

    def typed_phone(self) -> str:
        """What the phone field means: the stored number while it still shows its mask."""
        stored = getattr(self, "_stored_phone", "")
        text = self.phone.text().strip()
        return stored if stored and text == mask_phone(stored) else self.phone.text()

    def value(self) -> CustomerInput:
        return CustomerInput(
            name=self.name.text(), phone=self.typed_phone(), wechat_id=self.wechat_id.text(),
            gender=str(self.gender.currentData() or ""), birthday=typed_day(self.birthday.text()),
            source=edited_source(getattr(self, "_source", ""), self.source.text()), owner_guide_id=getattr(self, "_owner", ""),
            stage=str(self.stage.currentData() or ""), preferences=self.preferences.text(),
            sizes=self.sizes.text(), notes=self.notes.toPlainText(),
        )

    def clear_errors(self) -> None:
        self.error.hide()
        self.open_existing_button.hide()
        for name, label in self.field_errors.items():
            label.hide()
            widget = self.inputs[name]
            widget.setProperty("invalid", False)
            widget.style().unpolish(widget)
            widget.style().polish(widget)

    def show_error(self, exc: BaseException) -> None:
        text = error_text(exc)
        field = error_field(exc) if isinstance(exc, UserError) else ""
        if field in self.field_errors:
            label = self.field_errors[field]
            label.setText(text)
            label.show()
            widget = self.inputs[field]
            widget.setProperty("invalid", True)
            widget.style().unpolish(widget)
            widget.style().polish(widget)
            widget.setFocus()
        else:
            self.error.setText(text)
            self.error.show()
        if isinstance(exc, UserError) and exc.key == "phone.duplicate" and exc.params.get("customer_id"):
            self._existing_id = str(exc.params["customer_id"])
            self.open_existing_button.show()

    def submit(self) -> None:
        self.clear_errors()
        data = self.value()
        customers = self.services.customers
        cid = self.customer_id
        self.save_button.setEnabled(False)

        def save(_: TaskControl) -> str:
            if cid:
                customers.update(cid, data)
                return cid
            return customers.create(data)

        def done(customer_id: str) -> None:
            self.save_button.setEnabled(True)
            self.customer_id = customer_id
            self.draft.form_saved()
            self.saved.emit(customer_id)
            self.accept()

        def failed(exc: BaseException) -> None:
            self.save_button.setEnabled(True)
            self.show_error(exc)

        self.services.runner.run_db(save, on_done=done, on_error=failed, owner=self)

    def _open_existing(self) -> None:
        if self._existing_id:
            self.open_existing.emit(self._existing_id)
            self.reject()
