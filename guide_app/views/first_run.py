"""First start on a new data folder: the store's name and the guide's name make an offline profile,
so the book works before (or without) signing in to HQ."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from guide_app.domain.errors import UserError
from guide_app.i18n import tr
from guide_app.services.context import Actor
from guide_app.views.formatting import error_text


class FirstRunDialog(QDialog):
    def __init__(self, create_profile: Callable[[str, str], Actor], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.create_profile = create_profile
        self.actor: Actor | None = None
        self.setWindowTitle(tr("ui.first_run.title"))
        self.setMinimumSize(460, 280)
        intro = QLabel(tr("ui.first_run.intro"))
        intro.setWordWrap(True)
        self.store_name = QLineEdit()
        self.store_name.setPlaceholderText(tr("ui.first_run.store_placeholder"))
        self.guide_name = QLineEdit()
        self.guide_name.setPlaceholderText(tr("ui.first_run.guide_placeholder"))
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        form = QFormLayout()
        form.addRow(tr("ui.first_run.store"), self.store_name)
        form.addRow(tr("ui.first_run.guide"), self.guide_name)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        ok.setText(tr("ui.first_run.start"))
        ok.setProperty("primary", True)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(tr("ui.first_run.quit"))
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def submit(self) -> None:
        # a few rows in a fresh file before any window exists: no need for the DB thread here
        try:
            self.actor = self.create_profile(self.store_name.text(), self.guide_name.text())
        except UserError as exc:
            self.error.setText(error_text(exc))
            return
        self.accept()
