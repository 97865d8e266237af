"""Text messages the callbot promised to send: an outbox table that staff (and an SMS gateway) read.

Nothing is sent from here: a row is queued with the caller's number and the full written
answer; an SMS gateway or a staff member sends it and marks it sent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from bot.database import open_database, utc_now

MAX_SMS_CHARS = 2000  # a long answer goes out as several concatenated SMS; beyond this it is cut

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
        query = sa.select(outbox_table).order_by(outbox_table.c.id.desc()).limit(limit)
        if status:
            query = query.where(outbox_table.c.status == status)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [OutgoingMessage(r.id, r.created_at, r.conversation_id, r.phone, r.text, r.status) for r in rows]

    def mark(self, message_id: int, status: str) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(outbox_table.update().where(outbox_table.c.id == message_id), {"status": status})
        return done.rowcount > 0
