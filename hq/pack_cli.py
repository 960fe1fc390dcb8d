"""``hq pack``: build a campaign pack from a folder, publish it signed, list and withdraw packs."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from guide_app.domain.errors import UserError
from guide_app.i18n import LANGUAGES, tr
from hq import pack_store
from hq.db import Database, upgrade
from hq.pack_progress import pack_progress
from hq.packs import archive_digest, build_pack


def add_parser(
    sub: argparse._SubParsersAction[argparse.ArgumentParser], add_db: Callable[[argparse.ArgumentParser], None]
) -> None:
    pack = sub.add_parser("pack", help="campaign packs: build, publish, list, withdraw")
    pack.add_argument("--lang", default="zh_CN", choices=LANGUAGES, help="language of error messages")
    psub = pack.add_subparsers(dest="pack_command", required=True)

    p = psub.add_parser("build", help="check a pack folder (manifest.json + assets/) and write the pack zip")
    p.add_argument("folder", type=Path)
    p.add_argument("-o", "--output", type=Path, required=True, help="the zip to write")

    p = psub.add_parser("publish", help="sign a built pack with the org key and publish it to its audience")
    add_db(p)
    p.add_argument("zip", type=Path)

    p = psub.add_parser("list", help="list published packs and their versions")
    add_db(p)

    p = psub.add_parser("withdraw", help="withdraw every version of a pack from the devices")
    add_db(p)
    p.add_argument("id")

    p = psub.add_parser("progress", help="completion per store and guide (targets from the synced books)")
    add_db(p)
    p.add_argument("id")


def _now_ms() -> int:
    return int(time.time() * 1000)


def _print_progress(session: Session, pack_id: str) -> None:
    manifest, rows = pack_progress(session, pack_id, _now_ms())
    print("\t".join(["store", "guide", "targets", *[t.id for t in manifest.tasks], "completion"]))
    for r in rows:
        print("\t".join([r.store_name, r.guide_name, str(r.targets), *[str(r.done[t.id]) for t in manifest.tasks],
                         f"{r.completion(len(manifest.tasks)):.0%}"]))


def run(args: argparse.Namespace) -> int:
    try:
        if args.pack_command == "build":
            manifest = build_pack(args.folder, args.output)
            size, sha = archive_digest(args.output)
            print(f"built {manifest.id} v{manifest.version} ({len(manifest.assets)} assets, {size} bytes, "
                  f"sha256 {sha}) -> {args.output}")
            return 0
        upgrade(args.db)
        db = Database(args.db)
        try:
            with db.session() as session:
                if args.pack_command == "publish":
                    row = pack_store.publish(session, args.zip, _now_ms())
                    print(f"published {row.id} v{row.version} ({row.size} bytes, sha256 {row.sha256})")
                elif args.pack_command == "list":
                    for p in pack_store.list_packs(session):
                        print("\t".join((p.id, f"v{p.version}", p.title, f"{p.valid_from}..{p.valid_to}", p.status,
                                         p.audience, str(p.size))))
                elif args.pack_command == "withdraw":
                    changed = pack_store.withdraw(session, args.id, _now_ms())
                    print(f"withdrew {args.id} ({changed} versions)")
                elif args.pack_command == "progress":
                    _print_progress(session, args.id)
        finally:
            db.dispose()
    except UserError as err:
        print(f"hq pack: {tr(err.key, lang=args.lang, **err.params)}", file=sys.stderr)
        return 2
    return 0
