"""Two PCs of one store edit the same customer offline, then sync: they converge on HQ's merge,
and the losing typing stays in the customer's history."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from guide_app.db.models import FollowUp
from guide_app.services.follow_ups import FollowUpService
from tests.e2e.clients import PC
from tests.e2e.hq_process import HQProcess

pytestmark = pytest.mark.e2e


def two(hq: HQProcess, tmp_path: Path, pcs: list[object], store: str = "sh01") -> tuple[PC, PC]:
    a = PC(tmp_path / "a.db", hq.url, f"{store}.guide1")
    b = PC(tmp_path / "b.db", hq.url, f"{store}.guide2")
    pcs.extend([a, b])
    a.sync()
    b.sync()
    return a, b


def settle(*clients: PC) -> None:
    for _ in range(2):  # a second round carries what HQ derived from the first (merges, re-points)
        for pc in clients:
            pc.sync()


def test_initial_sync_brings_the_store_book_and_org(hq: HQProcess, tmp_path: Path, pcs: list[object]) -> None:
    a, _ = two(hq, tmp_path, pcs)
    assert len([v for v in a.book().values() if not v[5]]) >= 20
    assert a.sync_service.status().online is True
    assert a.outbox_status() == {}


def test_same_field_last_writer_wins_and_the_loser_is_kept(hq: HQProcess, tmp_path: Path,
                                                           pcs: list[object]) -> None:
    a, b = two(hq, tmp_path, pcs)
    cid = a.create("孙小美", "13811112222")
    settle(a, b)
    a.edit(cid, notes="喜欢红色")  # offline on both PCs
    b.edit(cid, notes="喜欢蓝色")  # later stamp: wins
    settle(a, b)
    assert a.customer(cid).notes == b.customer(cid).notes == "喜欢蓝色"
    assert a.book() == b.book()
    assert ("notes", "喜欢红色") in a.history(cid)  # A's typing is not lost
    assert ("notes", "喜欢红色") in b.history(cid)


def test_different_fields_both_survive(hq: HQProcess, tmp_path: Path, pcs: list[object]) -> None:
    a, b = two(hq, tmp_path, pcs)
    cid = a.create("钱多多", "13811113333")
    settle(a, b)
    a.edit(cid, wechat_id="qianduoduo")
    b.edit(cid, sizes="M / 38")
    settle(a, b)
    ca, cb = a.customer(cid), b.customer(cid)
    assert (ca.wechat_id, ca.sizes) == (cb.wechat_id, cb.sizes) == ("qianduoduo", "M / 38")


def test_tag_add_wins_over_a_concurrent_remove(hq: HQProcess, tmp_path: Path, pcs: list[object]) -> None:
    a, b = two(hq, tmp_path, pcs)
    cid = a.create("赵敏", "13811114444")
    tag = a.any_tag()
    a.tags.assign([cid], tag)
    settle(a, b)
    b.tags.unassign([cid], tag)  # B removes the add it saw ...
    a.tags.unassign([cid], tag)
    a.tags.assign([cid], tag)  # ... while A removes and re-adds: an add B never saw
    settle(a, b)
    assert a.tags.tags_of(cid) == b.tags.tags_of(cid)
    assert tag in a.tags.tags_of(cid)
    assert a.tag_state() == b.tag_state()


def test_delete_vs_edit_the_delete_stays_and_the_edit_is_in_history(hq: HQProcess, tmp_path: Path,
                                                                    pcs: list[object]) -> None:
    a, b = two(hq, tmp_path, pcs)
    cid = a.create("周芷若", "13811115555")
    settle(a, b)
    a.customers.delete(cid)
    b.edit(cid, notes="刚买了大衣")
    settle(a, b)
    assert a.customer(cid).deleted_hlc is not None and b.customer(cid).deleted_hlc is not None
    assert a.book() == b.book()
    assert a.customer(cid).notes == "刚买了大衣"  # the typing is kept on the (deleted) record
    assert b.outbox_status().get("rejected", 0) == 0


def test_same_new_phone_offline_on_two_pcs_is_merged_into_one(hq: HQProcess, tmp_path: Path,
                                                              pcs: list[object]) -> None:
    a, b = two(hq, tmp_path, pcs)
    x = a.create("黄蓉", "13811116666", notes="A 店员记的")
    y = b.create("黄蓉", "13811116666", wechat_id="huangrong")
    FollowUpService(b.ctx).add(y, "call", "电话回访")
    settle(a, b, a)
    assert a.book() == b.book()
    survivor, loser = sorted([x, y])
    assert a.customer(loser).merged_into == survivor
    merged = a.customer(survivor)
    assert merged.phone == "+8613811116666" and merged.wechat_id == "huangrong" and merged.notes == "A 店员记的"
    with a.db.read() as s:
        owners = set(s.scalars(select(FollowUp.customer_id).where(FollowUp.note == "电话回访")))
    assert owners == {survivor}
    live = [k for k, v in a.book().items() if v[1] == "+8613811116666" and not v[5] and not v[6]]
    assert live == [survivor]
