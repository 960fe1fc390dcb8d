"""The form for a new or edited acquisition code, also used (with an explanation on top and no guide
or logo choice) to generate one code per guide for a whole store.

The form only collects what was typed; the service validates it on the DB thread and a refusal comes
back as a message under the form, in the UI language, with everything typed still there.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from guide_app.domain.codes import (
    CHANNELS,
    CUSTOM_CHANNEL_MAX,
    CUSTOM_CHANNEL_PREFIX,
    LABEL_MAX,
    custom_channel_name,
)
from guide_app.domain.errors import UserError
from guide_app.i18n import tr
from guide_app.services.code_render import prepare_logo
from guide_app.services.codes import Choice, CodeInput
from guide_app.tasks import TaskControl, TaskRunner
from guide_app.views.codes_view_util import message_of, name_buttons

CUSTOM = "custom"


class CodeDialog(QDialog):
    """``save(data)`` runs on the DB thread; its result is kept in :attr:`result_value`."""

    def __init__(
        self,
        runner: TaskRunner,
        save: Callable[[CodeInput], Any],
        *,
        title: str,
        tags: Sequence[Choice],
        campaigns: Sequence[Choice] = (),
        guides: Sequence[Choice] = (),
        initial: CodeInput | None = None,
        explain: str = "",
        allow_logo: bool = True,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self._save = save
        self.result_value: Any = None
        self.setWindowTitle(title)
        self.setMinimumWidth(520)
        initial = initial or CodeInput()
        self._logo = initial.logo

        layout = QVBoxLayout(self)
        if explain:
            note = QLabel(explain)
            note.setWordWrap(True)
            layout.addWidget(note)
        form = QFormLayout()
        layout.addLayout(form)

        self.label = QLineEdit(initial.label)
        self.label.setMaxLength(LABEL_MAX + 10)  # over-long input still reaches the service's clear message
        self.label.setPlaceholderText(tr("code.label.placeholder"))
        form.addRow(tr("code.field.label"), self.label)

        self.channel = QComboBox()
        for ch in CHANNELS:
            self.channel.addItem(tr(f"code.channel.{ch}"), ch)
        self.channel.addItem(tr("code.channel.custom"), CUSTOM)
        self.custom_channel = QLineEdit()
        self.custom_channel.setMaxLength(CUSTOM_CHANNEL_MAX + 10)
        custom = custom_channel_name(initial.channel)
        if custom is not None:
            self.channel.setCurrentIndex(self.channel.findData(CUSTOM))
            self.custom_channel.setText(custom)
        elif self.channel.findData(initial.channel) >= 0:
            self.channel.setCurrentIndex(self.channel.findData(initial.channel))
        self.channel.currentIndexChanged.connect(self._channel_changed)
        form.addRow(tr("code.field.channel"), self.channel)
        self.custom_row_label = QLabel(tr("code.field.custom_channel"))
        form.addRow(self.custom_row_label, self.custom_channel)

        self.guide = QComboBox()
        for g in guides:
            self.guide.addItem(g.name, g.id)
        if initial.guide_id and self.guide.findData(initial.guide_id) >= 0:
            self.guide.setCurrentIndex(self.guide.findData(initial.guide_id))
        if len(guides) > 1:  # only a manager making a code for someone else needs to pick
            form.addRow(tr("code.field.guide"), self.guide)
        else:
            self.guide.hide()

        self.campaign = QComboBox()
        self.campaign.addItem(tr("code.campaign.none"), "")
        for c in campaigns:
            self.campaign.addItem(c.name, c.id)
        if initial.campaign_id and self.campaign.findData(initial.campaign_id) < 0:
            self.campaign.addItem(initial.campaign_id, initial.campaign_id)  # a campaign this PC no longer has
        self.campaign.setCurrentIndex(max(0, self.campaign.findData(initial.campaign_id)))
        if self.campaign.count() > 1:
            form.addRow(tr("code.field.campaign"), self.campaign)
        else:
            self.campaign.hide()

        self.tags = QListWidget()
        self.tags.setMaximumHeight(120)
        chosen = set(initial.auto_tag_ids)
        for t in tags:
            item = QListWidgetItem(f"{t.group} · {t.name}" if t.group else t.name)
            item.setData(Qt.ItemDataRole.UserRole, t.id)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if t.id in chosen else Qt.CheckState.Unchecked)
            self.tags.addItem(item)
        if tags:
            form.addRow(tr("code.field.auto_tags"), self.tags)
        else:
            self.tags.hide()
            form.addRow(tr("code.field.auto_tags"), QLabel(tr("code.tags.none")))

        self.welcome = QPlainTextEdit(initial.welcome_text)
        self.welcome.setPlaceholderText(tr("code.welcome.placeholder"))
        self.welcome.setFixedHeight(80)
        self.welcome.setTabChangesFocus(True)
        form.addRow(tr("code.field.welcome"), self.welcome)

        expiry_row = QHBoxLayout()
        self.has_expiry = QCheckBox(tr("code.expiry.until"))
        self.expiry = QDateEdit()
        self.expiry.setCalendarPopup(True)
        self.expiry.setDisplayFormat("yyyy-MM-dd")
        today = QDate.currentDate()
        start = initial.expires_on or (dt.date.today() + dt.timedelta(days=90))
        self.expiry.setDate(QDate(start.year, start.month, start.day))
        self.expiry.setMinimumDate(min(today, self.expiry.date()))
        self.has_expiry.setChecked(initial.expires_on is not None)
        self.expiry.setEnabled(self.has_expiry.isChecked())
        self.has_expiry.toggled.connect(self.expiry.setEnabled)
        expiry_row.addWidget(self.has_expiry)
        expiry_row.addWidget(self.expiry)
        expiry_row.addStretch(1)
        form.addRow(tr("code.field.expiry"), expiry_row)

        self.logo_state = QLabel()
        self.logo_choose = QPushButton(tr("code.logo.choose"))
        self.logo_choose.clicked.connect(self._choose_logo)
        self.logo_clear = QPushButton(tr("code.logo.clear"))
        self.logo_clear.clicked.connect(self._clear_logo)
        logo_row = QHBoxLayout()
        logo_row.addWidget(self.logo_state, 1)
        logo_row.addWidget(self.logo_choose)
        logo_row.addWidget(self.logo_clear)
        if allow_logo:
            form.addRow(tr("code.field.logo"), logo_row)
        else:
            for w in (self.logo_state, self.logo_choose, self.logo_clear):
                w.hide()
        self._show_logo_state()

        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #c62828;")
        self.error.hide()
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        name_buttons(self.buttons)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._channel_changed()

    # -- input -----------------------------------------------------------------------------
    def _channel_changed(self) -> None:
        custom = self.channel.currentData() == CUSTOM
        self.custom_channel.setVisible(custom)
        self.custom_row_label.setVisible(custom)

    def value(self) -> CodeInput:
        channel = self.channel.currentData()
        if channel == CUSTOM:
            channel = CUSTOM_CHANNEL_PREFIX + self.custom_channel.text()
        tag_ids = [
            str(self.tags.item(i).data(Qt.ItemDataRole.UserRole)) for i in range(self.tags.count())
            if self.tags.item(i).checkState() == Qt.CheckState.Checked
        ]
        expires = None
        if self.has_expiry.isChecked():
            d = self.expiry.date()
            expires = dt.date(d.year(), d.month(), d.day())
        return CodeInput(
            label=self.label.text(), channel=str(channel), campaign_id=str(self.campaign.currentData() or ""),
            auto_tag_ids=tag_ids, welcome_text=self.welcome.toPlainText(), expires_on=expires, logo=self._logo,
            guide_id=str(self.guide.currentData() or ""),
        )

    def _show_logo_state(self) -> None:
        self.logo_state.setText(tr("code.logo.set") if self._logo else tr("code.logo.none"))
        self.logo_clear.setEnabled(bool(self._logo))

    def _clear_logo(self) -> None:
        self._logo = ""
        self._show_logo_state()

    def _choose_logo(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("code.logo.choose"), "", tr("code.logo.filter"))
        if path:
            self.load_logo(Path(path))

    def load_logo(self, path: Path) -> None:
        def work(_: TaskControl) -> str:
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise UserError("code.logo_unreadable") from exc
            return prepare_logo(data)

        def done(b64: str) -> None:
            self._logo = b64
            self._show_logo_state()

        self.runner.run_db(work, on_done=done, on_error=self.show_error, owner=self)

    # -- saving ----------------------------------------------------------------------------
    def submit(self) -> None:
        data = self.value()
        self.buttons.setEnabled(False)
        self.error.hide()

        def done(result: Any) -> None:
            self.result_value = result
            self.buttons.setEnabled(True)
            self.accept()

        self.runner.run_db(lambda _c: self._save(data), on_done=done, on_error=self.show_error, owner=self)

    def show_error(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.error.setText(message_of(exc))
        self.error.show()
