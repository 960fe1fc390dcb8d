"""The pack format: manifest validation, signatures, and every archive refusal, on hand-made zips."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from guide_app.domain.errors import UserError
from guide_app.domain.packs import (
    ArchiveLimits,
    CheckedPack,
    canonical_json,
    check_pack,
    check_script_text,
    copy_asset,
    parse_manifest,
    render_script,
    unsafe_member_name,
)
from guide_app.i18n import tr
from tests.fixtures.packs import DEFAULT_FILES, PNG, REGION, SCRIPT, STORE, manifest_data, write_pack

TODAY = dt.date(2027, 3, 15)
KEY = Ed25519PrivateKey.generate()


def _check(path: Path, key: Ed25519PrivateKey = KEY, **kw: Any) -> CheckedPack:
    params: dict[str, Any] = {"store_id": STORE, "region_id": REGION, "today": TODAY, **kw}
    with zipfile.ZipFile(path) as zf:
        return check_pack(zf, public_key=key.public_key(), **params)


def _refusal(path: Path, **kw: Any) -> UserError:
    with pytest.raises(UserError) as err:
        checked = _check(path, **kw)
        with zipfile.ZipFile(path) as zf:
            for asset in checked.manifest.assets:
                copy_asset(zf, asset, io.BytesIO())
    # every refusal reads as a sentence in both languages, never as the bare key
    assert tr(err.value.key, lang="zh_CN", **err.value.params) != err.value.key
    assert tr(err.value.key, lang="en", **err.value.params) != err.value.key
    return err.value


def test_a_good_pack_passes_and_its_assets_copy_out(tmp_path: Path) -> None:
    checked = _check(write_pack(tmp_path / "p.zip", KEY))
    assert checked.manifest.id == "spring-care" and [a.path for a in checked.manifest.assets] == [
        "assets/script.txt",
        "assets/poster.png",
    ]
    out = io.BytesIO()
    with zipfile.ZipFile(tmp_path / "p.zip") as zf:
        copy_asset(zf, checked.manifest.asset("assets/poster.png"), out)
    assert out.getvalue() == PNG


def test_bad_signature(tmp_path: Path) -> None:
    forged = manifest_data(title="别的活动")
    path = write_pack(tmp_path / "p.zip", KEY, signed_manifest=forged)
    assert _refusal(path).key == "pack.bad_signature"


def test_signature_by_another_key(tmp_path: Path) -> None:
    path = write_pack(tmp_path / "p.zip", Ed25519PrivateKey.generate())
    assert _refusal(path).key == "pack.other_key"


def test_unsigned_pack(tmp_path: Path) -> None:
    assert _refusal(write_pack(tmp_path / "p.zip", None)).key == "pack.no_signature"


def test_changed_asset(tmp_path: Path) -> None:
    manifest = manifest_data()
    files = {"assets/script.txt": SCRIPT.replace("春季".encode(), "全场".encode()), "assets/poster.png": PNG}
    assert len(files["assets/script.txt"]) == len(SCRIPT)
    err = _refusal(write_pack(tmp_path / "p.zip", KEY, manifest, files))
    assert err.key == "pack.asset_changed" and err.params["path"] == "assets/script.txt"


def test_changed_asset_size(tmp_path: Path) -> None:
    manifest = manifest_data()
    files = {"assets/script.txt": b"short", "assets/poster.png": PNG}
    assert _refusal(write_pack(tmp_path / "p.zip", KEY, manifest, files)).key == "pack.asset_changed"


def test_missing_asset(tmp_path: Path) -> None:
    manifest = manifest_data()
    err = _refusal(write_pack(tmp_path / "p.zip", KEY, manifest, {"assets/poster.png": PNG}))
    assert err.key == "pack.asset_missing" and err.params["path"] == "assets/script.txt"


def test_unlisted_file(tmp_path: Path) -> None:
    path = write_pack(tmp_path / "p.zip", KEY, raw_entries=(("assets/extra.exe", b"MZ"),))
    assert _refusal(path).key == "pack.asset_unlisted"


@pytest.mark.parametrize("name", ["../evil.txt", "assets/../../evil.txt", "/etc/cron.d/evil", "C:/evil.txt", "a\\..\\b"])
def test_dot_dot_and_absolute_paths(tmp_path: Path, name: str) -> None:
    path = write_pack(tmp_path / "p.zip", KEY, raw_entries=((name, b"x"),))
    with zipfile.ZipFile(path) as zf:
        assert name in zf.namelist()  # the hostile name really is in the archive
    err = _refusal(path)
    assert err.key == "pack.unsafe_path" and err.params["path"] == name


def test_symlink(tmp_path: Path) -> None:
    err = _refusal(write_pack(tmp_path / "p.zip", KEY, links=("assets/passwd",)))
    assert err.key == "pack.link" and err.params["path"] == "assets/passwd"


def test_zip_bomb(tmp_path: Path) -> None:
    """Even listed and signed, an entry inflating 1000:1 is refused before anything is unpacked."""
    files = {**DEFAULT_FILES, "assets/bomb.bin": b"\0" * (20 * 1024 * 1024)}
    path = write_pack(tmp_path / "p.zip", KEY, manifest_data(files), files)
    assert path.stat().st_size < 100_000
    err = _refusal(path)
    assert err.key == "pack.zip_bomb" and err.params["path"] == "assets/bomb.bin"


def test_too_many_files_and_too_large(tmp_path: Path) -> None:
    many = tuple((f"assets/f{i}.txt", b"x") for i in range(12))
    path = write_pack(tmp_path / "p.zip", KEY, raw_entries=many)
    assert _refusal(path, limits=ArchiveLimits(max_files=10)).key == "pack.too_many_files"
    assert _refusal(path, limits=ArchiveLimits(max_total_bytes=100)).key == "pack.too_big"


def test_header_that_lies_about_size_cannot_inflate(tmp_path: Path) -> None:
    """A member whose data is longer than the signed size is cut off and refused."""
    manifest = manifest_data()
    manifest["assets"][0]["size"] = 3
    err = _refusal(write_pack(tmp_path / "p.zip", KEY, manifest))
    assert err.key == "pack.asset_changed"


def test_unknown_manifest_version(tmp_path: Path) -> None:
    err = _refusal(write_pack(tmp_path / "p.zip", KEY, manifest_data(format=2)))
    assert err.key == "pack.unknown_format" and err.params["version"] == "2"


@pytest.mark.parametrize(
    ("today", "key"), [(dt.date(2027, 2, 28), "pack.not_yet_valid"), (dt.date(2027, 5, 1), "pack.expired")]
)
def test_outside_validity_window(tmp_path: Path, today: dt.date, key: str) -> None:
    assert _refusal(write_pack(tmp_path / "p.zip", KEY), today=today).key == key


def test_window_edges_are_inclusive(tmp_path: Path) -> None:
    path = write_pack(tmp_path / "p.zip", KEY)
    _check(path, today=dt.date(2027, 3, 1))
    _check(path, today=dt.date(2027, 4, 30))


def test_pack_for_another_store(tmp_path: Path) -> None:
    path = write_pack(tmp_path / "p.zip", KEY)
    assert _refusal(path, store_id="store-9", region_id="region-west").key == "pack.other_store"
    other = write_pack(tmp_path / "q.zip", KEY, manifest_data(audience={"stores": ["store-2"]}))
    assert _refusal(other).key == "pack.other_store"
    mine = write_pack(tmp_path / "r.zip", KEY, manifest_data(audience={"stores": [STORE]}))
    _check(mine, region_id=None)


def test_manifest_rules_give_translated_reasons() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({"valid_to": "2027-02-01"}, "pack.rule.window_reversed"),
        ({"audience": {}}, "pack.rule.audience_empty"),
        ({"tasks": []}, "pack.field_invalid"),
        ({"title": None}, "pack.field_invalid"),
        ({"colour": "red"}, "pack.field_unknown"),
        ({"segment": {"total_spend_cents": {"min": 5, "max": 1}}}, "pack.rule.range_reversed"),
        ({"segment": {"birthday_months": [13]}}, "pack.field_invalid"),
        ({"offers": [{"id": "o", "title": "券", "code": "A", "code_template": "B{code}"}]}, "pack.rule.offer_code"),
        ({"offers": [{"id": "o", "title": "券", "code_template": "B"}]}, "pack.rule.offer_template"),
        ({"materials": [{"id": "s", "kind": "script", "title": "话术", "text": "{nmae}您好"}]}, "pack.rule.placeholder"),
        ({"tasks": [{"id": "t", "kind": "share_material", "title": "分享", "material": "nope"}]}, "pack.rule.task_material"),
        ({"tasks": [{"id": "t", "kind": "contact", "title": "联系", "due": "2027-06-01"}]}, "pack.rule.task_due"),
        ({"assets": [{"path": "../x.png", "size": 1, "sha256": "0" * 64}]}, "pack.rule.asset_path"),
    ]
    for override, key in cases:
        data = manifest_data(**override)
        if "title" in override and override["title"] is None:
            del data["title"]
            key = "pack.field_missing"
        with pytest.raises(UserError) as err:
            parse_manifest(canonical_json(data))
        assert err.value.key == key, (override, err.value.key, err.value.params)
        assert "{field}" not in tr(key, lang="zh_CN", **err.value.params)
    with pytest.raises(UserError) as bad:
        parse_manifest(b"{not json")
    assert bad.value.key == "pack.manifest_not_json"


def test_canonical_json_is_stable_and_round_trips() -> None:
    data = manifest_data()
    body = canonical_json(data)
    assert body == canonical_json(dict(reversed(list(data.items()))))
    assert b": " not in body and b", " not in body
    assert parse_manifest(body).title == "春季关怀"


def test_scripts_fill_in_the_customer_and_offer_codes_are_stable() -> None:
    assert render_script("{name}您好，我是{guide}（{store}）{x}", name="王芳", guide="小李", store="静安店") == (
        "王芳您好，我是小李（静安店）{x}"
    )
    manifest = parse_manifest(manifest_data(offers=[{"id": "o", "title": "券", "code_template": "SPR-{code}"}]))
    offer = manifest.offers[0]
    assert offer.code_for("c1") == offer.code_for("c1") != offer.code_for("c2")
    assert offer.code_for("c1").startswith("SPR-") and len(offer.code_for("c1")) == 12
    assert check_script_text("a.txt", "{name}好".encode()) == "{name}好"
    with pytest.raises(UserError):
        check_script_text("a.txt", b"\xff\xfe")
    with pytest.raises(UserError):
        check_script_text("a.txt", b"{phone}")


def test_unsafe_names() -> None:
    assert not unsafe_member_name("assets/a/b.png")
    for bad in ("", "/a", "../a", "a/../b", "a//b", "a\\b", "C:x", "a/./b/.."):
        assert unsafe_member_name(bad), bad
