from __future__ import annotations

import random
import threading

import httpx
import pytest

from guide_app.domain.hlc import Clock
from guide_app.sync.backoff import Backoff
from guide_app.sync.client import HqClient
from guide_app.sync.engine import Progress, Stopped, SyncEngine, fit_batch
from guide_app.sync.errors import (
    AuthRequiredError,
    OfflineError,
    ServerError,
    UpgradeRequiredError,
)
from guide_app.sync.protocol import Mutation, TokenPair
from guide_app.sync.tokens import MemoryTokenStore
from tests.unit.sync.fakes import FakeHQ, FakeStore

NOW = 1_700_000_000_000


class RecordingStop(threading.Event):
    """Records backoff waits instead of sleeping."""

    def __init__(self) -> None:
        super().__init__()
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0.0)
        return self.is_set()


def make(hq: FakeHQ, store: FakeStore, *, transport: httpx.BaseTransport | None = None,
         wall: int = NOW, **kw: object) -> tuple[SyncEngine, RecordingStop, Clock]:
    tokens = MemoryTokenStore()
    tokens.save(TokenPair(access_token="a1", access_expires_in=900, refresh_token="r1"))
    client = HqClient("http://hq.test", tokens, device_id="d1",
                      transport=transport or httpx.MockTransport(hq.handler))
    stop = RecordingStop()
    clock = Clock("n1", wall=lambda: wall)
    engine = SyncEngine(client, store, clock, stop=stop,
                        backoff=Backoff(base_s=0.5, cap_s=8, max_attempts=4, rng=random.Random(1)), **kw)  # type: ignore[arg-type]
    return engine, stop, clock


def paths(hq: FakeHQ) -> list[str]:
    return [r.url.path.rsplit("/", 1)[-1] for r in hq.requests]


def test_push_sends_the_outbox_in_batches_of_at_most_200_then_pulls() -> None:
    hq, store = FakeHQ(versions=3), FakeStore()
    store.add(450)
    engine, _, _ = make(hq, store)
    report = engine.sync()
    assert hq.push_sizes == [200, 200, 50]
    assert hq.applied == list(range(1, 451))
    assert all(r.status == "acked" for r in store.rows.values())
    assert paths(hq) == ["push", "push", "push", "pull"]  # always push before pull
    assert report.applied == 450 and report.pulled_rows == 3


def test_batches_stay_under_one_megabyte() -> None:
    store = FakeStore()
    store.add(30, size=100_000)  # 30 x 100 kB
    batch = fit_batch(store.mutations_from(1, 200))
    assert len(batch) == 9
    assert sum(len(m.model_dump_json()) for m in batch) < 1_000_000
    huge = Mutation(seq=1, op_id="o", entity="customer", entity_id="c", fields={"notes": "x" * 2_000_000})
    assert len(fit_batch([huge])) == 1  # never stuck: one alone goes, and HQ gives the reason


def test_rejected_rows_keep_their_reason_and_do_not_block_the_queue() -> None:
    hq, store = FakeHQ(), FakeStore()
    store.add(5)
    hq.reject[3] = "手机号格式不对"
    report = make(hq, store)[0].push()
    assert [r.status for r in store.rows.values()] == ["acked", "acked", "rejected", "acked", "acked"]
    assert store.rows[3].reason == "手机号格式不对" and store.rows[3].code == "bad"
    assert report.rejected_seqs == [3] and report.applied == 4


