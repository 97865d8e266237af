"""What citizens tell us about the service: ratings, callback requests and complaints.

Kept in the same database as the knowledge base, in its own tables. The chat
widget writes here through the gateway (``POST /api/ratings``,
``/api/callbacks``, ``/api/complaints``); staff read the review queues through
the public functions of :class:`FeedbackStore`:

- :meth:`FeedbackStore.ratings_summary` and :meth:`FeedbackStore.list_ratings`;
- :meth:`FeedbackStore.list_callbacks` (phone and ID numbers masked, :mod:`bot.masking`) and
  :meth:`FeedbackStore.callback` (the full record, to call the citizen back);
- :meth:`FeedbackStore.list_complaints` (masked likewise) and :meth:`FeedbackStore.complaint`;
- :meth:`FeedbackStore.set_callback_status` / :meth:`FeedbackStore.set_complaint_status`.

Callback requests and complaints get a ticket number the citizen is shown:
``YC-20261123-0007`` (yêu cầu gọi lại) and ``PA-20261123-0003`` (phản ánh, kiến
nghị), numbered per day in the province's local time.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

import sqlalchemy as sa

from bot.database import open_database, utc_now
from bot.masking import mask_phone, mask_text
from bot.settings import LOCAL_TIME

MAX_TEXT_CHARS = 4000
MAX_NAME_CHARS = 120


class Rating(StrEnum):
    VERY_SATISFIED = "very_satisfied"
    SATISFIED = "satisfied"
    NEUTRAL = "neutral"
    DISSATISFIED = "dissatisfied"


RATING_LABELS: dict[Rating, str] = {
    Rating.VERY_SATISFIED: "Rất hài lòng",
    Rating.SATISFIED: "Hài lòng",
    Rating.NEUTRAL: "Bình thường",
    Rating.DISSATISFIED: "Không hài lòng",
}


class ComplaintCategory(StrEnum):
    COMPLAINT = "complaint"  # phản ánh
    SUGGESTION = "suggestion"  # kiến nghị


CATEGORY_LABELS: dict[ComplaintCategory, str] = {
    ComplaintCategory.COMPLAINT: "Phản ánh",
    ComplaintCategory.SUGGESTION: "Kiến nghị",
}


class TicketStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    DONE = "done"


STATUS_LABELS: dict[TicketStatus, str] = {
    TicketStatus.OPEN: "Mới",
    TicketStatus.IN_PROGRESS: "Đang xử lý",
    TicketStatus.DONE: "Đã xử lý",
}

CALLBACK_PREFIX = "YC"
COMPLAINT_PREFIX = "PA"


class FeedbackError(ValueError):
    """Input a citizen can correct; ``message`` is Vietnamese and shown as is."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


metadata = sa.MetaData()

ratings_table = sa.Table(
    "feedback_ratings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("conversation_id", sa.String(128), nullable=False, default=""),
    sa.Column("rating", sa.String(32), nullable=False),
    sa.Column("question", sa.Text, nullable=False, default=""),
    sa.Column("answer_kind", sa.String(32), nullable=False, default=""),
    sa.Column("procedure_code", sa.String(64), nullable=True, index=True),
    sa.Column("comment", sa.Text, nullable=False, default=""),
)

callbacks_table = sa.Table(
    "feedback_callbacks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ticket", sa.String(32), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("conversation_id", sa.String(128), nullable=False, default=""),
    sa.Column("name", sa.String(MAX_NAME_CHARS), nullable=False, default=""),
    sa.Column("phone", sa.String(20), nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False, default=TicketStatus.OPEN.value, index=True),
    sa.Column("handled_by", sa.String(MAX_NAME_CHARS), nullable=False, default=""),
    sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
)

