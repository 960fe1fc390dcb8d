"""设置 (stage thresholds, language list, data folder) and the first-run profile dialog."""

from __future__ import annotations

from pathlib import Path

import openpyxl
from pytestqt.qtbot import QtBot

from guide_app.db.engine import open_database
from guide_app.i18n import tr
from guide_app.services.org import ensure_local_profile
from guide_app.views.app_services import AppServices
from guide_app.views.first_run import FirstRunDialog
from guide_app.views.import_dialog import PAGE_PREVIEW, ImportDialog
from guide_app.views.settings_page import SettingsPage
from tests.gui.conftest import settle


def test_stage_thresholds_save_and_refuse_nonsense(qtbot: QtBot, empty_services: AppServices) -> None:
    page = SettingsPage(empty_services)
    qtbot.addWidget(page)
    settle(empty_services)
    assert (page.new_days.value(), page.sleeping_days.value(), page.lost_days.value()) == (30, 90, 180)
    assert [page.language.itemData(i) for i in range(page.language.count())] == ["zh_CN", "en"]
    page.sleeping_days.setValue(200)
    page.save_stages.click()
    settle(empty_services)
    assert page.stage_message.text() == tr("stage.bad_thresholds")
    assert empty_services.settings.stage_thresholds().sleeping_days == 90
    page.sleeping_days.setValue(60)
    page.save_stages.click()
    settle(empty_services)
    assert page.stage_message.text() == "阶段设置已保存，客户列表按新设置显示"
    assert empty_services.settings.stage_thresholds().sleeping_days == 60
    assert page.data_dir.text() == str(empty_services.data_dir)


def test_first_run_asks_store_and_guide(qtbot: QtBot, tmp_path: Path) -> None:
    db = open_database(tmp_path / "g.db")
    dialog = FirstRunDialog(lambda store, guide: ensure_local_profile(db, store, guide))
    qtbot.addWidget(dialog)
    dialog.guide_name.setText("王丽")
    dialog.submit()
    assert dialog.actor is None and dialog.error.text() == tr("org.store_name_required")
    dialog.store_name.setText("万象城店")
    dialog.submit()
    assert dialog.actor is not None and dialog.actor.name == "王丽"
    assert dialog.result() == FirstRunDialog.DialogCode.Accepted
    db.dispose()


def test_xlsx_preview_names_the_sheet(qtbot: QtBot, empty_services: AppServices, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "会员"
    sheet.append(["姓名", "手机号"])
    sheet.append(["周芷若", "13912340009"])
    path = tmp_path / "会员.xlsx"
    book.save(path)
    dialog = ImportDialog(empty_services)
    qtbot.addWidget(dialog)
    dialog.load_file(path)
    settle(empty_services)
    assert dialog.pages.currentIndex() == PAGE_PREVIEW
    assert "工作表：会员" in dialog.file_info.text()
    assert [b.currentData() for b in dialog.mapping_boxes] == ["name", "phone"]
