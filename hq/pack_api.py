"""Campaign pack distribution: which packs a device's store should have, and their archives (with
``Range`` so an interrupted download resumes where it stopped)."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi import APIRouter, Depends, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from guide_app.domain.packs import Audience
from guide_app.sync.protocol import PackInfo, PackListResponse
from hq import auth, pack_store
from hq.db import Database
from hq.errors import ApiError, error_responses
from hq.models import CampaignPack, Store

_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


def _store(session: Session, store_id: str) -> Store:
    store = session.get(Store, store_id)
    if store is None:
        raise ApiError(404, "store_unknown", f"store {store_id} not found")
    return store


def pack_list(db: Database, store_id: str) -> PackListResponse:
    with db.session() as session:
        store = _store(session, store_id)
        rows = pack_store.packs_for_store(session, store)
        withdrawn = sorted({
            r.id for r in session.scalars(select(CampaignPack).where(CampaignPack.status == "withdrawn"))
            if Audience.model_validate(r.manifest["audience"]).includes(store.id, store.region_id)
        } - {r.id for r in rows})
        return PackListResponse(
            packs=[PackInfo(id=r.id, version=r.version, title=r.title, valid_from=r.valid_from, valid_to=r.valid_to,
                            size=r.size, sha256=r.sha256) for r in rows],
            withdrawn=withdrawn,
        )


def add_routes(v1: APIRouter, caller: Callable[..., auth.Caller], db_of: Callable[[Request], Database]) -> None:
    """Add the pack routes to HQ's ``/v1`` router (it already checks client versions).

    ``Depends`` sits in the defaults because ``caller`` is local here: with postponed annotations
    FastAPI could not resolve it inside ``Annotated``."""

    @v1.get("/packs", response_model=PackListResponse, tags=["packs"], responses=error_responses(401, 403, 404))
    def list_packs(request: Request, who: auth.Caller = Depends(caller)) -> PackListResponse:  # noqa: B008
        """The published packs whose audience includes the device's store, and the ids HQ withdrew."""
        return pack_list(db_of(request), who.store_id)

    @v1.get("/packs/{pack_id}/{version}", tags=["packs"],
            responses={200: {"content": {"application/zip": {}}}, 206: {"content": {"application/zip": {}}},
                       **error_responses(401, 403, 404, 416)})
    def download(pack_id: str, version: int, request: Request,
                 who: auth.Caller = Depends(caller)) -> Response:  # noqa: B008
        """The signed pack archive; ``Range: bytes=N-`` answers 206 with the rest from byte N."""
        with db_of(request).session() as session:
            store = _store(session, who.store_id)
            allowed = [(r.id, r.version) for r in pack_store.packs_for_store(session, store)]
            if (pack_id, version) not in allowed:
                raise ApiError(404, "pack_not_found", f"pack {pack_id} v{version} is not published to this store")
            row = session.get(CampaignPack, (pack_id, version))
            assert row is not None
            data, sha = row.archive, row.sha256
        headers = {"Accept-Ranges": "bytes", "ETag": f'"{sha}"'}
        wanted = request.headers.get("range")
        if not wanted:
            return Response(data, media_type="application/zip", headers=headers)
        match = _RANGE.match(wanted.strip())
        start = int(match.group(1)) if match else -1
        end = int(match.group(2)) if match and match.group(2) else len(data) - 1
        if not match or start >= len(data) or end < start:
            raise ApiError(416, "range_not_satisfiable", f"range {wanted} of {len(data)} bytes",
                           headers={"Content-Range": f"bytes */{len(data)}"})
        end = min(end, len(data) - 1)
        headers["Content-Range"] = f"bytes {start}-{end}/{len(data)}"
        return Response(data[start:end + 1], status_code=206, media_type="application/zip", headers=headers)
