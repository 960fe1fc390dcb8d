"""SQLAlchemy models, engine, migrations and repositories of the local SQLite file. No Qt."""
