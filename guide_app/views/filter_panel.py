"""The customer list's filter panel: scope (mine / all), stage, tags by group (OR within a group,
AND across groups) and a "none of these tags" list."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from guide_app.i18n import tr
from guide_app.services.customer_query import TagFilter
from guide_app.services.tags import TagGroupInfo
from guide_app.views.theme import icon

STAGES = ("", "new", "active", "sleeping", "lost")


class FilterPanel(QScrollArea):
    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filterPanel")
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        body = QWidget()
        body.setObjectName("filterBody")
        self.setWidget(body)
        self._layout = QVBoxLayout(body)
        self._layout.setContentsMargins(4, 0, 8, 0)
        self._layout.setSpacing(6)

        self.scope = QComboBox()
        self.scope.addItem(tr("ui.filter.scope_all"), "all")
        self.scope.addItem(tr("ui.filter.scope_mine"), "mine")
        self.scope.setAccessibleName(tr("ui.filter.scope"))
        self.scope.currentIndexChanged.connect(self.changed)
        self.stage = QComboBox()
        for value in STAGES:
            self.stage.addItem(tr(f"stage.{value}") if value else tr("ui.filter.stage_any"), value)
        self.stage.setAccessibleName(tr("ui.filter.stage"))
        self.stage.currentIndexChanged.connect(self.changed)

        self._add_title(tr("ui.filter.scope"))
        self._layout.addWidget(self.scope)
        self._add_title(tr("ui.filter.stage"))
        self._layout.addWidget(self.stage)
        self._add_title(tr("ui.filter.tags"))
        hint = QLabel(tr("ui.filter.tags_hint"))
        hint.setObjectName("hint")
        hint.setWordWrap(True)
        self._layout.addWidget(hint)
        self._groups_box = QVBoxLayout()
        self._groups_box.setSpacing(2)
        self._layout.addLayout(self._groups_box)

        self.none_of = QToolButton()
        self.none_of.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.none_of.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self._none_menu = QMenu(self.none_of)
        self.none_of.setMenu(self._none_menu)
        self._layout.addWidget(self.none_of)

        self.clear_button = QPushButton(tr("ui.filter.clear"))
        self.clear_button.clicked.connect(self.clear)
        self._layout.addWidget(self.clear_button)
        self._layout.addStretch(1)

        self._tag_boxes: dict[str, tuple[str, QCheckBox]] = {}  # tag id → (group id, box)
        self._none_actions: dict[str, QAction] = {}
        self._update_none_label()

    def _add_title(self, text: str) -> None:
        label = QLabel(text)
        label.setObjectName("sectionTitle")
        self._layout.addWidget(label)

    def set_groups(self, groups: list[TagGroupInfo]) -> None:
        """Rebuild the tag lists, keeping what was ticked when the tag still exists."""
        ticked = {tid for tid, (_g, box) in self._tag_boxes.items() if box.isChecked()}
        excluded = {tid for tid, act in self._none_actions.items() if act.isChecked()}
        while self._groups_box.count():
            item = self._groups_box.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        self._tag_boxes.clear()
        self._none_menu.clear()
        self._none_actions.clear()
        for group in groups:
            if not group.tags:
                continue
            head = QWidget()
            row = QHBoxLayout(head)
            row.setContentsMargins(0, 6, 0, 0)
            dot = QLabel()
            dot.setFixedSize(10, 10)
            dot.setStyleSheet(f"background: {group.color}; border-radius: 5px;")
            name = QLabel(group.name)
            name.setObjectName("muted")
            row.addWidget(dot)
            row.addWidget(name, 1)
            if group.read_only:
                lock = QLabel()
                lock.setPixmap(icon("lock").pixmap(14, 14))
                lock.setToolTip(tr("ui.tags.corp_locked"))
                row.addWidget(lock)
            self._groups_box.addWidget(head)
            section = self._none_menu.addSection(group.name)
            section.setEnabled(False)
            for tag in group.tags:
                box = QCheckBox(f"{tag.name}  ({tag.customer_count})")
                box.setChecked(tag.id in ticked)
                box.toggled.connect(self.changed)
                self._groups_box.addWidget(box)
                self._tag_boxes[tag.id] = (group.id, box)
                act = self._none_menu.addAction(tag.name)
                act.setCheckable(True)
                act.setChecked(tag.id in excluded)
                act.toggled.connect(self._none_toggled)
                self._none_actions[tag.id] = act
        self._update_none_label()

    def _none_toggled(self) -> None:
        self._update_none_label()
        self.changed.emit()

    def _update_none_label(self) -> None:
        n = sum(1 for a in self._none_actions.values() if a.isChecked())
        self.none_of.setText(tr("ui.filter.none_of", count=n))
        self.none_of.setEnabled(bool(self._none_actions))

    def tag_filter(self) -> TagFilter:
        groups: dict[str, list[str]] = {}
        for tid, (gid, box) in self._tag_boxes.items():
            if box.isChecked():
                groups.setdefault(gid, []).append(tid)
        none_of = tuple(tid for tid, act in self._none_actions.items() if act.isChecked())
        return TagFilter(groups=tuple(tuple(v) for v in groups.values()), none_of=none_of)

    def stage_value(self) -> str:
        return str(self.stage.currentData() or "")

    def mine_only(self) -> bool:
        return self.scope.currentData() == "mine"

    def tag_box(self, tag_id: str) -> QCheckBox:
        return self._tag_boxes[tag_id][1]

    def none_action(self, tag_id: str) -> QAction:
        return self._none_actions[tag_id]

    def clear(self) -> None:
        for combo in (self.scope, self.stage):
            combo.blockSignals(True)
            combo.setCurrentIndex(0)
            combo.blockSignals(False)
        for _gid, box in self._tag_boxes.values():
            box.blockSignals(True)
            box.setChecked(False)
            box.blockSignals(False)
        for act in self._none_actions.values():
            act.blockSignals(True)
            act.setChecked(False)
            act.blockSignals(False)
        self._update_none_label()
        self.changed.emit()
