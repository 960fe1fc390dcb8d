"""``hq pack`` end to end: the example pack built and published by the real CLI (subprocesses),
then verified and installed by the client service, targeting exactly the hand-computed customers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from guide_app.db.engine import open_database
from guide_app.db.models import Customer, Store
from guide_app.db.state import set_state
from guide_app.domain.errors import UserError
from guide_app.domain.packs import Segment
from guide_app.services.campaigns import CampaignService
from guide_app.services.packs import PackService
from hq import cli, pack_store, security
from hq.db import Database
from hq.models import Store as HqStore
from tests.fixtures.campaign_book import EXPECTED_GUIDE_1, EXPECTED_STORE, SEGMENT, Clock, make_ctx, seed_book
from tests.hq.conftest import OrgFixture

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "spring-care-pack"


def hq(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hq.cli", *args], capture_output=True, text=True, timeout=120)


def _client(tmp_path: Path, hq_database: Database, region_id: str, name: str = "c") -> PackService:
    db = open_database(tmp_path / f"{name}.db")
    ctx = make_ctx(db, Clock())
    with hq_database.session() as s:
        public = security.load_keys(s, int(time.time() * 1000)).signing_public_b64  # what LoginResponse pins
    with db.write() as s:
        s.add(Store(id=ctx.store_id, name="上海店", region_id=region_id, region_name="华东区"))
        set_state(s, "hq_public_key", public)
    return PackService(ctx, tmp_path / f"{name}-packs")


def test_built_and_published_by_hq_installed_and_targeted_by_the_client(
    tmp_path: Path, hq_db_url: str, hq_database: Database, test_org: OrgFixture
) -> None:
    built = tmp_path / "spring.zip"
    res = hq("pack", "build", str(EXAMPLE), "-o", str(built))
    assert res.returncode == 0, res.stderr
    assert "spring-care-2027 v1" in res.stdout and built.exists()
    res = hq("pack", "publish", str(built), "--db", hq_db_url)
    assert res.returncode == 0, res.stderr

    res = hq("pack", "list", "--db", hq_db_url)
    assert res.stdout.split("\t")[:5] == ["spring-care-2027", "v1", "春季会员关怀", "2027-03-01..2027-04-30", "published"]
    with hq_database.session() as s:
        store_a = s.get(HqStore, test_org.store_a)
        assert store_a is not None
        rows = pack_store.packs_for_store(s, store_a)
        assert [(r.id, r.version) for r in rows] == [("spring-care-2027", 1)]
        assert rows[0].manifest["audience"] == {"all_stores": False, "regions": [test_org.region_a], "stores": []}
        store_b = s.get(HqStore, test_org.store_b)
        assert store_b is not None and pack_store.packs_for_store(s, store_b) == []
        data = pack_store.archive(s, "spring-care-2027", 1)
    downloaded = tmp_path / "download.zip"
    downloaded.write_bytes(data)

    svc = _client(tmp_path, hq_database, test_org.region_a)
    pack = svc.install_file(downloaded, expected_size=rows[0].size, expected_sha256=rows[0].sha256)
    assert pack.id == "spring-care-2027" and pack.manifest.segment == Segment.model_validate(SEGMENT)
    assert (pack.path / "assets/spring-poster.png").read_bytes() == (EXAMPLE / "assets/spring-poster.png").read_bytes()

    seed_book(svc.ctx)
    campaign = CampaignService(svc.ctx, svc)
    with svc.ctx.read() as s:
        names = dict(s.execute(select(Customer.id, Customer.name)).all())
    assert {names[i] for i in campaign.target_ids(pack.id)} == EXPECTED_STORE
    assert {t.name for t in campaign.targets(pack.id, owner_guide_id="guide-1")} == EXPECTED_GUIDE_1
    anna = next(i for i, n in names.items() if n == "安娜")
    assert campaign.script_for(pack.id, "birthday-script", anna).startswith("安娜您好，我是上海店的导购小王。")

    # a store of another region refuses the same file
    other = _client(tmp_path, hq_database, test_org.region_b, name="other")
    with pytest.raises(UserError) as err:
        other.install_file(downloaded)
    assert err.value.key == "pack.other_store"

    res = hq("pack", "withdraw", "spring-care-2027", "--db", hq_db_url)
    assert res.returncode == 0 and "withdrew spring-care-2027" in res.stdout
    with hq_database.session() as s:
        assert pack_store.packs_for_store(s, s.merge(store_a)) == []


def test_publish_refuses_a_version_already_published_and_an_unknown_audience(
    tmp_path: Path, hq_db_url: str, test_org: OrgFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    built = tmp_path / "spring.zip"
    assert cli.main(["pack", "build", str(EXAMPLE), "-o", str(built)]) == 0
    assert cli.main(["pack", "publish", str(built), "--db", hq_db_url]) == 0
    capsys.readouterr()
    assert cli.main(["pack", "--lang", "en", "publish", str(built), "--db", hq_db_url]) == 2
    assert "already has v1 published" in capsys.readouterr().err

    src = tmp_path / "src"
    shutil.copytree(EXAMPLE, src)
    manifest = json.loads((src / "manifest.json").read_text(encoding="utf-8"))
    manifest.update(id="elsewhere", audience={"stores": ["不存在的店"]})
    (src / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    assert cli.main(["pack", "build", str(src), "-o", str(tmp_path / "e.zip")]) == 0
    assert cli.main(["pack", "publish", str(tmp_path / "e.zip"), "--db", hq_db_url]) == 2
    assert "活动包的投放门店不存在：不存在的店" in capsys.readouterr().err


def _edited_copy(tmp_path: Path, edit: str) -> Path:
    src = tmp_path / edit
    shutil.copytree(EXAMPLE, src)
    manifest = json.loads((src / "manifest.json").read_text(encoding="utf-8"))
    if edit == "changed-asset":
        (src / "assets/birthday-script.txt").write_text("{name}您好，改过的话术", encoding="utf-8")
    elif edit == "missing-asset":
        (src / "assets/spring-poster.png").unlink()
    elif edit == "unlisted-file":
        (src / "assets/extra.txt").write_text("x", encoding="utf-8")
    elif edit == "unknown-format":
        manifest["format"] = 7
    elif edit == "bad-placeholder":
        (src / "assets/birthday-script.txt").write_text("{nmae}您好", encoding="utf-8")
        manifest["assets"][0].pop("sha256")
        manifest["assets"][0].pop("size")
    elif edit == "escaping-path":
        manifest["assets"].append({"path": "../secret.txt"})
    (src / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    return src


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("changed-asset", "素材 assets/birthday-script.txt 的大小与清单不符"),
        ("missing-asset", "清单中列出的素材文件不存在：assets/spring-poster.png"),
        ("unlisted-file", "目录中的文件 assets/extra.txt 未在 manifest.json 的 assets 中列出"),
        ("unknown-format", "活动包格式版本 7 不受本软件支持"),
        ("bad-placeholder", "话术文件 assets/birthday-script.txt 中有未知占位符 {nmae}"),
        ("escaping-path", "活动包含有不安全的路径：../secret.txt"),
    ],
)
def test_build_refuses_a_folder_that_does_not_match_its_manifest(
    tmp_path: Path, edit: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.zip"
    assert cli.main(["pack", "build", str(_edited_copy(tmp_path, edit)), "-o", str(out)]) == 2  # in-process: fast
    assert message in capsys.readouterr().err
    assert not out.exists() and list(tmp_path.glob(".pack-*")) == []
