"""Composition root: parses the command line, opens the data folder, builds services, the task
runner and the main window, and wires them together.

``guide-app`` / ``python -m guide_app`` opens the app; ``--smoke`` starts, shows the main window and
exits; ``--startup-figures`` waits until the customer list shows its first rows, prints start-up
figures and exits; ``--screenshot DIR`` renders every main view to PNG files; ``--demo`` runs on a
demo data folder with its own HQ service to sync with (see :func:`prepare_demo`); ``--hq URL`` signs
this PC in to an HQ (enrolling it in the account's store on first sign-in).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_data_dir

from guide_app import __version__
from guide_app.db.engine import Database, open_database
from guide_app.db.migrate import backup_copy
from guide_app.db.state import get_setting, set_setting
from guide_app.domain.errors import UserError
from guide_app.i18n import DEFAULT_LANG, LANGUAGES, current_language, set_language, tr
from guide_app.logs import CrashReporter, default_log_dir, setup_logging
from guide_app.services.context import Actor, AppContext
from guide_app.services.demo_hq import EmbeddedHQ
from guide_app.services.lock import lock_on_start
from guide_app.services.org import OrgService, ensure_local_profile, remember_signed_in, signed_in_actor
from guide_app.services.settings import LANGUAGE_KEY
from guide_app.services.sync_service import SyncService, is_enrolled
from guide_app.sync.errors import SyncError

if TYPE_CHECKING:  # Qt is imported only after the display check
    from PySide6.QtWidgets import QApplication

    from guide_app.tasks import TaskRunner
    from guide_app.views.theme import QtCatalog

DB_FILE = "guide.db"
DEMO_DIR = Path("demo-data")
EXIT_NO_DISPLAY = 2
EXIT_CANCELLED = 1
EXIT_CRASHED = 70  # EX_SOFTWARE: the crash report is in the log folder

log = logging.getLogger("guide_app")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="guide-app", description="Guide Desk 导购助手 — the guide's customer book")
    parser.add_argument("--lang", choices=LANGUAGES, help="UI language (default: the saved choice, else zh_CN)")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="folder of the local database (default: the user data folder of GuideDesk)")
    parser.add_argument("--demo", action="store_true",
                        help=f"use ./{DEMO_DIR} (or --data-dir) with an embedded demo HQ on 127.0.0.1, "
                             "signed in as a demo guide")
    parser.add_argument("--hq", metavar="URL", default=None,
                        help="sign in to this HQ and sync with it (the first sign-in enrolls this PC)")
    parser.add_argument("--smoke", action="store_true", help="start, show the main window, then exit 0")
    parser.add_argument("--screenshot", type=Path, metavar="DIR", help="render each main view to PNG files in DIR and exit")
    parser.add_argument("--startup-figures", action="store_true",
                        help="start, wait until the customer list shows its first rows, print start-up figures "
                             "(JSON: rows, memory) and exit (for bench/bench_client_scale.py)")
    parser.add_argument("--self-check", action="store_true",
                        help="print what this build loads (resources, translations, icons, migrations, keyring "
                             "backends) as JSON, then exit (1 when something is missing)")
    parser.add_argument("--backup", type=Path, metavar="FILE",
                        help="copy the local database to FILE (SQLite online backup: safe while the app runs) and exit")
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
    log_dir: Path | None = None  # log files and crash reports


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
        sync = SyncService(pc_db, hq_url=hq.url, memory_tokens=True, packs_dir=data_dir.resolve() / "packs")
        return Startup(pc_db, data_dir.resolve(), None, sync=sync, hq=hq)
    db = open_database(data_dir / DB_FILE)
    result = seed_demo(db)
    return Startup(db, data_dir.resolve(), result.actor)


def prepare_data_dir(data_dir: Path, hq_url: str | None = None) -> Startup:
    db = open_database(data_dir / DB_FILE)
    if hq_url or is_enrolled(db):
        # an HQ PC: the session comes from the keyring or the sign-in dialog, not the offline profile
        return Startup(db, data_dir.resolve(), None,
                       sync=SyncService(db, hq_url=hq_url, packs_dir=data_dir.resolve() / "packs"))
    return Startup(db, data_dir.resolve(), signed_in_actor(db))


def saved_language(db: Database) -> str:
    with db.read() as s:
        lang = get_setting(s, LANGUAGE_KEY, DEFAULT_LANG)
    return lang if lang in LANGUAGES else DEFAULT_LANG


def backup_database(db_path: Path, target: Path) -> int:
    """``--backup FILE``: a consistent copy of the local file without migrating or opening the app."""
    if not db_path.is_file():
        print(tr("app.backup.failed", reason=str(db_path)), file=sys.stderr)
        return EXIT_CANCELLED
    try:
        written = backup_copy(db_path, None, target=target)
    except (OSError, sqlite3.Error) as exc:
        print(tr("app.backup.failed", reason=str(exc)), file=sys.stderr)
        return EXIT_CANCELLED
    print(tr("app.backup.done", path=str(written)))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    data_dir = args.data_dir or Path(user_data_dir("GuideDesk", appauthor=False))
    if args.backup:
        return backup_database(data_dir / DB_FILE, args.backup)
    if not display_available():
        print(NO_DISPLAY_MESSAGE, file=sys.stderr)
        return EXIT_NO_DISPLAY
    if args.demo and getattr(sys, "frozen", False):
        print(tr("app.demo_not_bundled"), file=sys.stderr)  # the demo needs hq/ and Faker, left out of the bundle
        return EXIT_CANCELLED
    # an explicit data folder keeps its logs with it; otherwise the platform's user log folder
    demo_dir = args.data_dir or DEMO_DIR  # --demo --data-dir X: a demo kept in X (e.g. a fresh one)
    log_dir = demo_dir / "logs" if args.demo else (args.data_dir / "logs" if args.data_dir else default_log_dir())
    setup_logging(log_dir)
    reporter = CrashReporter(log_dir)
    reporter.install()
    try:
        startup = prepare_demo(demo_dir) if args.demo else prepare_data_dir(data_dir, args.hq)
    except UserError as exc:
        print(f"guide-app: {exc}", file=sys.stderr)
        return EXIT_CANCELLED
    except Exception as exc:  # e.g. a damaged database file: a report, and the guide is told where it is
        report = reporter.report(type(exc), exc, exc.__traceback__, where="startup")
        if not (args.smoke or args.screenshot or args.self_check or args.startup_figures):
            from guide_app.views.crash_dialog import show_startup_crash

            show_startup_crash(report)
        return EXIT_CRASHED
    startup.log_dir = log_dir
    set_language(args.lang or saved_language(startup.db))
    return run_gui(args, startup, reporter)


def self_check(startup: Startup) -> int:
    """``--self-check``: the build's facts as JSON on stdout; exit 1 when something did not load."""
    from guide_app.diagnostics import problems, report
    from guide_app.views.self_check import qt_report

    facts = {**report(startup.db.path, startup.data_dir, startup.log_dir or default_log_dir()), **qt_report()}
    found = problems(facts)
    facts["problems"] = found
    print(json.dumps(facts, ensure_ascii=False, indent=2))
    startup.db.dispose()
    return 1 if found else 0


