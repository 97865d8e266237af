"""The Rasa endpoints file: the action server alone by default, shared tracker and lock stores scaled out."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import sqlalchemy as sa
from servers import POSTGRES_SERVER, REDIS_URL

from bot.rasa_client import RasaClient
from bot.rasa_endpoints import write_endpoints
from bot.settings import Settings


def test_the_embedded_default_has_only_the_action_server(tmp_path: Path) -> None:
    settings = Settings.from_env({"CITIZENBOT_VAR_DIR": str(tmp_path)})
    path = write_endpoints(tmp_path / "endpoints.yml", "http://127.0.0.1:5055/webhook", settings)
    written = json.loads(path.read_text())
    assert written == {"action_endpoint": {"url": "http://127.0.0.1:5055/webhook"}}


def test_scaled_out_the_trackers_go_to_postgresql_and_the_locks_to_redis(
    tmp_path: Path, new_postgres_database: Callable[[], str]
) -> None:
    url = new_postgres_database()
    env = {"CITIZENBOT_DATABASE_URL": url, "CITIZENBOT_REDIS_URL": REDIS_URL, "CITIZENBOT_REDIS_PREFIX": "cb-test:"}
    path = write_endpoints(tmp_path / "endpoints.yml", "http://a/webhook", Settings.from_env(env))
    written = json.loads(path.read_text())
    database = f"{sa.make_url(url).database}_rasa"
    assert written["tracker_store"] == {
        "type": "SQL", "dialect": "postgresql", "url": "127.0.0.1", "port": 5432, "db": database,
        "username": "postgres", "password": "",
    }
    assert written["lock_store"] == {
        "type": "redis", "url": "127.0.0.1", "port": 6379, "db": 0, "password": None, "key_prefix": "cbtest",
    }
    # The tracker database exists before any Rasa server starts, and writing again keeps it.
    write_endpoints(tmp_path / "endpoints.yml", "http://a/webhook", Settings.from_env(env))
    admin = sa.create_engine(f"{POSTGRES_SERVER}/postgres", poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        found = conn.execute(sa.text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": database}).scalar()
    admin.dispose()
    assert found == 1


def test_each_conversation_prefers_one_rasa_server_and_every_server_is_a_fallback() -> None:
    client = RasaClient(" http://a:5005/, http://b:5006 ,")
    assert client.urls == ("http://a:5005", "http://b:5006")
    orders = {tuple(client.servers_for(f"conversation-{i}")) for i in range(50)}
    assert orders == {("http://a:5005", "http://b:5006"), ("http://b:5006", "http://a:5005")}
    assert client.servers_for("same") == client.servers_for("same")
