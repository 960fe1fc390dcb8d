"""``--screenshot DIR``: render each main view with its data to PNG files (for the README, for
reviewing the UI in CI, and for looking at the app without a screen)."""

from __future__ import annotations

import csv
import tempfile
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop
from PySide6.QtWidgets import QApplication, QDialog, QWidget

from guide_app.tasks import TaskRunner
from guide_app.views.campaigns_page import CampaignsPage
from guide_app.views.customer_detail import CustomerDetailDialog
from guide_app.views.customer_table_model import ID_ROLE
from guide_app.views.first_run import FirstRunDialog
from guide_app.views.import_dialog import ImportDialog
from guide_app.views.shell import AppShell

SAMPLE_IMPORT = [
    ["姓名", "手机", "微信", "性别", "生日", "标签", "备注"],
    ["陈小雨", "13912340001", "xiaoyu_c", "女", "1992/3/8", "敏感肌", "喜欢白茶香调"],
    ["刘思琪", "13912340002", "", "女", "1988年11月2日", "", "会员日来店"],
    ["王建国", "1391234", "", "男", "", "", "手机号少了几位"],
    ["赵敏", "13912340004", "zhaomin88", "女", "1995-07-21", "", ""],
]


def wait_idle(runner: TaskRunner, timeout_s: float = 10.0) -> None:
    """Process events until no task is pending (results delivered and painted) or the timeout."""
    deadline = time.monotonic() + timeout_s
    quiet = 0
    while time.monotonic() < deadline:
        QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        if runner.pending == 0:
            quiet += 1
            if quiet >= 3:  # settled: a delivered result may queue follow-up work (row pages)
                return
        else:
            quiet = 0
        time.sleep(0.01)


def _grab(widget: QWidget, path: Path) -> Path:
    QApplication.processEvents()
    widget.grab().save(str(path))
    return path


def sample_import_file(folder: Path) -> Path:
    """A small GBK CSV, the way Excel on a Chinese Windows saves one, with one bad row."""
    path = folder / "客户名单.csv"
    with path.open("w", encoding="gbk", newline="") as fh:
        csv.writer(fh).writerows(SAMPLE_IMPORT)
    return path


def take_screenshots(shell: AppShell, out_dir: Path) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    runner = shell.services.runner
    window = shell.window
    window.resize(1360, 820)
    written: list[Path] = []

    def area(name: str, file: str) -> None:
        shell.window.show_area(name)
        wait_idle(runner)
        written.append(_grab(shell.window, out_dir / file))

    area("customers", "customers.png")
    page = window.customers
    model = page.model
    if model.rowCount() > 0:
        cid = model.data(model.index(0, 0), ID_ROLE)
        if cid:
            detail = CustomerDetailDialog(shell.services, str(cid), window)
            detail.show()
            wait_idle(runner)
            written.append(_grab(detail, out_dir / "customer-detail.png"))
            detail.tabs.setCurrentIndex(1)
            written.append(_grab(detail, out_dir / "customer-detail-tags.png"))
            detail.tabs.setCurrentIndex(2)
            written.append(_grab(detail, out_dir / "customer-detail-follow-ups.png"))
            detail.tabs.setCurrentIndex(4)
            written.append(_grab(detail, out_dir / "customer-detail-history.png"))
            detail.close()
            detail.deleteLater()
    due_tab = page.tabs.indexOf(page.due)
    page.tabs.setCurrentIndex(due_tab)
    area("customers", "customers-due-today.png")
    page.tabs.setCurrentIndex(0)

    form = page.new_customer()
    form.name.setText("测试客户")
    form.phone.setText("1381234")
    form.submit()
    wait_idle(runner)
    written.append(_grab(form, out_dir / "customer-form-error.png"))
    form.reject()

    area("tags", "tags.png")
    with tempfile.TemporaryDirectory() as tmp:
        dialog = ImportDialog(shell.services, window)
        dialog.show()
        written.append(_grab(dialog, out_dir / "import-pick.png"))
        dialog.load_file(sample_import_file(Path(tmp)))
        wait_idle(runner)
        written.append(_grab(dialog, out_dir / "import-preview.png"))
        dialog.close()
        dialog.deleteLater()

    area("codes", "codes.png")
    area("leaderboard", "empty-leaderboard.png")
    area("campaigns", "campaigns.png")
    campaigns = window.findChild(CampaignsPage)
    if campaigns is not None and campaigns.tabs.isVisible():  # a campaign is shown: its materials too
        campaigns.tabs.setCurrentIndex(1)
        wait_idle(runner)
        written.append(_grab(shell.window, out_dir / "campaign-materials.png"))
        campaigns.tabs.setCurrentIndex(0)
    area("settings", "settings.png")

    first = FirstRunDialog(lambda _s, _g: shell.services.ctx.actor)
    first.show()
    written.append(_grab(first, out_dir / "first-run.png"))
    first.done(QDialog.DialogCode.Rejected)
    first.deleteLater()
    shell.window.show_area("customers")
    wait_idle(runner)
    return written
