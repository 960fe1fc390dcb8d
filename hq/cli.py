"""``hq``: run the service (``hq serve``), migrate its database, and administer the org (``hq admin …``)."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from hq import config, org, pack_cli
from hq.db import Database, upgrade
from hq.models import Account, AccountStore, Device, DeviceMutation, Region, Store


def _add_db(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", default=os.environ.get("GUIDE_HQ_DB", config.DEFAULT_DB_URL),
                   help="SQLAlchemy URL: sqlite:///hq.sqlite3 (default) or postgresql+psycopg://user:pw@host/db")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hq", description="Guide Desk HQ service")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP service (uvicorn)")
    _add_db(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8700)
    serve.add_argument("--workers", type=int, default=1, help="worker processes (they share only the database)")
    serve.add_argument("--log-level", default="info")
    serve.add_argument("--keep-alive", type=float, default=75.0,
                       help="seconds an idle keep-alive connection stays open; keep it above the idle timeout of the "
                            "balancer or clients in front (uvicorn's 5 s made busy workers close connections as a "
                            "request arrived on them: the client got a disconnect instead of an answer)")
    serve.add_argument("--forwarded-allow-ips", default="127.0.0.1",
                       help="load balancers whose X-Forwarded-For is trusted (login limits count per client address)")

    migrate = sub.add_parser("migrate", help="bring the database schema to the latest version")
    _add_db(migrate)

    admin = sub.add_parser("admin", help="administer the org")
    asub = admin.add_subparsers(dest="admin_command", required=True)

    p = asub.add_parser("create-region", help="add a region")
    _add_db(p)
    p.add_argument("name")

    p = asub.add_parser("create-store", help="add a store to a region")
    _add_db(p)
    p.add_argument("name")
    p.add_argument("--region", required=True, help="region name or id")

    p = asub.add_parser("create-account", help="add a guide, manager or HQ admin")
    _add_db(p)
    p.add_argument("username")
    p.add_argument("--role", required=True, choices=org.ROLES)
    p.add_argument("--name", default="", help="display name (default: the username)")
    p.add_argument("--store", action="append", default=[], dest="stores",
                   help="store name or id; repeat for a guide of several stores")
    p.add_argument("--region", default=None, help="region of a region_manager")
    p.add_argument("--password", default=None, help="initial password (prompted when omitted)")

    p = asub.add_parser("set-password", help="set an account's password")
    _add_db(p)
    p.add_argument("username")
    p.add_argument("--password", default=None, help="new password (prompted when omitted)")

    for name, text in (("list-regions", "list regions"), ("list-stores", "list stores"),
                       ("list-accounts", "list accounts"), ("list-devices", "list enrolled devices")):
        p = asub.add_parser(name, help=text)
        _add_db(p)

    p = asub.add_parser("list-audit", help="who revealed, exported, transferred, erased or recorded consent for what")
    _add_db(p)
    p.add_argument("--store", default=None, help="store name or id")
    p.add_argument("--action", default=None)
    p.add_argument("--limit", type=int, default=50)

    p = asub.add_parser("list-rejected", help="mutations HQ refused, with the reason each PC was told")
    _add_db(p)
    p.add_argument("--device", default=None, help="only this device")
    p.add_argument("--limit", type=int, default=50)

    p = asub.add_parser("revoke-device", help="refuse a PC on every call from now on")
    _add_db(p)
    p.add_argument("device_id")

    p = asub.add_parser("disable-account", help="refuse an account on every call from now on")
    _add_db(p)
    p.add_argument("username")

    p = asub.add_parser("enable-account", help="let a disabled account sign in again")
    _add_db(p)
    p.add_argument("username")

    p = asub.add_parser("set-export-limit", help="customers one person may export per day on a PC")
    _add_db(p)
    p.add_argument("limit", type=int)

    p = asub.add_parser("set-time-zone", help="the time zone leaderboard days are counted in (default Asia/Shanghai)")
    _add_db(p)
    p.add_argument("zone", help="an IANA name such as Asia/Shanghai")

    p = asub.add_parser("set-book-visibility", help="whether a store's guides see its whole book or only their own")
    _add_db(p)
    p.add_argument("store", help="store name or id")
    p.add_argument("visibility", choices=org.BOOK_VISIBILITY)

    p = asub.add_parser("set-stores", help="replace the stores a guide or store manager works in")
    _add_db(p)
    p.add_argument("username")
    p.add_argument("--store", action="append", default=[], dest="stores", required=True,
                   help="store name or id; repeat for several")

    p = asub.add_parser("seed-demo", help="fill a demo org and a demo customer book per store")
    _add_db(p)
    p.add_argument("--customers", type=int, default=200, help="customers per store")
    p.add_argument("--seed", type=int, default=2026)
    p.add_argument("--no-campaign", action="store_true", help="leave out the running demo campaign pack")

    p = asub.add_parser("seed-demo-campaign",
                        help="publish the demo campaign pack again when its window has passed (else nothing)")
    _add_db(p)

    p = asub.add_parser("create-corp-tag-group", help="add a corp tag group (read-only in every store)")
    _add_db(p)
    p.add_argument("name")
    p.add_argument("--tag", action="append", default=[], dest="tags", required=True, help="repeat for each tag")
    p.add_argument("--color", default="#607d8b")
    p.add_argument("--single", action="store_true", help="a customer gets at most one tag of the group")

    pack_cli.add_parser(sub, _add_db)
    return parser


def _password(given: str | None) -> str:
    if given is not None:
        return given
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat password: "):
        raise org.OrgError("the two passwords differ")
    return first


def _print_rows(rows: Sequence[Sequence[object]]) -> None:
    for row in rows:
        print("\t".join("" if v is None else str(v) for v in row))


def _admin(args: argparse.Namespace, session: Session) -> None:
    cmd = args.admin_command
    if cmd == "create-region":
        region = org.create_region(session, args.name)
        print(f"region {region.name} {region.id}")
    elif cmd == "create-store":
        store = org.create_store(session, args.name, args.region)
        print(f"store {store.name} {store.id}")
    elif cmd == "create-account":
        account = org.create_account(
            session,
            username=args.username,
            password=_password(args.password),
            role=args.role,
            display_name=args.name,
            store_refs=args.stores,
            region_ref=args.region,
        )
        print(f"account {account.username} {account.id} ({account.role})")
    elif cmd == "set-password":
        account = org.set_password(session, args.username, _password(args.password))
        print(f"password set for {account.username}")
    elif cmd == "list-regions":
        _print_rows([(r.id, r.name) for r in session.scalars(select(Region).order_by(Region.name))])
    elif cmd == "list-stores":
        regions = {r.id: r.name for r in session.scalars(select(Region))}
        _print_rows([(s.id, s.name, regions.get(s.region_id, ""), f"v{s.version}")
                     for s in session.scalars(select(Store).order_by(Store.name))])
    elif cmd == "list-accounts":
        stores = {s.id: s.name for s in session.scalars(select(Store))}
        member: dict[str, list[str]] = {}
        for link in session.scalars(select(AccountStore)):
            member.setdefault(link.account_id, []).append(stores.get(link.store_id, link.store_id))
        _print_rows([(a.id, a.username, a.display_name, a.role, ",".join(sorted(member.get(a.id, []))),
                      "disabled" if a.disabled_at else "active")
                     for a in session.scalars(select(Account).order_by(Account.username))])
    elif cmd == "list-devices":
        _print_rows([(d.id, d.name, d.store_id, f"last_seq={d.last_seq}", "revoked" if d.revoked_at else "active")
                     for d in session.scalars(select(Device).order_by(Device.enrolled_at))])
    elif cmd == "list-audit":
        from hq.audit import audit_entries

        store_id = org.find_store(session, args.store).id if args.store else None
        _print_rows([(e.at, e.store, e.actor, e.action, e.target, json.dumps(e.detail, ensure_ascii=False))
                     for e in audit_entries(session, store_id=store_id, action=args.action, limit=args.limit)])
    elif cmd == "list-rejected":
        query = select(DeviceMutation).where(DeviceMutation.status == "rejected")
        if args.device:
            query = query.where(DeviceMutation.device_id == args.device)
        query = query.order_by(DeviceMutation.at.desc(), DeviceMutation.seq.desc()).limit(args.limit)
        _print_rows([(m.device_id, m.seq, m.entity, m.entity_id, m.code, m.reason)
                     for m in session.scalars(query)])
    elif cmd == "revoke-device":
        device = org.revoke_device(session, args.device_id)
        print(f"device {device.id} revoked")
    elif cmd == "disable-account":
        account = org.disable_account(session, args.username)
        print(f"account {account.username} disabled")
    elif cmd == "enable-account":
        account = org.enable_account(session, args.username)
        print(f"account {account.username} enabled")
    elif cmd == "set-export-limit":
        org.set_export_daily_limit(session, args.limit)
        print(f"export limit: {args.limit} customers per person and day")
    elif cmd == "set-time-zone":
        from hq.ledger import set_org_time_zone

        try:
            set_org_time_zone(session, args.zone)  # re-buckets every leaderboard event into the new days
        except ValueError as exc:
            raise org.OrgError(str(exc)) from exc
        print(f"leaderboard time zone: {args.zone.strip()}")
    elif cmd == "set-book-visibility":
        store = org.set_book_visibility(session, args.store, args.visibility)
        print(f"{store.name}: guides see {'their own customers' if args.visibility == 'own' else 'the whole book'}")
    elif cmd == "set-stores":
        account = org.set_stores(session, args.username, args.stores)
        print(f"account {account.username} now in {len(args.stores)} store(s)")
    elif cmd == "create-corp-tag-group":
        from hq.corp import create_corp_tag_group

        gid = create_corp_tag_group(session, args.name, args.tags, color=args.color, multi=not args.single)
        print(f"corp tag group {args.name} {gid} ({len(args.tags)} tags) sent to every store")
    elif cmd == "seed-demo":
        from hq.demo import seed_demo

        summary = seed_demo(session, customers_per_store=args.customers, seed=args.seed,
                            campaign=not args.no_campaign)
        print(summary.describe())
    elif cmd == "seed-demo-campaign":
        from hq.demo_campaign import ensure_demo_campaign

        pack = ensure_demo_campaign(session, org.now_ms())
        print(f"published {pack.id} v{pack.version} {pack.valid_from}..{pack.valid_to}" if pack is not None
              else "the demo campaign is still running: nothing published")


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    upgrade(args.db)
    os.environ["GUIDE_HQ_DB"] = args.db  # worker processes build the app from it
    uvicorn.run(
        "hq.app:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers if args.workers > 1 else None,
        log_level=args.log_level,
        proxy_headers=True,
        forwarded_allow_ips=args.forwarded_allow_ips,
        timeout_keep_alive=args.keep_alive,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "serve":
        _serve(args)
        return 0
    if args.command == "pack":
        return pack_cli.run(args)
    upgrade(args.db)
    if args.command == "migrate":
        print("database is at the latest schema")
        return 0
    db = Database(args.db)
    run: Callable[[argparse.Namespace, Session], None] = _admin
    try:
        with db.session() as session:
            run(args, session)
    except org.OrgError as exc:
        print(f"hq: {exc}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
