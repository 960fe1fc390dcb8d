"""Push: seq handling (duplicate, gap, rejection still advances), validation, store scoping."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from guide_app.domain.ids import uuid7
from guide_app.sync.protocol import MAX_PUSH_MUTATIONS
from tests.hq.conftest import OrgFixture
from tests.hq_fixtures import SyncDevice


def test_push_applies_in_order_and_duplicates_are_acked(device: Callable[..., SyncDevice]) -> None:
    dev = device()
    create = dev.new_customer("李四", "+8613912345678")
    edit = dev.edit("customer", create["entity_id"], notes="喜欢蓝色")
    body = dev.push(create, edit)
    assert body["last_seq"] == 2
    assert [r["status"] for r in body["results"]] == ["applied", "applied"]
    assert body["server_time_ms"] > 0
    # the PC crashed before storing the answer and sends the same batch plus one more
    more = dev.edit("customer", create["entity_id"], sizes="M")
    body = dev.push(create, edit, more)
    assert [r["status"] for r in body["results"]] == ["duplicate", "duplicate", "applied"]
    assert body["last_seq"] == 3
    rows, _, _ = dev.pull_all()
    fields = rows[("customer", create["entity_id"])]["fields"]
    assert fields["notes"] == "喜欢蓝色" and fields["sizes"] == "M" and fields["name"] == "李四"


def test_gap_is_409_with_expected_seq_and_applies_nothing(device: Callable[..., SyncDevice]) -> None:
    dev = device()
    first = dev.new_customer("王五")
    dev.seq += 1  # seq 2 is lost
    third = dev.new_customer("赵六")
    r = dev.push_raw([first, third])
    assert r.status_code == 409
    body = r.json()
    assert body["code"] == "seq_gap" and body["expected_seq"] == 1
    assert "期望第 1 条" in body["message_zh"]
    assert dev.pull()["rows"] == []  # nothing of the batch was applied
    assert dev.push(first)["last_seq"] == 1
    r = dev.push_raw([third])
    assert r.status_code == 409 and r.json()["expected_seq"] == 2


def test_rejections_are_recorded_and_last_seq_still_advances(
    device: Callable[..., SyncDevice], test_org: OrgFixture
) -> None:
    dev = device()
    good = dev.new_customer("好客户", "+8613812345678")
    cases = {
        "unknown_entity": dev.mutation("coupon", uuid7(), {"store_id": dev.store_id}),
        "unknown_field": dev.edit("customer", good["entity_id"], shoe_size="42"),
        "bad_phone": dev.new_customer("坏号码", "12345"),
        "field_too_long": dev.new_customer("长" * 61),
        "bad_value": dev.edit("customer", good["entity_id"], gender="robot"),
        "read_only_field": dev.edit("customer", good["entity_id"], merged_into=uuid7()),
        "other_store": dev.mutation("customer", uuid7(), {"store_id": test_org.store_b, "name": "别家"}),
        "unknown_row": dev.edit("customer", uuid7(), name="从没建过"),
        "bad_id": dev.mutation("customer", "../../etc", {"store_id": dev.store_id, "name": "x"}),
    }
    also_good = dev.edit("customer", good["entity_id"], notes="后面的修改照常保存")
    body = dev.push(good, *cases.values(), also_good)
    results = {r["seq"]: r for r in body["results"]}
    assert body["last_seq"] == also_good["seq"]
    assert results[good["seq"]]["status"] == "applied"
    assert results[also_good["seq"]]["status"] == "applied"
    for code, m in cases.items():
        result = results[m["seq"]]
        assert (result["status"], result["code"]) == ("rejected", code), result
        assert result["reason"] and not result["reason"].isascii(), result  # zh_CN text for the guide
    assert results[cases["bad_phone"]["seq"]]["reason"].startswith("手机号无效")
    # a repeated rejected mutation is a duplicate that still says why it was refused
    again = dev.push(cases["bad_phone"])["results"][0]
    assert again["status"] == "duplicate" and again["code"] == "bad_phone"
    rows, _, _ = dev.pull_all()
    assert {k[0] for k in rows} == {"customer"} and len(rows) == 1
    assert rows[("customer", good["entity_id"])]["fields"]["notes"] == "后面的修改照常保存"


def test_phone_must_be_e164_as_the_client_stores_it(device: Callable[..., SyncDevice]) -> None:
    dev = device()
    body = dev.push(dev.new_customer("甲", "13812345678"))
    assert body["results"][0]["code"] == "bad_phone"
    assert "+8613812345678" in body["results"][0]["reason"]


def test_hlc_more_than_five_minutes_ahead_is_rejected(device: Callable[..., SyncDevice]) -> None:
    dev = device()
    ahead = dev.clock.now_ms() + 6 * 60 * 1000
    m = dev.new_customer("未来人")
    m["hlc"] = dict.fromkeys(m["fields"], f"{ahead:013d}-0000-{dev.node}")
    near = dev.new_customer("稍快")
    near["hlc"] = dict.fromkeys(near["fields"], f"{dev.clock.now_ms() + 60_000:013d}-0000-{dev.node}")
    bad_stamp = dev.new_customer("坏戳")
    bad_stamp["hlc"]["name"] = "yesterday"
    body = dev.push(m, near, bad_stamp)
    codes = [(r["status"], r["code"]) for r in body["results"]]
    assert codes == [("rejected", "clock_ahead"), ("applied", ""), ("rejected", "bad_hlc")]
    assert "校准" in body["results"][0]["reason"]


def test_cross_store_push_is_refused_whatever_ids_are_sent(
    device: Callable[..., SyncDevice], test_org: OrgFixture
) -> None:
    dev_b = device("guide.b")
    b_customer = dev_b.new_customer("广州客户", "+8613700001111")
    b_group = dev_b.new_tag_group("广州标签组")
    b_tag = dev_b.new_tag(b_group["entity_id"], "广州标签")
    dev_b.push(b_customer, b_group, b_tag)

    dev_a = device("guide.a")
    cid = b_customer["entity_id"]
    attempts = {
        "edit B's customer": dev_a.edit("customer", cid, name="改别家的"),
        "delete B's customer": dev_a.delete("customer", cid),
        "B's customer claims store A": dev_a.mutation("customer", cid, {"store_id": dev_a.store_id, "name": "x"}),
        "follow-up on B's customer": dev_a.new_follow_up(cid),
        "purchase on B's customer": dev_a.new_purchase(cid),
        "tag B's customer": dev_a.tag(cid, b_tag["entity_id"]),
        "tag in B's group": dev_a.new_tag(b_group["entity_id"], "混进去"),
        "rename B's group": dev_a.edit("tag_group", b_group["entity_id"], name="改名"),
        "owner is B's guide": dev_a.new_customer("甲", "", owner_guide_id=dev_b.login_body["account"]["id"]),
    }
    body = dev_a.push(*attempts.values())
    for (what, _m), result in zip(attempts.items(), body["results"], strict=True):
        assert result["status"] == "rejected", (what, result)
        assert result["code"] in ("other_store", "store_change", "unknown_guide"), (what, result)
    assert body["last_seq"] == dev_a.seq
    # a device's push must name itself: B's device id in A's request is refused outright
    r = dev_a.push_raw([dev_a.new_customer("乙")], device_id=dev_b.device_id)
    assert r.status_code == 403 and r.json()["code"] == "device_store_mismatch"
    # store B is unchanged
    rows, _, _ = dev_b.pull_all()
    assert rows[("customer", cid)]["fields"]["name"] == "广州客户"
    assert rows[("customer", cid)]["deleted_hlc"] is None
    assert {e for e, _ in rows} == {"customer", "tag_group", "tag"}


def test_push_limits(device: Callable[..., SyncDevice], http: TestClient) -> None:
    dev = device()
    many = [dev.new_customer(f"客户{i}") for i in range(MAX_PUSH_MUTATIONS + 1)]
    r = dev.push_raw(many)
    assert r.status_code == 413 and r.json()["code"] == "push_too_large"
    dev.seq = 0
    big = dev.new_customer("大", notes="x" * 3000)
    r = http.post("/v1/sync/push", content=b'{"device_id": "' + b"x" * 1_000_001 + b'"}',
                  headers={**dev.headers, "Content-Type": "application/json"})
    assert r.status_code == 413 and "分批" in r.json()["message_zh"]
    assert dev.push(big)["results"][0]["status"] == "applied"


def test_a_reused_seq_with_another_change_is_refused_not_dropped(device: Callable[..., SyncDevice]) -> None:
    dev = device()
    dev.push(dev.new_customer("原来的"))
    dev.seq = 0  # the PC restored an old backup: its outbox numbers restart
    r = dev.push_raw([dev.new_customer("恢复备份后新建的")])
    assert r.status_code == 409 and r.json()["code"] == "device_forked"
    assert "重新登录" in r.json()["message_zh"]


def test_audit_log_rows_are_accepted_for_the_store(device: Callable[..., SyncDevice]) -> None:
    dev = device()
    actor = dev.login_body["account"]["id"]
    entry = dev.mutation("audit_log", uuid7(), {"store_id": dev.store_id, "actor_id": actor, "action": "reveal_phone",
                                                "target": "customer:1", "detail": {"field": "phone"}, "at": 1})
    body = dev.push(entry)
    assert body["results"][0]["status"] == "applied", body
    assert all(r["entity"] != "audit_log" for r in dev.pull(0)["rows"])  # kept at HQ, not sent down
    again = dev.mutation("audit_log", entry["entity_id"], {"target": "改掉"})
    assert dev.push(again)["results"][0]["code"] == "audit_immutable"


def test_unexpected_server_errors_are_error_bodies(http: TestClient, device: Callable[..., SyncDevice],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from hq import sync_pull

    dev = device()

    def boom(*_args: object, **_kw: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(sync_pull, "pull", boom)
    r = dev.pull_raw()
    assert r.status_code == 500
    assert r.json() == {"code": "server_error", "detail": "RuntimeError", "message_zh": "总部服务出错，请稍后重试"}
