"""Tag groups (标签组), tags (标签) and putting them on customers.

Scopes: ``corp`` groups come from HQ and are read-only here (their tags can still be put on
customers); ``store`` groups belong to the store; ``personal`` groups belong to one guide and only
that guide sees them. A single-select group allows one of its tags per customer.

Assignments (``customer_tag``) are an add-wins set, see guide_app.domain.merge: the row id is
``pair_id(customer_id, tag_id)`` so two PCs name the same assignment; adding sets ``added_hlc`` to a
fresh stamp, removing sets ``removed_hlc`` to the add stamp this PC *observed*, so an add made
elsewhere that we never saw survives our removal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from guide_app.db.models import CustomerTag, Tag, TagGroup
from guide_app.domain.entities import TAG, TAG_GROUP
from guide_app.domain.errors import UserError
from guide_app.domain.ids import pair_id, uuid7
from guide_app.domain.merge import tag_active
from guide_app.services.context import AppContext, Writer
from guide_app.services.customer_lookup import live_customers

SCOPES = ("corp", "store", "personal")
DEFAULT_COLOR = "#607d8b"
_COLOR = re.compile(r"^#[0-9a-fA-F]{6}$")
_GROUP_NAME_MAX = dict(TAG_GROUP.max_lengths)["name"]
_TAG_NAME_MAX = dict(TAG.max_lengths)["name"]
_SCOPE_ORDER = {"corp": 0, "store": 1, "personal": 2}


@dataclass(frozen=True)
class TagInfo:
    id: str
    group_id: str
    name: str
    sort_order: int
    customer_count: int  # live customers of this store carrying the tag


@dataclass(frozen=True)
class TagGroupInfo:
    id: str
    name: str
    color: str
    scope: str
    multi: bool
    sort_order: int
    owner_guide_id: str
    read_only: bool  # corp groups: HQ decides
    tags: list[TagInfo]


def _clean_name(raw: str, limit: int, *, what: str) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise UserError(f"tags.{what}_name_required")
    if len(name) > limit:
        raise UserError(f"tags.{what}_name_too_long", limit=limit)
    return name


def _clean_color(raw: str) -> str:
    color = (raw or "").strip()
    if not _COLOR.match(color):
        raise UserError("tags.bad_color", value=raw)
    return color.lower()


class TagService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    # -- reading -------------------------------------------------------------------------------

    def _visible_groups(self, session: Session) -> list[TagGroup]:
        groups = session.scalars(select(TagGroup).where(TagGroup.deleted_hlc.is_(None))).all()
        return sorted((g for g in groups if self._sees(g)),
                      key=lambda g: (_SCOPE_ORDER.get(g.scope, 3), g.sort_order, g.pk))

    def _sees(self, g: TagGroup) -> bool:
        if g.scope == "corp":
            return True
        if g.store_id != self.ctx.store_id:
            return False
        return g.scope == "store" or g.owner_guide_id == self.ctx.actor.guide_id

    def groups(self, *, with_counts: bool = True) -> list[TagGroupInfo]:
        """Visible groups (corp, store, then the guide's own) with their tags in order and, by
        default, how many of the store's live customers carry each tag."""
        with self.ctx.read() as s:
            groups = self._visible_groups(s)
            gids = [g.id for g in groups]
            tags = s.scalars(select(Tag).where(Tag.group_id.in_(gids), Tag.deleted_hlc.is_(None))
                             .order_by(Tag.sort_order, Tag.pk)).all() if gids else []
            counts = self._counts(s) if with_counts else {}
        by_group: dict[str, list[TagInfo]] = {}
        for t in tags:
            by_group.setdefault(t.group_id, []).append(
                TagInfo(t.id, t.group_id, t.name, t.sort_order, counts.get(t.id, 0)))
        return [TagGroupInfo(g.id, g.name, g.color, g.scope, g.multi, g.sort_order, g.owner_guide_id,
                             g.scope == "corp", by_group.get(g.id, [])) for g in groups]

    def _counts(self, session: Session) -> dict[str, int]:
        """Active assignments per tag read from the tag index alone, minus those of customers that
        are deleted, merged or of another store (few, found through their own small indexes): a
        join of every assignment with its customer takes seconds on a 100k book, this ~50 ms."""
        totals = {tag_id: int(n) for tag_id, n in session.execute(
            text("SELECT tag_id, count(*) FROM customer_tag WHERE active = 1 GROUP BY tag_id"))}
        gone = session.execute(text(
            "SELECT ct.tag_id, count(*) FROM ("
            " SELECT id FROM customer WHERE store_id < :store OR store_id > :store"
            " UNION ALL"
            " SELECT id FROM customer WHERE store_id = :store AND (deleted_hlc IS NOT NULL OR merged_into IS NOT NULL)"
            ") AS gone CROSS JOIN customer_tag ct ON ct.customer_id = gone.id AND ct.active = 1 "
            "GROUP BY ct.tag_id"
        ), {"store": self.ctx.store_id})
        for tag_id, n in gone:
            totals[tag_id] = totals.get(tag_id, 0) - int(n)
        return totals

    def tags_of(self, customer_id: str) -> list[str]:
        """Ids of the visible tags the customer carries."""
        with self.ctx.read() as s:
            visible = {g.id for g in self._visible_groups(s)}
            rows = s.execute(
                select(Tag.id, Tag.group_id).join(CustomerTag, CustomerTag.tag_id == Tag.id)
                .where(CustomerTag.customer_id == customer_id, CustomerTag.active.is_(True),
                       Tag.deleted_hlc.is_(None))
            ).all()
        return [tid for tid, gid in rows if gid in visible]

    # -- groups --------------------------------------------------------------------------------

    def _writable_group(self, session: Session, group_id: str) -> TagGroup:
        g = session.scalars(select(TagGroup).where(TagGroup.id == group_id)).first()
        if g is None or g.deleted_hlc is not None or not self._sees(g):
            raise UserError("tags.group_not_found")
        if g.scope == "corp":
            raise UserError("tags.corp_read_only", name=g.name)
        return g

    def _check_group_name(self, session: Session, name: str, scope: str, exclude: str = "") -> None:
        for g in self._visible_groups(session):
            if g.id != exclude and g.scope == scope and g.name.casefold() == name.casefold():
                raise UserError("tags.group_name_taken", name=name)

    def create_group(self, name: str, *, color: str = DEFAULT_COLOR, scope: str = "store",
                     multi: bool = True) -> str:
        if scope == "corp":
            raise UserError("tags.corp_read_only", name=name)
        if scope not in SCOPES:
            raise UserError("tags.bad_scope", value=scope)
        name = _clean_name(name, _GROUP_NAME_MAX, what="group")
        color = _clean_color(color)
        now = self.ctx.now_ms()
        with self.ctx.write() as w:
            self._check_group_name(w.session, name, scope)
            same_scope = [g for g in self._visible_groups(w.session) if g.scope == scope]
            row = TagGroup(id=uuid7(now), field_hlc={})
            w.apply("tag_group", row, {
                "store_id": self.ctx.store_id, "scope": scope,
                "owner_guide_id": self.ctx.actor.guide_id if scope == "personal" else "",
                "name": name, "color": color, "sort_order": max((g.sort_order for g in same_scope), default=-1) + 1,
                "multi": bool(multi),
            }, new=True)
            return row.id

    def update_group(self, group_id: str, *, name: str | None = None, color: str | None = None,
                     multi: bool | None = None) -> bool:
        """Rename / recolour / switch select mode. Switching to single-select keeps existing
        assignments; the rule applies to the next tag given in that group."""
        with self.ctx.write() as w:
            g = self._writable_group(w.session, group_id)
            changes: dict[str, object] = {}
            if name is not None:
                changes["name"] = _clean_name(name, _GROUP_NAME_MAX, what="group")
                self._check_group_name(w.session, str(changes["name"]), g.scope, exclude=g.id)
            if color is not None:
                changes["color"] = _clean_color(color)
            if multi is not None:
                changes["multi"] = bool(multi)
            return bool(w.apply("tag_group", g, changes))

    def reorder_groups(self, group_ids: Sequence[str]) -> None:
        """Set the order of the given (non-corp) groups to the order of the list."""
        with self.ctx.write() as w:
            groups = [self._writable_group(w.session, gid) for gid in group_ids]
            for i, g in enumerate(groups):
                w.apply("tag_group", g, {"sort_order": i})

    def delete_group(self, group_id: str) -> None:
        """Tombstone the group and its tags; customers simply stop showing them."""
        with self.ctx.write() as w:
            g = self._writable_group(w.session, group_id)
            for t in w.session.scalars(select(Tag).where(Tag.group_id == g.id, Tag.deleted_hlc.is_(None))):
                w.tombstone("tag", t)
            w.tombstone("tag_group", g)

    # -- tags ----------------------------------------------------------------------------------

    def _writable_tag(self, session: Session, tag_id: str) -> tuple[Tag, TagGroup]:
        t = session.scalars(select(Tag).where(Tag.id == tag_id)).first()
        if t is None or t.deleted_hlc is not None:
            raise UserError("tags.tag_not_found")
        return t, self._writable_group(session, t.group_id)

    def _check_tag_name(self, session: Session, group_id: str, name: str, exclude: str = "") -> None:
        for other in session.scalars(select(Tag).where(Tag.group_id == group_id, Tag.deleted_hlc.is_(None))):
            if other.id != exclude and other.name.casefold() == name.casefold():
                raise UserError("tags.tag_name_taken", name=name)

    def create_tag(self, group_id: str, name: str) -> str:
        name = _clean_name(name, _TAG_NAME_MAX, what="tag")
        now = self.ctx.now_ms()
        with self.ctx.write() as w:
            g = self._writable_group(w.session, group_id)
            self._check_tag_name(w.session, g.id, name)
            top = w.session.scalar(select(func.max(Tag.sort_order)).where(Tag.group_id == g.id,
                                                                           Tag.deleted_hlc.is_(None)))
            row = Tag(id=uuid7(now), field_hlc={})
            w.apply("tag", row, {"group_id": g.id, "name": name,
                                 "sort_order": (top if top is not None else -1) + 1}, new=True)
            return row.id

    def rename_tag(self, tag_id: str, name: str) -> bool:
        name = _clean_name(name, _TAG_NAME_MAX, what="tag")
        with self.ctx.write() as w:
            t, g = self._writable_tag(w.session, tag_id)
            self._check_tag_name(w.session, g.id, name, exclude=t.id)
            return bool(w.apply("tag", t, {"name": name}))

    def reorder_tags(self, group_id: str, tag_ids: Sequence[str]) -> None:
        with self.ctx.write() as w:
            g = self._writable_group(w.session, group_id)
            for i, tid in enumerate(tag_ids):
                t, tg = self._writable_tag(w.session, tid)
                if tg.id != g.id:
                    raise UserError("tags.tag_not_in_group")
                w.apply("tag", t, {"sort_order": i})

    def delete_tag(self, tag_id: str) -> None:
        with self.ctx.write() as w:
            t, _g = self._writable_tag(w.session, tag_id)
            w.tombstone("tag", t)

    # -- assignments ---------------------------------------------------------------------------

    def _assignable(self, session: Session, tag_id: str) -> tuple[Tag, TagGroup]:
        t = session.scalars(select(Tag).where(Tag.id == tag_id)).first()
        if t is None or t.deleted_hlc is not None:
            raise UserError("tags.tag_not_found")
        g = session.scalars(select(TagGroup).where(TagGroup.id == t.group_id)).first()
        if g is None or g.deleted_hlc is not None or not self._sees(g):
            raise UserError("tags.tag_not_found")
        return t, g

    def assign(self, customer_ids: Sequence[str], tag_id: str) -> int:
        """Tag one customer or a selection, in one transaction. In a single-select group the
        customer's other tag of that group is removed. Returns how many customers newly got it."""
        with self.ctx.write() as w:
            tag, group = self._assignable(w.session, tag_id)
            customers = live_customers(w.session, list(customer_ids), self.ctx.store_id)
            siblings = [] if group.multi else [
                tid for tid in w.session.scalars(select(Tag.id).where(Tag.group_id == group.id)) if tid != tag.id
            ]
            added = 0
            for c in customers:
                if siblings:
                    for other in w.session.scalars(select(CustomerTag).where(
                            CustomerTag.customer_id == c.id, CustomerTag.tag_id.in_(siblings),
                            CustomerTag.active.is_(True))):
                        remove_assignment(w, other)
                added += add_assignment(w, c.id, tag.id)
            return added

    def unassign(self, customer_ids: Sequence[str], tag_id: str) -> int:
        """Take the tag off one customer or a selection. Returns how many actually had it."""
        with self.ctx.write() as w:
            tag, _group = self._assignable(w.session, tag_id)
            customers = live_customers(w.session, list(customer_ids), self.ctx.store_id)
            removed = 0
            ids = [c.id for c in customers]
            for start in range(0, len(ids), 500):
                for row in w.session.scalars(select(CustomerTag).where(
                        CustomerTag.customer_id.in_(ids[start:start + 500]), CustomerTag.tag_id == tag.id,
                        CustomerTag.active.is_(True))):
                    remove_assignment(w, row)
                    removed += 1
            return removed

    def set_tags(self, customer_id: str, tag_ids: Sequence[str]) -> None:
        """Make the customer's visible tags exactly ``tag_ids`` (the record page's tag picker)."""
        wanted = list(dict.fromkeys(tag_ids))
        with self.ctx.write() as w:
            picked = [self._assignable(w.session, tid) for tid in wanted]
            per_group: dict[str, int] = {}
            for _t, g in picked:
                per_group[g.id] = per_group.get(g.id, 0) + 1
                if not g.multi and per_group[g.id] > 1:
                    raise UserError("tags.single_select", group=g.name)
            (c,) = live_customers(w.session, [customer_id], self.ctx.store_id)
            visible = {g.id for g in self._visible_groups(w.session)}
            for row in w.session.scalars(select(CustomerTag).join(Tag, Tag.id == CustomerTag.tag_id).where(
                    CustomerTag.customer_id == c.id, CustomerTag.active.is_(True))).all():
                tag = w.session.scalars(select(Tag).where(Tag.id == row.tag_id)).one()
                if tag.group_id in visible and row.tag_id not in wanted:
                    remove_assignment(w, row)
            for t, _g in picked:
                add_assignment(w, c.id, t.id)


def add_assignment(w: Writer, customer_id: str, tag_id: str, known: dict[str, CustomerTag] | None = None) -> int:
    """Put the tag on the customer inside an open write (no checks: callers validate). 1 if added.

    ``known`` (a batch caller, e.g. an import): the assignments already loaded, by id, holding every
    row of these customers; looked up instead of a query, and a new assignment is added to it."""
    pid = pair_id(customer_id, tag_id)
    if known is None:
        row = w.session.scalars(select(CustomerTag).where(CustomerTag.id == pid)).first()
    else:
        row = known.get(pid)
    if row is not None and row.active:
        return 0
    added = w.stamp()
    if row is None:
        row = CustomerTag(id=pid, field_hlc={}, active=True)
        w.apply("customer_tag", row, {"store_id": w.ctx.store_id, "customer_id": customer_id, "tag_id": tag_id,
                                      "added_hlc": added, "removed_hlc": None}, new=True)
        if known is not None:
            known[pid] = row
    else:
        w.apply("customer_tag", row, {"added_hlc": added})
    row.active = tag_active(row.added_hlc, row.removed_hlc)
    return 1


def remove_assignment(w: Writer, row: CustomerTag) -> None:
    """Take an active assignment off inside an open write."""
    # record the add we observed: a concurrent add elsewhere carries a later stamp and wins
    w.apply("customer_tag", row, {"removed_hlc": row.added_hlc})
    row.active = tag_active(row.added_hlc, row.removed_hlc)
