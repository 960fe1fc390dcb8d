"""Asking HQ for the signed-in manager's exports of today from every PC (a network call: run it on
the network executor of tasks.py, then hand the answer to :func:`guide_app.services.exporter.export_customers`)."""

from __future__ import annotations

import logging

from guide_app.services.audit import local_day_start
from guide_app.services.context import AppContext
from guide_app.services.privacy import NOT_ASKED, HqExports
from guide_app.services.sync_service import DEVICE_ID, SyncService
from guide_app.sync.errors import SyncError

log = logging.getLogger(__name__)

OFFLINE_NOTE = "ui.export.local_only"  # HQ unreachable or refused: this PC's exports only
OTHER_SESSION_NOTE = "ui.export.local_only_other_session"  # this PC talks to HQ as someone else


def fetch_hq_exports(ctx: AppContext, sync: SyncService | None) -> HqExports:
    """HQ's export entries of the signed-in manager since this PC's local midnight; when HQ cannot
    say, the note that only this PC's exports are counted. Guides and PCs without HQ: not asked."""
    if not ctx.actor.is_manager or sync is None or not sync.store.get_state(DEVICE_ID):
        return NOT_ASKED  # guides are refused anyway; a PC without HQ has only its own count
    try:
        answer = sync.client.exports_today(local_day_start(ctx.now_ms()))
    except SyncError as exc:
        log.info("export count from HQ unavailable: %s", exc)
        return HqExports(None, OFFLINE_NOTE)
    if answer.account_id != ctx.actor.guide_id:
        # after a quick switch by PIN the PC's HQ session may be another person's: their exports are not ours
        return HqExports(None, OTHER_SESSION_NOTE)
    return HqExports({e.id: e.rows for e in answer.entries})
