"""Every worker serves the published index version.

Publishing (bot/staff/publishing.py) writes a new version under ``index_dir`` and points
``CURRENT`` at it; with ``CITIZENBOT_REDIS_URL`` set it also sets a Redis key, the version every
worker must serve (the index folder itself must be shared by the workers: one machine, or a
shared file system). Each worker's :class:`IndexFollower` checks that key — or, with no Redis,
the ``CURRENT`` pointer — every few seconds and switches its assistant when the version differs,
so no worker answers from a stale index for longer than the check interval.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bot.index import SearchIndex
from bot.retriever import Retriever

logger = logging.getLogger(__name__)


class PublishedVersion:
    """Where workers learn the version to serve: a Redis key when configured, else ``CURRENT``."""

    def __init__(self, index_dir: Path, redis: Any = None, prefix: str = "citizenbot:") -> None:
        self.index_dir = index_dir
        self.redis = redis
        self.key = f"{prefix}index:version"

    @classmethod
    def for_settings(cls, settings: Any) -> PublishedVersion:
        if settings.redis_url:
            from bot.shared import redis_client

            return cls(settings.index_dir, redis_client(settings.redis_url), settings.redis_prefix)
        return cls(settings.index_dir)

    def announce(self, version: str) -> None:
        """After the version is saved whole (``CURRENT`` already names it)."""
        if self.redis is not None:
            self.redis.set(self.key, version)

    def current(self) -> str | None:
        if self.redis is not None:
            value = self.redis.get(self.key)
            if value:
                return value.decode() if isinstance(value, bytes) else str(value)
        pointer = self.index_dir / "CURRENT"
        return pointer.read_text().strip() if pointer.is_file() else None


class IndexFollower:
    """Switches an assistant to the published version whenever it changes (a background thread)."""

    def __init__(
        self,
        assistant: Any,
        procedures: Callable[[], list],
        published: PublishedVersion,
        interval: float = 2.0,
    ) -> None:
        self.assistant = assistant
        self.procedures = procedures
        self.published = published
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> bool:
        """Switch if the published version is not the one in service; True when it switched."""
        version = self.published.current()
        old: Retriever = self.assistant.retriever
        if not version or version == old.index.version:
            return False
        index = SearchIndex.load_version(self.published.index_dir, version)
        self.assistant.retriever = Retriever(index, self.procedures(), old.embedder, old.ranker)
        logger.info("index version %s in service (was %s)", version, old.index.version)
        return True

    def start(self) -> IndexFollower:
        self._thread = threading.Thread(target=self._run, name="citizenbot-index-follower", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.check()
            except Exception:  # a half-pruned folder or Redis away: keep serving, try again later
                logger.exception("index version check failed")
