"""Alembic environment: the database URL comes from the caller (bot.migrations.alembic_config)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from bot.schema import metadata

url = context.config.attributes.get("database_url") or context.config.get_main_option("sqlalchemy.url")

if context.is_offline_mode():
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        # SQLite cannot ALTER most things: batch mode rebuilds the table instead.
        context.configure(
            connection=connection,
            target_metadata=metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
