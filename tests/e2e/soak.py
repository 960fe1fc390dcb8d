"""Fault soak: several real client SQLite files (real SyncService and engine) in two stores do random
local work and sync through :class:`tests.faultproxy.FaultProxy` to a real ``hq serve``; then one
fault-free round, and the end state is checked against what HQ serves.

Used by ``tests/e2e/test_fault_soak.py`` (a short run) and ``python -m bench.soak`` (a long one).
Checks (each failure is a message in ``SoakReport.problems``):
- every PC of a store holds exactly HQ's customers (fields, tombstones, merges), active tag
  assignments and follow-ups (with tombstones);
- every outbox row a PC marked acknowledged is at HQ: the row exists and HQ's stamp for each field
  (and its tombstone) is at least the PC's; nothing stays pending or rejected;
- nothing is doubled: every customer and follow-up a PC made exists once at HQ and HQ holds no
  others, and no phone is on two live customers of a store.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from guide_app.db.models import Customer, CustomerTag, FollowUp, Outbox, Tag
from guide_app.domain.errors import UserError
from guide_app.domain.merge import tag_active
from guide_app.services.follow_ups import FollowUpService
from guide_app.sync.backoff import Backoff
from guide_app.sync.errors import SyncError
from tests.e2e.clients import PC
from tests.e2e.hq_process import DEMO_PASSWORD
from tests.faultproxy import FaultProxy
from tests.hq_fixtures import VERSION_HEADERS, SyncDevice

USERS = ("gz01.guide1", "gz01.guide2", "sz01.guide1", "sz01.guide2")
MAX_FIELDS = ("added_hlc", "removed_hlc")  # customer_tag: each keeps the larger stamp (domain.merge)
CUSTOMER_FIELDS = ("name", "phone", "notes", "sizes", "merged_into")


class CountingBackoff(Backoff):
    """The client's real backoff (short waits), counting each retry the engine makes."""

    retries: int = 0

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        self.retries += 1
        return super().delay(attempt, min(retry_after, 0.05) if retry_after is not None else None)


@dataclass
class SoakReport:
    steps: int = 0
    actions: Counter[str] = field(default_factory=Counter)
    sync_rounds: int = 0
    sync_failures: Counter[str] = field(default_factory=Counter)  # rounds that gave up, by error
    retries: int = 0
    mutations: int = 0  # outbox rows written (all acknowledged at the end when the run is clean)
    proxy: dict[str, Any] = field(default_factory=dict)
    hq_rows: Counter[str] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        p = self.proxy
        return [
            f"steps {self.steps}; actions {dict(sorted(self.actions.items()))}",
            f"sync rounds {self.sync_rounds}; rounds that gave up {sum(self.sync_failures.values())} "
            f"{dict(self.sync_failures)}; retries {self.retries}",
            f"requests through the proxy {p.get('requests')}; faults injected {p.get('faults_total')} "
            f"{p.get('faults')}",
            f"mutations pushed {self.mutations}; push results delivered {p.get('push_results_delivered')}",
            f"rows at HQ after the run {dict(sorted(self.hq_rows.items()))}",
            f"problems {len(self.problems)}" + "".join(f"\n  - {x}" for x in self.problems[:30]),
        ]


