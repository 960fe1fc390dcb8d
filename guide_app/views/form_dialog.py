"""The parts the small form dialogs share (sign in, set a PIN, add a guide, first run, erase, tag group):
the line under the form that says why an entry was refused, and OK/Cancel worded in the UI language
(Qt's own catalog is not loaded), stacked under the dialog's intro and form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QLayout, QVBoxLayout, QWidget


def error_label() -> QLabel:
    label = QLabel()
    label.setObjectName("fieldError")
    label.setWordWrap(True)
    return label


def ok_cancel(ok_text: str, cancel_text: str, on_ok: Callable[[], object], on_cancel: Callable[[], object], *,
              emphasis: Literal["primary", "danger"] | None = "primary") -> QDialogButtonBox:
    """OK/Cancel with these words; ``emphasis`` is the style property the OK button gets (styles/app.qss)."""
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
    ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
    ok.setText(ok_text)
    if emphasis is not None:
        ok.setProperty(emphasis, True)
    buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(cancel_text)
    buttons.accepted.connect(on_ok)
    buttons.rejected.connect(on_cancel)
    return buttons


def stack(dialog: QDialog, *parts: QWidget | QLayout) -> QVBoxLayout:
    """The dialog's layout: ``parts`` top to bottom."""
    layout = QVBoxLayout(dialog)
    for part in parts:
        if isinstance(part, QLayout):
            layout.addLayout(part)
        else:
            layout.addWidget(part)
    return layout
