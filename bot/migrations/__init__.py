"""Schema migrations (Alembic): `citizenbot migrate` brings any database to the newest revision.

The revisions live in ``versions/``; ``env.py`` compares against :data:`bot.schema.metadata`.
To write a new revision after changing a table:
``.venv/bin/python -m bot.migrations revision --autogenerate -m "what changed"``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from bot.database import prepare_sqlite_folder

FOLDER = Path(__file__).resolve().parent


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(FOLDER))
    config.set_main_option("version_locations", str(FOLDER / "versions"))
    config.set_main_option("path_separator", "os")
    config.attributes["database_url"] = database_url
    return config


def migrate(database_url: str) -> str:
    """Upgrade to the newest revision and return it.

    A database the stores made themselves (``create_all``, the embedded default's fallback) has
    no revision yet: its missing tables are created the same way and it is stamped with the
    initial revision; the later revisions then find their tables there and leave them (each
    creates a table only when it is missing).
    """
    from bot.schema import metadata

    prepare_sqlite_folder(database_url)
    config = alembic_config(database_url)
    engine = sa.create_engine(database_url)
    try:
        existing = set(sa.inspect(engine).get_table_names())
        if "alembic_version" not in existing and existing & set(metadata.tables):
            metadata.create_all(engine)
            command.stamp(config, INITIAL_REVISION)
    finally:
        engine.dispose()
    command.upgrade(config, "head")
    return current_revision(database_url) or ""


def current_revision(database_url: str) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


INITIAL_REVISION = "0001_initial"


if __name__ == "__main__":  # python -m bot.migrations revision --autogenerate -m "..."
    from alembic.config import CommandLine

    from bot.settings import Settings

    cli = CommandLine(prog="python -m bot.migrations")
    options = cli.parser.parse_args(sys.argv[1:])
    config = alembic_config(Settings.from_env().database_url)
    config.cmd_opts = options
    cli.run_cmd(config, options)
