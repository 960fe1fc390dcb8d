"""``hq admin seed-demo``: a demo org (regions, stores, guides, managers; known passwords) and a demo
customer book per store (customers, tag groups and tags, assignments, follow-ups, purchases), made
with Faker zh_CN and a fixed seed so two runs give the same book."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from faker import Faker
from sqlalchemy import select
from sqlalchemy.orm import Session

from guide_app.domain.entities import FOLLOW_UP_KINDS
from guide_app.domain.errors import UserError
from guide_app.domain.ids import pair_id, uuid7
from guide_app.domain.phones import normalize_phone
from hq import org
from hq.models import Region, Store, SyncRow
from hq.sync_push import HQ_CLOCK

DEMO_PASSWORD = "demo-pass-2024"
DAY_MS = 86_400_000

DEMO_ORG: list[tuple[str, list[tuple[str, str]]]] = [
    ("华东区", [("sh01", "上海南京西路店"), ("hz01", "杭州湖滨银泰店")]),
    ("华南区", [("gz01", "广州天河城店"), ("sz01", "深圳万象城店")]),
]
REGION_CODES = {"华东区": "east", "华南区": "south"}
TAG_GROUPS: list[tuple[str, str, bool, list[str]]] = [
    ("客户价值", "#e53935", False, ["高价值", "潜力", "普通"]),
    ("风格偏好", "#1e88e5", True, ["通勤", "休闲", "运动", "商务"]),
    ("关注品类", "#43a047", True, ["上衣", "裤装", "连衣裙", "外套", "配饰"]),
]
SOURCES = ["门店自然进店", "朋友推荐", "企业微信活码", "包裹卡", "直播间", "商场活动"]
ITEMS = ["针织开衫", "羊毛大衣", "牛仔裤", "真丝衬衫", "连衣裙", "运动卫衣", "丝巾", "皮带", "西装外套", "休闲裤"]


@dataclass
class DemoAccount:
    username: str
    password: str
    role: str
    display_name: str
    store_ids: list[str]


@dataclass
class DemoSummary:
    regions: dict[str, str] = field(default_factory=dict)  # name -> id
    stores: dict[str, str] = field(default_factory=dict)  # code -> id
    store_names: dict[str, str] = field(default_factory=dict)  # code -> name
    accounts: list[DemoAccount] = field(default_factory=list)
    customers: int = 0

    def account(self, username: str) -> DemoAccount:
        return next(a for a in self.accounts if a.username == username)

    def describe(self) -> str:
        lines = [f"demo org: {len(self.regions)} regions, {len(self.stores)} stores, {self.customers} customers",
                 "accounts (username / password / role / stores):"]
        names = {v: self.store_names[k] for k, v in self.stores.items()}
        for a in self.accounts:
            stores = ",".join(names.get(s, s) for s in a.store_ids) or "-"
            lines.append(f"  {a.username:<16} {a.password:<16} {a.role:<15} {stores}  ({a.display_name})")
        return "\n".join(lines)


class _Book:
    """Rows of one store written at one new version with HQ stamps, like one push from HQ."""

    def __init__(self, session: Session, store: Store) -> None:
        self.session = session
        self.store = store
        store.version += 1
        self.version = store.version

    def add(self, entity: str, row_id: str, data: dict[str, Any]) -> None:
        stamp = HQ_CLOCK.tick()
        self.session.add(
            SyncRow(
                entity=entity,
                id=row_id,
                store_id=self.store.id,
                version=self.version,
                data=data,
                hlc=dict.fromkeys(data, stamp),
                deleted_hlc=None,
                phone=str(data.get("phone") or "") if entity == "customer" else "",
                customer_id=str(data.get("customer_id") or ""),
                merged_into=None,
            )
        )


def _phone(fake: Faker, used: set[str]) -> str:
    for _ in range(50):
        try:
            phone = normalize_phone(fake.phone_number())
        except UserError:
            continue
        if phone not in used:
            used.add(phone)
            return phone
    return ""


def seed_demo(session: Session, *, customers_per_store: int = 200, seed: int = 7, now_ms: int | None = None) -> DemoSummary:
    if session.scalar(select(Region).where(Region.name.in_([r for r, _ in DEMO_ORG]))) is not None:
        raise org.OrgError("the demo org is already there (its regions exist)")
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    rnd = random.Random(seed)
    now = now_ms if now_ms is not None else org.now_ms()
    summary = DemoSummary()
    admin = org.create_account(session, username="hq.admin", password=DEMO_PASSWORD, role="hq_admin",
                               display_name="总部管理员")
    summary.accounts.append(DemoAccount(admin.username, DEMO_PASSWORD, "hq_admin", admin.display_name, []))
    guides_by_store: dict[str, list[str]] = {}
    for region_name, stores in DEMO_ORG:
        region = org.create_region(session, region_name)
        summary.regions[region_name] = region.id
        for code, name in stores:
            store = org.create_store(session, name, region.id)
            summary.stores[code] = store.id
            summary.store_names[code] = name
            manager = org.create_account(session, username=f"{code}.manager", password=DEMO_PASSWORD,
                                         role="store_manager", display_name=f"{fake.name()}（店长）",
                                         store_refs=[store.id])
            summary.accounts.append(DemoAccount(manager.username, DEMO_PASSWORD, "store_manager",
                                                manager.display_name, [store.id]))
            guides_by_store[store.id] = [manager.id]
            for i in range(1, 4):
                guide = org.create_account(session, username=f"{code}.guide{i}", password=DEMO_PASSWORD,
                                           role="guide", display_name=fake.name(), store_refs=[store.id])
                summary.accounts.append(DemoAccount(guide.username, DEMO_PASSWORD, "guide", guide.display_name,
                                                    [store.id]))
                guides_by_store[store.id].append(guide.id)
        rm = org.create_account(session, username=f"{REGION_CODES[region_name]}.manager", password=DEMO_PASSWORD,
                                role="region_manager", display_name=f"{fake.name()}（区域经理）",
                                region_ref=region.id)
        summary.accounts.append(DemoAccount(rm.username, DEMO_PASSWORD, "region_manager", rm.display_name,
                                            org.account_store_ids(session, rm)))
    # a guide who works in two stores (enrolls a PC into one of them at a time)
    two = [summary.stores["sh01"], summary.stores["hz01"]]
    floater = org.create_account(session, username="floater.guide", password=DEMO_PASSWORD, role="guide",
                                 display_name=fake.name(), store_refs=two)
    summary.accounts.append(DemoAccount(floater.username, DEMO_PASSWORD, "guide", floater.display_name, two))
    for store_id in two:
        guides_by_store[store_id].append(floater.id)

    for store_id, guide_ids in guides_by_store.items():
        book_store = session.get(Store, store_id)
        assert book_store is not None
        summary.customers += _seed_book(session, book_store, guide_ids, customers_per_store, fake, rnd, now)
    return summary


def _seed_book(session: Session, store: Store, guide_ids: list[str], count: int, fake: Faker,
               rnd: random.Random, now: int) -> int:
    book = _Book(session, store)
    tags: list[tuple[str, bool, list[str]]] = []
    for order, (group_name, color, multi, names) in enumerate(TAG_GROUPS):
        group_id = uuid7(now - 400 * DAY_MS)
        book.add("tag_group", group_id, {"store_id": store.id, "scope": "store", "owner_guide_id": "",
                                         "name": group_name, "color": color, "sort_order": order, "multi": multi})
        tag_ids = []
        for t_order, tag_name in enumerate(names):
            tag_id = uuid7(now - 400 * DAY_MS)
            book.add("tag", tag_id, {"group_id": group_id, "name": tag_name, "sort_order": t_order})
            tag_ids.append(tag_id)
        tags.append((group_id, multi, tag_ids))
    used: set[str] = set()
    for _ in range(count):
        created = now - rnd.randint(0, 720) * DAY_MS - rnd.randint(0, DAY_MS)
        customer_id = uuid7(created)
        owner = rnd.choice(guide_ids)
        consent = lambda: rnd.choices(["unknown", "granted", "opted_out"], [3, 6, 1])[0]  # noqa: E731
        book.add("customer", customer_id, {
            "store_id": store.id,
            "name": fake.name(),
            "phone": _phone(fake, used) if rnd.random() < 0.95 else "",
            "wechat_id": fake.user_name() if rnd.random() < 0.6 else "",
            "gender": rnd.choices(["female", "male", ""], [6, 3, 1])[0],
            "birthday": fake.date_of_birth(minimum_age=18, maximum_age=70).isoformat() if rnd.random() < 0.7 else "",
            "source": rnd.choice(SOURCES),
            "owner_guide_id": owner,
            "stage": "",
            "preferences": "、".join(rnd.sample(ITEMS, 2)) if rnd.random() < 0.5 else "",
            "sizes": rnd.choice(["S", "M", "L", "XL", "160/84A", "165/88A", ""]),
            "notes": fake.sentence() if rnd.random() < 0.3 else "",
            "consent_phone": consent(),
            "consent_sms": consent(),
            "consent_wechat": consent(),
            "created_at": created,
            "merged_into": None,
        })
        for _group_id, multi, tag_ids in tags:
            chosen = rnd.sample(tag_ids, rnd.randint(0, 2) if multi else rnd.randint(0, 1))
            for tag_id in chosen:
                book.add("customer_tag", pair_id(customer_id, tag_id), {
                    "store_id": store.id, "customer_id": customer_id, "tag_id": tag_id,
                    "added_hlc": HQ_CLOCK.tick(), "removed_hlc": None,
                })
        for _ in range(rnd.randint(0, 3)):
            at = rnd.randint(created, now)
            book.add("purchase", uuid7(at), {
                "store_id": store.id, "customer_id": customer_id, "guide_id": owner,
                "amount_cents": rnd.randint(99, 3999) * 100, "items": "、".join(rnd.sample(ITEMS, rnd.randint(1, 3))),
                "at": at, "origin": "guide",
            })
        for _ in range(rnd.randint(0, 2)):
            at = rnd.randint(created, now)
            kind = rnd.choice(FOLLOW_UP_KINDS)
            next_day = (at + rnd.randint(1, 30) * DAY_MS) // 1000
            book.add("follow_up", uuid7(at), {
                "store_id": store.id, "customer_id": customer_id, "guide_id": owner, "kind": kind,
                "note": fake.sentence(), "at": at,
                "next_at": dt.datetime.fromtimestamp(next_day, dt.UTC).date().isoformat() if rnd.random() < 0.4 else "",
                "done": rnd.random() < 0.5,
            })
    return count
