"""The app migrates an older file on start, after taking a copy of it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from guide_app.db.customer_list import ListSpec, load_rows, select_pks
from guide_app.db.engine import open_database
from guide_app.db.migrate import alembic_config, current_revision, head_revision, upgrade_to_head
from guide_app.db.models import Base
from guide_app.db.search_index import search_keys, search_row
from guide_app.domain.pinyin_keys import pinyin_keys, sort_key


def _first_revision() -> str:
    script = ScriptDirectory.from_config(alembic_config(Path("x.db")))
    revs = list(script.walk_revisions())
    return revs[-1].revision


def test_new_file_is_created_at_head_without_a_backup(tmp_path: Path) -> None:
    db_path = tmp_path / "guide.db"
    assert upgrade_to_head(db_path) is None
    assert current_revision(db_path) == head_revision()


def test_file_from_the_first_schema_is_backed_up_and_migrated_with_its_data(tmp_path: Path) -> None:
    db_path = tmp_path / "guide.db"
    first = _first_revision()
    command.upgrade(alembic_config(db_path), first)
    con = sqlite3.connect(db_path)
    con.execute(
        "INSERT INTO customer(id, field_hlc, store_id, name, phone, wechat_id, gender, birthday, source, "
        "owner_guide_id, stage, preferences, sizes, notes, consent_phone, consent_sms, consent_wechat, "
        "created_at, updated_at, sort_name, total_spent_cents, order_count) VALUES "
        "('c1', '{}', 's1', '王芳', '+8613912345678', '', '', '', '', 'g1', '', '', '', '', 'unknown', "
        "'unknown', 'unknown', 1, 1, 'wangfang', 0, 0)"
    )
    con.commit()
    con.close()

    db = open_database(db_path)  # what the app does on start
    try:
        assert current_revision(db_path) == head_revision()
        backups = sorted(tmp_path.glob("guide.before-*.db"))
        if first != head_revision():
            assert len(backups) == 1
            with sqlite3.connect(backups[0]) as old:
                assert old.execute("SELECT name FROM customer").fetchall() == [("王芳",)]
        else:
            assert backups == []
        with sqlite3.connect(db_path) as con2:
            assert con2.execute("SELECT name FROM customer WHERE id='c1'").fetchall() == [("王芳",)]
    finally:
        db.dispose()


def test_migrations_build_exactly_the_models(tmp_path: Path) -> None:
    """The Alembic chain and models.py describe the same tables and columns."""
    db = open_database(tmp_path / "guide.db")
    try:
        insp = inspect(db.read_engine)
        for table in Base.metadata.sorted_tables:
            cols = {c["name"] for c in insp.get_columns(table.name)}
            assert cols == {c.name for c in table.columns}, table.name
            idx = {i["name"] for i in insp.get_indexes(table.name)}
            assert {i.name for i in table.indexes} <= idx, table.name
    finally:
        db.dispose()


def test_search_keys_of_a_0001_book_get_the_given_name_tails(tmp_path: Path) -> None:
    """0002 backfills name_tail / py_initials_tail / name_last from the names already indexed, so an old
    book finds 王小明 by 小明 and xm right after the upgrade, exactly as if index_customers had written it."""
    db_path = tmp_path / "guide.db"
    command.upgrade(alembic_config(db_path), "0001")
    people = ["王小明", "欧阳娜娜", "王芳", "Anna Li", "张"]
    con = sqlite3.connect(db_path)
    for pk, name in enumerate(people, start=1):
        con.execute(
            "INSERT INTO customer(pk, id, field_hlc, store_id, name, phone, wechat_id, gender, birthday, source, "
            "owner_guide_id, stage, preferences, sizes, notes, consent_phone, consent_sms, consent_wechat, "
            "created_at, updated_at, sort_name, total_spent_cents, order_count) VALUES "
            "(?, ?, '{}', 's1', ?, '', '', '', '', '', 'g1', '', '', '', '', 'unknown', 'unknown', 'unknown', "
            "1, 1, ?, 0, 0)", (pk, f"c{pk}", name, sort_key(name)))
        full, initials = pinyin_keys(name)  # what 0001's index_customers wrote
        con.execute("INSERT INTO customer_search(pk, store_id, name, py_full, py_initials, phone_digits, wechat) "
                    "VALUES (?, 's1', ?, ?, ?, '', '')", (pk, name.lower(), full, initials))
        con.execute("INSERT INTO customer_fts(rowid, name, py_full, py_initials, phone_digits, wechat) "
                    "VALUES (?, ?, ?, ?, '', '')", (pk, name.lower(), full, initials))
    con.commit()
    con.close()

    db = open_database(db_path)
    try:
        with sqlite3.connect(db_path) as con2:
            rows = con2.execute("SELECT * FROM customer_search ORDER BY pk").fetchall()
        assert rows == [search_row(pk, "s1", search_keys(name, "", "")) for pk, name in enumerate(people, start=1)]
        with db.read() as s:
            for query, name in (("小明", "王小明"), ("xm", "王小明"), ("娜娜", "欧阳娜娜"), ("明", "王小明"),
                                ("li", "Anna Li")):
                pks = select_pks(s, ListSpec(store_id="s1", text=query))
                assert [r[2] for r in load_rows(s, pks).values()] == [name], query
    finally:
        db.dispose()
