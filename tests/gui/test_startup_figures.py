"""``--startup-figures``: the app starts on a data folder, waits until the customer list shows its first
rows, prints what the client-at-scale benchmark reads (rows, memory) and exits."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from guide_app.db.engine import open_database
from guide_app.db.models import Guide
from guide_app.services.context import Actor
from guide_app.services.demo_seed import seed_demo
from guide_app.services.org import remember_signed_in
from guide_app.views.app_services import AppServices
from guide_app.views.shell import AppShell
from guide_app.views.startup_probe import wait_usable
from guide_app.views.theme import QtCatalog
from tests.gui.conftest import settle

ROOT = Path(__file__).resolve().parents[2]


def _figures(data_dir: Path) -> dict[str, object]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "guide_app", "--data-dir", str(data_dir), "--startup-figures"],
                          cwd=data_dir.parent, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    figures: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def test_a_guide_book_is_usable_when_its_first_rows_are_shown(tmp_path: Path) -> None:
    data = tmp_path / "data"
    db = open_database(data / "guide.db")
    result = seed_demo(db, customers=120)
    with db.read() as s:
        guide = s.scalars(select(Guide).where(Guide.store_id == result.store_id, Guide.role == "guide")).first()
        assert guide is not None
        actor = Actor(guide.id, guide.store_id, role=guide.role, name=guide.name)
    remember_signed_in(db, actor)  # this guide opens straight into the book, no profile dialog
    db.dispose()
    figures = _figures(data)
    assert figures["ready"] is True and figures["rows"] == 120
    assert isinstance(figures["first_row"], str) and figures["first_row"]
    if sys.platform.startswith("linux"):
        assert isinstance(figures["VmRSS"], int) and isinstance(figures["VmHWM"], int)
        assert 0 < figures["VmRSS"] <= figures["VmHWM"]


def test_an_empty_book_is_usable_when_it_says_so(qtbot: QtBot, empty_services: AppServices) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    shell = AppShell(app, empty_services, QtCatalog(app))
    shell.show()
    figures = wait_usable(shell, timeout_s=30)
    assert figures["ready"] is True and figures["rows"] == 0 and figures["first_row"] == ""
    assert shell.window.customers.empty_hint.isVisible()
    settle(empty_services)
    shell.window.close()
    shell.window.deleteLater()
