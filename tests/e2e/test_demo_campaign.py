"""``--demo``'s embedded HQ (services/demo_hq.py: ``hq admin seed-demo`` then ``hq serve``, real
processes) hands the demo PC its running campaign: signed in as the demo guide, the first sync round
installs the pack and the guide has customers to work; starting the demo again publishes nothing new."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import func, select

from guide_app.services.campaigns import CampaignService
from guide_app.services.demo_hq import CAMPAIGN_MARKER, DEMO_GUIDE, EmbeddedHQ
from guide_app.services.packs import PackService, org_today
from hq.db import Database
from hq.models import CampaignPack
from tests.e2e.clients import PC

pytestmark = pytest.mark.e2e
PACK_ID = "demo-member-care"


def _published(folder: Path) -> int:
    db = Database(f"sqlite:///{folder / 'hq.sqlite3'}")
    try:
        with db.session() as s:
            return int(s.scalar(select(func.count()).select_from(CampaignPack)) or 0)
    finally:
        db.dispose()


def test_the_demo_pc_installs_the_demo_campaign_with_targets(tmp_path: Path, pcs: list[object]) -> None:
    folder = tmp_path / "hq"
    hq = EmbeddedHQ.start(folder, customers=100)
    try:
        pc = PC(tmp_path / "pc.db", hq.url, DEMO_GUIDE)
        pcs.append(pc)
        pc.sync_service.packs_dir = tmp_path / "packs"  # as the app's --demo sets it
        pc.sync()
        report = pc.sync_service.last_pack_report
        assert report is not None and [p.id for p in report.installed] == [PACK_ID] and report.refused == []
        packs = PackService(pc.ctx, tmp_path / "packs")
        [pack] = packs.packs()
        assert pack.valid_from < org_today(pc.wall()) < pack.valid_to
        targets = CampaignService(pc.ctx, packs).targets(PACK_ID)
        assert 1 <= len(targets) <= 30, len(targets)
        assert all(not t.done("greet") for t in targets)
    finally:
        hq.stop()
    # the next start (also of a folder seeded before the demo had a campaign) publishes no duplicate
    (folder / CAMPAIGN_MARKER).unlink()
    EmbeddedHQ.start(folder, customers=100).stop()
    assert (folder / CAMPAIGN_MARKER).read_text(encoding="utf-8") == dt.date.today().isoformat()
    assert _published(folder) == 1
