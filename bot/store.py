"""The knowledge base: procedures, official FAQ entries and unanswered questions.

SQLite by default (one file under ``var/``); any SQLAlchemy URL works. The
retrieval index is derived from this store and rebuilt from it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from bot.database import open_database
from bot.masking import mask_text
from bot.procedure import Procedure

metadata = sa.MetaData()

ADD_FAQ_ATTEMPTS = 50  # each failed attempt means another entry was saved: never reached in practice

procedures_table = sa.Table(
    "procedures",
    metadata,
    sa.Column("code", sa.String(64), primary_key=True),
    sa.Column("national_code", sa.String(32), nullable=False, index=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("detail", sa.String(32), nullable=False),
    sa.Column("retired", sa.Boolean, nullable=False, default=False),
    sa.Column("data", sa.JSON, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

faqs_table = sa.Table(
    "faqs",
    metadata,
    sa.Column("faq_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("answer", sa.Text, nullable=False),
    sa.Column("codes", sa.JSON, nullable=False),
    sa.Column("ministry", sa.Text, nullable=False, default=""),
    sa.Column("url", sa.Text, nullable=False, default=""),
    # Held-out entries form the evaluation set and are never indexed.
    sa.Column("held_out", sa.Boolean, nullable=False, default=False),
    # Staff mark answers that rules made since no longer hold.
    sa.Column("outdated", sa.Boolean, nullable=False, default=False),
)

unanswered_table = sa.Table(
    "unanswered_questions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("question", sa.Text, nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
    sa.Column("confidence", sa.Float, nullable=False),
    sa.Column("candidates", sa.JSON, nullable=False),
)


@dataclass(frozen=True)
class Faq:
    faq_id: int
    question: str
    answer: str
    codes: list[str]
    ministry: str = ""
    url: str = ""
    held_out: bool = False
    outdated: bool = False


# Why a question is logged as unanswered: the assistant was not sure, or it could only give general
# guidance because the catalogue lacks the procedure asked for (bot.guidance).
LOW_CONFIDENCE = "low_confidence"
NOT_IN_CATALOGUE = "not_in_catalogue"


@dataclass(frozen=True)
class UnansweredQuestion:
    id: int
    asked_at: datetime
    question: str
    reason: str  # LOW_CONFIDENCE or NOT_IN_CATALOGUE
    confidence: float
    candidates: list[str]


def procedure_row(procedure: Procedure, now: datetime) -> dict[str, Any]:
    """The ``procedures`` table row of a record."""
    return {
        "code": procedure.code,
        "national_code": procedure.national_code,
        "name": procedure.name,
        "detail": procedure.detail.value,
        "retired": procedure.retired,
        "data": procedure.to_dict(),
        "updated_at": now,
    }


class KnowledgeStore:
    def __init__(self, database_url: str) -> None:
        self.engine = open_database(database_url, metadata)

    # ---- procedures -----------------------------------------------------

    def upsert_procedures(self, procedures: Iterable[Procedure]) -> int:
        now = datetime.now(UTC)
        rows = [procedure_row(p, now) for p in procedures]
        with self.engine.begin() as conn:
            existing = {r[0] for r in conn.execute(sa.select(procedures_table.c.code))}
            new = [r for r in rows if r["code"] not in existing]
            if new:
                conn.execute(procedures_table.insert(), new)
            for row in rows:
                if row["code"] in existing:
                    conn.execute(procedures_table.update().where(procedures_table.c.code == row["code"]), row)
        return len(rows)

    def procedures(self, include_retired: bool = False) -> list[Procedure]:
        query = sa.select(procedures_table.c.data).order_by(procedures_table.c.code)
        if not include_retired:
            query = query.where(procedures_table.c.retired.is_(False))
        with self.engine.connect() as conn:
            return [Procedure.from_dict(row[0]) for row in conn.execute(query)]

    def procedure(self, code: str) -> Procedure | None:
        query = sa.select(procedures_table.c.data).where(procedures_table.c.code == code)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return Procedure.from_dict(row[0]) if row else None

    # ---- FAQ ------------------------------------------------------------

    def upsert_faqs(self, faqs: Iterable[Faq]) -> int:
        rows = [asdict(faq) for faq in faqs]
        with self.engine.begin() as conn:
            # Keep the staff's "outdated" marks across re-imports.
            outdated = {r[0] for r in conn.execute(sa.select(faqs_table.c.faq_id).where(faqs_table.c.outdated))}
            conn.execute(faqs_table.delete().where(faqs_table.c.faq_id.in_([r["faq_id"] for r in rows])))
            for row in rows:
                row["outdated"] = row["outdated"] or row["faq_id"] in outdated
            if rows:
                conn.execute(faqs_table.insert(), rows)
        return len(rows)

    def add_faq(self, faq: Faq, above: int = 0) -> int:
        """Stores a new entry under the next id after every existing one and `above` (its own `faq_id`
        is ignored); returns that id. Saves at the same moment, from any worker, never share an id nor
        overwrite each other: the id is the primary key, so of two inserting one id the later fails
        (SQLite: when it gets the write lock; PostgreSQL: when the first commits) and takes the next."""
        for _ in range(ADD_FAQ_ATTEMPTS):
            try:
                with self.engine.begin() as conn:
                    top = conn.execute(sa.select(sa.func.max(faqs_table.c.faq_id))).scalar() or 0
                    faq_id = max(top, above) + 1
                    conn.execute(faqs_table.insert(), asdict(replace(faq, faq_id=faq_id)))
                return faq_id
            except sa.exc.IntegrityError:
                continue  # another save took this id first: read the top again
        raise RuntimeError(f"no free FAQ id after {ADD_FAQ_ATTEMPTS} attempts")

    def faqs(self, held_out: bool | None = None) -> list[Faq]:
        query = sa.select(faqs_table).order_by(faqs_table.c.faq_id)
        if held_out is not None:
            query = query.where(faqs_table.c.held_out.is_(held_out))
        with self.engine.connect() as conn:
            return [Faq(**row._mapping) for row in conn.execute(query)]

    def mark_faq_outdated(self, faq_id: int, outdated: bool = True) -> bool:
        with self.engine.begin() as conn:
            result = conn.execute(faqs_table.update().where(faqs_table.c.faq_id == faq_id).values(outdated=outdated))
        return result.rowcount > 0

    # ---- questions the assistant could not answer ------------------------

    def log_unanswered(self, question: str, reason: str, confidence: float, candidates: list[str]) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                unanswered_table.insert(),
                {
                    "asked_at": datetime.now(UTC),
                    "question": mask_text(question),  # read by staff: no phone or ID numbers
                    "reason": reason,
                    "confidence": confidence,
                    "candidates": candidates,
                },
            )

    def unanswered(self, limit: int = 100) -> list[UnansweredQuestion]:
        query = sa.select(unanswered_table).order_by(unanswered_table.c.id.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [UnansweredQuestion(**row._mapping) for row in conn.execute(query)]

    def counts(self) -> dict[str, Any]:
        with self.engine.connect() as conn:
            by_detail = dict(
                conn.execute(
                    sa.select(procedures_table.c.detail, sa.func.count()).group_by(procedures_table.c.detail)
                ).all()
            )
            faqs = conn.execute(sa.select(sa.func.count()).select_from(faqs_table)).scalar_one()
        return {"procedures": by_detail, "faqs": faqs}
