"""Import dialog end to end on a GBK file with a bad row; cancel; saving the refused rows; export."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
from pytestqt.qtbot import QtBot

from guide_app.services.customer_query import CustomerFilter
from guide_app.services.exporter import ExportResult
from guide_app.views.app_services import AppServices
from guide_app.views.import_dialog import PAGE_PREVIEW, PAGE_REPORT, ExportController, ImportDialog
from guide_app.views.screenshots import sample_import_file
from tests.gui.conftest import settle


def opted_out(services: AppServices, customer_id: str) -> bool:
    d = services.query.detail(customer_id)
    return "opted_out" in (d.consent_phone, d.consent_sms, d.consent_wechat)


def _dialog(qtbot: QtBot, services: AppServices) -> ImportDialog:
    dialog = ImportDialog(services)
    qtbot.addWidget(dialog)
    return dialog


def test_gbk_file_with_a_bad_row_end_to_end(qtbot: QtBot, empty_services: AppServices, tmp_path: Path) -> None:
    path = sample_import_file(tmp_path)
    dialog = _dialog(qtbot, empty_services)
    dialog.load_file(path)
    settle(empty_services)
    assert dialog.pages.currentIndex() == PAGE_PREVIEW
    assert "GBK" in dialog.file_info.text() and "共 4 行" in dialog.file_info.text()
    assert [b.currentData() for b in dialog.mapping_boxes][:3] == ["name", "phone", "wechat_id"]
    assert dialog.preview_table.item(1, 0).text() == "陈小雨"  # type: ignore[union-attr]
    assert dialog.start_button.isEnabled()

    with qtbot.waitSignal(dialog.imported, timeout=10_000):
        dialog.start_button.click()
    settle(empty_services)
    assert dialog.pages.currentIndex() == PAGE_REPORT
    report = dialog.report
    assert report is not None and report.imported == 3 and len(report.errors) == 1
    assert dialog.report_title.text() == "导入完成"
    assert dialog.issues.item(0, 0).text() == "4"  # type: ignore[union-attr]
    assert "1391234" in dialog.issues.item(0, 2).text()  # type: ignore[union-attr]
    assert empty_services.query.count(CustomerFilter()) == 3

    out = tmp_path / "未导入.csv"
    dialog.save_error_file(out)
    settle(empty_services)
    rows = list(csv.reader(out.open(encoding="utf-8-sig")))
    assert rows[1][1:3] == ["4", "王建国"] and "1391234" in rows[1][0]
    assert "未导入" in dialog.message.text() or str(out) in dialog.message.text()

    # the mapping is remembered for the next file with these headers
    again = _dialog(qtbot, empty_services)
    again.load_file(path)
    settle(empty_services)
    assert "上次" in again.file_info.text()


def test_a_mapping_without_name_cannot_start(qtbot: QtBot, empty_services: AppServices, tmp_path: Path) -> None:
    dialog = _dialog(qtbot, empty_services)
    dialog.load_file(sample_import_file(tmp_path))
    settle(empty_services)
    dialog.mapping_boxes[0].setCurrentIndex(0)
    assert not dialog.start_button.isEnabled()
    assert dialog.message.text() == "请指定哪一列是客户姓名"


def test_unreadable_file_says_why(qtbot: QtBot, empty_services: AppServices, tmp_path: Path) -> None:
    old = tmp_path / "老表格.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    dialog = _dialog(qtbot, empty_services)
    dialog.load_file(old)
    settle(empty_services)
    assert dialog.pages.currentIndex() == 0
    assert ".xls" in dialog.message.text() or "Excel" in dialog.message.text()


def test_cancel_stops_between_batches_and_reports_it(qtbot: QtBot, empty_services: AppServices,
                                                     tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["姓名", "手机"])
        for i in range(3000):
            w.writerow([f"客户{i}", f"139{i:08d}"])
    dialog = _dialog(qtbot, empty_services)
    dialog.load_file(path)
    settle(empty_services)
    dialog.start()
    dialog.cancel_import()  # before the first batch is committed
    assert not dialog.cancel_button.isEnabled()
    qtbot.waitUntil(lambda: dialog.pages.currentIndex() == PAGE_REPORT, timeout=20_000)
    report = dialog.report
    assert report is not None and report.cancelled
    assert dialog.report_title.text() == "导入已取消"
    assert empty_services.query.count(CustomerFilter()) == report.imported < 3000


def test_export_the_current_list(qtbot: QtBot, services: AppServices, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QWidget

    host = QWidget()
    qtbot.addWidget(host)
    export = ExportController(services, host)
    pks = services.query.ids(CustomerFilter(stage="active"))
    target = tmp_path / "客户.xlsx"
    with qtbot.waitSignal(export.finished, timeout=20_000) as done:
        export.export_to(target, pks)
    result = done.args[0]
    contactable = [r for r in services.query.rows(pks) if not opted_out(services, r.id)]  # opt-outs stay out
    assert isinstance(result, ExportResult) and result.rows == len(contactable) and not result.cancelled
    sheet = openpyxl.load_workbook(target).active
    assert sheet is not None and sheet.max_row == len(contactable) + 1
    assert sheet.cell(1, 1).value == "姓名"


def test_export_when_hq_cannot_be_reached_counts_this_pc_and_says_so(qtbot: QtBot, services: AppServices,
                                                                     tmp_path: Path) -> None:
    from PySide6.QtWidgets import QWidget

    from guide_app.services.sync_service import DEVICE_ID, SyncService
    from guide_app.views.sync_status import SyncController

    sync = SyncService(services.ctx.db, hq_url="http://127.0.0.1:9", memory_tokens=True)  # nothing listens there
    sync.store.set_state(DEVICE_ID, "device-1")  # enrolled at an HQ that does not answer now
    services.sync = SyncController(sync, services.runner)
    host = QWidget()
    qtbot.addWidget(host)
    export = ExportController(services, host)
    said: list[str] = []
    export.status.connect(said.append)
    pks = services.query.ids(CustomerFilter())[:3]
    with qtbot.waitSignal(export.finished, timeout=20_000) as done:
        export.export_to(tmp_path / "离线.csv", pks)
    result = done.args[0]
    assert isinstance(result, ExportResult) and result.note == "ui.export.local_only"
    assert (tmp_path / "离线.csv").exists()
    assert said and said[-1].startswith("已导出") and "离线：只计本机今天的导出" in said[-1]
