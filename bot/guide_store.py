"""The guides the assistant serves (bot.guidance), kept in the database so that staff can edit them.

``knowledge/guidance.json`` ships the guides; :meth:`GuideStore.seed` copies them in (at ingest
and when the gateway starts) and refreshes a shipped guide only while no staff member has changed
it, so a new release never overwrites a staff edit. Staff create, edit and switch off guides from
the console; each change names the ETag of the version it was made from and is refused when the
guide changed since (:class:`bot.staff.history.Conflict`), and every version is kept. Like
procedure edits, guide changes reach citizens when staff publish.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from bot.database import open_database
from bot.guidance import Guide, GuideBook
from bot.staff.history import AlreadyExists, Conflict, NotFound, etag

metadata = sa.MetaData()

guides_table = sa.Table(
    "guides",
    metadata,
    sa.Column("number", sa.Integer, primary_key=True, autoincrement=True),  # guides are matched in this order
    sa.Column("id", sa.String(64), nullable=False, unique=True),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("edited_by", sa.String(64), nullable=False, default=""),  # "" while as shipped
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

guide_versions_table = sa.Table(
    "guide_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("guide_id", sa.String(64), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("username", sa.String(64), nullable=False),  # SHIPPED for the versions a release brought
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.UniqueConstraint("guide_id", "version", name="uq_guide_version"),
)

SHIPPED = "hệ thống (bản phát hành)"


@dataclass(frozen=True)
class GuideVersion:
    version: int
    username: str
    at: datetime
    guide: Guide


@dataclass(frozen=True)
class SeedReport:
    added: int
    refreshed: int
    kept: int  # shipped guides left as staff edited them


class GuideStore:
    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        metadata.create_all(engine)

    def guides(self) -> list[Guide]:
        """Every guide, switched-off ones too, in matching order."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(guides_table.c.data).order_by(guides_table.c.number))
            return [Guide.from_dict(row[0]) for row in rows]

    def book(self) -> GuideBook:
        return GuideBook(self.guides())

    def current(self, guide_id: str) -> tuple[Guide, str]:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(guides_table.c.data).where(guides_table.c.id == guide_id)).first()
        if row is None:
            raise NotFound(guide_id)
        guide = Guide.from_dict(row[0])
        return guide, etag(guide.to_dict())

    def edited_by(self) -> dict[str, str]:
        """Who last changed each guide ("" while as shipped)."""
        with self.engine.connect() as conn:
            return dict(conn.execute(sa.select(guides_table.c.id, guides_table.c.edited_by)).all())

    def versions(self, guide_id: str) -> list[GuideVersion]:
        query = (
            sa.select(guide_versions_table)
            .where(guide_versions_table.c.guide_id == guide_id)
            .order_by(guide_versions_table.c.version.desc())
        )
        with self.engine.connect() as conn:
            return [
                GuideVersion(
                    r.version, r.username, r.at if r.at.tzinfo else r.at.replace(tzinfo=UTC), Guide.from_dict(r.data)
                )
                for r in conn.execute(query)
            ]

    def last_change(self) -> int:
        """The newest version's row number (0 before any): what a publish compares to see new changes."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.max(guide_versions_table.c.id))).scalar() or 0)

    # ---- changes --------------------------------------------------------------------------------

    def seed(self, shipped: list[Guide]) -> SeedReport:
        """Add the shipped guides that are missing and refresh those no staff member has changed.
        Several workers may seed at once: a guide another one wrote first is left to it."""
        added = refreshed = kept = 0
        for guide in shipped:
            try:
                with self.engine.begin() as conn:
                    row = conn.execute(
                        sa.select(guides_table.c.data, guides_table.c.edited_by).where(guides_table.c.id == guide.id)
                    ).first()
                    if row is None:
                        self._write(conn, guide, SHIPPED, 1, insert=True)
                        added += 1
                    elif row.edited_by:
                        kept += 1
                    elif Guide.from_dict(row.data) != guide:
                        self._write(conn, guide, SHIPPED, self._latest(conn, guide.id) + 1, insert=False)
                        refreshed += 1
            except sa.exc.IntegrityError:
                continue  # another worker seeded this guide at the same moment
        return SeedReport(added, refreshed, kept)

    def create(self, guide: Guide, username: str) -> str:
        try:
            with self.engine.begin() as conn:
                self._write(conn, guide, username, 1, insert=True)
        except sa.exc.IntegrityError:
            raise AlreadyExists(guide.id) from None
        return etag(guide.to_dict())

    def change(self, guide: Guide, if_match: str, username: str) -> str:
        """Write a new version of a guide made from the version ``if_match`` names."""
        try:
            with self.engine.begin() as conn:
                row = conn.execute(sa.select(guides_table.c.data).where(guides_table.c.id == guide.id)).first()
                if row is None:
                    raise NotFound(guide.id)
                before = etag(Guide.from_dict(row[0]).to_dict())
                if before != if_match:
                    raise Conflict(before)
                self._write(conn, guide, username, self._latest(conn, guide.id) + 1, insert=False)
        except sa.exc.IntegrityError:
            raise Conflict(self.current(guide.id)[1]) from None  # another change took this version first
        return etag(guide.to_dict())

    @staticmethod
    def _latest(conn: sa.Connection, guide_id: str) -> int:
        query = sa.select(sa.func.max(guide_versions_table.c.version)).where(
            guide_versions_table.c.guide_id == guide_id
        )
        return int(conn.execute(query).scalar() or 0)

    @staticmethod
    def _write(conn: sa.Connection, guide: Guide, username: str, version: int, insert: bool) -> None:
        now = datetime.now(UTC)
        data: dict[str, Any] = guide.to_dict()
        row = {"data": data, "edited_by": "" if username == SHIPPED else username, "updated_at": now}
        if insert:
            conn.execute(guides_table.insert(), {"id": guide.id, **row})
        else:
            conn.execute(guides_table.update().where(guides_table.c.id == guide.id), row)
        conn.execute(
            guide_versions_table.insert(),
            {"guide_id": guide.id, "version": version, "username": username, "at": now, "data": data},
        )


def seed_shipped_guides(database_url: str, guidance_file: Path) -> SeedReport:
    """Bring the guides ``guidance_file`` ships into the database (see :meth:`GuideStore.seed`)."""
    engine = open_database(database_url, metadata)
    try:
        return GuideStore(engine).seed(GuideBook.load(guidance_file).guides)
    finally:
        engine.dispose()
