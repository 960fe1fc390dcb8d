"""``POST /v1/sync/push``: apply a device's mutations in seq order, in one transaction per request.

The store's counter row is locked first (``SELECT … FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE``
on SQLite), so pushes to one store are serialized, the new version is the counter plus one and
versions commit in order; the device row's ``last_seq`` advances in that same transaction.

A batch is cheap per mutation: the rows it names (and their ledger items) are loaded with one query
per entity before the first mutation, every check runs before anything is written (so a refusal
needs no savepoint to undo), rows are flushed together when a query needs them, and the same-phone
check is skipped when the push start showed no other live holder of the phone.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from guide_app.domain.entities import CUSTOMER, SPECS
from guide_app.domain.hlc import Clock
from guide_app.domain.ids import pair_id
from guide_app.domain.merge import OPTED_OUT, merge_row, merge_tombstone
from guide_app.sync.protocol import Mutation, MutationResult, PushResponse
from hq import erasure, ledger
from hq.errors import ApiError
from hq.models import Account, CustomerHistory, Device, DeviceMutation, LedgerItem, Store, SyncRow
from hq.org import may_access_store
from hq.sync_rules import CUSTOMER_CHILDREN, Rejected, check_shape, has_nul, lookup_of, storable

log = logging.getLogger("hq.sync")
# One HLC per process; the node name is unique per process so two HQ processes never mint equal stamps.
HQ_CLOCK = Clock("hq" + secrets.token_hex(4))
_MERGE_SKIP = frozenset({"store_id", "merged_into", "created_at", "phone", "erased"})
_MAX_MERGE_CHAIN = 50
_IN_CHUNK = 500
_LEDGER_ENTITIES = ("customer", "purchase", "follow_up", "campaign_task")  # what ledger.record_row counts


def now_ms() -> int:
    return int(time.time() * 1000)


def _stamps_of(row: SyncRow) -> Iterable[str]:
    yield from row.hlc.values()
    if row.deleted_hlc:
        yield row.deleted_hlc


class PushContext:
    """The state of one push transaction: the store, the version it writes, the rows it changed."""

    def __init__(self, session: Session, store: Store, device: Device, now: int) -> None:
        self.session = session
        self.store = store
        self.device = device
        self.now = now
        self.version = store.version + 1
        self.changed = 0
        # rows of this store by (entity, id) as this push knows them; None: known not to exist here
        self._rows: dict[tuple[str, str], SyncRow | None] = {}
        self._held: list[LedgerItem] = []
        self._elsewhere: set[tuple[str, str]] = set()  # of the absent keys, those another store holds
        # same-phone check: live holders of each phone when the push started, and the customers this
        # push wrote with each phone
        self._holders: dict[str, set[str]] = {}
        self._phone_writers: dict[str, set[str]] = defaultdict(set)

    # --- rows ---------------------------------------------------------------------------------

    def prefetch(self, mutations: Sequence[Mutation]) -> None:
        """Load what the batch names with one query per entity: its rows and the rows they point at
        (customers, tags, groups), who else holds absent ids, their ledger items, and the live
        holders of the phones it touches. Later lookups of these keys need no query."""
        wanted: dict[str, set[str]] = defaultdict(set)
        # a NUL anywhere gets the mutation refused by check_shape; PostgreSQL could not even look it up
        mutations = [m for m in mutations if not has_nul([m.entity, m.entity_id, m.fields])]
        for m in mutations:
            wanted[m.entity].add(m.entity_id)
            f = m.fields
            for name, entity in (("customer_id", "customer"), ("tag_id", "tag"), ("group_id", "tag_group")):
                if isinstance(f.get(name), str) and f[name]:
                    wanted[entity].add(f[name])
        self._load(wanted)
        parents = {str(r.data.get("customer_id")) for r in self._rows.values()
                   if r is not None and r.data.get("customer_id")}
        self._load({"customer": parents})
        counted = [(e, i) for (e, i), r in self._rows.items() if e in _LEDGER_ENTITIES and r is not None]
        counted += [(m.entity, m.entity_id) for m in mutations if m.entity in _LEDGER_ENTITIES]
        by_entity: dict[str, set[str]] = defaultdict(set)
        for entity, row_id in counted:
            by_entity[entity].add(row_id)
        for entity, ids in by_entity.items():  # into the session: the ledger's get() finds them there
            for chunk in _chunks(sorted(ids)):
                # held here: the session's identity map keeps only objects someone references
                self._held.extend(self.session.scalars(select(LedgerItem).where(LedgerItem.entity == entity,
                                                                                LedgerItem.id.in_(chunk))))
        phones = {r.lookup for (e, _), r in self._rows.items() if e == "customer" and r is not None and r.lookup}
        phones |= {m.fields["phone"] for m in mutations
                   if m.entity == "customer" and isinstance(m.fields.get("phone"), str) and m.fields["phone"]}
        holders: dict[str, set[str]] = {p: set() for p in phones}
        for chunk in _chunks(sorted(phones)):
            for row_id, phone in self.session.execute(select(SyncRow.id, SyncRow.lookup).where(
                    SyncRow.entity == "customer", SyncRow.lookup.in_(chunk), SyncRow.store_id == self.store.id,
                    SyncRow.deleted_hlc.is_(None), SyncRow.merged_into.is_(None))):
                holders[phone].add(row_id)
        self._holders.update(holders)

    def _load(self, wanted: dict[str, set[str]]) -> None:
        for entity, ids in wanted.items():
            todo = sorted(i for i in ids if (entity, i) not in self._rows)
            for chunk in _chunks(todo):
                found = {r.id: r for r in self.session.scalars(select(SyncRow).where(
                    SyncRow.store_id == self.store.id, SyncRow.entity == entity, SyncRow.id.in_(chunk)))}
                for row_id in chunk:
                    self._rows[(entity, row_id)] = found.get(row_id)
                absent = [i for i in chunk if i not in found]
                if absent:
                    self._elsewhere.update((entity, i) for i in self.session.scalars(select(SyncRow.id).where(
                        SyncRow.entity == entity, SyncRow.id.in_(absent), SyncRow.store_id != self.store.id)))

    def get(self, entity: str, row_id: str) -> SyncRow | None:
        """The row in this store (HQ-owned rows included: every store holds its copy)."""
        key = (entity, row_id)
        if key in self._rows:
            return self._rows[key]
        row = self.session.get(SyncRow, (self.store.id, entity, row_id))
        if row is not None:
            self._rows[key] = row
        return row

    def elsewhere(self, entity: str, row_id: str) -> bool:
        """Whether the id names a row of another store (never revealed beyond "other store")."""
        if self._rows.get((entity, row_id), False) is None:  # prefetched as absent here
            return (entity, row_id) in self._elsewhere
        return (
            self.session.scalar(
                select(SyncRow.store_id)
                .where(SyncRow.entity == entity, SyncRow.id == row_id, SyncRow.store_id != self.store.id)
                .limit(1)
            )
            is not None
        )

    def new_row(self, entity: str, row_id: str) -> SyncRow:
        row = SyncRow(store_id=self.store.id, entity=entity, id=row_id, version=self.version, data={}, hlc={},
                      hq_owned=False)
        self.session.add(row)
        self._rows[(entity, row_id)] = row
        return row

    def touch(self, row: SyncRow) -> None:
        """Stamp ``row`` with this push's version and refresh its query columns (flushed with the
        next query that needs them, or at commit)."""
        row.version = self.version
        row.lookup = lookup_of(row.entity, row.data)
        row.customer_id = str(row.data.get("customer_id") or "")
        row.merged_into = row.data.get("merged_into") if row.entity == "customer" else None
        if row.entity == "customer" and row.lookup:
            self._phone_writers[row.lookup].add(row.id)
        self.changed += 1
        ledger.record_row(self, row)  # leaderboard events and rollups, in this same transaction

    def phone_alone(self, row: SyncRow) -> bool:
        """True when no other live customer of the store can hold ``row``'s phone: none did when the
        push started and no other customer was written with it since (False: unknown, look)."""
        holders = self._holders.get(row.lookup)
        if holders is None:
            return False
        return holders <= {row.id} and self._phone_writers.get(row.lookup, set()) <= {row.id}

    def write(
        self, row: SyncRow, fields: dict[str, Any], hlc: dict[str, str], deleted_hlc: str | None = None
    ) -> bool:
        result = merge_row(row.entity, row.data, row.hlc, fields, hlc)
        tomb = merge_tombstone(row.deleted_hlc, deleted_hlc)
        is_new = row.version == self.version and not row.hlc
        # a later stamp on an equal value is a change too: kept and pulled, or a PC that stamped the
        # same value later would let an older write win here that it overrules on its own copy
        restamped = result.hlc != row.hlc
        if not (result.changed or restamped or tomb != row.deleted_hlc or is_new):
            self._history(row, result.losers)
            return False
        row.data = result.values
        row.hlc = result.hlc
        row.deleted_hlc = tomb
        self.touch(row)
        self._history(row, result.losers)
        return True

    def _history(self, row: SyncRow, losers: list[Any]) -> None:
        for loser in losers:
            if row.entity == "customer":
                customer_id, field = row.id, loser.field
            else:
                customer_id, field = str(row.data.get("customer_id") or ""), f"{row.entity}.{loser.field}"
            self.add_history(customer_id, field, loser.value, loser.hlc, loser.winner_hlc)

    def add_history(self, customer_id: str, field: str, value: Any, hlc: str, winner_hlc: str) -> None:
        self.session.add(
            CustomerHistory(
                store_id=self.store.id,
                customer_id=customer_id,
                field=field,
                value=value,
                hlc=hlc,
                winner_hlc=winner_hlc,
                version=self.version,
                device_id=self.device.id,
                at=self.now,
            )
        )
        self.changed += 1

    def stamp_over(self, *rows: SyncRow) -> str:
        """An HQ stamp later than every stamp on ``rows``, so HQ's own change wins on every PC."""
        top = max((s for r in rows for s in _stamps_of(r)), default=None)
        if top is not None:
            HQ_CLOCK.observe(top)
        return HQ_CLOCK.tick()

    # --- references ----------------------------------------------------------------------------

    def resolve_customer(self, customer_id: str) -> SyncRow | None:
        """The customer a reference means now: follows ``merged_into`` to the surviving record."""
        row = self.get("customer", customer_id)
        for _ in range(_MAX_MERGE_CHAIN):
            if row is None or not row.merged_into:
                return row
            row = self.get("customer", row.merged_into)
        return row

    def check_ref(self, entity: str, row_id: str) -> SyncRow:
        """A parent row must be in this store (a corp tag's store copy counts)."""
        row = self.get(entity, row_id)
        if row is None:
            if self.elsewhere(entity, row_id):
                raise Rejected("other_store")
            raise Rejected("unknown_parent", entity=entity, value=row_id)
        return row

    def check_group(self, group_id: str) -> None:
        if self.check_ref("tag_group", group_id).hq_owned:
            raise Rejected("corp_read_only")  # a store cannot add tags to a corp group

    def check_person_ref(self, account_id: str) -> None:
        account = self.session.get(Account, account_id)
        if account is None or not may_access_store(self.session, account, self.store.id):
            raise Rejected("unknown_guide", value=account_id)


