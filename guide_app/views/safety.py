"""Shared-counter-PC safety wired onto the main window: lock (Ctrl+L, idle, and across restarts),
quick switch of the signed-in guide, PIN setup, masked clipboard copies of the customer list, the
export button for managers only, and the prompt to hand over a departed guide's customers.

One :class:`SafetyController` lives as long as the app (the shell owns it) and is attached to each
main window the shell builds; a switch of guide asks the shell to rebuild the window as them.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import QDialog, QInputDialog, QMessageBox, QVBoxLayout, QWidget

from guide_app.domain.errors import UserError
from guide_app.i18n import tr
from guide_app.services.accounts import MANAGER_ROLES, AccountService, PcUser, remember_password
from guide_app.services.context import Actor
from guide_app.services.lock import IDLE_MINUTES_RANGE, LockService, LockState
from guide_app.services.privacy import masked
from guide_app.services.sync_service import store_summary
from guide_app.services.transfer import TransferService
from guide_app.sync.errors import ForbiddenError, LoginFailedError, SyncError
from guide_app.tasks import TaskControl
from guide_app.views.app_services import AppServices
from guide_app.views.audit_view import AuditDialog
from guide_app.views.formatting import error_text
from guide_app.views.lock_screen import IdleWatcher, LockScreen
from guide_app.views.main_window import MainWindow
from guide_app.views.pin_dialog import SetPinDialog
from guide_app.views.switch_guide import AddGuideDialog, GuideMenuButton
from guide_app.views.transfer_dialog import TransferDialog

MINUTE_MS = 60_000


class SafetyController(QObject):
    switched = Signal(object)  # Actor: someone else now uses the PC; the shell rebuilds the window
    locked = Signal()
    unlocked = Signal()

    def __init__(self, services: AppServices, *, idle_ms: int | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.lock_service = LockService(services.ctx)
        self.accounts = AccountService(services.ctx)
        self.window: MainWindow | None = None
        self.screen: LockScreen | None = None
        self.is_locked = False
        self._asked_departed: set[str] = set()
        self._ask_pin_next = False  # a guide just added on this PC sets their PIN on the new window
        self.idle = IdleWatcher(idle_ms or 5 * MINUTE_MS, self)
        self.idle.idle.connect(lambda: self.lock("idle"))
        if idle_ms is None:
            services.runner.run_db(lambda _c: self.lock_service.idle_minutes(),
                                   on_done=lambda m: self.idle.set_interval(m * MINUTE_MS), owner=self)
        if services.sync is not None:
            services.sync.synced.connect(self.check_departed)

    @property
    def actor(self) -> Actor:
        return self.services.ctx.actor

    # --- attaching to a window -----------------------------------------------------------------
    def attach(self, window: MainWindow) -> None:
        self.window = window
        self.screen = LockScreen(window, can_sign_in=self.services.sync is not None)
        self.screen.unlock_requested.connect(self._unlock)
        self.screen.sign_in_requested.connect(self.sign_in_other)
        self.screen.add_guide_requested.connect(self.add_local_guide)
        QShortcut(QKeySequence("Ctrl+L"), window, self.lock_now)
        self.menu = GuideMenuButton(self.actor, pin_user=True, parent=window)
        self.menu.lock_requested.connect(self.lock_now)
        self.menu.switch_requested.connect(lambda: self.lock("switch"))
        self.menu.set_pin_requested.connect(self.set_pin)
        self.menu.idle_time_requested.connect(self.ask_idle_minutes)
        self.menu.transfer_requested.connect(self.open_transfer_for_selection)
        self.menu.audit_requested.connect(self.open_audit)
        nav = window.findChild(QWidget, "navPane")
        nav_layout = nav.layout() if nav is not None else None
        if isinstance(nav_layout, QVBoxLayout):
            nav_layout.insertWidget(2, self.menu)  # under the store / guide line
        self.services.runner.run_db(lambda _c: self.accounts.uses_password(self.actor.role),
                                    on_done=lambda pw: self.menu.pin_action.setVisible(not pw), owner=self.menu)
        if not self.actor.is_manager:
            button = window.customers.export_button
            button.setEnabled(False)
            button.setToolTip(tr("security.ui.export_managers_only"))
        QShortcut(QKeySequence(QKeySequence.StandardKey.Copy), window.customers.table, self.copy_selected,
                  context=Qt.ShortcutContext.WidgetShortcut)
        # fail closed: the content stays hidden until the stored lock state is known
        self._content(False)
        self.services.runner.run_db(lambda _c: self.lock_service.state(), on_done=self._initial_state, owner=window)

    def _content(self, visible: bool) -> None:
        central = self.window.centralWidget() if self.window is not None else None
        if central is not None:
            central.setVisible(visible)

    def _initial_state(self, state: LockState) -> None:
        if state.locked:
            self._show_lock()
        else:
            self._content(True)
            self.check_departed()
            if self._ask_pin_next:
                self._ask_pin_next = False
                self.set_pin()
                return
            self.services.runner.run_db(lambda _c: self.accounts.uses_password(self.actor.role)
                                        or self.accounts.has_pin(self.actor.guide_id),
                                        on_done=self._suggest_pin, owner=self.window)

    def _suggest_pin(self, has_secret: bool) -> None:
        if not has_secret and self.window is not None:
            self.window.statusBar().showMessage(tr("security.ui.suggest_pin"), 15_000)

    # --- locking ---------------------------------------------------------------------------------
    def lock_now(self) -> None:
        """Ctrl+L: lock, or first ask a guide without a PIN to set one (else nobody could unlock)."""
        def decided(can: bool) -> None:
            if can:
                self.lock("manual")
            elif self.set_pin():
                self.lock("manual")

        self.services.runner.run_db(lambda _c: self.lock_service.can_unlock(), on_done=decided, owner=self)

    def lock(self, reason: str) -> None:
        if self.is_locked or self.window is None:
            return
        if reason == "idle":
            self.services.runner.run_db(lambda _c: self.lock_service.can_unlock(),
                                        on_done=lambda can: self._lock(reason) if can else self.idle.resume(),
                                        owner=self)
            return
        self._lock(reason)

    def _lock(self, reason: str) -> None:
        if self.is_locked or self.window is None:
            return
        self.is_locked = True
        self.idle.pause()
        for dialog in self.window.findChildren(QDialog):
            if dialog.isVisible():
                dialog.reject()
        self._content(False)

        def work(_: TaskControl) -> list[PcUser]:
            self.lock_service.lock(reason)
            return self.accounts.people_for_lock()

        self.services.runner.run_db(work, on_done=self._people_loaded, owner=self.window)
        self.locked.emit()

    def _people_loaded(self, people: list[PcUser]) -> None:
        if self.screen is not None:
            self.screen.set_people(people, self.actor.guide_id)
            self.screen.show_locked()

    def _show_lock(self) -> None:
        self.is_locked = True
        self.idle.pause()
        self._content(False)
        self.services.runner.run_db(lambda _c: self.accounts.people_for_lock(), on_done=self._people_loaded,
                                    owner=self.window)
        self.locked.emit()

    def _unlock(self, guide_id: str, secret: str) -> None:
        """Managers' passwords are checked by HQ when it can be reached (for the account this PC's
        session belongs to), else against the verifier from their last online sign-in."""
        sync = self.services.sync
        session = sync.service.actor if sync is not None else None
        by_password = self.screen.uses_password_for(guide_id) if self.screen is not None else False
        if sync is None or session is None or session.guide_id != guide_id or not by_password:
            self._check(guide_id, secret, None)
            return
        service = sync.service

        def ask_hq(username: str) -> None:
            def login(_: TaskControl) -> bool | None:
                try:
                    service.login(service.hq_url, username, secret)
                except (LoginFailedError, ForbiddenError):
                    return False
                except (SyncError, UserError):
                    return None  # HQ cannot be asked now: the offline verifier decides
                return True

            self.services.runner.run_net(login, on_done=lambda ok: self._check(guide_id, secret, ok),
                                         owner=self.window)

        self.services.runner.run_db(lambda _c: store_summary(service.db)["username"], on_done=ask_hq,
                                    owner=self.window)

    def _check(self, guide_id: str, secret: str, hq_says: bool | None) -> None:
        before = self.actor.guide_id
        online = None if hq_says is None else (lambda _g, _p: hq_says)

        def done(actor: Actor) -> None:
            self.is_locked = False
            self.idle.resume()
            if actor.guide_id != before:
                self.switched.emit(actor)
                return
            if self.screen is not None:
                self.screen.hide()
            self._content(True)
            self.unlocked.emit()

        def failed(exc: BaseException) -> None:
            if self.screen is not None:
                self.screen.failed(error_text(exc))

        self.services.runner.run_db(lambda _c: self.lock_service.unlock(guide_id, secret, online), on_done=done,
                                    on_error=failed, owner=self.window)

    def sign_in_other(self) -> None:
        """A full password sign-in at HQ (a guide new to this PC, or a manager): then that person."""
        from guide_app.views.login_dialog import LoginDialog

        sync = self.services.sync
        if sync is None or self.window is None:
            return
        dialog = LoginDialog(sync.service, self.services.runner, parent=self.window)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.actor is None:
            return
        actor, password = dialog.actor, dialog.password.text()

        def work(_: TaskControl) -> None:
            remember_password(self.services.ctx.db, actor.guide_id, password, self.services.ctx.now_ms())
            self.lock_service.signed_in(actor)

        def done(_: object) -> None:
            self.is_locked = False
            self.idle.resume()
            self.switched.emit(actor)

        self.services.runner.run_db(work, on_done=done, owner=self)

    def add_local_guide(self, name: str = "", error: str = "") -> None:
        """A PC without HQ: a new guide joins with the store manager's PIN, then sets their own.
        A refusal (wrong PIN, wait) opens the form again with the reason and the name kept."""
        if self.screen is None:
            return
        managers = [p for p in self.screen.listed if p.role in MANAGER_ROLES]
        dialog = AddGuideDialog(managers, parent=self.window)
        dialog.name.setText(name)
        dialog.error.setText(error)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        name, manager_id, pin = dialog.name.text(), str(dialog.manager.currentData() or ""), dialog.pin.text()

        def work(_: TaskControl) -> Actor:
            actor = self.accounts.add_local_guide(name, manager_id, pin)
            self.lock_service.signed_in(actor)
            return actor

        def done(actor: Actor) -> None:
            self.is_locked = False
            self.idle.resume()
            self._ask_pin_next = True
            self.switched.emit(actor)

        self.services.runner.run_db(work, on_done=done, on_error=lambda exc: self.add_local_guide(name, error_text(exc)),
                                    owner=self)

    # --- menu actions ------------------------------------------------------------------------------
    def set_pin(self) -> bool:
        dialog = SetPinDialog(self.accounts, self.services.runner, parent=self.window)
        return dialog.exec() == QDialog.DialogCode.Accepted

    def ask_idle_minutes(self) -> None:
        lo, hi = IDLE_MINUTES_RANGE
        current = max(lo, self.idle.timer.interval() // MINUTE_MS)
        minutes, ok = QInputDialog.getInt(self.window, tr("security.ui.idle_time"), tr("security.ui.idle_prompt"),
                                          current, lo, hi)
        if not ok:
            return
        self.services.runner.run_db(lambda _c: self.lock_service.set_idle_minutes(minutes),
                                    on_done=lambda _: self.idle.set_interval(minutes * MINUTE_MS), owner=self)

    def open_transfer_for_selection(self) -> TransferDialog:
        """The customers picked in the list (after any search or filter) are the ones ticked."""
        selected = self.window.customers.selected_pks() if self.window is not None else []
        return self.open_transfer("", selected)

    def open_transfer(self, from_guide_id: str, selected: list[int] | None = None) -> TransferDialog:
        dialog = TransferDialog(self.services, from_guide_id=from_guide_id, selected=selected or [],
                                parent=self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        if self.window is not None:
            dialog.transferred.connect(self.window.customers.reload_all)
        dialog.open()
        return dialog

    def open_audit(self) -> AuditDialog:
        dialog = AuditDialog(self.services, parent=self.window)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def check_departed(self) -> None:
        """A guide HQ disabled still owns customers here: ask the manager to hand them over."""
        if not self.actor.is_manager or self.is_locked:
            return

        def asked(departed: list[tuple[str, str, int]]) -> None:
            for guide_id, name, count in departed:
                if guide_id in self._asked_departed or self.window is None or self.is_locked:
                    continue
                self._asked_departed.add(guide_id)
                answer = QMessageBox.question(self.window, tr("security.ui.departed_title"),
                                              tr("security.ui.departed_text", name=name, count=count))
                if answer == QMessageBox.StandardButton.Yes:
                    self.open_transfer(guide_id)
                return  # one at a time

        self.services.runner.run_db(lambda _c: TransferService(self.services.ctx).departed_with_customers(),
                                    on_done=asked, owner=self)

    # --- clipboard ---------------------------------------------------------------------------------
    def copy_selected(self) -> None:
        """Ctrl+C on the customer list copies names and masked phones, never the full numbers."""
        if self.window is None:
            return
        pks = self.window.customers.selected_pks()
        if not pks:
            return

        def rows(_: TaskControl) -> str:
            return "\n".join(f"{r.name}\t{masked(r.phone)}" for r in self.services.query.rows(pks))

        copy: Callable[[str], None] = QGuiApplication.clipboard().setText
        self.services.runner.run_db(rows, on_done=copy, owner=self.window)
