"""tests/pg.py refuses loudly (never skips) when PostgreSQL binaries are missing."""

from __future__ import annotations

import pytest

from tests import pg


def test_missing_binaries_fail_with_a_clear_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg, "SEARCH_DIRS", ["/nonexistent"])
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(pg.PostgresUnavailable, match=r"initdb.*install PostgreSQL"):
        pg.start_postgres()


def test_the_session_server_answers(pg_server: pg.PostgresServer) -> None:
    import psycopg

    with psycopg.connect(f"host=127.0.0.1 port={pg_server.port} user=postgres dbname=postgres") as conn:
        assert conn.execute("SELECT current_setting('listen_addresses')").fetchone() == ("127.0.0.1",)
        version = conn.execute("SHOW server_version_num").fetchone()
        assert version is not None and int(version[0]) >= 120000
    assert (pg_server.socket_dir).exists()