def _scope(ctx: PushContext, m: Mutation, existing: SyncRow | None) -> None:
    """Refuses rows, parents and people of another store, and writes to HQ-owned rows."""
    if existing is not None:
        if existing.hq_owned:
            raise Rejected("corp_read_only")
        if "store_id" in m.fields and m.fields["store_id"] != existing.store_id:
            raise Rejected("store_change")
        if m.entity == "customer_tag":
            for name in ("customer_id", "tag_id"):
                if name in m.fields and m.fields[name] != existing.data.get(name):
                    raise Rejected("bad_value", field=name, value=m.fields[name])
        if m.entity == "acquisition_code":
            # printed codes point at this text, guide and store: changing them would re-route every poster
            for name, label in (("code", "活码文字"), ("guide_id", "所属导购")):
                if name in m.fields and m.fields[name] != existing.data.get(name):
                    raise Rejected("code_immutable", field=label)
    else:
        if ctx.elsewhere(m.entity, m.entity_id):
            raise Rejected("other_store")
        if m.entity == "tag":
            if "group_id" not in m.fields:
                raise Rejected("unknown_row")
        elif "store_id" not in m.fields:
            raise Rejected("unknown_row")  # an edit of a row whose creation HQ never accepted
        elif m.fields["store_id"] != ctx.store.id:
            raise Rejected("other_store")
        if m.entity == "customer_tag":
            customer_id, tag_id = m.fields.get("customer_id"), m.fields.get("tag_id")
            if not customer_id or not tag_id:
                raise Rejected("unknown_row")
            if m.entity_id != pair_id(customer_id, tag_id):
                raise Rejected("bad_pair_id")
        if m.entity in CUSTOMER_CHILDREN and not m.fields.get("customer_id"):
            raise Rejected("unknown_parent", entity="customer", value="")
    if m.entity == "tag" and "group_id" in m.fields:
        ctx.check_group(m.fields["group_id"])
    if m.fields.get("customer_id"):
        ctx.check_ref("customer", m.fields["customer_id"])
    if m.fields.get("tag_id"):
        ctx.check_ref("tag", m.fields["tag_id"])
    for tag_id in m.fields.get("auto_tag_ids") or ():
        ctx.check_ref("tag", tag_id)
    for name in ("owner_guide_id", "guide_id", "actor_id"):
        if m.fields.get(name):
            ctx.check_person_ref(m.fields[name])
    if m.entity == "acquisition_code" and "code" in m.fields:
        check_code_free(ctx, m.entity_id, m.fields["code"])


