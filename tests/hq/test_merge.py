"""Merge on HQ: per-field LWW with losers kept in history, add-wins tags, opt-out wins, tombstones,
and the same-phone merge of customers created offline on two PCs of one store."""

from __future__ import annotations

import time
from collections.abc import Callable

from guide_app.domain.ids import pair_id, uuid7
from tests.hq_fixtures import SyncDevice

PHONE = "+8613912340000"


def state(dev: SyncDevice) -> dict[tuple[str, str], dict]:  # type: ignore[type-arg]
    rows, _, _ = dev.pull_all()
    return rows


def test_last_writer_wins_per_field_and_the_loser_goes_to_history(device: Callable[..., SyncDevice]) -> None:
    a, b = device("guide.a"), device("guide.a2")
    create = a.new_customer("周芷若", "+8613800001234", notes="初始")
    a.push(create)
    cid = create["entity_id"]
    older = a.edit("customer", cid, notes="A写的备注", wechat_id="zhou_a")
    time.sleep(0.002)
    newer = b.edit("customer", cid, notes="B写的备注")
    b.push(newer)  # the later stamp arrives first
    a.push(older)  # the earlier one arrives after: loses on notes, wins on wechat_id (untouched by B)
    rows, _, history = a.pull_all()
    fields = rows[("customer", cid)]["fields"]
    assert fields["notes"] == "B写的备注" and fields["wechat_id"] == "zhou_a"
    assert {(h["customer_id"], h["field"], h["value"]) for h in history} >= {
        (cid, "notes", "初始"), (cid, "notes", "A写的备注")}
    loser = next(h for h in history if h["value"] == "A写的备注")
    assert loser["hlc"] == older["hlc"]["notes"] and loser["winner_hlc"] == newer["hlc"]["notes"]
    # the other PC gets the same history
    _, _, b_history = b.pull_all()
    assert any(h["value"] == "A写的备注" for h in b_history)


def test_tags_are_an_add_wins_set(device: Callable[..., SyncDevice]) -> None:
    a, b = device("guide.a"), device("guide.a2")
    customer, group = a.new_customer("黄蓉"), a.new_tag_group()
    tag = a.new_tag(group["entity_id"])
    add = a.tag(customer["entity_id"], tag["entity_id"])
    a.push(customer, group, tag, add)
    row_id = pair_id(customer["entity_id"], tag["entity_id"])
    # B removes the add it saw; meanwhile A re-adds (a newer add B never saw): the add wins
    remove = b.untag(customer["entity_id"], tag["entity_id"], observed_added=add["fields"]["added_hlc"])
    readd = a.mutation("customer_tag", row_id, {"added_hlc": a.clock.tick()})
    readd["hlc"] = {"added_hlc": readd["fields"]["added_hlc"]}
    b.push(remove)
    a.push(readd)
    row = state(a)[("customer_tag", row_id)]["fields"]
    assert row["added_hlc"] == readd["fields"]["added_hlc"] > row["removed_hlc"] == add["fields"]["added_hlc"]
    # a removal that saw the latest add makes it inactive
    b.push(b.untag(customer["entity_id"], tag["entity_id"], observed_added=readd["fields"]["added_hlc"]))
    row = state(a)[("customer_tag", row_id)]["fields"]
    assert row["removed_hlc"] == row["added_hlc"]  # not added_hlc > removed_hlc: inactive


def test_customer_tag_id_must_be_the_pair_id(device: Callable[..., SyncDevice]) -> None:
    a = device()
    customer, group = a.new_customer("郭靖"), a.new_tag_group()
    tag = a.new_tag(group["entity_id"])
    wrong = a.tag(customer["entity_id"], tag["entity_id"])
    wrong["entity_id"] = uuid7()
    body = a.push(customer, group, tag, wrong)
    assert body["results"][-1]["code"] == "bad_pair_id"


