"""Shared fixtures for the procedure Q&A core.

Two kinds of resources:

- the real ones, found through ``Settings.from_env()`` exactly as the application
  finds them: the embedding model and the shared data. A missing one makes the
  tests that need it *fail* with a message saying how to get it; nothing is skipped.
- a small knowledge base built from ``tests/fixtures/`` in a temporary folder:
  SQLite store, search index (saved, then loaded back through its ``CURRENT``
  pointer) and a retriever over it, built once per session because loading the
  model takes a few seconds.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import hypothesis
import pytest

from bot.assistant import Assistant, load_retriever
from bot.confidence import FEATURES, ConfidenceModel
from bot.dossier_import import read_export
from bot.dossiers import DossierStore
from bot.embedder import Embedder
from bot.index import SearchIndex, build_entries
from bot.procedure import Procedure
from bot.retriever import Retriever
from bot.settings import LOCAL_TIME, Settings
from bot.store import Faq, KnowledgeStore

# Properties, not timings: no deadline, and no example database written into the repository.
hypothesis.settings.register_profile("citizenbot", deadline=None, database=None)
hypothesis.settings.load_profile("citizenbot")

FIXTURES = Path(__file__).parent / "fixtures"

# Read once, before any test moves CITIZENBOT_* variables around.
REAL_SETTINGS = Settings.from_env()

HELPDESK = "Bộ phận Một cửa của UBND phường (số thử nghiệm 0000)"


def fixture_procedures() -> list[Procedure]:
    return [Procedure.from_dict(d) for d in json.loads((FIXTURES / "procedures.json").read_text("utf-8"))]


def fixture_faqs() -> list[Faq]:
    return [Faq(**d) for d in json.loads((FIXTURES / "faqs.json").read_text("utf-8"))]


def filled_store(database_url: str) -> KnowledgeStore:
    """A new store holding the fixture procedures and FAQ entries."""
    store = KnowledgeStore(database_url)
    store.upsert_procedures(fixture_procedures())
    store.upsert_faqs(fixture_faqs())
    return store


def constant_model(probability: float, clarify: float = 0.3, answer: float = 0.7) -> ConfidenceModel:
    """A confidence model that says ``probability`` whatever the retrieval signals.

    All weights are zero, so the decision depends only on the thresholds and the
    assistant's own rules: each test states its assumption through the value it picks.
    """
    n = len(FEATURES)
    bias = math.log(probability / (1.0 - probability))
    return ConfidenceModel([0.0] * n, bias, [0.0] * n, [1.0] * n, clarify, answer)


# ---- real resources ------------------------------------------------------------


@pytest.fixture(scope="session")
def real_settings() -> Settings:
    return REAL_SETTINGS


@pytest.fixture(scope="session")
def model_dir() -> Path:
    folder = REAL_SETTINGS.model_dir
    if not (folder / "modules.json").is_file():
        pytest.fail(
            f"The embedding model is missing: {folder / 'modules.json'} does not exist. Build it with "
            "`citizenbot build-model` (`make setup` does it), or point CITIZENBOT_VAR_DIR or "
            "CITIZENBOT_MODEL_DIR at a folder holding models/multilingual-e5-small.",
            pytrace=False,
        )
    return folder


@pytest.fixture(scope="session")
def shared_data() -> Path:
    folder = REAL_SETTINGS.shared_data_dir
    expected = [
        "catalog/portal_services_citizen.json",
        "catalog/portal_services_business.json",
        "catalog/procedure_names.csv",
        "procedures/detail_pages_raw.csv",
        "procedures/national_records",
        "faq/portal_faq.jsonl",
    ]
    missing = [name for name in expected if not (folder / name).exists()]
    if missing:
        pytest.fail(
            f"The shared data is missing from {folder} ({', '.join(missing)}). It is expected at "
            "../shared/data next to the repository; set CITIZENBOT_SHARED_DATA to use another folder.",
            pytrace=False,
        )
    return folder


@pytest.fixture(scope="session")
def embedder(model_dir: Path) -> Embedder:
    # One thread: single short questions gain nothing from more, and a busy machine
    # (two processes spinning on the same cores) makes each query ~30x slower.
    return Embedder(model_dir, threads=1)


# ---- the fixture knowledge base --------------------------------------------------


@dataclass(frozen=True)
class FixtureKB:
    settings: Settings  # the real settings with the store, index and calibration moved to tmp
    database_path: Path
    built: SearchIndex  # the index as built, before it was saved and loaded back


@pytest.fixture(scope="session")
def kb(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> FixtureKB:
    root = tmp_path_factory.mktemp("fixture-kb")
    database_path = root / "kb.db"
    settings = replace(
        REAL_SETTINGS,
        var_dir=root,
        database_url=f"sqlite:///{database_path}",
        index_dir=root / "index",
        calibration_file=root / "calibration.json",
    )
    store = filled_store(settings.database_url)
    # All FAQ entries, the held-out one included: leaving it out is build_entries' job.
    index = SearchIndex.build(build_entries(store.procedures(), store.faqs()), embedder)
    index.save(settings.index_dir)
    return FixtureKB(settings, database_path, index)


@pytest.fixture(scope="session")
def retriever(kb: FixtureKB, embedder: Embedder) -> Retriever:
    """The production path: index loaded through CURRENT, procedures read from the store."""
    return load_retriever(kb.settings, embedder)


@pytest.fixture(scope="session")
def procedures() -> dict[str, Procedure]:
    """The fixture procedures by code."""
    return {p.code: p for p in fixture_procedures()}


@pytest.fixture(scope="session")
def constant_confidence() -> Callable[..., ConfidenceModel]:
    return constant_model


@pytest.fixture(scope="session")
def new_store() -> Callable[[str], KnowledgeStore]:
    """Makes a store at a database URL, holding the fixture procedures and FAQ entries."""
    return filled_store


@pytest.fixture
def store(tmp_path: Path) -> KnowledgeStore:
    """A fresh store per test (the assistant writes unanswered questions into it)."""
    return filled_store(f"sqlite:///{tmp_path / 'store.db'}")


@pytest.fixture
def make_assistant(store: KnowledgeStore, retriever: Retriever) -> Callable[[ConfidenceModel], Assistant]:
    def make(confidence: ConfidenceModel) -> Assistant:
        return Assistant(store, retriever, confidence, HELPDESK)

    return make


# ---- dossiers ----------------------------------------------------------------------

DOSSIER_FIXTURE = FIXTURES / "dossiers.json"
DOSSIER_NOW = datetime(2026, 11, 23, 9, 0, tzinfo=LOCAL_TIME)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock(DOSSIER_NOW)


@pytest.fixture
def dossier_store(database_url: str, clock: Clock) -> DossierStore:
    """A new dossier store holding tests/fixtures/dossiers.json, imported the way staff import it.

    On each backend (`database_url`): SQLite and PostgreSQL."""
    store = DossierStore(database_url, clock)
    result = read_export(DOSSIER_FIXTURE)
    assert result.errors == []
    store.upsert(result.dossiers)
    return store


# ---- live processes (tests/processes.py): the gateway with Rasa, and a real browser ----------

from processes import browser, live_stack  # noqa: E402, F401  (fixtures, started on first use)

pytest_plugins = ["servers"]  # fixtures: the real PostgreSQL and Redis, and `database_url` over both backends