def check_code_free(ctx: PushContext, row_id: str, code: str) -> None:
    """Code texts are unique in the whole org: the landing page finds the code by its text alone."""
    taken = ctx.session.scalar(
        select(SyncRow.id)
        .where(SyncRow.entity == "acquisition_code", SyncRow.lookup == code, SyncRow.id != row_id)
        .limit(1)
    )
    if taken is not None:
        raise Rejected("code_taken", value=code)


def check_mutation(ctx: PushContext, m: Mutation) -> SyncRow | None:
    """Every check of one mutation, before anything is written: raises :class:`Rejected` if refused,
    else returns the row it changes (None: a new row)."""
    check_shape(m, ctx.now)
    existing = ctx.get(m.entity, m.entity_id)
    _scope(ctx, m, existing)
    erasure.refuse_writes_to_erased(ctx, m, existing)
    if m.entity not in SPECS and existing is not None:
        raise Rejected("audit_immutable")  # audit_log: append-only
    return existing


def apply_mutation(ctx: PushContext, m: Mutation) -> None:
    """Validate and apply one mutation; raises :class:`Rejected` before writing anything if refused."""
    apply_checked(ctx, m, check_mutation(ctx, m))


def apply_checked(ctx: PushContext, m: Mutation, existing: SyncRow | None) -> None:
    """Apply a mutation :func:`check_mutation` accepted (it raises nothing)."""
    for stamp in m.hlc.values():
        HQ_CLOCK.observe(stamp)
    if m.entity not in SPECS:  # audit_log: an append-only ledger kept at HQ, never merged or pulled
        row = ctx.new_row(m.entity, m.entity_id)
        row.data, row.hlc = dict(m.fields), {k: m.hlc[k] for k in m.fields}
        ctx.touch(row)
        return
    row = existing or ctx.new_row(m.entity, m.entity_id)
    fields = {k: v for k, v in m.fields.items()}
    hlc = {k: m.hlc[k] for k in fields}
    ctx.write(row, fields, hlc, m.deleted_hlc)
    erasure.after_write(ctx, row)
    after_write(ctx, row, fields, hlc)


