"""Faults between a PC and the real HQ: nothing is lost, nothing is applied twice."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, text

from guide_app.db.models import Outbox
from guide_app.sync.errors import UpgradeRequiredError
from tests.e2e.clients import PC
from tests.e2e.faults import FaultTransport, once
from tests.e2e.hq_process import HQProcess

pytestmark = pytest.mark.e2e
DAY = 24 * 3600 * 1000
HOUR = 3600 * 1000


def hq_applied(hq: HQProcess, device_id: str) -> list[tuple[int, str]]:
    engine = create_engine(hq.db_url)
    with engine.connect() as c:
        rows = c.execute(text("SELECT seq, status FROM device_mutation WHERE device_id = :d ORDER BY seq"),
                         {"d": device_id}).all()
    engine.dispose()
    return [(int(r[0]), str(r[1])) for r in rows]


def history_count(hq: HQProcess, customer_id: str) -> int:
    engine = create_engine(hq.db_url)
    with engine.connect() as c:
        n = c.execute(text("SELECT count(*) FROM sync_row WHERE entity = 'customer' AND id = :i"),
                      {"i": customer_id}).scalar_one()
    engine.dispose()
    return int(n)


def test_response_lost_after_hq_committed_is_not_applied_twice(hq: HQProcess, tmp_path: Path,
                                                                pcs: list[object]) -> None:
    transport = FaultTransport(once("/push", "drop-after"))
    a = PC(tmp_path / "a.db", hq.url, "hz01.guide1", transport=transport)
    pcs.append(a)
    ids = [a.create(f"客户{i}", f"1390000{i:04d}") for i in range(3)]
    report = a.sync()
    assert ("push", "dropped") in transport.seen
    assert report.duplicates == 3 and report.applied == 0  # HQ had them; the re-send is acknowledged
    device = a.sync_service.client.device_id or ""
    assert [seq for seq, _ in hq_applied(hq, device)] == [1, 2, 3]
    assert a.outbox_status() == {"acked": 3}
    assert all(history_count(hq, cid) == 1 for cid in ids)


def test_a_refusal_whose_answer_was_lost_is_still_shown_with_its_reason(hq: HQProcess, tmp_path: Path,
                                                                         pcs: list[object]) -> None:
    transport = FaultTransport(once("/push", "drop-after"))
    a = PC(tmp_path / "a.db", hq.url, "hz01.guide1", transport=transport)
    pcs.append(a)
    a.skew = DAY  # HQ refuses the stamp; the answer saying so is lost, the re-send is a duplicate
    a.create("答复丢失", "")
    report = a.sync()
    assert ("push", "dropped") in transport.seen and report.rejected == 1
    (refused,) = a.sync_service.rejected()
    assert refused.code == "clock_ahead" and "时间" in refused.reason


def test_acked_but_not_recorded_resend_gets_duplicates(hq: HQProcess, tmp_path: Path, pcs: list[object]) -> None:
    """The PC crashed after HQ acknowledged but before it marked its outbox: the next run re-sends."""
    a = PC(tmp_path / "a.db", hq.url, "hz01.guide2")
    pcs.append(a)
    cid = a.create("重发客户", "13900001111")
    a.sync()
    with a.db.write() as s:  # what the file looks like if the process died before record_push
        s.query(Outbox).update({"status": "pending"})
    a.edit(cid, notes="之后的修改")
    report = a.sync()
    assert report.duplicates == 1 and report.applied == 1
    device = a.sync_service.client.device_id or ""
    assert [seq for seq, _ in hq_applied(hq, device)] == [1, 2]


@pytest.mark.parametrize("status", [500, 503, 429])
def test_server_errors_are_retried_then_the_sync_completes(hq: HQProcess, tmp_path: Path, pcs: list[object],
                                                           status: int) -> None:
    answers = [httpx.Response(status, headers={"Retry-After": "0"},
                              json={"code": "server_error", "detail": "injected", "message_zh": "总部服务出错"})
               for _ in range(2)]
    transport = FaultTransport(lambda req: answers.pop() if answers and req.url.path.endswith("/push") else None)
    a = PC(tmp_path / "a.db", hq.url, "gz01.guide1", transport=transport)
    pcs.append(a)
    a.create("重试客户", f"1370000{status:04d}")
    report = a.sync()
    assert [s for name, s in transport.seen if name == "push"] == [status, status, 200]
    assert report.applied == 1 and a.outbox_status() == {"acked": 1}


def test_connection_dropped_mid_page_keeps_the_old_cursor_then_resumes(hq: HQProcess, tmp_path: Path,
                                                                       pcs: list[object]) -> None:
    transport = FaultTransport(once("/pull", "drop-body"))
    a = PC(tmp_path / "a.db", hq.url, "gz01.guide2", transport=transport)
    pcs.append(a)
    report = a.sync()
    assert ("pull", "cut") in transport.seen
    fresh = PC(tmp_path / "b.db", hq.url, "gz01.guide3")
    pcs.append(fresh)
    fresh.sync()
    assert a.book() == fresh.book() and report.pulled_rows > 0


def test_token_expiring_mid_push_is_refreshed_once(hq: HQProcess, tmp_path: Path, pcs: list[object]) -> None:
    pushes = {"n": 0}
    holder: list[PC] = []

    def expire_before_second_batch(request: httpx.Request) -> None:
        if request.url.path.endswith("/push"):
            pushes["n"] += 1
            if pushes["n"] == 2:
                request.headers["Authorization"] = "Bearer expired.token"
        return None

    transport = FaultTransport(expire_before_second_batch)
    a = PC(tmp_path / "a.db", hq.url, "sz01.guide1", transport=transport)
    holder.append(a)
    pcs.append(a)
    for i in range(210):  # two push batches
        a.create(f"批量{i}", "")
    refresh_token = a.sync_service.client.tokens.refresh_token()
    report = a.sync()
    assert report.applied == 210
    assert ("push", 401) in transport.seen and ("refresh", 200) in transport.seen
    assert a.sync_service.client.tokens.refresh_token() != refresh_token  # rotated


@pytest.mark.parametrize("skew", [HOUR, DAY])
def test_clock_ahead_stamps_are_refused_visibly_then_fixed_after_rebase(hq: HQProcess, tmp_path: Path,
                                                                        pcs: list[object], skew: int) -> None:
    a = PC(tmp_path / "a.db", hq.url, "sz01.guide2")
    pcs.append(a)
    a.skew = skew  # the PC's clock jumps ahead while it works offline
    cid = a.create("时钟客户", "")
    a.sync()
    rejected = a.sync_service.rejected()
    assert [r.code for r in rejected] == ["clock_ahead"] and "时间" in rejected[0].reason
    assert a.sync_service.status().rejected == 1
    assert a.store_offset() == pytest.approx(-skew, abs=2000)
    a.sync_service.resubmit_rejected(rejected[0].seq)  # 修正: re-stamped with the re-based clock
    a.sync()
    assert a.sync_service.rejected() == [] and a.outbox_status().get("pending", 0) == 0
    b = PC(tmp_path / "b.db", hq.url, "sz01.guide3")
    pcs.append(b)
    b.sync()
    assert b.customer(cid).name == "时钟客户"


def test_discarding_a_refused_edit_brings_hqs_value_back(hq: HQProcess, tmp_path: Path,
                                                         pcs: list[object]) -> None:
    a = PC(tmp_path / "a.db", hq.url, "hz01.manager")
    pcs.append(a)
    cid = a.create("放弃客户", "", notes="总部的备注")
    a.sync()
    a.skew = DAY
    a.edit(cid, notes="被拒绝的备注")
    a.sync()
    (refused,) = a.sync_service.rejected()
    assert a.customer(cid).notes == "被拒绝的备注"  # still visible locally until the guide decides
    a.sync_service.discard_rejected(refused.seq)
    a.sync()
    assert a.customer(cid).notes == "总部的备注"
    assert a.sync_service.rejected() == [] and a.sync_service.status().rejected == 0
    assert ("notes", "被拒绝的备注") in a.history(cid)  # the discarded typing is kept in the history


def test_discarding_a_refused_new_customer_retires_it_locally(hq: HQProcess, tmp_path: Path,
                                                              pcs: list[object]) -> None:
    a = PC(tmp_path / "a.db", hq.url, "hz01.guide3")
    pcs.append(a)
    a.skew = DAY
    cid = a.create("从未到总部", "13700009999")
    a.sync()
    (refused,) = a.sync_service.rejected()
    a.sync_service.discard_rejected(refused.seq)
    assert a.customer(cid).deleted_hlc is not None
    a.sync()
    assert a.outbox_status().get("pending", 0) == 0 and a.sync_service.rejected() == []


@pytest.mark.parametrize("skew", [-HOUR, -DAY])
def test_clock_behind_is_rebased_so_later_edits_win(hq: HQProcess, tmp_path: Path, pcs: list[object],
                                                    skew: int) -> None:
    a = PC(tmp_path / "a.db", hq.url, "sh01.guide3")
    b = PC(tmp_path / "b.db", hq.url, "sh01.manager")
    pcs.extend([a, b])
    cid = b.create("慢钟客户", "")
    b.sync()
    a.sync()
    b.edit(cid, notes="先写的")
    b.sync()
    a.skew = skew
    a.ctx.clock.offset_ms = 0
    a.sync()  # learns HQ's time: re-based
    assert a.ctx.clock.offset_ms == pytest.approx(-skew, abs=2000)
    a.edit(cid, notes="后写的")
    a.sync()
    b.sync()
    assert b.customer(cid).notes == "后写的"


def test_old_client_gets_the_upgrade_message(hq: HQProcess, tmp_path: Path) -> None:
    old = PC(tmp_path / "old.db", hq.url, "sh01.guide1", protocol_version=0, login=False)
    try:
        with pytest.raises(UpgradeRequiredError) as info:
            old.sync_service.login(hq.url, "sh01.guide1", "demo-pass-2024")
        assert "升级" in info.value.message()
    finally:
        old.close()
