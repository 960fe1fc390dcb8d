"""Import a customer file (CSV/XLSX) and export the current list.

Import: pick a file → preview with the detected encoding and a column mapping (the mapping used
last time for these headers is offered again) → run on the DB thread with progress and Cancel →
report with row numbers and reasons, and a button to save the refused rows for fixing.
Export: HQ is asked (network thread) for the manager's exports today on the other PCs, then the ids
of the current (filtered, sorted) list are written on the DB thread with progress; offline, only
this PC's exports count against the daily limit and the dialog and status say so.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QProgressDialog,
    QPushButton,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from guide_app.i18n import current_language, tr
from guide_app.services.export_count import fetch_hq_exports
from guide_app.services.exporter import ExportResult, export_customers
from guide_app.services.import_files import IMPORT_FIELDS, ImportPreview, sniff
from guide_app.services.importer import ImportJob, ImportOptions, ImportReport, write_error_report
from guide_app.services.privacy import HqExports
from guide_app.tasks import TaskControl, TaskHandle
from guide_app.views.app_services import AppServices
from guide_app.views.empty_area import centred_column
from guide_app.views.formatting import error_text
from guide_app.views.theme import icon

PAGE_PICK, PAGE_PREVIEW, PAGE_RUN, PAGE_REPORT = range(4)


class ImportDialog(QDialog):
    imported = Signal()

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.preview: ImportPreview | None = None
        self.report: ImportReport | None = None
        self.handle: TaskHandle[ImportReport] | None = None
        self.mapping_boxes: list[QComboBox] = []
        self.setWindowTitle(tr("ui.import.title"))
        self.setMinimumSize(820, 540)
        self.resize(900, 600)

        self.pages = QStackedWidget()
        self.pages.addWidget(self._pick_page())
        self.pages.addWidget(self._preview_page())
        self.pages.addWidget(self._run_page())
        self.pages.addWidget(self._report_page())
        self.message = QLabel()
        self.message.setObjectName("fieldError")
        self.message.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.message)

    # -- pages -------------------------------------------------------------------------------
    def _pick_page(self) -> QWidget:
        page = QWidget()
        picture = QLabel()
        picture.setPixmap(icon("import").pixmap(64, 64))
        head = QLabel(tr("ui.import.pick_title"))
        head.setObjectName("emptyTitle")
        body = QLabel(tr("ui.import.pick_body"))
        body.setObjectName("emptyBody")
        body.setWordWrap(True)
        body.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.pick_button = QPushButton(tr("ui.import.pick"))
        self.pick_button.setProperty("primary", True)
        self.pick_button.clicked.connect(self.choose_file)
        self.pick_cancel = QPushButton(tr("ui.cancel"))
        self.pick_cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.pick_button)
        buttons.addWidget(self.pick_cancel)
        buttons.addStretch(1)
        picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        head.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        layout.addLayout(centred_column([picture, head, body], 620))
        layout.addSpacing(12)
        layout.addLayout(buttons)
        layout.addStretch(2)
        return page

    def _preview_page(self) -> QWidget:
        page = QWidget()
        self.file_label = QLabel()
        self.file_label.setObjectName("sectionTitle")
        self.file_info = QLabel()
        self.file_info.setObjectName("muted")
        self.file_info.setWordWrap(True)
        hint = QLabel(tr("ui.import.mapping_hint"))
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self.preview_table = QTableWidget()
        self.preview_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.preview_table.setAlternatingRowColors(True)
        self.preview_table.verticalHeader().setDefaultSectionSize(30)
        self.preview_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.start_button = QPushButton(tr("ui.import.start"))
        self.start_button.setProperty("primary", True)
        self.start_button.clicked.connect(self.start)
        self.other_file = QPushButton(tr("ui.import.other_file"))
        self.other_file.clicked.connect(self.choose_file)
        cancel = QPushButton(tr("ui.cancel"))
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.other_file)
        buttons.addStretch(1)
        buttons.addWidget(self.start_button)
        buttons.addWidget(cancel)
        layout = QVBoxLayout(page)
        layout.addWidget(self.file_label)
        layout.addWidget(self.file_info)
        layout.addWidget(hint)
        layout.addWidget(self.preview_table, 1)
        layout.addLayout(buttons)
        return page

    def _run_page(self) -> QWidget:
        page = QWidget()
        self.run_label = QLabel(tr("ui.import.running"))
        self.run_label.setObjectName("sectionTitle")
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress_text = QLabel()
        self.progress_text.setObjectName("muted")
        self.cancel_button = QPushButton(tr("ui.import.cancel"))
        self.cancel_button.clicked.connect(self.cancel_import)
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        layout.addWidget(self.run_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.progress_text)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.cancel_button)
        layout.addLayout(row)
        layout.addStretch(2)
        return page

    def _report_page(self) -> QWidget:
        page = QWidget()
        self.report_title = QLabel()
        self.report_title.setObjectName("sectionTitle")
        self.report_summary = QLabel()
        self.report_summary.setWordWrap(True)
        self.issues = QTableWidget(0, 4)
        self.issues.setHorizontalHeaderLabels([tr("ui.import.col.line"), tr("ui.import.col.kind"),
                                               tr("ui.import.col.reason"), tr("ui.import.col.excerpt")])
        self.issues.verticalHeader().hide()
        self.issues.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.issues.setAlternatingRowColors(True)
        self.issues.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.issues.horizontalHeader().setStretchLastSection(True)
        self.save_failed = QPushButton(tr("ui.import.save_failed"))
        self.save_failed.clicked.connect(self.choose_error_file)
        done = QPushButton(tr("ui.import.done"))
        done.setProperty("primary", True)
        done.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.save_failed)
        buttons.addStretch(1)
        buttons.addWidget(done)
        layout = QVBoxLayout(page)
        layout.addWidget(self.report_title)
        layout.addWidget(self.report_summary)
        layout.addWidget(self.issues, 1)
        layout.addLayout(buttons)
        return page

    # -- step 1: the file --------------------------------------------------------------------
    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, tr("ui.import.pick"), str(Path.home()),
                                              tr("ui.import.file_filter"))
        if path:
            self.load_file(Path(path))

    def load_file(self, path: Path) -> None:
        ctx = self.services.ctx
        self.message.setText("")
        self.pick_button.setEnabled(False)

        def look(_: TaskControl) -> ImportPreview:
            return sniff(path, ctx=ctx)

        def failed(exc: BaseException) -> None:
            self.pick_button.setEnabled(True)
            self.message.setText(error_text(exc))

        self.services.runner.run_db(look, on_done=self.show_preview, on_error=failed, owner=self)

    # -- step 2: preview and mapping ---------------------------------------------------------
    def show_preview(self, preview: ImportPreview) -> None:
        self.pick_button.setEnabled(True)
        self.preview = preview
        self.file_label.setText(preview.path.name)
        info = []
        if preview.format.kind == "csv":
            info.append(tr("import.encoding", encoding=preview.encoding_label))
        else:
            info.append(tr("ui.import.sheet", sheet=preview.format.sheet or (preview.sheets[0] if preview.sheets else "")))
        info.append(tr("ui.import.rows_estimate" if preview.total_is_estimate else "ui.import.rows",
                       count=preview.total_rows))
        if preview.mapping_remembered:
            info.append(tr("import.mapping_remembered"))
        self.file_info.setText("　·　".join(info))

        t = self.preview_table
        ncols = len(preview.headers)
        t.clear()
        t.setColumnCount(ncols)
        t.setRowCount(len(preview.rows) + 1)
        t.setHorizontalHeaderLabels(preview.headers)
        t.setVerticalHeaderLabels([tr("ui.import.map_row")] + [str(n) for n, _ in preview.rows])
        self.mapping_boxes = []
        for col in range(ncols):
            box = QComboBox()
            box.addItem(tr("import.field.ignore"), "")
            for name in IMPORT_FIELDS:
                box.addItem(tr(f"import.field.{name}"), name)
            box.setCurrentIndex(max(0, box.findData(preview.mapping.get(col, ""))))
            box.currentIndexChanged.connect(self._mapping_changed)
            t.setCellWidget(0, col, box)
            self.mapping_boxes.append(box)
            t.setColumnWidth(col, 130)
        for r, (_n, cells) in enumerate(preview.rows, start=1):
            for c in range(ncols):
                t.setItem(r, c, QTableWidgetItem(cells[c] if c < len(cells) else ""))
        t.setRowHeight(0, 38)
        self._mapping_changed()
        self.pages.setCurrentIndex(PAGE_PREVIEW)

    def mapping(self) -> dict[int, str]:
        return {i: str(b.currentData()) for i, b in enumerate(self.mapping_boxes) if b.currentData()}

    def _mapping_changed(self) -> None:
        has_name = "name" in self.mapping().values()
        self.start_button.setEnabled(has_name)
        self.message.setText("" if has_name else tr("import.name_not_mapped"))

    # -- step 3: run -------------------------------------------------------------------------
    def start(self) -> None:
        if self.preview is None:
            return
        try:
            job = ImportJob(self.services.ctx, self.preview.path, self.mapping(),
                            ImportOptions(format=self.preview.format))
        except Exception as exc:  # a refusal of the mapping, shown in the UI language
            self.message.setText(error_text(exc))
            return
        self.message.setText("")
        self.progress.setRange(0, max(1, self.preview.total_rows))
        self.progress.setValue(0)
        self.progress_text.setText(tr("import.progress", done=0, total=self.preview.total_rows))
        self.cancel_button.setEnabled(True)
        self.pages.setCurrentIndex(PAGE_RUN)

        def run(control: TaskControl) -> ImportReport:
            return job.run(progress=control.progress, cancelled=control.cancelled)

        self.handle = self.services.runner.run_db(run, on_done=self.show_report, on_error=self._failed,
                                                  on_progress=self._progress, owner=self)

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(1, total))
        self.progress.setValue(min(done, total))
        self.progress_text.setText(tr("import.progress", done=done, total=total))

    def cancel_import(self) -> None:
        if self.handle is not None:
            # stop(), not cancel(): the job stops between batches and its report says where
            self.cancel_button.setEnabled(False)
            self.progress_text.setText(tr("ui.import.cancelling"))
            self.handle.stop()

    def _failed(self, exc: BaseException) -> None:
        self.pages.setCurrentIndex(PAGE_PREVIEW)
        self.message.setText(error_text(exc))

    # -- step 4: report ----------------------------------------------------------------------
    def show_report(self, report: ImportReport) -> None:
        self.report = report
        self.handle = None
        if report.cancelled:
            title = tr("ui.import.report_cancelled")
        elif report.stopped_reason:
            title = tr("ui.import.report_stopped")
        else:
            title = tr("ui.import.report_done")
        self.report_title.setText(title)
        self.report_summary.setText(report.summary())
        self.issues.setRowCount(0)
        for kind, issues in (("error", report.errors), ("warning", report.warnings)):
            for issue in issues:
                r = self.issues.rowCount()
                self.issues.insertRow(r)
                self.issues.setItem(r, 0, QTableWidgetItem(str(issue.line)))
                self.issues.setItem(r, 1, QTableWidgetItem(tr(f"ui.import.kind.{kind}")))
                self.issues.setItem(r, 2, QTableWidgetItem(issue.reason))
                self.issues.setItem(r, 3, QTableWidgetItem(issue.excerpt))
        self.save_failed.setEnabled(bool(report.errors))
        self.pages.setCurrentIndex(PAGE_REPORT)
        if report.imported or report.merged:
            self.imported.emit()

    def choose_error_file(self) -> None:
        if self.report is None or self.preview is None:
            return
        suggested = self.preview.path.with_name(self.preview.path.stem + tr("ui.import.failed_suffix") + ".csv")
        path, _ = QFileDialog.getSaveFileName(self, tr("ui.import.save_failed"), str(suggested), "CSV (*.csv)")
        if path:
            self.save_error_file(Path(path))

    def save_error_file(self, path: Path) -> None:
        report = self.report
        if report is None:
            return

        def saved(written: Path) -> None:
            self.message.setObjectName("hint")
            self.message.setText(tr("ui.import.failed_saved", path=str(written)))

        self.services.runner.run_db(lambda _c: write_error_report(report, path), on_done=saved,
                                    on_error=lambda e: self.message.setText(error_text(e)), owner=self)

    def reject(self) -> None:
        if self.pages.currentIndex() == PAGE_RUN:
            self.cancel_import()  # Esc while importing cancels the import; the report follows
            return
        super().reject()


class ExportController(QObject):
    """Exports the ids of the current list to CSV or XLSX with a progress dialog and Cancel."""

    status = Signal(str)
    finished = Signal(object)  # ExportResult

    def __init__(self, services: AppServices, parent: QWidget) -> None:
        super().__init__(parent)
        self.services = services
        self.window = parent
        self.dialog: QProgressDialog | None = None

    def start(self, pks: list[int]) -> None:
        if not pks:
            self.status.emit(tr("ui.export.nothing"))
            return
        default = str(Path.home() / tr("ui.export.default_name"))
        path, _ = QFileDialog.getSaveFileName(self.window, tr("ui.export.title"), default, tr("ui.export.filter"))
        if path:
            if not Path(path).suffix:
                path += ".xlsx"
            self.export_to(Path(path), pks)

    def export_to(self, path: Path, pks: list[int]) -> None:
        ctx, lang = self.services.ctx, current_language()
        settings = self.services.settings
        sync = self.services.sync.service if self.services.sync is not None else None
        dialog = QProgressDialog(tr("ui.export.checking"), tr("ui.cancel"), 0, len(pks), self.window)
        dialog.setWindowTitle(tr("ui.export.title"))
        dialog.setMinimumDuration(300)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        self.dialog = dialog
        stopped = {"before_start": False}
        shown = {"note": ""}

        def with_note(text: str) -> str:
            return f"{text}\n{tr(shown['note'])}" if shown["note"] else text

        def close() -> None:
            dialog.reset()
            dialog.deleteLater()
            self.dialog = None

        def progress(done: int, total: int) -> None:
            dialog.setMaximum(max(1, total))
            dialog.setValue(min(done, total))
            dialog.setLabelText(with_note(tr("export.progress", done=done, total=total)))

        def done(result: ExportResult) -> None:
            close()
            self.status.emit(with_note(tr("ui.export.cancelled") if result.cancelled
                                       else tr("ui.export.done", rows=result.rows, path=str(result.path))))
            self.finished.emit(result)

        def failed(exc: BaseException) -> None:
            close()
            self.status.emit(with_note(error_text(exc)))
            self.finished.emit(exc)

        def export(hq: HqExports) -> None:
            # the day's exports on the other PCs came from HQ (or could not): now write, on the DB thread
            if stopped["before_start"]:
                close()
                self.status.emit(tr("ui.export.cancelled"))
                self.finished.emit(ExportResult(path, 0, cancelled=True, note=hq.note))
                return
            shown["note"] = hq.note

            def run(control: TaskControl) -> ExportResult:
                return export_customers(ctx, pks, path, progress=control.progress, cancelled=control.cancelled,
                                        thresholds=settings.stage_thresholds(), lang=lang, hq=hq)

            dialog.setLabelText(with_note(tr("export.progress", done=0, total=len(pks))))
            handle = self.services.runner.run_db(run, on_done=done, on_error=failed, on_progress=progress,
                                                 owner=self)
            # the exporter polls the token and returns a result marked cancelled (its .part file removed)
            dialog.canceled.disconnect(stop_before_start)
            dialog.canceled.connect(handle.stop)

        def stop_before_start() -> None:
            stopped["before_start"] = True

        dialog.canceled.connect(stop_before_start)
        # a network call (HQ's count of today's exports on every PC): never on the GUI or the DB thread
        self.services.runner.run_net(lambda _c: fetch_hq_exports(ctx, sync), on_done=export, on_error=failed,
                                     owner=self)
