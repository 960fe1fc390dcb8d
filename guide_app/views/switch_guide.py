"""The signed-in guide's menu at the top of the sidebar: lock, switch guide, set my PIN, auto-lock
time, and for managers the customer transfer and the audit log."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QMenu, QToolButton, QWidget

from guide_app.i18n import tr
from guide_app.services.context import Actor


class GuideMenuButton(QToolButton):
    lock_requested = Signal()
    switch_requested = Signal()
    set_pin_requested = Signal()
    idle_time_requested = Signal()
    transfer_requested = Signal()
    audit_requested = Signal()

    def __init__(self, actor: Actor, *, pin_user: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("guideMenu")
        self.setText(tr("security.ui.guide_menu"))  # the name is on the line above
        self.setToolTip(tr("security.ui.guide_menu_tip"))
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setAutoRaise(True)
        menu = QMenu(self)
        self.lock_action = menu.addAction(tr("security.ui.lock_now"), self.lock_requested.emit)
        self.lock_action.setShortcut("Ctrl+L")  # shown in the menu; the window's own shortcut locks
        self.lock_action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        self.switch_action = menu.addAction(tr("security.ui.switch_guide"), self.switch_requested.emit)
        self.pin_action = menu.addAction(tr("security.ui.set_pin"), self.set_pin_requested.emit)
        self.pin_action.setVisible(pin_user)
        self.idle_action = menu.addAction(tr("security.ui.idle_time"), self.idle_time_requested.emit)
        menu.addSeparator()
        self.transfer_action = menu.addAction(tr("security.ui.transfer"), self.transfer_requested.emit)
        self.audit_action = menu.addAction(tr("security.ui.audit_log"), self.audit_requested.emit)
        for action in (self.transfer_action, self.audit_action):
            action.setVisible(actor.is_manager)
        self.setMenu(menu)
