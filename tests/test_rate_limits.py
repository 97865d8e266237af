"""Rate limits per client and per conversation, in process memory and in Redis (shared by workers)."""

from __future__ import annotations

import logging
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from fastapi.testclient import TestClient
from processes import free_port
from servers import REDIS_URL

from bot import gateway
from bot.api import create_app
from bot.conversations import ConversationStore
from bot.feedback import FeedbackStore
from bot.rasa_client import RasaClient
from bot.ratelimit import (
    OUTAGE_RETRY_SECONDS,
    OUTAGE_WARNING_SECONDS,
    MemoryCounter,
    RateLimit,
    RateLimiter,
    RedisCounter,
)
from bot.shared import redis_client

LIMITED_WORDS = "Bạn gửi quá nhiều yêu cầu trong thời gian ngắn"


class Seconds:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
def new_counter(request: pytest.FixtureRequest) -> Iterator[Callable[[], MemoryCounter | RedisCounter]]:
    """Makes counters on one backend; Redis counters made by one test share their counts (= workers)."""
    if request.param == "memory":
        shared = MemoryCounter()
        yield lambda: shared
        return
    prefix = f"{request.getfixturevalue('redis_prefix')}{request.node.name}:"
    clients: list[redis.Redis] = []

    def make() -> RedisCounter:
        clients.append(redis.Redis.from_url(REDIS_URL))
        return RedisCounter(clients[-1], prefix)

    yield make
    for key in clients[0].scan_iter(match=f"{prefix}*") if clients else []:
        clients[0].delete(key)
    for client in clients:
        client.close()


def test_a_fixed_window_per_client_and_per_conversation(
    new_counter: Callable[[], MemoryCounter | RedisCounter],
) -> None:
    seconds = Seconds()
    limiter = RateLimiter(new_counter(), RateLimit(3, 60), RateLimit(2, 60), seconds)
    assert [limiter.check("10.0.0.1") for _ in range(3)] == [None, None, None]
    assert limiter.check("10.0.0.1") == 60 - (seconds.now % 60)
    assert limiter.check("10.0.0.2", "c-1") is None  # another client is not affected
    assert limiter.check("10.0.0.3", "c-1") is None
    assert limiter.check("10.0.0.4", "c-1") is not None  # the conversation's limit, whatever the address
    seconds.now += 60
    assert limiter.check("10.0.0.1") is None  # a new window


def test_two_workers_count_together(new_counter: Callable[[], MemoryCounter | RedisCounter]) -> None:
    # With Redis each worker has its own connection and the same counts; in memory, one worker's counter.
    seconds = Seconds()
    worker_a = RateLimiter(new_counter(), RateLimit(4, 60), RateLimit(100, 60), seconds)
    worker_b = RateLimiter(new_counter(), RateLimit(4, 60), RateLimit(100, 60), seconds)
    assert [w.check("10.0.0.9") for w in (worker_a, worker_b, worker_a, worker_b)] == [None] * 4
    assert worker_a.check("10.0.0.9") is not None
    assert worker_b.check("10.0.0.9") is not None


def test_limits_are_parsed_from_settings_text() -> None:
    assert RateLimit.parse("600/60") == RateLimit(600, 60.0)
    with pytest.raises(ValueError):
        RateLimit.parse("0/60")


@pytest.fixture
def limited_client(
    tmp_path: Path, new_counter: Callable[[], MemoryCounter | RedisCounter]
) -> Iterator[Callable[[int, int], TestClient]]:
    """A gateway whose limits the test sets (per client, per conversation)."""
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    clients: list[TestClient] = []

    def make(per_client: int, per_conversation: int) -> TestClient:
        app = create_app()
        app.state.rate_limiter = RateLimiter(new_counter(), RateLimit(per_client, 60), RateLimit(per_conversation, 60))
        conversations, feedback = ConversationStore(url), FeedbackStore(url)
        app.dependency_overrides.update(
            {
                gateway.conversation_store: lambda: conversations,
                gateway.feedback_store: lambda: feedback,
                gateway.rasa_client: lambda: RasaClient("http://127.0.0.1:9", timeout=1),
                gateway.helpdesk: lambda: "1800 1096",
            }
        )
        clients.append(TestClient(app, raise_server_exceptions=False))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


def test_a_limited_request_gets_429_with_a_polite_message(limited_client: Callable[[int, int], TestClient]) -> None:
    client = limited_client(2, 100)
    rating = {"rating": "satisfied", "conversation_id": ""}
    assert [client.post("/api/ratings", json=rating).status_code for _ in range(2)] == [201, 201]
    refused = client.post("/api/ratings", json=rating)
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["message"].startswith(LIMITED_WORDS)
    assert f"chờ {refused.headers['Retry-After']} giây" in refused.json()["message"]
    # Every public route counts: the fee and dossier routes are refused too.
    assert client.post("/api/fees", json={"question": "lệ phí khai sinh"}).status_code == 429
    body = {"code": "000.00.21.H48-261116-0012", "check": "3403", "conversation_id": "c-1"}
    assert client.post("/api/dossiers/status", json=body).status_code == 429


