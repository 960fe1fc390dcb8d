"""The org: regions → stores → accounts, who may see which store, and the org payload a pull carries.

Admin changes that a store's PCs must learn (a guide added, renamed, disabled) bump that store's
version and mark ``org_version``, so the next pull of that store carries the org again.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from guide_app.domain.ids import uuid7
from guide_app.sync.protocol import AccountInfo, StoreInfo
from hq.models import Account, AccountStore, AuthSession, Device, OrgSetting, Region, Store
from hq.security import hash_password

ROLES = ("guide", "store_manager", "region_manager", "hq_admin")


class OrgError(ValueError):
    """A refused admin operation, with a message for the operator."""


def now_ms() -> int:
    return int(time.time() * 1000)


def account_store_ids(session: Session, account: Account) -> list[str]:
    """Every store the account may see: its own stores, the stores of its region, or all (HQ)."""
    if account.role == "hq_admin":
        return list(session.scalars(select(Store.id).order_by(Store.name)))
    ids = set(session.scalars(select(AccountStore.store_id).where(AccountStore.account_id == account.id)))
    if account.role == "region_manager" and account.region_id:
        ids.update(session.scalars(select(Store.id).where(Store.region_id == account.region_id)))
    return sorted(ids)


def may_access_store(session: Session, account: Account, store_id: str) -> bool:
    if account.role == "hq_admin":
        return session.get(Store, store_id) is not None
    if session.get(AccountStore, (account.id, store_id)) is not None:
        return True
    if account.role == "region_manager" and account.region_id:
        store = session.get(Store, store_id)
        return store is not None and store.region_id == account.region_id
    return False


def store_info(session: Session, store: Store) -> StoreInfo:
    region = session.get(Region, store.region_id)
    return StoreInfo(id=store.id, name=store.name, region_id=store.region_id, region_name=region.name if region else "")


def account_info(session: Session, account: Account) -> AccountInfo:
    return AccountInfo(
        id=account.id,
        username=account.username,
        display_name=account.display_name,
        role=account.role,  # type: ignore[arg-type]
        store_ids=account_store_ids(session, account),
    )


def store_members(session: Session, store_id: str) -> list[Account]:
    return list(
        session.scalars(
            select(Account)
            .join(AccountStore, AccountStore.account_id == Account.id)
            .where(AccountStore.store_id == store_id)
            .order_by(Account.display_name, Account.id)
        )
    )


def org_payload(session: Session, store: Store) -> dict[str, Any]:
    """What a store's PCs hold of the org: the store itself and its people (disabled ones inactive)."""
    guides = [
        {
            "id": a.id,
            "store_id": store.id,
            "name": a.display_name,
            "role": a.role,
            "active": a.disabled_at is None,
        }
        for a in store_members(session, store.id)
    ]
    return {
        "stores": [store_info(session, store).model_dump()],
        "guides": guides,
        "org_version": store.org_version,
        "export_daily_limit": export_daily_limit(session),
        "book_visibility": book_visibility(session, store.id),
    }


EXPORT_LIMIT_SETTING = "export_daily_limit"
DEFAULT_EXPORT_LIMIT = 2000


def export_daily_limit(session: Session) -> int:
    """How many customers one person may export per day on a PC (``hq admin set-export-limit``)."""
    value = session.scalar(select(OrgSetting.value).where(OrgSetting.name == EXPORT_LIMIT_SETTING))
    try:
        return max(0, int(value)) if value is not None else DEFAULT_EXPORT_LIMIT
    except ValueError:
        return DEFAULT_EXPORT_LIMIT


BOOK_VISIBILITY = ("store", "own")  # guides see the whole store's book, or only their own customers


def _book_setting(store_id: str) -> str:
    return f"bv:{store_id}"


def book_visibility(session: Session, store_id: str) -> str:
    value = session.scalar(select(OrgSetting.value).where(OrgSetting.name == _book_setting(store_id)))
    return value if value in BOOK_VISIBILITY else "store"


def set_book_visibility(session: Session, store_ref: str, value: str) -> Store:
    """What a store's guides see of its book (``hq admin set-book-visibility``); managers see it all."""
    if value not in BOOK_VISIBILITY:
        raise OrgError(f"book visibility must be one of {', '.join(BOOK_VISIBILITY)}")
    store = find_store(session, store_ref)
    row = session.get(OrgSetting, _book_setting(store.id))
    if row is None:
        session.add(OrgSetting(name=_book_setting(store.id), value=value))
    else:
        row.value = value
    mark_org_changed(session, [store.id])
    return store


def set_export_daily_limit(session: Session, limit: int) -> None:
    """Change the limit and bump every store's org version, so each PC pulls it on its next sync."""
    if limit < 0:
        raise OrgError("the export limit cannot be negative")
    row = session.get(OrgSetting, EXPORT_LIMIT_SETTING)
    if row is None:
        session.add(OrgSetting(name=EXPORT_LIMIT_SETTING, value=str(limit)))
    else:
        row.value = str(limit)
    mark_org_changed(session, session.scalars(select(Store.id)).all())


def mark_org_changed(session: Session, store_ids: Iterable[str]) -> None:
    """Bump each store's version (locked, like a push) so its PCs pull the org again."""
    for store_id in sorted(set(store_ids)):
        store = session.get(Store, store_id, with_for_update=True)
        if store is None:
            continue
        store.version += 1
        store.org_version = store.version


