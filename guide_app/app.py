"""Composition root: parses the command line, opens the data folder, builds services, the task
runner and the main window, and wires them together.

``guide-app`` / ``python -m guide_app`` opens the app; ``--smoke`` starts, shows the main window and
exits; ``--screenshot DIR`` renders every main view to PNG files; ``--demo`` runs on a demo data
folder with its own HQ service to sync with (see :func:`prepare_demo`); ``--hq URL`` signs this PC in
to an HQ (enrolling it in the account's store on first sign-in).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_data_dir

from guide_app import __version__
from guide_app.db.engine import Database, open_database
from guide_app.db.state import get_setting
from guide_app.domain.errors import UserError
from guide_app.i18n import DEFAULT_LANG, LANGUAGES, current_language, set_language, tr
from guide_app.services.context import Actor, AppContext
from guide_app.services.demo_hq import EmbeddedHQ
from guide_app.services.org import OrgService, ensure_local_profile, remember_signed_in, signed_in_actor
from guide_app.services.settings import LANGUAGE_KEY
from guide_app.services.sync_service import SyncService, is_enrolled
from guide_app.sync.errors import SyncError

if TYPE_CHECKING:  # Qt is imported only after the display check
    from guide_app.tasks import TaskRunner

DB_FILE = "guide.db"
DEMO_DIR = Path("demo-data")
EXIT_NO_DISPLAY = 2
EXIT_CANCELLED = 1

log = logging.getLogger("guide_app")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="guide-app", description="Guide Desk 导购助手 — the guide's customer book")
    parser.add_argument("--lang", choices=LANGUAGES, help="UI language (default: the saved choice, else zh_CN)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="folder of the local database (default: the user data folder of GuideDesk)")
    parser.add_argument("--demo", action="store_true",
                        help=f"use ./{DEMO_DIR} with an embedded demo HQ on 127.0.0.1, signed in as a demo guide")
    parser.add_argument("--hq", metavar="URL", default=None,
                        help="sign in to this HQ and sync with it (the first sign-in enrolls this PC)")
    parser.add_argument("--smoke", action="store_true", help="start, show the main window, then exit 0")
    parser.add_argument("--screenshot", type=Path, metavar="DIR", help="render each main view to PNG files in DIR and exit")
    parser.add_argument("--version", action="version", version=f"guide-app {__version__}")
    return parser.parse_args(argv)


def display_available(env: os._Environ[str] | dict[str, str] | None = None) -> bool:
    """Whether Qt can open a window: always on Windows/macOS; on Linux a display server or an
    explicit platform plugin (e.g. QT_QPA_PLATFORM=offscreen) is needed."""
    env = os.environ if env is None else env
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY") or env.get("QT_QPA_PLATFORM"))


NO_DISPLAY_MESSAGE = """guide-app: no display found (DISPLAY, WAYLAND_DISPLAY and QT_QPA_PLATFORM are all unset).
Guide Desk is a desktop app and needs a screen. To run it here:
  xvfb-run make demo                                              # a virtual screen
  QT_QPA_PLATFORM=offscreen guide-app --smoke                     # start and exit, no screen
  QT_QPA_PLATFORM=offscreen guide-app --demo --screenshot shots   # render the views to PNG files
