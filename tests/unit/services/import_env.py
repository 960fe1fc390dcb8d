"""A real client database with one store, its guides and a signed-in guide, for import/export tests."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from guide_app.db.engine import open_database
from guide_app.db.models import Customer, Guide, Outbox, Store
from guide_app.services.context import Actor, AppContext

STORE = "store-1"
ME = "guide-me"
WANG = "guide-wang"
GUIDES = {ME: "李导购", WANG: "王导购"}


def make_ctx(tmp: Path, name: str = "book.db", store: str = STORE) -> AppContext:
    db = open_database(tmp / name)
    with db.write() as s:
        s.add(Store(id=store, name="南京西路店"))
        for gid, gname in GUIDES.items():
            s.add(Guide(id=f"{gid}-{store}" if store != STORE else gid, store_id=store, name=gname))
    me = ME if store == STORE else f"{ME}-{store}"
    return AppContext(db, Actor(guide_id=me, store_id=store, role="store_manager", name=GUIDES[ME]))


def customers(ctx: AppContext) -> list[Customer]:
    with ctx.read() as s:
        rows = list(s.scalars(select(Customer).where(Customer.deleted_hlc.is_(None)).order_by(Customer.pk)))
        for r in rows:
            s.expunge(r)
        return rows


def customer_outbox_ids(ctx: AppContext) -> set[str]:
    with ctx.read() as s:
        return set(s.scalars(select(Outbox.entity_id).where(Outbox.entity == "customer")))


def count(ctx: AppContext, model: type) -> int:
    with ctx.read() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)