# --- admin operations (used by the CLI and by the demo seeder) ---------------------------------


def create_region(session: Session, name: str) -> Region:
    name = name.strip()
    if not name:
        raise OrgError("region name is empty")
    if session.scalar(select(Region).where(Region.name == name)) is not None:
        raise OrgError(f"region {name!r} already exists")
    region = Region(id=uuid7(), name=name, created_at=now_ms())
    session.add(region)
    session.flush()
    return region


def find_region(session: Session, ref: str) -> Region:
    region = session.get(Region, ref) or session.scalar(select(Region).where(Region.name == ref))
    if region is None:
        raise OrgError(f"no region {ref!r}")
    return region


def create_store(session: Session, name: str, region_ref: str) -> Store:
    name = name.strip()
    if not name:
        raise OrgError("store name is empty")
    region = find_region(session, region_ref)
    if session.scalar(select(Store).where(Store.name == name)) is not None:
        raise OrgError(f"store {name!r} already exists")
    store = Store(id=uuid7(), region_id=region.id, name=name, version=0, org_version=0, created_at=now_ms())
    session.add(store)
    session.flush()
    from hq.corp import copy_to_store  # corp imports org; the late import keeps the cycle out

    copy_to_store(session, store)
    return store


def find_store(session: Session, ref: str) -> Store:
    store = session.get(Store, ref) or session.scalar(select(Store).where(Store.name == ref))
    if store is None:
        raise OrgError(f"no store {ref!r}")
    return store


def find_account(session: Session, ref: str) -> Account:
    account = session.scalar(select(Account).where(Account.username == ref)) or session.get(Account, ref)
    if account is None:
        raise OrgError(f"no account {ref!r}")
    return account


def create_account(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    display_name: str = "",
    store_refs: Iterable[str] = (),
    region_ref: str | None = None,
) -> Account:
    username = username.strip()
    if not username or len(username) > 64:
        raise OrgError("username must be 1-64 characters")
    if role not in ROLES:
        raise OrgError(f"role must be one of {', '.join(ROLES)}")
    if len(password) < 8:
        raise OrgError("password must have at least 8 characters")
    if session.scalar(select(Account).where(Account.username == username)) is not None:
        raise OrgError(f"account {username!r} already exists")
    stores = [find_store(session, ref) for ref in store_refs]
    if role in ("guide", "store_manager") and not stores:
        raise OrgError(f"a {role} needs at least one store")
    region = find_region(session, region_ref) if region_ref else None
    if role == "region_manager" and region is None:
        raise OrgError("a region_manager needs a region")
    account = Account(
        id=uuid7(),
        username=username,
        display_name=(display_name or username).strip()[:60],
        role=role,
        region_id=region.id if region else None,
        password_hash=hash_password(password),
        created_at=now_ms(),
    )
    session.add(account)
    session.flush()
    for store in stores:
        session.add(AccountStore(account_id=account.id, store_id=store.id))
    session.flush()
    mark_org_changed(session, (s.id for s in stores))
    return account


def set_password(session: Session, ref: str, password: str) -> Account:
    if len(password) < 8:
        raise OrgError("password must have at least 8 characters")
    account = find_account(session, ref)
    account.password_hash = hash_password(password)
    # a reset password signs the account out everywhere: its sessions (and refresh chains) end now
    session.execute(
        update(AuthSession)
        .where(AuthSession.account_id == account.id, AuthSession.revoked_at.is_(None))
        .values(revoked_at=now_ms(), revoked_reason="password_reset")
    )
    return account


def disable_account(session: Session, ref: str) -> Account:
    """Disabled accounts are refused on every call (401 account_disabled); their PCs learn it on pull."""
    account = find_account(session, ref)
    if account.disabled_at is None:
        account.disabled_at = now_ms()
        mark_org_changed(session, account_store_ids(session, account) if account.role != "hq_admin" else ())
    return account


def enable_account(session: Session, ref: str) -> Account:
    account = find_account(session, ref)
    if account.disabled_at is not None:
        account.disabled_at = None
        mark_org_changed(session, account_store_ids(session, account) if account.role != "hq_admin" else ())
    return account


def set_stores(session: Session, ref: str, store_refs: Iterable[str]) -> Account:
    """Replace a guide's or store manager's stores (a move or a second store). From the next call on,
    PCs of a store the account left refuse it (403 store_forbidden); every touched store's PCs get
    the new org on their next pull."""
    account = find_account(session, ref)
    if account.role not in ("guide", "store_manager"):
        raise OrgError("only guides and store managers belong to stores; region managers follow their region")
    stores = {find_store(session, r).id for r in store_refs}
    if not stores:
        raise OrgError("give at least one --store")
    current = set(session.scalars(select(AccountStore.store_id).where(AccountStore.account_id == account.id)))
    for store_id in current - stores:
        link = session.get(AccountStore, (account.id, store_id))
        if link is not None:
            session.delete(link)
    for store_id in stores - current:
        session.add(AccountStore(account_id=account.id, store_id=store_id))
    session.flush()
    mark_org_changed(session, current ^ stores)
    return account


def revoke_device(session: Session, device_id: str) -> Device:
    device = session.get(Device, device_id)
    if device is None:
        raise OrgError(f"no device {device_id!r}")
    if device.revoked_at is None:
        device.revoked_at = now_ms()
    return device
