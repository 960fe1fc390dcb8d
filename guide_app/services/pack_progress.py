"""Campaign progress for managers: HQ's completion per store and guide (``GET /v1/packs/{id}/progress``),
kept on this PC with its "as of" time (in ``leaderboard_snapshot``, beside the boards) so the progress
tab opens offline and says how old it is. A store manager with no saved copy still sees their store,
worked out from this PC's own book; a regional manager's PC holds one store only, so they are told
there is no copy instead of being shown a part as if it were the region.

The overview (``GET /v1/packs/progress``) lists every campaign reaching the account's scope with its
totals, also campaigns HQ did not send to this PC's store; it is kept the same way (metric
"overview"), with no local fallback: a PC knows only the campaigns of its own store.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from guide_app.db.models import Store
from guide_app.services.campaigns import CampaignService
from guide_app.services.context import AppContext, wall_ms
from guide_app.services.hq_copies import CopyLabel, HqCopies, Source
from guide_app.services.sync_service import SyncService
from guide_app.sync.protocol import (
    PackOverviewResponse,
    PackProgressResponse,
    PackProgressRow,
    PackProgressStore,
    PackProgressTask,
)


@dataclass(frozen=True)
class ProgressView:
    answer: PackProgressResponse
    source: Source  # hq: fresh; saved: the copy kept at fetched_at; local: worked out on this PC
    fetched_at: int
    problem: str = ""  # why HQ's answer is not fresh (in the user's language)

    @property
    def offline(self) -> bool:
        return self.source != "hq"


@dataclass(frozen=True)
class OverviewView:
    answer: PackOverviewResponse
    source: Source  # hq: fresh; saved: the copy kept at fetched_at (no local fallback here)
    fetched_at: int
    problem: str = ""  # why HQ's answer is not fresh (in the user's language)


class PackProgressService:
    """Fetch-and-keep of campaign progress for the signed-in account (``sync`` None: no HQ)."""

    def __init__(self, ctx: AppContext, sync: SyncService | None, campaigns: CampaignService,
                 now_ms: Callable[[], int] = wall_ms) -> None:
        self.ctx = ctx
        self.sync = sync
        self.campaigns = campaigns
        self.now_ms = now_ms
        self.copies = HqCopies(ctx, sync, now_ms)

    def _key(self, pack_id: str) -> str:
        return f"{self.ctx.actor.guide_id}|pack-progress|{pack_id}"[:300]

    def overview(self) -> OverviewView:
        """HQ's list of the campaigns reaching the account's scope, saved for offline use; HQ
        unreachable: the saved copy, else UserError (no copy); HQ refusing: UserError with its reason."""
        got = self.copies.fetch(f"{self.ctx.actor.guide_id}|pack-overview", PackOverviewResponse,
                                lambda client: client.pack_overview(), CopyLabel("pack", "overview", "campaign"),
                                refused="campaign.overview.refused", no_copy="campaign.overview.no_copy")
        return OverviewView(got.answer, got.source, got.fetched_at, got.problem)

    def progress(self, pack_id: str) -> ProgressView:
        """HQ's answer, saved for offline use; HQ unreachable: the saved copy, else (store manager)
        this PC's own figures; HQ refusing (pack not published to the caller's stores): UserError."""
        fallback = (lambda: self.local(pack_id)) if self.ctx.actor.role == "store_manager" else None
        got = self.copies.fetch(self._key(pack_id), PackProgressResponse, lambda client: client.pack_progress(pack_id),
                                CopyLabel("pack", "progress", "campaign"), refused="campaign.progress.refused",
                                no_copy="campaign.progress.no_copy", fallback=fallback)
        return ProgressView(got.answer, got.source, got.fetched_at, got.problem)

    def local(self, pack_id: str) -> PackProgressResponse:
        """This store's progress from the book on this PC, in HQ's shape."""
        pack = self.campaigns.packs.get(pack_id)
        m = pack.manifest
        guides = self.campaigns.progress(pack_id)
        with self.ctx.read() as s:
            store = s.get(Store, self.ctx.store_id)
            name, region_id, region = (store.name, store.region_id or "", store.region_name) if store else ("", "", "")
        rows = [PackProgressRow(store_id=self.ctx.store_id, store_name=name, guide_id=g.guide_id,
                                guide_name=g.guide_name or g.guide_id, targets=g.targets, done=g.done,
                                outcomes=g.outcomes) for g in guides]
        done: Counter[str] = Counter()
        outcomes: Counter[str] = Counter()
        for r in rows:
            done.update(r.done)
            outcomes.update(r.outcomes)
        totals = PackProgressStore(store_id=self.ctx.store_id, store_name=name, region_id=region_id,
                                   region_name=region, guides=len(rows), targets=sum(r.targets for r in rows),
                                   done={t.id: done.get(t.id, 0) for t in m.tasks}, outcomes=dict(outcomes))
        return PackProgressResponse(
            pack_id=m.id, version=m.version, title=m.title, valid_from=m.valid_from.isoformat(),
            valid_to=m.valid_to.isoformat(), scope="store",
            tasks=[PackProgressTask(id=t.id, title=t.title, due=m.task_due(t).isoformat()) for t in m.tasks],
            stores=[totals], rows=rows, as_of_ms=self.now_ms())
