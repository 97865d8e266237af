"""The unanswered-question queue: grouped by similarity, turned into FAQ entries
or procedure aliases by staff.

Questions first group by their normalised, diacritic-free text; groups whose
questions the e5 model finds close (cosine ≥ ``SIMILAR``) are then merged, so
"lam the tam tru" and "làm thẻ tạm trú ở đâu" count as one need.
Resolved questions leave the queue; what staff did with them is kept.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime

import numpy as np
import sqlalchemy as sa

from bot.embedder import Embedder
from bot.masking import mask_text
from bot.staff.history import ProcedureHistory
from bot.store import NOT_IN_CATALOGUE, Faq, KnowledgeStore, UnansweredQuestion
from bot.text import MAX_QUESTION_CHARS, clean, folded_key, has_diacritics

SIMILAR = 0.96  # e5 cosine above which two questions ask the same thing ("trợ cấp xã hội" vs "thất nghiệp": 0.95)
STAFF_FAQ_IDS = 10_000_000  # FAQ entries written by staff are numbered from here, apart from the portal's
QUEUE_READ = 2000

metadata = sa.MetaData()

resolutions_table = sa.Table(
    "unanswered_resolutions",
    metadata,
    sa.Column("question_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("action", sa.String(16), nullable=False),  # faq | alias | dismiss
    sa.Column("target", sa.Text, nullable=False),  # FAQ id or procedure code
    sa.Column("username", sa.String(64), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)


class ReviewError(ValueError):
    """A resolution the rules refuse; the message is for the staff member."""


@dataclass
class QuestionGroup:
    key: str  # the folded text of the most asked wording
    question: str  # that wording, as a citizen typed it
    count: int
    ids: list[int]
    wordings: list[str]  # distinct wordings, most asked first
    last_asked: datetime
    candidates: list[str]  # procedure codes the assistant hesitated between (most recent question)
    missing_procedure: bool  # answered with general guidance: the catalogue lacks the procedure asked for


class ReviewQueue:
    def __init__(self, store: KnowledgeStore, history: ProcedureHistory, embedder: Embedder | None) -> None:
        self.store = store
        self.history = history
        self.embedder = embedder
        metadata.create_all(store.engine)

    def resolved_ids(self) -> set[int]:
        with self.store.engine.connect() as conn:
            return {r[0] for r in conn.execute(sa.select(resolutions_table.c.question_id))}

    def open_questions(self) -> list[UnansweredQuestion]:
        resolved = self.resolved_ids()
        return [q for q in self.store.unanswered(QUEUE_READ) if q.id not in resolved]

    def groups(self) -> list[QuestionGroup]:
        by_key: dict[str, list[UnansweredQuestion]] = {}
        for q in self.open_questions():  # newest first
            by_key.setdefault(folded_key(q.question) or q.question, []).append(q)
        exact = sorted(by_key.items(), key=lambda kv: (-len(kv[1]), kv[0]))
        clusters: list[list[tuple[str, list[UnansweredQuestion]]]] = []
        if self.embedder is not None and exact:
            vectors = self.embedder.queries([_wording(items) for _, items in exact])
            leaders: list[np.ndarray] = []
            for (key, items), vector in zip(exact, vectors, strict=True):
                similarity = [float(vector @ leader) for leader in leaders]
                best = int(np.argmax(similarity)) if similarity else -1
                if best >= 0 and similarity[best] >= SIMILAR:
                    clusters[best].append((key, items))
                else:
                    leaders.append(vector)
                    clusters.append([(key, items)])
        else:
            clusters = [[pair] for pair in exact]
        groups = [_group(cluster) for cluster in clusters]
        return sorted(groups, key=lambda g: (-g.count, -g.last_asked.timestamp()))

    # ---- resolutions --------------------------------------------------------

    def _check_ids(self, ids: list[int]) -> None:
        if not ids:
            raise ReviewError("Chưa chọn câu hỏi nào.")
        open_ids = {q.id for q in self.open_questions()}
        if not set(ids) <= open_ids:
            raise ReviewError("Một số câu hỏi đã được xử lý hoặc không còn trong hàng đợi; hãy tải lại trang.")

    def _live_procedure(self, code: str):
        procedure = self.store.procedure(code.strip())
        if procedure is None or procedure.retired:
            raise ReviewError(f"Không có thủ tục đang áp dụng với mã “{code}”.")
        return procedure

    def to_faq(self, ids: list[int], question: str, answer: str, procedure_code: str, username: str) -> int:
        """A new FAQ entry answering the grouped questions; returns its id (indexed at the next publish)."""
        question, answer = clean(question)[:MAX_QUESTION_CHARS], clean(answer)
        if not question or not answer:
            raise ReviewError("Câu hỏi và câu trả lời không được để trống.")
        if len(answer) > 4000:
            raise ReviewError("Câu trả lời quá dài (tối đa 4.000 ký tự).")
        procedure = self._live_procedure(procedure_code)
        self._check_ids(ids)
        entry = Faq(0, question, answer, [procedure.national_code], "Cán bộ tiếp nhận")
        faq_id = self.store.add_faq(entry, above=STAFF_FAQ_IDS)
        self._resolve(ids, "faq", str(faq_id), username)
        return faq_id

    def to_alias(self, ids: list[int], alias: str, procedure_code: str, username: str) -> str:
        """Add the wording as another name of a procedure (a new procedure version); returns its ETag."""
        alias = clean(alias)[:200]
        if not alias:
            raise ReviewError("Tên gọi khác không được để trống.")
        procedure = self._live_procedure(procedure_code)
        self._check_ids(ids)
        _, current = self.history.current(procedure.code)
        if folded_key(alias) not in {folded_key(a) for a in procedure.aliases}:
            updated = replace(procedure, aliases=[*procedure.aliases, alias])
            current = self.history.change(updated, current, username, action="alias")
        self._resolve(ids, "alias", procedure.code, username)
        return current

    def dismiss(self, ids: list[int], username: str) -> None:
        self._check_ids(ids)
        self._resolve(ids, "dismiss", "", username)

    def _resolve(self, ids: list[int], action: str, target: str, username: str) -> None:
        now = datetime.now(UTC)
        rows = [{"question_id": i, "action": action, "target": target, "username": username, "at": now} for i in ids]
        with self.store.engine.begin() as conn:
            conn.execute(resolutions_table.insert(), rows)


def _group(cluster: list[tuple[str, list[UnansweredQuestion]]]) -> QuestionGroup:
    key, items = cluster[0]
    questions = [q for _, qs in cluster for q in qs]
    newest = max(questions, key=lambda q: q.id)
    asked = newest.asked_at if newest.asked_at.tzinfo else newest.asked_at.replace(tzinfo=UTC)
    # Logged masked already; masked again for questions logged before masking existed.
    return QuestionGroup(
        key=mask_text(key),
        question=mask_text(_wording(items)),
        count=len(questions),
        ids=sorted(q.id for q in questions),
        wordings=list(dict.fromkeys(mask_text(_wording(qs)) for _, qs in cluster)),
        last_asked=asked,
        candidates=list(newest.candidates),
        missing_procedure=any(q.reason == NOT_IN_CATALOGUE for q in questions),
    )


def _wording(questions: list[UnansweredQuestion]) -> str:
    """The newest wording typed with diacritics (they carry meaning), else the newest."""
    return next((q.question for q in questions if has_diacritics(q.question)), questions[0].question)
