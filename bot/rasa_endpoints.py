"""The Rasa server's endpoints file, written from the settings for `citizenbot run` and the tests.

Embedded default: only the action server; Rasa keeps its trackers in memory, so
there is one Rasa server. Scale-out configuration (``CITIZENBOT_DATABASE_URL`` on
PostgreSQL and ``CITIZENBOT_REDIS_URL`` set): the trackers go to PostgreSQL
(SQLTrackerStore, in the database ``<app database>_rasa`` on the same server, created
here before the servers start: Rasa servers starting together would race to create it)
and the conversation locks to Redis (RedisLockStore), so
several Rasa servers share every conversation and any of them can take the next turn.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.settings import Settings

# How long a Rasa server's lock on a conversation outlives it if the server dies mid-turn
# (Rasa's TICKET_LOCK_LIFETIME; its default, 60 s, would keep the conversation waiting that long).
LOCK_LIFETIME_SECONDS = 20


def shares_conversations(settings: Settings) -> bool:
    """Whether several Rasa servers can serve the same conversations with these settings."""
    return settings.redis_url is not None and settings.database_url.startswith("postgresql")


def tracker_database(database_url: str) -> str:
    return f"{sa.make_url(database_url).database}_rasa"


def ensure_tracker_database(database_url: str) -> None:
    """Creates the Rasa tracker store's database beside the app's, if missing."""
    name = tracker_database(database_url)
    admin = sa.create_engine(sa.make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}).first()
            if not exists:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    finally:
        admin.dispose()


def tracker_store(database_url: str) -> dict[str, Any]:
    url = sa.make_url(database_url)
    return {
        "type": "SQL",
        "dialect": "postgresql",  # Rasa's own driver (psycopg2), whatever driver the gateway uses
        "url": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "db": tracker_database(database_url),
        "username": url.username or "postgres",
        "password": url.password or "",
    }


def lock_key_prefix(prefix: str) -> str:
    """Rasa's lock keys start with this: it accepts letters and digits only."""
    return "".join(c for c in prefix if c.isalnum())


def lock_store(redis_url: str, prefix: str) -> dict[str, Any]:
    from redis.connection import parse_url

    parts = parse_url(redis_url)
    return {
        "type": "redis",
        "url": parts.get("host", "127.0.0.1"),
        "port": parts.get("port", 6379),
        "db": parts.get("db", 0),
        "password": parts.get("password"),
        "key_prefix": lock_key_prefix(prefix),
    }


def endpoints(action_url: str, settings: Settings) -> dict[str, Any]:
    config: dict[str, Any] = {"action_endpoint": {"url": action_url}}
    if shares_conversations(settings):
        assert settings.redis_url is not None
        config["tracker_store"] = tracker_store(settings.database_url)
        config["lock_store"] = lock_store(settings.redis_url, settings.redis_prefix)
    return config


def write_endpoints(path: Path, action_url: str, settings: Settings) -> Path:
    """The endpoints file for these settings (and, scaled out, the tracker store's database)."""
    if shares_conversations(settings):
        ensure_tracker_database(settings.database_url)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(endpoints(action_url, settings), indent=2) + "\n")  # JSON is YAML
    return path
