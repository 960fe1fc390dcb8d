"""Alembic from the first table on; an older file is copied aside before it is migrated."""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def alembic_config(path: Path) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", f"sqlite+pysqlite:///{path}")
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config(Path("unused.db"))).get_current_head()
    assert head is not None
    return head


def current_revision(path: Path) -> str | None:
    if not Path(path).exists():
        return None
    engine = create_engine(f"sqlite+pysqlite:///{path}")
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def backup_copy(path: Path, revision: str | None, target: Path | None = None) -> Path:
    """A consistent copy via SQLite's online backup (safe with WAL), named after the old revision
    unless ``target`` names the file (``guide-app --backup FILE``)."""
    if target is None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = path.with_name(f"{path.stem}.before-{revision or 'unversioned'}-{stamp}{path.suffix}")
    src = sqlite3.connect(path)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return target


def upgrade_to_head(path: Path, revision: str = "head") -> Path | None:
    """Bring the file to ``revision``. Returns the backup's path when an existing file was migrated."""
    path = Path(path)
    current = current_revision(path)
    target = head_revision() if revision == "head" else revision
    if current == target:
        return None
    backup: Path | None = None
    if path.exists() and path.stat().st_size > 0 and current is not None:
        backup = backup_copy(path, current)
    command.upgrade(alembic_config(path), revision)
    return backup


def restore_backup(backup: Path, path: Path) -> None:
    shutil.copy2(backup, path)
