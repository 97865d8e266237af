"""Publishing in one worker switches every worker to the new index within seconds, through the
shared CURRENT pointer; a version that cannot be read leaves a worker serving the one it has."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import HELPDESK, FixtureKB

from bot.assistant import Assistant
from bot.confidence import ConfidenceModel
from bot.guidance import Guide
from bot.guide_store import GuideStore
from bot.index import SearchIndex
from bot.index_sync import IndexFollower, published_version
from bot.procedure import Procedure
from bot.retriever import Retriever
from bot.staff.publishing import Publisher
from bot.store import KnowledgeStore

NEW_PROCEDURE = Procedure("9.000777", "Cấp giấy phép tổ chức lễ hội truyền thống")
NEW_GUIDE = Guide(
    "pharmacy_opening",
    "Mở nhà thuốc",
    ("mở nhà thuốc",),
    "Hỏi Sở Y tế về chứng chỉ hành nghề dược.",
    ("Luật Dược số 105/2016/QH13",),
    "2026-12-05",
    needs_review=True,
)


@pytest.fixture
def index_dir(tmp_path: Path, kb: FixtureKB) -> Path:
    """The index folder the workers share (a copy of the fixture index)."""
    shared = tmp_path / "index"
    shutil.copytree(kb.settings.index_dir, shared)
    return shared


@pytest.fixture
def worker(
    index_dir: Path, store: KnowledgeStore, retriever: Retriever, constant_confidence: Callable[..., ConfidenceModel]
) -> Callable[[], Assistant]:
    def start() -> Assistant:
        own = Retriever(SearchIndex.load(index_dir), store.procedures(), retriever.embedder, retriever.ranker)
        return Assistant(store, own, constant_confidence(0.99), HELPDESK)

    return start


def test_a_publish_in_one_worker_switches_the_others(
    index_dir: Path, store: KnowledgeStore, worker: Callable[[], Assistant]
) -> None:
    worker_a, worker_b = worker(), worker()
    old_version = worker_b.retriever.index.version
    follower = IndexFollower(worker_b, index_dir, interval=0.2).start()
    try:
        store.upsert_procedures([NEW_PROCEDURE])
        GuideStore(store.engine).create(NEW_GUIDE, "editor1")
        Publisher(store, index_dir, lambda: worker_a).publish("admin1")
        deadline = time.monotonic() + 60
        while worker_a.retriever.index.version == old_version and time.monotonic() < deadline:
            time.sleep(0.05)
        new_version = worker_a.retriever.index.version
        assert new_version != old_version
        assert published_version(index_dir) == new_version
        switched_by = time.monotonic() + 3  # "within a few seconds"
        while worker_b.retriever.index.version != new_version and time.monotonic() < switched_by:
            time.sleep(0.05)
        assert worker_b.retriever.index.version == new_version
        assert NEW_PROCEDURE.code in worker_b.retriever.procedures
        assert worker_b.ask("giấy phép tổ chức lễ hội truyền thống").procedure_code == NEW_PROCEDURE.code
        assert worker_b.ask("mở nhà thuốc").text.startswith(NEW_GUIDE.answer)  # the guides follow too
    finally:
        follower.stop()


def test_an_unreadable_version_leaves_the_worker_serving_its_own(
    index_dir: Path, store: KnowledgeStore, worker: Callable[[], Assistant], caplog: pytest.LogCaptureFixture
) -> None:
    serving = worker()
    version = serving.retriever.index.version
    (index_dir / "CURRENT").write_text("29991231-000000-000000")  # a version that is not there (pruned)
    follower = IndexFollower(serving, index_dir, interval=0.05)
    with caplog.at_level(logging.WARNING, logger="bot.index_sync"):
        follower.start()
        time.sleep(0.3)
        follower.stop()
    assert serving.retriever.index.version == version
    assert "still serving " + version in caplog.text
    assert serving.ask("đăng ký tạm trú").kind in {"answer", "clarify"}


def test_a_new_index_is_served_for_the_deployment_province(
    index_dir: Path, store: KnowledgeStore, retriever: Retriever, constant_confidence: Callable[..., ConfidenceModel]
) -> None:
    nghe_an = frozenset({"Nghệ An"})
    own = Retriever(SearchIndex.load(index_dir), store.procedures(), retriever.embedder, retriever.ranker, nghe_an)
    assistant = Assistant(store, own, constant_confidence(0.99), HELPDESK)
    assistant.serve(SearchIndex.load(index_dir), store.procedures())
    assert assistant.retriever is not own and assistant.retriever.provinces == nghe_an
