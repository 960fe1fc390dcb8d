"""Several PCs of one store do random work offline, sync through faults, and must converge:
every PC and a freshly synced observer hold the same book, no acknowledged write is lost (HQ's
stamp for the field is at least the write's), and nothing is duplicated."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from guide_app.db.models import Customer, Outbox
from tests.e2e.clients import PC
from tests.e2e.faults import FaultTransport
from tests.e2e.hq_process import HQProcess

pytestmark = pytest.mark.e2e
USERS = ("gz01.guide1", "gz01.guide2", "gz01.guide3")
PHONES = ("13600000001", "13600000002", "13600000003", "")
FAULTS = (None, "drop-after-push", "cut-pull", "503")
_run = itertools.count()


class Faulty(FaultTransport):
    def __init__(self) -> None:
        super().__init__(self._plan)
        self.next_fault: str | None = None

    def _plan(self, request: httpx.Request) -> object:
        fault, path = self.next_fault, request.url.path
        if fault == "drop-after-push" and path.endswith("/push"):
            self.next_fault = None
            return "drop-after"
        if fault == "cut-pull" and path.endswith("/pull"):
            self.next_fault = None
            return "drop-body"
        if fault == "503" and path.startswith("/v1/sync"):
            self.next_fault = None
            return httpx.Response(503, json={"code": "server_error", "detail": "injected"})
        return None


def make_machine(hq: HQProcess, root: Path) -> type[RuleBasedStateMachine]:
    class Store(RuleBasedStateMachine):
        @initialize()
        def open_pcs(self) -> None:
            run = root / f"run{next(_run)}"
            self.transports = [Faulty() for _ in USERS]
            self.pcs = [PC(run / f"{u}.db", hq.url, u, transport=t) for u, t in zip(USERS, self.transports,
                                                                                     strict=True)]
            for pc in self.pcs:
                pc.sync()
            self.tag = self.pcs[0].any_tag()
            self.n = 0

        def live(self, pc: PC) -> list[str]:
            return sorted(k for k, v in pc.book().items() if not v[5] and not v[6])

        @rule(who=st.integers(0, 2), phone=st.sampled_from(PHONES))
        def create(self, who: int, phone: str) -> None:
            self.n += 1
            try:
                self.pcs[who].create(f"随机{self.n}", phone)
            except Exception as exc:  # the phone is already in this PC's book: the form refuses it
                assert getattr(exc, "key", "") == "phone.duplicate"

        @rule(who=st.integers(0, 2), pick=st.integers(0, 50), field=st.sampled_from(["notes", "name", "sizes"]),
              value=st.sampled_from(["甲", "乙", "丙"]))
        def edit(self, who: int, pick: int, field: str, value: str) -> None:
            live = self.live(self.pcs[who])
            if live:
                self.pcs[who].edit(live[pick % len(live)], **{field: value + str(self.n)})

        @rule(who=st.integers(0, 2), pick=st.integers(0, 50))
        def delete(self, who: int, pick: int) -> None:
            live = self.live(self.pcs[who])
            if len(live) > 10:
                self.pcs[who].customers.delete(live[pick % len(live)])

        @rule(who=st.integers(0, 2), pick=st.integers(0, 50))
        def toggle_tag(self, who: int, pick: int) -> None:
            pc = self.pcs[who]
            live = self.live(pc)
            if live and self.tag:
                cid = live[pick % len(live)]
                if self.tag in pc.tags.tags_of(cid):
                    pc.tags.unassign([cid], self.tag)
                else:
                    pc.tags.assign([cid], self.tag)

        @rule(who=st.integers(0, 2), fault=st.sampled_from(FAULTS))
        def sync(self, who: int, fault: str | None) -> None:
            self.transports[who].next_fault = fault
            self.pcs[who].sync()
            self.transports[who].next_fault = None

        @invariant()
        def outbox_never_loses_or_refuses(self) -> None:
            for pc in getattr(self, "pcs", []):
                assert pc.outbox_status().get("rejected", 0) == 0

        def teardown(self) -> None:
            pcs = getattr(self, "pcs", [])
            if not pcs:
                return
            try:
                for _ in range(3):
                    for pc in pcs:
                        pc.sync()
                observer = PC(pcs[0].path.parent / "observer.db", hq.url, USERS[0])
                pcs.append(observer)
                observer.sync()
                books = [pc.book() for pc in pcs]
                assert all(b == books[0] for b in books), "PCs did not converge"
                tags = [pc.tag_state() for pc in pcs]
                assert all(t == tags[0] for t in tags)
                with observer.db.read() as s:
                    final = {c.id: c.field_hlc for c in s.scalars(select(Customer))}
                for pc in pcs[:-1]:
                    assert pc.outbox_status().get("pending", 0) == 0
                    with pc.db.read() as s:
                        for m in s.scalars(select(Outbox).where(Outbox.entity == "customer")):
                            for field, stamp in m.field_hlc.items():  # acknowledged writes are never lost
                                assert final[m.entity_id].get(field, "") >= stamp
                live_phones = [v[1] for v in books[0].values() if v[1] and not v[5] and not v[6]]
                assert len(live_phones) == len(set(live_phones)), "a phone is on two live customers"
            finally:
                for pc in pcs:
                    pc.close()

    return Store


def test_random_offline_work_with_faults_converges(hq: HQProcess) -> None:
    with tempfile.TemporaryDirectory() as root:
        machine = make_machine(hq, Path(root))
        run_state_machine_as_test(machine, settings=settings(
            max_examples=3, stateful_step_count=16, deadline=None, derandomize=True,
            suppress_health_check=list(HealthCheck)))
