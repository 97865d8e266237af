"""Publishing in one worker switches every worker to the new index within seconds (Redis, or CURRENT)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from conftest import HELPDESK, FixtureKB
from servers import REDIS_URL

from bot.assistant import Assistant
from bot.confidence import ConfidenceModel
from bot.index import SearchIndex
from bot.index_sync import IndexFollower, PublishedVersion
from bot.procedure import Procedure
from bot.retriever import Retriever
from bot.staff.publishing import Publisher
from bot.store import KnowledgeStore

NEW_PROCEDURE = Procedure("9.000777", "Cấp giấy phép tổ chức lễ hội truyền thống")


@pytest.fixture(params=["redis", "pointer"])
def published(request: pytest.FixtureRequest, tmp_path: Path, kb: FixtureKB) -> PublishedVersion:
    """The shared index folder (a copy of the fixture index) and how workers learn its version."""
    index_dir = tmp_path / "index"
    shutil.copytree(kb.settings.index_dir, index_dir)
    if request.param == "pointer":
        return PublishedVersion(index_dir)
    client = redis.Redis.from_url(REDIS_URL)
    request.addfinalizer(client.close)
    prefix = f"{request.getfixturevalue('redis_prefix')}{request.node.name}:"
    return PublishedVersion(index_dir, client, prefix)


def test_a_publish_in_one_worker_switches_the_others(
    published: PublishedVersion,
    store: KnowledgeStore,
    retriever: Retriever,
    constant_confidence: Callable[..., ConfidenceModel],
) -> None:
    def worker() -> Assistant:
        index = SearchIndex.load(published.index_dir)
        own = Retriever(index, store.procedures(), retriever.embedder, retriever.ranker)
        return Assistant(store, own, constant_confidence(0.99), HELPDESK)

    worker_a, worker_b = worker(), worker()
    old_version = worker_b.retriever.index.version
    follower = IndexFollower(worker_b, store.procedures, published, interval=0.2).start()
    try:
        store.upsert_procedures([NEW_PROCEDURE])
        Publisher(store, published.index_dir, lambda: worker_a, published=published).publish("admin1")
        deadline = time.monotonic() + 60
        while worker_a.retriever.index.version == old_version and time.monotonic() < deadline:
            time.sleep(0.05)
        new_version = worker_a.retriever.index.version
        assert new_version != old_version
        if published.redis is not None:
            assert published.redis.get(published.key).decode() == new_version
        switched_by = time.monotonic() + 3  # "within a few seconds"
        while worker_b.retriever.index.version != new_version and time.monotonic() < switched_by:
            time.sleep(0.05)
        assert worker_b.retriever.index.version == new_version
        assert NEW_PROCEDURE.code in worker_b.retriever.procedures
        assert worker_b.ask("giấy phép tổ chức lễ hội truyền thống").procedure_code == NEW_PROCEDURE.code
    finally:
        follower.stop()
        if published.redis is not None:
            published.redis.delete(published.key)
