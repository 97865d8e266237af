"""The real PostgreSQL and Redis of the scale-out configuration, for tests.

Each test session creates its own uniquely named databases (dropped at the end) and uses its
own Redis key prefix (only those keys are deleted). Both servers run on every machine here and
in CI; when one is down the tests that need it fail with a message saying so.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.rasa_endpoints import lock_key_prefix

POSTGRES_SERVER = os.environ.get("CITIZENBOT_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("CITIZENBOT_TEST_REDIS", "redis://127.0.0.1:6379/0")
SESSION_TAG = f"{os.getpid()}_{secrets.token_hex(3)}"


@pytest.fixture(scope="session")
def new_postgres_database() -> Iterator[Callable[[], str]]:
    """Makes an empty PostgreSQL database with a unique name and returns its URL."""
    # NullPool: a connection per use, so that a PostgreSQL restart (test_scale_out.py) leaves none stale.
    admin = sa.create_engine(f"{POSTGRES_SERVER}/postgres", isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    made: list[str] = []

    def make() -> str:
        name = f"citizenbot_test_{SESSION_TAG}_{len(made)}"
        try:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        except sa.exc.OperationalError as error:
            pytest.fail(f"PostgreSQL is not reachable at {POSTGRES_SERVER} ({error})", pytrace=False)
        made.append(name)
        return f"{POSTGRES_SERVER}/{name}"

    yield make
    with admin.connect() as conn:
        for name in made:  # and the Rasa tracker store's, made beside it (bot/rasa_endpoints.py)
            for database in (name, f"{name}_rasa"):
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    admin.dispose()


@pytest.fixture(scope="session")
def postgres_url(new_postgres_database: Callable[[], str]) -> str:
    """One database shared by the tests of the session, emptied after each (see `database_url`)."""
    return new_postgres_database()


def empty_postgres(url: str) -> None:
    """Closes the connections the test's stores left open and empties every table."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        conn.exec_driver_sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        tables = sa.inspect(conn).get_table_names()
        if tables:
            conn.exec_driver_sql(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Runs the test once on the embedded default (SQLite) and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'citizenbot.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    yield url
    empty_postgres(url)


@pytest.fixture(scope="session")
def redis_prefix() -> Iterator[str]:
    """A key prefix of this session's own; its keys are deleted at the end."""
    import redis

    prefix = f"citizenbot-test:{SESSION_TAG}:"
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        pytest.fail(f"Redis is not reachable at {REDIS_URL} ({error})", pytrace=False)
    yield prefix
    # Rasa's lock keys (tests/test_scale_out.py) have the prefix's letters and digits only, and no expiry.
    for pattern in (prefix, lock_key_prefix(prefix)):
        for key in client.scan_iter(match=f"{pattern}*"):
            client.delete(key)
    client.close()
