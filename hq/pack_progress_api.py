"""``GET /v1/packs/{pack_id}/progress``: a campaign's completion per store and guide, in the caller's scope;
``GET /v1/packs/progress``: every campaign that reaches the caller's scope with its totals (so a regional
manager finds the campaigns HQ sent only to other stores of their region, which their PC never installs).

Who sees what: a guide their own rows; a store manager the guides of the stores they work in; a
regional manager every store of their region; HQ every store. Only stores the pack is published to
count, and a pack that is not published (withdrawn, unknown) or not published to any store of the
caller's scope is a 404 that does not tell which of the two it was.
"""

import datetime as dt
from collections import Counter
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from guide_app.domain.codes import day_of_ms
from guide_app.domain.packs import Manifest, parse_manifest
from guide_app.sync.protocol import (
    OVERVIEW_ENDED_DAYS,
    PackOverviewItem,
    PackOverviewResponse,
    PackProgressResponse,
    PackProgressRow,
    PackProgressStore,
    PackProgressTask,
    PackRunState,
    ProgressScope,
)
from hq import auth
from hq.db import Database
from hq.errors import ApiError, error_responses
from hq.leaderboards import Clock, board_clock
from hq.messages import MESSAGES_ZH
from hq.models import Account, AccountStore, CampaignPack, Region, Store
from hq.pack_progress import GuideRow, audience_stores, progress_many, progress_of

MESSAGES_ZH.update({"pack_not_in_scope": "该活动没有投放到您负责的门店，或已被总部撤回"})


def _not_found(pack_id: str) -> ApiError:
    return ApiError(404, "pack_not_in_scope", f"pack {pack_id} is not published to the caller's stores")


def _scope(session: Session, who: auth.Caller) -> tuple[ProgressScope, list[str] | None, str | None]:
    """The scope, its store ids (None: every store) and the one guide whose rows it keeps (a guide's)."""
    account = session.get(Account, who.account_id)
    assert account is not None  # authenticate() checked it on this request
    if account.role == "hq_admin":
        return "company", None, None
    if account.role == "region_manager":
        region = account.region_id or ""
        return "region", list(session.scalars(select(Store.id).where(Store.region_id == region))), None
    own = set(session.scalars(select(AccountStore.store_id).where(AccountStore.account_id == account.id)))
    own.add(who.store_id)
    if account.role == "store_manager":
        return "store", sorted(own), None
    return "own", sorted(own), account.id


def _published(session: Session, pack_id: str) -> tuple[CampaignPack, Manifest] | None:
    row = session.scalars(select(CampaignPack).where(CampaignPack.id == pack_id, CampaignPack.status == "published")
                          .order_by(CampaignPack.version.desc()).limit(1)).first()
    return (row, parse_manifest(row.manifest)) if row is not None else None


def _store_totals(store: Store, region_name: str, rows: list[GuideRow]) -> PackProgressStore:
    done: Counter[str] = Counter()
    outcomes: Counter[str] = Counter()
    for r in rows:
        done.update(r.done)
        outcomes.update(r.outcomes)
    return PackProgressStore(store_id=store.id, store_name=store.name, region_id=store.region_id,
                             region_name=region_name, guides=len(rows), targets=sum(r.targets for r in rows),
                             done=dict(done), outcomes=dict(outcomes))


def progress_answer(session: Session, who: auth.Caller, pack_id: str, now_ms: int) -> PackProgressResponse:
    published = _published(session, pack_id)
    if published is None:
        raise _not_found(pack_id)
    pack, manifest = published
    scope, store_ids, guide_id = _scope(session, who)
    stores = audience_stores(session, manifest, store_ids)
    if not stores:
        raise _not_found(pack_id)
    rows = progress_of(session, manifest, stores, now_ms, guide_id=guide_id)
    by_store: dict[str, list[GuideRow]] = {s.id: [] for s in stores}
    for r in rows:
        by_store[r.store_id].append(r)
    regions = dict(session.execute(select(Region.id, Region.name)).all())
    return PackProgressResponse(
        pack_id=pack.id, version=pack.version, title=pack.title, valid_from=pack.valid_from,
        valid_to=pack.valid_to, scope=scope,
        tasks=[PackProgressTask(id=t.id, title=t.title, due=manifest.task_due(t).isoformat()) for t in manifest.tasks],
        stores=[_store_totals(s, regions.get(s.region_id, ""), by_store[s.id]) for s in stores],
        rows=[PackProgressRow(store_id=r.store_id, store_name=r.store_name, guide_id=r.guide_id,
                              guide_name=r.guide_name, targets=r.targets, done=r.done, outcomes=dict(r.outcomes))
              for r in rows],
        as_of_ms=now_ms,
    )


