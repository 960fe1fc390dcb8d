"""The main window: areas and their empty states, keyboard shortcuts, the language switch, tags page."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import QApplication, QInputDialog, QMessageBox
from pytestqt.qtbot import QtBot

from guide_app.i18n import current_language, tr
from guide_app.views.app_services import AppServices
from guide_app.views.boards_page import BoardsPage
from guide_app.views.customer_detail import CustomerDetailDialog
from guide_app.views.customer_form import CustomerFormDialog
from guide_app.views.main_window import AREAS, MainWindow
from guide_app.views.shell import AppShell
from guide_app.views.theme import QtCatalog
from tests.gui.conftest import settle


def _window(qtbot: QtBot, services: AppServices) -> MainWindow:
    window = MainWindow(services)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    settle(services)
    return window


def test_areas_and_empty_states_in_chinese(qtbot: QtBot, services: AppServices) -> None:
    window = _window(qtbot, services)
    assert [window.nav.item(i).text() for i in range(window.nav.count())] == [  # type: ignore[union-attr]
        "客户", "标签", "活码", "业绩榜", "活动", "设置"]
    window.show_area("leaderboard")
    page = window.stack.currentWidget()
    assert isinstance(page, BoardsPage)
    # no HQ on this PC yet and no saved board: it says so plainly instead of an empty table
    qtbot.waitUntil(lambda: "还没有保存过这个榜单" in page.state.text(), timeout=10_000)
    assert window.settings.data_dir.text() == str(services.data_dir)


def test_keyboard_shortcuts(qtbot: QtBot, services: AppServices, monkeypatch: pytest.MonkeyPatch) -> None:
    window = _window(qtbot, services)
    for i, area in enumerate(AREAS, start=1):
        qtbot.keyClick(window, Qt.Key(Qt.Key.Key_0 + i), Qt.KeyboardModifier.ControlModifier)
        assert window.current_area() == area
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    page = window.customers
    window.nav.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is page.search
    qtbot.keyClicks(page.search, "zzzz")
    qtbot.keyClick(page.search, Qt.Key.Key_Escape)
    assert page.search.text() == ""

    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    form = next(w for w in QApplication.topLevelWidgets() if isinstance(w, CustomerFormDialog) and w.isVisible())
    qtbot.keyClick(form, Qt.Key.Key_Escape)
    assert not form.isVisible()

    settle(services)
    page.table.setFocus()
    page.table.selectRow(0)
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    settle(services)
    detail = next(w for w in QApplication.topLevelWidgets() if isinstance(w, CustomerDetailDialog) and w.isVisible())
    assert detail.heading.text()
    qtbot.keyClick(detail, Qt.Key.Key_Escape)
    assert not detail.isVisible()

    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda _p, _t, text, *a: asked.append(text) or QMessageBox.StandardButton.No)
    qtbot.wait(20)  # the closed dialogs go away
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window)
    page.table.setFocus()
    page.table.selectRow(0)
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert len(asked) == 1 and "确定删除" in asked[0]


def test_language_switch_to_english_takes_effect_at_once(qtbot: QtBot, services: AppServices) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    catalog = QtCatalog(app)
    assert catalog.load("zh_CN")  # Qt's own dialogs in Chinese
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "取消"
    shell = AppShell(app, services, catalog)
    shell.show()
    settle(services)
    old = shell.window
    old.show_area("settings")
    combo = old.settings.language
    with qtbot.waitSignal(old.language_changed):
        combo.setCurrentIndex(combo.findData("en"))
    settle(services)
    new = shell.window
    assert new is not old and current_language() == "en"
    assert new.nav.item(0).text() == "Customers"  # type: ignore[union-attr]
    assert new.current_area() == "settings"
    assert new.customers.search.placeholderText().startswith("Search")
    assert services.settings.language() == "en"  # remembered for the next start
    assert QCoreApplication.translate("QPlatformTheme", "Cancel") == "Cancel"
    shell.switch_language("zh_CN")
    assert shell.window.nav.item(0).text() == "客户"  # type: ignore[union-attr]
    settle(services)
    shell.window.close()
    shell.window.deleteLater()


def test_tags_page_create_rename_reorder_delete_and_corp_lock(qtbot: QtBot, services: AppServices,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    window = _window(qtbot, services)
    page = window.tags
    window.show_area("tags")
    corp = next(i for i, g in enumerate(page.groups) if g.read_only)
    page.group_list.setCurrentRow(corp)
    assert not page.edit_group_button.isEnabled() and not page.new_tag_button.isEnabled()
    assert page.lock_note.text() == tr("ui.tags.corp_locked")

    dialog = page.new_group()
    dialog.name.setText("到店目的")
    dialog.multi.setCurrentIndex(1)
    dialog.accept()
    settle(services)
    group = page.current_group()
    assert group is not None and group.name == "到店目的" and not group.multi and group.scope == "store"
    edit = page.edit_group()
    assert edit is not None and not edit.scope.isEnabled()  # scope is fixed once made
    edit.color = "#d64545"
    edit.name.setText("到店目的（新）")
    edit.accept()
    settle(services)
    group = page.current_group()
    assert group is not None and group.color == "#d64545" and group.name == "到店目的（新）"

    names = iter(["看新品", "售后"])
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (next(names), True))
    page.new_tag()
    settle(services)
    page.new_tag()
    settle(services)
    group = page.current_group()
    assert group is not None and [t.name for t in group.tags] == ["看新品", "售后"]
    page.tag_list.setCurrentRow(1)
    page.move_tag(-1)
    settle(services)
    group = page.current_group()
    assert group is not None and [t.name for t in group.tags] == ["售后", "看新品"]

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("", True))
    page.tag_list.setCurrentRow(0)
    page.rename_tag()
    settle(services)
    assert page.message.text() == tr("tags.tag_name_required")

    customer = services.query.rows(services.query.ids()[:1])[0]
    services.tags.assign([customer.id], group.tags[0].id)
    page.reload(group.id)
    settle(services)
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda _p, _t, text, *a: asked.append(text) or QMessageBox.StandardButton.Yes)
    page.tag_list.setCurrentRow(0)
    page.delete_tag()
    settle(services)
    assert "1 位客户" in asked[0]
    group = page.current_group()
    assert group is not None and [t.name for t in group.tags] == ["看新品"]
