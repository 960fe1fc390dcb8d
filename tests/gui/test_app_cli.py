"""The command line: --smoke, --screenshot, --version, and the plain message without a display."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

from guide_app.app import display_available

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "guide_app", *args], cwd=cwd, env=env or base,
                          capture_output=True, text=True, timeout=240)


def test_smoke_on_a_fresh_data_dir(tmp_path: Path) -> None:
    done = _run(["--smoke", "--data-dir", str(tmp_path / "data")], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "smoke: main window shown" in done.stderr
    assert (tmp_path / "data" / "guide.db").is_file()


def test_demo_screenshots_render_every_view(tmp_path: Path) -> None:
    out = tmp_path / "shots"
    done = _run(["--demo", "--screenshot", str(out)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert any((tmp_path / "demo-data").rglob("guide.db"))
    expected = {"customers", "customer-detail", "tags", "import-preview", "settings", "codes",
                "empty-leaderboard", "campaigns", "first-run", "customer-form-error",
                "campaign-materials"}  # only written when the demo campaign was installed and shown
    written = {p.stem for p in out.glob("*.png")}
    assert expected <= written
    for name in expected:
        image = QImage(str(out / f"{name}.png"))
        assert image.width() > 300 and image.height() > 200, name
    # English with --lang
    done = _run(["--demo", "--lang", "en", "--smoke"], tmp_path)
    assert done.returncode == 0 and "Guide Desk" in done.stderr


def test_version_and_no_display(tmp_path: Path) -> None:
    done = _run(["--version"], tmp_path)
    assert done.returncode == 0 and "guide-app 0.1.0" in done.stdout
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = str(ROOT)
    done = _run(["--smoke"], tmp_path, env=env)
    assert done.returncode == 2
    assert "no display" in done.stderr and "xvfb-run" in done.stderr and "QT_QPA_PLATFORM=offscreen" in done.stderr
    assert not display_available({}) or sys.platform in ("win32", "darwin")
    assert display_available({"QT_QPA_PLATFORM": "offscreen"})
