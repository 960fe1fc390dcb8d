"""Installing packs on a real SQLite book and packs folder; targets, tasks and progress."""

from __future__ import annotations

import hashlib
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from guide_app.db.engine import Database, open_database
from guide_app.db.models import CampaignPack, CampaignTask, Customer, Outbox
from guide_app.domain.errors import UserError
from guide_app.services.campaigns import CampaignService
from guide_app.services.context import AppContext
from guide_app.services.packs import PackService
from tests.fixtures.campaign_book import (
    DAY,
    EXPECTED_GUIDE_1,
    EXPECTED_STORE,
    SEGMENT,
    STORE,
    Clock,
    make_ctx,
    pin_key,
    seed_book,
    seed_org,
)
from tests.fixtures.packs import DEFAULT_FILES, PNG, SCRIPT, manifest_data, write_pack

KEY = Ed25519PrivateKey.generate()


@pytest.fixture()
def clock() -> Clock:
    return Clock()


@pytest.fixture()
def db(tmp_path: Path) -> Database:
    return open_database(tmp_path / "guide.db")


@pytest.fixture()
def ctx(db: Database, clock: Clock) -> AppContext:
    c = make_ctx(db, clock)
    seed_org(c)
    pin_key(c, KEY)
    return c


@pytest.fixture()
def svc(ctx: AppContext, tmp_path: Path) -> PackService:
    return PackService(ctx, tmp_path / "packs")


def _dirs(svc: PackService) -> list[str]:
    return sorted(p.relative_to(svc.packs_dir).as_posix() for p in svc.packs_dir.rglob("*") if p.is_dir())


def test_install_unpacks_into_id_and_version_and_records_the_pack(svc: PackService, tmp_path: Path) -> None:
    pack = svc.install_file(write_pack(tmp_path / "p.zip", KEY))
    assert pack.id == "spring-care" and pack.version == 1 and pack.status == "installed"
    assert pack.path == svc.packs_dir / "spring-care" / "1"
    assert (pack.path / "assets/poster.png").read_bytes() == PNG
    assert svc.asset_path("spring-care", "assets/poster.png").read_bytes() == PNG
    assert svc.script_text("spring-care", "script") == SCRIPT.decode()
    assert _dirs(svc) == ["spring-care", "spring-care/1", "spring-care/1/assets"]  # no staging left
    assert [p.id for p in svc.packs()] == ["spring-care"] and svc.refusals() == []
    assert svc.install_file(tmp_path / "p.zip").installed_at == pack.installed_at  # same version: a no-op


def _v(version: int, files: dict[str, bytes] | None = None, **kw: object) -> dict[str, object]:
    return manifest_data(files, version=version, **kw)


def test_new_version_replaces_the_old_and_a_failed_one_keeps_it(svc: PackService, tmp_path: Path) -> None:
    svc.install_file(write_pack(tmp_path / "v1.zip", KEY, _v(1)))
    # v2 whose last asset was changed after signing: refused while unpacking, after the first asset was written
    files = {"assets/script.txt": b"v2 {name}", "assets/poster.png": PNG}
    broken = dict(files, **{"assets/poster.png": PNG[:-1] + b"\x00"})
    with pytest.raises(UserError) as err:
        svc.install_file(write_pack(tmp_path / "v2bad.zip", KEY, _v(2, files), broken))
    assert err.value.key == "pack.asset_changed"
    kept = svc.get("spring-care")
    assert kept.version == 1 and (kept.path / "assets/script.txt").read_bytes() == SCRIPT
    assert _dirs(svc) == ["spring-care", "spring-care/1", "spring-care/1/assets"]
    refusal = svc.refusals()[0]
    assert (refusal.pack_id, refusal.version, refusal.error.key) == ("spring-care", 2, "pack.asset_changed")

    v2 = svc.install_file(write_pack(tmp_path / "v2.zip", KEY, _v(2, files), files))
    assert v2.version == 2 and svc.script_text("spring-care", "script") == "v2 {name}"
    assert not (svc.packs_dir / "spring-care" / "1").exists()

    with pytest.raises(UserError) as older:
        svc.install_file(tmp_path / "v1.zip")
    assert older.value.key == "pack.older_version" and svc.get("spring-care").version == 2


def _bad_sig(p: Path) -> Path:
    return write_pack(p, KEY, signed_manifest=manifest_data(title="伪造"))


