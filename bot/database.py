"""Opening the project's database: SQLite under var/ by default, any SQLAlchemy URL otherwise.

The embedded default creates missing tables itself (``create_all``) so a fresh clone needs no
set-up step; a shared database (PostgreSQL) is brought up to date by ``citizenbot migrate``
(Alembic, bot/migrations/), which set-up and ``citizenbot ingest`` run too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa


def prepare_sqlite_folder(database_url: str) -> None:
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def open_database(database_url: str, metadata: sa.MetaData) -> sa.Engine:
    """An engine for the URL, with the tables of `metadata` created (a SQLite file's folder too)."""
    prepare_sqlite_folder(database_url)
    # pool_pre_ping: a worker keeps working after PostgreSQL restarts.
    engine = sa.create_engine(database_url, pool_pre_ping=not database_url.startswith("sqlite"))
    metadata.create_all(engine)
    return engine


def utc_now() -> datetime:
    return datetime.now(UTC)
