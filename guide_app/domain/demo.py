"""Demo data: a realistic cosmetics retail org and a store's customer book, generated deterministically.

Pure (no SQL, no Qt): the client's demo seeding and HQ's demo org both consume these plain
dataclasses. The same seed gives the same org and book, ids included, so screenshots and
benchmarks are repeatable. Names come from Faker's zh_CN data; phone numbers are valid CN mobiles
(checked with phonenumbers) and unique within a store.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
import uuid
from dataclasses import dataclass, field

import phonenumbers
from faker import Faker
from faker.providers.person.zh_CN import Provider as ZhPerson

from guide_app.domain.pinyin_keys import pinyin_keys

DAY_MS = 86_400_000
_CN = dt.timezone(dt.timedelta(hours=8))  # the book's calendar days
# mobile number blocks in everyday use (virtual-operator and IoT blocks left out)
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153", "155", "156",
    "157", "158", "159", "166", "176", "177", "178", "180", "181", "182", "183", "185", "186", "187", "188",
    "189", "191", "198", "199",
)
REGIONS = ("华东区", "华南区", "华北区", "西南区", "华中区")
MALLS = ("万象城", "大悦城", "银泰百货", "万达广场", "太古汇", "来福士", "恒隆广场", "IFS 国金中心")
SOURCES = ("门店自然到店", "活码-朋友圈", "活码-门店海报", "包裹卡", "老带新", "直播间", "导购邀约")
PREFERENCES = (
    "偏爱清爽质地，不喜欢香味太浓", "敏感肌，只用无酒精产品", "喜欢玫瑰和白茶香调", "关注抗老和修护", "每季度囤一次面膜",
    "喜欢限定包装，收藏口红", "爱试新品，愿意参加试用活动", "送礼为主，常买礼盒", "注重性价比，等会员日再买", "喜欢哑光妆效",
)
SIZES = ("鞋 36 / 上衣 S", "鞋 37 / 上衣 M", "鞋 38 / 上衣 M", "鞋 39 / 上衣 L", "戒指 12 号", "")
PRODUCTS = (
    ("保湿精华 30ml", 580), ("修护面霜 50g", 760), ("洁面乳 120ml", 220), ("防晒乳 SPF50", 320), ("眼霜 15ml", 690),
    ("丝绒口红", 320), ("气垫粉底", 450), ("眼影盘", 520), ("淡香水 50ml", 980), ("香氛蜡烛", 420),
    ("身体乳 200ml", 260), ("护手霜礼盒", 288), ("面膜 10 片", 399), ("男士控油套装", 468), ("卸妆油 150ml", 280),
)
FOLLOW_UP_NOTES = {
    "call": ("电话回访，精华用着不错，下周来店补货", "提醒会员日活动，客户说周末过来", "回访面霜使用感受，反馈略油，建议晚上用"),
    "message": ("发了新品试用邀请，客户已回复", "微信发送七夕礼盒图片，客户感兴趣", "生日祝福已发送，附专属优惠"),
    "visit": ("到店试了三款香水，最喜欢白茶", "陪同朋友到店，介绍了老带新活动", "到店取货，顺便做了肤质检测"),
    "note": ("客户不喜欢电话打扰，优先微信联系", "下月出差，回来后再约", "对价格比较敏感，等活动再推"),
}
CORP_GROUPS = (
    ("客户等级", "#c9a227", False, ("普通", "银卡", "金卡", "钻石")),
    ("兴趣偏好", "#e91e63", True, ("护肤", "彩妆", "香水", "身体护理", "男士护理", "礼盒送礼")),
    ("来源渠道", "#3f51b5", False, ("到店", "活码", "包裹卡", "老带新", "直播")),
)
STORE_GROUPS = (
    ("门店活动", "#009688", True, ("会员日", "七夕活动", "新品试用", "周年庆")),
    ("服务关注", "#ff7043", True, ("敏感肌", "需要回访", "不接电话")),
)
PERSONAL_GROUP = ("我的重点客户", "#8e24aa", True, ("重点跟进", "潜力大客户"))
_LEVEL_WEIGHTS = (60, 25, 12, 3)
_SOURCE_FOR = {"门店自然到店": "到店", "活码-朋友圈": "活码", "活码-门店海报": "活码", "包裹卡": "包裹卡",
               "老带新": "老带新", "直播间": "直播", "导购邀约": "到店"}


@dataclass(frozen=True)
class DemoStore:
    id: str
    name: str
    region_id: str
    region_name: str


@dataclass(frozen=True)
class DemoGuide:
    id: str
    store_id: str
    name: str
    role: str  # guide | store_manager | region_manager


@dataclass(frozen=True)
class DemoTag:
    id: str
    group_id: str
    name: str
    sort_order: int


@dataclass(frozen=True)
class DemoTagGroup:
    id: str
    scope: str  # corp | store | personal
    store_id: str  # "" for corp
    owner_guide_id: str  # personal groups only
    name: str
    color: str
    multi: bool
    sort_order: int
    tags: tuple[DemoTag, ...]


@dataclass(frozen=True)
class DemoOrg:
    stores: tuple[DemoStore, ...]
    guides: tuple[DemoGuide, ...]
    corp_groups: tuple[DemoTagGroup, ...]

    def guides_of(self, store_id: str) -> list[DemoGuide]:
        return [g for g in self.guides if g.store_id == store_id]

    def regions(self) -> list[tuple[str, str]]:
        """(region id, region name) in order of first appearance."""
        return list(dict.fromkeys((s.region_id, s.region_name) for s in self.stores))


@dataclass(frozen=True)
class DemoCustomer:
    id: str
    store_id: str
    owner_guide_id: str
    name: str
    phone: str  # E.164
    wechat_id: str
    gender: str
    birthday: str
    source: str
    preferences: str
    sizes: str
    notes: str
    consent_phone: str
    consent_sms: str
    consent_wechat: str
    created_at: int


@dataclass(frozen=True)
class DemoPurchase:
    id: str
    customer_id: str
    guide_id: str
    amount_cents: int
    items: str
    at: int


@dataclass(frozen=True)
class DemoFollowUp:
    id: str
    customer_id: str
    guide_id: str
    kind: str
    note: str
    at: int
    next_at: str  # YYYY-MM-DD or ""
    done: bool


@dataclass
class DemoBook:
    store_id: str
    groups: tuple[DemoTagGroup, ...]  # the store's own and personal groups (corp ones are in the org)
    customers: list[DemoCustomer] = field(default_factory=list)
    assignments: list[tuple[str, str]] = field(default_factory=list)  # (customer_id, tag_id)
    purchases: list[DemoPurchase] = field(default_factory=list)
    follow_ups: list[DemoFollowUp] = field(default_factory=list)


def _uuid7(rng: random.Random, ms: int) -> str:
    """UUIDv7 layout with the randomness drawn from ``rng``, so ids repeat with the seed."""
    rand = rng.getrandbits(74)
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (rand >> 62 & 0xFFF) << 64 | 0b10 << 62 | (rand & ((1 << 62) - 1))
    return str(uuid.UUID(int=value))


def _faker(seed: int) -> Faker:
    fake = Faker("zh_CN")
    fake.seed_instance(seed)
    return fake


def _groups(rng: random.Random, ms: int, specs: tuple[tuple[str, str, bool, tuple[str, ...]], ...], scope: str,
            store_id: str, owner: str = "", first_order: int = 0) -> tuple[DemoTagGroup, ...]:
    out = []
    for order, (name, color, multi, tags) in enumerate(specs, start=first_order):
        gid = _uuid7(rng, ms)
        out.append(DemoTagGroup(gid, scope, store_id, owner, name, color, multi, order,
                                tuple(DemoTag(_uuid7(rng, ms), gid, t, i) for i, t in enumerate(tags))))
    return tuple(out)


def generate_org(seed: int = 2026, *, regions: int = 2, stores_per_region: int = 3, guides_per_store: int = 5,
                 now_ms: int = 1_767_225_600_000) -> DemoOrg:
    """Regions of stores named after malls in real cities, each with a manager and guides, plus the
    corp tag groups HQ hands every store."""
    rng = random.Random(seed)
    fake = _faker(seed)
    born = now_ms - 730 * DAY_MS
    stores: list[DemoStore] = []
    guides: list[DemoGuide] = []
    used_names: set[str] = set()
    cities = list(dict.fromkeys(fake.city_name() for _ in range(60)))
    for r in range(regions):
        region_id = _uuid7(rng, born)
        region_name = REGIONS[r % len(REGIONS)] + ("" if r < len(REGIONS) else str(r // len(REGIONS) + 1))
        for _s in range(stores_per_region):
            city = cities[len(stores) % len(cities)]
            name = f"{city}{MALLS[len(stores) % len(MALLS)]}店"
            store = DemoStore(_uuid7(rng, born), name, region_id, region_name)
            stores.append(store)
            for g in range(guides_per_store):
                person = fake.name()
                while person in used_names:
                    person = fake.name()
                used_names.add(person)
                guides.append(DemoGuide(_uuid7(rng, born), store.id, person, "store_manager" if g == 0 else "guide"))
    return DemoOrg(tuple(stores), tuple(guides), _groups(rng, born, CORP_GROUPS, "corp", ""))


class _Names:
    """Fast weighted Chinese names from Faker's zh_CN tables (Faker calls cost ~30 µs each)."""

    def __init__(self) -> None:
        last = list(ZhPerson.last_names.items())
        self.surnames = [s for s, _w in last]
        self.cum = list(itertools.accumulate(w for _s, w in last))

    def name(self, rng: random.Random, gender: str) -> str:
        surname = self.surnames[bisect.bisect(self.cum, rng.random() * self.cum[-1])]
        pool = ZhPerson.first_names_female if gender == "female" else ZhPerson.first_names_male
        given = rng.choice(pool)
        if len(given) == 1 and rng.random() < 0.55:
            given += rng.choice(pool)[0]
        return surname + given[:2]


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        national = rng.choice(MOBILE_PREFIXES) + f"{rng.randrange(10**8):08d}"
        e164 = "+86" + national
        if e164 in used:
            continue
        if phonenumbers.is_valid_number(phonenumbers.PhoneNumber(country_code=86, national_number=int(national))):
            used.add(e164)
            return e164