complaints_table = sa.Table(
    "feedback_complaints",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("ticket", sa.String(32), nullable=False, unique=True),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
    sa.Column("conversation_id", sa.String(128), nullable=False, default=""),
    sa.Column("category", sa.String(16), nullable=False),
    sa.Column("content", sa.Text, nullable=False),
    sa.Column("name", sa.String(MAX_NAME_CHARS), nullable=False, default=""),
    sa.Column("phone", sa.String(20), nullable=False, default=""),
    sa.Column("status", sa.String(16), nullable=False, default=TicketStatus.OPEN.value, index=True),
    sa.Column("handled_by", sa.String(MAX_NAME_CHARS), nullable=False, default=""),
    sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
)


@dataclass(frozen=True)
class RatingRecord:
    id: int
    created_at: datetime
    conversation_id: str
    rating: Rating
    question: str
    answer_kind: str
    procedure_code: str | None
    comment: str

    @property
    def label(self) -> str:
        return RATING_LABELS[self.rating]


@dataclass(frozen=True)
class RatingsSummary:
    total: int
    counts: dict[Rating, int]  # every level, zeros included
    satisfied_share: float  # (rất hài lòng + hài lòng) / total; 0.0 when there is none
    dissatisfied_by_procedure: dict[str, int]  # procedure code → "không hài lòng" count, most first


@dataclass(frozen=True)
class CallbackRequest:
    ticket: str
    created_at: datetime
    conversation_id: str
    name: str
    phone: str  # masked ("091****567") when listed, full from FeedbackStore.callback()
    question: str
    status: TicketStatus
    handled_by: str = ""
    handled_at: datetime | None = None


@dataclass(frozen=True)
class Complaint:
    ticket: str
    created_at: datetime
    conversation_id: str
    category: ComplaintCategory
    content: str
    name: str
    phone: str  # masked when listed; may be empty
    status: TicketStatus
    handled_by: str = ""
    handled_at: datetime | None = None

    @property
    def category_label(self) -> str:
        return CATEGORY_LABELS[self.category]


# ---- input -------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(value: str, field: str, max_chars: int = MAX_TEXT_CHARS, required: bool = True) -> str:
    """NFC, control characters removed, whitespace trimmed; too long or (if required) empty is refused."""
    text = _CONTROL.sub("", unicodedata.normalize("NFC", value or "")).strip()
    if required and not text:
        raise FeedbackError(field, "Nội dung không được để trống.")
    if len(text) > max_chars:
        raise FeedbackError(field, f"Nội dung quá dài (tối đa {max_chars} ký tự).")
    return text


def normalize_phone(value: str, required: bool = True) -> str:
    """A Vietnamese phone number as 0xxxxxxxxx: spaces, dots, dashes and +84 are accepted."""
    raw = unicodedata.normalize("NFKC", value or "").strip()
    if not raw:
        if required:
            raise FeedbackError("phone", "Vui lòng cho biết số điện thoại để cán bộ gọi lại.")
        return ""
    if not re.fullmatch(r"\+?[\d\s.\-()]{8,20}", raw):
        raise FeedbackError("phone", "Số điện thoại không hợp lệ (ví dụ: 0912 345 678).")
    digits = re.sub(r"\D", "", raw)
    if digits.startswith("84") and len(digits) in (11, 12):
        digits = "0" + digits[2:]
    if not (digits.startswith("0") and len(digits) in (10, 11)):
        raise FeedbackError("phone", "Số điện thoại không hợp lệ (ví dụ: 0912 345 678).")
    return digits


def _aware(moment: datetime | None) -> datetime | None:
    # SQLite gives naive datetimes back: they were stored in UTC.
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


