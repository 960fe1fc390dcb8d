"""Shared-PC safety in the window: lock (Ctrl+L, wrong PINs, idle, across a restart), quick switch,
masked phones in the list, search results, record page and clipboard, export off for guides,
transfer, erase and the audit log."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QComboBox, QDialog, QMessageBox, QStyleOptionViewItem
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from guide_app.db.models import Guide
from guide_app.domain.phones import national_digits
from guide_app.services.accounts import AccountService
from guide_app.services.audit import AuditService
from guide_app.services.context import Actor, AppContext
from guide_app.services.customer_query import CustomerFilter
from guide_app.services.lock import LockService
from guide_app.services.transfer import TransferService
from guide_app.views.app_services import AppServices
from guide_app.views.audit_view import AuditDialog
from guide_app.views.customer_detail import CustomerDetailDialog
from guide_app.views.customer_table_model import COL
from guide_app.views.erase_dialog import EraseDialog
from guide_app.views.main_window import MainWindow
from guide_app.views.safety import SafetyController
from guide_app.views.transfer_dialog import TransferDialog
from tests.gui.conftest import settle

# the offscreen platform says this of window-modal dialogs (as in the other pages' tests)
pytestmark = pytest.mark.qt_log_ignore("This plugin does not support propagateSizeHints")


def guides_of(services: AppServices) -> list[Actor]:
    with services.ctx.read() as s:
        return [Actor(g.id, g.store_id, role=g.role, name=g.name)
                for g in s.scalars(select(Guide).where(Guide.role == "guide", Guide.store_id == services.ctx.store_id)
                                   .order_by(Guide.id))]


@pytest.fixture()
def guide(services: AppServices) -> AppServices:
    """The same book seen by one of its guides (the demo signs in as the store manager)."""
    actor = guides_of(services)[0]
    return AppServices(AppContext(services.ctx.db, actor), services.runner, services.data_dir, store_name="测试门店")


def open_window(qtbot: QtBot, services: AppServices, idle_ms: int | None = 600_000) -> tuple[MainWindow, SafetyController]:
    controller = SafetyController(services, idle_ms=idle_ms)
    window = MainWindow(services)
    qtbot.addWidget(window)
    controller.attach(window)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    settle(services)
    return window, controller


def content_visible(window: MainWindow) -> bool:
    central = window.centralWidget()
    return central is not None and central.isVisible()


def test_ctrl_l_locks_wrong_pins_are_refused_and_the_right_one_unlocks(qtbot: QtBot, guide: AppServices) -> None:
    AccountService(guide.ctx).set_pin("2580", "2580")
    window, controller = open_window(qtbot, guide)
    assert content_visible(window)
    qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    settle(guide)
    screen = controller.screen
    assert screen is not None and screen.isVisible() and not content_visible(window)
    assert LockService(guide.ctx).state().locked
    for _ in range(2):
        screen.secret.setText("0000")
        screen.submit()
        settle(guide)
    assert "PIN 不正确" in screen.error.text() and screen.isVisible()
    screen.secret.setText("2580")
    screen.submit()
    settle(guide)
    assert not screen.isVisible() and content_visible(window)
    assert not LockService(guide.ctx).state().locked


def test_five_wrong_pins_make_the_screen_wait(qtbot: QtBot, guide: AppServices) -> None:
    AccountService(guide.ctx).set_pin("2580", "2580")
    window, controller = open_window(qtbot, guide)
    controller.lock("manual")
    settle(guide)
    assert controller.screen is not None
    for _ in range(5):
        controller.screen.secret.setText("1111")
        controller.screen.submit()
        settle(guide)
    assert "秒后再试" in controller.screen.error.text()
    controller.screen.secret.setText("2580")
    controller.screen.submit()
    settle(guide)
    assert controller.screen.isVisible() and not content_visible(window)


def test_idle_time_locks_and_the_lock_survives_a_restart(qtbot: QtBot, guide: AppServices) -> None:
    AccountService(guide.ctx).set_pin("2580", "2580")
    window, controller = open_window(qtbot, guide, idle_ms=300)
    qtbot.waitUntil(lambda: controller.is_locked, timeout=5000)
    settle(guide)
    assert not content_visible(window)
    window.close()
    # the app starts again on the same file: it opens locked
    again, controller2 = open_window(qtbot, guide)
    assert controller2.is_locked and not content_visible(again)
    assert controller2.screen is not None and controller2.screen.isVisible()


def test_unlocking_as_another_guide_switches_the_pc(qtbot: QtBot, guide: AppServices) -> None:
    other = guides_of(guide)[1]
    AccountService(guide.ctx).set_pin("2580", "2580")
    AccountService(AppContext(guide.ctx.db, other)).set_pin("1357", "1357")
    _window, controller = open_window(qtbot, guide)
    controller.lock("switch")
    settle(guide)
    screen = controller.screen
    assert screen is not None
    screen.people.setCurrentIndex(screen.people.findData(other.guide_id))
    screen.secret.setText("1357")
    with qtbot.waitSignal(controller.switched, timeout=5000) as switched:
        screen.submit()
    assert switched.args[0].guide_id == other.guide_id == guide.ctx.actor.guide_id
    assert controller.idle.timer.isActive()  # the new guide's idle time runs again


def test_phones_are_masked_in_the_list_search_results_record_page_and_clipboard(qtbot: QtBot,
                                                                                  guide: AppServices) -> None:
    window, controller = open_window(qtbot, guide)
    page = window.customers
    row = next(r for r in guide.query.rows(guide.query.ids()) if r.phone)
    digits = national_digits(row.phone)
    page.search.setText(digits[-4:])
    settle(guide)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=5000)
    settle(guide)
    shown = [str(d) for r in range(page.model.rowCount()) if (d := page.model.index(r, COL["phone"]).data())]
    assert shown and all("****" in s and digits not in s for s in shown)
    page.table.selectRow(0)
    QGuiApplication.clipboard().clear()
    controller.copy_selected()
    settle(guide)
    copied = QGuiApplication.clipboard().text()
    assert "****" in copied and digits not in copied
    QGuiApplication.clipboard().clear()
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)  # the real key press
    settle(guide)
    pressed = QGuiApplication.clipboard().text()
    assert pressed and digits not in pressed

    detail = CustomerDetailDialog(guide, row.id, parent=window)
    qtbot.addWidget(detail)
    settle(guide)
    assert detail.info_labels["phone"].text() == f"{digits[:3]}****{digits[-4:]}"
    history_text = " ".join(item.text() for r in range(detail.history_table.rowCount())
                            if (item := detail.history_table.item(r, 3)) is not None)
    assert digits not in history_text
    assert not hasattr(detail, "erase_button")  # guides cannot erase
    detail.reveal_button.click()  # type: ignore[attr-defined]
    settle(guide)
    assert detail.info_labels["phone"].text() == digits
    manager = AppContext(guide.ctx.db, Actor("m", guide.ctx.store_id, role="store_manager"))
    entries = AuditService(manager).entries(action="reveal_phone")
    assert [(e.actor_id, e.target) for e in entries] == [(guide.ctx.actor.guide_id, row.id)]


def test_export_is_off_for_guides_with_a_reason(qtbot: QtBot, guide: AppServices) -> None:
    window, _controller = open_window(qtbot, guide)
    button = window.customers.export_button
    assert not button.isEnabled() and "店长" in button.toolTip()


def test_manager_transfers_a_guides_customers_evenly(qtbot: QtBot, services: AppServices) -> None:
    g1, g2, g3 = guides_of(services)[:3]
    before = len(TransferService(services.ctx).customers_of(g1.guide_id))
    assert before > 2
    dialog = TransferDialog(services, from_guide_id=g1.guide_id)
    qtbot.addWidget(dialog)
    settle(services)
    assert dialog.table.rowCount() == before
    phones = [item.text() for r in range(before) if (item := dialog.table.item(r, 1)) is not None and item.text()]
    assert phones and all("****" in p for p in phones)
    dialog.submit()
    assert "没有指定导购" in dialog.error.text()  # nothing chosen yet
    for i in range(dialog.targets.count()):
        target = dialog.targets.item(i)
        if target.data(Qt.ItemDataRole.UserRole) in (g2.guide_id, g3.guide_id):
            target.setCheckState(Qt.CheckState.Checked)
    dialog.share_evenly()
    # by hand: the first customer goes to the guide picked in its cell's combo
    index = dialog.table.model().index(0, 2)
    editor = dialog.delegate.createEditor(dialog.table.viewport(), QStyleOptionViewItem(), index)
    assert isinstance(editor, QComboBox)
    editor.setCurrentIndex(editor.findData(g2.guide_id))
    dialog.delegate.setModelData(editor, dialog.table.model(), index)
    assert dialog.target_of(0) == g2.guide_id and dialog.table.item(0, 2).text() == g2.name  # type: ignore[union-attr]
    dialog.note.setText("调店交接")
    with qtbot.waitSignal(dialog.transferred, timeout=10_000) as done:
        dialog.submit()
    result = done.args[0]
    assert result.customers == before and sum(result.per_guide.values()) == before
    assert set(result.per_guide) == {g2.guide_id, g3.guide_id}
    assert TransferService(services.ctx).customers_of(g1.guide_id) == []


def test_manager_erases_from_the_record_page_and_reads_the_audit_log(qtbot: QtBot, qtmodeltester: object,
                                                                    services: AppServices, tmp_path: Path) -> None:
    cid = services.query.rows(services.query.ids())[0].id
    detail = CustomerDetailDialog(services, cid)
    qtbot.addWidget(detail)
    settle(services)
    detail.erase_button.click()  # type: ignore[attr-defined]
    erase = detail.findChild(EraseDialog)
    assert erase is not None
    erase.reason.setText("顾客书面申请")
    erase.confirm.setText("删除")
    with qtbot.waitSignal(detail.deleted, timeout=10_000):
        erase.submit()
    settle(services)
    assert cid not in {r.id for r in services.query.rows(services.query.ids(CustomerFilter()))}
    audit = AuditDialog(services)
    qtbot.addWidget(audit)
    settle(services)
    qtmodeltester.check(audit.model)  # type: ignore[attr-defined]
    actions = [audit.model.index(r, 2).data() for r in range(audit.model.rowCount())]
    assert "删除个人信息" in actions
    assert audit.result() != QDialog.DialogCode.Accepted


def test_a_guide_disabled_at_hq_makes_the_app_ask_the_manager_to_transfer(
        qtbot: QtBot, services: AppServices, monkeypatch: pytest.MonkeyPatch) -> None:
    gone = guides_of(services)[0]
    with services.ctx.db.write() as s:  # what the org data of a pull does when HQ disables an account
        row = s.get(Guide, gone.guide_id)
        assert row is not None
        row.active = False
    asked: list[str] = []

    def answer(_parent: object, _title: str, text: str, *args: object) -> QMessageBox.StandardButton:
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    window, _controller = open_window(qtbot, services)
    assert len(asked) == 1 and gone.name in asked[0] and "停用" in asked[0]
    dialog = window.findChild(TransferDialog)
    assert dialog is not None and dialog.from_id() == gone.guide_id
    assert dialog.table.rowCount() == len(TransferService(services.ctx).customers_of(gone.guide_id)) > 0


def test_set_pin_dialog_refuses_a_weak_or_mismatched_pin_in_chinese(qtbot: QtBot, guide: AppServices) -> None:
    from guide_app.views.pin_dialog import SetPinDialog

    dialog = SetPinDialog(AccountService(guide.ctx), guide.runner)
    qtbot.addWidget(dialog)
    dialog.pin.setText("1234")
    dialog.confirm.setText("1234")
    dialog.submit()
    settle(guide)
    assert "太简单" in dialog.error.text()
    dialog.pin.setText("2580")
    dialog.confirm.setText("2581")
    dialog.submit()
    settle(guide)
    assert "不一致" in dialog.error.text()
    dialog.pin.setText("2580")
    dialog.confirm.setText("2580")
    dialog.submit()
    settle(guide)
    assert dialog.result() == QDialog.DialogCode.Accepted and AccountService(guide.ctx).has_pin(guide.ctx.actor.guide_id)


def test_consent_from_the_record_page_and_opt_out_cannot_be_undone(qtbot: QtBot, guide: AppServices) -> None:
    from guide_app.views.detail_safety import ConsentDialog

    row = next(r for r in guide.query.rows(guide.query.ids())
               if guide.query.detail(r.id).consent_sms != "opted_out")
    detail = CustomerDetailDialog(guide, row.id)
    qtbot.addWidget(detail)
    settle(guide)
    d = guide.query.detail(row.id)
    dialog = ConsentDialog(guide, row.id, {"phone": d.consent_phone, "sms": d.consent_sms, "wechat": d.consent_wechat})
    qtbot.addWidget(dialog)
    dialog.values["sms"].setCurrentIndex(dialog.values["sms"].findData("opted_out"))
    dialog.method.setCurrentIndex(dialog.method.findData("form"))
    dialog.submit()
    settle(guide)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert guide.query.detail(row.id).consent_sms == "opted_out"
    again = ConsentDialog(guide, row.id, {"phone": d.consent_phone, "sms": "opted_out", "wechat": d.consent_wechat})
    qtbot.addWidget(again)
    assert not again.values["sms"].isEnabled()  # opt-out wins: the store cannot turn it back
    settle(guide)
    assert f"短信：已拒绝（纸质表格，{guide.ctx.actor.name}）" in again.record.text()  # how and by whom


def test_a_filtered_selection_in_the_list_is_what_the_transfer_ticks(qtbot: QtBot, services: AppServices) -> None:
    g1, g2 = guides_of(services)[:2]
    window, controller = open_window(qtbot, services)
    page = window.customers
    owned = TransferService(services.ctx).customers_of(g1.guide_id)
    for r in range(page.model.rowCount()):
        page.model.row_at(r)  # asks for the pages; they arrive from the DB thread
    settle(services)
    picked = [r for r in range(page.model.rowCount())
              if (row := page.model.row_at(r)) is not None and row.owner_guide_id == g1.guide_id][:2]
    selection = page.table.selectionModel()
    selection.clearSelection()
    for r in picked:
        selection.select(page.model.index(r, 0), selection.SelectionFlag.Select | selection.SelectionFlag.Rows)
    assert len(page.selected_pks()) == 2
    dialog = controller.open_transfer_for_selection()
    settle(services)
    assert dialog.from_id() == g1.guide_id and dialog.table.rowCount() == len(owned)
    ticked = [r for r in range(dialog.table.rowCount())
              if (item := dialog.table.item(r, 0)) is not None and item.checkState() == Qt.CheckState.Checked]
    assert len(ticked) == 2
    for i in range(dialog.targets.count()):
        target = dialog.targets.item(i)
        target.setCheckState(Qt.CheckState.Checked if target.data(Qt.ItemDataRole.UserRole) == g2.guide_id
                             else Qt.CheckState.Unchecked)
    dialog.share_evenly()
    with qtbot.waitSignal(dialog.transferred, timeout=10_000) as done:
        dialog.submit()
    assert done.args[0].customers == 2
    assert len(TransferService(services.ctx).customers_of(g1.guide_id)) == len(owned) - 2


def test_on_a_pc_without_hq_the_manager_approves_a_new_guide_from_the_lock_screen(
        qtbot: QtBot, empty_services: AppServices, monkeypatch: pytest.MonkeyPatch) -> None:
    from guide_app.views.switch_guide import AddGuideDialog

    AccountService(empty_services.ctx).set_pin("2580", "2580")  # 王丽, the offline store's manager
    _window, controller = open_window(qtbot, empty_services)
    controller.lock("switch")
    settle(empty_services)
    screen = controller.screen
    assert screen is not None and screen.add_guide_button.isVisibleTo(screen) and not screen.sign_in_button.isVisibleTo(screen)
    answers = iter(["0000", "2580"])

    def fill(dialog: AddGuideDialog) -> QDialog.DialogCode:
        if dialog.error.text():  # the first try was refused: the reason is shown, the name kept
            assert "PIN 不正确" in dialog.error.text() and dialog.name.text() == "赵小燕"
        dialog.name.setText("赵小燕")
        dialog.pin.setText(next(answers))
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(AddGuideDialog, "exec", fill)
    with qtbot.waitSignal(controller.switched, timeout=10_000) as switched:
        screen.add_guide_button.click()
    assert next(answers, None) is None  # refused once, then approved
    actor = switched.args[0]
    assert (actor.name, actor.role) == ("赵小燕", "guide") and empty_services.ctx.actor.guide_id == actor.guide_id
    assert not LockService(empty_services.ctx).state().locked
