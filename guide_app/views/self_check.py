"""The Qt half of ``guide-app --self-check``: the Qt modules the app uses import, every icon loads
as a picture, and Qt's own zh_CN catalog is found (see guide_app/diagnostics.py for the rest)."""

from __future__ import annotations

import importlib

from PySide6.QtCore import QLibraryInfo, QTranslator
from PySide6.QtGui import QPixmap

from guide_app.i18n import tr
from guide_app.resources import resource_path

QT_MODULES = ("PySide6.QtCharts", "PySide6.QtPrintSupport", "PySide6.QtSvg")


def qt_report() -> dict[str, object]:
    modules: dict[str, object] = {}
    for name in QT_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            modules[name] = False
        else:
            modules[name] = True
    loaded = sum(not QPixmap(str(p)).isNull() for p in resource_path("icons").glob("*.png"))
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    modules["qtbase_zh_CN"] = QTranslator().load("qtbase_zh_CN", folder)
    return {"qt": modules, "icons_loaded": loaded, "qt_translations": folder,
            "app_name": tr("ui.app.name")}
