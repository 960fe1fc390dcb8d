from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from guide_app.domain.hlc import Stamp
from guide_app.domain.merge import merge_row, tag_active


def s(ms: int, node: str = "a") -> str:
    return str(Stamp(ms, 0, node))


def test_last_writer_wins_per_field_and_keeps_the_loser_of_a_text_field() -> None:
    cur = {"name": "张三", "notes": "旧备注"}
    cur_hlc = {"name": s(10), "notes": s(10)}
    res = merge_row("customer", cur, cur_hlc, {"name": "张三丰", "notes": "更旧"}, {"name": s(20), "notes": s(5)})
    assert res.values == {"name": "张三丰", "notes": "旧备注"}
    assert res.hlc["name"] == s(20) and res.hlc["notes"] == s(10)
    lost = {(lo.field, lo.value) for lo in res.losers}
    assert lost == {("name", "张三"), ("notes", "更旧")}


def test_same_write_twice_is_idempotent() -> None:
    first = merge_row("customer", {}, {}, {"name": "李四"}, {"name": s(5)})
    again = merge_row("customer", first.values, first.hlc, {"name": "李四"}, {"name": s(5)})
    assert again.values == first.values and not again.changed and not again.losers


def test_opt_out_wins_even_against_a_later_opt_in() -> None:
    cur = {"consent_sms": "opted_out"}
    res = merge_row("customer", cur, {"consent_sms": s(10)}, {"consent_sms": "granted"}, {"consent_sms": s(99)})
    assert res.values["consent_sms"] == "opted_out"
    res2 = merge_row("customer", {"consent_sms": "granted"}, {"consent_sms": s(99)},
                     {"consent_sms": "opted_out"}, {"consent_sms": s(10)})
    assert res2.values["consent_sms"] == "opted_out"


def test_tag_add_wins_over_a_removal_that_did_not_see_it() -> None:
    added_first = s(10, "a")
    # device B removes the assignment it saw (added at 10); device A re-adds at 30 concurrently
    removal = merge_row("customer_tag", {"added_hlc": added_first}, {"added_hlc": added_first},
                        {"removed_hlc": added_first}, {"removed_hlc": s(20, "b")})
    assert not tag_active(removal.values["added_hlc"], removal.values["removed_hlc"])
    readd = merge_row("customer_tag", removal.values, removal.hlc, {"added_hlc": s(30, "a")}, {"added_hlc": s(30, "a")})
    assert tag_active(readd.values["added_hlc"], readd.values["removed_hlc"])


ops = st.lists(
    st.tuples(st.sampled_from(["name", "notes", "consent_phone"]), st.sampled_from(["x", "y", "granted", "opted_out"]),
              st.integers(1, 50), st.sampled_from("abc")),
    max_size=12,
    unique_by=lambda w: (w[2], w[3]),  # a stamp names exactly one write
)


@given(ops, st.randoms())
def test_merge_is_order_independent(writes: list[tuple[str, str, int, str]], rnd: object) -> None:
    """Applying the same set of writes in any order converges to the same row (what sync relies on)."""
    def run(order: list[tuple[str, str, int, str]]) -> dict[str, object]:
        values: dict[str, object] = {}
        hlc: dict[str, str] = {}
        for field, value, ms, node in order:
            res = merge_row("customer", values, hlc, {field: value}, {field: s(ms, node)})
            values, hlc = res.values, res.hlc
        return values

    shuffled = list(writes)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert run(writes) == run(shuffled)
