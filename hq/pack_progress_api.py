"""``GET /v1/packs/{pack_id}/progress``: a campaign's completion per store and guide, in the caller's scope.

Who sees what: a guide their own rows; a store manager the guides of the stores they work in; a
regional manager every store of their region; HQ every store. Only stores the pack is published to
count, and a pack that is not published (withdrawn, unknown) or not published to any store of the
caller's scope is a 404 that does not tell which of the two it was.
"""

from collections import Counter
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from guide_app.domain.packs import Manifest, parse_manifest
from guide_app.sync.protocol import (
    PackProgressResponse,
    PackProgressRow,
    PackProgressStore,
    PackProgressTask,
    ProgressScope,
)
from hq import auth
from hq.db import Database
from hq.errors import ApiError, error_responses
from hq.leaderboards import Clock, board_clock
from hq.messages import MESSAGES_ZH
from hq.models import Account, AccountStore, CampaignPack, Region, Store
from hq.pack_progress import GuideRow, audience_stores, progress_of

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


def add_routes(v1: APIRouter, caller: Callable[..., auth.Caller], db_of: Callable[[Request], Database]) -> None:
    """Add the route to HQ's ``/v1`` router, before ``/packs/{pack_id}/{version}`` (which would take
    "progress" for a version and refuse it)."""

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
