"""Published campaign packs in HQ's database: publish (sign with the org key), list, withdraw, and
the packs a store should have (for distribution to its devices)."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from guide_app.domain.errors import UserError
from guide_app.domain.packs import Audience, Manifest
from hq.models import CampaignPack, Region, Store
from hq.packs import archive_digest, sign_pack
from hq.security import load_keys


@dataclass(frozen=True)
class PackSummary:
    id: str
    version: int
    title: str
    valid_from: str
    valid_to: str
    status: str
    size: int
    sha256: str
    audience: str


def _resolve_audience(session: Session, audience: Audience) -> Audience:
    """Region and store names (or ids) as written by the operator, turned into ids; unknown ones refused."""
    regions = {r.id: r.id for r in session.scalars(select(Region))} | {
        r.name: r.id for r in session.scalars(select(Region))
    }
    stores = {s.id: s.id for s in session.scalars(select(Store))} | {s.name: s.id for s in session.scalars(select(Store))}
    region_ids, store_ids = [], []
    for ref in audience.regions:
        if ref not in regions:
            raise UserError("pack.publish.unknown_region", ref=ref)
        region_ids.append(regions[ref])
    for ref in audience.stores:
        if ref not in stores:
            raise UserError("pack.publish.unknown_store", ref=ref)
        store_ids.append(stores[ref])
    return Audience(all_stores=audience.all_stores, regions=sorted(set(region_ids)), stores=sorted(set(store_ids)))


def publish(session: Session, built: Path, now_ms: int) -> CampaignPack:
    """Sign the built pack at ``built`` with the org's key and make it the version devices get."""
    keys = load_keys(session, now_ms)

    def rewrite(manifest: Manifest) -> Manifest:
        return manifest.model_copy(update={"audience": _resolve_audience(session, manifest.audience)})

    with tempfile.TemporaryDirectory(prefix="hq-pack-") as tmp:
        signed = Path(tmp) / "signed.zip"
        manifest, _body = sign_pack(built, signed, keys.signing_key, rewrite)
        latest = session.scalar(select(func.max(CampaignPack.version)).where(CampaignPack.id == manifest.id))
        if latest is not None and latest >= manifest.version:
            raise UserError("pack.publish.version_exists", id=manifest.id, version=latest)
        size, sha = archive_digest(signed)
        data = signed.read_bytes()
    session.execute(
        update(CampaignPack)
        .where(CampaignPack.id == manifest.id, CampaignPack.status == "published")
        .values(status="superseded")
    )
    row = CampaignPack(
        id=manifest.id, version=manifest.version, title=manifest.title,
        manifest=manifest.model_dump(mode="json", exclude_none=True),
        valid_from=manifest.valid_from.isoformat(), valid_to=manifest.valid_to.isoformat(), status="published",
        size=size, sha256=sha, archive=data, published_at=now_ms,
    )
    session.add(row)
    session.flush()
    return row


def _audience_text(session: Session, manifest: dict[str, object]) -> str:
    aud = Audience.model_validate(manifest.get("audience", {}))
    if aud.all_stores:
        return "all stores"
    regions = {r.id: r.name for r in session.scalars(select(Region))}
    stores = {s.id: s.name for s in session.scalars(select(Store))}
    return ",".join([regions.get(r, r) for r in aud.regions] + [stores.get(s, s) for s in aud.stores])


def list_packs(session: Session) -> list[PackSummary]:
    rows = session.scalars(select(CampaignPack).order_by(CampaignPack.id, CampaignPack.version)).all()
    return [
        PackSummary(r.id, r.version, r.title, r.valid_from, r.valid_to, r.status, r.size, r.sha256,
                    _audience_text(session, r.manifest))
        for r in rows
    ]


def withdraw(session: Session, pack_id: str, now_ms: int) -> int:
    """Withdraw every version of a pack; devices drop it on their next sync. Returns versions changed."""
    rows = session.scalars(select(CampaignPack).where(CampaignPack.id == pack_id)).all()
    if not rows:
        raise UserError("pack.publish.not_found", id=pack_id)
    changed = 0
    for row in rows:
        if row.status != "withdrawn":
            row.status = "withdrawn"
            row.withdrawn_at = now_ms
            changed += 1
    return changed


def packs_for_store(session: Session, store: Store) -> list[CampaignPack]:
    """The published packs whose audience includes this store (what its devices should install)."""
    rows = session.scalars(select(CampaignPack).where(CampaignPack.status == "published")
                           .order_by(CampaignPack.id)).all()
    return [r for r in rows if Audience.model_validate(r.manifest["audience"]).includes(store.id, store.region_id)]


def archive(session: Session, pack_id: str, version: int) -> bytes:
    row = session.get(CampaignPack, (pack_id, version))
    if row is None or row.status == "withdrawn":
        raise UserError("pack.publish.not_found", id=pack_id)
    return row.archive
