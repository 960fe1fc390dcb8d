"""Look of the app: the stylesheet, the CJK font order, icons (1x and @2x) and Qt's own translations."""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator
from PySide6.QtGui import QFont, QFontDatabase, QIcon
from PySide6.QtWidgets import QApplication

from guide_app.resources import resource_path

# the first one installed wins: Windows, macOS, then Linux (WenQuanYi ships with the Linux build)
FONT_FAMILIES = ("Microsoft YaHei", "PingFang SC", "WenQuanYi Micro Hei", "Noto Sans CJK SC")
BASE_POINT_SIZE = 10


def pick_font_family() -> str:
    installed = set(QFontDatabase.families())
    for family in FONT_FAMILIES:
        if family in installed:
            return family
    return QApplication.font().family()


def apply_theme(app: QApplication) -> None:
    family = pick_font_family()
    font = QFont(family, BASE_POINT_SIZE)
    font.setFamilies([family, *[f for f in FONT_FAMILIES if f != family]])
    app.setFont(font)
    icons = resource_path("icons").as_posix()
    qss = resource_path("styles", "app.qss").read_text(encoding="utf-8").replace("@ICONS@", icons)
    app.setStyleSheet(qss)


@cache
def icon(name: str) -> QIcon:
    """``name.png`` with ``name@2x.png`` picked up by Qt for high-DPI screens."""
    return QIcon(str(resource_path("icons", f"{name}.png")))


class QtCatalog:
    """Qt's own strings (OK/Cancel, file dialogs, context menus) in the UI language."""

    def __init__(self, app: QApplication) -> None:
        self.app = app
        self.translator: QTranslator | None = None

    def load(self, lang: str) -> bool:
        if self.translator is not None:
            self.app.removeTranslator(self.translator)
            self.translator = None
        QLocale.setDefault(QLocale(QLocale.Language.Chinese, QLocale.Country.China) if lang == "zh_CN"
                           else QLocale(QLocale.Language.English, QLocale.Country.UnitedStates))
        if lang == "en":
            return True
        folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        translator = QTranslator(self.app)
        if not translator.load(f"qtbase_{lang}", folder):
            return False
        self.app.installTranslator(translator)
        self.translator = translator
        return True