def _wechat(rng: random.Random, name: str) -> str:
    roll = rng.random()
    if roll < 0.35:
        return ""
    if roll < 0.7:  # many people use their pinyin plus a number
        full = pinyin_keys(name)[0].split(" ")[0]
        return f"{full}{rng.randrange(1, 9999)}"
    return "wxid_" + "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(10))


def _reminder(rng: random.Random, today: dt.date, done_rate: float) -> tuple[str, bool]:
    roll = rng.random()
    if roll < 0.45:
        return "", False
    if roll < 0.6:
        day = today  # due today
    elif roll < 0.75:
        day = today - dt.timedelta(days=rng.randrange(1, 10))  # overdue
    else:
        day = today + dt.timedelta(days=rng.randrange(1, 30))
    return day.isoformat(), day < today and rng.random() < done_rate


def generate_book(org: DemoOrg, store_id: str, *, customers: int = 300, seed: int = 2026,
                  now_ms: int = 1_767_225_600_000, today: dt.date | None = None, assignments: int = 0,
                  follow_ups: int = 0) -> DemoBook:
    """A store's book: customers with tags (about three each), purchases and follow-ups, some of
    whose reminders fall due ``today`` (by default the calendar day of ``now_ms`` in UTC+8).

    ``assignments`` / ``follow_ups``: totals to top the book up to (a book in use for years, e.g. the
    client-at-scale benchmark's 200k customers with 1M tags and 500k follow-ups); the rows below
    those totals are the same as without them."""
    rng = random.Random(f"{seed}:{store_id}")
    day = today or dt.datetime.fromtimestamp(now_ms / 1000, _CN).date()
    guides = org.guides_of(store_id)
    if not guides:
        raise ValueError(f"store {store_id!r} has no guides in this org")
    manager = guides[0]
    store_groups = _groups(rng, now_ms - 700 * DAY_MS, STORE_GROUPS, "store", store_id, first_order=0)
    personal = _groups(rng, now_ms - 700 * DAY_MS, (PERSONAL_GROUP,), "personal", store_id, owner=manager.id)
    book = DemoBook(store_id, store_groups + personal)
    corp = {g.name: g for g in org.corp_groups}
    level_tags = corp["客户等级"].tags if "客户等级" in corp else ()
    interest_tags = corp["兴趣偏好"].tags if "兴趣偏好" in corp else ()
    source_tags = {t.name: t for t in corp["来源渠道"].tags} if "来源渠道" in corp else {}
    activity_tags = store_groups[0].tags
    care_tags = store_groups[1].tags
    names = _Names()
    phones: set[str] = set()
    for _ in range(customers):
        gender = rng.choices(("female", "male", ""), (78, 18, 4))[0]
        name = names.name(rng, gender or "female")
        created = now_ms - int(rng.triangular(0, 720, 30) * DAY_MS) - rng.randrange(DAY_MS)
        cid = _uuid7(rng, created)
        owner = rng.choice(guides)
        birthday = ""
        if rng.random() < 0.6:
            birthday = dt.date(rng.randrange(1965, 2005), rng.randrange(1, 13), rng.randrange(1, 29)).isoformat()
        source = rng.choice(SOURCES)
        consent = rng.choices(("granted", "unknown", "opted_out"), (70, 25, 5), k=3)
        book.customers.append(DemoCustomer(
            id=cid, store_id=store_id, owner_guide_id=owner.id, name=name, phone=_phone(rng, phones),
            wechat_id=_wechat(rng, name), gender=gender, birthday=birthday, source=source,
            preferences=rng.choice(PREFERENCES) if rng.random() < 0.5 else "",
            sizes=rng.choice(SIZES) if rng.random() < 0.3 else "", notes="",
            consent_phone=consent[0], consent_sms=consent[1], consent_wechat=consent[2], created_at=created,
        ))
        if level_tags:
            book.assignments.append((cid, rng.choices(level_tags, _LEVEL_WEIGHTS[:len(level_tags)])[0].id))
        if source_tags and _SOURCE_FOR[source] in source_tags:
            book.assignments.append((cid, source_tags[_SOURCE_FOR[source]].id))
        for t in rng.sample(interest_tags, k=min(len(interest_tags), rng.choices((0, 1, 2), (30, 45, 25))[0])):
            book.assignments.append((cid, t.id))
        if rng.random() < 0.06:
            book.assignments.append((cid, rng.choice(activity_tags).id))
        if rng.random() < 0.04:
            book.assignments.append((cid, rng.choice(care_tags).id))
        # purchases: a third never bought; the rest 1-6 times since they were added
        n_orders = rng.choices((0, 1, 2, 3, 4, 6), (33, 25, 17, 12, 8, 5))[0]
        for _o in range(n_orders):
            at = rng.randrange(created, now_ms) if now_ms > created + 1 else now_ms
            basket = rng.sample(PRODUCTS, k=rng.choices((1, 2, 3), (60, 30, 10))[0])
            cents = sum(price for _p, price in basket) * 100
            if rng.random() < 0.3:
                cents = cents * 9 // 10  # member discount
            book.purchases.append(DemoPurchase(_uuid7(rng, at), cid, owner.id, cents,
                                               "、".join(f"{p} ×1" for p, _price in basket), at))
        for _f in range(rng.choices((0, 1, 2, 3), (55, 28, 12, 5))[0]):
            kind = rng.choices(("call", "message", "visit", "note"), (30, 40, 20, 10))[0]
            at = rng.randrange(created, now_ms) if now_ms > created + 1 else now_ms
            next_at, done = _reminder(rng, day, 0.6)
            book.follow_ups.append(DemoFollowUp(_uuid7(rng, at), cid, owner.id, kind,
                                                rng.choice(FOLLOW_UP_NOTES[kind]), at, next_at, done))
    extra = random.Random(f"{seed}:{store_id}:more")  # its own stream: the book above stays as it was
    _more_assignments(extra, book, [g for g in (*org.corp_groups, *book.groups) if g.multi], assignments)
    _more_follow_ups(extra, book, day, now_ms, follow_ups)
    return book


