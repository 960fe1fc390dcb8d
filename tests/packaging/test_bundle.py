"""The one-folder bundle runs on a machine without Python: every run here has a clean environment
(only PATH without the venv, HOME, QT_QPA_PLATFORM and LANG), a working folder outside the repository
and no PYTHONPATH, so migrations, translations and icons can only come from the bundle itself."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

from guide_app import __version__
from guide_app.db.migrate import head_revision

ROOT = Path(__file__).resolve().parents[2]


def run(bundle: Path, args: list[str], home: Path, exe: str = "guide-app-console") -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "QT_QPA_PLATFORM": "offscreen", "LANG": "C.UTF-8"}
    return subprocess.run(["env", "-i", *(f"{k}={v}" for k, v in env.items()), str(bundle / exe), *args],
                          cwd=home, env=env, capture_output=True, text=True, timeout=120)


def listing(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_version_from_both_executables(bundle: Path, tmp_path: Path) -> None:
    for exe in ("guide-app-console", "guide-app"):
        done = run(bundle, ["--version"], tmp_path, exe)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip() == f"guide-app {__version__}"


def test_self_check_loads_everything_from_the_bundle(bundle: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    done = run(bundle, ["--self-check", "--data-dir", str(data)], tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    facts = json.loads(done.stdout)
    assert facts["problems"] == []
    internal = (bundle / "_internal").resolve()
    # frozen, and resources read from the bundle's _MEIPASS folder, not the source tree
    assert facts["frozen"] is True
    assert Path(facts["meipass"]).resolve() == internal
    assert Path(facts["resource_root"]).resolve() == internal / "resources"
    assert str(ROOT / "resources") not in facts["resource_root"]
    # migrations ran: the new file is at the head revision
    assert facts["db_revision"] == facts["head_revision"] == head_revision()
    with sqlite3.connect(data / "guide.db") as conn:
        assert conn.execute("select version_num from alembic_version").fetchone()[0] == head_revision()
    # translations: both catalogs, the same size, and zh_CN wording
    sizes = facts["catalog_sizes"]
    assert sizes["zh_CN"] == sizes["en"] > 500
    assert facts["app_name"] == "导购助手"
    assert facts["qt"]["qtbase_zh_CN"] is True
    # every icon file of the source tree is in the bundle and loads as a picture
    source_icons = len(list((ROOT / "resources" / "icons").glob("*.png")))
    assert facts["icon_files"] == facts["icons_loaded"] == source_icons
    assert all(facts["qt"][m] for m in ("PySide6.QtCharts", "PySide6.QtPrintSupport", "PySide6.QtSvg"))
    backends = " ".join(facts["keyring_backends"])
    for backend in ("SecretService", "Windows", "macOS", "libsecret", "kwallet", "chainer"):
        assert f"keyring.backends.{backend}" in backends
    assert "import failed" not in backends


def test_smoke_keeps_data_and_logs_in_user_folders(bundle: Path, tmp_path: Path) -> None:
    before = listing(bundle)
    done = run(bundle, ["--smoke"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert "smoke: main window shown" in done.stderr
    # platformdirs folders under HOME, nothing written next to the executable or into the bundle
    db = tmp_path / ".local" / "share" / "GuideDesk" / "guide.db"
    log = tmp_path / ".local" / "state" / "GuideDesk" / "log" / "guide-app.log"
    assert db.is_file()
    assert "smoke: main window shown" in log.read_text(encoding="utf-8")
    assert listing(bundle) == before
    # a backup of the file the smoke run made, without opening the app
    copy = tmp_path / "backup.db"
    done = run(bundle, ["--backup", str(copy)], tmp_path)
    assert done.returncode == 0, done.stderr
    assert str(copy) in done.stdout
    with sqlite3.connect(copy) as conn:
        assert conn.execute("select version_num from alembic_version").fetchone()[0] == head_revision()


def test_demo_is_refused_in_the_bundle(bundle: Path, tmp_path: Path) -> None:
    done = run(bundle, ["--demo", "--smoke"], tmp_path)
    assert done.returncode == 1
    assert "演示" in done.stderr


def test_windows_version_resource_is_well_formed(bundle: Path) -> None:
    """build.spec writes the version resource on every platform (Windows builds embed it): it must be
    the expression PyInstaller evaluates, carrying this version."""
    found = sorted((ROOT / "build").rglob("version_info.txt"), key=lambda p: p.stat().st_mtime)
    assert found, "build.spec wrote no version_info.txt"
    calls: dict[str, list[tuple[object, ...]]] = {}

    def recorder(name: str) -> object:
        return lambda *args, **kwargs: calls.setdefault(name, []).append((*args, *kwargs.items()))

    names = ("VSVersionInfo", "FixedFileInfo", "StringFileInfo", "StringTable", "StringStruct",
             "VarFileInfo", "VarStruct")
    eval(found[-1].read_text(encoding="utf-8"), {n: recorder(n) for n in names})
    major, minor, patch = (int(p) for p in __version__.split("."))
    assert ("filevers", (major, minor, patch, 0)) in calls["FixedFileInfo"][0]
    assert ("ProductVersion", __version__) in calls["StringStruct"]
    assert ("OriginalFilename", "guide-app.exe") in calls["StringStruct"]


def test_a_crash_at_startup_leaves_a_report_and_the_file_as_it_was(bundle: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    damaged = b"not a database " * 100
    (data / "guide.db").write_bytes(damaged)
    done = run(bundle, ["--smoke", "--data-dir", str(data)], tmp_path)
    assert done.returncode == 70, done.stderr
    reports = list((data / "logs").glob("crash-*.txt"))
    assert len(reports) == 1
    text = reports[0].read_text(encoding="utf-8")
    assert "Traceback" in text and "where: startup" in text and "frozen bundle" in text
    assert str(reports[0]) in done.stderr  # the log line names the report
    assert (data / "guide.db").read_bytes() == damaged
