"""Campaign completion at HQ, per store and guide: the targets worked out from each store's synced
book (the same rules as the counter PCs, see guide_app.domain.segment_eval) and the task rows the
PCs pushed up."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from guide_app.domain.errors import UserError
from guide_app.domain.merge import tag_active
from guide_app.domain.packs import Manifest, parse_manifest
from guide_app.domain.segment_eval import BookCustomer, BookTag, targets
from hq.models import Account, CampaignPack, Store, SyncRow

_BOOK_ENTITIES = ("customer", "customer_tag", "tag", "tag_group", "purchase", "campaign_task")


@dataclass
class GuideRow:
    store_id: str
    store_name: str
    guide_id: str
    guide_name: str
    targets: int = 0
    done: dict[str, int] = field(default_factory=dict)  # task id -> target customers done
    outcomes: Counter[str] = field(default_factory=Counter)

    def completion(self, task_count: int) -> float:
        total = self.targets * task_count
        return sum(self.done.values()) / total if total else 0.0


def _manifest(session: Session, pack_id: str) -> Manifest:
    row = session.scalars(select(CampaignPack).where(CampaignPack.id == pack_id)
                          .order_by(CampaignPack.version.desc())).first()
    if row is None:
        raise UserError("pack.publish.not_found", id=pack_id)
    return parse_manifest(row.manifest)


def _store_book(session: Session, store_id: str) -> tuple[list[BookCustomer], list[BookTag], list[dict[str, Any]]]:
    rows = session.scalars(select(SyncRow).where(SyncRow.store_id == store_id, SyncRow.entity.in_(_BOOK_ENTITIES),
                                                 SyncRow.deleted_hlc.is_(None))).all()
    by: dict[str, list[SyncRow]] = defaultdict(list)
    for r in rows:
        by[r.entity].append(r)
    scopes = {g.id: g.data.get("scope", "") for g in by["tag_group"]}
    tags = [BookTag(t.id, t.data.get("name", ""), scopes.get(t.data.get("group_id", ""), "")) for t in by["tag"]]
    links: dict[str, set[str]] = defaultdict(set)
    for ct in by["customer_tag"]:
        if tag_active(ct.data.get("added_hlc"), ct.data.get("removed_hlc")):
            links[ct.data.get("customer_id", "")].add(ct.data.get("tag_id", ""))
    spent: Counter[str] = Counter()
    last: dict[str, int] = {}
    for p in by["purchase"]:
        cid, at = p.data.get("customer_id", ""), int(p.data.get("at") or 0)
        spent[cid] += int(p.data.get("amount_cents") or 0)
        last[cid] = max(last.get(cid, at), at)
    customers = [
        BookCustomer(
            id=c.id, owner_guide_id=c.data.get("owner_guide_id", ""), birthday=c.data.get("birthday", "") or "",
            stage=c.data.get("stage", "") or "", created_at=int(c.data.get("created_at") or 0),
            last_purchase_at=last.get(c.id), total_spent_cents=spent[c.id],
            opted_out="opted_out" in (c.data.get("consent_phone"), c.data.get("consent_sms"),
                                      c.data.get("consent_wechat")),
            tag_ids=frozenset(links.get(c.id, ())),
        )
        for c in by["customer"] if not c.merged_into and not c.data.get("merged_into")
    ]
    return customers, tags, [t.data for t in by["campaign_task"]]


def pack_progress(session: Session, pack_id: str, now_ms: int) -> tuple[Manifest, list[GuideRow]]:
    """One row per store and owner guide with target customers, ordered by store and guide name."""
    manifest = _manifest(session, pack_id)
    names = {a.id: a.display_name for a in session.scalars(select(Account))}
    out: list[GuideRow] = []
    for store in session.scalars(select(Store).order_by(Store.name)):
        if not manifest.audience.includes(store.id, store.region_id):
            continue
        customers, tags, tasks = _store_book(session, store.id)
        chosen = targets(manifest.segment, customers, tags, now_ms=now_ms)
        owner = {c.id: c.owner_guide_id for c in chosen}
        rows: dict[str, GuideRow] = {}
        for c in chosen:
            row = rows.setdefault(c.owner_guide_id, GuideRow(store.id, store.name, c.owner_guide_id,
                                                              names.get(c.owner_guide_id, c.owner_guide_id)))
            row.targets += 1
        for t in tasks:
            cid = t.get("customer_id", "")
            if t.get("pack_id") != pack_id or cid not in owner or t.get("status") != "done":
                continue
            row = rows[owner[cid]]
            row.done[t.get("task_id", "")] = row.done.get(t.get("task_id", ""), 0) + 1
            row.outcomes[t.get("outcome", "")] += 1
        for row in sorted(rows.values(), key=lambda r: r.guide_name):
            row.done = {task.id: row.done.get(task.id, 0) for task in manifest.tasks}
            out.append(row)
    return manifest, out
