"""First start on a PC with no data: the UI language, and HQ or "work offline only" (仅离线使用).

The composition root shows it before anything else on a fresh data folder; afterwards it opens the
sign-in dialog (HQ, with the address filled in) or the offline profile dialog. Picking a language
switches the dialog's own wording at once and is remembered in the local settings.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from guide_app.i18n import LANGUAGES, current_language, tr

LANGUAGE_NAMES = {"zh_CN": "简体中文", "en": "English"}


@dataclass(frozen=True)
class SetupChoice:
    language: str
    hq_url: str  # "" = work offline only


def valid_hq_url(text: str) -> str:
    """The address as the sign-in will use it, or "" when it cannot be an HQ address."""
    url = text.strip().rstrip("/")
    if not url.startswith(("http://", "https://")) or len(url) <= len("https://"):
        return ""
    return url


class SetupWizard(QDialog):
    def __init__(self, on_language: Callable[[str], None], hq_url: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.on_language = on_language
        self.choice: SetupChoice | None = None
        self.setMinimumWidth(520)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.language = QComboBox()
        for lang in LANGUAGES:
            self.language.addItem(LANGUAGE_NAMES[lang], lang)
        self.language.setCurrentIndex(max(0, self.language.findData(current_language())))
        self.language.currentIndexChanged.connect(self._language_changed)
        self.connect_hq = QRadioButton()
        self.offline = QRadioButton()
        self.mode = QButtonGroup(self)
        self.mode.addButton(self.connect_hq)
        self.mode.addButton(self.offline)
        self.connect_hq.setChecked(True)
        self.url = QLineEdit(hq_url)
        self.url.setPlaceholderText("https://hq.example.com")
        self.connect_hq.toggled.connect(self.url.setEnabled)
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.error.setWordWrap(True)
        self.error.hide()
        self.language_label = QLabel()
        self.url_label = QLabel()
        form = QFormLayout()
        form.addRow(self.language_label, self.language)
        form.addRow(self.connect_hq)
        form.addRow(self.url_label, self.url)
        form.addRow(self.offline)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.next_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.next_button.setProperty("primary", True)
        self.quit_button = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(tr("ui.setup.title"))
        self.intro.setText(tr("ui.setup.intro"))
        self.language_label.setText(tr("ui.setup.language"))
        self.connect_hq.setText(tr("ui.setup.connect_hq"))
        self.url_label.setText(tr("ui.setup.hq_url"))
        self.offline.setText(tr("ui.setup.offline"))
        self.next_button.setText(tr("ui.setup.next"))
        self.quit_button.setText(tr("ui.setup.quit"))
        if self.error.isVisible():
            self.error.setText(tr("ui.setup.bad_url"))

    def _language_changed(self) -> None:
        self.on_language(str(self.language.currentData()))
        self.retranslate()

    def submit(self) -> None:
        url = ""
        if self.connect_hq.isChecked():
            url = valid_hq_url(self.url.text())
            if not url:
                self.error.setText(tr("ui.setup.bad_url"))
                self.error.show()
                self.url.setFocus()
                return
        self.choice = SetupChoice(language=str(self.language.currentData()), hq_url=url)
        self.accept()
