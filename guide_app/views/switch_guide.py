"""The signed-in guide's menu at the top of the sidebar: lock, switch guide, set my PIN, auto-lock
time, and for managers the customer transfer and the audit log; and, on a PC without HQ, adding a
guide's profile with the store manager's approval."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QToolButton,
    QWidget,
)

from guide_app.i18n import tr
from guide_app.services.accounts import PcUser
from guide_app.services.context import Actor
from guide_app.views.form_dialog import error_label, ok_cancel, stack


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


class AddGuideDialog(QDialog):
    """A PC without HQ: a new guide's profile, approved with the store manager's PIN."""

    def __init__(self, managers: list[PcUser], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("security.ui.add_guide"))
        self.setMinimumWidth(380)
        intro = QLabel(tr("security.ui.add_guide_intro"))
        intro.setWordWrap(True)
        self.name = QLineEdit()
        self.name.setMaxLength(60)
        self.manager = QComboBox()
        for m in managers:
            self.manager.addItem(m.name, m.guide_id)
        self.pin = QLineEdit()
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        form = QFormLayout()
        form.addRow(tr("security.ui.new_guide_name"), self.name)
        form.addRow(tr("security.ui.approving_manager"), self.manager)
        form.addRow(tr("security.ui.manager_pin"), self.pin)
        self.error = error_label()
        self.buttons = ok_cancel(tr("security.ui.add_guide_ok"), tr("ui.cancel"), self.accept, self.reject,
                                 emphasis=None)
        stack(self, intro, form, self.error, self.buttons)