_STATE_ORDER: dict[PackRunState, int] = {"running": 0, "upcoming": 1, "ended": 2}


def _state(m: Manifest, today: dt.date) -> PackRunState:
    return "upcoming" if today < m.valid_from else "ended" if today > m.valid_to else "running"


def overview_answer(session: Session, who: auth.Caller, now_ms: int) -> PackOverviewResponse:
    """The published campaigns reaching the caller's scope (ended ones for OVERVIEW_ENDED_DAYS more),
    each with the totals its own progress answer would give, from one read of the books."""
    scope, store_ids, guide_id = _scope(session, who)
    today = day_of_ms(now_ms)
    oldest_end = (today - dt.timedelta(days=OVERVIEW_ENDED_DAYS)).isoformat()
    # one published version per pack id; the window is ISO text, so it compares as a date
    packs = session.scalars(select(CampaignPack).where(CampaignPack.status == "published",
                                                       CampaignPack.valid_to >= oldest_end)).all()
    q = select(Store) if store_ids is None else select(Store).where(Store.id.in_(store_ids))
    in_scope = list(session.scalars(q))
    campaigns: list[tuple[CampaignPack, Manifest, list[Store]]] = []
    for pack in packs:
        manifest = parse_manifest(pack.manifest)
        reached = [s for s in in_scope if manifest.audience.includes(s.id, s.region_id)]
        if reached:
            campaigns.append((pack, manifest, reached))
    rows = progress_many(session, [(m, stores) for _p, m, stores in campaigns], now_ms, guide_id=guide_id)
    items = [
        PackOverviewItem(pack_id=p.id, version=p.version, title=p.title, valid_from=p.valid_from,
                         valid_to=p.valid_to, state=_state(m, today), stores=len(stores), guides=len(mine),
                         targets=sum(r.targets for r in mine), tasks=len(m.tasks),
                         done=sum(n for r in mine for n in r.done.values()))
        for (p, m, stores), mine in zip(campaigns, rows, strict=True)
    ]
    items.sort(key=lambda i: (_STATE_ORDER[i.state], _neg_day(i.valid_from), i.title, i.pack_id))
    return PackOverviewResponse(scope=scope, ended_days=OVERVIEW_ENDED_DAYS, packs=items, as_of_ms=now_ms)


def _neg_day(iso: str) -> int:
    """Newest first in an ascending sort."""
    return -dt.date.fromisoformat(iso).toordinal()


def add_routes(v1: APIRouter, caller: Callable[..., auth.Caller], db_of: Callable[[Request], Database]) -> None:
    """Add the routes to HQ's ``/v1`` router, before ``/packs/{pack_id}/{version}`` (which would take
    "progress" for a version and refuse it). ``/packs/progress`` has one segment fewer than both, so a
    pack whose id is "progress" still has its own progress and archive."""

    @v1.get("/packs/progress", response_model=PackOverviewResponse, tags=["packs"],
            responses=error_responses(401, 403))
    def get_overview(
        request: Request,
        who: Annotated[auth.Caller, Depends(caller)],
        clock: Annotated[Clock, Depends(board_clock)],
    ) -> PackOverviewResponse:
        """The campaigns published to any store of the caller's scope (also those the asking PC's store
        does not get) with their completion there; ended ones stay listed for ``ended_days`` days."""
        with db_of(request).read() as session:
            return overview_answer(session, who, clock.now_ms())

    @v1.get("/packs/{pack_id}/progress", response_model=PackProgressResponse, tags=["packs"],
            responses=error_responses(401, 403, 404))
    def get_progress(
        request: Request,
        pack_id: Annotated[str, Path(max_length=64)],
        who: Annotated[auth.Caller, Depends(caller)],
        clock: Annotated[Clock, Depends(board_clock)],
    ) -> PackProgressResponse:
        """Completion of a campaign per store and guide: target customers (from the synced books) and
        how many have each task done, in the caller's scope."""
        # a read transaction: on SQLite it does not queue behind the pushes (see hq.leaderboards)
        with db_of(request).read() as session:
            return progress_answer(session, who, pack_id, clock.now_ms())