def test_opt_out_wins_whatever_the_stamps(device: Callable[..., SyncDevice]) -> None:
    a, b = device("guide.a"), device("guide.a2")
    create = a.new_customer("杨过", consent_sms="granted")
    a.push(create)
    cid = create["entity_id"]
    opt_out = a.edit("customer", cid, consent_sms="opted_out")
    time.sleep(0.002)
    grant = b.edit("customer", cid, consent_sms="granted")  # later stamp, but a grant
    a.push(opt_out)
    b.push(grant)
    assert state(a)[("customer", cid)]["fields"]["consent_sms"] == "opted_out"


def test_tombstone_keeps_the_row_deleted(device: Callable[..., SyncDevice]) -> None:
    a, b = device("guide.a"), device("guide.a2")
    create = a.new_customer("小龙女")
    a.push(create)
    cid = create["entity_id"]
    delete = a.delete("customer", cid)
    time.sleep(0.002)
    late_edit = b.edit("customer", cid, notes="删除后又改了")
    a.push(delete)
    b.push(late_edit)
    row = state(a)[("customer", cid)]
    assert row["deleted_hlc"] == delete["deleted_hlc"]
    assert row["fields"]["notes"] == "删除后又改了"  # the edit merges, the row stays deleted
    older_delete = b.mutation("customer", cid, {}, deleted=True, stamp="0000000000001-0000-old")
    b.push(older_delete)
    assert state(a)[("customer", cid)]["deleted_hlc"] == delete["deleted_hlc"]  # the larger stamp stays


def test_same_phone_created_on_two_pcs_is_merged_with_children_repointed(
    device: Callable[..., SyncDevice],
) -> None:
    a, b = device("guide.a"), device("guide.a2")
    group = a.new_tag_group()
    tag_shared, tag_a_only = a.new_tag(group["entity_id"], "共同"), a.new_tag(group["entity_id"], "仅A")
    a.push(group, tag_shared, tag_a_only)
    b.pull_all()
    # both PCs are offline and meet the same shopper; A's record is born first
    first = a.new_customer("陈小姐", PHONE, notes="A的备注", sizes="M")
    time.sleep(0.002)
    second = b.new_customer("陈女士", PHONE, notes="B的备注", wechat_id="chen_b", consent_sms="opted_out")
    survivor, loser = sorted([first["entity_id"], second["entity_id"]])
    assert survivor == first["entity_id"]  # UUIDv7: the earlier-born record survives
    a_children = [a.new_follow_up(first["entity_id"], "A跟进"), a.tag(first["entity_id"], tag_shared["entity_id"])]
    b_follow, b_purchase = b.new_follow_up(second["entity_id"], "B跟进"), b.new_purchase(second["entity_id"])
    b_tags = [b.tag(second["entity_id"], tag_shared["entity_id"]), b.tag(second["entity_id"], tag_a_only["entity_id"])]
    task = b.mutation("campaign_task", uuid7(), {
        "store_id": b.store_id, "pack_id": "spring", "task_id": "call", "customer_id": second["entity_id"],
        "guide_id": "", "status": "open", "outcome": "", "note": "", "done_at": None})
    # the later-born one reaches HQ first: the merge must not depend on arrival order
    body = b.push(second, b_follow, b_purchase, *b_tags, task)
    assert all(r["status"] == "applied" for r in body["results"]), body
    cursor_before = a.pull()["store_version"]
    a.push(first, *a_children)
    rows, _, history = a.pull_all(cursor_before)
    merged = rows[("customer", loser)]
    assert merged["fields"]["merged_into"] == survivor
    surv = rows[("customer", survivor)]["fields"]
    assert surv["name"] == "陈小姐" and surv["notes"] == "A的备注"
    assert surv["wechat_id"] == "chen_b"  # the survivor's empty field filled from the loser
    assert surv["consent_sms"] == "opted_out"  # opt-out carried over
    assert ("notes", "B的备注") in {(h["field"], h["value"]) for h in history if h["customer_id"] == survivor}
    # every child of the loser now points at the survivor, stamped with the new version
    for m in (b_follow, b_purchase, task):
        row = rows[(m["entity"], m["entity_id"])]
        assert row["fields"]["customer_id"] == survivor and row["version"] > cursor_before
    # tags move to the survivor's own assignment row; the loser's rows are tombstoned
    for tag in (tag_shared, tag_a_only):
        moved = rows[("customer_tag", pair_id(survivor, tag["entity_id"]))]
        assert moved["fields"]["customer_id"] == survivor and moved["deleted_hlc"] is None
        assert moved["fields"]["added_hlc"]
        assert rows[("customer_tag", pair_id(loser, tag["entity_id"]))]["deleted_hlc"] is not None
    # B learns it all on its next pull
    b_rows, _, _ = b.pull_all()
    assert b_rows[("customer", loser)]["fields"]["merged_into"] == survivor
    assert b_rows[("follow_up", b_follow["entity_id"])]["fields"]["customer_id"] == survivor

    # B, still offline, keeps working on the record it knows: HQ aims it at the survivor
    late_follow = b.new_follow_up(loser, "合并后才同步的跟进")
    late_edit = b.edit("customer", loser, preferences="喜欢丝巾")
    b.push(late_follow, late_edit)
    rows = state(a)
    assert rows[("follow_up", late_follow["entity_id"])]["fields"]["customer_id"] == survivor
    assert rows[("customer", survivor)]["fields"]["preferences"] == "喜欢丝巾"
    # B removes a tag from the record it knows, after HQ moved the tag to the survivor: still removed
    observed = b_tags[1]["fields"]["added_hlc"]
    b.push(b.untag(loser, tag_a_only["entity_id"], observed_added=observed))
    moved = state(a)[("customer_tag", pair_id(survivor, tag_a_only["entity_id"]))]["fields"]
    assert moved["removed_hlc"] == observed and not moved["added_hlc"] > moved["removed_hlc"]
    rows = state(a)
    live = [r for (e, _), r in rows.items() if e == "customer" and r["fields"].get("phone") == PHONE
            and not r["fields"].get("merged_into")]
    assert len(live) == 1


