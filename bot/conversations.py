"""Chat conversations the gateway keeps: ids, the clarifying question pending, and a log of turns.

A conversation id is made here (random, unguessable) and is also the Rasa
sender id. An id the store does not know is never adopted: the citizen gets a
new conversation, so nobody can join someone else's by guessing.
The pending clarifying question lets a quick-reply button (a procedure code)
be answered even when Rasa is not reachable. The turn log keeps messages with
phone and ID numbers masked (:mod:`bot.masking`).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from bot.database import open_database, utc_now
from bot.masking import mask_text

CONVERSATION_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")

metadata = sa.MetaData()

conversations_table = sa.Table(
    "chat_conversations",
    metadata,
    sa.Column("id", sa.String(64), primary_key=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("turns", sa.Integer, nullable=False, default=0),
    # After a clarifying question: the question, whether it was about fees ("fee") or not ("ask"), the codes offered.
    sa.Column("pending_question", sa.Text, nullable=True),
    sa.Column("pending_kind", sa.String(8), nullable=True),
    sa.Column("pending_choices", sa.JSON, nullable=True),
    # The kind of the last reply ("dossier_form" while Rasa waits for a code or check digits).
    sa.Column("last_kind", sa.String(32), nullable=False, default=""),
)

turns_table = sa.Table(
    "chat_turns",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("conversation_id", sa.String(64), nullable=False, index=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("reply", sa.Text, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("route", sa.String(16), nullable=False),
    sa.Column("procedure_code", sa.String(64), nullable=True),
    sa.Column("latency_ms", sa.Integer, nullable=False),
)


@dataclass(frozen=True)
class Pending:
    question: str
    kind: str  # "ask" | "fee"
    codes: list[str]


@dataclass(frozen=True)
class Conversation:
    id: str
    channel: str
    turns: int
    pending: Pending | None
    last_kind: str


@dataclass(frozen=True)
class TurnRecord:
    message: str
    reply: str
    kind: str
    route: str  # "rasa" | "knowledge" | "fallback"
    procedure_code: str | None
    latency_ms: int


class ConversationStore:
    def __init__(self, database_url: str, clock: Callable[[], datetime] = utc_now) -> None:
        self.engine = open_database(database_url, metadata)
        self.now = clock

    def open(self, conversation_id: str | None, channel: str) -> Conversation:
        """The conversation with this id, or a new one when it is missing or unknown."""
        if conversation_id and CONVERSATION_ID.match(conversation_id):
            found = self.get(conversation_id)
            if found is not None:
                return found
        new_id = secrets.token_hex(16)
        now = self.now()
        with self.engine.begin() as conn:
            conn.execute(
                conversations_table.insert(),
                {"id": new_id, "created_at": now, "updated_at": now, "channel": channel, "turns": 0, "last_kind": ""},
            )
        return Conversation(new_id, channel, 0, None, "")

    def get(self, conversation_id: str) -> Conversation | None:
        query = sa.select(conversations_table).where(conversations_table.c.id == conversation_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        pending = (
            Pending(row.pending_question, row.pending_kind or "ask", list(row.pending_choices or []))
            if row.pending_question and row.pending_choices
            else None
        )
        return Conversation(row.id, row.channel, row.turns, pending, row.last_kind)

    def record(self, conversation_id: str, turn: TurnRecord, pending: Pending | None, keep_pending: bool) -> None:
        """Logs a turn; ``pending`` replaces the pending clarifying question unless ``keep_pending``."""
        now = self.now()
        values: dict = {"updated_at": now, "turns": conversations_table.c.turns + 1, "last_kind": turn.kind}
        if not keep_pending:
            values |= {
                "pending_question": pending.question if pending else None,
                "pending_kind": pending.kind if pending else None,
                "pending_choices": pending.codes if pending else None,
            }
        with self.engine.begin() as conn:
            conn.execute(
                conversations_table.update().where(conversations_table.c.id == conversation_id).values(**values)
            )
            # The log is for analytics: the citizen's phone and ID numbers are masked (Rasa got them whole).
            logged = {**turn.__dict__, "message": mask_text(turn.message)}
            conn.execute(turns_table.insert(), {"conversation_id": conversation_id, "at": now, **logged})

    def turns(self, conversation_id: str) -> list[TurnRecord]:
        query = (
            sa.select(turns_table)
            .where(turns_table.c.conversation_id == conversation_id)
            .order_by(turns_table.c.id)
        )
        with self.engine.connect() as conn:
            return [
                TurnRecord(r.message, r.reply, r.kind, r.route, r.procedure_code, r.latency_ms)
                for r in conn.execute(query)
            ]

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                "conversations": conn.execute(sa.select(sa.func.count()).select_from(conversations_table)).scalar_one(),
                "turns": conn.execute(sa.select(sa.func.count()).select_from(turns_table)).scalar_one(),
            }

    def ping(self) -> None:
        with self.engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
