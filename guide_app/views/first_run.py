"""First start on a new data folder: the store's name and the guide's name make an offline profile,
so the book works before (or without) signing in to HQ."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QDialog, QFormLayout, QLabel, QLineEdit, QWidget

from guide_app.domain.errors import UserError
from guide_app.i18n import tr
from guide_app.services.context import Actor
from guide_app.views.form_dialog import error_label, ok_cancel, stack
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
        self.error = error_label()
        form = QFormLayout()
        form.addRow(tr("ui.first_run.store"), self.store_name)
        form.addRow(tr("ui.first_run.guide"), self.guide_name)
        buttons = ok_cancel(tr("ui.first_run.start"), tr("ui.first_run.quit"), self.submit, self.reject)
        stack(self, intro, form, self.error, buttons)

    def submit(self) -> None:
        # a few rows in a fresh file before any window exists: no need for the DB thread here
        try:
            self.actor = self.create_profile(self.store_name.text(), self.guide_name.text())
        except UserError as exc:
            self.error.setText(error_text(exc))
            return
        self.accept()
