"""Sign in to HQ: HQ address, account, password. The first sign-in enrolls this PC in the account's
store. The call runs on the network executor; errors are shown in the user's language.

In the demo the dialog offers the demo accounts (a guide and the store manager) and says that the
session is kept in memory only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from guide_app.domain.errors import UserError
from guide_app.i18n import tr
from guide_app.services.context import Actor
from guide_app.services.sync_service import SyncService
from guide_app.sync.errors import SyncError
from guide_app.tasks import TaskControl, TaskRunner
from guide_app.views.form_dialog import error_label, ok_cancel, stack
from guide_app.views.formatting import error_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoAccount:
    label_key: str  # e.g. "sync.ui.demo_guide"
    username: str
    password: str


def login_error_text(exc: BaseException) -> str:
    if isinstance(exc, SyncError):
        return exc.message()
    return error_text(exc)


class LoginDialog(QDialog):
    def __init__(self, service: SyncService, runner: TaskRunner, *, hq_url: str = "", username: str = "",
                 demo_accounts: tuple[DemoAccount, ...] = (), renew: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.runner = runner
        self.actor: Actor | None = None
        self.demo_accounts = demo_accounts
        self.setWindowTitle(tr("sync.ui.login_title"))
        self.setMinimumWidth(460)
        # renew: the session ran out while the window is open; the same guide signs in again
        intro = QLabel(tr("sync.ui.renew_intro" if renew else "sync.ui.login_intro"))
        intro.setWordWrap(True)
        self.url = QLineEdit(hq_url or service.hq_url)
        self.url.setPlaceholderText("https://hq.example.com")
        self.username = QLineEdit(username)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow(tr("sync.ui.hq_url"), self.url)
        self.demo = QComboBox()
        if demo_accounts:
            for account in demo_accounts:
                self.demo.addItem(tr(account.label_key, username=account.username), account.username)
            self.demo.currentIndexChanged.connect(self._pick_demo)
            form.addRow(tr("sync.ui.demo_account"), self.demo)
            self._pick_demo(0)
        form.addRow(tr("sync.ui.username"), self.username)
        if renew:
            self.url.setReadOnly(True)
            self.username.setReadOnly(True)
        form.addRow(tr("sync.ui.password"), self.password)
        self.note = QLabel(tr("sync.ui.memory_tokens") if service.memory_tokens else "")
        self.note.setWordWrap(True)
        self.note.setVisible(service.memory_tokens)
        self.error = error_label()
        self.buttons = ok_cancel(tr("sync.ui.login"), tr("sync.ui.cancel"), self.submit, self.reject)
        stack(self, intro, form, self.note, self.error, self.buttons)
        (self.password if self.username.text() else self.username).setFocus()

    def _pick_demo(self, index: int) -> None:
        account = self.demo_accounts[index]
        self.username.setText(account.username)
        self.password.setText(account.password)

    def submit(self) -> None:
        url, username, password = self.url.text(), self.username.text(), self.password.text()
        self.error.setText(tr("sync.ui.signing_in"))
        self.buttons.setEnabled(False)

        def work(_: TaskControl) -> Actor:
            return self.service.login(url, username, password)

        self.runner.run_net(work, on_done=self._done, on_error=self._failed, owner=self)

    def _done(self, actor: Actor) -> None:
        self.actor = actor
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.error.setText(login_error_text(exc))
        if not isinstance(exc, (SyncError, UserError)):
            log.error("sign-in failed", exc_info=exc)
