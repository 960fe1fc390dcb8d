"""``GET /v1/packs/{id}/progress``: completion per store and guide from the synced books, each role
seeing its own scope (guide: own rows, store manager: the store, regional manager: the region, HQ:
everything), and a 404 for a pack that is not published to the caller's stores."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from guide_app.services.campaigns import task_row_id
from guide_app.sync.protocol import PackProgressResponse
from hq import pack_store
from hq.db import Database
from hq.models import Account
from hq.packs import build_pack
from tests.hq.conftest import OrgFixture
from tests.hq_fixtures import VERSION_HEADERS, SyncDevice

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "spring-care-pack"
PACK = "care-progress"
SEGMENT = {"tags": {"all_of": ["VIP"]}, "total_spend_cents": {"min": 10000}}
TASKS = [{"id": "contact", "kind": "contact", "title": "关怀联系"},
         {"id": "visit", "kind": "invite_visit", "title": "邀约到店"}]


def _publish(tmp_path: Path, db: Database, pack_id: str, audience: dict[str, Any]) -> None:
    src = tmp_path / pack_id
    shutil.copytree(EXAMPLE, src)
    manifest = json.loads((src / "manifest.json").read_text(encoding="utf-8"))
    manifest.update(id=pack_id, audience=audience, segment=SEGMENT, tasks=TASKS)
    (src / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    build_pack(src, tmp_path / f"{pack_id}.zip")
    with db.session() as s:
        pack_store.publish(s, tmp_path / f"{pack_id}.zip", int(time.time() * 1000))


@dataclass
class StoreBook:
    """A store's book written through one device's pushes: a VIP tag, customers, purchases, tasks."""

    dev: SyncDevice
    vip: str = ""

    def __post_init__(self) -> None:
        group = self.dev.new_tag_group("会员")
        tag = self.dev.new_tag(group["entity_id"], "VIP")
        self.vip = tag["entity_id"]
        self.push(group, tag)

    def push(self, *mutations: dict[str, Any]) -> None:
        result = self.dev.push(*mutations)
        assert {r["status"] for r in result["results"]} == {"applied"}, result

    def customer(self, name: str, owner: str, *, vip: bool = True, spent: tuple[int, ...] = (),
                 opted_out: bool = False) -> str:
        extra = {"consent_sms": "opted_out"} if opted_out else {}
        c = self.dev.new_customer(name, owner_guide_id=owner, **extra)
        cid = c["entity_id"]
        batch = [c, *(self.dev.new_purchase(cid, cents) for cents in spent)]
        if vip:
            batch.append(self.dev.tag(cid, self.vip))
        self.push(*batch)
        return cid

    def task(self, customer_id: str, task_id: str, status: str, outcome: str = "", pack: str = PACK) -> None:
        row = task_row_id(self.dev.store_id or "", pack, task_id, customer_id)
        self.push(self.dev.mutation("campaign_task", row, {
            "store_id": self.dev.store_id, "pack_id": pack, "task_id": task_id, "customer_id": customer_id,
            "guide_id": "", "status": status, "outcome": outcome, "note": "",
            "done_at": int(time.time() * 1000) if status == "done" else None}))


@pytest.fixture
def worked(tmp_path: Path, hq_database: Database, test_org: OrgFixture,
           device: Callable[..., SyncDevice]) -> dict[str, str]:
    """Two stores' books with tasks worked; 杭州店 (region A too) has no customers. Returns account ids."""
    with hq_database.session() as s:
        ids = dict(s.execute(select(Account.username, Account.id)).all())
    a, b = StoreBook(device("guide.a")), StoreBook(device("guide.b"))
    jia = a.customer("甲", ids["guide.a"], spent=(30000,))
    yi = a.customer("乙", ids["guide.a"], spent=(5000, 5000))  # 10000 in two purchases: just in
    a.customer("丙", ids["guide.a"], spent=(99900,), opted_out=True)  # opted out: never a target
    ding = a.customer("丁", ids["guide.a"], vip=False, spent=(50000,))  # not VIP
    xin = a.customer("辛", ids["guide.a"], spent=(5000,))  # spent too little …
    big = a.dev.new_purchase(xin, 20000)
    a.push(big, a.dev.delete("purchase", big["entity_id"]))  # … and a deleted purchase does not count
    wu = a.customer("戊", ids["guide.a2"], spent=(10000,))
    a.task(jia, "contact", "done", "reached")
    a.task(jia, "visit", "done", "bought")
    a.task(yi, "contact", "open")  # opened, not done
    a.task(ding, "contact", "done", "reached")  # not a target: not counted
    a.task(wu, "contact", "done", "declined")
    a.task(wu, "visit", "done", "bought", pack="another-pack")  # another campaign
    ji = b.customer("己", ids["guide.b"], spent=(15000,))
    b.customer("庚", ids["guide.b"], spent=(50000,))
    b.task(ji, "contact", "done", "reached")
    _publish(tmp_path, hq_database, PACK, {"regions": ["华东区"], "stores": ["广州店"]})
    _publish(tmp_path, hq_database, "south-only", {"regions": ["华南区"]})
    return ids


def progress(dev: SyncDevice, pack: str = PACK) -> PackProgressResponse:
    r = dev.http.get(f"/v1/packs/{pack}/progress", headers=dev.headers)
    assert r.status_code == 200, r.text
    return PackProgressResponse.model_validate(r.json())


