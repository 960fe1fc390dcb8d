"""Pack distribution at HQ: each device sees the packs of its store, downloads resume with Range,
withdrawn packs are announced and no longer served."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from hq import pack_store
from hq.db import Database
from hq.packs import build_pack
from tests.hq.conftest import OrgFixture
from tests.hq_fixtures import VERSION_HEADERS, SyncDevice

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "spring-care-pack"


def _publish(tmp_path: Path, db: Database) -> tuple[int, str]:
    build_pack(EXAMPLE, tmp_path / "built.zip")
    with db.session() as s:
        row = pack_store.publish(s, tmp_path / "built.zip", int(time.time() * 1000))
        return row.size, row.sha256


def test_devices_list_and_download_the_packs_of_their_store(
    tmp_path: Path, http: TestClient, hq_database: Database, test_org: OrgFixture,
    device: Callable[..., SyncDevice],
) -> None:
    size, sha = _publish(tmp_path, hq_database)
    a, b = device("guide.a"), device("guide.b")  # 华东区 / 华南区

    listing = http.get("/v1/packs", headers=a.headers).json()
    assert listing == {"packs": [{"id": "spring-care-2027", "version": 1, "title": "春季会员关怀",
                                  "valid_from": "2027-03-01", "valid_to": "2027-04-30", "size": size,
                                  "sha256": sha}], "withdrawn": []}
    assert http.get("/v1/packs", headers=b.headers).json() == {"packs": [], "withdrawn": []}

    full = http.get("/v1/packs/spring-care-2027/1", headers=a.headers)
    assert full.status_code == 200 and hashlib.sha256(full.content).hexdigest() == sha
    assert full.headers["accept-ranges"] == "bytes"
    rest = http.get("/v1/packs/spring-care-2027/1", headers={**a.headers, "Range": "bytes=1000-"})
    assert rest.status_code == 206 and rest.headers["content-range"] == f"bytes 1000-{size - 1}/{size}"
    assert full.content[:1000] + rest.content == full.content
    beyond = http.get("/v1/packs/spring-care-2027/1", headers={**a.headers, "Range": f"bytes={size}-"})
    assert beyond.status_code == 416 and beyond.json()["code"] == "range_not_satisfiable"

    other = http.get("/v1/packs/spring-care-2027/1", headers=b.headers)
    assert other.status_code == 404 and other.json()["code"] == "pack_not_found"
    assert http.get("/v1/packs/spring-care-2027/1", headers=VERSION_HEADERS).status_code == 401  # no token

    with hq_database.session() as s:
        pack_store.withdraw(s, "spring-care-2027", int(time.time() * 1000))
    assert http.get("/v1/packs", headers=a.headers).json() == {"packs": [], "withdrawn": ["spring-care-2027"]}
    assert http.get("/v1/packs", headers=b.headers).json() == {"packs": [], "withdrawn": []}
    assert http.get("/v1/packs/spring-care-2027/1", headers=a.headers).status_code == 404
