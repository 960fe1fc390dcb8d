"""Tags named in an import file: found by name among the tag groups this store sees, or created in
the store group "导入标签"; assigned through the tag service's add-wins write (services.tags)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from guide_app.db.models import CustomerTag, Tag, TagGroup
from guide_app.domain.ids import uuid7
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
    """Name → tag for one write transaction (built per batch so a rolled-back batch leaves no stale ids)."""

    def __init__(self, w: Writer) -> None:
        self.w = w
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

    def other_active_in_group(self, customer_id: str, ref: TagRef) -> str | None:
        """Name of another tag of ``ref``'s group the customer already has (single-select groups)."""
        self.w.session.flush()  # an assignment re-activated just before must count
        row = self.w.session.execute(
            select(Tag.name).join(CustomerTag, CustomerTag.tag_id == Tag.id).where(
                CustomerTag.customer_id == customer_id, CustomerTag.active.is_(True),
                Tag.group_id == ref.group_id, Tag.id != ref.id,
            ).limit(1)
        ).first()
        return None if row is None else str(row[0])

    def assign(self, customer_id: str, ref: TagRef) -> bool:
        """Add the tag to the customer (the tag service's add-wins write); False when it was already active."""
        return bool(add_assignment(self.w, customer_id, ref.id))
