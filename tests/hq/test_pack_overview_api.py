"""``GET /v1/packs/progress``: every published campaign reaching a store of the caller's scope, also those
that do not reach the store of the asking PC (a regional manager's PC is enrolled in one store), with
the totals the per-campaign progress gives the same caller; running, then upcoming, then ended ones
for 30 days after their last day; withdrawn and superseded versions never."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from guide_app.sync.protocol import PackOverviewItem, PackOverviewResponse, PackProgressResponse
from hq import org, pack_store
from hq.db import Database
from hq.leaderboards import Clock, board_clock
from hq.models import Account
from hq.packs import build_pack
from tests.hq.conftest import OrgFixture
from tests.hq.test_pack_progress_api import SEGMENT, TASKS, StoreBook
from tests.hq_fixtures import VERSION_HEADERS, SyncDevice

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "spring-care-pack"
NOW = dt.datetime(2027, 3, 15, 12, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
NOW_MS = int(NOW.timestamp() * 1000)
EAST_ALL = {"regions": ["华东区"]}


def _publish(tmp_path: Path, db: Database, pack_id: str, audience: dict[str, Any], start: str = "2027-03-01",
             end: str = "2027-04-30", *, title: str = "", version: int = 1) -> None:
    src = tmp_path / f"{pack_id}-{version}"
    shutil.copytree(EXAMPLE, src)
    manifest = json.loads((src / "manifest.json").read_text(encoding="utf-8"))
    manifest.update(id=pack_id, version=version, title=title or pack_id, audience=audience, segment=SEGMENT,
                    tasks=TASKS, valid_from=start, valid_to=end)
    (src / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    build_pack(src, tmp_path / f"{pack_id}-{version}.zip")
    with db.session() as s:
        pack_store.publish(s, tmp_path / f"{pack_id}-{version}.zip", NOW_MS)


@pytest.fixture
def frozen(hq_app: FastAPI) -> Iterator[None]:
    hq_app.dependency_overrides[board_clock] = lambda: Clock(lambda: NOW_MS)
    yield
    hq_app.dependency_overrides.pop(board_clock, None)


@pytest.fixture
def worked(frozen: None, tmp_path: Path, hq_database: Database, test_org: OrgFixture,
           device: Callable[..., SyncDevice]) -> None:
    """上海店 and 杭州店 (华东区) and 广州店 (华南区) with VIP customers and tasks done; campaigns for the
    whole region, for 杭州店 only, for 华南区, ended 30 and 31 days ago, upcoming, withdrawn."""
    with hq_database.session() as s:
        org.create_account(s, username="guide.a3", password=test_org.password, role="guide",
                           display_name="guide.a3", store_refs=[test_org.store_a2])
    with hq_database.session() as s:
        ids = dict(s.execute(select(Account.username, Account.id)).all())
    a, b = StoreBook(device("guide.a")), StoreBook(device("guide.b"))
    c = StoreBook(device("guide.a3", store_id=test_org.store_a2))
    jia = a.customer("甲", ids["guide.a"], spent=(30000,))
    yi = a.customer("乙", ids["guide.a2"], spent=(20000,))
    a.customer("丙", ids["guide.a"], vip=False, spent=(30000,))  # not VIP: nobody's target
    a.task(jia, "contact", "done", "reached", pack="region-wide")
    a.task(jia, "visit", "done", "bought", pack="region-wide")
    a.task(yi, "contact", "done", "reached", pack="region-wide")
    b.customer("己", ids["guide.b"], spent=(15000,))
    geng = b.customer("庚", ids["guide.b"], spent=(50000,))
    b.task(geng, "visit", "done", "bought", pack="region-wide")
    hz = [c.customer(n, ids["guide.a3"], spent=(10000,)) for n in ("子", "丑", "寅")]
    c.task(hz[0], "contact", "done", "reached", pack="hangzhou-only")
    c.task(hz[1], "contact", "done", "reached", pack="region-wide")

    _publish(tmp_path, hq_database, "region-wide", {"regions": ["华东区"], "stores": ["广州店"]}, title="春季关怀")
    _publish(tmp_path, hq_database, "hangzhou-only", {"stores": ["杭州店"]}, "2027-03-10", "2027-04-10",
             title="杭州专场")
    _publish(tmp_path, hq_database, "hangzhou-only", {"stores": ["杭州店"]}, "2027-03-10", "2027-04-10",
             title="杭州专场", version=2)  # v1 is superseded: listed once, as v2
    _publish(tmp_path, hq_database, "south-only", {"regions": ["华南区"]}, "2027-03-05", title="华南专场")
    _publish(tmp_path, hq_database, "ended-30", {"stores": ["上海店"]}, "2027-01-01", "2027-02-13")
    _publish(tmp_path, hq_database, "ended-31", {"stores": ["上海店"]}, "2027-01-01", "2027-02-12")
    _publish(tmp_path, hq_database, "upcoming", EAST_ALL, "2027-04-01", "2027-05-31")
    _publish(tmp_path, hq_database, "gone", EAST_ALL)
    with hq_database.session() as s:
        pack_store.withdraw(s, "gone", NOW_MS)


def overview(dev: SyncDevice) -> PackOverviewResponse:
    r = dev.http.get("/v1/packs/progress", headers=dev.headers)
    assert r.status_code == 200, r.text
    return PackOverviewResponse.model_validate(r.json())


def figures(p: PackOverviewResponse) -> list[tuple[str, int, str, int, int, int, int]]:
    return [(i.pack_id, i.version, i.state, i.stores, i.guides, i.targets, i.done) for i in p.packs]


def agrees_with_progress(dev: SyncDevice, item: PackOverviewItem) -> None:
    """The overview's line is the totals of what the campaign's own progress gives the same caller."""
    r = dev.http.get(f"/v1/packs/{item.pack_id}/progress", headers=dev.headers)
    assert r.status_code == 200, r.text
    p = PackProgressResponse.model_validate(r.json())
    assert (p.version, p.title, p.valid_from, p.valid_to) == (item.version, item.title, item.valid_from,
                                                              item.valid_to)
    assert len(p.stores) == item.stores and len(p.rows) == item.guides and len(p.tasks) == item.tasks
    assert sum(r.targets for r in p.rows) == item.targets
    assert sum(n for r in p.rows for n in r.done.values()) == item.done


def test_regional_manager_sees_campaigns_their_pcs_store_does_not_get(
    worked: None, test_org: OrgFixture, device: Callable[..., SyncDevice]
) -> None:
    rm = device("rm.a", store_id=test_org.store_a)  # the PC is enrolled in 上海店
    p = overview(rm)
    assert p.scope == "region" and p.ended_days == 30 and p.as_of_ms == NOW_MS
    assert figures(p) == [
        ("hangzhou-only", 2, "running", 1, 1, 3, 1),  # 杭州店 only: never installed on this PC
        ("region-wide", 1, "running", 2, 3, 5, 4),  # 上海店 2 targets 3 done + 杭州店 3 targets 1 done
        ("upcoming", 1, "upcoming", 2, 3, 5, 0),
        ("ended-30", 1, "ended", 1, 2, 2, 0),  # ended 30 days ago: still listed; 31 days ago: not
    ]
    assert [i.title for i in p.packs[:2]] == ["杭州专场", "春季关怀"]
    assert p.packs[1].completion == 4 / 10
    raw = rm.http.get("/v1/packs/progress", headers=rm.headers).json()["packs"][1]
    assert raw["completion"] == 0.4  # in the JSON too, for other readers of the API
    pc_store = rm.http.get("/v1/packs", headers=rm.headers).json()
    assert "hangzhou-only" not in {x["id"] for x in pc_store["packs"]}  # what the PC itself installs
    for item in p.packs:
        agrees_with_progress(rm, item)


def test_store_manager_and_guide_see_their_own_scope(
    worked: None, test_org: OrgFixture, device: Callable[..., SyncDevice]
) -> None:
    manager = device("manager.a")
    p = overview(manager)
    assert p.scope == "store"
    assert figures(p) == [("region-wide", 1, "running", 1, 2, 2, 3), ("upcoming", 1, "upcoming", 1, 2, 2, 0),
                          ("ended-30", 1, "ended", 1, 2, 2, 0)]
    guide = device("guide.a2")
    mine = overview(guide)
    assert mine.scope == "own"
    assert figures(mine) == [("region-wide", 1, "running", 1, 1, 1, 1), ("upcoming", 1, "upcoming", 1, 1, 1, 0),
                             ("ended-30", 1, "ended", 1, 1, 1, 0)]  # guide.a2's customer: 乙 only
    for dev, p_ in ((manager, p), (guide, mine)):
        for item in p_.packs:
            agrees_with_progress(dev, item)


def test_hq_sees_every_campaign_of_every_store(
    worked: None, test_org: OrgFixture, device: Callable[..., SyncDevice]
) -> None:
    admin = device("admin", store_id=test_org.store_b)
    p = overview(admin)
    assert p.scope == "company"
    assert figures(p) == [
        ("hangzhou-only", 2, "running", 1, 1, 3, 1),
        ("south-only", 1, "running", 1, 1, 2, 0),
        ("region-wide", 1, "running", 3, 4, 7, 5),  # 广州店's 2 targets and 1 done too
        ("upcoming", 1, "upcoming", 2, 3, 5, 0),
        ("ended-30", 1, "ended", 1, 2, 2, 0),
    ]
    for item in p.packs:
        agrees_with_progress(admin, item)


def test_nothing_published_is_an_empty_list_and_no_sign_in_is_401(
    frozen: None, test_org: OrgFixture, http: TestClient, device: Callable[..., SyncDevice]
) -> None:
    p = overview(device("rm.a", store_id=test_org.store_a))
    assert p.scope == "region" and p.packs == []
    assert http.get("/v1/packs/progress", headers=VERSION_HEADERS).status_code == 401


def test_the_overview_route_leaves_a_pack_called_progress_its_own_routes(
    frozen: None, tmp_path: Path, hq_database: Database, test_org: OrgFixture, http: TestClient,
    device: Callable[..., SyncDevice]
) -> None:
    _publish(tmp_path, hq_database, "progress", EAST_ALL)
    dev = device("guide.a")
    assert [i.pack_id for i in overview(dev).packs] == ["progress"]
    assert http.get("/v1/packs/progress/1", headers=dev.headers).headers["content-type"] == "application/zip"
    r = http.get("/v1/packs/progress/progress", headers=dev.headers)
    assert r.status_code == 200 and r.json()["pack_id"] == "progress"
