"""Keeps the one main window: builds it, and rebuilds it in place when the UI language changes, so a
new language takes effect at once without a restart (same area, same size and position)."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication

from guide_app.i18n import set_language
from guide_app.views.app_services import AppServices
from guide_app.views.main_window import MainWindow
from guide_app.views.safety import SafetyController
from guide_app.views.theme import QtCatalog


class AppShell(QObject):
    def __init__(self, app: QApplication, services: AppServices, qt_catalog: QtCatalog) -> None:
        super().__init__()
        self.app = app
        self.services = services
        self.qt_catalog = qt_catalog
        # lock, quick guide switch, masking and export rules on every window built (views/safety.py)
        self.safety = SafetyController(services, parent=self)
        self.safety.switched.connect(self.switch_guide)
        self.window = self._build()

    def _build(self) -> MainWindow:
        window = MainWindow(self.services)
        window.language_changed.connect(self.switch_language)
        self.safety.attach(window)
        return window

    def show(self) -> None:
        self.window.show()

    def switch_guide(self, _actor: object) -> None:
        """Someone else unlocked the PC: the context already holds them; rebuild every page for them
        (personal tags, my customers, manager actions)."""
        self._rebuild()

    def switch_language(self, lang: str) -> None:
        set_language(lang)
        self.qt_catalog.load(lang)
        self._rebuild()

    def _rebuild(self) -> None:
        old = self.window
        area = old.current_area()
        geometry = old.saveGeometry()
        new = self._build()
        new.restoreGeometry(geometry)
        new.show_area(area)
        self.window = new
        if old.isVisible():
            new.show()
        old.close()
        old.deleteLater()
