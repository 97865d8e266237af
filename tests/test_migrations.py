"""Alembic: the revisions create exactly the tables the modules declare, on both backends."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from bot.cli import main
from bot.dossiers import DossierStore
from bot.migrations import INITIAL_REVISION, alembic_config, current_revision, migrate
from bot.schema import metadata

HEAD = "0002_guides"


def schema_differences(url: str) -> list:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn), metadata)
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'citizenbot.db'}"
    return request.getfixturevalue("new_postgres_database")()


def test_migrate_creates_every_table_as_the_models_declare(empty_database: str) -> None:
    assert schema_differences(empty_database) != []  # an empty database does differ: the check can fail
    assert migrate(empty_database) == HEAD
    assert schema_differences(empty_database) == []
    assert migrate(empty_database) == HEAD  # running it again changes nothing


def test_a_database_of_the_previous_revision_gains_the_guides(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'citizenbot.db'}"
    command.upgrade(alembic_config(url), INITIAL_REVISION)
    assert {"guides", "guide_versions"} & set(sa.inspect(sa.create_engine(url)).get_table_names()) == set()
    assert migrate(url) == HEAD
    assert schema_differences(url) == []


def test_a_database_made_by_the_embedded_fallback_is_adopted(
    tmp_path: Path, new_postgres_database: Callable[[], str]
) -> None:
    # The embedded default creates its tables itself; `citizenbot migrate` must take over from there.
    url = new_postgres_database()
    DossierStore(url).engine.dispose()
    assert current_revision(url) is None
    assert migrate(url) == HEAD
    assert schema_differences(url) == []


def test_citizenbot_migrate_uses_the_configured_database(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'new-folder' / 'cli.db'}"  # the folder is made too
    monkeypatch.setenv("CITIZENBOT_DATABASE_URL", url)
    assert main(["migrate"]) == 0
    assert HEAD in capsys.readouterr().out
    assert current_revision(url) == HEAD
