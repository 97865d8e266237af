"""Publishing: rebuild the search index from the store in the background and
switch the running assistant to it without a restart.

The new version is built beside the one in service, saved whole, pointed at
by ``CURRENT`` and only then handed to the assistant (one attribute
assignment, so a question in flight finishes on the index it started with).
If anything fails, the old index keeps serving and the error is reported.
Only one rebuild runs at a time.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from bot.assistant import Assistant
from bot.index import SearchIndex, build_entries, embedded_texts, prune_old_versions
from bot.index_sync import PublishedVersion
from bot.retriever import Retriever
from bot.store import KnowledgeStore


class PublishBusy(Exception):
    """A rebuild is already running."""


@dataclass(frozen=True)
class PublishStatus:
    state: str  # idle | running | succeeded | failed
    requested_by: str = ""
    started_at: datetime | None = None
    finished_at: datetime | None = None
    version: str = ""  # the index version in service after a success
    entries: int = 0
    procedures: int = 0
    seconds: float = 0.0
    error: str = ""

    STATE_NAMES = {  # noqa: RUF012 - a class-level table, never mutated
        "idle": "Chưa xuất bản lần nào từ khi khởi động",
        "running": "Đang xây dựng chỉ mục mới",
        "succeeded": "Đã xuất bản",
        "failed": "Xuất bản thất bại — chỉ mục cũ vẫn đang phục vụ",
    }

    @property
    def state_name(self) -> str:
        return self.STATE_NAMES[self.state]


class Publisher:
    def __init__(
        self,
        store: KnowledgeStore,
        index_dir: Path,
        assistant: Callable[[], Assistant],
        embedding_cache: Path | None = None,
        published: PublishedVersion | None = None,
    ) -> None:
        self.store = store
        # Tells the other workers (bot/index_sync.py); with no Redis they read CURRENT.
        self.published = published or PublishedVersion(index_dir)
        self.index_dir = index_dir
        self.assistant = assistant
        self.embedding_cache = embedding_cache
        self._lock = threading.Lock()
        self._status = PublishStatus("idle")
        self._thread: threading.Thread | None = None
        self._cache_loaded = False

    @property
    def status(self) -> PublishStatus:
        return self._status

    def publish(self, username: str) -> PublishStatus:
        """Start a rebuild in the background; raises PublishBusy if one is running."""
        if not self._lock.acquire(blocking=False):
            raise PublishBusy
        self._status = PublishStatus("running", username, datetime.now(UTC))
        self._thread = threading.Thread(target=self._run, name="citizenbot-publish", daemon=True)
        self._thread.start()
        return self._status

    def wait(self, timeout: float | None = None) -> PublishStatus:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self._status

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            assistant = self.assistant()
            old = assistant.retriever
            embedder = old.embedder
            if self.embedding_cache and not self._cache_loaded:
                embedder.load_cache(self.embedding_cache)
                self._cache_loaded = True
            procedures = self.store.procedures()
            entries = build_entries(procedures, self.store.faqs(held_out=False))
            index = SearchIndex.build(entries, embedder)
            retriever = Retriever(index, procedures, embedder, old.ranker)
            index.save(self.index_dir)
            assistant.retriever = retriever  # the switch: questions from now on use the new index
            self.published.announce(index.version)
            prune_old_versions(self.index_dir)
            if self.embedding_cache:
                embedder.save_cache(self.embedding_cache, embedded_texts(entries))
            self._status = replace(
                self._status,
                state="succeeded",
                finished_at=datetime.now(UTC),
                version=index.version,
                entries=len(entries),
                procedures=len(procedures),
                seconds=time.perf_counter() - started,
            )
        except Exception as error:
            traceback.print_exc()
            self._status = replace(
                self._status,
                state="failed",
                finished_at=datetime.now(UTC),
                seconds=time.perf_counter() - started,
                error=f"{type(error).__name__}: {error}",
            )
        finally:
            self._lock.release()
