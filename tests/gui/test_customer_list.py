"""The customer list: search while typing, tag and stage filters, the lazy model, tagging a selection."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from guide_app.domain.pinyin_keys import pinyin_keys
from guide_app.services.customer_query import CustomerFilter
from guide_app.services.customers import CustomerInput
from guide_app.views.app_services import AppServices
from guide_app.views.customer_table_model import COL, MAX_PAGES, PAGE_SIZE, CustomerTableModel
from guide_app.views.customers_page import CustomersPage
from guide_app.views.due_today import DueModel
from tests.gui.conftest import settle


def _page(qtbot: QtBot, services: AppServices) -> CustomersPage:
    page = CustomersPage(services)
    qtbot.addWidget(page)
    page.setMinimumSize(1200, 700)
    page.show()
    settle(services)
    return page


def _names(page: CustomersPage) -> list[str]:
    settle(page.services)
    model = page.model
    return [model.data(model.index(r, COL["name"])) for r in range(model.rowCount())]


def test_models_pass_the_model_tester(qtbot: QtBot, qtmodeltester: object, services: AppServices) -> None:
    model = CustomerTableModel(services.query, services.runner)
    model.set_ids(services.query.ids(CustomerFilter()))
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    settle(services)  # pages requested by the tester arrive; the rows must still check out
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    due = DueModel()
    due.set_rows(services.follow_ups.due_today())
    assert due.rowCount() > 0
    qtmodeltester.check(due)  # type: ignore[attr-defined]


def test_typing_in_search_filters_the_table(qtbot: QtBot, services: AppServices) -> None:
    page = _page(qtbot, services)
    total = page.model.rowCount()
    assert total == 120
    assert "120" in page.count_label.text()
    target = services.query.rows(services.query.ids(CustomerFilter())[:1])[0]
    # typed as a guide does: pinyin, letter by letter (each keystroke restarts the debounce)
    full_pinyin = pinyin_keys(target.name)[0].split()[0]
    qtbot.keyClicks(page.search, full_pinyin)
    qtbot.waitUntil(lambda: 0 < page.model.rowCount() < total)
    assert target.name in _names(page)
    page.search.setText(target.name)
    qtbot.waitUntil(lambda: target.name in _names(page) and page.model.rowCount() < total)
    names = _names(page)
    assert target.name in names and all(target.name in n for n in names)
    assert "找到" in page.count_label.text()
    # phone digits find the same customer
    page.search.setText(target.phone[-8:])
    qtbot.waitUntil(lambda: _names(page) == [target.name])
    page.search.setText("没有这个人zzz")
    qtbot.waitUntil(lambda: page.model.rowCount() == 0)
    assert page.empty_hint.isVisible() and "没有符合条件" in page.empty_hint.text()


def test_tag_filter_or_within_group_and_across_groups_and_none_of(qtbot: QtBot, services: AppServices) -> None:
    page = _page(qtbot, services)
    groups = [g for g in services.tags.groups() if len(g.tags) >= 2 and sum(t.customer_count for t in g.tags)]
    first, second = groups[0], groups[1]
    a, b = first.tags[0], first.tags[1]
    page.filters.tag_box(a.id).setChecked(True)
    qtbot.waitUntil(lambda: page.model.rowCount() == a.customer_count)
    page.filters.tag_box(b.id).setChecked(True)  # OR within the group
    either = services.query.count(CustomerFilter(tags=page.filters.tag_filter()))
    assert either >= max(a.customer_count, b.customer_count)
    qtbot.waitUntil(lambda: page.model.rowCount() == either)
    page.filters.tag_box(second.tags[0].id).setChecked(True)  # AND across groups
    settle(services)
    assert page.model.rowCount() <= either
    for r in range(page.model.rowCount()):
        row = page.model.row_at(r)
        assert row is not None
        names = {n for n, _ in row.tags}
        assert (a.name in names or b.name in names) and second.tags[0].name in names
    page.filters.clear()
    qtbot.waitUntil(lambda: page.model.rowCount() == 120)
    page.filters.none_action(a.id).setChecked(True)
    qtbot.waitUntil(lambda: page.model.rowCount() == 120 - a.customer_count)
    assert "（1）" in page.filters.none_of.text()


def test_stage_filter_and_mine_only(qtbot: QtBot, services: AppServices) -> None:
    page = _page(qtbot, services)
    page.filters.stage.setCurrentIndex(page.filters.stage.findData("active"))
    settle(services)
    assert 0 < page.model.rowCount() < 120
    assert {page.model.data(page.model.index(r, COL["stage"])) for r in range(page.model.rowCount())} == {"活跃"}
    page.filters.clear()
    page.filters.scope.setCurrentIndex(page.filters.scope.findData("mine"))
    settle(services)
    mine = services.query.count(CustomerFilter(owner_guide_id=services.ctx.actor.guide_id))
    assert page.model.rowCount() == mine < 120


def test_sort_by_last_purchase_descending(qtbot: QtBot, services: AppServices) -> None:
    page = _page(qtbot, services)
    page.sort.setCurrentIndex(page.sort.findData("last_purchase"))
    page.descending.setChecked(True)
    settle(services)
    page.model.row_at(0)  # the first page, whether or not the view has painted yet
    settle(services)
    dates = [page.model.data(page.model.index(r, COL["last_purchase"])) for r in range(10)]
    assert dates == sorted(dates, reverse=True) and dates[0]


def test_lazy_model_keeps_only_a_few_pages(qtbot: QtBot, services: AppServices) -> None:
    # a book bigger than the page cache: ids for everyone, rows only for the pages painted
    model = CustomerTableModel(services.query, services.runner)
    ids = services.query.ids(CustomerFilter())
    model.set_ids(ids * ((PAGE_SIZE * (MAX_PAGES + 3)) // len(ids) + 1))
    for row in range(0, model.rowCount(), PAGE_SIZE):
        model.data(model.index(row, 0))
        settle(services)
    assert model.cached_pages() <= MAX_PAGES
    assert model.data(model.index(model.rowCount() - 1, 0))


def test_tag_a_selection(qtbot: QtBot, services: AppServices) -> None:
    page = _page(qtbot, services)
    group = next(g for g in services.tags.groups() if g.multi and g.tags)
    tag = group.tags[-1]
    page.table.selectRow(0)
    page.table.selectionModel().select(page.model.index(1, 0), page.table.selectionModel().SelectionFlag.Select
                                       | page.table.selectionModel().SelectionFlag.Rows)
    ids = [r.id for r in services.query.rows(page.selected_pks())]
    assert len(ids) == 2
    assert page.tag_button.isEnabled() and "2" in page.tag_button.text()
    page.tag_selection(tag.id, True)
    settle(services)
    assert all(tag.id in services.tags.tags_of(cid) for cid in ids)
    page.tag_selection(tag.id, False)
    settle(services)
    assert not any(tag.id in services.tags.tags_of(cid) for cid in ids)


def test_empty_book_says_what_to_do(qtbot: QtBot, empty_services: AppServices) -> None:
    page = _page(qtbot, empty_services)
    assert page.model.rowCount() == 0
    assert page.empty_hint.isVisible() and "新建客户" in page.empty_hint.text()
    assert page.tabs.tabText(1) == "今日待跟进（0）"


def test_a_refresh_keeps_the_selection(qtbot: QtBot, services: AppServices) -> None:
    page = _page(qtbot, services)
    page.table.selectRow(5)
    chosen = page.selected_pks()
    services.customers.create(CustomerInput(name="阿阿新客", phone="13912349999"))  # sorts first by pinyin
    page.refresh()
    qtbot.waitUntil(lambda: page.model.rowCount() == 121)
    assert page.selected_pks() == chosen
    page.refresh()  # the same result again: rows repaint, nothing moves
    settle(services)
    assert page.selected_pks() == chosen


def test_the_first_page_is_read_before_the_due_list(qtbot: QtBot, services: AppServices,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """One DB thread serves the page: on a big book the due list (tens of thousands of open reminders)
    must not hold up the rows the guide is waiting to see."""
    order: list[str] = []
    rows, due_today = services.query.rows, services.follow_ups.due_today

    def rows_logged(*a: object, **k: object) -> object:
        order.append("rows")
        return rows(*a, **k)  # type: ignore[arg-type]

    def due_logged(*a: object, **k: object) -> object:
        order.append("due")
        return due_today(*a, **k)  # type: ignore[arg-type]

    monkeypatch.setattr(services.query, "rows", rows_logged)
    monkeypatch.setattr(services.follow_ups, "due_today", due_logged)
    page = _page(qtbot, services)
    assert order[:2] == ["rows", "due"], order
    assert page.due.model.rowCount() > 0
