"""Export (and print) options for one or many codes: format, size, poster size, call to action and
where to save. Codes not yet synced are named in a warning: a printed code only works once HQ has it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QStandardPaths
from PySide6.QtWidgets import (
    QBoxLayout,
    QButtonGroup,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from guide_app.i18n import tr
from guide_app.services.code_export import FORMATS, ExportOptions, file_stem
from guide_app.services.code_posters import POSTER_SIZES
from guide_app.services.code_render import MAX_PX, MIN_PX
from guide_app.services.codes import PENDING, REJECTED, CodeInfo
from guide_app.views.codes_view_util import name_buttons

DEFAULT_PX = 1024


def unsynced_count(infos: Sequence[CodeInfo]) -> int:
    """Codes HQ does not have yet: scanning a printed copy would not work (yet)."""
    return sum(1 for i in infos if i.sync_state in (PENDING, REJECTED))


def default_folder() -> Path:
    docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(docs or Path.home())


class CodeExportDialog(QDialog):
    def __init__(self, infos: Sequence[CodeInfo], *, print_mode: bool = False,
                 folder: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.infos = list(infos)
        self.print_mode = print_mode
        self._folder = folder or default_folder()
        self.setWindowTitle(tr("code.print.title") if print_mode else tr("code.export.title"))
        self.setMinimumWidth(500)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(tr("code.export.count", count=len(self.infos))))
        pending = unsynced_count(self.infos)
        self.warning = QLabel(tr("code.export.unsynced_warning", count=pending))
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet("color: #b26a00;")
        self.warning.setVisible(pending > 0)
        layout.addWidget(self.warning)

        form = QFormLayout()
        layout.addLayout(form)
        self.format = QComboBox()
        for f in FORMATS:
            self.format.addItem(tr(f"code.format.{f}"), f)
        self.format.setCurrentIndex(self.format.findData("pdf" if print_mode else "png"))
        self.size_px = QSpinBox()
        self.size_px.setRange(MIN_PX, MAX_PX)
        self.size_px.setSingleStep(128)
        self.size_px.setValue(DEFAULT_PX)
        self.size_px.setSuffix(tr("code.export.px"))
        self.poster = QComboBox()
        for p in POSTER_SIZES:
            self.poster.addItem(tr(f"code.poster.{p}"), p)
        self.cta = QLineEdit()
        self.cta.setPlaceholderText(tr("code.poster.cta_default"))
        self.cta.setMaxLength(60)

        self.one_pdf = QRadioButton(tr("code.export.one_pdf"))
        self.to_folder = QRadioButton(tr("code.export.folder"))
        self._target = QButtonGroup(self)
        self._target.addButton(self.one_pdf)
        self._target.addButton(self.to_folder)
        self.one_pdf.setChecked(True)
        target_box = QVBoxLayout()
        target_box.addWidget(self.one_pdf)
        target_box.addWidget(self.to_folder)

        self.path = QLineEdit()
        self.browse = QPushButton(tr("code.export.browse"))
        self.browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(self.browse)

        self.rows: dict[str, tuple[QLabel, QWidget | QBoxLayout]] = {}
        fields: tuple[tuple[str, str, QWidget | QBoxLayout], ...] = (
            ("format", tr("code.export.format"), self.format),
            ("size", tr("code.export.size"), self.size_px),
            ("poster", tr("code.export.poster_size"), self.poster),
            ("cta", tr("code.export.cta"), self.cta),
            ("target", tr("code.export.target"), target_box),
            ("path", tr("code.export.path"), path_row),
        )
        for key, label, field in fields:
            lab = QLabel(label)
            if isinstance(field, QWidget):
                form.addRow(lab, field)
            else:
                form.addRow(lab, field)
            self.rows[key] = (lab, field)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        name_buttons(self.buttons)
        self.buttons.accepted.connect(self._accept_if_ready)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.format.currentIndexChanged.connect(self._update)
        self.one_pdf.toggled.connect(self._update)
        self._update()

    # -- what was chosen -------------------------------------------------------------------
    def options(self) -> ExportOptions:
        return ExportOptions(fmt=str(self.format.currentData()), size_px=self.size_px.value(),
                             poster=str(self.poster.currentData()), call_to_action=self.cta.text())

    def as_folder(self) -> bool:
        if len(self.infos) == 1:
            return False
        return self.options().fmt != "pdf" or self.to_folder.isChecked()

    def target(self) -> Path:
        return Path(self.path.text().strip())

    # -- keeping the form consistent -------------------------------------------------------
    def _set_row(self, key: str, visible: bool) -> None:
        lab, field = self.rows[key]
        lab.setVisible(visible)
        if isinstance(field, QWidget):
            field.setVisible(visible)
            return
        for i in range(field.count()):
            item = field.itemAt(i)
            w = item.widget() if item is not None else None
            if w is not None:
                w.setVisible(visible)

    def _update(self) -> None:
        fmt = self.options().fmt
        self._set_row("format", not self.print_mode)
        self._set_row("size", not self.print_mode and fmt in ("png", "svg"))
        self._set_row("poster", self.print_mode or fmt == "pdf")
        self._set_row("cta", self.print_mode or fmt == "pdf")
        self._set_row("target", not self.print_mode and fmt == "pdf" and len(self.infos) > 1)
        self._set_row("path", not self.print_mode)
        if not self.print_mode:
            self.path.setText(str(self._suggested_path()))

    def _suggested_path(self) -> Path:
        current = self.target() if self.path.text().strip() else None
        folder = self._folder
        if current is not None and str(current) not in ("", "."):
            folder = current if current.suffix == "" and not current.is_file() else current.parent
        if self.as_folder():
            return folder
        fmt = self.options().fmt
        stem = file_stem(self.infos[0]) if len(self.infos) == 1 else tr("code.poster.batch_title")
        return folder / f"{stem}.{fmt}"

    def _browse(self) -> None:
        if self.as_folder():
            chosen = QFileDialog.getExistingDirectory(self, tr("code.export.choose_folder"), str(self._folder))
        else:
            fmt = self.options().fmt
            chosen, _ = QFileDialog.getSaveFileName(self, tr("code.export.save_as"), str(self._suggested_path()),
                                                    tr(f"code.export.filter.{fmt}"))
        if chosen:
            self.path.setText(chosen)

    def _accept_if_ready(self) -> None:
        if not self.print_mode and not self.path.text().strip():
            self._browse()
            if not self.path.text().strip():
                return
        self.accept()
