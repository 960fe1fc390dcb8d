"""The demo org's running campaign: ``seed_demo(campaign=True)`` publishes exactly one signed pack that
every demo store gets, with its window around the seeding day, and seeding it again publishes nothing
until that window has passed."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest
from sqlalchemy import select

from guide_app.domain.packs import MANIFEST_NAME, SIGNATURE_NAME, Manifest, verify_manifest
from hq import pack_store
from hq.cli import main
from hq.db import Database
from hq.demo import seed_demo
from hq.demo_campaign import DAYS_AFTER, DAYS_BEFORE, ensure_demo_campaign, org_day
from hq.models import CampaignPack, Store
from hq.security import load_keys
from tests.hq.conftest import reset

NOW = 1_795_000_000_000  # 2026-11-18 in Asia/Shanghai
DAY_MS = 86_400_000


def _packs(db: Database) -> list[tuple[str, int, str, str, str]]:
    with db.session() as s:
        return [(p.id, p.version, p.status, p.valid_from, p.valid_to)
                for p in s.scalars(select(CampaignPack).order_by(CampaignPack.version))]


def test_the_demo_seed_publishes_one_running_pack_for_every_store_once(hq_database: Database) -> None:
    reset(hq_database)
    with hq_database.session() as s:
        summary = seed_demo(s, customers_per_store=5, now_ms=NOW, campaign=True)
    today = org_day(NOW)
    start, end = today - dt.timedelta(days=DAYS_BEFORE), today + dt.timedelta(days=DAYS_AFTER)
    assert _packs(hq_database) == [("demo-member-care", 1, "published", start.isoformat(), end.isoformat())]
    assert summary.campaign == f"demo-member-care v1 {start.isoformat()}..{end.isoformat()}"
    assert "demo-member-care" in summary.describe()

    with hq_database.session() as s:
        stores = s.scalars(select(Store)).all()
        assert len(stores) == 4
        for store in stores:  # the audience (both demo regions) reaches every demo store
            assert [p.id for p in pack_store.packs_for_store(s, store)] == ["demo-member-care"]
        row = s.scalars(select(CampaignPack)).one()
        with zipfile.ZipFile(io.BytesIO(row.archive)) as zf:
            body, sig = zf.read(MANIFEST_NAME), zf.read(SIGNATURE_NAME)
        verify_manifest(body, sig, load_keys(s, NOW).signing_key.public_key())  # the key clients pin
        manifest = Manifest.model_validate_json(body)
        assert sorted(manifest.audience.regions) == sorted(summary.regions.values())
        assert all(start <= t.due <= end for t in manifest.tasks if t.due is not None)
        assert "金卡" in manifest.segment.tags.any_of

    # again the same day and on the window's last day: still the one pack
    with hq_database.session() as s:
        assert ensure_demo_campaign(s, NOW) is None
        assert ensure_demo_campaign(s, NOW + DAYS_AFTER * DAY_MS) is None
    assert len(_packs(hq_database)) == 1

    # once the window has passed, the next version runs around the new day and replaces the old one
    later = NOW + (DAYS_AFTER + 1) * DAY_MS
    with hq_database.session() as s:
        again = ensure_demo_campaign(s, later)
        assert again is not None and again.version == 2
    day = org_day(later)
    assert _packs(hq_database)[-1] == ("demo-member-care", 2, "published",
                                       (day - dt.timedelta(days=DAYS_BEFORE)).isoformat(),
                                       (day + dt.timedelta(days=DAYS_AFTER)).isoformat())
    assert [p[2] for p in _packs(hq_database)] == ["superseded", "published"]


def test_fixtures_seed_the_demo_org_without_a_campaign(hq_database: Database) -> None:
    reset(hq_database)
    with hq_database.session() as s:
        assert seed_demo(s, customers_per_store=2, now_ms=NOW).campaign == ""
    assert _packs(hq_database) == []


def test_seed_demo_cli_publishes_the_campaign_and_seed_demo_campaign_adds_none(
    hq_database: Database, hq_db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    reset(hq_database)
    assert main(["admin", "seed-demo", "--db", hq_db_url, "--customers", "2", "--no-campaign"]) == 0
    assert _packs(hq_database) == []
    # a demo folder seeded before the demo had a campaign gets it on the next start
    assert main(["admin", "seed-demo-campaign", "--db", hq_db_url]) == 0
    assert "published demo-member-care v1" in capsys.readouterr().out
    assert main(["admin", "seed-demo-campaign", "--db", hq_db_url]) == 0
    assert "nothing published" in capsys.readouterr().out
    assert [p[:3] for p in _packs(hq_database)] == [("demo-member-care", 1, "published")]

    reset(hq_database)
    assert main(["admin", "seed-demo", "--db", hq_db_url, "--customers", "2"]) == 0
    assert "campaign pack (every store): demo-member-care v1" in capsys.readouterr().out
    assert main(["admin", "seed-demo-campaign", "--db", hq_db_url]) == 0
    assert "nothing published" in capsys.readouterr().out
    assert len(_packs(hq_database)) == 1