未检测到显示器：请在桌面环境中运行，或按上面的方式使用 xvfb-run / QT_QPA_PLATFORM=offscreen。"""


@dataclass
class Startup:
    db: Database
    data_dir: Path
    actor: Actor | None  # None: sign in to HQ when ``sync`` is set, else ask for the offline profile
    sync: SyncService | None = None  # this PC syncs with an HQ
    hq: EmbeddedHQ | None = None  # the demo's own HQ process, stopped on exit


def prepare_demo(data_dir: Path = DEMO_DIR) -> Startup:
    """``--demo``: an embedded HQ (services/demo_hq.py: ``hq serve`` on 127.0.0.1, seeded once with the
    demo org and books) and a demo PC that signs in to it as a demo guide (the store manager's account
    is offered too) and syncs with it. Should the HQ not start, the demo falls back to a local-only
    book (services/demo_seed.py) signed in as the store's manager. The one place that knows what
    --demo means."""
    from guide_app.services.demo_hq import DemoHQError, EmbeddedHQ
    from guide_app.services.demo_seed import seed_demo

    try:
        hq = EmbeddedHQ.start(data_dir / "hq")
    except DemoHQError as exc:
        log.warning("demo without HQ, using a local demo book: %s", exc)
    else:
        pc_db = open_database(data_dir / "pc" / DB_FILE)
        sync = SyncService(pc_db, hq_url=hq.url, memory_tokens=True)
        return Startup(pc_db, data_dir.resolve(), None, sync=sync, hq=hq)
    db = open_database(data_dir / DB_FILE)
    result = seed_demo(db)
    return Startup(db, data_dir.resolve(), result.actor)


def prepare_data_dir(data_dir: Path, hq_url: str | None = None) -> Startup:
    db = open_database(data_dir / DB_FILE)
    if hq_url or is_enrolled(db):
        # an HQ PC: the session comes from the keyring or the sign-in dialog, not the offline profile
        return Startup(db, data_dir.resolve(), None, sync=SyncService(db, hq_url=hq_url))
    return Startup(db, data_dir.resolve(), signed_in_actor(db))


def saved_language(db: Database) -> str:
    with db.read() as s:
        lang = get_setting(s, LANGUAGE_KEY, DEFAULT_LANG)
    return lang if lang in LANGUAGES else DEFAULT_LANG


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not display_available():
        print(NO_DISPLAY_MESSAGE, file=sys.stderr)
        return EXIT_NO_DISPLAY
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    data_dir = args.data_dir or Path(user_data_dir("GuideDesk", appauthor=False))
    try:
        startup = prepare_demo() if args.demo else prepare_data_dir(data_dir, args.hq)
    except UserError as exc:
        print(f"guide-app: {exc}", file=sys.stderr)
        return EXIT_CANCELLED
    set_language(args.lang or saved_language(startup.db))
    return run_gui(args, startup)


def run_gui(args: argparse.Namespace, startup: Startup) -> int:
    # Qt is imported only here, after the display check, so a missing display is a message, not an abort
    from PySide6.QtWidgets import QApplication

    from guide_app.tasks import TaskRunner
    from guide_app.views.app_services import AppServices
    from guide_app.views.first_run import FirstRunDialog
    from guide_app.views.screenshots import take_screenshots, wait_idle
    from guide_app.views.shell import AppShell
    from guide_app.views.sync_setup import sign_in, start_sync
    from guide_app.views.theme import QtCatalog, apply_theme

    app = QApplication.instance() or QApplication(["guide-app"])
    assert isinstance(app, QApplication)
    app.setApplicationName("GuideDesk")
    app.setApplicationDisplayName(tr("ui.app.name"))
    apply_theme(app)
    catalog = QtCatalog(app)
    catalog.load(current_language())

    headless = bool(args.smoke or args.screenshot)
    db = startup.db
    actor = startup.actor
    runner = TaskRunner()
    if actor is None and startup.sync is not None:
        try:
            actor = sign_in(startup.sync, runner, headless=headless, demo=startup.hq is not None)
        except (SyncError, UserError) as exc:
            log.error("sign-in failed: %s", exc.message() if isinstance(exc, SyncError) else exc)
        if actor is None and not headless:
            _stop(startup, runner)
            return EXIT_CANCELLED
    if actor is None:
        if headless:
            # no one to ask: an offline profile with neutral names, so the window can be shown
            actor = ensure_local_profile(db, tr("ui.first_run.default_store"), tr("ui.first_run.default_guide"))
        else:
            dialog = FirstRunDialog(lambda store, guide: ensure_local_profile(db, store, guide))
            if dialog.exec() != FirstRunDialog.DialogCode.Accepted or dialog.actor is None:
                _stop(startup, runner)
                return EXIT_CANCELLED
            actor = dialog.actor
    remember_signed_in(db, actor)

    ctx = AppContext(db, actor)
    store = OrgService(ctx).store()
    services = AppServices(ctx, runner, startup.data_dir, store_name=store.name if store else "")
    if startup.sync is not None and startup.sync.actor is not None:
        services.sync = start_sync(startup.sync, ctx, runner, headless=headless)
    shell = AppShell(app, services, catalog)
    shell.show()
    try:
        if args.screenshot:
            written = take_screenshots(shell, Path(args.screenshot))
            for path in written:
                print(path)
            return 0
        if args.smoke:
            wait_idle(runner, timeout_s=10)
            log.info("smoke: main window shown (%s)", shell.window.windowTitle())
            return 0
        return app.exec()
    finally:
        shell.window.close()
        if services.sync is not None:
            services.sync.stop()
        _stop(startup, runner)


def _stop(startup: Startup, runner: TaskRunner) -> None:
    """Stop the task threads, close the file, and stop the demo HQ if this run started one."""
    runner.shutdown()
    startup.db.dispose()
    if startup.hq is not None:
        startup.hq.stop()


if __name__ == "__main__":
    raise SystemExit(main())