class Soak:
    def __init__(self, hq_url: str, workdir: Path, *, seed: int = 1, rate: float = 0.3) -> None:
        self.hq_url = hq_url
        self.rng = random.Random(seed)
        self.proxy = FaultProxy(hq_url, seed=seed, rate=rate).start()
        self.backoffs = [CountingBackoff(base_s=0.005, cap_s=0.05, max_attempts=4, rng=random.Random(seed + i))
                         for i in range(len(USERS))]
        self.pcs = [PC(workdir / f"{u}.db", self.proxy.url, u, backoff=b)
                    for u, b in zip(USERS, self.backoffs, strict=True)]
        self.follow_ups = [FollowUpService(pc.ctx) for pc in self.pcs]
        self.made: dict[str, set[tuple[str, str]]] = {}  # store -> (entity, id) made by our PCs
        self.report = SoakReport()
        self.n = 0
        for pc in self.pcs:
            pc.sync()
        self.tags = [self._tags(pc) for pc in self.pcs]

    def close(self) -> None:
        for pc in self.pcs:
            pc.close()
        self.proxy.stop()

    @staticmethod
    def _tags(pc: PC) -> list[str]:
        with pc.db.read() as s:
            return list(s.scalars(select(Tag.id).where(Tag.deleted_hlc.is_(None)).order_by(Tag.id).limit(3)))

    @staticmethod
    def _live(pc: PC) -> list[str]:
        with pc.db.read() as s:
            return list(s.scalars(select(Customer.id).where(Customer.deleted_hlc.is_(None),
                                                            Customer.merged_into.is_(None)).order_by(Customer.id)))

    # --- random work ------------------------------------------------------------------------------
    def step(self) -> None:
        i = self.rng.randrange(len(self.pcs))
        pc, rng = self.pcs[i], self.rng
        action = rng.choices(("create", "edit", "tag", "follow_up", "follow_up_delete", "delete", "sync"),
                             weights=(20, 20, 15, 15, 5, 5, 20))[0]
        self.n += 1
        self.report.steps += 1
        live = self._live(pc)
        try:
            if action == "create":
                phone = rng.choice(["", "", f"1390000{rng.randrange(40):04d}"])  # shared: offline merges
                cid = pc.create(f"浸泡{self.n}", phone)
                self.made.setdefault(pc.ctx.store_id, set()).add(("customer", cid))
            elif action == "edit" and live:
                pc.edit(rng.choice(live), **{rng.choice(("notes", "name", "sizes")): f"改{self.n}"})
            elif action == "tag" and live and self.tags[i]:
                cid, tag = rng.choice(live), rng.choice(self.tags[i])
                if tag in pc.tags.tags_of(cid):
                    pc.tags.unassign([cid], tag)
                else:
                    pc.tags.assign([cid], tag)
            elif action == "follow_up" and live:
                fid = self.follow_ups[i].add(rng.choice(live), "call", f"浸泡回访{self.n}")
                self.made.setdefault(pc.ctx.store_id, set()).add(("follow_up", fid))
            elif action == "follow_up_delete":
                own = self._own_follow_ups(pc)
                if own:
                    self.follow_ups[i].delete(rng.choice(own))
            elif action == "delete" and len(live) > 8:
                pc.customers.delete(rng.choice(live))
            elif action == "sync":
                self._sync(pc)
            else:
                action = "skipped"
        except UserError as exc:  # e.g. the phone is already in this PC's book: the form refuses it
            action = f"refused:{exc.key}"
        self.report.actions[action] += 1

    @staticmethod
    def _own_follow_ups(pc: PC) -> list[str]:
        with pc.db.read() as s:
            return list(s.scalars(select(FollowUp.id).where(FollowUp.deleted_hlc.is_(None),
                                                            FollowUp.guide_id == pc.ctx.actor.guide_id)))

    def _sync(self, pc: PC) -> None:
        self.report.sync_rounds += 1
        try:
            pc.sync()
        except SyncError as exc:
            self.report.sync_failures[type(exc).__name__] += 1

    def run(self, *, steps: int | None = None, seconds: float | None = None) -> SoakReport:
        self.proxy.enabled = True
        deadline = time.monotonic() + seconds if seconds is not None else None
        while (steps is None or self.report.steps < steps) and (deadline is None or time.monotonic() < deadline):
            self.step()
        self.proxy.enabled = False
        for _ in range(2):  # fault-free: the first round may still find HQ mid-merge of others' work
            for pc in self.pcs:
                pc.sync()
        self.check()
        self.report.retries = sum(b.retries for b in self.backoffs)
        self.report.proxy = self.proxy.stats.summary()
        return self.report

    # --- the end state ----------------------------------------------------------------------------
    def hq_state(self, username: str) -> dict[tuple[str, str], dict[str, Any]]:
        with httpx.Client(base_url=self.hq_url, headers=VERSION_HEADERS, timeout=30) as http:
            observer = SyncDevice(http, username, DEMO_PASSWORD, device_name="soak observer")
            observer.login()
            rows, _cursor, _history = observer.pull_all()
            return rows

    def check(self) -> None:
        problems = self.report.problems
        by_store: dict[str, list[PC]] = {}
        for pc in self.pcs:
            by_store.setdefault(pc.ctx.store_id, []).append(pc)
        for store, pcs in by_store.items():
            rows = self.hq_state(USERS[self.pcs.index(pcs[0])])
            for (entity, _id) in rows:
                self.report.hq_rows[entity] += 1
            hq = hq_view(rows)
            for pc in pcs:
                mine = pc_view(pc)
                for part in hq:
                    if mine[part] != hq[part]:
                        diff = sorted(set(mine[part].items()) ^ set(hq[part].items()))[:3]
                        problems.append(f"{pc.path.name}: {part} differ from HQ, e.g. {diff}")
                problems += acked_missing(pc, rows)
            made = self.made.get(store, set())
            for entity in ("customer", "follow_up"):
                ours = {i for e, i in made if e == entity}
                missing = sorted(i for i in ours if (entity, i) not in rows)
                if missing:
                    problems.append(f"store {store}: {len(missing)} {entity} rows made by PCs are not at HQ")
            live_phones = [f["phone"] for (e, _), r in rows.items() if e == "customer"
                           for f in [r["fields"]] if f.get("phone") and r["deleted_hlc"] is None
                           and not f.get("merged_into")]
            doubled = [p for p, k in Counter(live_phones).items() if k > 1]
            if doubled:
                problems.append(f"store {store}: phones on two live customers at HQ: {doubled[:5]}")
            notes = Counter((r["fields"]["customer_id"], r["fields"]["note"]) for (e, _), r in rows.items()
                            if e == "follow_up" and r["fields"].get("note", "").startswith("浸泡回访"))
            twice = [k for k, v in notes.items() if v > 1]
            if twice:
                problems.append(f"store {store}: follow-ups doubled at HQ: {twice[:5]}")
        for pc in self.pcs:
            status = pc.outbox_status()
            self.report.mutations += status.get("acked", 0)
            for st in ("pending", "rejected"):
                if status.get(st):
                    problems.append(f"{pc.path.name}: {status[st]} outbox rows still {st}")


