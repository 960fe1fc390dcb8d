"""Campaign packs end to end: a pack built and published by ``hq`` (real CLI), pulled by real clients
through a real HQ process (resuming an interrupted download), targets exactly the hand-computed
customers, task outcomes sync back to HQ and to the other PC, and a withdrawal removes the pack."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from guide_app.services.campaigns import CampaignService
from guide_app.services.customers import get_live, update_customer_row
from guide_app.services.pack_sync import sync_packs
from guide_app.services.packs import PackService
from guide_app.services.purchases import PurchaseService
from guide_app.services.tags import TagService
from hq.db import Database
from hq.models import SyncRow
from tests.e2e.clients import PC
from tests.e2e.hq_process import HQProcess, hq_command

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "spring-care-pack"
PACK_ID = "e2e-care"
SEGMENT = {
    "tags": {"all_of": ["E2E-VIP"], "any_of": ["E2E-护肤"], "none_of": ["E2E-投诉"]},
    "days_since_last_purchase": {"min": 30},
    "total_spend_cents": {"min": 100000},
}
# name -> (tags, spend in yuan, days ago, opted out by SMS)
BOOK = {
    "测甲": (("E2E-VIP", "E2E-护肤"), "1500", 40, False),  # the one target
    "测乙": (("E2E-VIP", "E2E-护肤"), "500", 40, False),  # spent too little
    "测丙": (("E2E-VIP", "E2E-护肤", "E2E-投诉"), "1500", 40, False),  # complained
    "测丁": (("E2E-VIP",), "1500", 40, False),  # no 护肤
    "测戊": (("E2E-VIP", "E2E-护肤"), "1500", 40, True),  # opted out
    "测己": (("E2E-VIP", "E2E-护肤"), "1500", 5, False),  # bought too recently
}
EXPECTED = {"测甲"}


def hq_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*hq_command(), *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _pack_folder(tmp_path: Path) -> Path:
    src = tmp_path / "pack-src"
    shutil.copytree(EXAMPLE, src)
    manifest = json.loads((src / "manifest.json").read_text(encoding="utf-8"))
    today = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date()
    (src / "assets/photo.jpg").write_bytes(os.urandom(1024 * 1024))  # big enough to interrupt mid-way
    manifest.update(
        id=PACK_ID, valid_from=(today - dt.timedelta(days=1)).isoformat(),
        valid_to=(today + dt.timedelta(days=30)).isoformat(), audience={"stores": ["上海南京西路店"]},
        segment=SEGMENT, tasks=[{"id": "contact", "kind": "contact", "title": "关怀联系"}],
        assets=[*manifest["assets"], {"path": "assets/photo.jpg"}],
    )
    (src / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return src


def _seed_book(pc: PC) -> dict[str, str]:
    tags = TagService(pc.ctx)
    group = tags.create_group("E2E活动", scope="store")
    tag_ids = {name: tags.create_tag(group, name) for name in ("E2E-VIP", "E2E-护肤", "E2E-投诉")}
    purchases = PurchaseService(pc.ctx)
    today = dt.date.today()
    ids = {}
    for i, (name, (names, spend, days, opted_out)) in enumerate(BOOK.items()):
        cid = pc.create(name, f"1390000{i:04d}")
        ids[name] = cid
        for tag in names:
            tags.assign([cid], tag_ids[tag])
        purchases.record(cid, spend, day=today - dt.timedelta(days=days))
        if opted_out:
            with pc.ctx.write() as w:
                update_customer_row(w, get_live(w.session, cid), {"consent_sms": "opted_out"})
    return ids


def test_pack_published_by_hq_is_pulled_targeted_worked_and_withdrawn(
    hq: HQProcess, tmp_path: Path, pcs: list[object]
) -> None:
    a = PC(tmp_path / "a.db", hq.url, "sh01.guide1")
    b = PC(tmp_path / "b.db", hq.url, "sh01.guide2")
    far = PC(tmp_path / "c.db", hq.url, "gz01.guide1")  # another region's store
    pcs.extend([a, b, far])
    for pc in (a, b, far):
        pc.sync()
    ids = _seed_book(a)
    a.sync()
    b.sync()

    built = tmp_path / "pack.zip"
    res = hq_cli("pack", "build", str(_pack_folder(tmp_path)), "-o", str(built))
    assert res.returncode == 0, res.stderr
    res = hq_cli("pack", "publish", str(built), "--db", hq.db_url)
    assert res.returncode == 0, res.stderr

    # PC a: the download is interrupted after its first block, then the next round resumes it
    packs_a = PackService(a.ctx, tmp_path / "a-packs")
    part = packs_a.packs_dir / ".downloads" / f"{PACK_ID}-1.part"
    part.parent.mkdir(parents=True)
    calls = iter([False, True])
    assert a.sync_service.client.download_pack(PACK_ID, 1, part, chunk=256 * 1024,
                                               cancelled=lambda: next(calls, True)) is False
    assert part.stat().st_size == 256 * 1024
    report = sync_packs(a.sync_service.client, packs_a)
    assert [p.id for p in report.installed] == [PACK_ID] and report.refused == [] and not part.exists()
    assert sync_packs(a.sync_service.client, packs_a).installed == []  # nothing new the second time

    campaign_a = CampaignService(a.ctx, packs_a)
    assert {t.name for t in campaign_a.targets(PACK_ID)} == EXPECTED
    campaign_a.mark_done(PACK_ID, "contact", ids["测甲"], "reached", note="电话已联系")
    a.sync()

    with_hq = Database(hq.db_url)
    try:
        with with_hq.session() as s:
            rows = s.scalars(select(SyncRow).where(SyncRow.entity == "campaign_task")).all()
            assert [(r.data["pack_id"], r.data["customer_id"], r.data["outcome"], r.data["note"]) for r in rows] == [
                (PACK_ID, ids["测甲"], "reached", "电话已联系")]
    finally:
        with_hq.dispose()

    res = hq_cli("pack", "progress", PACK_ID, "--db", hq.db_url)  # HQ works the targets out from synced rows
    assert res.returncode == 0, res.stderr
    header, *lines = res.stdout.strip().split("\n")
    assert header.split("\t") == ["store", "guide", "targets", "contact", "completion"]
    assert [(c[0], c[2], c[3], c[4]) for c in (line.split("\t") for line in lines)] == [
        ("上海南京西路店", "1", "1", "100%")]

    # PC b of the same store: same pack, same targets, and a's outcome arrived with the pull
    # (b brings packs in as part of its ordinary sync round, as the app's SyncService does)
    b.sync_service.packs_dir = tmp_path / "b-packs"
    b.sync()
    packs_b = PackService(b.ctx, tmp_path / "b-packs")
    assert b.sync_service.last_pack_report is not None
    assert [p.id for p in b.sync_service.last_pack_report.installed] == [PACK_ID]
    assert [p.id for p in packs_b.packs()] == [PACK_ID]
    targets_b = CampaignService(b.ctx, packs_b).targets(PACK_ID)
    assert [(t.name, t.done("contact"), t.tasks["contact"].outcome) for t in targets_b] == [("测甲", True, "reached")]

    # a store of another region is not sent the pack
    packs_far = PackService(far.ctx, tmp_path / "c-packs")
    far_report = sync_packs(far.sync_service.client, packs_far)
    assert far_report.installed == [] and packs_far.packs() == []

    res = hq_cli("pack", "withdraw", PACK_ID, "--db", hq.db_url)
    assert res.returncode == 0, res.stderr
    assert sync_packs(a.sync_service.client, packs_a).withdrawn == [PACK_ID]
    assert packs_a.packs() == [] and packs_a.get(PACK_ID).status == "withdrawn"
    assert not (packs_a.packs_dir / PACK_ID / "1").exists()