def after_write(ctx: PushContext, row: SyncRow, fields: dict[str, Any], hlc: dict[str, str]) -> None:
    """Keep merged customers merged: writes aimed at a merged record reach its survivor, and a phone
    now shared with another live customer of the store merges the two."""
    if row.entity == "customer":
        if row.merged_into:
            survivor = ctx.resolve_customer(row.id)
            forward = {k: v for k, v in fields.items() if k not in ("store_id", "merged_into", "created_at")}
            if survivor is not None and survivor is not row and forward:
                ctx.write(survivor, forward, {k: hlc[k] for k in forward})
        elif row.deleted_hlc is None and row.lookup:
            merge_same_phone(ctx, row)
        return
    customer_id = str(row.data.get("customer_id") or "")
    if customer_id:
        survivor = ctx.resolve_customer(customer_id)
        if survivor is not None and survivor.id != customer_id:
            repoint(ctx, row, survivor, fields if row.entity == "customer_tag" else None)


def merge_same_phone(ctx: PushContext, row: SyncRow) -> None:
    """Customers of one store with the same phone become one: the earliest-born id survives (UUIDv7
    ids sort by creation time and never change, so every HQ process picks the same survivor)."""
    if ctx.phone_alone(row):
        return
    others = list(
        ctx.session.scalars(
            select(SyncRow).where(
                SyncRow.entity == "customer",
                SyncRow.lookup == row.lookup,
                SyncRow.store_id == row.store_id,
                SyncRow.deleted_hlc.is_(None),
                SyncRow.merged_into.is_(None),
                SyncRow.id != row.id,
            )
        )
    )
    if not others:
        return
    group = sorted([row, *others], key=lambda r: r.id)
    survivor = group[0]
    for loser in group[1:]:
        merge_customer(ctx, loser, survivor)


