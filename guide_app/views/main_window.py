"""The main window: left navigation (客户 / 标签 / 活码 / 业绩榜 / 活动 / 设置) and one page per area."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from guide_app.i18n import tr
from guide_app.views.app_services import AppServices
from guide_app.views.boards_page import BoardsPage
from guide_app.views.campaigns_page import CampaignsPage
from guide_app.views.codes_page import CodesPage
from guide_app.views.customers_page import CustomersPage
from guide_app.views.formatting import error_text
from guide_app.views.import_dialog import ExportController, ImportDialog
from guide_app.views.settings_page import SettingsPage
from guide_app.views.sync_status import SyncStatusWidget
from guide_app.views.tags_page import TagsPage
from guide_app.views.theme import icon

AREAS = ("customers", "tags", "codes", "leaderboard", "campaigns", "settings")
STATUS_MS = 5000


def titled(area: str, page: QWidget) -> QWidget:
    """An area page built elsewhere, under the same page title as the others."""
    holder = QWidget()
    title = QLabel(tr(f"ui.nav.{area}"))
    title.setObjectName("pageTitle")
    layout = QVBoxLayout(holder)
    layout.setContentsMargins(16, 12, 16, 4)
    layout.setSpacing(0)
    layout.addWidget(title)
    layout.addWidget(page, 1)
    return holder


class MainWindow(QMainWindow):
    language_changed = Signal(str)

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.setWindowTitle(tr("ui.app.title"))
        self.setWindowIcon(icon("customers"))
        self.resize(1280, 800)
        self.setMinimumSize(960, 600)

        nav_pane = QWidget()
        nav_pane.setObjectName("navPane")
        nav_pane.setFixedWidth(168)
        app_name = QLabel(tr("ui.app.name"))
        app_name.setObjectName("navTitle")
        who = QLabel(tr("ui.app.profile", store=services.store_name or "—", guide=services.guide_name or "—"))
        who.setObjectName("navProfile")
        who.setWordWrap(True)
        self.nav = QListWidget()
        self.nav.setObjectName("nav")
        self.nav.setIconSize(QSize(20, 20))
        self.nav.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.nav.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.nav.setSpacing(1)
        for i, area in enumerate(AREAS, start=1):
            item = QListWidgetItem(icon(area), tr(f"ui.nav.{area}"))
            item.setToolTip(tr("ui.nav.shortcut", keys=f"Ctrl+{i}"))
            item.setSizeHint(QSize(140, 42))
            self.nav.addItem(item)
        nav_layout = QVBoxLayout(nav_pane)
        nav_layout.setContentsMargins(0, 0, 0, 0)
        nav_layout.setSpacing(0)
        nav_layout.addWidget(app_name)
        nav_layout.addWidget(who)
        nav_layout.addWidget(self.nav, 1)

        self.customers = CustomersPage(services)
        self.tags = TagsPage(services)
        self.settings = SettingsPage(services)
        campaigns = CampaignsPage(services.ctx, services.runner, packs_dir=services.data_dir / "packs",
                                  sync=services.sync.service if services.sync is not None else None)
        self.pages: dict[str, QWidget] = {
            "customers": self.customers,
            "tags": self.tags,
            # a code can be linked to one of the installed campaigns
            "codes": titled("codes", CodesPage.for_app(services, campaigns=campaigns.campaigns.code_campaigns)),
            "leaderboard": BoardsPage(services),
            "campaigns": titled("campaigns", campaigns),
            "settings": self.settings,
        }
        self.stack = QStackedWidget()
        for area in AREAS:
            self.stack.addWidget(self.pages[area])
        self.nav.currentRowChanged.connect(self._area_changed)
        self.nav.setCurrentRow(0)

        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(nav_pane)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        for i in range(len(AREAS)):
            QShortcut(QKeySequence(f"Ctrl+{i + 1}"), self, lambda i=i: self.show_area(AREAS[i]))
        self.customers.status.connect(self.show_status)
        self.customers.import_requested.connect(self.open_import)
        self.customers.export_requested.connect(self.export_list)
        self.tags.changed.connect(self.customers.reload_all)
        self.settings.status.connect(self.show_status)
        self.settings.language_changed.connect(self.language_changed)
        self.services.runner.unhandled_error.connect(self._task_failed)
        self.export = ExportController(services, self)
        self.export.status.connect(self.show_status)
        if services.sync is not None:
            self.statusBar().addPermanentWidget(SyncStatusWidget(services.sync))
            services.sync.open_customer.connect(self.customers.open_customer)
            services.sync.synced.connect(self.customers.reload_all)
            services.sync.synced.connect(campaigns.synced)

    def _area_changed(self, row: int) -> None:
        self.stack.setCurrentIndex(row)
        if AREAS[row] == "customers":
            self.customers.search.setFocus()

    def show_area(self, area: str) -> None:
        self.nav.setCurrentRow(AREAS.index(area))

    def current_area(self) -> str:
        return AREAS[self.nav.currentRow()]

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, STATUS_MS)

    def _task_failed(self, exc: BaseException) -> None:
        QMessageBox.warning(self, tr("ui.error.title"), error_text(exc))

    def open_import(self) -> ImportDialog:
        dialog = ImportDialog(self.services, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.imported.connect(self.customers.reload_all)
        dialog.open()
        return dialog

    def export_list(self) -> None:
        self.export.start(self.customers.model.ids())

    def closeEvent(self, event: QCloseEvent) -> None:
        try:
            self.services.runner.unhandled_error.disconnect(self._task_failed)
        except (RuntimeError, TypeError):
            pass
        super().closeEvent(event)