def first_start(startup: Startup, runner: TaskRunner, app: QApplication, catalog: QtCatalog) -> Actor | None:
    """A fresh data folder: the setup (language; HQ or work offline only), then the HQ sign-in or the
    offline profile. None when the guide quits."""
    from guide_app.views.first_run import FirstRunDialog
    from guide_app.views.setup_wizard import SetupWizard
    from guide_app.views.sync_setup import sign_in

    def use_language(lang: str) -> None:
        set_language(lang)
        catalog.load(lang)
        app.setApplicationDisplayName(tr("ui.app.name"))

    wizard = SetupWizard(use_language)
    if wizard.exec() != SetupWizard.DialogCode.Accepted or wizard.choice is None:
        return None
    with startup.db.write() as s:
        set_setting(s, LANGUAGE_KEY, wizard.choice.language)
    if wizard.choice.hq_url:
        startup.sync = SyncService(startup.db, hq_url=wizard.choice.hq_url, packs_dir=startup.data_dir / "packs")
        return sign_in(startup.sync, runner, headless=False, demo=False)
    dialog = FirstRunDialog(lambda store, guide: ensure_local_profile(startup.db, store, guide))
    if dialog.exec() != FirstRunDialog.DialogCode.Accepted:
        return None
    return dialog.actor


def run_gui(args: argparse.Namespace, startup: Startup, reporter: CrashReporter | None = None) -> int:
    # Qt is imported only here, after the display check, so a missing display is a message, not an abort
    from PySide6.QtWidgets import QApplication

    from guide_app.tasks import TaskRunner
    from guide_app.views.app_services import AppServices
    from guide_app.views.crash_dialog import CrashDialogs, install_qt_message_handler
    from guide_app.views.screenshots import take_screenshots, wait_idle
    from guide_app.views.shell import AppShell
    from guide_app.views.sync_setup import sign_in, start_sync
    from guide_app.views.theme import QtCatalog, apply_theme, icon

    app = QApplication.instance() or QApplication(["guide-app"])
    assert isinstance(app, QApplication)
    app.setApplicationName("GuideDesk")
    app.setApplicationDisplayName(tr("ui.app.name"))
    app.setWindowIcon(icon("app"))
    apply_theme(app)
    catalog = QtCatalog(app)
    catalog.load(current_language())
    if reporter is not None:
        install_qt_message_handler(reporter)
        app.crash_dialogs = CrashDialogs(app, reporter)  # type: ignore[attr-defined]  # kept alive with the app
    if args.self_check:
        return self_check(startup)

    headless = bool(args.smoke or args.screenshot or args.startup_figures)
    db = startup.db
    actor = startup.actor
    runner = TaskRunner()
    resumed = False  # signed in from the keyring: nobody typed a password this start
    if actor is None and startup.sync is not None:
        try:
            resumed = startup.sync.resume() is not None
            actor = sign_in(startup.sync, runner, headless=headless, demo=startup.hq is not None)
        except (SyncError, UserError) as exc:
            log.error("sign-in failed: %s", exc.message() if isinstance(exc, SyncError) else exc)
        if actor is None:  # cancelled, or nobody to ask: an HQ PC never falls back to an offline profile
            _stop(startup, runner)
            return EXIT_CANCELLED
    if actor is None:
        if headless:
            # no one to ask: an offline profile with neutral names, so the window can be shown
            actor = ensure_local_profile(db, tr("ui.first_run.default_store"), tr("ui.first_run.default_guide"))
        else:
            actor = first_start(startup, runner, app, catalog)
            if actor is None:
                _stop(startup, runner)
                return EXIT_CANCELLED
    if resumed and not headless:
        actor = lock_on_start(db, actor)  # a shared PC: whoever used it last unlocks with PIN or password
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
        if args.startup_figures:
            from guide_app.views.startup_probe import wait_usable

            figures = wait_usable(shell)
            print(json.dumps(figures, ensure_ascii=False), flush=True)
            return 0 if figures["ready"] else EXIT_CANCELLED
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
