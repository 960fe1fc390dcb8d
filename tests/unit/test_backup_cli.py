"""``guide-app --backup FILE``: a consistent copy of the local database without opening the app,
and a clear message in the UI language when there is nothing to copy."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from guide_app.app import main
from guide_app.db.engine import open_database
from guide_app.db.migrate import head_revision
from guide_app.db.state import set_setting


def test_backup_copies_the_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = open_database(tmp_path / "data" / "guide.db")
    with db.write() as s:
        set_setting(s, "backup-check", "yes")
    target = tmp_path / "copies" / "guide-copy.db"
    target.parent.mkdir()
    # the app still has the file open (WAL): the online backup sees the committed row
    assert main(["--data-dir", str(tmp_path / "data"), "--backup", str(target)]) == 0
    db.dispose()
    assert f"已备份到 {target}" in capsys.readouterr().out
    with sqlite3.connect(target) as conn:
        assert conn.execute("select version_num from alembic_version").fetchone()[0] == head_revision()
        assert "yes" in conn.execute("select value from app_setting where key='backup-check'").fetchone()[0]


def test_backup_without_a_database_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--data-dir", str(tmp_path / "empty"), "--backup", str(tmp_path / "x.db")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("备份失败") and str(tmp_path / "empty" / "guide.db") in err
    assert not (tmp_path / "x.db").exists() and not (tmp_path / "empty").exists()
    # a folder that cannot be written to: the sqlite error, in the same words
    db = open_database(tmp_path / "data" / "guide.db")
    db.dispose()
    assert main(["--data-dir", str(tmp_path / "data"), "--backup", str(tmp_path / "missing" / "x.db")]) == 1
    assert capsys.readouterr().err.startswith("备份失败")
