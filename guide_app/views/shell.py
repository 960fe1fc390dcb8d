"""Keeps the one main window: builds it, and rebuilds it in place when the UI language changes, so a
new language takes effect at once without a restart (same area, same size and position)."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication

from guide_app.i18n import set_language
from guide_app.views.app_services import AppServices
from guide_app.views.main_window import MainWindow
from guide_app.views.theme import QtCatalog


class AppShell(QObject):
    def __init__(self, app: QApplication, services: AppServices, qt_catalog: QtCatalog) -> None:
        super().__init__()
        self.app = app
        self.services = services
        self.qt_catalog = qt_catalog
        self.window = self._build()

    def _build(self) -> MainWindow:
        window = MainWindow(self.services)
        window.language_changed.connect(self.switch_language)
        return window

    def show(self) -> None:
        self.window.show()

    def switch_language(self, lang: str) -> None:
        set_language(lang)
        self.qt_catalog.load(lang)
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