def table(p: PackProgressResponse) -> list[tuple[str, str, int, int, int]]:
    return [(r.store_name, r.guide_name, r.targets, r.done["contact"], r.done["visit"]) for r in p.rows]


def stores(p: PackProgressResponse) -> list[tuple[str, int, int, int, int]]:
    return [(s.store_name, s.guides, s.targets, s.done.get("contact", 0), s.done.get("visit", 0)) for s in p.stores]


def test_regional_manager_sees_every_store_of_the_region_per_store_and_guide(
    worked: dict[str, str], test_org: OrgFixture, device: Callable[..., SyncDevice]
) -> None:
    p = progress(device("rm.a", store_id=test_org.store_a))
    assert p.scope == "region" and p.pack_id == PACK and p.version == 1 and p.title == "春季会员关怀"
    assert [(t.id, t.title, t.due) for t in p.tasks] == [("contact", "关怀联系", "2027-04-30"),
                                                         ("visit", "邀约到店", "2027-04-30")]
    assert table(p) == [("上海店", "guide.a", 2, 1, 1), ("上海店", "guide.a2", 1, 1, 0)]
    assert stores(p) == [("杭州店", 0, 0, 0, 0), ("上海店", 2, 3, 2, 1)]  # pinyin order; 广州店 is another region's
    assert {s.region_name for s in p.stores} == {"华东区"}
    assert p.rows[0].outcomes == {"reached": 1, "bought": 1} and p.rows[1].outcomes == {"declined": 1}
    assert p.stores[1].outcomes == {"reached": 1, "bought": 1, "declined": 1}
    assert p.rows[0].completion(2) == 0.5 and p.stores[1].completion(2) == 0.5
    assert abs(time.time() * 1000 - p.as_of_ms) < 60_000


def test_store_manager_sees_the_guides_of_the_store_and_a_guide_only_their_own_row(
    worked: dict[str, str], test_org: OrgFixture, device: Callable[..., SyncDevice]
) -> None:
    p = progress(device("manager.a"))
    assert p.scope == "store"
    assert table(p) == [("上海店", "guide.a", 2, 1, 1), ("上海店", "guide.a2", 1, 1, 0)]
    assert stores(p) == [("上海店", 2, 3, 2, 1)]

    mine = progress(device("guide.a2"))
    assert mine.scope == "own"
    assert table(mine) == [("上海店", "guide.a2", 1, 1, 0)]
    assert stores(mine) == [("上海店", 1, 1, 1, 0)]  # the totals of what the guide sees, not the store's
    assert [r.guide_id for r in mine.rows] == [worked["guide.a2"]]

    # a guide of two stores sees their own rows in each store of the audience (none here: no customers)
    multi = progress(device("multi", store_id=test_org.store_b))
    assert multi.scope == "own" and multi.rows == [] and [s.store_name for s in multi.stores] == ["广州店", "上海店"]


def test_hq_sees_every_store_of_the_audience(
    worked: dict[str, str], test_org: OrgFixture, device: Callable[..., SyncDevice]
) -> None:
    p = progress(device("admin", store_id=test_org.store_b))
    assert p.scope == "company"
    assert table(p) == [("广州店", "guide.b", 2, 1, 0), ("上海店", "guide.a", 2, 1, 1), ("上海店", "guide.a2", 1, 1, 0)]
    assert stores(p) == [("广州店", 1, 2, 1, 0), ("杭州店", 0, 0, 0, 0), ("上海店", 2, 3, 2, 1)]  # guang, hang, shang
    assert [s.region_name for s in p.stores] == ["华南区", "华东区", "华东区"]
    south = progress(device("admin", store_id=test_org.store_a), "south-only")
    assert stores(south) == [("广州店", 1, 2, 0, 0)]  # no task of that campaign is done yet


def test_a_pack_outside_the_callers_stores_unknown_or_withdrawn_is_404(
    worked: dict[str, str], http: TestClient, hq_database: Database, test_org: OrgFixture,
    device: Callable[..., SyncDevice]
) -> None:
    rm, guide_a, guide_b = device("rm.a", store_id=test_org.store_a), device("guide.a"), device("guide.b")
    for dev, pack in ((rm, "south-only"), (guide_a, "south-only"), (guide_a, "no-such-pack")):
        r = http.get(f"/v1/packs/{pack}/progress", headers=dev.headers)
        assert r.status_code == 404, r.text
        body = r.json()
        assert body["code"] == "pack_not_in_scope"
        assert body["message_zh"] == "该活动没有投放到您负责的门店，或已被总部撤回"
    assert progress(guide_b, "south-only").scope == "own"
    assert http.get(f"/v1/packs/{PACK}/progress", headers=VERSION_HEADERS).status_code == 401

    with hq_database.session() as s:
        pack_store.withdraw(s, PACK, int(time.time() * 1000))
    admin = device("admin", store_id=test_org.store_a)
    r = http.get(f"/v1/packs/{PACK}/progress", headers=admin.headers)
    assert r.status_code == 404 and r.json()["code"] == "pack_not_in_scope"


def test_the_progress_route_does_not_shadow_the_archive_download(
    worked: dict[str, str], http: TestClient, device: Callable[..., SyncDevice]
) -> None:
    dev = device("guide.a")
    assert http.get(f"/v1/packs/{PACK}/1", headers=dev.headers).headers["content-type"] == "application/zip"