def _more_assignments(rng: random.Random, book: DemoBook, groups: list[DemoTagGroup], total: int) -> None:
    """Tags of multi-choice groups (a second level or source would break single choice) on random
    customers until the book holds ``total`` assignments; never the same pair twice."""
    pool = [t.id for g in groups for t in g.tags]
    if not pool or not book.customers:
        return
    held = set(book.assignments)
    in_pool = set(pool)
    free = len(book.customers) * len(pool) - sum(1 for _c, t in held if t in in_pool)
    want = min(total, len(held) + free)  # at most every customer with every multi-choice tag
    while len(book.assignments) < want:
        pair = (rng.choice(book.customers).id, rng.choice(pool))
        if pair not in held:
            held.add(pair)
            book.assignments.append(pair)


def _more_follow_ups(rng: random.Random, book: DemoBook, today: dt.date, now_ms: int, total: int) -> None:
    """Follow-ups on random customers (by their owner, after they were added) up to ``total``: over a
    book's years, about half set a reminder 1-30 days after the contact; of those already due, nine
    in ten were done (the rest stay overdue), the ones still ahead are open."""
    while len(book.follow_ups) < total and book.customers:
        c = rng.choice(book.customers)
        kind = rng.choices(("call", "message", "visit", "note"), (30, 40, 20, 10))[0]
        at = rng.randrange(c.created_at, now_ms) if now_ms > c.created_at + 1 else now_ms
        next_at, done = "", False
        if rng.random() < 0.5:
            due = dt.datetime.fromtimestamp(at / 1000, _CN).date() + dt.timedelta(days=rng.randrange(1, 31))
            next_at, done = due.isoformat(), due < today and rng.random() < 0.9
        book.follow_ups.append(DemoFollowUp(_uuid7(rng, at), c.id, c.owner_guide_id, kind,
                                            rng.choice(FOLLOW_UP_NOTES[kind]), at, next_at, done))
