"""标签: tag groups (colour, order, scope, single/multi) and their tags. Corp groups come from HQ and
are shown read-only with a lock."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QColorDialog,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from guide_app.i18n import tr
from guide_app.services.tags import TagGroupInfo, TagInfo
from guide_app.tasks import TaskControl
from guide_app.views.app_services import AppServices
from guide_app.views.form_dialog import error_label, ok_cancel, stack
from guide_app.views.formatting import error_text
from guide_app.views.theme import icon

PALETTE = ("#2f6fde", "#1e9e6a", "#e07b00", "#d64545", "#8e44ad", "#00838f", "#607d8b", "#c2185b")


def color_icon(color: str, size: int = 14) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(QColor(color))
    return QIcon(pm)


class GroupDialog(QDialog):
    """Create or edit a group: name, colour, scope (on create), single- or multi-select."""

    def __init__(self, group: TagGroupInfo | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(tr("ui.tags.edit_group") if group else tr("ui.tags.new_group"))
        self.name = QLineEdit(group.name if group else "")
        self.color = group.color if group else PALETTE[0]
        self.color_button = QPushButton()
        self.color_button.clicked.connect(self._pick_color)
        self._paint_color()
        self.scope = QComboBox()
        for scope in ("store", "personal"):
            self.scope.addItem(tr(f"ui.tags.scope.{scope}"), scope)
        if group:
            self.scope.setCurrentIndex(max(0, self.scope.findData(group.scope)))
            self.scope.setEnabled(False)
        self.multi = QComboBox()
        self.multi.addItem(tr("ui.tags.multi"), True)
        self.multi.addItem(tr("ui.tags.single"), False)
        self.multi.setCurrentIndex(0 if (group is None or group.multi) else 1)
        self.error = error_label()
        form = QFormLayout()
        form.addRow(tr("ui.tags.group_name"), self.name)
        form.addRow(tr("ui.tags.color"), self.color_button)
        form.addRow(tr("ui.tags.scope"), self.scope)
        form.addRow(tr("ui.tags.mode"), self.multi)
        buttons = ok_cancel(tr("ui.save"), tr("ui.cancel"), self.accept, self.reject, emphasis=None)
        stack(self, form, self.error, buttons)
        self.setMinimumSize(400, 280)

    def _paint_color(self) -> None:
        self.color_button.setIcon(color_icon(self.color, 16))
        self.color_button.setText(self.color)

    def _pick_color(self) -> None:
        chosen = QColorDialog.getColor(QColor(self.color), self, tr("ui.tags.color"))
        if chosen.isValid():
            self.color = chosen.name()
            self._paint_color()

    def values(self) -> dict[str, Any]:
        return {"name": self.name.text(), "color": self.color, "scope": self.scope.currentData(),
                "multi": bool(self.multi.currentData())}


class TagsPage(QWidget):
    changed = Signal()  # tags or groups changed: the customer page reloads its filters

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.groups: list[TagGroupInfo] = []
        title = QLabel(tr("ui.nav.tags"))
        title.setObjectName("pageTitle")
        hint = QLabel(tr("ui.tags.hint"))
        hint.setObjectName("hint")
        hint.setWordWrap(True)

        self.group_list = QListWidget()
        self.group_list.setObjectName("groupList")
        self.group_list.setIconSize(QSize(16, 16))
        self.group_list.setUniformItemSizes(True)
        self.group_list.currentRowChanged.connect(self._group_selected)
        self.new_group_button = QPushButton(icon("add"), tr("ui.tags.new_group"))
        self.new_group_button.clicked.connect(self.new_group)
        self.edit_group_button = QPushButton(icon("edit"), tr("ui.tags.edit_group"))
        self.edit_group_button.clicked.connect(self.edit_group)
        self.group_up = QPushButton(tr("ui.tags.up"))
        self.group_up.clicked.connect(lambda: self.move_group(-1))
        self.group_down = QPushButton(tr("ui.tags.down"))
        self.group_down.clicked.connect(lambda: self.move_group(1))
        self.delete_group_button = QPushButton(icon("delete"), tr("ui.tags.delete_group"))
        self.delete_group_button.clicked.connect(self.delete_group)

        self.tag_title = QLabel()
        self.tag_title.setObjectName("sectionTitle")
        self.lock_note = QLabel()
        self.lock_note.setObjectName("hint")
        self.lock_note.setWordWrap(True)
        self.tag_list = QListWidget()
        self.tag_list.setObjectName("tagList")
        self.tag_list.setUniformItemSizes(True)
        self.tag_list.currentRowChanged.connect(lambda _r: self._update_buttons())
        self.new_tag_button = QPushButton(icon("add"), tr("ui.tags.new_tag"))
        self.new_tag_button.clicked.connect(self.new_tag)
        self.rename_tag_button = QPushButton(icon("edit"), tr("ui.tags.rename_tag"))
        self.rename_tag_button.clicked.connect(self.rename_tag)
        self.tag_up = QPushButton(tr("ui.tags.up"))
        self.tag_up.clicked.connect(lambda: self.move_tag(-1))
        self.tag_down = QPushButton(tr("ui.tags.down"))
        self.tag_down.clicked.connect(lambda: self.move_tag(1))
        self.delete_tag_button = QPushButton(icon("delete"), tr("ui.tags.delete_tag"))
        self.delete_tag_button.clicked.connect(self.delete_tag)
        self.message = QLabel()
        self.message.setObjectName("fieldError")
        self.message.setWordWrap(True)

        left = QVBoxLayout()
        left.addWidget(QLabel(tr("ui.tags.groups")))
        left.addWidget(self.group_list, 1)
        g_buttons = QHBoxLayout()
        for b in (self.new_group_button, self.edit_group_button):
            g_buttons.addWidget(b)
        left.addLayout(g_buttons)
        g_buttons2 = QHBoxLayout()
        for b in (self.group_up, self.group_down, self.delete_group_button):
            g_buttons2.addWidget(b)
        left.addLayout(g_buttons2)

        right = QVBoxLayout()
        right.addWidget(self.tag_title)
        right.addWidget(self.lock_note)
        right.addWidget(self.tag_list, 1)
        t_buttons = QHBoxLayout()
        for b in (self.new_tag_button, self.rename_tag_button, self.tag_up, self.tag_down, self.delete_tag_button):
            t_buttons.addWidget(b)
        right.addLayout(t_buttons)

        body = QHBoxLayout()
        body.addLayout(left, 2)
        body.addSpacing(16)
        body.addLayout(right, 3)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(title)
        layout.addWidget(hint)
        layout.addLayout(body, 1)
        layout.addWidget(self.message)
        self.reload()

    # -- loading -----------------------------------------------------------------------------
    def reload(self, select_group: str = "", select_tag: str = "") -> None:
        tags = self.services.tags
        group = self.current_group()
        current = select_group or (group.id if group is not None else "")

        def loaded(groups: list[TagGroupInfo]) -> None:
            self._show(groups, current, select_tag)

        self.services.runner.run_db(lambda _c: tags.groups(), on_done=loaded, owner=self, key="tags-page")

    def _show(self, groups: list[TagGroupInfo], select_group: str, select_tag: str) -> None:
        self.groups = groups
        self.group_list.blockSignals(True)
        self.group_list.clear()
        row = 0
        for i, g in enumerate(groups):
            scope = tr(f"ui.tags.scope.{g.scope}")
            mode = tr("ui.tags.multi") if g.multi else tr("ui.tags.single")
            item = QListWidgetItem(icon("lock") if g.read_only else color_icon(g.color),
                                   f"{g.name}    {scope} · {mode} · {len(g.tags)}")
            item.setData(Qt.ItemDataRole.UserRole, g.id)
            item.setSizeHint(QSize(0, 34))
            if g.read_only:
                item.setToolTip(tr("ui.tags.corp_locked"))
                item.setForeground(QColor("#616e7c"))
            self.group_list.addItem(item)
            if g.id == select_group:
                row = i
        self.group_list.blockSignals(False)
        if groups:
            self.group_list.setCurrentRow(row)
        self._group_selected(self.group_list.currentRow(), select_tag)

    def current_group(self) -> TagGroupInfo | None:
        row = self.group_list.currentRow() if hasattr(self, "group_list") else -1
        return self.groups[row] if 0 <= row < len(self.groups) else None

    def current_tag(self) -> TagInfo | None:
        g = self.current_group()
        row = self.tag_list.currentRow()
        return g.tags[row] if g is not None and 0 <= row < len(g.tags) else None

    def _group_selected(self, _row: int, select_tag: str = "") -> None:
        g = self.current_group()
        self.tag_list.clear()
        if g is None:
            self.tag_title.setText(tr("ui.tags.no_groups"))
            self.lock_note.setText(tr("ui.tags.no_groups_hint"))
            self._update_buttons()
            return
        self.tag_title.setText(tr("ui.tags.tags_of", name=g.name))
        self.lock_note.setText(tr("ui.tags.corp_locked") if g.read_only else "")
        self.lock_note.setVisible(g.read_only)
        row = 0
        for i, t in enumerate(g.tags):
            item = QListWidgetItem(color_icon(g.color, 10), tr("ui.tags.tag_line", name=t.name, count=t.customer_count))
            item.setData(Qt.ItemDataRole.UserRole, t.id)
            item.setSizeHint(QSize(0, 32))
            self.tag_list.addItem(item)
            if t.id == select_tag:
                row = i
        if g.tags:
            self.tag_list.setCurrentRow(row)
        self._update_buttons()

    def _update_buttons(self) -> None:
        g = self.current_group()
        t = self.current_tag()
        writable = g is not None and not g.read_only
        self.edit_group_button.setEnabled(writable)
        self.delete_group_button.setEnabled(writable)
        idx = self.group_list.currentRow()
        writable_rows = [i for i, x in enumerate(self.groups) if not x.read_only and g is not None and x.scope == g.scope]
        self.group_up.setEnabled(writable and bool(writable_rows) and idx > min(writable_rows))
        self.group_down.setEnabled(writable and bool(writable_rows) and idx < max(writable_rows))
        self.new_tag_button.setEnabled(writable)
        self.rename_tag_button.setEnabled(writable and t is not None)
        self.delete_tag_button.setEnabled(writable and t is not None)
        trow = self.tag_list.currentRow()
        n = self.tag_list.count()
        self.tag_up.setEnabled(writable and t is not None and trow > 0)
        self.tag_down.setEnabled(writable and t is not None and trow < n - 1)

    # -- actions -----------------------------------------------------------------------------
    def _run(self, fn: Callable[[TaskControl], Any], select_group: str = "", select_tag: str = "") -> None:
        def done(result: Any) -> None:
            self.message.setText("")
            g = select_group or (result if isinstance(result, str) and not select_tag else "")
            self.reload(g, select_tag or "")
            self.changed.emit()

        self.services.runner.run_db(fn, on_done=done, on_error=lambda e: self.message.setText(error_text(e)),
                                    owner=self)

    def new_group(self) -> GroupDialog:
        dialog = GroupDialog(None, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def accepted() -> None:
            v = dialog.values()
            tags = self.services.tags
            self._run(lambda _c: tags.create_group(v["name"], color=v["color"], scope=v["scope"], multi=v["multi"]))

        dialog.accepted.connect(accepted)
        dialog.open()
        return dialog

    def edit_group(self) -> GroupDialog | None:
        g = self.current_group()
        if g is None or g.read_only:
            return None
        dialog = GroupDialog(g, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def accepted() -> None:
            v = dialog.values()
            tags = self.services.tags
            self._run(lambda _c: tags.update_group(g.id, name=v["name"], color=v["color"], multi=v["multi"]),
                      select_group=g.id)

        dialog.accepted.connect(accepted)
        dialog.open()
        return dialog

    def move_group(self, step: int) -> None:
        g = self.current_group()
        if g is None or g.read_only:
            return
        same = [x for x in self.groups if x.scope == g.scope and not x.read_only]
        i = same.index(g)
        j = i + step
        if not 0 <= j < len(same):
            return
        same[i], same[j] = same[j], same[i]
        order = [x.id for x in same]
        tags = self.services.tags
        self._run(lambda _c: tags.reorder_groups(order), select_group=g.id)

    def delete_group(self) -> None:
        g = self.current_group()
        if g is None or g.read_only:
            return
        carried = sum(t.customer_count for t in g.tags)
        answer = QMessageBox.question(self, tr("ui.tags.delete_group"),
                                      tr("ui.tags.delete_group_confirm", name=g.name, tags=len(g.tags), count=carried))
        if answer != QMessageBox.StandardButton.Yes:
            return
        tags = self.services.tags
        self._run(lambda _c: tags.delete_group(g.id))

    def new_tag(self) -> None:
        g = self.current_group()
        if g is None or g.read_only:
            return
        name, ok = QInputDialog.getText(self, tr("ui.tags.new_tag"), tr("ui.tags.tag_name"))
        if ok:
            tags = self.services.tags
            self._run(lambda _c: tags.create_tag(g.id, name), select_group=g.id)

    def rename_tag(self) -> None:
        t = self.current_tag()
        g = self.current_group()
        if t is None or g is None or g.read_only:
            return
        name, ok = QInputDialog.getText(self, tr("ui.tags.rename_tag"), tr("ui.tags.tag_name"), text=t.name)
        if ok:
            tags = self.services.tags
            self._run(lambda _c: tags.rename_tag(t.id, name), select_group=g.id, select_tag=t.id)

    def move_tag(self, step: int) -> None:
        g = self.current_group()
        t = self.current_tag()
        if g is None or t is None or g.read_only:
            return
        ids = [x.id for x in g.tags]
        i = ids.index(t.id)
        j = i + step
        if not 0 <= j < len(ids):
            return
        ids[i], ids[j] = ids[j], ids[i]
        tags = self.services.tags
        self._run(lambda _c: tags.reorder_tags(g.id, ids), select_group=g.id, select_tag=t.id)

    def delete_tag(self) -> None:
        g = self.current_group()
        t = self.current_tag()
        if g is None or t is None or g.read_only:
            return
        answer = QMessageBox.question(self, tr("ui.tags.delete_tag"),
                                      tr("ui.tags.delete_tag_confirm", name=t.name, count=t.customer_count))
        if answer != QMessageBox.StandardButton.Yes:
            return
        tags = self.services.tags
        self._run(lambda _c: tags.delete_tag(t.id), select_group=g.id)

