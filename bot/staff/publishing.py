"""Publishing: rebuild the search index from the store in the background and
switch the running assistant to it without a restart.

The new version is built beside the one in service, saved whole, pointed at
by ``CURRENT`` and only then handed to the assistant (one attribute
assignment, so a question in flight finishes on the index it started with).
If anything fails, the old index keeps serving and the error is reported.

Only one rebuild runs at a time across all the workers sharing the index folder
(a lock file there), and every worker reports the same status (a status file
there). An edit saved while a rebuild reads the store is never left out: when
the rebuild finishes, it starts over if the procedure history or the FAQ
entries changed since it read them, so a publish always ends with every edit
and every FAQ entry saved before it finished.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from bot.assistant import Assistant
from bot.guide_store import GuideStore
from bot.index import SearchIndex, build_entries, embedded_texts, prune_old_versions
from bot.staff.history import ProcedureHistory
from bot.store import Faq, KnowledgeStore

# Edits keep arriving during every rebuild only if staff type faster than an index builds:
# after this many rounds the status says the newest edits wait for the next publish.
MAX_ROUNDS = 3


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

    def to_json(self) -> str:
        data: dict[str, Any] = asdict(self)
        for key in ("started_at", "finished_at"):
            data[key] = data[key].isoformat() if data[key] else None
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> PublishStatus:
        data = json.loads(text)
        for key in ("started_at", "finished_at"):
            data[key] = datetime.fromisoformat(data[key]) if data[key] else None
        return cls(**data)


class Publisher:
    def __init__(
        self,
        store: KnowledgeStore,
        index_dir: Path,
        assistant: Callable[[], Assistant],
        embedding_cache: Path | None = None,
    ) -> None:
        self.store = store
        self.index_dir = index_dir  # its CURRENT tells the other workers (bot/index_sync.py)
        self.assistant = assistant
        self.embedding_cache = embedding_cache
        self.history = ProcedureHistory(store)
        self.guides = GuideStore(store.engine)
        self._status = PublishStatus("idle")
        self._lock_file: IO[bytes] | None = None
        self._thread: threading.Thread | None = None
        self._cache_loaded = False

    @property
    def status(self) -> PublishStatus:
        """The last publish by any worker sharing the index folder (this one's if none wrote)."""
        try:
            return PublishStatus.from_json((self.index_dir / "PUBLISH_STATUS.json").read_text())
        except (OSError, ValueError, TypeError):
            return self._status

    def _set_status(self, status: PublishStatus) -> None:
        self._status = status
        self.index_dir.mkdir(parents=True, exist_ok=True)
        temporary = self.index_dir / f".PUBLISH_STATUS.{os.getpid()}.json"
        temporary.write_text(status.to_json())
        temporary.replace(self.index_dir / "PUBLISH_STATUS.json")

    def publish(self, username: str) -> PublishStatus:
        """Start a rebuild in the background; raises PublishBusy if one is running in any worker."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        lock_file = (self.index_dir / "publish.lock").open("wb")
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)  # released if the worker dies
        except BlockingIOError:
            lock_file.close()
            raise PublishBusy from None
        self._lock_file = lock_file
        self._set_status(PublishStatus("running", username, datetime.now(UTC)))
        self._thread = threading.Thread(target=self._run, name="citizenbot-publish", daemon=True)
        self._thread.start()
        return self._status

    def wait(self, timeout: float | None = None) -> PublishStatus:
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        return self.status

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            for _ in range(MAX_ROUNDS):
                revision = self._revision()
                index, procedures = self._rebuild()
                if self._revision() == revision:
                    break
            self._set_status(
                replace(
                    self._status,
                    state="succeeded",
                    finished_at=datetime.now(UTC),
                    version=index.version,
                    entries=len(index.entries),
                    procedures=len(procedures),
                    seconds=time.perf_counter() - started,
                )
            )
        except Exception as error:
            traceback.print_exc()
            self._set_status(
                replace(
                    self._status,
                    state="failed",
                    finished_at=datetime.now(UTC),
                    seconds=time.perf_counter() - started,
                    error=f"{type(error).__name__}: {error}",
                )
            )
        finally:
            assert self._lock_file is not None
            self._lock_file.close()  # releases the lock
            self._lock_file = None

    def _revision(self) -> tuple[int, int, list[Faq]]:
        """What staff may change while a rebuild reads the store: procedures and guides (their
        histories' newest changes) and FAQ entries (no history: compared whole, a few thousand rows
        read in milliseconds)."""
        return self.history.last_change(), self.guides.last_change(), self.store.faqs(held_out=False)

    def _rebuild(self) -> tuple[SearchIndex, list]:
        """Reads the store, builds and saves a version (which points CURRENT at it, for the other
        workers) and puts it in service here, with the guides as stored."""
        assistant = self.assistant()
        embedder = assistant.retriever.embedder
        if self.embedding_cache and not self._cache_loaded:
            embedder.load_cache(self.embedding_cache)
            self._cache_loaded = True
        procedures = self.store.procedures()
        entries = build_entries(procedures, self.store.faqs(held_out=False))
        index = SearchIndex.build(entries, embedder)
        index.save(self.index_dir)
        assistant.serve(index, procedures)  # the switch: questions from now on use the new index
        prune_old_versions(self.index_dir)
        if self.embedding_cache:
            embedder.save_cache(self.embedding_cache, embedded_texts(entries))
        return index, procedures
