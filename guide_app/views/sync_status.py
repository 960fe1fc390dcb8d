"""Sync in the window: the controller that runs background syncs on the network executor when the
scheduler says so, the status-bar widget (在线/离线, 上次同步, 待同步 N, 同步失败 N, 立即同步,
initial-sync progress), and the dialog listing refused changes with their reasons (修正 / 放弃).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from guide_app.i18n import tr
from guide_app.services.sync_service import RejectedChange, SyncScheduler, SyncService, SyncStatus
from guide_app.sync.errors import SyncError
from guide_app.tasks import TaskControl, TaskRunner
from guide_app.views.formatting import day_time, error_text
from guide_app.views.login_dialog import LoginDialog

log = logging.getLogger(__name__)
TICK_MS = 1000


class SyncController(QObject):
    """Lives as long as the app; windows come and go (a language switch rebuilds the window)."""

    status_changed = Signal(object)  # SyncStatus, always delivered on the GUI thread
    synced = Signal()  # a round finished and may have brought new rows
    open_customer = Signal(str)

    def __init__(self, service: SyncService, runner: TaskRunner, scheduler: SyncScheduler | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.service = service
        self.runner = runner
        self.scheduler = scheduler or SyncScheduler()
        self.status = SyncStatus(signed_in=service.actor is not None, memory_tokens=service.memory_tokens)
        # the service reports from the network thread; a queued signal brings it to the GUI thread
        service.subscribe(self._relay)
        self.status_changed.connect(self._remember)
        if service.ctx is not None:
            service.ctx.after_write.append(self.scheduler.on_local_change)
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)

    def _relay(self, status: SyncStatus) -> None:
        self.status_changed.emit(status)

    def _remember(self, status: SyncStatus) -> None:
        self.status = status

    def start(self) -> None:
        self.scheduler.on_start()
        self.timer.start()
        self.refresh()
        self.tick()

    def stop(self) -> None:
        self.timer.stop()
        self.service.stop()

    def refresh(self) -> None:
        self.runner.run_db(lambda _c: self.service.status(), on_done=self.status_changed.emit, owner=self,
                           key="sync-status")

    def sync_now(self) -> None:
        self.scheduler.request_now()
        self.tick()

    def tick(self) -> None:
        if not self.scheduler.due():
            return

        def work(_: TaskControl) -> object:
            return self.service.sync_now()

        self.runner.run_net(work, on_done=self._finished, on_error=self._failed, owner=self)

    def _finished(self, _report: object) -> None:
        self.scheduler.finished(ok=True)
        self.synced.emit()

    def _failed(self, exc: BaseException) -> None:
        self.scheduler.finished(ok=False)
        if not isinstance(exc, SyncError):
            log.error("sync failed", exc_info=exc)
        self.refresh()


class SyncStatusWidget(QWidget):
    """The permanent part of the status bar."""

    def __init__(self, controller: SyncController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.state = QLabel()
        self.state.setObjectName("syncState")
        self.last = QLabel()
        self.pending = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(160)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.failed = QToolButton()
        self.failed.setObjectName("syncFailed")
        self.failed.setToolTip(tr("sync.ui.failed_tip"))
        self.failed.clicked.connect(self.show_rejected)
        self.failed.hide()
        self.now = QToolButton()
        self.now.setText(tr("sync.ui.sync_now"))
        self.now.clicked.connect(controller.sync_now)
        self.sign_in = QToolButton()
        self.sign_in.setText(tr("sync.ui.sign_in_again"))
        self.sign_in.clicked.connect(self.renew_session)
        self.sign_in.hide()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 6, 0)
        row.setSpacing(10)
        for w in (self.state, self.last, self.pending, self.progress, self.failed, self.sign_in, self.now):
            row.addWidget(w)
        controller.status_changed.connect(self.show_status)
        self.show_status(controller.status)

    def show_status(self, status: SyncStatus) -> None:
        if not status.signed_in:
            state = tr("sync.ui.signed_out")
        elif status.running:
            state = tr("sync.ui.syncing")
        elif status.online is False:
            state = tr("sync.ui.offline")
        elif status.online:
            state = tr("sync.ui.online")
        else:
            state = tr("sync.ui.not_yet")
        self.state.setText(state)
        self.state.setProperty("syncOnline", bool(status.online))
        tips = [status.error] if status.error else []
        if status.memory_tokens:
            tips.append(tr("sync.ui.memory_tokens"))
        self.state.setToolTip("\n".join(tips))
        self.last.setText(tr("sync.ui.last_sync", time=day_time(status.last_sync_ms)) if status.last_sync_ms
                          else tr("sync.ui.never_synced"))
        self.pending.setText(tr("sync.ui.pending", n=status.pending))
        self.failed.setText(tr("sync.ui.failed", n=status.rejected))
        self.failed.setVisible(status.rejected > 0)
        self.now.setEnabled(status.signed_in and not status.running)
        self.now.setVisible(status.signed_in)
        self.sign_in.setVisible(not status.signed_in)
        p = status.progress
        if p is not None and p.phase == "pull" and p.total > 0 and p.done < p.total:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * p.done / p.total))
            self.progress.setFormat(tr("sync.ui.initial_progress" if p.initial else "sync.ui.pull_progress",
                                       percent=int(100 * p.done / p.total)))
            self.progress.show()
        else:
            self.progress.hide()

    def renew_session(self) -> LoginDialog:
        """Sign the same guide in again after the session ran out (unsynced work stays queued)."""
        service = self.controller.service
        username = service.signed_in_username()
        dialog = LoginDialog(service, self.controller.runner, username=username, renew=bool(username),
                             parent=self.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self.controller.sync_now)
        dialog.open()
        return dialog

    def show_rejected(self) -> RejectedDialog:
        dialog = RejectedDialog(self.controller, self.window())
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog


def field_label(entity: str, field: str) -> str:
    """A changed field as the guide knows it; a field without a name of its own reads as the record."""
    for key in (f"sync.field.{entity}.{field}", f"field.{field}"):
        text = tr(key)
        if text != key:
            return text
    return tr(f"sync.entity.{entity}")


class RejectedDialog(QDialog):
    """Changes HQ refused, with why; 修正 opens the customer and re-sends, 放弃 gives the change up."""

    COLUMNS = ("sync.ui.col_time", "sync.ui.col_record", "sync.ui.col_fields", "sync.ui.col_reason")

    def __init__(self, controller: SyncController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.rows: list[RejectedChange] = []
        self.setWindowTitle(tr("sync.ui.rejected_title"))
        self.resize(760, 360)
        intro = QLabel(tr("sync.ui.rejected_intro"))
        intro.setWordWrap(True)
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setHorizontalHeaderLabels([tr(k) for k in self.COLUMNS])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._selection_changed)
        self.message = QLabel()
        self.message.setObjectName("fieldError")
        self.message.setWordWrap(True)
        self.fix = QPushButton(tr("sync.ui.fix"))
        self.fix.setToolTip(tr("sync.ui.fix_tip"))
        self.fix.clicked.connect(self.fix_selected)
        self.discard = QPushButton(tr("sync.ui.discard"))
        self.discard.setToolTip(tr("sync.ui.discard_tip"))
        self.discard.clicked.connect(self.discard_selected)
        buttons = QDialogButtonBox()
        buttons.addButton(self.fix, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.discard, QDialogButtonBox.ButtonRole.ActionRole)
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.setText(tr("sync.ui.close"))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self._selection_changed()
        self.reload()

    def reload(self) -> None:
        self.controller.runner.run_db(lambda _c: self.controller.service.rejected(), on_done=self._show,
                                      on_error=self._failed, owner=self, key="sync-rejected")

    def _show(self, rows: list[RejectedChange]) -> None:
        self.rows = rows
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            kind = tr(f"sync.entity.{r.entity}")
            record = kind if not r.title else r.title if r.entity == "customer" else f"{r.title}（{kind}）"
            if "store_id" in r.fields:  # only a new row carries its store: say "new" rather than list it all
                fields = tr("sync.ui.new_record", kind=kind)
            else:
                fields = "、".join(dict.fromkeys(field_label(r.entity, f) for f in r.fields))
            for col, value in enumerate((day_time(r.at), record, fields, r.reason)):
                item = QTableWidgetItem(value)
                item.setToolTip(value)
                self.table.setItem(i, col, item)
        for col in range(3):
            self.table.resizeColumnToContents(col)
        if rows:
            self.table.selectRow(0)
        else:
            self.message.setText(tr("sync.ui.rejected_none"))
        self._selection_changed()

    def selected(self) -> RejectedChange | None:
        row = self.table.currentRow()
        return self.rows[row] if 0 <= row < len(self.rows) and self.table.selectedItems() else None

    def _selection_changed(self) -> None:
        has = self.selected() is not None
        self.fix.setEnabled(has)
        self.discard.setEnabled(has)

    def fix_selected(self) -> None:
        change = self.selected()
        if change is None:
            return

        def work(_: TaskControl) -> None:
            self.controller.service.resubmit_rejected(change.seq)

        def done(_: None) -> None:
            if change.customer_id:
                self.controller.open_customer.emit(change.customer_id)
            self.controller.sync_now()
            self.controller.refresh()
            self.reload()

        self.controller.runner.run_db(work, on_done=done, on_error=self._failed, owner=self)

    def discard_selected(self) -> None:
        change = self.selected()
        if change is None:
            return

        def work(_: TaskControl) -> None:
            self.controller.service.discard_rejected(change.seq)

        def done(_: None) -> None:
            self.controller.sync_now()  # HQ's values come back with the next pull
            self.controller.refresh()
            self.reload()

        self.controller.runner.run_db(work, on_done=done, on_error=self._failed, owner=self)

    def _failed(self, exc: BaseException) -> None:
        self.message.setText(exc.message() if isinstance(exc, SyncError) else error_text(exc))
