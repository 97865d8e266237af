"""The scale-out configuration under faults: PostgreSQL, Redis, 2 gateway workers, 2 Rasa servers.

Each test acts on the real processes of :func:`processes.scaled_stack`: a gateway
worker and a Rasa server die mid-conversation, the action server stops, PostgreSQL
restarts while citizens keep writing. Nothing may be lost and no citizen may get
a server error.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest
import sqlalchemy as sa
from processes import ScaledStack, chat, scaled_stack, wait_for
from servers import REDIS_URL

from bot.conversations import ConversationStore
from bot.rasa_client import RasaClient

pytestmark = pytest.mark.slow

DOSSIER, CHECK = "000.00.21.H48-261117-0005", "8908"  # from tests/fixtures/dossiers.json


@pytest.fixture(scope="module")
def scaled(
    tmp_path_factory: pytest.TempPathFactory, new_postgres_database: Callable[[], str], redis_prefix: str
) -> Iterator[ScaledStack]:
    workdir = tmp_path_factory.mktemp("scaled-stack")
    with scaled_stack(workdir, new_postgres_database(), REDIS_URL, redis_prefix) as stack:
        yield stack


def healthy(url: str) -> bool:
    try:
        return httpx.get(url, timeout=5).status_code == 200
    except httpx.HTTPError:
        return False


def test_every_worker_and_rasa_server_is_ready(scaled: ScaledStack) -> None:
    assert len(scaled.gateway_workers()) == 2
    body = httpx.get(f"{scaled.url}/ready", timeout=120).json()
    assert body["status"] == "ready", body
    assert [state["ok"] for state in body["checks"]["rasa"]["servers"].values()] == [True, True]


def test_a_conversation_survives_its_gateway_worker_and_its_rasa_server_dying(scaled: ScaledStack) -> None:
    first = chat(scaled.url, "cho mình hỏi hồ sơ của mình đến đâu rồi")
    assert first["kind"] == "dossier_form", first
    conversation = first["conversation_id"]
    asked = chat(scaled.url, DOSSIER, conversation)
    assert asked["kind"] == "dossier_form" and "4 số cuối" in asked["text"], asked

    # The form's state (the dossier code slot) lives in PostgreSQL, not in the processes that die.
    workers = scaled.gateway_workers()
    os.kill(workers[0], signal.SIGKILL)
    own_url = RasaClient([s.url for s in scaled.rasa]).servers_for(conversation)[0]
    own = next(s for s in scaled.rasa if s.url == own_url)
    own.kill()
    try:
        status = chat(scaled.url, CHECK, conversation)
        assert status["kind"] == "dossier" and status["route"] == "rasa", status
        assert DOSSIER in status["text"] and "đã có kết quả, đang chờ trả" in status["text"]
        # uvicorn replaces the dead worker.
        wait_for(lambda: len(scaled.gateway_workers()) == 2 and workers[0] not in scaled.gateway_workers(),
                 60, "a new gateway worker")
        kinds = [t.kind for t in ConversationStore(scaled.env["CITIZENBOT_DATABASE_URL"]).turns(conversation)]
        assert kinds == ["dossier_form", "dossier_form", "dossier"]
    finally:
        own.start()
        own.wait_ready(300)


def test_without_the_action_server_citizens_get_a_polite_reply_and_it_recovers(scaled: ScaledStack) -> None:
    scaled.actions.stop()
    try:
        dossier = httpx.post(f"{scaled.url}/api/chat", json={"message": "hồ sơ của tôi đến đâu rồi"}, timeout=120)
        assert dossier.status_code == 200, dossier.text
        reply = dossier.json()
        assert reply["kind"] == "unavailable" and "tạm thời" in reply["text"] and "1800 1096" in reply["text"]
        question = chat(scaled.url, "làm tạm trú cần giấy tờ gì")
        assert question["kind"] == "answer" and "tạm trú" in question["text"].lower(), question
        fee = chat(scaled.url, "lệ phí đăng ký tạm trú bao nhiêu")
        assert fee["kind"] == "fee" and "đồng" in fee["text"], fee
    finally:
        scaled.actions.start()
        scaled.actions.wait_ready(90)
    first = chat(scaled.url, "hồ sơ của tôi đến đâu rồi")
    assert first["kind"] == "dossier_form", first
    chat(scaled.url, DOSSIER, first["conversation_id"])
    assert chat(scaled.url, CHECK, first["conversation_id"])["kind"] == "dossier"


def restart_postgresql() -> None:
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[-1]
    command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


class Reply(NamedTuple):
    conversation: str
    status: int  # 0: no HTTP response at all
    started: float  # time.monotonic()
    seconds: float
    body: dict
    retry_after: str | None


# Measured on the 2-core test machine: the slowest reply 1.1–1.9 s over 10 runs, answering again
# 0.6–0.9 s after PostgreSQL was back over 4; the bounds leave room for a busier machine.
SLOWEST_SECONDS = 5.0
BACK_SECONDS = 5.0


def test_a_postgresql_restart_under_load_fails_fast_recovers_and_writes_nothing_partial(
    scaled: ScaledStack,
) -> None:
    conversations = [chat(scaled.url, "xin chào")["conversation_id"] for _ in range(4)]
    results: list[Reply] = []
    stop = threading.Event()

    def citizen(conversation: str) -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                response = httpx.post(
                    f"{scaled.url}/api/chat",
                    json={"message": "lệ phí đăng ký tạm trú bao nhiêu", "conversation_id": conversation},
                    timeout=60,
                )
                body, status, retry_after = response.json(), response.status_code, response.headers.get("Retry-After")
            except (httpx.HTTPError, ValueError) as error:
                body, status, retry_after = {"error": repr(error)}, 0, None
            results.append(Reply(conversation, status, started, time.monotonic() - started, body, retry_after))
            time.sleep(0.2)

    threads = [threading.Thread(target=citizen, args=(c,)) for c in conversations]
    for thread in threads:
        thread.start()
    try:
        time.sleep(3)
        restart_postgresql()
        back = time.monotonic()  # pg_ctlcluster returns once PostgreSQL accepts connections again
        wait_for(lambda: any(r.status == 200 and r.started >= back for r in results), 60, "answers after the restart")
        time.sleep(3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(120)

    assert {r.status for r in results} <= {200, 503}, [r for r in results if r.status not in (200, 503)][:3]
    refused = [r for r in results if r.status == 503]
    assert refused, "no request met the restart"
    assert all("tạm thời gián đoạn" in r.body["message"] and int(r.retry_after or 0) > 0 for r in refused)
    slowest = max(r.seconds for r in results)
    answered_again = min(r.started + r.seconds for r in results if r.status == 200 and r.started >= back) - back
    assert slowest < SLOWEST_SECONDS, f"failing fast, not hanging: the slowest reply took {slowest:.1f} s"
    assert answered_again < BACK_SECONDS, f"answered again {answered_again:.1f} s after PostgreSQL was back"
    assert results[-1].status == 200

    # No partial writes: each conversation's turn counter matches its logged turns, one per answered turn.
    engine = sa.create_engine(scaled.env["CITIZENBOT_DATABASE_URL"], poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        for conversation in conversations:
            logged = conn.exec_driver_sql(
                "SELECT count(*) FROM chat_turns WHERE conversation_id = %(c)s", {"c": conversation}
            ).scalar()
            counter = conn.exec_driver_sql(
                "SELECT turns FROM chat_conversations WHERE id = %(c)s", {"c": conversation}
            ).scalar()
            answered = sum(1 for r in results if r.conversation == conversation and r.status == 200)
            assert logged == counter, conversation
            assert answered <= logged - 1 <= answered + 1  # the greeting, and at most one turn cut after its commit
    engine.dispose()
    wait_for(lambda: healthy(f"{scaled.url}/ready"), 60, "/ready after the restart")
