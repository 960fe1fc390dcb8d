"""The demo org's running campaign: the pack folder ``hq/demo_pack/`` built, signed and published
through the same code as ``hq pack build`` / ``hq pack publish``, with its dates moved so that the
campaign runs from 7 days before the seeding day to 30 days after it (days in Asia/Shanghai).

Idempotent: while the last published version's window still covers today nothing is published;
once it has passed, the next version is published with a window around today (a demo folder kept
for months still shows a running campaign).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from guide_app.domain.codes import ORG_TZ
from hq import pack_store
from hq.models import CampaignPack
from hq.packs import build_pack

DEMO_PACK_DIR = Path(__file__).resolve().parent / "demo_pack"
DAYS_BEFORE = 7
DAYS_AFTER = 30


def org_day(now_ms: int) -> dt.date:
    return dt.datetime.fromtimestamp(now_ms / 1000, ORG_TZ).date()


def _moved(raw: dict[str, Any], today: dt.date, version: int) -> dict[str, Any]:
    """The source manifest with every date shifted by the same number of days, so the window starts
    ``DAYS_BEFORE`` days before today (task due dates keep their place inside it) and ends
    ``DAYS_AFTER`` days after."""
    start = dt.date.fromisoformat(raw["valid_from"])
    shift = (today - dt.timedelta(days=DAYS_BEFORE)) - start

    def move(day: str) -> str:
        return (dt.date.fromisoformat(day) + shift).isoformat()

    tasks = [{**t, "due": move(t["due"])} if t.get("due") else t for t in raw["tasks"]]
    return {**raw, "version": version, "valid_from": move(raw["valid_from"]),
            "valid_to": (today + dt.timedelta(days=DAYS_AFTER)).isoformat(), "tasks": tasks}


def ensure_demo_campaign(session: Session, now_ms: int, source: Path = DEMO_PACK_DIR) -> CampaignPack | None:
    """Publish the demo campaign unless its latest version still runs today; the published row, or
    None when nothing had to be published."""
    raw = json.loads((source / "manifest.json").read_text(encoding="utf-8"))
    today = org_day(now_ms)
    latest = session.scalars(select(CampaignPack).where(CampaignPack.id == raw["id"])
                             .order_by(CampaignPack.version.desc()).limit(1)).first()
    if latest is not None and dt.date.fromisoformat(latest.valid_to) >= today:
        return None  # still running (or withdrawn on purpose within its window): leave it alone
    with tempfile.TemporaryDirectory(prefix="hq-demo-pack-") as tmp:
        src = Path(tmp) / "src"
        shutil.copytree(source, src)
        manifest = _moved(raw, today, (latest.version + 1) if latest is not None else 1)
        (src / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
        built = Path(tmp) / "pack.zip"
        build_pack(src, built)
        return pack_store.publish(session, built, now_ms)
