from __future__ import annotations

from guide_app.services.sync_service import SyncScheduler


class Mono:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_sync_on_start_then_every_interval() -> None:
    t = Mono()
    s = SyncScheduler(interval_s=180, debounce_s=5, monotonic=t)
    assert not s.due()
    s.on_start()
    assert s.due() and not s.due()  # once; a run is in progress
    s.finished(ok=True)
    t.t += 179
    assert not s.due()
    t.t += 1
    assert s.due()


def test_local_changes_are_debounced_into_one_sync() -> None:
    t = Mono()
    s = SyncScheduler(interval_s=180, debounce_s=5, monotonic=t)
    for _ in range(10):  # a change every second: each pushes the sync back
        s.on_local_change()
        t.t += 1
    assert not s.due()
    t.t += 4
    assert s.due()
    s.finished(ok=True)
    for _ in range(40):  # typing without pause still syncs within max_debounce_s
        s.on_local_change()
        t.t += 1
        if s.due():
            break
    assert t.t - 1014 <= 31


def test_change_during_a_run_triggers_a_follow_up_soon() -> None:
    t = Mono()
    s = SyncScheduler(interval_s=180, debounce_s=5, monotonic=t)
    s.request_now()
    assert s.due()
    s.on_local_change()
    s.finished(ok=True)
    t.t += 5
    assert s.due()


def test_failures_back_off_and_demand_resets_it() -> None:
    t = Mono()
    s = SyncScheduler(interval_s=180, retry_s=30, max_retry_s=600, monotonic=t)
    s.request_now()
    waits = []
    for _ in range(6):
        assert s.due()
        s.finished(ok=False)
        waits.append(s.seconds_until_due())
        t.t += waits[-1] or 0
    assert waits == [30, 60, 120, 240, 480, 600]
    s.request_now()
    assert s.due()