def test_response_lost_after_commit_is_resent_and_acked_as_duplicate() -> None:
    hq, store = FakeHQ(), FakeStore()
    store.add(3)
    dropped = []

    class DropAfterCommit(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            response = hq.handler(request)
            if request.url.path.endswith("/push") and not dropped:
                dropped.append(1)
                raise httpx.ReadError("connection reset after the server committed")
            return response

    engine, stop, _ = make(hq, store, transport=DropAfterCommit())
    report = engine.push()
    assert hq.applied == [1, 2, 3]  # applied once
    assert report.duplicates == 3 and report.applied == 0
    assert all(r.status == "acked" for r in store.rows.values())
    assert len(stop.waits) == 1


def test_gap_resends_from_the_seq_hq_expects() -> None:
    hq, store = FakeHQ(), FakeStore()
    store.add(6)
    for seq in (1, 2, 3, 4):
        store.rows[seq].status = "acked"  # we think HQ has these; it was restored from an older backup
    hq.last_seq = 2
    hq.applied = [1, 2]
    make(hq, store)[0].push()
    assert hq.applied == [1, 2, 3, 4, 5, 6]
    assert store.first_pending_seq() is None


def test_pull_applies_pages_with_their_cursor_until_has_more_is_false() -> None:
    hq, store = FakeHQ(versions=1234), FakeStore()
    seen: list[Progress] = []
    engine, _, _ = make(hq, store, pull_limit=500, progress=seen.append)
    report = engine.pull()
    assert [p.next_cursor for p in store.pages] == [500, 1000, 1234]
    assert store.pull_cursor() == 1234 and report.pages == 3
    assert [(p.done, p.total, p.initial) for p in seen] == [(500, 1234, True), (1000, 1234, True),
                                                          (1234, 1234, True)]
    engine.pull()  # nothing new: one empty page, cursor unchanged
    assert store.pull_cursor() == 1234 and len(store.pages) == 4


def test_5xx_and_429_are_retried_with_backoff_honouring_retry_after() -> None:
    hq, store = FakeHQ(versions=2), FakeStore()
    answers = [httpx.Response(503, json={"code": "down", "detail": "restarting"}),
               httpx.Response(429, headers={"Retry-After": "7"}, json={"code": "slow", "detail": "rate"}),
               httpx.Response(500, text="<html>proxy</html>")]
    hq.faults.append(lambda req: answers.pop(0) if answers else None)
    engine, stop, _ = make(hq, store)
    assert engine.pull().pulled_rows == 2
    assert len(stop.waits) == 3
    assert stop.waits[1] >= 7  # Retry-After is a floor
    assert stop.waits[0] <= 0.5 and stop.waits[2] <= 2.0  # jittered exponential caps: 0.5, 1, 2


def test_gives_up_after_max_attempts_with_an_offline_error_in_chinese() -> None:
    hq, store = FakeHQ(), FakeStore()
    store.add(1)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    engine, stop, _ = make(hq, store, transport=httpx.MockTransport(refuse))
    with pytest.raises(OfflineError) as info:
        engine.sync()
    assert len(stop.waits) == 3
    assert "离线" in info.value.message()
    assert store.rows[1].status == "pending"  # nothing lost


def test_server_error_that_persists_surfaces_as_server_error() -> None:
    hq, store = FakeHQ(), FakeStore()
    hq.faults.append(lambda req: httpx.Response(502, text="bad gateway"))
    with pytest.raises(ServerError):
        make(hq, store)[0].pull()


def test_expired_token_mid_push_refreshes_once_and_retries() -> None:
    hq, store = FakeHQ(), FakeStore()
    store.add(250)
    engine, _, _ = make(hq, store)
    calls = {"n": 0}

    def expire_after_first_push(request: httpx.Request) -> None:
        if request.url.path.endswith("/push"):
            calls["n"] += 1
            if calls["n"] == 2:
                hq.valid_tokens = set()  # the access token expires between the two batches
        return None

    hq.faults.append(expire_after_first_push)  # type: ignore[arg-type]
    engine.push()
    assert hq.refreshes == 1 and hq.applied == list(range(1, 251))
    assert engine.client.tokens.refresh_token() == "r2"  # rotated


def test_refused_refresh_asks_to_sign_in_again() -> None:
    hq, store = FakeHQ(), FakeStore()
    store.add(1)
    hq.valid_tokens = set()
    hq.faults.append(lambda req: httpx.Response(401, json={"code": "revoked", "detail": "revoked"})
                     if req.url.path.endswith("/refresh") else None)
    with pytest.raises(AuthRequiredError) as info:
        make(hq, store)[0].push()
    assert "重新登录" in info.value.message()
    assert store.rows[1].status == "pending"


def test_old_protocol_gets_a_clear_upgrade_message() -> None:
    hq, store = FakeHQ(), FakeStore()
    hq.faults.append(lambda req: httpx.Response(426, json={"code": "upgrade_required", "detail": "protocol 0",
                                                           "message_zh": "请升级客户端"}))
    with pytest.raises(UpgradeRequiredError) as info:
        make(hq, store)[0].pull()
    assert "升级" in info.value.message() and "请升级客户端" in info.value.message()


def test_clock_is_rebased_on_hq_time_and_the_offset_persisted() -> None:
    hq, store = FakeHQ(now_ms=NOW), FakeStore()
    day = 24 * 3600 * 1000
    engine, _, clock = make(hq, store, wall=NOW + day)  # this PC's clock runs a day ahead
    ahead = clock.tick()
    engine.pull()
    assert store.state["clock_offset_ms"] == str(-day)
    after = clock.tick()
    assert int(after[:13]) <= NOW + 5 * 60 * 1000 < int(ahead[:13])  # new stamps are acceptable to HQ


def test_stop_request_ends_the_run_between_pages() -> None:
    hq, store = FakeHQ(versions=2000), FakeStore()
    engine, stop, _ = make(hq, store, pull_limit=500)
    engine.progress = lambda p: stop.set() if p.done >= 1000 else None
    with pytest.raises(Stopped):
        engine.pull()
    assert store.pull_cursor() == 1000  # whole pages only


def test_hq_restored_behind_our_cursor_means_pulling_the_store_again() -> None:
    hq, store = FakeHQ(versions=700), FakeStore()
    store.state["pull_cursor"] = "950"  # HQ was restored from a backup older than what we pulled
    report = make(hq, store, pull_limit=500)[0].pull()
    assert [p.next_cursor for p in store.pages] == [500, 700]
    assert store.pull_cursor() == 700 and report.pulled_rows == 700
