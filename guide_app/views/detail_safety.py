"""What the record page adds for privacy: reveal the masked phone for a moment (audited), copy the
full number (audited), record consent per channel, and — for managers — erase on request."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from guide_app.domain.entities import CONSENT_CHANNELS, CONSENT_VALUES
from guide_app.i18n import tr
from guide_app.services.consent import METHODS, ConsentEvent, ConsentService
from guide_app.services.privacy import PrivacyService, masked
from guide_app.tasks import TaskControl
from guide_app.views.app_services import AppServices
from guide_app.views.erase_dialog import EraseDialog
from guide_app.views.formatting import day_time, error_text

if TYPE_CHECKING:
    from guide_app.views.customer_detail import CustomerDetailDialog

REVEAL_MS = 20_000  # a revealed number goes back to the mask after this


class ConsentDialog(QDialog):
    def __init__(self, services: AppServices, customer_id: str, current: dict[str, str],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.customer_id = customer_id
        self.current = current
        self.setWindowTitle(tr("security.consent_ui.title"))
        form = QFormLayout()
        self.values: dict[str, QComboBox] = {}
        for ch in CONSENT_CHANNELS:
            combo = QComboBox()
            for value in CONSENT_VALUES:
                combo.addItem(tr(f"ui.consent.{value}"), value)
            combo.setCurrentIndex(max(0, combo.findData(current.get(ch, "unknown"))))
            combo.setEnabled(current.get(ch) != "opted_out")  # opt-out is final
            self.values[ch] = combo
            form.addRow(tr(f"security.channel.{ch}"), combo)
        self.method = QComboBox()
        for m in METHODS:
            self.method.addItem(tr(f"security.consent_ui.method.{m}"), m)
        form.addRow(tr("security.consent_ui.how"), self.method)
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setText(tr("security.consent_ui.save"))
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("ui.cancel"))
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        hint = QLabel(tr("security.consent_ui.hint"))
        hint.setWordWrap(True)
        hint.setObjectName("muted")
        self.record = QLabel()  # how and by whom each consent was captured on this PC
        self.record.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(hint)
        layout.addWidget(self.record)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        service = ConsentService(services.ctx)
        services.runner.run_db(lambda _c: service.events(customer_id), on_done=self._show_record, owner=self)

    def _show_record(self, events: list[ConsentEvent]) -> None:
        lines = [tr("security.consent_ui.event", at=day_time(e.at), channel=tr(f"security.channel.{e.channel}"),
                    value=tr(f"ui.consent.{e.value}"), how=tr(f"security.consent_ui.method.{e.method}"),
                    by=e.by_name or "—") for e in events[:8]]
        self.record.setText("\n".join([tr("security.consent_ui.record"), *lines]) if lines else "")

    def submit(self) -> None:
        changes = {ch: str(c.currentData()) for ch, c in self.values.items() if c.currentData() != self.current.get(ch)}
        method = str(self.method.currentData())
        service = ConsentService(self.services.ctx)

        def work(_: TaskControl) -> list[str]:
            return service.record(self.customer_id, changes, method)

        def failed(exc: BaseException) -> None:
            self.error.setText(error_text(exc))

        self.services.runner.run_db(work, on_done=lambda _: self.accept(), on_error=failed, owner=self)


def install_detail_safety(dialog: CustomerDetailDialog) -> None:
    services = dialog.services
    privacy = PrivacyService(services.ctx)
    phone_label = dialog.info_labels["phone"]
    reveal = QPushButton(tr("security.ui.reveal"))
    reveal.setToolTip(tr("security.ui.reveal_tip"))
    copy = QPushButton(tr("security.ui.copy_full"))
    copy.setToolTip(tr("security.ui.reveal_tip"))
    consent = QPushButton(tr("security.consent_ui.button"))
    row = QWidget()
    box = QHBoxLayout(row)
    box.setContentsMargins(0, 0, 0, 0)
    box.addWidget(reveal)
    box.addWidget(copy)
    box.addWidget(consent)
    box.addStretch(1)
    position = dialog.info_form.getWidgetPosition(phone_label)
    at = int(position[0]) if isinstance(position, tuple) else 0  # type: ignore[redundant-expr]
    dialog.info_form.insertRow(at + 1, "", row)
    remask = QTimer(dialog)
    remask.setSingleShot(True)
    remask.setInterval(REVEAL_MS)
    remask.timeout.connect(lambda: phone_label.setText(masked(dialog.detail.phone) if dialog.detail else ""))
    dialog.reveal_button, dialog.copy_phone_button, dialog.consent_button = reveal, copy, consent  # type: ignore[attr-defined]

    def failed(exc: BaseException) -> None:
        dialog.message.setText(error_text(exc))

    def shown(number: str) -> None:
        phone_label.setText(number or "—")
        remask.start()

    reveal.clicked.connect(lambda: services.runner.run_db(lambda _c: privacy.reveal_phone(dialog.customer_id),
                                                          on_done=shown, on_error=failed, owner=dialog))
    def copied(number: str) -> None:
        QGuiApplication.clipboard().setText(number)
        dialog.message.setText(tr("security.ui.copied"))

    copy.clicked.connect(lambda: services.runner.run_db(lambda _c: privacy.copy_phone(dialog.customer_id),
                                                        on_done=copied, on_error=failed, owner=dialog))

    def open_consent() -> None:
        d = dialog.detail
        if d is None:
            return
        current = {"phone": d.consent_phone, "sms": d.consent_sms, "wechat": d.consent_wechat}
        consent_dialog = ConsentDialog(services, dialog.customer_id, current, parent=dialog)
        if consent_dialog.exec() == QDialog.DialogCode.Accepted:
            dialog.reload()
            dialog.changed.emit()

    consent.clicked.connect(open_consent)

    if services.ctx.actor.is_manager:
        erase = QPushButton(tr("security.erase_ui.button"))
        erase.setProperty("danger", True)
        dialog.erase_button = erase  # type: ignore[attr-defined]
        outer = dialog.layout()
        first = outer.itemAt(0) if outer is not None else None
        head = first.layout() if first is not None else None
        if isinstance(head, QHBoxLayout):
            head.addWidget(erase, 0, Qt.AlignmentFlag.AlignTop)

        def open_erase() -> None:
            name = dialog.detail.name if dialog.detail else ""
            erase_dialog = EraseDialog(services, dialog.customer_id, name, parent=dialog)
            def erased(cid: str) -> None:
                dialog.deleted.emit(cid)
                dialog.accept()

            erase_dialog.erased.connect(erased)
            erase_dialog.open()

        erase.clicked.connect(open_erase)
