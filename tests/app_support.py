"""The whole application in process over one fresh test database, with Rasa unreachable.

Everything the routes write — knowledge base, conversations, feedback, dossiers and their
lockout state, staff accounts and sessions — lives in the database of the test's fixture store,
so a test can snapshot every table before and after what it sends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from conftest import DOSSIER_FIXTURE, HELPDESK, REAL_SETTINGS, FixtureKB
from fastapi import FastAPI
from processes import free_port
from staff_support import staff_settings

from bot import gateway
from bot.api import create_app
from bot.assistant import Assistant
from bot.conversations import ConversationStore
from bot.dossier_import import read_export
from bot.dossiers import DossierStore, StatusLookup
from bot.feedback import FeedbackStore
from bot.fees import FeeEngine, FeePolicies
from bot.rasa_client import RasaClient
from bot.ratelimit import MemoryCounter, RateLimit, RateLimiter
from bot.staff.services import StaffServices
from bot.store import KnowledgeStore


@dataclass
class InProcessApp:
    app: FastAPI
    knowledge: KnowledgeStore
    conversations: ConversationStore
    feedback: FeedbackStore
    dossiers: DossierStore
    staff: StaffServices

    def tables(self) -> dict[str, list[tuple]]:
        """Every row of every table, sorted: what a request may or may not have changed."""
        engine = self.knowledge.engine
        with engine.connect() as conn:
            return {
                name: sorted(tuple(repr(v) for v in row) for row in conn.execute(sa.text(f'SELECT * FROM "{name}"')))
                for name in sa.inspect(conn).get_table_names()
            }


def build_app(
    kb: FixtureKB,
    store: KnowledgeStore,
    assistant: Assistant,
    clock: Callable[[], datetime],
    tmp_path: Path,
) -> InProcessApp:
    url = str(store.engine.url)
    settings = staff_settings(kb.settings, store, tmp_path)
    kb.built.save(settings.index_dir)  # the index in service, for a publish to replace
    staff = StaffServices.build(settings, lambda: assistant, store=store)
    dossiers = DossierStore(url, clock)
    dossiers.upsert(read_export(DOSSIER_FIXTURE).dossiers)
    lookup = StatusLookup(dossiers, HELPDESK)
    engine = FeeEngine(FeePolicies.load(REAL_SETTINGS.fee_policies_file), HELPDESK, clock)
    app = create_app(
        assistant_factory=lambda: assistant, status_lookup_factory=lambda: lookup, fee_engine_factory=lambda: engine
    )
    app.state.staff = staff
    # Tests send hundreds of requests a minute from one client: limits far above that (tests/test_rate_limits.py).
    app.state.rate_limiter = RateLimiter(MemoryCounter(), RateLimit(10**6, 60), RateLimit(10**6, 60))
    conversations, feedback = ConversationStore(url, clock), FeedbackStore(url, clock)
    closed = RasaClient(f"http://127.0.0.1:{free_port()}", timeout=5)
    overrides: dict[Any, Callable[[], Any]] = {
        gateway.conversation_store: lambda: conversations,
        gateway.feedback_store: lambda: feedback,
        gateway.rasa_client: lambda: closed,
        gateway.helpdesk: lambda: HELPDESK,
    }
    app.dependency_overrides.update(overrides)
    return InProcessApp(app, store, conversations, feedback, dossiers, staff)