def merge_customer(ctx: PushContext, loser: SyncRow, survivor: SyncRow) -> None:
    stamp = ctx.stamp_over(loser, survivor)
    fills: dict[str, Any] = {}
    for name in CUSTOMER.fields:
        if name in _MERGE_SKIP:
            continue
        lv, sv = loser.data.get(name), survivor.data.get(name)
        if name in CUSTOMER.consent_fields:
            if lv == OPTED_OUT and sv != OPTED_OUT:
                fills[name] = OPTED_OUT
            elif lv == "granted" and sv in (None, "", "unknown"):
                fills[name] = lv
        elif lv not in (None, "") and sv in (None, ""):
            fills[name] = lv
        elif name in CUSTOMER.text_fields and lv not in (None, "", sv):
            # both typed something different: the survivor keeps its text, the other goes to history
            ctx.add_history(survivor.id, name, lv, loser.hlc.get(name, ""), survivor.hlc.get(name, ""))
    lc, sc = loser.data.get("created_at"), survivor.data.get("created_at")
    if isinstance(lc, int) and (not isinstance(sc, int) or lc < sc):
        fills["created_at"] = lc  # the customer has been known since the earlier record
    if fills:
        ctx.write(survivor, fills, dict.fromkeys(fills, stamp))
    ctx.write(loser, {"merged_into": survivor.id}, {"merged_into": stamp})
    children = ctx.session.scalars(
        select(SyncRow)
        .where(SyncRow.store_id == loser.store_id, SyncRow.customer_id == loser.id, SyncRow.entity != "customer")
        .order_by(SyncRow.entity, SyncRow.id)
    )
    for child in list(children):
        repoint(ctx, child, survivor)


def repoint(ctx: PushContext, row: SyncRow, survivor: SyncRow, incoming: dict[str, Any] | None = None) -> None:
    """Point a follow-up, purchase, task (…) at the survivor; a tag assignment moves to the
    survivor's own assignment row for that tag (one row per customer and tag on every PC).

    ``incoming``: the fields a push just wrote to a tag assignment of an already merged customer
    (its row is tombstoned by then); they are carried over so a late add or removal is not lost."""
    if row.entity != "customer_tag":
        stamp = ctx.stamp_over(row)
        ctx.write(row, {"customer_id": survivor.id}, {"customer_id": stamp})
        return
    source = row.data if incoming is None else incoming
    if incoming is None and row.deleted_hlc is not None:
        return
    tag_id = str(row.data.get("tag_id") or "")
    target_id = pair_id(survivor.id, tag_id)
    target = ctx.get("customer_tag", target_id)
    stamp = ctx.stamp_over(row, *([target] if target else []))
    moved = {k: source.get(k) for k in ("added_hlc", "removed_hlc") if source.get(k) is not None}
    if target is None:
        target = ctx.new_row("customer_tag", target_id)
        base = {"store_id": row.store_id, "customer_id": survivor.id, "tag_id": tag_id, **moved}
        ctx.write(target, base, dict.fromkeys(base, stamp))
    elif moved:
        ctx.write(target, moved, dict.fromkeys(moved, stamp))
    ctx.write(row, {}, {}, stamp)  # the old assignment row is tombstoned, the survivor's carries it


