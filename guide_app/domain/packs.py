"""Campaign packs (活动包): the manifest HQ writes, its signature, and the checks a client runs
before it trusts a pack archive.

A pack is a zip holding ``manifest.json`` (canonical JSON bytes, see :func:`canonical_json`),
``manifest.sig`` (the Ed25519 signature of exactly those bytes, made by HQ) and the assets the
manifest lists, each with its size and sha256. Every refusal is a :class:`UserError` whose key is in
``resources/translations/*/packs.json``, so the campaign page can show the reason in the guide's
language.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import re
import stat
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, BinaryIO, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from guide_app.domain.errors import UserError

FORMAT_VERSION = 1
SUPPORTED_FORMATS = (1,)
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
ASSET_DIR = "assets/"
TASK_KINDS = ("contact", "share_material", "invite_visit")
MATERIAL_KINDS = ("script", "image", "link")
OUTCOMES = ("reached", "not_reachable", "bought", "declined", "opted_out")
STAGES = ("new", "active", "sleeping", "lost")
SCRIPT_PLACEHOLDERS = ("name", "guide", "store")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif")

_ID = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class ArchiveLimits:
    """What a client accepts before it unpacks anything."""

    max_archive_bytes: int = 300 * 1024 * 1024
    max_files: int = 500
    max_total_bytes: int = 256 * 1024 * 1024
    max_ratio: int = 100  # uncompressed / compressed per entry; deflate of real media stays far below
    max_manifest_bytes: int = 1024 * 1024


DEFAULT_LIMITS = ArchiveLimits()


# ---------------------------------------------------------------- manifest model


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(_Strict):
    """Inclusive bounds; either may be omitted."""

    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("range_empty")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError("range_reversed")
        return self


class TagExpression(_Strict):
    """Tag references are tag ids or tag names (a name matches every tag of that name)."""

    all_of: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(default_factory=list)
    any_of: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(default_factory=list)
    none_of: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(default_factory=list)


class Segment(_Strict):
    """Who the campaign is for. Every given condition must hold (AND); an empty segment means the
    whole book. Opted-out customers are never targets whatever the segment says."""

    tags: TagExpression = Field(default_factory=TagExpression)
    birthday_months: list[Annotated[int, Field(ge=1, le=12)]] = Field(default_factory=list)
    stages: list[Literal["new", "active", "sleeping", "lost"]] = Field(default_factory=list)
    days_since_last_purchase: Range | None = None  # customers who never bought do not match
    total_spend_cents: Range | None = None


class Audience(_Strict):
    all_stores: bool = False
    regions: list[Annotated[str, Field(min_length=1, max_length=36)]] = Field(default_factory=list)
    stores: list[Annotated[str, Field(min_length=1, max_length=36)]] = Field(default_factory=list)

    @model_validator(mode="after")
    def _someone(self) -> Audience:
        if not self.all_stores and not self.regions and not self.stores:
            raise ValueError("audience_empty")
        return self

    def includes(self, store_id: str, region_id: str | None) -> bool:
        return self.all_stores or store_id in self.stores or (region_id is not None and region_id in self.regions)


class Asset(_Strict):
    path: str = Field(min_length=1, max_length=200)
    size: int = Field(ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")

    @field_validator("path")
    @classmethod
    def _safe(cls, v: str) -> str:
        if not v.startswith(ASSET_DIR) or unsafe_member_name(v) or v.endswith("/"):
            raise ValueError("asset_path")
        return v


class Material(_Strict):
    id: str = Field(pattern=_ID)
    kind: Literal["script", "image", "link"]
    title: str = Field(min_length=1, max_length=80)
    text: str = Field(default="", max_length=4000)  # script: inline text
    asset: str = ""  # script: a UTF-8 .txt asset; image: the image asset
    url: str = Field(default="", max_length=500)  # link

    @model_validator(mode="after")
    def _shape(self) -> Material:
        if self.kind == "script":
            if bool(self.text) == bool(self.asset) or self.url:
                raise ValueError("script_shape")
            if self.text:
                check_placeholders(self.text)
        elif self.kind == "image":
            if not self.asset or self.text or self.url:
                raise ValueError("image_shape")
            if not self.asset.lower().endswith(IMAGE_SUFFIXES):
                raise ValueError("image_type")
        elif not re.match(r"^https?://[^\s]+$", self.url) or self.text or self.asset:
            raise ValueError("link_shape")
        return self


class Offer(_Strict):
    """A shared coupon ``code``, or a ``code_template`` whose ``{code}`` becomes a short code made
    from the customer (the same customer always gets the same code)."""

    id: str = Field(pattern=_ID)
    title: str = Field(min_length=1, max_length=80)
    description: str = Field(default="", max_length=500)
    code: str = Field(default="", max_length=40)
    code_template: str = Field(default="", max_length=40)

    @model_validator(mode="after")
    def _one_code(self) -> Offer:
        if bool(self.code) == bool(self.code_template):
            raise ValueError("offer_code")
        if self.code_template and self.code_template.count("{code}") != 1:
            raise ValueError("offer_template")
        return self

    def code_for(self, customer_id: str) -> str:
        if self.code:
            return self.code
        digest = hashlib.sha256(f"{self.id}|{customer_id}".encode()).digest()
        short = base64.b32encode(digest).decode()[:8]
        return self.code_template.replace("{code}", short)


class Task(_Strict):
    """A step asked of the guide for each targeted customer."""

    id: str = Field(pattern=_ID)
    kind: Literal["contact", "share_material", "invite_visit"]
    title: str = Field(min_length=1, max_length=80)
    due: dt.date | None = None  # do it by this day (inclusive); None: by the end of the campaign
    material: str = ""  # share_material: the material's id


class QrTemplate(_Strict):
    """How acquisition codes made for this campaign are set up."""

    channel: str = Field(min_length=1, max_length=40)
    label: str = Field(default="", max_length=60)
    auto_tags: list[Annotated[str, Field(min_length=1, max_length=40)]] = Field(default_factory=list)
    welcome_text: str = Field(default="", max_length=500)


class Manifest(_Strict):
    format: int
    id: str = Field(pattern=_ID)
    version: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=80)
    description: str = Field(default="", max_length=2000)
    valid_from: dt.date
    valid_to: dt.date
    audience: Audience
    segment: Segment = Field(default_factory=Segment)
    materials: list[Material] = Field(default_factory=list)
    offers: list[Offer] = Field(default_factory=list)
    tasks: list[Task] = Field(min_length=1)
    qr_template: QrTemplate | None = None
    assets: list[Asset] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Manifest:
        if self.valid_to < self.valid_from:
            raise ValueError("window_reversed")
        for name, items in (("materials", self.materials), ("offers", self.offers), ("tasks", self.tasks)):
            ids = [i.id for i in items]
            if len(ids) != len(set(ids)):
                raise ValueError(f"duplicate_id:{name}")
        paths = [a.path for a in self.assets]
        if len(paths) != len(set(paths)):
            raise ValueError("duplicate_asset")
        listed = set(paths)
        for m in self.materials:
            if m.asset and m.asset not in listed:
                raise ValueError(f"material_asset:{m.id}")
        material_ids = {m.id for m in self.materials}
        for t in self.tasks:
            if t.kind == "share_material" and t.material not in material_ids:
                raise ValueError(f"task_material:{t.id}")
            if t.kind != "share_material" and t.material:
                raise ValueError(f"task_material:{t.id}")
            if t.due is not None and not (self.valid_from <= t.due <= self.valid_to):
                raise ValueError(f"task_due:{t.id}")
        return self

    def asset(self, path: str) -> Asset:
        return next(a for a in self.assets if a.path == path)

    def material(self, material_id: str) -> Material:
        return next(m for m in self.materials if m.id == material_id)

    def task_due(self, task: Task) -> dt.date:
        return task.due or self.valid_to


# Semantic failures raised inside validators carry a short code; each maps to one message key.
_RULE_KEYS = {
    "range_empty": "pack.rule.range_empty",
    "range_reversed": "pack.rule.range_reversed",
    "audience_empty": "pack.rule.audience_empty",
    "asset_path": "pack.rule.asset_path",
    "script_shape": "pack.rule.script_shape",
    "image_shape": "pack.rule.image_shape",
    "image_type": "pack.rule.image_type",
    "link_shape": "pack.rule.link_shape",
    "offer_code": "pack.rule.offer_code",
    "offer_template": "pack.rule.offer_template",
    "window_reversed": "pack.rule.window_reversed",
    "duplicate_id": "pack.rule.duplicate_id",
    "duplicate_asset": "pack.rule.duplicate_asset",
    "material_asset": "pack.rule.material_asset",
    "task_material": "pack.rule.task_material",
    "task_due": "pack.rule.task_due",
    "placeholder": "pack.rule.placeholder",
}


def _field_path(loc: Iterable[Any]) -> str:
    return ".".join(str(p) for p in loc) or "manifest"


def _explain(err: ValidationError) -> UserError:
    """The first problem of the manifest as a translated reason (pydantic's English is never shown)."""
    first = err.errors()[0]
    where = _field_path(first["loc"])
    kind = first["type"]
    if kind == "value_error":
        raw = str(first.get("ctx", {}).get("error", ""))
        code, _, detail = raw.partition(":")
        if code in _RULE_KEYS:
            return UserError(_RULE_KEYS[code], field=where, detail=detail)
    if kind == "missing":
        return UserError("pack.field_missing", field=where)
    if kind == "extra_forbidden":
        return UserError("pack.field_unknown", field=where)
    return UserError("pack.field_invalid", field=where)


def check_placeholders(text: str) -> None:
    for name in _PLACEHOLDER.findall(text):
        if name not in SCRIPT_PLACEHOLDERS:
            raise ValueError(f"placeholder:{{{name}}}")


def render_script(text: str, *, name: str, guide: str = "", store: str = "") -> str:
    """The script with ``{name}``, ``{guide}`` and ``{store}`` filled in; other braces stay as written."""
    values = {"name": name, "guide": guide, "store": store}
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def parse_manifest(data: bytes | str | dict[str, Any]) -> Manifest:
    """Parse and validate a manifest; an unknown format version is refused before anything else."""
    if isinstance(data, dict):
        raw: Any = data
    else:
        try:
            raw = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise UserError("pack.manifest_not_json") from exc
    if not isinstance(raw, dict):
        raise UserError("pack.manifest_not_json")
    fmt = raw.get("format")
    if not isinstance(fmt, int) or isinstance(fmt, bool) or fmt not in SUPPORTED_FORMATS:
        raise UserError("pack.unknown_format", version=str(fmt))
    try:
        return Manifest.model_validate(raw)
    except ValidationError as exc:
        raise _explain(exc) from exc


def manifest_dict(manifest: Manifest) -> dict[str, Any]:
    return manifest.model_dump(mode="json", exclude_none=True)


def canonical_json(data: dict[str, Any]) -> bytes:
    """The one byte form of a manifest that is signed: sorted keys, no spaces, UTF-8."""
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


# ---------------------------------------------------------------- signing


def public_key_b64(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode("ascii")


def load_public_key(b64: str) -> Ed25519PublicKey:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(b64, validate=True))
    except (ValueError, TypeError) as exc:
        raise UserError("pack.bad_pinned_key") from exc


def key_id(key: Ed25519PublicKey) -> str:
    """A short fingerprint naming the key that signed a pack."""
    return hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()[:16]


def sign_manifest(manifest_bytes: bytes, private_key: Ed25519PrivateKey) -> bytes:
    """The ``manifest.sig`` file: JSON naming the algorithm, the key and the signature."""
    sig = private_key.sign(manifest_bytes)
    body = {"alg": "Ed25519", "key_id": key_id(private_key.public_key()), "sig": base64.b64encode(sig).decode()}
    return canonical_json(body)


def verify_manifest(manifest_bytes: bytes, sig_file: bytes, public_key: Ed25519PublicKey) -> None:
    try:
        body = json.loads(sig_file)
        alg, kid, sig = body["alg"], body["key_id"], base64.b64decode(body["sig"], validate=True)
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError("pack.bad_signature") from exc
    if alg != "Ed25519":
        raise UserError("pack.bad_signature")
    if kid != key_id(public_key):
        raise UserError("pack.other_key", key_id=str(kid)[:16])
    try:
        public_key.verify(sig, manifest_bytes)
    except InvalidSignature as exc:
        raise UserError("pack.bad_signature") from exc


# ---------------------------------------------------------------- archive checks


def unsafe_member_name(name: str) -> bool:
    """True for names that could land outside the unpack folder, on any OS."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return True
    return any(part in ("..", "") for part in name.rstrip("/").split("/"))


def _is_link(info: zipfile.ZipInfo) -> bool:
    mode = info.external_attr >> 16
    return stat.S_ISLNK(mode)


@dataclass(frozen=True)
class CheckedPack:
    """A pack whose archive layout, signature, manifest and audience passed; assets are checked
    while they are copied out (:func:`copy_asset`)."""

    manifest: Manifest
    manifest_bytes: bytes


def check_layout(zf: zipfile.ZipFile, limits: ArchiveLimits) -> dict[str, zipfile.ZipInfo]:
    """Refuse unsafe names, links, too many files, too much data and zip bombs, from the central
    directory alone (nothing is decompressed yet)."""
    infos = zf.infolist()
    if len(infos) > limits.max_files:
        raise UserError("pack.too_many_files", count=len(infos), limit=limits.max_files)
    members: dict[str, zipfile.ZipInfo] = {}
    total = 0
    for info in infos:
        name = info.filename
        if unsafe_member_name(name):
            raise UserError("pack.unsafe_path", path=name)
        if _is_link(info):
            raise UserError("pack.link", path=name)
        if name in members:
            raise UserError("pack.duplicate_entry", path=name)
        if info.is_dir():
            continue
        total += info.file_size
        if total > limits.max_total_bytes:
            raise UserError("pack.too_big", limit_mb=limits.max_total_bytes // (1024 * 1024))
        if info.file_size > 1024 * 1024 and info.file_size > limits.max_ratio * max(info.compress_size, 1):
            raise UserError("pack.zip_bomb", path=name)
        members[name] = info
    return members


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    """A small member's bytes, reading no more than ``limit`` whatever the header claims."""
    if info.file_size > limit:
        raise UserError("pack.too_big", limit_mb=max(limit // (1024 * 1024), 1))
    with zf.open(info) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise UserError("pack.too_big", limit_mb=max(limit // (1024 * 1024), 1))
    return data


def check_pack(
    zf: zipfile.ZipFile,
    *,
    public_key: Ed25519PublicKey,
    store_id: str,
    region_id: str | None,
    today: dt.date,
    limits: ArchiveLimits = DEFAULT_LIMITS,
) -> CheckedPack:
    """Every check that needs no asset bytes, in the order that refuses cheaply first."""
    members = check_layout(zf, limits)
    if MANIFEST_NAME not in members:
        raise UserError("pack.no_manifest")
    if SIGNATURE_NAME not in members:
        raise UserError("pack.no_signature")
    manifest_bytes = read_member(zf, members[MANIFEST_NAME], limits.max_manifest_bytes)
    sig_bytes = read_member(zf, members[SIGNATURE_NAME], 4096)
    verify_manifest(manifest_bytes, sig_bytes, public_key)
    manifest = parse_manifest(manifest_bytes)
    check_listing(manifest, members)
    check_applies(manifest, store_id=store_id, region_id=region_id, today=today)
    return CheckedPack(manifest, manifest_bytes)


def check_listing(manifest: Manifest, members: dict[str, zipfile.ZipInfo]) -> None:
    """Every file in the zip is listed, every listed asset is there with the listed size."""
    listed = {a.path: a for a in manifest.assets}
    for name in members:
        if name not in (MANIFEST_NAME, SIGNATURE_NAME) and name not in listed:
            raise UserError("pack.asset_unlisted", path=name)
    for path, asset in listed.items():
        info = members.get(path)
        if info is None:
            raise UserError("pack.asset_missing", path=path)
        if info.file_size != asset.size:
            raise UserError("pack.asset_changed", path=path)


def check_applies(manifest: Manifest, *, store_id: str, region_id: str | None, today: dt.date) -> None:
    if today < manifest.valid_from:
        raise UserError("pack.not_yet_valid", date=manifest.valid_from.isoformat())
    if today > manifest.valid_to:
        raise UserError("pack.expired", date=manifest.valid_to.isoformat())
    if not manifest.audience.includes(store_id, region_id):
        raise UserError("pack.other_store")


def copy_asset(zf: zipfile.ZipFile, asset: Asset, out: BinaryIO, chunk: int = 1024 * 1024) -> None:
    """Stream one asset out of the zip, refusing it if its bytes differ from the signed listing.

    Reads at most the listed size plus one byte, so a member whose header lies cannot inflate
    beyond what the signed manifest allows.
    """
    digest = hashlib.sha256()
    seen = 0
    try:
        with zf.open(asset.path) as fh:
            while True:
                block = fh.read(min(chunk, asset.size + 1 - seen))
                if not block:
                    break
                seen += len(block)
                if seen > asset.size:
                    raise UserError("pack.asset_changed", path=asset.path)
                digest.update(block)
                out.write(block)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:  # CRC mismatch, truncated data
        raise UserError("pack.asset_changed", path=asset.path) from exc
    if seen != asset.size or digest.hexdigest() != asset.sha256:
        raise UserError("pack.asset_changed", path=asset.path)


def file_digest(fh: BinaryIO, chunk: int = 1024 * 1024) -> tuple[int, str]:
    """Size and sha256 of a file object, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    while block := fh.read(chunk):
        size += len(block)
        digest.update(block)
    return size, digest.hexdigest()


def check_script_text(path: str, data: bytes) -> str:
    """A script asset as text: UTF-8, with only the placeholders a guide's PC can fill in."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UserError("pack.script_not_text", path=path) from exc
    for name in _PLACEHOLDER.findall(text):
        if name not in SCRIPT_PLACEHOLDERS:
            raise UserError("pack.script_placeholder", path=path, placeholder="{" + name + "}")
    return text
