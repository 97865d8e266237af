"""Everything the staff console works with, built once per application."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.assistant import Assistant
from bot.feedback import FeedbackStore
from bot.guide_store import GuideStore
from bot.settings import Settings
from bot.staff.accounts import AccountStore
from bot.staff.history import ProcedureHistory
from bot.staff.publishing import Publisher
from bot.staff.review import ReviewQueue
from bot.staff.sessions import SessionManager, load_secret
from bot.store import KnowledgeStore
from voice.outbox import Outbox


@dataclass
class StaffServices:
    store: KnowledgeStore
    accounts: AccountStore
    sessions: SessionManager
    history: ProcedureHistory
    guides: GuideStore
    publisher: Publisher
    feedback: FeedbackStore
    outbox: Outbox  # text messages the callbot queued for callers
    assistant: Callable[[], Assistant]

    @classmethod
    def build(
        cls, settings: Settings, assistant: Callable[[], Assistant], store: KnowledgeStore | None = None
    ) -> StaffServices:
        store = store or KnowledgeStore(settings.database_url)
        return cls(
            store=store,
            accounts=AccountStore(store.engine),
            sessions=SessionManager(store.engine, load_secret(settings.var_dir)),
            history=ProcedureHistory(store),
            guides=GuideStore(store.engine),
            publisher=Publisher(
                store,
                settings.index_dir,
                assistant,
                settings.var_dir / "embedding-cache.npz",
            ),
            feedback=FeedbackStore(settings.database_url),
            outbox=Outbox(settings.database_url, settings.now),
            assistant=assistant,
        )

    @property
    def review(self) -> ReviewQueue:
        """The queue, grouping with the embedder of the index in service."""
        return ReviewQueue(self.store, self.history, self.assistant().retriever.embedder)
