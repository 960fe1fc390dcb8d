"""Tags named in an import file: found by name among the tag groups this store sees, or created in
the store group "导入标签"; assigned through the tag service's add-wins write (services.tags)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import or_, select

from guide_app.db.models import CustomerTag, Tag, TagGroup
from guide_app.domain.ids import pair_id, uuid7
from guide_app.services.context import Writer
from guide_app.services.tags import add_assignment

IMPORT_TAG_GROUP = "导入标签"  # data, not UI text: one group whatever language the importing PC uses
_SCOPE_ORDER = {"corp": 0, "store": 1, "personal": 2}


@dataclass(frozen=True)
class TagRef:
    id: str
    name: str
    group_id: str
    group_name: str
    multi: bool


class ImportTags:
    """Name → tag for one write transaction (built per batch so a rolled-back batch leaves no stale ids).

    The write is a batch (nothing it writes is visible to queries before it ends), so the assignments
    of the batch's customers are loaded once (:meth:`load_assignments`) and kept here as they change."""

    def __init__(self, w: Writer) -> None:
        self.w = w
        self._assignments: dict[str, CustomerTag] = {}  # by pair id
        self._of_customer: dict[str, list[CustomerTag]] = {}
        self._group_tags: dict[str, dict[str, str]] = {}  # single-select group id → {tag id: name}
        ctx = w.ctx
        groups = w.session.scalars(
            select(TagGroup).where(
                TagGroup.deleted_hlc.is_(None),
                or_(
                    TagGroup.scope == "corp",
                    (TagGroup.scope == "store") & (TagGroup.store_id == ctx.store_id),
                    (TagGroup.scope == "personal") & (TagGroup.store_id == ctx.store_id)
                    & (TagGroup.owner_guide_id == ctx.actor.guide_id),
                ),
            )
        ).all()
        groups = sorted(groups, key=lambda g: (_SCOPE_ORDER.get(g.scope, 9), g.sort_order, g.pk))
        self._groups = {g.id: g for g in groups}
        self._import_group: TagGroup | None = next(
            (g for g in groups if g.scope == "store" and g.name == IMPORT_TAG_GROUP), None)
        self._by_name: dict[str, TagRef] = {}
        self.created: list[TagRef] = []  # tags this import made
        if groups:
            tags = w.session.scalars(
                select(Tag).where(Tag.group_id.in_(list(self._groups)), Tag.deleted_hlc.is_(None))
            ).all()
            order = {gid: i for i, gid in enumerate(self._groups)}
            for t in sorted(tags, key=lambda t: (order[t.group_id], t.sort_order, t.pk)):
                self._by_name.setdefault(t.name.casefold(), self._ref(t))

    def _ref(self, t: Tag) -> TagRef:
        g = self._groups[t.group_id]
        return TagRef(t.id, t.name, g.id, g.name, bool(g.multi))

    def resolve(self, name: str) -> TagRef:
        """The store's tag with this name, creating it (and the import group) when missing."""
        found = self._by_name.get(name.casefold())
        if found is not None:
            return found
        group = self._import_group or self._create_group()
        now = self.w.ctx.now_ms()
        count = sum(1 for r in self._by_name.values() if r.group_id == group.id)
        tag = Tag(id=uuid7(now), field_hlc={})
        self.w.apply("tag", tag, {"group_id": group.id, "name": name, "sort_order": count}, new=True)
        ref = self._ref(tag)
        self._by_name[name.casefold()] = ref
        if group.id in self._group_tags:
            self._group_tags[group.id][tag.id] = tag.name
        self.created.append(ref)
        return ref

    def _create_group(self) -> TagGroup:
        ctx = self.w.ctx
        order = max((g.sort_order for g in self._groups.values() if g.scope == "store"), default=-1) + 1
        group = TagGroup(id=uuid7(ctx.now_ms()), field_hlc={})
        self.w.apply("tag_group", group, {
            "store_id": ctx.store_id, "scope": "store", "owner_guide_id": "", "name": IMPORT_TAG_GROUP,
            "color": "#607d8b", "sort_order": order, "multi": True,
        }, new=True)
        self._groups[group.id] = group
        self._import_group = group
        return group

    def load_assignments(self, customer_ids: Collection[str]) -> None:
        """Every assignment row (active or not) of these customers already in the book, one query per 500."""
        ids = sorted(customer_ids)
        for start in range(0, len(ids), 500):
            for row in self.w.session.scalars(
                    select(CustomerTag).where(CustomerTag.customer_id.in_(ids[start:start + 500]))
                    .order_by(CustomerTag.pk)):
                self._assignments[row.id] = row
                self._of_customer.setdefault(row.customer_id, []).append(row)

    def other_active_in_group(self, customer_id: str, ref: TagRef) -> str | None:
        """Name of another tag of ``ref``'s group the customer already has (single-select groups)."""
        tags = self._group_tags.get(ref.group_id)
        if tags is None:  # every tag of the group, as the assignment may be to a since-deleted one
            tags = {tid: name for tid, name in self.w.session.execute(
                select(Tag.id, Tag.name).where(Tag.group_id == ref.group_id))}
            tags.update({r.id: r.name for r in self.created if r.group_id == ref.group_id})
            self._group_tags[ref.group_id] = tags
        for row in self._of_customer.get(customer_id, ()):
            if row.active and row.tag_id != ref.id and row.tag_id in tags:
                return tags[row.tag_id]
        return None

    def assign(self, customer_id: str, ref: TagRef) -> bool:
        """Add the tag to the customer (the tag service's add-wins write); False when it was already active."""
        before = len(self._assignments)
        added = bool(add_assignment(self.w, customer_id, ref.id, self._assignments))
        if len(self._assignments) > before:
            self._of_customer.setdefault(customer_id, []).append(self._assignments[pair_id(customer_id, ref.id)])
        return added
