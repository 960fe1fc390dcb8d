from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from guide_app.domain.hlc import Clock, Stamp, too_far_ahead


class FakeWall:
    def __init__(self, ms: int) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


def test_stamps_sort_as_text_in_time_order() -> None:
    wall = FakeWall(1_700_000_000_000)
    clock = Clock("a1", wall=wall)
    first = clock.tick()
    second = clock.tick()  # same millisecond: the counter orders them
    wall.ms += 5
    third = clock.tick()
    assert first < second < third
    assert Stamp.parse(second).counter == 1
    assert Stamp.parse(third).counter == 0


def test_clock_never_goes_backwards_when_the_wall_clock_does() -> None:
    wall = FakeWall(2_000_000)
    clock = Clock("n", wall=wall)
    before = clock.tick()
    wall.ms -= 60_000
    after = clock.tick()
    assert after > before


def test_observe_moves_past_a_remote_stamp_from_the_future() -> None:
    wall = FakeWall(1_000_000)
    clock = Clock("local", wall=wall)
    remote = str(Stamp(5_000_000, 7, "remote"))
    clock.observe(remote)
    assert clock.tick() > remote


def test_rebase_on_server_time_moves_stamps_to_server_time() -> None:
    wall = FakeWall(1_000_000_000_000)
    clock = Clock("n", wall=wall)
    server = wall.ms + 86_400_000  # our clock is a day behind
    assert clock.observe_server_time(server)
    assert abs(Stamp.parse(clock.tick()).ms - server) < 10
    assert not clock.observe_server_time(server + 100)  # within tolerance: no change


def test_skew_bound() -> None:
    now = 1_000_000_000_000
    assert not too_far_ahead(str(Stamp(now + 4 * 60_000, 0, "n")), now)
    assert too_far_ahead(str(Stamp(now + 6 * 60_000, 0, "n")), now)


@pytest.mark.parametrize("bad", ["", "abc", "123-0000-n", "1700000000000-zz-n", "1700000000000-0000-"])
def test_parse_refuses_malformed_stamps(bad: str) -> None:
    with pytest.raises(ValueError):
        Stamp.parse(bad)


@given(st.lists(st.tuples(st.integers(0, 10**12), st.integers(0, 0xFFFF), st.text("abc", min_size=1, max_size=3)),
                min_size=2, max_size=20))
def test_text_order_equals_stamp_order(items: list[tuple[int, int, str]]) -> None:
    stamps = [Stamp(ms, c, n) for ms, c, n in items]
    assert sorted(stamps, key=str) == sorted(stamps, key=lambda s: (s.ms, s.counter, s.node))
