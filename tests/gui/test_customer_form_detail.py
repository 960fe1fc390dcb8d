"""Creating, editing and deleting a customer through the form; the record page's tags, follow-ups,
purchases and history."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from guide_app.domain.errors import UserError
from guide_app.services.customer_query import CustomerFilter
from guide_app.services.customers import CustomerInput
from guide_app.views.app_services import AppServices
from guide_app.views.customer_detail import CustomerDetailDialog
from guide_app.views.customer_form import CustomerFormDialog
from guide_app.views.customers_page import CustomersPage
from tests.gui.conftest import settle


def _page(qtbot: QtBot, services: AppServices) -> CustomersPage:
    page = CustomersPage(services)
    qtbot.addWidget(page)
    settle(services)
    return page


def test_bad_phone_shows_the_chinese_message_inline_and_nothing_is_saved(qtbot: QtBot,
                                                                          empty_services: AppServices) -> None:
    form = CustomerFormDialog(empty_services)
    qtbot.addWidget(form)
    form.name.setText("林小满")
    form.phone.setText("1381234")
    form.submit()
    settle(empty_services)
    label = form.field_errors["phone"]
    assert not label.isHidden()
    assert label.text() == "手机号“1381234”不是有效号码（请检查号段）"
    assert form.phone.property("invalid") is True
    assert empty_services.query.count(CustomerFilter()) == 0
    form.name.setText("")
    form.phone.setText("13812345678")
    form.submit()
    settle(empty_services)
    assert form.field_errors["name"].text() == "请填写客户姓名"
    assert form.field_errors["phone"].isHidden()


def test_create_edit_and_delete_through_the_ui(qtbot: QtBot, empty_services: AppServices,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    page = _page(qtbot, empty_services)
    form = page.new_customer()
    form.name.setText("林小满")
    form.phone.setText("138 1234 5678")
    form.birthday.setText("1990年5月20日")
    form.notes.setPlainText("喜欢白茶香调")
    with qtbot.waitSignal(form.saved) as saved:
        form.submit()
    cid = saved.args[0]
    settle(empty_services)
    assert page.model.rowCount() == 1
    page.model.row_at(0)  # asks for the page; it arrives from the DB thread
    settle(empty_services)
    row = page.model.row_at(0)
    assert row is not None and row.name == "林小满" and row.phone == "+8613812345678"
    assert page.model.data(page.model.index(0, 1)) == "138****5678"

    edit = CustomerFormDialog(empty_services, cid)
    qtbot.addWidget(edit)
    settle(empty_services)
    # the edit form masks the stored number too; left untouched, the number is kept
    assert edit.phone.text() == "138****5678" and edit.birthday.text() == "1990-05-20"
    edit.name.setText("林小满（VIP）")
    with qtbot.waitSignal(edit.saved):
        edit.submit()
    assert empty_services.customers.get(cid).name == "林小满（VIP）"
    assert empty_services.customers.get(cid).phone == "+8613812345678"

    asked: list[str] = []

    def answer(_parent: object, _title: str, text: str, *args: object) -> QMessageBox.StandardButton:
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", answer)
    page.refresh()
    settle(empty_services)
    page.model.row_at(0)
    settle(empty_services)
    page.table.selectRow(0)
    page.delete_selected()
    settle(empty_services)
    assert asked and "林小满（VIP）" in asked[0]
    assert page.model.rowCount() == 0
    with pytest.raises(UserError):
        empty_services.customers.get(cid)


def test_delete_asks_and_a_no_keeps_the_customer(qtbot: QtBot, empty_services: AppServices,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cid = empty_services.customers.create(CustomerInput(name="赵敏", phone="13912340004"))
    page = _page(qtbot, empty_services)
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.No)
    page.table.selectRow(0)
    page.delete_selected()
    settle(empty_services)
    assert empty_services.customers.get(cid).name == "赵敏"


def test_duplicate_phone_offers_to_open_the_existing_customer(qtbot: QtBot, empty_services: AppServices) -> None:
    existing = empty_services.customers.create(CustomerInput(name="赵敏", phone="13912340004"))
    form = CustomerFormDialog(empty_services)
    qtbot.addWidget(form)
    form.name.setText("赵敏敏")
    form.phone.setText("139-1234-0004")
    form.submit()
    settle(empty_services)
    assert "已属于本店客户“赵敏”" in form.field_errors["phone"].text()
    assert not form.open_existing_button.isHidden()
    with qtbot.waitSignal(form.open_existing) as opened:
        form.open_existing_button.click()
    assert opened.args == [existing]


def test_record_page_tags_follow_ups_purchases_history(qtbot: QtBot, empty_services: AppServices,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    svc = empty_services
    cid = svc.customers.create(CustomerInput(name="陈小雨", phone="13912340001"))
    skin = svc.tags.create_group("肤质", color="#1e9e6a", multi=False)
    dry, oily = svc.tags.create_tag(skin, "干皮"), svc.tags.create_tag(skin, "油皮")
    hobby = svc.tags.create_group("兴趣", color="#2f6fde")
    perfume = svc.tags.create_tag(hobby, "香水")
    dialog = CustomerDetailDialog(svc, cid)
    qtbot.addWidget(dialog)
    settle(svc)
    assert dialog.heading.text() == "陈小雨"
    assert dialog.info_labels["phone"].text() == "139****0001"

    # single-select group behaves as radio buttons
    dialog.tag_inputs[dry].setChecked(True)
    dialog.tag_inputs[perfume].setChecked(True)
    qtbot.waitUntil(lambda: set(svc.tags.tags_of(cid)) == {dry, perfume})
    settle(svc)
    dialog.tag_inputs[oily].setChecked(True)
    qtbot.waitUntil(lambda: set(svc.tags.tags_of(cid)) == {oily, perfume})
    settle(svc)
    assert dialog.tag_inputs[oily].isChecked() and not dialog.tag_inputs[dry].isChecked()

    dialog.fu_kind.setCurrentIndex(dialog.fu_kind.findData("call"))
    dialog.fu_note.setText("约周末到店试新品")
    dialog.fu_remind.setChecked(True)
    dialog.fu_add.click()
    settle(svc)
    assert dialog.follow_table.rowCount() == 1
    assert dialog.follow_table.item(0, 1).text() == "电话"  # type: ignore[union-attr]
    assert dialog.fu_note.text() == "" and not dialog.fu_remind.isChecked()  # saved: the entry row is emptied

    dialog.p_amount.setText("abc")
    dialog.p_add.click()
    settle(svc)
    assert dialog.message.text() == "金额“abc”不是有效的数字" or "abc" in dialog.message.text()
    assert dialog.p_amount.text() == "abc"  # refused: what was typed stays
    dialog.p_amount.setText("1,299.50")
    dialog.p_items.setText("修护面霜")
    dialog.p_add.click()
    settle(svc)
    assert dialog.message.text() == ""
    assert dialog.p_amount.text() == "" and dialog.p_items.text() == ""
    assert dialog.purchase_table.rowCount() == 1
    assert dialog.purchase_table.item(0, 1).text() == "¥1,299.50"  # type: ignore[union-attr]
    assert "¥1,299.50" in dialog.summary.text()
    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    dialog.purchase_table.selectRow(0)
    dialog.delete_purchase()
    settle(svc)
    assert dialog.purchase_table.rowCount() == 0

    svc.customers.update(cid, CustomerInput(name="陈小雨", phone="13912340002", notes="敏感肌", gender="female"))
    dialog.reload()
    settle(svc)
    kinds = [dialog.history_table.item(r, 1).text() for r in range(dialog.history_table.rowCount())]  # type: ignore[union-attr]
    changes = [dialog.history_table.item(r, 3) for r in range(dialog.history_table.rowCount())]
    assert "修改" in kinds and "新建" in kinds
    texts = {c.text() for c in changes if c is not None}
    assert {"— → 敏感肌", "139****0001 → 139****0002", "— → 女"} <= texts  # phones masked, codes as words
    assert dialog.history_table.item(0, 4).text() == "王丽"  # type: ignore[union-attr]
