"""The org as this PC knows it: stores and guides (HQ-owned rows, filled by sync), and the local
offline profile for a PC used without HQ.

A local profile is a store and guide born on this PC (ids are UUIDv7 made here) and remembered in
``sync_state`` under ``local_store_id``; the first guide of it is the store manager, since nobody
else can manage that store.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from guide_app.db.engine import Database
from guide_app.db.models import Guide, Store
from guide_app.db.state import get_state, set_state
from guide_app.domain.errors import UserError
from guide_app.domain.ids import uuid7
from guide_app.domain.pinyin_keys import sort_key
from guide_app.services.context import Actor, AppContext

LOCAL_STORE_KEY = "local_store_id"
_STORE_NAME_MAX = 100
_GUIDE_NAME_MAX = 60


@dataclass(frozen=True)
class GuideInfo:
    id: str
    store_id: str
    name: str
    role: str
    active: bool


@dataclass(frozen=True)
class StoreInfo:
    id: str
    name: str
    region_id: str | None
    region_name: str


def _clean(raw: str, limit: int, required_key: str) -> str:
    name = " ".join((raw or "").split())
    if not name:
        raise UserError(required_key)
    if len(name) > limit:
        raise UserError("org.name_too_long", limit=limit)
    return name


def _guide_info(g: Guide) -> GuideInfo:
    return GuideInfo(g.id, g.store_id, g.name, g.role, g.active)


class OrgService:
    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx

    def store(self) -> StoreInfo | None:
        with self.ctx.read() as s:
            st = s.get(Store, self.ctx.store_id)
            return StoreInfo(st.id, st.name, st.region_id, st.region_name) if st else None

    def guides(self, *, include_inactive: bool = False) -> list[GuideInfo]:
        """Guides of this store in pinyin order (departed ones last, only when asked: 离职继承)."""
        stmt = select(Guide).where(Guide.store_id == self.ctx.store_id)
        if not include_inactive:
            stmt = stmt.where(Guide.active.is_(True))
        with self.ctx.read() as s:
            guides = list(s.scalars(stmt))
        return sorted((_guide_info(g) for g in guides), key=lambda g: (not g.active, sort_key(g.name)))

    def guide_name(self, guide_id: str) -> str:
        """The guide's name, or "" when this PC does not know the guide (yet)."""
        if not guide_id:
            return ""
        with self.ctx.read() as s:
            g = s.get(Guide, guide_id)
            return g.name if g else ""

    def is_local_store(self) -> bool:
        with self.ctx.read() as s:
            return get_state(s, LOCAL_STORE_KEY) == self.ctx.store_id


def local_store_id(session: Session) -> str | None:
    return get_state(session, LOCAL_STORE_KEY)


def ensure_local_profile(db: Database, store_name: str, guide_name: str) -> Actor:
    """The offline store of this PC (created on first use, renamed if the name changed) and the
    guide of that name in it (created if new). Returns the Actor to sign in as."""
    store_name = _clean(store_name, _STORE_NAME_MAX, "org.store_name_required")
    guide_name = _clean(guide_name, _GUIDE_NAME_MAX, "org.guide_name_required")
    with db.write() as s:
        store_id = local_store_id(s)
        store = s.get(Store, store_id) if store_id else None
        if store is None:
            store = Store(id=uuid7(), name=store_name, region_id=None, region_name="")
            s.add(store)
            set_state(s, LOCAL_STORE_KEY, store.id)
        elif store.name != store_name:
            store.name = store_name
        guides = list(s.scalars(select(Guide).where(Guide.store_id == store.id)))
        guide = next((g for g in guides if g.name == guide_name), None)
        if guide is None:
            guide = Guide(id=uuid7(), store_id=store.id, name=guide_name,
                          role="guide" if guides else "store_manager", active=True)
            s.add(guide)
        elif not guide.active:
            guide.active = True
        return Actor(guide_id=guide.id, store_id=store.id, role=guide.role, name=guide.name)


SIGNED_IN_KEY = "signed_in_guide_id"


def remember_signed_in(db: Database, actor: Actor) -> None:
    """Remember who uses this PC, so the next start opens straight into their book."""
    with db.write() as s:
        set_state(s, SIGNED_IN_KEY, actor.guide_id)


def signed_in_actor(db: Database) -> Actor | None:
    """The guide remembered by :func:`remember_signed_in`, if still known and active here."""
    with db.read() as s:
        guide_id = get_state(s, SIGNED_IN_KEY)
        g = s.get(Guide, guide_id) if guide_id else None
        if g is None or not g.active:
            return None
        return Actor(guide_id=g.id, store_id=g.store_id, role=g.role, name=g.name)

