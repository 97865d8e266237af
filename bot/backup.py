"""`citizenbot backup FILE` / `citizenbot restore FILE`: the database as one gzipped JSON-lines file.

Line 1 is a header (format, schema revision, tables); then one line per row,
``{"table": ..., "row": {...}}``, tables in dependency order and rows by primary key, so two
backups of the same content are byte-for-byte equal whatever the backend. Times are written
as ISO 8601 in UTC. Restore needs an empty database (it migrates it first) and writes
everything in one transaction.

Backed up: the knowledge base (procedures, FAQ, staff versions, unanswered questions and their
resolutions), dossiers, ratings, callbacks and complaints, staff accounts, conversations and the
SMS outbox. Left out, on purpose: staff sessions and the dossier check lockout (short-lived).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.migrations import current_revision, migrate
from bot.schema import metadata

FORMAT = "citizenbot-backup"
NOT_BACKED_UP = frozenset({"staff_sessions", "dossier_check_guard"})


def backed_up_tables() -> list[sa.Table]:
    return [table for table in metadata.sorted_tables if table.name not in NOT_BACKED_UP]


class RestoreError(Exception):
    pass


@dataclass(frozen=True)
class BackupSummary:
    revision: str
    rows: dict[str, int]


def _encode(column: sa.Column, value: Any) -> Any:
    if isinstance(value, datetime):
        # SQLite gives naive datetimes back: they were stored in UTC.
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).isoformat()
    return value


def _decode(column: sa.Column, value: Any) -> Any:
    if value is not None and isinstance(column.type, sa.DateTime):
        return datetime.fromisoformat(value)
    return value


def _rows(conn: sa.Connection, table: sa.Table) -> Iterator[dict[str, Any]]:
    for row in conn.execute(sa.select(table).order_by(*table.primary_key.columns)):
        yield {column.name: _encode(column, row._mapping[column.name]) for column in table.columns}


def backup(database_url: str, path: Path) -> BackupSummary:
    engine = sa.create_engine(database_url)
    counts: dict[str, int] = {}
    try:
        revision = current_revision(database_url) or ""
        with engine.connect() as conn, gzip.open(path, "wt", encoding="utf-8") as out:
            tables = backed_up_tables()
            present = set(sa.inspect(conn).get_table_names())
            header = {"format": FORMAT, "version": 1, "revision": revision, "tables": [t.name for t in tables]}
            out.write(json.dumps(header, ensure_ascii=False) + "\n")
            for table in tables:
                counts[table.name] = 0
                if table.name not in present:
                    continue
                for row in _rows(conn, table):
                    out.write(json.dumps({"table": table.name, "row": row}, ensure_ascii=False, sort_keys=True) + "\n")
                    counts[table.name] += 1
    finally:
        engine.dispose()
    return BackupSummary(revision, counts)


def restore(database_url: str, path: Path) -> BackupSummary:
    """Load a backup into an empty database (migrated to the newest schema first)."""
    tables = {table.name: table for table in backed_up_tables()}
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        header = json.loads(next(lines, "null") or "null")
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise RestoreError(f"{path} is not a citizenbot backup")
        unknown = set(header["tables"]) - set(tables)
        if unknown:
            raise RestoreError(f"{path} holds tables this version does not know: {', '.join(sorted(unknown))}")
        revision = migrate(database_url)
        if header["revision"] and header["revision"] != revision:
            raise RestoreError(f"{path} was made at schema {header['revision']}, this database is at {revision}")
        engine = sa.create_engine(database_url)
        counts = dict.fromkeys(tables, 0)
        try:
            with engine.begin() as conn:
                for table in tables.values():
                    if conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one():
                        raise RestoreError(f"the database is not empty (table {table.name} has rows)")
                for line in lines:
                    item = json.loads(line)
                    table = tables[item["table"]]
                    conn.execute(table.insert(), {c.name: _decode(c, item["row"].get(c.name)) for c in table.columns})
                    counts[table.name] += 1
                _advance_sequences(conn, tables.values())
        finally:
            engine.dispose()
    return BackupSummary(revision, counts)


def _advance_sequences(conn: sa.Connection, tables: Any) -> None:
    """PostgreSQL: rows came in with their ids, so each id sequence must move past them."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        for column in table.primary_key.columns:
            if column.autoincrement is True:
                conn.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                        f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"
                    )
                )
