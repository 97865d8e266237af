"""Versioned procedure changes: who changed what and when, ETags, revert.

Every change (create, edit, retire, import, alias, revert) writes the procedure
and a history row holding the full record and the changed fields in one
transaction. A change names the ETag of the record it was made from; if the
record changed since, it is refused (:class:`Conflict`), never overwritten.
Version numbers are unique per procedure, so of two concurrent changes made
from the same version only one can be written.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from bot.procedure import SECTION_TITLES, Procedure, Section
from bot.store import KnowledgeStore, procedure_row, procedures_table

metadata = sa.MetaData()

versions_table = sa.Table(
    "procedure_versions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("code", sa.String(64), nullable=False, index=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("action", sa.String(16), nullable=False),
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("changes", sa.JSON, nullable=False),  # [{"field", "before", "after"}]
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.UniqueConstraint("code", "version", name="uq_procedure_version"),
)

ACTION_NAMES = {
    "baseline": "Bản ban đầu (trước khi cán bộ sửa)",
    "create": "Tạo mới",
    "edit": "Sửa",
    "retire": "Ngừng áp dụng",
    "restore": "Áp dụng lại",
    "revert": "Khôi phục",
    "import": "Nhập từ tệp",
    "alias": "Thêm tên gọi khác",
}

FIELD_NAMES = {
    "name": "Tên thủ tục",
    "detail": "Mức đầy đủ",
    "field": "Lĩnh vực",
    "agency": "Cơ quan thực hiện",
    "level": "Cấp thực hiện",
    "who": "Đối tượng thực hiện",
    "channels": "Cách thức nộp",
    "where": "Nơi nộp",
    "processing_time": SECTION_TITLES[Section.TIME],
    "processing_time_online": "Thời hạn giải quyết (trực tuyến)",
    "fees": SECTION_TITLES[Section.FEES],
    "fee_note": "Ghi chú phí, lệ phí",
    "documents": SECTION_TITLES[Section.DOCUMENTS],
    "steps": SECTION_TITLES[Section.STEPS],
    "result": SECTION_TITLES[Section.RESULT],
    "conditions": SECTION_TITLES[Section.CONDITIONS],
    "legal_basis": SECTION_TITLES[Section.LEGAL],
    "sources": "Nguồn từng thông tin",
    "aliases": "Tên gọi khác",
    "popularity": "Mức độ sử dụng",
    "last_reviewed": "Ngày rà soát",
    "source": "Nguồn",
    "needs_review": "Cần rà soát",
    "retired": "Ngừng áp dụng",
}

SYSTEM_USER = "hệ thống"


class Conflict(Exception):
    """The record changed since the ETag the change was made from."""

    def __init__(self, current_etag: str) -> None:
        super().__init__("conflict")
        self.current_etag = current_etag


class NotFound(LookupError):
    pass


class AlreadyExists(Exception):
    pass


@dataclass(frozen=True)
class Version:
    code: str
    version: int
    action: str
    username: str
    at: datetime
    data: dict[str, Any]
    changes: list[dict[str, Any]]
    note: str

    @property
    def summary(self) -> str:
        action = ACTION_NAMES.get(self.action, self.action)
        if self.action in {"create", "baseline"}:
            return action
        fields = ", ".join(FIELD_NAMES.get(c["field"], c["field"]) for c in self.changes)
        return f"{action}: {fields}" if fields else action


def etag(data: dict[str, Any]) -> str:
    """A strong ETag: the hash of the record's canonical JSON."""
    canonical = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return '"' + hashlib.sha256(canonical.encode()).hexdigest()[:20] + '"'


def diff(before: dict[str, Any] | None, after: dict[str, Any]) -> list[dict[str, Any]]:
    before = before or {}
    return [
        {"field": key, "before": before.get(key), "after": after.get(key)}
        for key in after
        if key != "code" and before.get(key) != after.get(key)
    ]


