"""A code's figures from HQ: a small bar chart of scans and new customers per day and the table of
days with a total. Shown from the local copy of the last sync, so it works offline; without figures
it says plainly that there are none yet and when they will come."""

from __future__ import annotations

from PySide6.QtCharts import QBarCategoryAxis, QBarSeries, QBarSet, QChart, QChartView, QValueAxis
from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QHeaderView, QLabel, QStackedWidget, QTableView, QVBoxLayout, QWidget

from guide_app.i18n import tr
from guide_app.services.codes import CodeStats
from guide_app.views.codes_model import CodeStatsModel

CHART_DAYS = 30  # the chart shows the latest month; the table keeps every day


class CodeStatsView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        title = QLabel(f"<b>{tr('code.stats.title')}</b>")
        self.note = QLabel(tr("code.stats.from_sync"))
        self.note.setStyleSheet("color: #757575;")
        layout.addWidget(title)
        layout.addWidget(self.note)

        self.stack = QStackedWidget()
        layout.addWidget(self.stack, 1)
        self.empty = QLabel(tr("code.stats.empty"))
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.stack.addWidget(self.empty)

        filled = QWidget()
        filled_layout = QVBoxLayout(filled)
        filled_layout.setContentsMargins(0, 0, 0, 0)
        self.chart = QChart()
        self.chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
        self.chart.setMargins(QMargins(2, 2, 2, 2))
        self.chart.setBackgroundRoundness(0)
        self.chart_view = QChartView(self.chart)
        self.chart_view.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.chart_view.setMinimumHeight(170)
        filled_layout.addWidget(self.chart_view, 1)
        self.model = CodeStatsModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.setEditTriggers(QTableView.EditTrigger.NoEditTriggers)
        filled_layout.addWidget(self.table, 1)
        self.stack.addWidget(filled)

    def show_stats(self, stats: CodeStats | None) -> None:
        days = stats.days if stats is not None else ()
        self.model.set_days(days, stats.total if stats is not None else None)
        self.stack.setCurrentIndex(1 if days else 0)
        self._fill_chart(stats)

    def _fill_chart(self, stats: CodeStats | None) -> None:
        self.chart.removeAllSeries()
        for axis in self.chart.axes():
            self.chart.removeAxis(axis)
        if stats is None or not stats.days:
            return
        recent = stats.days[-CHART_DAYS:]
        scans = QBarSet(tr("code.stats.scans"))
        scans.setColor(QColor("#90caf9"))
        new = QBarSet(tr("code.stats.new"))
        new.setColor(QColor("#2e7d32"))
        for d in recent:
            scans.append(d.scans)
            new.append(d.new_customers)
        series = QBarSeries()
        series.append(scans)
        series.append(new)
        self.chart.addSeries(series)
        x = QBarCategoryAxis()
        x.append([d.day[5:] for d in recent])  # MM-DD: the year is in the table
        x.setLabelsAngle(-90 if len(recent) > 7 else 0)
        y = QValueAxis()
        y.setLabelFormat("%d")
        y.setRange(0, max(1, max(d.scans for d in recent)))
        y.applyNiceNumbers()
        self.chart.addAxis(x, Qt.AlignmentFlag.AlignBottom)
        self.chart.addAxis(y, Qt.AlignmentFlag.AlignLeft)
        series.attachAxis(x)
        series.attachAxis(y)
