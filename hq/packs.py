"""Building and signing campaign pack archives at HQ (files in, files out; no database here).

``build_pack`` turns a folder (``manifest.json`` + ``assets/``) into an unsigned zip after checking
the manifest and every asset's size and sha256; ``sign_pack`` re-checks an unsigned zip the same way
and adds ``manifest.sig``. The format itself lives in :mod:`guide_app.domain.packs`, shared with the
client that verifies what is written here.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from guide_app.domain.errors import UserError
from guide_app.domain.packs import (
    ASSET_DIR,
    DEFAULT_LIMITS,
    MANIFEST_NAME,
    SIGNATURE_NAME,
    ArchiveLimits,
    Manifest,
    canonical_json,
    check_layout,
    check_listing,
    check_script_text,
    copy_asset,
    file_digest,
    manifest_dict,
    parse_manifest,
    read_member,
    sign_manifest,
)

# Already-compressed media gain nothing from deflate; storing them keeps build and install fast.
_STORED_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".mp4", ".zip")


class _NullSink:
    def write(self, data: bytes) -> int:
        return len(data)


def _source_files(src: Path) -> list[str]:
    """Relative names of the files under ``assets/`` (hidden files ignored); links are refused."""
    names: list[str] = []
    root = src / ASSET_DIR.rstrip("/")
    if not root.is_dir():
        return names
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for d in dirnames:
            if (Path(dirpath) / d).is_symlink():
                raise UserError("pack.link", path=(Path(dirpath) / d).relative_to(src).as_posix())
        for f in filenames:
            if f.startswith("."):
                continue
            path = Path(dirpath) / f
            rel = path.relative_to(src).as_posix()
            if path.is_symlink():
                raise UserError("pack.link", path=rel)
            names.append(rel)
    return sorted(names)


def _digest_path(path: Path) -> tuple[int, str]:
    with path.open("rb") as fh:
        return file_digest(fh)


def load_source_manifest(src: Path) -> Manifest:
    """Read ``src/manifest.json``, fill in each asset's size and sha256 where left out, check those
    given against the files, and validate the whole manifest."""
    if not src.is_dir():
        raise UserError("pack.build.no_dir", path=str(src))
    mpath = src / MANIFEST_NAME
    if not mpath.is_file():
        raise UserError("pack.build.no_manifest", path=str(src))
    try:
        raw = json.loads(mpath.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise UserError("pack.manifest_not_json") from exc
    if not isinstance(raw, dict):
        raise UserError("pack.manifest_not_json")
    listed = raw.get("assets", [])
    if not isinstance(listed, list) or not all(isinstance(a, dict) and isinstance(a.get("path"), str) for a in listed):
        raise UserError("pack.build.bad_asset_entry")
    listed_paths = {a["path"] for a in listed}
    for rel in _source_files(src):
        if rel not in listed_paths:
            raise UserError("pack.build.unlisted_file", path=rel)
    filled: list[dict[str, Any]] = []
    for entry in listed:
        rel = entry["path"]
        path = src / rel
        if not rel.startswith(ASSET_DIR) or ".." in rel.split("/") or not path.is_file() or path.is_symlink():
            if path.is_symlink():
                raise UserError("pack.link", path=rel)
            if not rel.startswith(ASSET_DIR) or ".." in rel.split("/"):
                raise UserError("pack.unsafe_path", path=rel)
            raise UserError("pack.build.asset_not_found", path=rel)
        size, sha = _digest_path(path)
        if entry.get("size") is not None and entry["size"] != size:
            raise UserError("pack.build.size_mismatch", path=rel, listed=str(entry["size"]), actual=str(size))
        if entry.get("sha256") is not None and entry["sha256"] != sha:
            raise UserError("pack.build.sha_mismatch", path=rel, listed=str(entry["sha256"]), actual=sha)
        filled.append({**entry, "size": size, "sha256": sha})
    manifest = parse_manifest({**raw, "assets": filled})
    for material in manifest.materials:
        if material.kind == "script" and material.asset:
            check_script_text(material.asset, (src / material.asset).read_bytes())
    return manifest


def _write_atomically(out: Path, write: Callable[[Path], None]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".pack-", suffix=".zip", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _compression(name: str) -> int:
    return zipfile.ZIP_STORED if name.lower().endswith(_STORED_SUFFIXES) else zipfile.ZIP_DEFLATED


def build_pack(src: Path, out: Path) -> Manifest:
    """Write the unsigned pack zip for folder ``src`` to ``out`` (atomically) and return its manifest."""
    manifest = load_source_manifest(src)
    body = canonical_json(manifest_dict(manifest))

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w") as zf:
            zf.writestr(MANIFEST_NAME, body, compress_type=zipfile.ZIP_DEFLATED)
            for asset in manifest.assets:
                zf.write(src / asset.path, asset.path, compress_type=_compression(asset.path))

    _write_atomically(out, write)
    return manifest


def read_unsigned(path: Path, limits: ArchiveLimits = DEFAULT_LIMITS) -> tuple[Manifest, bytes]:
    """Check a built pack as the client will (layout, manifest, listing, every asset's bytes)."""
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UserError("pack.not_a_zip") from exc
    with zf:
        members = check_layout(zf, limits)
        if MANIFEST_NAME not in members:
            raise UserError("pack.no_manifest")
        body = read_member(zf, members[MANIFEST_NAME], limits.max_manifest_bytes)
        manifest = parse_manifest(body)
        check_listing(manifest, {k: v for k, v in members.items() if k != SIGNATURE_NAME})
        for asset in manifest.assets:
            copy_asset(zf, asset, _NullSink())  # type: ignore[arg-type]
    return manifest, body


def sign_pack(
    src: Path,
    out: Path,
    private_key: Ed25519PrivateKey,
    rewrite: Callable[[Manifest], Manifest] | None = None,
) -> tuple[Manifest, bytes]:
    """Check the built pack at ``src`` and write it to ``out`` with ``manifest.sig``.

    ``rewrite`` may change the manifest before signing (HQ resolves audience names to ids); the
    signed ``manifest.json`` is then the canonical form of the result. Returns the manifest and the
    signed manifest bytes.
    """
    manifest, body = read_unsigned(src)
    if rewrite is not None:
        manifest = rewrite(manifest)
    body = canonical_json(manifest_dict(manifest))
    parse_manifest(body)  # what the client will parse must still be valid

    def write(tmp: Path) -> None:
        with zipfile.ZipFile(src) as zin, zipfile.ZipFile(tmp, "w") as zout:
            zout.writestr(MANIFEST_NAME, body, compress_type=zipfile.ZIP_DEFLATED)
            zout.writestr(SIGNATURE_NAME, sign_manifest(body, private_key), compress_type=zipfile.ZIP_STORED)
            for asset in manifest.assets:
                info = zipfile.ZipInfo(asset.path, date_time=zin.getinfo(asset.path).date_time)
                info.compress_type = _compression(asset.path)
                with zin.open(asset.path) as fin, zout.open(info, "w") as fout:
                    shutil.copyfileobj(fin, fout, 1024 * 1024)

    _write_atomically(out, write)
    return manifest, body


def archive_digest(path: Path) -> tuple[int, str]:
    """Size and sha256 of a whole archive: what a client checks after downloading it."""
    return _digest_path(path)


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
