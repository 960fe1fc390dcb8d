"""The customer list: search while typing, filter by tags / stage / owner, sort, and load pages.

The lazy Qt table model holds only the ordered pks from :meth:`CustomerQuery.ids` and asks
:meth:`CustomerQuery.rows` for the page it is about to paint. Every call is one read transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from guide_app.db import customer_list
from guide_app.db.models import Customer, CustomerHistory, Guide
from guide_app.domain.errors import UserError
from guide_app.domain.stages import derive_stage, stage_cutoffs
from guide_app.services.book_records import (
    CustomerDetail,
    CustomerRow,
    FollowUpRecord,
    HistoryRecord,
    PurchaseRecord,
    TagRef,
)
from guide_app.services.context import AppContext
from guide_app.services.follow_ups import follow_ups_of
from guide_app.services.privacy import own_customers_only
from guide_app.services.purchases import purchases_of
from guide_app.services.settings import read_stage_thresholds

__all__ = ["CustomerDetail", "CustomerFilter", "CustomerQuery", "CustomerRow", "TagFilter"]

Sort = Literal["name", "last_purchase", "created"]


@dataclass(frozen=True)
class TagFilter:
    """``groups``: each inner tuple holds the tag ids picked in one group — a customer matches a
    group with any of them (OR) and must match every group (AND). ``none_of``: has none of these."""

    groups: tuple[tuple[str, ...], ...] = ()
    none_of: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return any(self.groups) or bool(self.none_of)


@dataclass(frozen=True)
class CustomerFilter:
    text: str = ""
    tags: TagFilter = field(default_factory=TagFilter)
    stage: str = ""  # new | active | sleeping | lost ("" = any)
    owner_guide_id: str = ""
    sort: Sort = "name"
    descending: bool = False


class CustomerQuery:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def spec(self, session: Session, f: CustomerFilter) -> customer_list.ListSpec:
        """The SQL-level description of ``f`` (stage cutoffs from this PC's thresholds and clock)."""
        if f.stage and f.stage not in customer_list.STAGES:
            raise UserError("book.bad_stage_filter", value=f.stage)
        if f.sort not in customer_list.SORTS:
            raise UserError("book.bad_sort", value=f.sort)
        cutoffs = stage_cutoffs(self.ctx.now_ms(), read_stage_thresholds(session)) if f.stage else {}
        owner = f.owner_guide_id
        if own_customers_only(session, self.ctx.actor):
            owner = self.ctx.actor.guide_id  # the store shows guides their own customers only
        return customer_list.ListSpec(
            store_id=self.ctx.store_id,
            text=f.text,
            tag_groups=tuple(tuple(g) for g in f.tags.groups if g),
            tag_none_of=tuple(f.tags.none_of),
            stage=f.stage,
            cutoffs=cutoffs,
            owner_guide_id=owner,
            sort=f.sort,
            descending=f.descending,
        )

    def ids(self, f: CustomerFilter = CustomerFilter()) -> list[int]:
        """Ordered pks of the live customers of this store that match ``f``."""
        with self.ctx.read() as s:
            return customer_list.select_pks(s, self.spec(s, f))

    def count(self, f: CustomerFilter = CustomerFilter()) -> int:
        with self.ctx.read() as s:
            return customer_list.count(s, self.spec(s, f))

    def query_plan(self, f: CustomerFilter = CustomerFilter()) -> list[str]:
        with self.ctx.read() as s:
            return customer_list.query_plan(s, self.spec(s, f))

    def rows(self, pks: Sequence[int]) -> list[CustomerRow]:
        """Display rows for ``pks`` in that order; pks no longer present are left out."""
        if not pks:
            return []
        now = self.ctx.now_ms()
        with self.ctx.read() as s:
            thresholds = read_stage_thresholds(s)
            raw = customer_list.load_rows(s, pks)
            tags = customer_list.load_tags(s, [r[1] for r in raw.values()], self.ctx.store_id,
                                           self.ctx.actor.guide_id)
        out: list[CustomerRow] = []
        for pk in pks:
            r = raw.get(pk)
            if r is None:
                continue
            (pk_, cid, name, phone, wechat, gender, manual, owner, owner_name,
             last_buy, created, spent, orders) = r
            stage = manual or derive_stage(created, last_buy, now, thresholds).value
            out.append(CustomerRow(
                pk=pk_, id=cid, name=name, phone=phone, wechat_id=wechat, gender=gender, stage=stage,
                owner_guide_id=owner, owner_name=owner_name, last_purchase_at=last_buy, created_at=created,
                total_spent_cents=spent, order_count=orders,
                tags=[(t[1], t[4]) for t in tags.get(cid, [])],
            ))
        return out

    def detail(self, customer_id: str) -> CustomerDetail:
        """The record page of one customer (of a merged one: of the customer it was merged into)."""
        now = self.ctx.now_ms()
        with self.ctx.read() as s:
            c = s.scalars(select(Customer).where(Customer.id == customer_id)).first()
            for _hop in range(8):  # merged by HQ while the list was open: show the record that remains
                if c is None or c.merged_into is None:
                    break
                c = s.scalars(select(Customer).where(Customer.id == c.merged_into)).first()
            if c is None or c.store_id != self.ctx.store_id or c.merged_into is not None:
                raise UserError("customer.not_found")
            if own_customers_only(s, self.ctx.actor) and c.owner_guide_id != self.ctx.actor.guide_id:
                raise UserError("security.book.not_yours")
            if c.deleted_hlc is not None:
                raise UserError("customer.deleted")
            thresholds = read_stage_thresholds(s)
            names = {gid: gname for gid, gname in s.execute(select(Guide.id, Guide.name))}
            tag_rows = customer_list.load_tags(s, [c.id], self.ctx.store_id, self.ctx.actor.guide_id)
            follow_ups: list[FollowUpRecord] = follow_ups_of(s, c.id)
            purchases: list[PurchaseRecord] = purchases_of(s, c.id)
            history = [
                HistoryRecord(kind=h.kind, field=h.field, old_value=h.old_value, new_value=h.new_value,
                              by_guide_id=h.by_guide_id, by_name=names.get(h.by_guide_id, ""), at=h.at)
                for h in s.scalars(select(CustomerHistory).where(CustomerHistory.customer_id == c.id)
                                   .order_by(CustomerHistory.at.desc(), CustomerHistory.pk.desc()))
            ]
            stage = c.stage or derive_stage(c.created_at, c.last_purchase_at, now, thresholds).value
            return CustomerDetail(
                pk=c.pk, id=c.id, name=c.name, phone=c.phone, wechat_id=c.wechat_id, gender=c.gender,
                birthday=c.birthday, source=c.source, owner_guide_id=c.owner_guide_id,
                owner_name=names.get(c.owner_guide_id, ""), stage=stage, manual_stage=c.stage,
                preferences=c.preferences, sizes=c.sizes, notes=c.notes, consent_phone=c.consent_phone,
                consent_sms=c.consent_sms, consent_wechat=c.consent_wechat, created_at=c.created_at,
                updated_at=c.updated_at, last_purchase_at=c.last_purchase_at,
                total_spent_cents=c.total_spent_cents, order_count=c.order_count,
                tags=[TagRef(tag_id=t[0], name=t[1], group_id=t[2], group_name=t[3], color=t[4], scope=t[5],
                             multi=bool(t[6])) for t in tag_rows.get(c.id, [])],
                follow_ups=follow_ups, purchases=purchases, history=history,
            )
