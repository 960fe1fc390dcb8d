"""Unsaved input kept across a crash: an open form registers a :class:`DraftBar`; when the app
crashes, :func:`save_open_drafts` writes what each visible form holds into the local settings
(``draft.<form>.<record or new>``), and the next time that form opens the bar offers it back
(恢复 / 丢弃). A draft is removed once the form saves or the guide discards it."""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from guide_app.i18n import tr

log = logging.getLogger(__name__)


class SettingsStore(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...


_open_bars: weakref.WeakSet[DraftBar] = weakref.WeakSet()


def draft_key(form: str, record_id: str | None) -> str:
    return f"draft.{form}.{record_id or 'new'}"


def save_open_drafts() -> int:
    """Save the input of every visible form that has a draft bar; returns how many were saved."""
    saved = 0
    for bar in list(_open_bars):
        try:
            if bar.save():
                saved += 1
        except Exception:  # one form failing must not stop the others from being saved
            log.exception("could not save the draft %s", bar.key)
    return saved


class DraftBar(QFrame):
    """A strip at the top of a form: hidden unless a saved draft exists for this form and record."""

    def __init__(self, settings: SettingsStore, key: str, snapshot: Callable[[], dict[str, Any]],
                 restore: Callable[[dict[str, Any]], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("draftBar")
        self.settings = settings
        self.key = key
        self.snapshot = snapshot
        self.restore = restore
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.restore_button = QPushButton(tr("ui.draft.restore"))
        self.restore_button.clicked.connect(self.apply)
        self.discard_button = QPushButton(tr("ui.draft.discard"))
        self.discard_button.clicked.connect(self.discard)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 8, 4)
        row.addWidget(self.label, 1)
        row.addWidget(self.restore_button)
        row.addWidget(self.discard_button)
        self.saved_draft: dict[str, Any] | None = None
        self.applied = False
        try:
            found = settings.get(key)
        except Exception:  # an unreadable draft is not worth failing the form for
            log.exception("could not read the draft %s", key)
            found = None
        if isinstance(found, dict) and isinstance(found.get("fields"), dict):
            self.saved_draft = found
            self.label.setText(tr("ui.draft.found", time=str(found.get("saved_at", ""))))
        self.setVisible(self.saved_draft is not None)
        _open_bars.add(self)

    def save(self) -> bool:
        """Write the form's current input as the draft (only while the form is on screen)."""
        if not self.window().isVisible():
            return False
        self.settings.set(self.key, {"saved_at": time.strftime("%Y-%m-%d %H:%M"), "fields": self.snapshot()})
        return True

    def apply(self) -> None:
        if self.saved_draft is not None:
            self.restore(dict(self.saved_draft["fields"]))
            self.applied = True
        self.hide()

    def form_saved(self) -> None:
        """The form was saved: a draft put back into it is done with; one not taken stays offered."""
        if self.applied:
            self.clear()

    def discard(self) -> None:
        self.clear()
        self.hide()

    def clear(self) -> None:
        """Forget the stored draft (the form was saved, or the guide does not want it back)."""
        if self.saved_draft is not None:
            self.settings.set(self.key, None)
            self.saved_draft = None
