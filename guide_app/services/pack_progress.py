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
from typing import Literal

from guide_app.db.models import LeaderboardSnapshot, Store
from guide_app.domain.errors import UserError
from guide_app.services.campaigns import CampaignService
from guide_app.services.context import AppContext, wall_ms
from guide_app.services.sync_service import SyncService
from guide_app.sync.client import HqClient
from guide_app.sync.errors import ForbiddenError, NotEnrolledError, RequestError, SyncError
from guide_app.sync.protocol import (
    PackOverviewResponse,
    PackProgressResponse,
    PackProgressRow,
    PackProgressStore,
    PackProgressTask,
)

Source = Literal["hq", "saved", "local"]


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
    source: Literal["hq", "saved"]  # hq: fresh; saved: the copy kept at fetched_at
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

    def _key(self, pack_id: str) -> str:
        return f"{self.ctx.actor.guide_id}|pack-progress|{pack_id}"[:300]

    def overview(self) -> OverviewView:
        """HQ's list of the campaigns reaching the account's scope, saved for offline use; HQ
        unreachable: the saved copy, else UserError (no copy); HQ refusing: UserError with its reason."""
        key = f"{self.ctx.actor.guide_id}|pack-overview"
        try:
            answer = self._client().pack_overview()
        except (ForbiddenError, RequestError) as exc:
            raise UserError("campaign.overview.refused", reason=exc.message()) from exc
        except SyncError as exc:
            cached = self._cached(key)
            if cached is None:
                raise UserError("campaign.overview.no_copy", reason=exc.message()) from exc
            return OverviewView(PackOverviewResponse.model_validate(cached.rows), "saved", cached.fetched_at,
                                exc.message())
        fetched = self.now_ms()
        self._save(key, answer, fetched, "overview")
        return OverviewView(answer, "hq", fetched)

    def progress(self, pack_id: str) -> ProgressView:
        """HQ's answer, saved for offline use; HQ unreachable: the saved copy, else (store manager)
        this PC's own figures; HQ refusing (pack not published to the caller's stores): UserError."""
        key = self._key(pack_id)
        try:
            answer = self._client().pack_progress(pack_id)
        except (ForbiddenError, RequestError) as exc:
            raise UserError("campaign.progress.refused", reason=exc.message()) from exc
        except SyncError as exc:
            cached = self._cached(key)
            if cached is not None:
                return ProgressView(PackProgressResponse.model_validate(cached.rows), "saved", cached.fetched_at,
                                    exc.message())
            if self.ctx.actor.role != "store_manager":
                raise UserError("campaign.progress.no_copy", reason=exc.message()) from exc
            return ProgressView(self.local(pack_id), "local", self.now_ms(), exc.message())
        fetched = self.now_ms()
        self._save(key, answer, fetched)
        return ProgressView(answer, "hq", fetched)

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

    def _client(self) -> HqClient:
        if self.sync is None or not self.sync.store.get_state("device_id"):
            raise NotEnrolledError("this PC is not signed in to HQ")
        return self.sync.client

    def _cached(self, key: str) -> LeaderboardSnapshot | None:
        with self.ctx.db.read() as s:
            row = s.get(LeaderboardSnapshot, key)
            if row is not None:
                s.expunge(row)
            return row

    def _save(self, key: str, answer: PackProgressResponse | PackOverviewResponse, fetched: int,
              metric: str = "progress") -> None:
        payload = answer.model_dump(mode="json")
        with self.ctx.db.write() as s:
            row = s.get(LeaderboardSnapshot, key)
            if row is None:
                s.add(LeaderboardSnapshot(key=key, account_id=self.ctx.actor.guide_id, scope="pack", metric=metric,
                                          period="campaign", as_of=answer.as_of_ms, rows=payload, fetched_at=fetched))
            else:
                row.as_of, row.rows, row.fetched_at = answer.as_of_ms, payload, fetched
