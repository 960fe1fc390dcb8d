"""Installing campaign packs on this PC: verify, unpack with limits, install atomically, keep history.

A downloaded pack file is checked completely (archive size, layout, signature against the HQ key
pinned at enrollment, manifest, audience, validity, then every asset's bytes while unpacking into a
temporary folder beside the install folder). Only then is the folder renamed into
``<packs dir>/<id>/<version>/`` and the ``campaign_pack`` row switched to it, so the previous version
stays usable until the new one is in place. A refused pack is recorded with its reason for the
campaign page and nothing of it is kept.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from guide_app.db.models import CampaignPack, CampaignPackRefusal, Store
from guide_app.db.state import get_state
from guide_app.domain.errors import UserError
from guide_app.domain.packs import (
    DEFAULT_LIMITS,
    MANIFEST_NAME,
    ArchiveLimits,
    CheckedPack,
    Manifest,
    check_pack,
    check_script_text,
    copy_asset,
    file_digest,
    load_public_key,
    manifest_dict,
    parse_manifest,
)
from guide_app.services.context import AppContext

HQ_KEY_STATE = "hq_public_key"  # sync_state key: HQ's Ed25519 public key (base64), pinned at enrollment
ORG_UTC_OFFSET = dt.timedelta(hours=8)  # validity dates are days in the org's zone (Asia/Shanghai, no DST)


@dataclass(frozen=True)
class InstalledPack:
    id: str
    version: int
    title: str
    valid_from: dt.date
    valid_to: dt.date
    status: str  # installed | expired | withdrawn
    installed_at: int
    path: Path
    manifest: Manifest


@dataclass(frozen=True)
class Refusal:
    pack_id: str
    version: int
    title: str
    source: str
    error: UserError
    at: int


def org_today(now_ms: int) -> dt.date:
    return (dt.datetime.fromtimestamp(now_ms / 1000, dt.UTC) + ORG_UTC_OFFSET).date()


def _to_installed(row: CampaignPack) -> InstalledPack:
    return InstalledPack(
        id=row.id, version=row.version, title=row.title, valid_from=dt.date.fromisoformat(row.valid_from),
        valid_to=dt.date.fromisoformat(row.valid_to), status=row.status, installed_at=row.installed_at,
        path=Path(row.path), manifest=parse_manifest(row.manifest),
    )


class PackService:
    def __init__(self, ctx: AppContext, packs_dir: Path | None = None, limits: ArchiveLimits = DEFAULT_LIMITS) -> None:
        self.ctx = ctx
        self.packs_dir = Path(packs_dir) if packs_dir is not None else ctx.db.path.parent / "packs"
        self.limits = limits

    def today(self) -> dt.date:
        return org_today(self.ctx.now_ms())

    # ------------------------------------------------------------ install

    def install_file(
        self, path: Path, *, source: str = "", expected_size: int | None = None, expected_sha256: str | None = None
    ) -> InstalledPack:
        """Verify and install the pack file at ``path``; a refusal is recorded and re-raised."""
        path = Path(path)
        checked: CheckedPack | None = None
        try:
            if expected_size is not None or expected_sha256 is not None:
                with path.open("rb") as fh:
                    size, sha = file_digest(fh)
                if (expected_size is not None and size != expected_size) or (
                    expected_sha256 is not None and sha != expected_sha256
                ):
                    raise UserError("pack.download_mismatch")
            if path.stat().st_size > self.limits.max_archive_bytes:
                raise UserError("pack.archive_too_large", limit_mb=self.limits.max_archive_bytes // (1024 * 1024))
            try:
                zf = zipfile.ZipFile(path)
            except (zipfile.BadZipFile, OSError) as exc:
                raise UserError("pack.not_a_zip") from exc
            with zf:
                checked = self._check(zf)
                current = self._row(checked.manifest.id)
                if current is not None and current.version > checked.manifest.version:
                    raise UserError("pack.older_version", installed=current.version, offered=checked.manifest.version)
                if (
                    current is not None
                    and current.version == checked.manifest.version
                    and current.status == "installed"
                    and Path(current.path).is_dir()
                ):
                    return current  # the same version again: already in place
                return self._install(zf, checked)
        except UserError as err:
            self._record_refusal(err, checked.manifest if checked else None, source or path.name)
            raise

    def _check(self, zf: zipfile.ZipFile) -> CheckedPack:
        with self.ctx.read() as s:
            pinned = get_state(s, HQ_KEY_STATE)
            store = s.get(Store, self.ctx.store_id)
        if not pinned:
            raise UserError("pack.no_pinned_key")
        return check_pack(
            zf,
            public_key=load_public_key(pinned),
            store_id=self.ctx.store_id,
            region_id=store.region_id if store is not None else None,
            today=self.today(),
            limits=self.limits,
        )

    def _row(self, pack_id: str) -> InstalledPack | None:
        with self.ctx.read() as s:
            row = s.get(CampaignPack, pack_id)
            return _to_installed(row) if row is not None else None

    def _install(self, zf: zipfile.ZipFile, checked: CheckedPack) -> InstalledPack:
        manifest = checked.manifest
        self.packs_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".incoming-", dir=self.packs_dir))
        final = self.packs_dir / manifest.id / str(manifest.version)
        moved = False
        try:
            self._unpack(zf, checked, staging)
            final.parent.mkdir(parents=True, exist_ok=True)
            if final.exists():  # left by an install that crashed before its row was written
                shutil.rmtree(final)
            os.replace(staging, final)
            moved = True
            previous = self._commit(manifest, final)
        except OSError as exc:
            raise UserError("pack.install_failed", reason=exc.strerror or type(exc).__name__) from exc
        finally:
            if not moved:
                shutil.rmtree(staging, ignore_errors=True)
        if previous is not None and previous != final:
            shutil.rmtree(previous, ignore_errors=True)
        installed = self._row(manifest.id)
        assert installed is not None
        return installed

    def _unpack(self, zf: zipfile.ZipFile, checked: CheckedPack, dest: Path) -> None:
        root = dest.resolve()
        (dest / MANIFEST_NAME).write_bytes(checked.manifest_bytes)
        for asset in checked.manifest.assets:
            target = (dest / asset.path).resolve()
            if root not in target.parents:  # names were checked already; never write outside dest
                raise UserError("pack.unsafe_path", path=asset.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "xb") as out:
                copy_asset(zf, asset, out)
        for material in checked.manifest.materials:
            if material.kind == "script" and material.asset:
                check_script_text(material.asset, (dest / material.asset).read_bytes())

    def _commit(self, manifest: Manifest, final: Path) -> Path | None:
        """Point the pack's row at the new folder; returns the folder of the version it replaced."""
        try:
            with self.ctx.db.write() as s:
                row = s.get(CampaignPack, manifest.id)
                previous = Path(row.path) if row is not None else None
                values = {
                    "version": manifest.version, "title": manifest.title, "manifest": manifest_dict(manifest),
                    "valid_from": manifest.valid_from.isoformat(), "valid_to": manifest.valid_to.isoformat(),
                    "status": "installed", "path": str(final), "installed_at": self.ctx.now_ms(),
                }
                if row is None:
                    s.add(CampaignPack(id=manifest.id, **values))
                else:
                    for k, v in values.items():
                        setattr(row, k, v)
        except Exception:
            shutil.rmtree(final, ignore_errors=True)  # the row still points at the previous version
            raise
        return previous

    def _record_refusal(self, err: UserError, manifest: Manifest | None, source: str) -> None:
        with self.ctx.db.write() as s:
            s.add(CampaignPackRefusal(
                pack_id=manifest.id if manifest else "", version=manifest.version if manifest else 0,
                title=manifest.title if manifest else "", source=source[:500], reason_key=err.key,
                reason_params={k: str(v) for k, v in err.params.items()}, at=self.ctx.now_ms(),
            ))

    # ------------------------------------------------------------ lifecycle

    def expire_past(self) -> list[str]:
        """Move packs whose window has ended to history; returns their ids."""
        today = self.today().isoformat()
        with self.ctx.db.write() as s:
            rows = s.scalars(select(CampaignPack).where(
                CampaignPack.status == "installed", CampaignPack.valid_to < today)).all()
            for row in rows:
                row.status = "expired"
            return [r.id for r in rows]

    def withdraw(self, pack_id: str) -> bool:
        """HQ withdrew the pack: its files go, its row stays (as history for the tasks done under it)."""
        with self.ctx.db.write() as s:
            row = s.get(CampaignPack, pack_id)
            if row is None or row.status == "withdrawn":
                return False
            row.status = "withdrawn"
            path = Path(row.path)
        shutil.rmtree(path, ignore_errors=True)
        return True

    # ------------------------------------------------------------ reading

    def packs(self, *, statuses: tuple[str, ...] = ("installed",)) -> list[InstalledPack]:
        """Packs in the given states, newest window first (running ones for the page, others for history)."""
        self.expire_past()
        with self.ctx.read() as s:
            rows = s.scalars(select(CampaignPack).where(CampaignPack.status.in_(statuses))
                             .order_by(CampaignPack.valid_to.desc(), CampaignPack.id)).all()
            return [_to_installed(r) for r in rows]

    def get(self, pack_id: str) -> InstalledPack:
        pack = self._row(pack_id)
        if pack is None:
            raise UserError("campaign.pack_not_installed", id=pack_id)
        return pack

    def refusals(self, limit: int = 50) -> list[Refusal]:
        with self.ctx.read() as s:
            rows = s.scalars(select(CampaignPackRefusal).order_by(CampaignPackRefusal.pk.desc()).limit(limit)).all()
            return [Refusal(r.pack_id, r.version, r.title, r.source, UserError(r.reason_key, **r.reason_params), r.at)
                    for r in rows]

    def asset_path(self, pack_id: str, asset: str) -> Path:
        """Where an installed asset lies on disk (to show or save an image)."""
        pack = self.get(pack_id)
        pack.manifest.asset(asset)  # only listed assets
        return pack.path / asset

    def script_text(self, pack_id: str, material_id: str) -> str:
        pack = self.get(pack_id)
        material = pack.manifest.material(material_id)
        if material.asset:
            return (pack.path / material.asset).read_text(encoding="utf-8")
        return material.text

