"""设置: UI language (applied at once), stage thresholds, and where the data lives."""

from __future__ import annotations

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from guide_app.domain.stages import StageThresholds
from guide_app.i18n import LANGUAGES, current_language, tr
from guide_app.tasks import TaskControl
from guide_app.views.app_services import AppServices
from guide_app.views.formatting import error_text


def _form(box: QGroupBox) -> QFormLayout:
    form = QFormLayout(box)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.FieldsStayAtSizeHint)
    form.setVerticalSpacing(10)
    return form


class SettingsPage(QWidget):
    language_changed = Signal(str)
    status = Signal(str)

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        title = QLabel(tr("ui.nav.settings"))
        title.setObjectName("pageTitle")

        self.language = QComboBox()
        for lang in LANGUAGES:
            self.language.addItem(tr(f"ui.settings.lang.{lang}"), lang)
        self.language.setCurrentIndex(max(0, self.language.findData(current_language())))
        self.language.setMinimumWidth(220)
        self.language.currentIndexChanged.connect(self._language_picked)
        lang_box = QGroupBox(tr("ui.settings.language"))
        lang_form = _form(lang_box)
        lang_form.addRow(tr("ui.settings.language_label"), self.language)
        lang_hint = QLabel(tr("ui.settings.language_hint"))
        lang_hint.setObjectName("hint")
        lang_hint.setWordWrap(True)
        lang_form.addRow(lang_hint)

        self.new_days = QSpinBox()
        self.sleeping_days = QSpinBox()
        self.lost_days = QSpinBox()
        for box in (self.new_days, self.sleeping_days, self.lost_days):
            box.setRange(1, 3650)
            box.setSuffix(tr("ui.settings.days_suffix"))
            box.setMinimumWidth(120)
        self.save_stages = QPushButton(tr("ui.settings.save_stages"))
        self.save_stages.setProperty("primary", True)
        self.save_stages.clicked.connect(self._save_stages)
        self.stage_message = QLabel()
        self.stage_message.setWordWrap(True)
        stage_box = QGroupBox(tr("ui.settings.stages"))
        stage_form = _form(stage_box)
        stage_hint = QLabel(tr("ui.settings.stages_hint"))
        stage_hint.setObjectName("hint")
        stage_hint.setWordWrap(True)
        stage_form.addRow(stage_hint)
        stage_form.addRow(tr("ui.settings.new_days"), self.new_days)
        stage_form.addRow(tr("ui.settings.sleeping_days"), self.sleeping_days)
        stage_form.addRow(tr("ui.settings.lost_days"), self.lost_days)
        row = QHBoxLayout()
        row.addWidget(self.save_stages)
        row.addWidget(self.stage_message, 1)
        stage_form.addRow(row)

        self.data_dir = QLabel(str(services.data_dir))
        self.data_dir.setObjectName("muted")
        self.data_dir.setWordWrap(True)
        self.open_folder = QPushButton(tr("ui.settings.open_folder"))
        self.open_folder.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.services.data_dir))))
        data_box = QGroupBox(tr("ui.settings.data"))
        data_form = _form(data_box)
        data_form.addRow(tr("ui.settings.data_dir"), self.data_dir)
        profile = QLabel(tr("ui.settings.profile_value", store=services.store_name or "—",
                            guide=services.guide_name or "—"))
        data_form.addRow(tr("ui.settings.profile"), profile)
        data_form.addRow("", self.open_folder)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(12)
        layout.addWidget(title)
        for section in (lang_box, stage_box, data_box):
            section.setMaximumWidth(720)
            layout.addWidget(section)
        layout.addStretch(1)
        self._load()

    def _load(self) -> None:
        settings = self.services.settings
        self.services.runner.run_db(lambda _c: settings.stage_thresholds(), on_done=self._show_thresholds, owner=self)

    def _show_thresholds(self, t: StageThresholds) -> None:
        self.new_days.setValue(t.new_days)
        self.sleeping_days.setValue(t.sleeping_days)
        self.lost_days.setValue(t.lost_days)

    def _save_stages(self) -> None:
        t = StageThresholds(self.new_days.value(), self.sleeping_days.value(), self.lost_days.value())
        settings = self.services.settings

        def save(_: TaskControl) -> None:
            settings.set_stage_thresholds(t)

        def saved(_: None) -> None:
            self.stage_message.setObjectName("hint")
            self.stage_message.setStyleSheet("")
            self.stage_message.setText(tr("ui.settings.stages_saved"))
            self.status.emit(tr("ui.settings.stages_saved"))

        def failed(exc: BaseException) -> None:
            self.stage_message.setStyleSheet("color: #c62828;")
            self.stage_message.setText(error_text(exc))

        self.services.runner.run_db(save, on_done=saved, on_error=failed, owner=self)

    def _language_picked(self) -> None:
        lang = str(self.language.currentData())
        if lang == current_language():
            return
        settings = self.services.settings
        self.services.runner.run_db(lambda _c: settings.set_language(lang),
                                    on_done=lambda _r: self.language_changed.emit(lang), owner=self)
