"""The 区域活动进度 list of the 活动 page (regional managers and HQ): every campaign HQ sent to a store
of their scope, also those their own PC never installs, as list lines and the facts shown above a
campaign's per-store progress."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QListWidget

from guide_app.i18n import tr
from guide_app.services.pack_progress import OverviewView
from guide_app.sync.protocol import PackOverviewItem
from guide_app.views.formatting import day_time
from guide_app.views.pack_progress_model import percent


def has_overview(role: str) -> bool:
    """Roles whose scope is more than the store their PC is enrolled in."""
    return role in ("region_manager", "hq_admin")


def overview_name(role: str) -> str:
    return tr("campaign.ui.list.overview_company" if role == "hq_admin" else "campaign.ui.list.overview_region")


def _pct(item: PackOverviewItem) -> str:
    return percent(item.completion) if item.targets else "—"


def item_text(item: PackOverviewItem, installed: bool) -> str:
    """Two lines: the title (marked when this PC does not have it), then state, window, stores, completion."""
    mark = "" if installed else tr("campaign.overview.not_installed_mark")
    return f"{item.title}{mark}\n" + tr("campaign.overview.item", state=tr(f"campaign.overview.state.{item.state}"),
                                        start=item.valid_from[5:], end=item.valid_to[5:], stores=item.stores,
                                        pct=_pct(item))


def facts_text(item: PackOverviewItem) -> str:
    return tr("campaign.overview.facts", start=item.valid_from, end=item.valid_to,
              state=tr(f"campaign.overview.state.{item.state}"), stores=item.stores, targets=item.targets,
              pct=_pct(item))


def state_text(view: OverviewView) -> str:
    if view.source == "hq":
        return tr("campaign.overview.as_of", time=day_time(view.answer.as_of_ms))
    return tr("campaign.overview.offline_saved", time=day_time(view.fetched_at), as_of=day_time(view.answer.as_of_ms),
              reason=view.problem)


class OpenList(QListWidget):
    """Enter opens the selected line (the page moves on to its progress)."""

    opened = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.currentItem() is not None:
            self.opened.emit()
            event.accept()
        else:
            super().keyPressEvent(event)