def push(session: Session, device_id: str, mutations: list[Mutation]) -> PushResponse:
    now = now_ms()
    device_store = session.scalar(select(Device.store_id).where(Device.id == device_id))
    if device_store is None:
        raise ApiError(401, "device_unknown", "unknown device")
    # Lock order everywhere: store counter row, then device row.
    store = session.get(Store, device_store, with_for_update=True)
    device = session.get(Device, device_id, with_for_update=True)
    assert store is not None and device is not None
    ordered = sorted(mutations, key=lambda m: m.seq)
    last = device.last_seq
    expected = last + 1
    for m in ordered:
        if m.seq < expected:
            continue
        if m.seq > expected:
            raise ApiError(409, "seq_gap", f"expected seq {last + 1}, got {m.seq}", expected_seq=last + 1)
        expected += 1
    ctx = PushContext(session, store, device, now)
    ctx.prefetch([m for m in ordered if m.seq > last])
    dup_seqs = [m.seq for m in ordered if m.seq <= last]
    earlier = {
        r.seq: r
        for r in session.scalars(
            select(DeviceMutation).where(DeviceMutation.device_id == device_id, DeviceMutation.seq.in_(dup_seqs))
        )
    } if dup_seqs else {}
    for m in ordered:
        prior = earlier.get(m.seq)
        if prior is not None and prior.op_id != storable(m.op_id[:64]):
            # same seq, different change: this PC's outbox restarted (e.g. a restored backup). Acking
            # it as a duplicate would drop the change silently; the PC must enroll afresh instead.
            raise ApiError(409, "device_forked", f"seq {m.seq} was already used by op {prior.op_id}")
    results: list[MutationResult] = []
    for m in ordered:
        if m.seq <= last:
            prior = earlier.get(m.seq)
            # a duplicate of a refused mutation repeats why, for a PC that lost the first answer
            code = prior.code if prior and prior.status == "rejected" else ""
            reason = prior.reason if prior and prior.status == "rejected" else ""
            results.append(MutationResult(seq=m.seq, status="duplicate", code=code, reason=reason))
            continue
        try:
            existing = check_mutation(ctx, m)
        except Rejected as rej:
            status, code, reason = "rejected", rej.code, rej.reason
            log.info("rejected device=%s seq=%d %s/%s: %s", device_id, m.seq, m.entity[:30], m.entity_id[:64],
                     rej.code)
        else:
            # outside the try: a refusal after a write would leave half a change, so it fails the push
            apply_checked(ctx, m, existing)
            status, code, reason = "applied", "", ""
        session.add(
            DeviceMutation(
                device_id=device_id,
                seq=m.seq,
                op_id=storable(m.op_id[:64]),  # NUL: PostgreSQL text cannot hold it, and a refusal is kept
                entity=storable(m.entity[:30]),
                entity_id=storable(m.entity_id[:64]),
                status=status,
                code=code,
                reason=storable(reason),
                payload=storable(m.model_dump()) if status == "rejected" else None,
                version=ctx.version if status == "applied" else 0,
                at=now,
            )
        )
        results.append(MutationResult(seq=m.seq, status=status, code=code, reason=reason))  # type: ignore[arg-type]
        last = m.seq
    if ctx.changed:
        store.version = ctx.version
    device.last_seq = last
    device.last_seen_at = now
    return PushResponse(last_seq=last, results=results, server_time_ms=now_ms())


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start:start + _IN_CHUNK]
