"""Campaign progress end to end: guides of two stores of one region work a pack published by ``hq`` (real
CLI) on their own PCs and sync; the regional manager's PC asks the real HQ process and sees completion
per store and per guide exactly as worked out by hand, the store manager only their store, and offline
the copy the PC kept, with its time."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from guide_app.domain.errors import UserError
from guide_app.i18n import tr
from guide_app.services.campaigns import CampaignService
from guide_app.services.context import AppContext
from guide_app.services.customers import get_live, update_customer_row
from guide_app.services.pack_progress import PackProgressService
from guide_app.services.packs import PackService
from guide_app.sync.client import HqClient
from tests.e2e.clients import PC
from tests.e2e.hq_process import DEMO_PASSWORD, HQProcess, free_port, hq_command

pytestmark = pytest.mark.e2e

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "spring-care-pack"
PACK_ID = "e2e-progress"
TAG = "E2E进度VIP"
TASKS = [{"id": "contact", "kind": "contact", "title": "关怀联系"},
         {"id": "visit", "kind": "invite_visit", "title": "邀约到店"}]


def _publish(tmp_path: Path, db_url: str) -> None:
    src = tmp_path / "pack-src"
    shutil.copytree(EXAMPLE, src)
    manifest = json.loads((src / "manifest.json").read_text(encoding="utf-8"))
    today = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=8)).date()
    manifest.update(id=PACK_ID, valid_from=(today - dt.timedelta(days=1)).isoformat(),
                    valid_to=(today + dt.timedelta(days=30)).isoformat(), audience={"regions": ["华东区"]},
                    segment={"tags": {"all_of": [TAG]}}, tasks=TASKS)
    (src / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for args in (["pack", "build", str(src), "-o", str(tmp_path / "pack.zip")],
                 ["pack", "publish", str(tmp_path / "pack.zip"), "--db", db_url]):
        res = subprocess.run([*hq_command(), *args], capture_output=True, text=True, timeout=120, env=env)
        assert res.returncode == 0, res.stderr


class GuidePC:
    """A guide's PC with the campaign installed: customers tagged for it, tasks marked done."""

    def __init__(self, pc: PC, packs_dir: Path) -> None:
        self.pc = pc
        pc.sync_service.packs_dir = packs_dir
        self.campaign = CampaignService(pc.ctx, PackService(pc.ctx, packs_dir))
        group = pc.tags.create_group("E2E进度", scope="store")
        self.tag = pc.tags.create_tag(group, TAG)

    def customer(self, name: str, phone: str, *, opted_out: bool = False) -> str:
        cid = self.pc.create(name, phone)
        self.pc.tags.assign([cid], self.tag)
        if opted_out:
            with self.pc.ctx.write() as w:
                update_customer_row(w, get_live(w.session, cid), {"consent_wechat": "opted_out"})
        return cid

    def done(self, customer_id: str, task: str, outcome: str) -> None:
        self.campaign.mark_done(PACK_ID, task, customer_id, outcome)