def hq_view(rows: dict[tuple[str, str], dict[str, Any]]) -> dict[str, dict[str, Any]]:
    customers, tags, follow_ups = {}, {}, {}
    for (entity, rid), r in rows.items():
        f, dead = r["fields"], r["deleted_hlc"] is not None
        if entity == "customer":
            customers[rid] = (*(f.get(k) or None for k in CUSTOMER_FIELDS), dead)
        elif entity == "customer_tag" and not dead and tag_active(f.get("added_hlc"), f.get("removed_hlc")):
            tags[rid] = (f["customer_id"], f["tag_id"])
        elif entity == "follow_up":
            follow_ups[rid] = (f["customer_id"], f["note"], bool(f.get("done")), dead)
    return {"customers": customers, "active tags": tags, "follow-ups": follow_ups}


def pc_view(pc: PC) -> dict[str, dict[str, Any]]:
    with pc.db.read() as s:
        customers = {c.id: (*(getattr(c, k) or None for k in CUSTOMER_FIELDS), c.deleted_hlc is not None)
                     for c in s.scalars(select(Customer))}
        tags = {t.id: (t.customer_id, t.tag_id) for t in s.scalars(
            select(CustomerTag).where(CustomerTag.deleted_hlc.is_(None), CustomerTag.active.is_(True)))}
        follow_ups = {f.id: (f.customer_id, f.note, bool(f.done), f.deleted_hlc is not None)
                      for f in s.scalars(select(FollowUp))}
    return {"customers": customers, "active tags": tags, "follow-ups": follow_ups}


def acked_missing(pc: PC, rows: dict[tuple[str, str], dict[str, Any]]) -> list[str]:
    """Every acknowledged outbox row is at HQ with stamps at least its own."""
    out: list[str] = []
    with pc.db.read() as s:
        for m in s.scalars(select(Outbox).where(Outbox.status == "acked")):
            row = rows.get((m.entity, m.entity_id))
            if row is None:
                out.append(f"{pc.path.name}: acked {m.entity} {m.entity_id} (seq {m.device_seq}) is not at HQ")
                continue
            for name, stamp in m.field_hlc.items():
                if name in MAX_FIELDS:  # the value is the stamp; an equal one already there keeps its own
                    lost = (row["fields"].get(name) or "") < (m.fields.get(name) or "")
                else:
                    lost = row["hlc"].get(name, "") < stamp
                if lost:
                    out.append(f"{pc.path.name}: acked {m.entity}.{name} of {m.entity_id} (seq {m.device_seq}) "
                               f"lost at HQ")
            if m.deleted_hlc and (row["deleted_hlc"] or "") < m.deleted_hlc:
                out.append(f"{pc.path.name}: acked delete of {m.entity} {m.entity_id} lost at HQ")
    return out
