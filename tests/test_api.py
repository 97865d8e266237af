"""The HTTP API over the fixture assistant."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from bot.api import create_app
from bot.assistant import Assistant
from bot.confidence import ConfidenceModel
from bot.store import KnowledgeStore

# What needs the endpoint to reach the assistant at all.

HUNDRED_KB = "tạm trú " * 12_800  # 102,400 characters, 125 KB of UTF-8


def body_errors(response_json: dict) -> list[tuple[str, ...]]:
    return [tuple(str(part) for part in error["loc"]) for error in response_json["detail"]]


class Spy:
    """The fixture assistant, counting the questions that reach it."""

    def __init__(self, assistant: Assistant, monkeypatch: pytest.MonkeyPatch) -> None:
        self.assistant = assistant
        self.calls = 0
        for name in ("ask", "answer_for"):
            monkeypatch.setattr(assistant, name, self._counted(getattr(assistant, name)))

    def _counted(self, method: Callable[..., object]) -> Callable[..., object]:
        def counted(*args: object) -> object:
            self.calls += 1
            return method(*args)

        return counted


@pytest.fixture
def spy(
    make_assistant: Callable[[ConfidenceModel], Assistant],
    constant_confidence: Callable[..., ConfidenceModel],
    monkeypatch: pytest.MonkeyPatch,
) -> Spy:
    # Assumption: confidence 0.99, above the 0.7 answer threshold.
    return Spy(make_assistant(constant_confidence(0.99)), monkeypatch)


@pytest.fixture
def client(spy: Spy) -> Iterator[TestClient]:
    fixture_assistant = spy.assistant
    with TestClient(create_app(assistant_factory=lambda: fixture_assistant), raise_server_exceptions=False) as c:
        yield c


def test_health(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ask_answers(client: TestClient, spy: Spy) -> None:
    response = client.post("/api/ask", json={"question": "đăng ký tạm trú cần giấy tờ gì?"})
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "answer"
    assert body["procedure_code"] == "1.004194"
    assert body["procedure_name"] == "Đăng ký tạm trú"
    assert body["section"] == "documents"
    assert body["portal_url"].endswith("ma_thu_tuc=1.004194")
    assert "Tờ khai thay đổi thông tin cư trú (Mẫu CT01)" in body["text"]
    assert body["confidence"] == pytest.approx(0.99)
    assert body["choices"] == []
    assert spy.calls == 1


def test_ask_after_picking_a_procedure(client: TestClient) -> None:
    response = client.post("/api/ask", json={"question": "mất bao lâu?", "procedure_code": "1.001456"})
    assert response.status_code == 200
    body = response.json()
    assert (body["kind"], body["procedure_code"], body["section"]) == ("answer", "1.001456", "time")
    assert "08 ngày làm việc" in body["text"]


def test_unknown_picked_procedure_falls_back_to_the_question(client: TestClient) -> None:
    response = client.post("/api/ask", json={"question": "làm giấy khai sinh cho con", "procedure_code": "9.9"})
    assert response.status_code == 200
    assert response.json()["procedure_code"] == "1.001193"


def test_clarify_reply_carries_its_choices(
    make_assistant: Callable[[ConfidenceModel], Assistant],
    constant_confidence: Callable[..., ConfidenceModel],
) -> None:
    assistant = make_assistant(constant_confidence(0.5, clarify=0.3, answer=0.7))  # between the thresholds
    with TestClient(create_app(assistant_factory=lambda: assistant)) as client:
        response = client.post("/api/ask", json={"question": "cần giấy tờ gì?"})
    assert response.status_code == 200
    body = response.json()
    assert body["kind"] == "clarify"
    assert len(body["choices"]) == 3
    assert all(set(c) == {"code", "name"} and c["name"] in body["text"] for c in body["choices"])


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param({"question": ""}, "question", id="empty"),
        pytest.param({"question": HUNDRED_KB}, "question", id="100-KB"),
        pytest.param({"question": "x" * 2001}, "question", id="one-over-the-limit"),
        pytest.param({}, "question", id="no-question"),
        pytest.param({"question": None}, "question", id="null"),
        pytest.param({"question": ["đăng ký tạm trú"]}, "question", id="list"),
        pytest.param({"question": "tạm trú", "procedure_code": "1" * 65}, "procedure_code", id="long-code"),
    ],
)
def test_bad_requests_are_422_not_500(
    client: TestClient, spy: Spy, store: KnowledgeStore, payload: dict[str, object], field: str
) -> None:
    response = client.post("/api/ask", json=payload)
    assert response.status_code == 422, response.text[:300]
    assert ("body", field) in body_errors(response.json())
    assert spy.calls == 0
    assert store.unanswered() == []


def test_body_that_is_not_json_is_a_client_error(client: TestClient, spy: Spy) -> None:
    for content in (b"question=t\xe1m tr\xfa", b"\x89PNG\r\n\x1a\n\x00\x00"):
        response = client.post("/api/ask", content=content, headers={"content-type": "application/json"})
        assert response.status_code in {400, 422}, response.text[:300]
    assert spy.calls == 0


def test_blank_or_unreadable_question_gets_a_polite_reply(client: TestClient) -> None:
    for question in ("   ", "!!!", "\x00\x01\x02"):
        response = client.post("/api/ask", json={"question": question})
        assert response.status_code == 200
        body = response.json()
        assert body["kind"] == "invalid"
        assert body["text"].startswith("Xin lỗi")


def test_question_at_the_limit_is_accepted(client: TestClient) -> None:
    response = client.post("/api/ask", json={"question": ("đăng ký tạm trú " * 200)[:2000]})
    assert response.status_code == 200
    assert response.json()["kind"] in {"answer", "clarify", "abstain", "out_of_scope"}