def test_region_manager_sees_completion_per_store_and_guide(hq: HQProcess, tmp_path: Path, pcs: list[object]) -> None:
    a = PC(tmp_path / "a.db", hq.url, "sh01.guide1")
    b = PC(tmp_path / "b.db", hq.url, "sh01.guide2")
    c = PC(tmp_path / "c.db", hq.url, "hz01.guide1")
    pcs.extend([a, b, c])
    for pc in (a, b, c):
        pc.sync()  # the store's book (and the other guides) first
    guide_a, guide_b, guide_c = (GuidePC(pc, tmp_path / f"{name}-packs") for pc, name in ((a, "a"), (b, "b"),
                                                                                          (c, "c")))
    a1, a2 = guide_a.customer("进甲", "13900001001"), guide_a.customer("进乙", "13900001002")
    guide_a.customer("进丙", "13900001003", opted_out=True)  # opted out: never a target
    guide_b.customer("进丁", "13900001004")
    c1 = guide_c.customer("进戊", "13900001005")
    guide_c.customer("进己", "13900001006")
    guide_c.customer("进庚", "13900001007")
    _publish(tmp_path, hq.db_url)
    for pc in (a, b, c):
        pc.sync()  # the data up, then the pack down
    assert [p.id for p in guide_a.campaign.packs.packs()] == [PACK_ID]

    guide_a.done(a1, "contact", "reached")
    guide_a.done(a1, "visit", "bought")
    guide_a.done(a2, "contact", "not_reachable")
    guide_c.done(c1, "contact", "reached")
    for pc in (a, c):
        pc.sync()

    # a regional manager signs in on a PC of a store of their region
    rm = PC(tmp_path / "rm.db", hq.url, "east.manager", login=False)
    pcs.append(rm)
    rm.ctx = AppContext(rm.db, rm.sync_service.login(hq.url, "east.manager", DEMO_PASSWORD, store_id=a.ctx.store_id),
                        now_ms=rm.wall)
    rm.sync_service.attach(rm.ctx)
    rm.sync_service.packs_dir = tmp_path / "rm-packs"
    rm.sync()
    service = PackProgressService(rm.ctx, rm.sync_service, CampaignService(rm.ctx, PackService(rm.ctx,
                                                                                              tmp_path / "rm-packs")))
    view = service.progress(PACK_ID)
    assert view.source == "hq" and view.answer.scope == "region"
    p = view.answer
    # by hand: 上海 guide1 has 进甲 and 进乙 (进丙 opted out), guide2 进丁; 杭州 guide1 进戊, 进己, 进庚
    assert [(s.store_name, s.guides, s.targets, s.done, round(s.completion(2), 3)) for s in p.stores] == [
        ("杭州湖滨银泰店", 1, 3, {"contact": 1, "visit": 0}, round(1 / 6, 3)),  # pinyin order: hang… shang…
        ("上海南京西路店", 2, 3, {"contact": 2, "visit": 1}, 0.5),
    ]
    names = {a.ctx.actor.name: "a", b.ctx.actor.name: "b", c.ctx.actor.name: "c"}
    assert [r.store_name for r in p.rows] == ["杭州湖滨银泰店"] + ["上海南京西路店"] * 2  # by store, then guide
    assert {(r.store_name, names[r.guide_name]): (r.targets, r.done, r.outcomes) for r in p.rows} == {
        ("上海南京西路店", "a"): (2, {"contact": 2, "visit": 1}, {"reached": 1, "bought": 1, "not_reachable": 1}),
        ("上海南京西路店", "b"): (1, {"contact": 0, "visit": 0}, {}),
        ("杭州湖滨银泰店", "c"): (3, {"contact": 1, "visit": 0}, {"reached": 1}),
    }

    # the store manager of 上海 sees that store's guides only
    sm = PC(tmp_path / "sm.db", hq.url, "sh01.manager")
    pcs.append(sm)
    mine = PackProgressService(sm.ctx, sm.sync_service, CampaignService(sm.ctx)).progress(PACK_ID)
    assert mine.answer.scope == "store" and [s.store_name for s in mine.answer.stores] == ["上海南京西路店"]
    assert sorted((names[r.guide_name], r.targets) for r in mine.answer.rows) == [("a", 2), ("b", 1)]

    # the overview of the region's campaigns: this one with the totals above (4 of 6 × 2 tasks done)
    listed = service.overview()
    assert listed.source == "hq" and listed.answer.scope == "region"
    mine_listed = next(i for i in listed.answer.packs if i.pack_id == PACK_ID)
    assert (mine_listed.state, mine_listed.stores, mine_listed.guides, mine_listed.targets, mine_listed.done,
            mine_listed.tasks) == ("running", 2, 3, 6, 4, 2)

    # a campaign HQ has not published to the region: HQ's own words, nothing made up
    with pytest.raises(UserError) as refused:
        service.progress("not-for-this-region")
    assert refused.value.key == "campaign.progress.refused"
    assert tr(refused.value.key, lang="zh_CN", **refused.value.params) == (
        "总部没有给出活动进度：总部拒绝了这次请求（该活动没有投放到您负责的门店，或已被总部撤回）")

    # offline: the copy this PC kept, with the time it was fetched
    rm.sync_service.client.close()
    rm.sync_service.client = HqClient(f"http://127.0.0.1:{free_port()}", rm.sync_service.client.tokens,
                                      device_id=rm.sync_service.client.device_id)
    offline = service.progress(PACK_ID)
    assert offline.source == "saved" and offline.fetched_at == view.fetched_at and offline.answer == p
    assert offline.problem.startswith("连不上总部")
    listed_offline = service.overview()
    assert listed_offline.source == "saved" and listed_offline.answer == listed.answer
