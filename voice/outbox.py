"""Text messages the callbot promised to send: an outbox table that staff (and an SMS gateway) read.

Nothing is sent from here: a row is queued with the caller's number and the full written
answer; an SMS gateway or a staff member sends it and marks it sent (``citizenbot outbox``,
the staff console's "Tin nhắn chờ gửi"). Lists for staff mask phone and ID numbers
(:mod:`bot.masking`); one message, opened to be sent, is whole.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import sqlalchemy as sa

from bot.database import open_database, utc_now
from bot.masking import mask_phone, mask_text

MAX_SMS_CHARS = 2000  # a long answer goes out as several concatenated SMS; beyond this it is cut
STATUS_LABELS = {"queued": "Chờ gửi", "sent": "Đã gửi", "failed": "Gửi không được"}
NOT_FOUND = "Không có tin nhắn này."  # for staff asking for a message that does not exist

metadata = sa.MetaData()

outbox_table = sa.Table(
    "sms_outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("conversation_id", sa.String(128), nullable=False, default=""),
    sa.Column("phone", sa.String(20), nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default="queued", index=True),  # queued | sent | failed
)


@dataclass(frozen=True)
class OutgoingMessage:
    id: int
    created_at: datetime
    conversation_id: str
    phone: str
    text: str
    status: str


class Outbox:
    def __init__(self, database_url: str, clock: Callable[[], datetime] = utc_now) -> None:
        self.engine = open_database(database_url, metadata)
        self.now = clock

    def queue(self, phone: str, text: str, conversation_id: str = "") -> OutgoingMessage:
        row = {
            "created_at": self.now(),
            "conversation_id": conversation_id[:128],
            "phone": phone[:20],
            "text": text[:MAX_SMS_CHARS],
            "status": "queued",
        }
        with self.engine.begin() as conn:
            new_id = conn.execute(outbox_table.insert(), row).inserted_primary_key[0]
        return OutgoingMessage(id=new_id, **row)

    def list(self, status: str | None = None, limit: int = 100) -> list[OutgoingMessage]:
        """Newest first, whole (for the SMS gateway and the command line)."""
        query = sa.select(outbox_table).order_by(outbox_table.c.id.desc()).limit(limit)
        if status:
            query = query.where(outbox_table.c.status == status)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [_message(r) for r in rows]

    def list_masked(self, status: str | None = None, limit: int = 100) -> list[OutgoingMessage]:
        """Newest first, phone and ID numbers masked: what staff lists show."""
        return [replace(m, phone=mask_phone(m.phone), text=mask_text(m.text)) for m in self.list(status, limit)]

    def message(self, message_id: int) -> OutgoingMessage | None:
        """One message, whole: for the staff member who sends it."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(outbox_table).where(outbox_table.c.id == message_id)).first()
        return _message(row) if row else None

    def mark(self, message_id: int, status: str) -> bool:
        if status not in STATUS_LABELS:
            raise ValueError(f"unknown message status {status!r}")
        with self.engine.begin() as conn:
            done = conn.execute(outbox_table.update().where(outbox_table.c.id == message_id), {"status": status})
        return done.rowcount > 0


def _message(row: sa.Row) -> OutgoingMessage:
    created = row.created_at if row.created_at.tzinfo else row.created_at.replace(tzinfo=UTC)  # SQLite: naive UTC
    return OutgoingMessage(row.id, created, row.conversation_id, row.phone, row.text, row.status)