class FeedbackStore:
    def __init__(self, database_url: str, clock: Callable[[], datetime] = utc_now) -> None:
        self.engine = open_database(database_url, metadata)
        self.now = clock

    # ---- writing (the citizen) ------------------------------------------------

    def rate(
        self,
        rating: Rating | str,
        conversation_id: str = "",
        question: str = "",
        answer_kind: str = "",
        procedure_code: str | None = None,
        comment: str = "",
    ) -> RatingRecord:
        try:
            level = Rating(rating)
        except ValueError:
            raise FeedbackError("rating", "Mức đánh giá không hợp lệ.") from None
        row = {
            "created_at": self.now(),
            "conversation_id": clean_text(conversation_id, "conversation_id", 128, required=False),
            "rating": level.value,
            # Kept for analytics: phone and ID numbers masked.
            "question": mask_text(clean_text(question, "question", required=False)),
            "answer_kind": clean_text(answer_kind, "answer_kind", 32, required=False),
            "procedure_code": clean_text(procedure_code or "", "procedure_code", 64, required=False) or None,
            "comment": mask_text(clean_text(comment, "comment", required=False)),
        }
        with self.engine.begin() as conn:
            new_id = conn.execute(ratings_table.insert(), row).inserted_primary_key[0]
        return RatingRecord(id=new_id, **{**row, "rating": level})

    def request_callback(
        self, phone: str, question: str, name: str = "", conversation_id: str = ""
    ) -> CallbackRequest:
        row = {
            "created_at": self.now(),
            "conversation_id": clean_text(conversation_id, "conversation_id", 128, required=False),
            "name": clean_text(name, "name", MAX_NAME_CHARS, required=False),
            "phone": normalize_phone(phone),
            "question": clean_text(question, "question"),
            "status": TicketStatus.OPEN.value,
        }
        ticket = self._insert_ticket(callbacks_table, CALLBACK_PREFIX, row)
        return self.callback(ticket)  # type: ignore[return-value]

    def file_complaint(
        self,
        category: ComplaintCategory | str,
        content: str,
        name: str = "",
        phone: str = "",
        conversation_id: str = "",
    ) -> Complaint:
        try:
            kind = ComplaintCategory(category)
        except ValueError:
            raise FeedbackError("category", "Loại góp ý phải là phản ánh hoặc kiến nghị.") from None
        row = {
            "created_at": self.now(),
            "conversation_id": clean_text(conversation_id, "conversation_id", 128, required=False),
            "category": kind.value,
            "content": clean_text(content, "content"),
            "name": clean_text(name, "name", MAX_NAME_CHARS, required=False),
            "phone": normalize_phone(phone, required=False),
            "status": TicketStatus.OPEN.value,
        }
        ticket = self._insert_ticket(complaints_table, COMPLAINT_PREFIX, row)
        return self.complaint(ticket)  # type: ignore[return-value]

    def _insert_ticket(self, table: sa.Table, prefix: str, row: dict) -> str:
        """Numbers the row within its local day; a concurrent writer taking the number makes it retry."""
        day = row["created_at"].astimezone(LOCAL_TIME).strftime("%Y%m%d")
        stem = f"{prefix}-{day}-"
        for _ in range(20):
            try:
                with self.engine.begin() as conn:
                    last = conn.execute(
                        sa.select(sa.func.max(table.c.ticket)).where(table.c.ticket.like(stem + "%"))
                    ).scalar()
                    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
                    ticket = f"{stem}{number:04d}"
                    conn.execute(table.insert(), {**row, "ticket": ticket})
                return ticket
            except sa.exc.IntegrityError:
                continue
        raise RuntimeError(f"could not number a {prefix} ticket")

    # ---- reading (staff) ---------------------------------------------------------

    def ratings_summary(self, since: datetime | None = None) -> RatingsSummary:
        where = [ratings_table.c.created_at >= since] if since else []
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(ratings_table.c.rating, sa.func.count()).where(*where).group_by(ratings_table.c.rating)
            ).all()
            unhappy = conn.execute(
                sa.select(ratings_table.c.procedure_code, sa.func.count())
                .where(ratings_table.c.rating == Rating.DISSATISFIED.value, ratings_table.c.procedure_code.is_not(None))
                .where(*where)
                .group_by(ratings_table.c.procedure_code)
                .order_by(sa.func.count().desc(), ratings_table.c.procedure_code)
            ).all()
        counts = {level: 0 for level in Rating}
        for rating, count in rows:
            counts[Rating(rating)] = count
        total = sum(counts.values())
        satisfied = counts[Rating.VERY_SATISFIED] + counts[Rating.SATISFIED]
        return RatingsSummary(total, counts, satisfied / total if total else 0.0, dict(unhappy))

    def list_ratings(self, limit: int = 100, rating: Rating | str | None = None) -> list[RatingRecord]:
        query = sa.select(ratings_table).order_by(ratings_table.c.id.desc()).limit(limit)
        if rating is not None:
            query = query.where(ratings_table.c.rating == Rating(rating).value)
        with self.engine.connect() as conn:
            return [
                RatingRecord(
                    **{**r._mapping, "rating": Rating(r.rating), "created_at": _aware(r.created_at)}
                )
                for r in conn.execute(query)
            ]

    def list_callbacks(self, status: TicketStatus | str | None = None, limit: int = 100) -> list[CallbackRequest]:
        """Newest first, phone and ID numbers masked."""
        query = sa.select(callbacks_table).order_by(callbacks_table.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(callbacks_table.c.status == TicketStatus(status).value)
        with self.engine.connect() as conn:
            found = [_callback(r) for r in conn.execute(query)]
        return [replace(c, phone=mask_phone(c.phone), question=mask_text(c.question)) for c in found]

    def callback(self, ticket: str) -> CallbackRequest | None:
        """One request with the full phone number, for the staff member who calls back."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(callbacks_table).where(callbacks_table.c.ticket == ticket)).first()
        return _callback(row) if row else None

    def list_complaints(
        self,
        status: TicketStatus | str | None = None,
        category: ComplaintCategory | str | None = None,
        limit: int = 100,
    ) -> list[Complaint]:
        """Newest first, phone and ID numbers masked."""
        query = sa.select(complaints_table).order_by(complaints_table.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(complaints_table.c.status == TicketStatus(status).value)
        if category is not None:
            query = query.where(complaints_table.c.category == ComplaintCategory(category).value)
        with self.engine.connect() as conn:
            found = [_complaint(r) for r in conn.execute(query)]
        return [replace(c, phone=mask_phone(c.phone), content=mask_text(c.content)) for c in found]

    def complaint(self, ticket: str) -> Complaint | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(complaints_table).where(complaints_table.c.ticket == ticket)).first()
        return _complaint(row) if row else None

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for name, table in (
                    ("ratings", ratings_table),
                    ("callbacks", callbacks_table),
                    ("complaints", complaints_table),
                )
            }

    # ---- handling (staff) ----------------------------------------------------------

    def set_callback_status(self, ticket: str, status: TicketStatus | str, staff: str = "") -> bool:
        return self._set_status(callbacks_table, ticket, status, staff)

    def set_complaint_status(self, ticket: str, status: TicketStatus | str, staff: str = "") -> bool:
        return self._set_status(complaints_table, ticket, status, staff)

    def _set_status(self, table: sa.Table, ticket: str, status: TicketStatus | str, staff: str) -> bool:
        values = {"status": TicketStatus(status).value, "handled_by": staff[:MAX_NAME_CHARS], "handled_at": self.now()}
        with self.engine.begin() as conn:
            return conn.execute(table.update().where(table.c.ticket == ticket).values(**values)).rowcount == 1


def _callback(row: sa.Row) -> CallbackRequest:
    data = dict(row._mapping)
    data.pop("id")
    return CallbackRequest(
        **{
            **data,
            "status": TicketStatus(data["status"]),
            "created_at": _aware(data["created_at"]),
            "handled_at": _aware(data["handled_at"]),
        }
    )


def _complaint(row: sa.Row) -> Complaint:
    data = dict(row._mapping)
    data.pop("id")
    return Complaint(
        **{
            **data,
            "category": ComplaintCategory(data["category"]),
            "status": TicketStatus(data["status"]),
            "created_at": _aware(data["created_at"]),
            "handled_at": _aware(data["handled_at"]),
        }
    )