def test_same_phone_in_two_stores_is_not_merged(device: Callable[..., SyncDevice]) -> None:
    a, b = device("guide.a"), device("guide.b")
    ca, cb = a.new_customer("甲", PHONE), b.new_customer("乙", PHONE)
    a.push(ca)
    b.push(cb)
    assert state(a)[("customer", ca["entity_id"])]["fields"].get("merged_into") is None
    assert state(b)[("customer", cb["entity_id"])]["fields"].get("merged_into") is None


def test_phone_edit_that_collides_merges_too(device: Callable[..., SyncDevice]) -> None:
    a = device()
    one, two = a.new_customer("一号", PHONE), a.new_customer("二号", "")
    a.push(one, two)
    a.push(a.edit("customer", two["entity_id"], phone=PHONE))
    rows = state(a)
    survivor, loser = sorted([one["entity_id"], two["entity_id"]])  # same ms possible: the id decides
    assert rows[("customer", loser)]["fields"]["merged_into"] == survivor
    assert rows[("customer", survivor)]["fields"].get("merged_into") is None


def test_a_later_stamp_on_an_equal_value_is_kept_and_pulled(device: Callable[..., SyncDevice]) -> None:
    """Two PCs tick the same reminder off; the later stamp arrives second. HQ keeps that stamp and
    serves it, so a reopen stamped between the two ticks cannot win at HQ while the PC with the later
    tick keeps its own value (found by the fault soak)."""
    a, b = device("guide.a"), device("guide.a2")
    customer = a.new_customer("小龙女")
    follow_up = a.new_follow_up(customer["entity_id"])
    a.push(customer, follow_up)
    fid = follow_up["entity_id"]
    earlier, between = b.clock.tick(), b.clock.tick()
    time.sleep(0.002)
    later = a.clock.tick()
    assert earlier < between < later
    b.push(b.mutation("follow_up", fid, {"done": True}, stamp=earlier))
    _, cursor, _ = a.pull_all()
    a.push(a.mutation("follow_up", fid, {"done": True}, stamp=later))  # same value, later stamp
    assert state(a)[("follow_up", fid)]["hlc"]["done"] == later
    assert [r["hlc"]["done"] for r in a.pull(cursor)["rows"] if r["id"] == fid] == [later]
    b.push(b.mutation("follow_up", fid, {"done": False}, stamp=between))
    assert state(b)[("follow_up", fid)]["fields"]["done"] is True  # as on PC a
