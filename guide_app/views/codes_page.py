"""The 活码 page: a guide's acquisition codes (a manager can switch to the whole store), the selected
code's QR, state and figures, and creating, editing, disabling, expiring, exporting and printing.

Mount it in the main window with one line: ``CodesPage.for_app(services)``; it then reloads after
every sync round, so states ("未生效（待同步）" → "已生效") and HQ's figures move on by themselves (it
also reloads whenever it is shown). Every service call runs on the task runner's DB thread and
results come back here; rendering many codes reports progress and can be cancelled.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelectionModel, QRectF, QSizeF, Qt
from PySide6.QtGui import QGuiApplication, QPageSize, QPainter, QPixmap, QShowEvent
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from guide_app.domain.errors import UserError
from guide_app.i18n import tr
from guide_app.services.code_export import (
    ExportOptions,
    channel_name,
    export_batch_pdf,
    export_folder,
    export_one,
    poster_content,
)
from guide_app.services.code_posters import POSTER_SIZES, PosterLayout, layout_poster
from guide_app.services.code_render import decode_logo, render_png
from guide_app.services.codes import EXPIRED, Choice, CodeInfo, CodeInput, CodeService, CodeStats
from guide_app.tasks import TaskControl, TaskHandle, TaskRunner
from guide_app.views.app_services import AppServices
from guide_app.views.code_dialog import CodeDialog
from guide_app.views.code_export_dialog import CodeExportDialog, unsynced_count
from guide_app.views.code_stats_view import CodeStatsView
from guide_app.views.codes_model import (
    ID_ROLE,
    STATE_COLOURS,
    CodesFilterModel,
    CodesTableModel,
    expiry_text,
    state_hint,
    state_text,
)
from guide_app.views.codes_view_util import message_of, paint_poster

PREVIEW_PX = 240


class CodesPage(QWidget):
    def __init__(self, ctx: Any, runner: TaskRunner, *, campaigns: Callable[[], Sequence[Choice]] | None = None,
                 parent: QWidget | None = None) -> None:
        """``ctx`` is the AppContext; ``campaigns`` (optional, called on the DB thread) lists the
        campaigns a code may be linked to — without it the campaign choice is not shown."""
        super().__init__(parent)
        self.service = CodeService(ctx)
        self.runner = runner
        self._campaigns = campaigns
        self._is_manager = bool(ctx.actor.is_manager)
        self._select_after_load: str | None = None
        self._progress: QProgressDialog | None = None
        self._export_handle: TaskHandle[Any] | None = None
        self.last_export: Any = None  # what the last export wrote (a path, a page count or a file list)
        self.active_dialog: QDialog | None = None  # the open form or export dialog, if any
        self._facts: list[str] = []
        self.loads_done = 0  # lists delivered so far (tests and the main window can wait on it)

        # -- top bar ---------------------------------------------------------------------
        self.scope = QComboBox()
        self.scope.addItem(tr("code.scope.mine"), False)
        self.scope.addItem(tr("code.scope.store"), True)
        self.scope.setVisible(self._is_manager)
        self.scope.currentIndexChanged.connect(self.reload)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(tr("code.filter_placeholder"))
        self.filter.setClearButtonEnabled(True)
        self.new_button = QPushButton(tr("code.action.new"))
        self.new_button.clicked.connect(self.new_code)
        self.generate_button = QPushButton(tr("code.action.generate_store"))
        self.generate_button.clicked.connect(self.generate_for_store)
        self.generate_button.setVisible(self._is_manager)
        self.export_button = QPushButton(tr("code.action.export"))
        self.export_button.clicked.connect(self.export_selected)
        self.print_button = QPushButton(tr("code.action.print"))
        self.print_button.clicked.connect(self.print_selected)
        top = QHBoxLayout()
        top.addWidget(self.scope)
        top.addWidget(self.filter, 1)
        for b in (self.new_button, self.generate_button, self.export_button, self.print_button):
            top.addWidget(b)

        # -- list ------------------------------------------------------------------------
        self.model = CodesTableModel(self)
        self.proxy = CodesFilterModel(self)
        self.proxy.setSourceModel(self.model)
        self.filter.textChanged.connect(self._filter_changed)
        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # newest first until a header is clicked
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.table.doubleClicked.connect(lambda _i: self.edit_current())
        self.list_empty = QLabel(tr("code.loading"))
        self.list_empty.setWordWrap(True)
        self.list_empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.list_stack = QStackedWidget()
        self.list_stack.addWidget(self.list_empty)
        self.list_stack.addWidget(self.table)

        # -- detail ----------------------------------------------------------------------
        self.detail_stack = QStackedWidget()
        none = QLabel(tr("code.no_selection"))
        none.setAlignment(Qt.AlignmentFlag.AlignCenter)
        none.setWordWrap(True)
        self.detail_stack.addWidget(none)
        self.detail_stack.addWidget(self._build_detail())

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.list_stack)
        splitter.addWidget(self.detail_stack)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status)
        self._update_actions()

    def _build_detail(self) -> QWidget:
        w = QWidget()
        v = QVBoxLayout(w)
        self.preview = QLabel()
        self.preview.setFixedSize(PREVIEW_PX, PREVIEW_PX)
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.state = QLabel()
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.url = QLabel()
        self.url.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.url.setWordWrap(True)
        self.facts = QLabel()
        self.facts.setWordWrap(True)
        head = QHBoxLayout()
        head.addWidget(self.preview)
        text = QVBoxLayout()
        for lab in (self.title, self.state, self.hint, self.url, self.facts):
            text.addWidget(lab)
        text.addStretch(1)
        head.addLayout(text, 1)
        v.addLayout(head)

        self.edit_button = QPushButton(tr("code.action.edit"))
        self.edit_button.clicked.connect(self.edit_current)
        self.disable_button = QPushButton(tr("code.action.disable"))
        self.disable_button.clicked.connect(self.toggle_disabled)
        self.expire_button = QPushButton(tr("code.action.expire"))
        self.expire_button.clicked.connect(self.expire_current)
        self.copy_button = QPushButton(tr("code.action.copy_link"))
        self.copy_button.clicked.connect(self.copy_link)
        row = QHBoxLayout()
        for b in (self.edit_button, self.disable_button, self.expire_button, self.copy_button):
            row.addWidget(b)
        row.addStretch(1)
        v.addLayout(row)
        self.stats_view = CodeStatsView()
        v.addWidget(self.stats_view, 1)
        return w

    @classmethod
    def for_app(cls, services: AppServices, *, campaigns: Callable[[], Sequence[Choice]] | None = None) -> CodesPage:
        page = cls(services.ctx, services.runner, campaigns=campaigns)
        if services.sync is not None:
            services.sync.synced.connect(page.reload)
        return page

    # -- loading ---------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.reload()

    def reload(self) -> None:
        whole_store = bool(self.scope.currentData())
        current = self.current_info()
        if self._select_after_load is None and current is not None:
            self._select_after_load = current.id
        self.runner.run_db(lambda _c: self.service.list_codes(whole_store=whole_store), on_done=self._loaded,
                           on_error=self._show_error, owner=self, key=f"codes.list.{id(self)}")

    def _loaded(self, rows: list[CodeInfo]) -> None:
        self.loads_done += 1
        self.model.set_rows(rows)
        target = self._select_after_load
        self._select_after_load = None
        self._show_list_state()
        if target is not None:
            self.select_code(target)
        self._selection_changed()

    def _show_list_state(self) -> None:
        if self.model.rowCount() == 0:
            self.list_empty.setText(tr("code.empty"))
            self.list_stack.setCurrentIndex(0)
        elif self.proxy.rowCount() == 0:
            self.list_empty.setText(tr("code.empty_filtered"))
            self.list_stack.setCurrentIndex(0)
        else:
            self.list_stack.setCurrentIndex(1)

    def _filter_changed(self, text: str) -> None:
        self.proxy.set_text(text)
        self._show_list_state()

    def select_code(self, code_id: str) -> None:
        row = self.model.row_of(code_id)
        if row < 0:
            return
        index = self.proxy.mapFromSource(self.model.index(row, 0))
        if index.isValid():
            self.table.selectionModel().setCurrentIndex(
                index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
            )

    def selected_infos(self) -> list[CodeInfo]:
        rows = sorted({self.proxy.mapToSource(i).row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.info(r) for r in rows]

    def current_info(self) -> CodeInfo | None:
        selected = self.selected_infos()
        if len(selected) != 1:
            return None
        return selected[0]

    def _selection_changed(self, *_args: object) -> None:
        self._update_actions()
        info = self.current_info()
        if info is None:
            self.detail_stack.setCurrentIndex(0)
            return
        self.detail_stack.setCurrentIndex(1)
        self._show_info(info)
        url, logo, code_id, tag_ids = info.url, info.logo, info.id, info.auto_tag_ids

        def load(_c: TaskControl) -> tuple[CodeStats, bytes | None, list[str]]:
            png = render_png(url, PREVIEW_PX, decode_logo(logo)) if url else None
            return self.service.stats(code_id), png, self.service.tag_names(tag_ids)

        self.runner.run_db(load, on_done=self._show_detail, on_error=self._show_error, owner=self,
                           key=f"codes.detail.{id(self)}")

    def _show_info(self, info: CodeInfo) -> None:
        self.title.setText(f"<b>{html.escape(info.label)}</b>")
        self.state.setText(state_text(info))
        self.state.setStyleSheet(f"color: {STATE_COLOURS[info.state]}; font-weight: bold;")
        self.hint.setText(state_hint(info))
        self.url.setText(info.url)
        self._facts = [f"{tr('code.col.channel')}：{channel_name(info.channel)}",
                       f"{tr('code.col.guide')}：{info.guide_name}",
                       f"{tr('code.col.expires')}：{expiry_text(info.expires_at)}"]
        if info.welcome_text:
            welcome = info.welcome_text if len(info.welcome_text) <= 60 else info.welcome_text[:60] + "…"
            self._facts.append(f"{tr('code.field.welcome')}：{welcome}")
        self.facts.setText("\n".join(self._facts))
        self.disable_button.setText(tr("code.action.enable") if info.disabled else tr("code.action.disable"))
        self.expire_button.setEnabled(info.life != EXPIRED)
        self.copy_button.setEnabled(bool(info.url))
        self.preview.clear()

    def _show_detail(self, loaded: tuple[CodeStats, bytes | None, list[str]]) -> None:
        stats, png, tag_names = loaded
        if tag_names:
            self.facts.setText("\n".join([*self._facts, f"{tr('code.field.auto_tags')}：{'、'.join(tag_names)}"]))
        if png is not None:
            pixmap = QPixmap()
            pixmap.loadFromData(png, "PNG")
            self.preview.setPixmap(pixmap)
        self.stats_view.show_stats(stats)

    def _update_actions(self) -> None:
        selected = self.selected_infos()
        self.export_button.setEnabled(bool(selected))
        self.print_button.setEnabled(bool(selected))

    # -- writing ---------------------------------------------------------------------------
    def _choices(self, with_guides: bool) -> Callable[[TaskControl], tuple[list[Choice], list[Choice], list[Choice]]]:
        def load(_c: TaskControl) -> tuple[list[Choice], list[Choice], list[Choice]]:
            tags = self.service.tag_choices()
            campaigns = list(self._campaigns()) if self._campaigns is not None else []
            guides = self.service.guide_choices() if with_guides else []
            return tags, campaigns, guides

        return load

    def new_code(self) -> None:
        def open_dialog(choices: tuple[list[Choice], list[Choice], list[Choice]]) -> None:
            tags, campaigns, guides = choices
            initial = CodeInput(guide_id=self.service.ctx.actor.guide_id)
            dialog = CodeDialog(self.runner, self.service.create, title=tr("code.dialog.new_title"), tags=tags,
                                campaigns=campaigns, guides=guides, initial=initial, parent=self)
            self._run_dialog(dialog)

        self.runner.run_db(self._choices(self._is_manager), on_done=open_dialog, on_error=self._show_error,
                           owner=self)

    def edit_current(self) -> None:
        info = self.current_info()
        if info is None:
            return
        code_id = info.id

        def open_dialog(choices: tuple[list[Choice], list[Choice], list[Choice]]) -> None:
            tags, campaigns, _ = choices
            dialog = CodeDialog(self.runner, lambda data: self.service.update(code_id, data),
                                title=tr("code.dialog.edit_title"), tags=tags, campaigns=campaigns,
                                initial=info.to_input(), parent=self)
            self._select_after_load = code_id
            self._run_dialog(dialog)

        self.runner.run_db(self._choices(False), on_done=open_dialog, on_error=self._show_error, owner=self)

    def generate_for_store(self) -> None:
        def load(c: TaskControl) -> tuple[tuple[list[Choice], list[Choice], list[Choice]], int]:
            return self._choices(False)(c), len(self.service.guide_choices())

        def open_dialog(loaded: tuple[tuple[list[Choice], list[Choice], list[Choice]], int]) -> None:
            (tags, campaigns, _), count = loaded
            dialog = CodeDialog(self.runner, self.service.generate_for_store, title=tr("code.generate.title"),
                                tags=tags, campaigns=campaigns, explain=tr("code.generate.explain", count=count),
                                allow_logo=True, parent=self)
            def generated(result: Any) -> None:
                if isinstance(result, list):
                    self._say(tr("code.generate.done", count=len(result)))
                    self.scope.setCurrentIndex(1)

            self._run_dialog(dialog, generated)

        self.runner.run_db(load, on_done=open_dialog, on_error=self._show_error, owner=self)

    def _run_dialog(self, dialog: CodeDialog, then: Callable[[Any], None] | None = None) -> None:
        """Open ``dialog`` window-modal without blocking; on save, reload and select the saved code."""

        def saved() -> None:
            if isinstance(dialog.result_value, str):
                self._select_after_load = dialog.result_value
            if then is not None:
                then(dialog.result_value)
            self.reload()

        dialog.accepted.connect(saved)
        dialog.finished.connect(dialog.deleteLater)
        dialog.finished.connect(lambda _r: setattr(self, "active_dialog", None))
        self.active_dialog = dialog
        dialog.open()

    def copy_link(self) -> None:
        """The landing link, for sharing in chats or moments where a picture is not needed."""
        info = self.current_info()
        if info is not None and info.url:
            QGuiApplication.clipboard().setText(info.url)
            self._say(tr("code.link_copied"))

    def toggle_disabled(self) -> None:
        info = self.current_info()
        if info is None:
            return
        self._write(lambda _c: self.service.set_disabled(info.id, not info.disabled), info.id)

    def expire_current(self) -> None:
        info = self.current_info()
        if info is None or info.life == EXPIRED:
            return
        answer = QMessageBox.question(self, tr("code.expire.confirm_title"),
                                      tr("code.expire.confirm", label=info.label))
        if answer == QMessageBox.StandardButton.Yes:
            self._write(lambda _c: self.service.expire_now(info.id), info.id)

    def _write(self, fn: Callable[[TaskControl], Any], code_id: str) -> None:
        self._select_after_load = code_id
        self.runner.run_db(fn, on_done=lambda _r: self.reload(), on_error=self._show_error, owner=self)

    # -- exporting and printing ------------------------------------------------------------
    def export_selected(self) -> None:
        infos = self.selected_infos()
        if not infos:
            return
        dialog = CodeExportDialog(infos, parent=self)
        dialog.accepted.connect(
            lambda: self.export(infos, dialog.options(), dialog.target(), as_folder=dialog.as_folder())
        )
        dialog.finished.connect(dialog.deleteLater)
        dialog.finished.connect(lambda _r: setattr(self, "active_dialog", None))
        self.active_dialog = dialog
        dialog.open()

    def export(self, infos: Sequence[CodeInfo], options: ExportOptions, target: Path, *, as_folder: bool) -> None:
        """Write ``infos`` to ``target`` off the GUI thread, with a cancellable progress dialog."""
        infos = list(infos)

        def work(c: TaskControl) -> Any:
            if as_folder:
                return export_folder(infos, target, options, progress=c.progress, cancelled=c.cancelled)
            if len(infos) > 1:
                return export_batch_pdf(infos, target, options, progress=c.progress, cancelled=c.cancelled)
            return export_one(infos[0], target, options)

        def done(result: Any) -> None:
            self._close_progress()
            self.last_export = result
            self._say(tr("code.export.done", path=str(target)))

        self._open_progress(tr("code.export.progress"), len(infos))
        self._export_handle = self.runner.run_db(work, on_done=done, on_error=self._export_failed,
                                                 on_progress=self._progress_to, on_cancelled=self._close_progress,
                                                 owner=self)

    def print_selected(self) -> None:
        infos = self.selected_infos()
        if not infos:
            return
        pending = unsynced_count(infos)
        if pending:
            box = QMessageBox(QMessageBox.Icon.Warning, tr("code.print.unsynced_title"),
                              tr("code.print.unsynced", count=pending), parent=self)
            anyway = box.addButton(tr("code.print.anyway"), QMessageBox.ButtonRole.AcceptRole)
            box.addButton(QMessageBox.StandardButton.Cancel)
            box.exec()
            if box.clickedButton() is not anyway:
                return
        options_dialog = CodeExportDialog(infos, print_mode=True, parent=self)
        if options_dialog.exec() != QDialog.DialogCode.Accepted:
            return
        options = options_dialog.options()
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        # the poster's own paper size by default (an A5 table card on A5); the dialog can change it
        w_mm, h_mm = POSTER_SIZES[options.poster]
        printer.setPageSize(QPageSize(QSizeF(w_mm, h_mm), QPageSize.Unit.Millimeter, tr(f"code.poster.{options.poster}"),
                                      QPageSize.SizeMatchPolicy.FuzzyMatch))
        print_dialog = QPrintDialog(printer, self)
        if print_dialog.exec() == QDialog.DialogCode.Accepted:
            self.print_codes(infos, options, printer)

    def print_codes(self, infos: Sequence[CodeInfo], options: ExportOptions, printer: QPrinter) -> None:
        """Lay the posters out off the GUI thread, then paint them page by page onto ``printer``."""
        infos = list(infos)

        def work(c: TaskControl) -> list[PosterLayout]:
            out = []
            for n, info in enumerate(infos, start=1):
                c.check()
                out.append(layout_poster(poster_content(info, options.call_to_action), options.poster))
                c.progress(n, len(infos))
            return out

        def paint(layouts: list[PosterLayout]) -> None:
            self._close_progress()
            painter = QPainter()
            if not painter.begin(printer):
                self._show_error(UserError("code.print_failed", printer=printer.printerName()))
                return
            try:
                for i, lay in enumerate(layouts):
                    if i:
                        printer.newPage()
                    page = printer.pageLayout().paintRectPixels(printer.resolution())
                    paint_poster(painter, lay, QRectF(0, 0, page.width(), page.height()))
            finally:
                painter.end()
            self.last_export = len(layouts)

        self._open_progress(tr("code.print.progress"), len(infos))
        self._export_handle = self.runner.run_db(work, on_done=paint, on_error=self._export_failed,
                                                 on_progress=self._progress_to, on_cancelled=self._close_progress,
                                                 owner=self)

    def _open_progress(self, text: str, total: int) -> None:
        self._close_progress()
        dialog = QProgressDialog(text, tr("code.export.cancel"), 0, total, self)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(400)  # quick single exports never flash a dialog
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.canceled.connect(self._cancel_export)
        self._progress = dialog

    def _progress_to(self, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress.setMaximum(total)
            self._progress.setValue(done)

    def _cancel_export(self) -> None:
        if self._export_handle is not None:
            self._export_handle.cancel()
        self._say(tr("code.export_cancelled"))

    def _close_progress(self) -> None:
        if self._progress is not None:
            self._progress.canceled.disconnect(self._cancel_export)
            self._progress.close()
            self._progress.deleteLater()
            self._progress = None

    def _export_failed(self, exc: BaseException) -> None:
        self._close_progress()
        self._show_error(exc)

    def _show_error(self, exc: BaseException) -> None:
        self.status.setStyleSheet("color: #c62828;")
        self.status.setText(message_of(exc))

    def _say(self, text: str) -> None:
        self.status.setStyleSheet("")
        self.status.setText(text)

    def code_id_at(self, proxy_row: int) -> str:
        return str(self.proxy.data(self.proxy.index(proxy_row, 0), ID_ROLE))