class ProcedureHistory:
    def __init__(self, store: KnowledgeStore) -> None:
        self.store = store
        self.engine = store.engine
        metadata.create_all(self.engine)

    def current(self, code: str) -> tuple[Procedure, str]:
        procedure = self.store.procedure(code)
        if procedure is None:
            raise NotFound(code)
        return procedure, etag(procedure.to_dict())

    def versions(self, code: str) -> list[Version]:
        query = sa.select(versions_table).where(versions_table.c.code == code).order_by(versions_table.c.version.desc())
        with self.engine.connect() as conn:
            return [_version(r) for r in conn.execute(query)]

    def version(self, code: str, number: int) -> Version:
        query = sa.select(versions_table).where(versions_table.c.code == code, versions_table.c.version == number)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise NotFound(f"{code} v{number}")
        return _version(row)

    def recent(self, since: datetime | None = None, limit: int = 50) -> list[Version]:
        query = sa.select(versions_table).where(versions_table.c.action != "baseline")
        if since is not None:
            query = query.where(versions_table.c.at > since)
        query = query.order_by(versions_table.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [_version(r) for r in conn.execute(query)]

    def edited_codes(self) -> set[str]:
        """Codes of the procedures staff have changed: re-ingesting the sources must not overwrite them."""
        query = sa.select(versions_table.c.code).where(versions_table.c.action != "baseline").distinct()
        with self.engine.connect() as conn:
            return {row[0] for row in conn.execute(query)}

    def last_change(self) -> int:
        """The newest change's number (0 before any): a publish covers the changes up to the one it read."""
        with self.engine.connect() as conn:
            return int(conn.execute(sa.select(sa.func.max(versions_table.c.id))).scalar() or 0)

    # ---- changes ----------------------------------------------------------

    def create(self, procedure: Procedure, username: str, action: str = "create") -> str:
        data = procedure.to_dict()
        now = datetime.now(UTC)
        try:
            with self.engine.begin() as conn:
                conn.execute(procedures_table.insert(), procedure_row(procedure, now))
                self._record(conn, procedure.code, 1, action, username, now, data, diff(None, data))
        except sa.exc.IntegrityError:
            raise AlreadyExists(procedure.code) from None
        return etag(data)

    def change(self, procedure: Procedure, if_match: str, username: str, action: str = "edit", note: str = "") -> str:
        """Write a new version of an existing procedure made from the version ``if_match`` names."""
        data = procedure.to_dict()
        now = datetime.now(UTC)
        try:
            with self.engine.begin() as conn:
                row = conn.execute(
                    sa.select(procedures_table.c.data).where(procedures_table.c.code == procedure.code)
                ).first()
                if row is None:
                    raise NotFound(procedure.code)
                before = Procedure.from_dict(row[0]).to_dict()
                if etag(before) != if_match:
                    raise Conflict(etag(before))
                latest = conn.execute(
                    sa.select(sa.func.max(versions_table.c.version)).where(versions_table.c.code == procedure.code)
                ).scalar()
                if latest is None:  # the first staff change: keep what was there as version 1
                    self._record(conn, procedure.code, 1, "baseline", SYSTEM_USER, now, before, [])
                    latest = 1
                conn.execute(
                    procedures_table.update().where(procedures_table.c.code == procedure.code),
                    procedure_row(procedure, now),
                )
                self._record(conn, procedure.code, latest + 1, action, username, now, data, diff(before, data), note)
        except sa.exc.IntegrityError:
            # Another change took this version number first.
            raise Conflict(self.current(procedure.code)[1]) from None
        return etag(data)

    def revert(self, code: str, number: int, if_match: str, username: str) -> str:
        target = Procedure.from_dict(self.version(code, number).data)
        return self.change(target, if_match, username, "revert", note=f"Khôi phục phiên bản {number}")

    @staticmethod
    def _record(
        conn: sa.Connection,
        code: str,
        number: int,
        action: str,
        username: str,
        at: datetime,
        data: dict[str, Any],
        changes: list[dict[str, Any]],
        note: str = "",
    ) -> None:
        conn.execute(
            versions_table.insert(),
            {
                "code": code,
                "version": number,
                "action": action,
                "username": username,
                "at": at,
                "data": data,
                "changes": changes,
                "note": note,
            },
        )


def _version(row: sa.Row) -> Version:
    at = row.at if row.at.tzinfo else row.at.replace(tzinfo=UTC)
    return Version(row.code, row.version, row.action, row.username, at, row.data, row.changes, row.note)
