"""Opening the project's database: SQLite under var/ by default, any SQLAlchemy URL otherwise.

The embedded default creates missing tables itself (``create_all``) so a fresh clone needs no
set-up step; a shared database (PostgreSQL) is brought up to date by ``citizenbot migrate``
(Alembic, bot/migrations/), which set-up and ``citizenbot ingest`` run too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

# The largest number an Integer column holds on every backend (PostgreSQL's is 32 bits): ids and
# version numbers a client sends beyond it cannot exist, and must not reach the driver.
MAX_INTEGER = 2**31 - 1


def prepare_sqlite_folder(database_url: str) -> None:
    if database_url.startswith("sqlite:///"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)


def open_database(database_url: str, metadata: sa.MetaData) -> sa.Engine:
    """An engine for the URL, with the tables of `metadata` created (a SQLite file's folder too)."""
    prepare_sqlite_folder(database_url)
    if database_url.startswith("sqlite"):
        engine = sa.create_engine(database_url)
    else:
        # pool_pre_ping: a worker keeps working after PostgreSQL restarts; while it is down,
        # connecting gives up after a few seconds instead of holding the citizen's request.
        engine = sa.create_engine(database_url, pool_pre_ping=True, connect_args={"connect_timeout": 3})
    metadata.create_all(engine)
    return engine


def utc_now() -> datetime:
    return datetime.now(UTC)