def test_a_conversation_is_limited_on_its_own(limited_client: Callable[[int, int], TestClient]) -> None:
    client = limited_client(100, 1)
    first = {"rating": "satisfied", "conversation_id": "conversation-a"}
    assert client.post("/api/ratings", json=first).status_code == 201
    assert client.post("/api/ratings", json=first).status_code == 429
    other = {"rating": "neutral", "conversation_id": "conversation-b"}
    assert client.post("/api/ratings", json=other).status_code == 201


def test_the_chat_socket_answers_a_limited_message_with_an_error_frame(
    limited_client: Callable[[int, int], TestClient],
) -> None:
    client = limited_client(1, 100)
    with client.websocket_connect("/ws/chat") as socket:
        socket.send_json({"message": "   "})  # counted, then refused as empty: no assistant needed
        assert "error" in socket.receive_json()
        socket.send_json({"message": "làm tạm trú cần giấy tờ gì"})
        refused = socket.receive_json()
        assert refused["error"]["message"].startswith(LIMITED_WORDS)


# ---- Redis unreachable: the limits fail open ------------------------------------------------------


def outage_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "bot.ratelimit" and r.levelno == logging.WARNING]


def test_with_redis_unreachable_requests_are_let_through_and_warned_about_once_a_minute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seconds = Seconds()
    closed = redis_client(f"redis://127.0.0.1:{free_port()}/0")  # the gateway's own client, nothing listening
    limiter = RateLimiter(RedisCounter(closed, "outage:"), RateLimit(1, 60), RateLimit(1, 60), seconds)
    caplog.set_level(logging.WARNING, logger="bot.ratelimit")
    allowed = []
    for _ in range(int(OUTAGE_WARNING_SECONDS)):  # a request a second, each over a limit of 1 if it were counted
        allowed.append(limiter.check("10.0.0.1", "c-1"))
        seconds.now += 1
    assert allowed == [None] * len(allowed)
    assert len(outage_warnings(caplog)) == 1
    assert "let through" in outage_warnings(caplog)[0] and "Connection refused" in outage_warnings(caplog)[0]
    assert limiter.check("10.0.0.1", "c-1") is None
    assert len(outage_warnings(caplog)) == 2  # a minute later, once more


def test_a_redis_that_does_not_answer_holds_one_request_per_retry_pause(caplog: pytest.LogCaptureFixture) -> None:
    seconds = Seconds()
    with socket.create_server(("127.0.0.1", 0)) as silent:  # takes connections, never answers
        client = redis_client(f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        limiter = RateLimiter(RedisCounter(client, "outage:"), RateLimit(1, 60), RateLimit(1, 60), seconds)

        def timed() -> float:
            started = time.monotonic()
            assert limiter.check("10.0.0.1") is None
            return time.monotonic() - started

        assert timed() >= 1.5  # waited for Redis's socket timeout
        during_pause = []
        for _ in range(int(OUTAGE_RETRY_SECONDS) * 2 - 1):
            seconds.now += 0.5
            during_pause.append(timed())
        assert max(during_pause) < 0.05  # not tried again: no citizen waits on it
        seconds.now += 0.5
        assert timed() >= 1.5  # the pause is over: tried again
    assert len(outage_warnings(caplog)) == 1


@pytest.fixture
def gateway_without_redis(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_assistant, constant_confidence
) -> Iterator[TestClient]:
    """The gateway as configured for the scale-out (CITIZENBOT_REDIS_URL), with nothing at that address."""
    monkeypatch.setenv("CITIZENBOT_REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")
    assistant = make_assistant(constant_confidence(0.99))
    app = create_app(assistant_factory=lambda: assistant)  # its limiter from the settings: counts in Redis
    url = f"sqlite:///{tmp_path / 'gateway.db'}"
    conversations, feedback = ConversationStore(url), FeedbackStore(url)
    app.dependency_overrides.update(
        {
            gateway.conversation_store: lambda: conversations,
            gateway.feedback_store: lambda: feedback,
            gateway.rasa_client: lambda: RasaClient(f"http://127.0.0.1:{free_port()}", timeout=1),
            gateway.helpdesk: lambda: "1800 1096",
        }
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


def test_citizens_are_answered_while_redis_is_unreachable(
    gateway_without_redis: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    client = gateway_without_redis
    caplog.set_level(logging.WARNING, logger="bot.ratelimit")
    ask = client.post("/api/ask", json={"question": "làm tạm trú cần giấy tờ gì"})
    assert ask.status_code == 200, ask.text
    assert ask.json()["kind"] == "answer" and "tạm trú" in ask.json()["text"]
    chat = client.post("/api/chat", json={"message": "làm tạm trú cần giấy tờ gì"})
    assert chat.status_code == 200, chat.text
    assert chat.json()["kind"] == "answer" and chat.json()["route"] == "fallback"
    follow_up = {"message": "cần giấy tờ gì", "conversation_id": chat.json()["conversation_id"]}
    again = client.post("/api/chat", json=follow_up)
    assert again.status_code == 200, again.text
    with client.websocket_connect("/ws/chat") as socket_chat:
        socket_chat.send_json({"message": "làm tạm trú cần giấy tờ gì"})
        assert socket_chat.receive_json()["kind"] == "answer"
    assert len(outage_warnings(caplog)) == 1
