"""Every worker serves the published index version.

Publishing (bot/staff/publishing.py) writes a new version under ``index_dir`` and then points
``CURRENT`` at it, atomically: that pointer is the one source of truth for the version in service
(the index folder must be shared by the workers: one machine, or a shared file system). Each
worker's :class:`IndexFollower` reads it every few seconds and switches its assistant (index,
procedures and guides) when it names another version, so no worker answers from a stale index
for longer than the check interval — with or without Redis, and whatever Redis is doing.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from bot.assistant import Assistant
from bot.index import SearchIndex

logger = logging.getLogger(__name__)


def published_version(index_dir: Path) -> str | None:
    pointer = index_dir / "CURRENT"
    return pointer.read_text().strip() if pointer.is_file() else None


class IndexFollower:
    """Switches an assistant to the published version whenever it changes (a background thread)."""

    def __init__(
        self,
        assistant: Assistant,
        index_dir: Path,
        interval: float = 2.0,
    ) -> None:
        self.assistant = assistant
        self.index_dir = index_dir
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def check(self) -> bool:
        """Switch if the published version is not the one in service; True when it switched."""
        version = published_version(self.index_dir)
        old = self.assistant.retriever.index.version
        if not version or version == old:
            return False
        index = SearchIndex.load_version(self.index_dir, version)
        self.assistant.serve(index, self.assistant.store.procedures())
        logger.info("index version %s in service (was %s)", version, old)
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
            except Exception as error:  # e.g. a version pruned while being read: keep serving, try again
                logger.warning("index version check failed, still serving %s: %r", self._serving(), error)

    def _serving(self) -> str:
        return self.assistant.retriever.index.version
