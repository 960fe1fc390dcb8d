"""Startup steps for sync, called by the composition root: sign in (resume the keyring session,
or ask with :class:`LoginDialog`; the headless demo signs in as the demo guide) and start the
background sync controller for the signed-in context."""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QDialog

from guide_app.services.accounts import remember_password
from guide_app.services.context import Actor, AppContext
from guide_app.services.demo_hq import DEMO_GUIDE, DEMO_MANAGER, DEMO_PASSWORD
from guide_app.services.sync_service import SyncService
from guide_app.tasks import TaskRunner
from guide_app.views.login_dialog import DemoAccount, LoginDialog
from guide_app.views.screenshots import wait_idle
from guide_app.views.sync_status import SyncController

log = logging.getLogger(__name__)
DEMO_ACCOUNTS = (
    DemoAccount("sync.ui.demo_guide", DEMO_GUIDE, DEMO_PASSWORD),
    DemoAccount("sync.ui.demo_manager", DEMO_MANAGER, DEMO_PASSWORD),
)
INITIAL_SYNC_TIMEOUT_S = 300


def sign_in(service: SyncService, runner: TaskRunner, *, headless: bool, demo: bool) -> Actor | None:
    """The signed-in actor, or None when the guide cancelled (or nobody can be asked)."""
    actor = service.resume()
    if actor is not None:
        return actor
    if demo:
        log.warning("demo HQ at %s; demo accounts: %s (guide) and %s (store manager), password %s; "
                    "the demo keeps the session in memory only, not in the OS keyring",
                    service.hq_url, DEMO_GUIDE, DEMO_MANAGER, DEMO_PASSWORD)
    if headless:
        # nobody to ask: the demo signs in as its guide (startup, before any window exists)
        return service.login(service.hq_url, DEMO_GUIDE, DEMO_PASSWORD) if demo else None
    dialog = LoginDialog(service, runner, demo_accounts=DEMO_ACCOUNTS if demo else ())
    accepted = dialog.exec() == QDialog.DialogCode.Accepted
    if accepted and dialog.actor is not None:
        # HQ just checked the full password: keep a verifier so a manager can unlock offline, and
        # clear failed PIN attempts of this account here (services/accounts.py)
        remember_password(service.db, dialog.actor.guide_id, dialog.password.text(), service.now_ms())
    return dialog.actor if accepted else None


def start_sync(service: SyncService, ctx: AppContext, runner: TaskRunner, *, headless: bool) -> SyncController:
    """Attach the context and start background syncing; headless runs wait for the first round."""
    service.attach(ctx)
    controller = SyncController(service, runner)
    controller.start()
    if headless:
        wait_idle(runner, timeout_s=INITIAL_SYNC_TIMEOUT_S)
    return controller