REFUSALS: dict[str, tuple[Callable[[Path], Path], str]] = {
    "bad signature": (_bad_sig, "pack.bad_signature"),
    "another key": (lambda p: write_pack(p, Ed25519PrivateKey.generate()), "pack.other_key"),
    "changed asset": (
        lambda p: write_pack(p, KEY, manifest_data(), {**DEFAULT_FILES, "assets/poster.png": PNG[::-1]}),
        "pack.asset_changed",
    ),
    "missing asset": (
        lambda p: write_pack(p, KEY, manifest_data(), {"assets/script.txt": SCRIPT}),
        "pack.asset_missing",
    ),
    "dot-dot path": (lambda p: write_pack(p, KEY, raw_entries=(("assets/../../x.txt", b"x"),)), "pack.unsafe_path"),
    "absolute path": (lambda p: write_pack(p, KEY, raw_entries=(("/tmp/x.txt", b"x"),)), "pack.unsafe_path"),
    "symlink": (lambda p: write_pack(p, KEY, links=("assets/link",)), "pack.link"),
    "zip bomb": (
        lambda p: write_pack(
            p, KEY, manifest_data({**DEFAULT_FILES, "assets/b.bin": bytes(8 << 20)}),
            {**DEFAULT_FILES, "assets/b.bin": bytes(8 << 20)},
        ),
        "pack.zip_bomb",
    ),
    "unknown version": (lambda p: write_pack(p, KEY, manifest_data(format=9)), "pack.unknown_format"),
    "not yet valid": (
        lambda p: write_pack(p, KEY, manifest_data(valid_from="2027-04-01", tasks=[
            {"id": "t", "kind": "contact", "title": "联系"}])),
        "pack.not_yet_valid",
    ),
    "expired": (
        lambda p: write_pack(p, KEY, manifest_data(valid_from="2027-01-01", valid_to="2027-03-14", tasks=[
            {"id": "t", "kind": "contact", "title": "联系"}])),
        "pack.expired",
    ),
    "another store": (
        lambda p: write_pack(p, KEY, manifest_data(audience={"stores": ["store-2"], "regions": ["region-west"]})),
        "pack.other_store",
    ),
    "not a zip": (lambda p: (p.write_bytes(b"PK\x03\x04 truncated"), p)[1], "pack.not_a_zip"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_each_refusal_installs_nothing_and_is_recorded(svc: PackService, tmp_path: Path, case: str) -> None:
    make, key = REFUSALS[case]
    with pytest.raises(UserError) as err:
        svc.install_file(make(tmp_path / "p.zip"))
    assert err.value.key == key
    assert svc.packs(statuses=("installed", "expired", "withdrawn")) == []
    assert not svc.packs_dir.exists() or _dirs(svc) == []
    assert [r.error.key for r in svc.refusals()] == [key]


def test_no_pinned_key_and_a_download_that_does_not_match(ctx: AppContext, tmp_path: Path, db: Database) -> None:
    path = write_pack(tmp_path / "p.zip", KEY)
    svc = PackService(ctx, tmp_path / "packs")
    with pytest.raises(UserError) as mismatch:
        svc.install_file(path, expected_size=path.stat().st_size, expected_sha256="0" * 64)
    assert mismatch.value.key == "pack.download_mismatch"
    good = hashlib.sha256(path.read_bytes()).hexdigest()
    assert svc.install_file(path, expected_size=path.stat().st_size, expected_sha256=good).version == 1
    fresh = make_ctx(open_database(tmp_path / "other.db"), Clock())
    with pytest.raises(UserError) as nokey:
        PackService(fresh, tmp_path / "p2").install_file(path)
    assert nokey.value.key == "pack.no_pinned_key"


def test_expired_packs_move_to_history_and_withdrawn_ones_lose_their_files(
    svc: PackService, tmp_path: Path, clock: Clock
) -> None:
    svc.install_file(write_pack(tmp_path / "a.zip", KEY))
    other = manifest_data(id="other-pack", valid_to="2027-06-30")
    svc.install_file(write_pack(tmp_path / "b.zip", KEY, other))
    clock.ms += 50 * DAY  # 2027-05-04: spring-care (to 04-30) has ended
    assert [p.id for p in svc.packs()] == ["other-pack"]
    assert [(p.id, p.status) for p in svc.packs(statuses=("expired",))] == [("spring-care", "expired")]
    assert svc.withdraw("other-pack") and not svc.withdraw("other-pack")
    assert svc.get("other-pack").status == "withdrawn" and not (svc.packs_dir / "other-pack" / "1").exists()
    assert svc.packs() == []


# ---------------------------------------------------------------- targets and tasks


@pytest.fixture()
def campaign(ctx: AppContext, svc: PackService, tmp_path: Path) -> CampaignService:
    svc.install_file(write_pack(tmp_path / "p.zip", KEY, manifest_data(segment=SEGMENT, tasks=[
        {"id": "contact", "kind": "contact", "title": "联系", "due": "2027-03-31"},
        {"id": "share", "kind": "share_material", "title": "分享海报", "material": "poster"},
    ], offers=[{"id": "bday", "title": "生日券", "code_template": "SPR-{code}"}])))
    return CampaignService(ctx, svc)


def _names(ctx: AppContext, ids: list[str]) -> set[str]:
    with ctx.read() as s:
        return set(s.scalars(select(Customer.name).where(Customer.id.in_(ids))))


def test_targets_are_exactly_the_hand_computed_set(ctx: AppContext, campaign: CampaignService) -> None:
    seed_book(ctx)
    assert _names(ctx, campaign.target_ids("spring-care")) == EXPECTED_STORE
    mine = campaign.targets("spring-care", owner_guide_id="guide-1")
    assert {t.name for t in mine} == EXPECTED_GUIDE_1
    assert all("****" in t.phone_masked for t in mine)
    assert campaign.unknown_tags("spring-care") == []


def test_an_all_of_tag_this_pc_does_not_have_targets_nobody(
    ctx: AppContext, svc: PackService, tmp_path: Path
) -> None:
    seed_book(ctx)
    seg = {**SEGMENT, "tags": {"all_of": ["VIP", "黑卡"], "any_of": [], "none_of": ["不存在"]}}
    svc.install_file(write_pack(tmp_path / "x.zip", KEY, manifest_data(id="black", segment=seg)))
    campaign = CampaignService(ctx, svc)
    assert campaign.target_ids("black") == [] and campaign.unknown_tags("black") == ["不存在", "黑卡"]


def test_marking_tasks_writes_synced_rows_and_progress(ctx: AppContext, campaign: CampaignService) -> None:
    ids = seed_book(ctx)
    campaign.mark_done("spring-care", "contact", ids["安娜"], "reached", note="  周末来店  ")
    campaign.mark_done("spring-care", "contact", ids["牛顿"], "bought")
    campaign.mark_done("spring-care", "share", ids["安娜"], "reached")
    campaign.mark_done("spring-care", "contact", ids["安娜"], "bought")  # changed their mind: one row, updated
    with ctx.read() as s:
        rows = s.scalars(select(CampaignTask).order_by(CampaignTask.pk)).all()
        out = s.scalars(select(Outbox).where(Outbox.entity == "campaign_task").order_by(Outbox.device_seq)).all()
    assert [(r.task_id, r.customer_id, r.outcome, r.status) for r in rows] == [
        ("contact", ids["安娜"], "bought", "done"), ("contact", ids["牛顿"], "bought", "done"),
        ("share", ids["安娜"], "reached", "done"),
    ]
    assert rows[0].note == "周末来店" and rows[0].done_at is not None and rows[0].guide_id == "guide-1"
    assert len(out) == 4 and set(out[0].fields) >= {"pack_id", "task_id", "customer_id", "status", "outcome"}
    assert "outcome" in out[3].fields and "task_id" not in out[3].fields  # only what changed goes up

    anna = next(t for t in campaign.targets("spring-care") if t.name == "安娜")
    assert anna.done("contact") and anna.done("share") and anna.tasks["contact"].outcome == "bought"
    progress = {p.guide_name: p for p in campaign.progress("spring-care")}
    assert progress["小王"].targets == 2 and progress["小王"].done == {"contact": 1, "share": 1}
    assert progress["小李"].targets == 1 and progress["小李"].done == {"contact": 1, "share": 0}
    assert progress["小王"].completion(2) == 0.5

    campaign.reopen("spring-care", "share", ids["安娜"])
    anna = next(t for t in campaign.targets("spring-care") if t.name == "安娜")
    assert not anna.done("share") and anna.tasks["share"].status == "open"


def test_opted_out_outcome_records_consent_and_removes_the_target(
    ctx: AppContext, campaign: CampaignService
) -> None:
    ids = seed_book(ctx)
    campaign.mark_done("spring-care", "contact", ids["白雪"], "opted_out", note="不要再联系")
    with ctx.read() as s:
        c = s.scalars(select(Customer).where(Customer.id == ids["白雪"])).one()
        assert (c.consent_phone, c.consent_sms, c.consent_wechat) == ("opted_out",) * 3
        assert s.scalars(select(Outbox).where(Outbox.entity == "customer")).all()
    assert _names(ctx, campaign.target_ids("spring-care")) == EXPECTED_STORE - {"白雪"}
    # the done task stays editable (the note can still be corrected)
    campaign.mark_done("spring-care", "contact", ids["白雪"], "opted_out", note="电话里明确拒绝")
    with pytest.raises(UserError) as err:
        campaign.mark_done("spring-care", "share", ids["白雪"], "reached")
    assert err.value.key == "campaign.not_a_target"


def test_task_refusals(ctx: AppContext, campaign: CampaignService) -> None:
    ids = seed_book(ctx)
    cases = [
        (("spring-care", "contact", ids["金鑫"], "reached"), "campaign.not_a_target"),  # opted out
        (("spring-care", "contact", ids["丁丁"], "reached"), "campaign.not_a_target"),
        (("spring-care", "contact", ids["安娜"], "maybe"), "campaign.bad_outcome"),
        (("spring-care", "contact", ids["安娜"], ""), "campaign.bad_outcome"),
        (("spring-care", "nope", ids["安娜"], "reached"), "campaign.unknown_task"),
        (("no-pack", "contact", ids["安娜"], "reached"), "campaign.pack_not_installed"),
        (("spring-care", "contact", "c-none", "reached"), "customer.not_found"),
    ]
    for args, key in cases:
        with pytest.raises(UserError) as err:
            campaign.mark_done(*args)
        assert err.value.key == key, args
    with pytest.raises(UserError) as long_note:
        campaign.mark_done("spring-care", "contact", ids["安娜"], "reached", note="很" * 2001)
    assert long_note.value.key == "campaign.note_too_long"
    with ctx.read() as s:
        assert s.scalars(select(CampaignTask)).all() == []


def test_scripts_and_offer_codes_for_a_customer(ctx: AppContext, campaign: CampaignService) -> None:
    ids = seed_book(ctx)
    assert campaign.script_for("spring-care", "script", ids["安娜"]) == "安娜您好，春季新品到店啦！"
    code = campaign.offer_code("spring-care", "bday", ids["安娜"])
    assert code.startswith("SPR-") and code == campaign.offer_code("spring-care", "bday", ids["安娜"])
    assert code != campaign.offer_code("spring-care", "bday", ids["白雪"])


def test_installed_manifest_survives_a_reopen(db: Database, campaign: CampaignService, tmp_path: Path) -> None:
    with db.read() as s:
        row = s.get(CampaignPack, "spring-care")
        assert row is not None and row.manifest["segment"]["birthday_months"] == [3, 4]
    with zipfile.ZipFile(tmp_path / "p.zip") as zf:
        stored = zf.read("manifest.json")
    assert (Path(row.path) / "manifest.json").read_bytes() == stored  # the signed bytes are kept as installed
    assert STORE == campaign.ctx.store_id


def test_campaigns_for_codes_and_the_qr_template(ctx: AppContext, svc: PackService, tmp_path: Path) -> None:
    seed_book(ctx)
    qr = {"channel": "spring", "label": "春季", "auto_tags": ["VIP", "春季活动"], "welcome_text": "欢迎！"}
    svc.install_file(write_pack(tmp_path / "q.zip", KEY, manifest_data(qr_template=qr)))
    svc.install_file(write_pack(tmp_path / "r.zip", KEY, manifest_data(id="plain", title="无模板")))
    campaign = CampaignService(ctx, svc)
    assert sorted((c.id, c.name) for c in campaign.code_campaigns()) == [("plain", "无模板"), ("spring-care", "春季关怀")]
    defaults = campaign.qr_defaults("spring-care")
    assert defaults is not None and (defaults.channel, defaults.auto_tag_ids, defaults.unknown_tags) == (
        "spring", ["t-vip"], ["春季活动"])
    assert campaign.qr_defaults("plain") is None
