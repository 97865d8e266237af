"""The gateway in process, over the fixture assistant, with Rasa down (nothing listens on its port).

Routing through a real Rasa server is in test_gateway_live.py. Here: the
fallback (procedure questions still answered, dossier turns refused politely),
quick-reply choices, the WebSocket, health and readiness, metrics, the feedback
routes and a corpus of bad input that must get a clear 4xx and change nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from conftest import HELPDESK, REAL_SETTINGS, Clock
from fastapi.testclient import TestClient
from processes import free_port

from bot import gateway
from bot.api import create_app
from bot.assistant import Assistant
from bot.confidence import ConfidenceModel
from bot.conversations import ConversationStore
from bot.feedback import FeedbackStore
from bot.fees import FeeEngine, FeePolicies
from bot.rasa_client import RasaClient
from bot.store import KnowledgeStore

TEMPORARY_RESIDENCE = "1.004194"


@dataclass
class Gateway:
    client: TestClient
    conversations: ConversationStore
    feedback: FeedbackStore
    knowledge: KnowledgeStore

    def chat(self, message: str, conversation_id: str | None = None, **extra: object) -> dict:
        body = {"message": message, "conversation_id": conversation_id, **extra}
        response = self.client.post("/api/chat", json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def stored(self) -> dict[str, int]:
        return {**self.conversations.counts(), **self.feedback.counts(), **self.knowledge.counts()}


@pytest.fixture
def make_gateway(
    database_url: str,
    store: KnowledgeStore,
    make_assistant: Callable[[ConfidenceModel], Assistant],
    constant_confidence: Callable[..., ConfidenceModel],
    clock: Clock,
) -> Iterator[Callable[[float], Gateway]]:
    clients: list[TestClient] = []

    def make(probability: float) -> Gateway:
        assistant = make_assistant(constant_confidence(probability))
        engine = FeeEngine(FeePolicies.load(REAL_SETTINGS.fee_policies_file), HELPDESK, clock)
        app = create_app(assistant_factory=lambda: assistant, fee_engine_factory=lambda: engine)
        conversations, feedback = ConversationStore(database_url), FeedbackStore(database_url, clock)
        closed = RasaClient(f"http://127.0.0.1:{free_port()}", timeout=5)
        app.dependency_overrides.update(
            {
                gateway.conversation_store: lambda: conversations,
                gateway.feedback_store: lambda: feedback,
                gateway.rasa_client: lambda: closed,
                gateway.helpdesk: lambda: HELPDESK,
            }
        )
        client = TestClient(app, raise_server_exceptions=False)
        clients.append(client)
        return Gateway(client, conversations, feedback, store)

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def gw(make_gateway: Callable[[float], Gateway]) -> Gateway:
    # Assumption: confidence 0.99, above the 0.7 answer threshold.
    return make_gateway(0.99)


# ---- chat without Rasa -----------------------------------------------------------------


def test_procedure_questions_are_answered_with_a_citation_when_rasa_is_down(gw: Gateway) -> None:
    reply = gw.chat("lam tam tru can giay to gi")  # no diacritics: NFC and folding happen before routing
    assert reply["route"] == "fallback"
    assert reply["kind"] == "answer"
    assert "tạm trú" in reply["text"]
    assert reply["citation"]["procedure_code"] == TEMPORARY_RESIDENCE
    assert reply["citation"]["url"].startswith("https://") and TEMPORARY_RESIDENCE in reply["citation"]["url"]
    assert re.fullmatch(r"[0-9a-f]{32}", reply["conversation_id"])


def test_decomposed_unicode_is_normalised(gw: Gateway) -> None:
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "làm tạm trú cần giấy tờ gì")
    reply = gw.chat(decomposed)
    assert reply["citation"]["procedure_code"] == TEMPORARY_RESIDENCE
    assert gw.conversations.turns(reply["conversation_id"])[0].message == unicodedata.normalize("NFC", decomposed)


def test_dossier_turns_get_a_polite_unavailable_reply_and_the_hotline(gw: Gateway) -> None:
    first = gw.chat("tôi muốn tra cứu hồ sơ")
    assert first["kind"] == "unavailable" and "tạm thời gián đoạn" in first["text"] and HELPDESK in first["text"]
    code = gw.chat("000.00.21.H48-261122-0031", first["conversation_id"])
    assert code["kind"] == "unavailable" and code["conversation_id"] == first["conversation_id"]
    digits = gw.chat("1201", first["conversation_id"])
    assert digits["kind"] == "unavailable"


def test_a_handover_request_names_the_desk(gw: Gateway) -> None:
    reply = gw.chat("cho tôi gặp cán bộ")
    assert reply["kind"] == "handover" and HELPDESK in reply["text"] and "Gặp cán bộ" in reply["text"]


def test_conversation_ids_are_kept_and_unknown_ones_are_not_adopted(gw: Gateway) -> None:
    first = gw.chat("làm tạm trú cần giấy tờ gì")
    again = gw.chat("đăng ký khai sinh cần gì", first["conversation_id"])
    assert again["conversation_id"] == first["conversation_id"]
    assert [t.message for t in gw.conversations.turns(first["conversation_id"])] == [
        "làm tạm trú cần giấy tờ gì",
        "đăng ký khai sinh cần gì",
    ]
    guessed = gw.chat("làm tạm trú cần giấy tờ gì", "someone-elses-conversation")
    assert guessed["conversation_id"] != "someone-elses-conversation"


def test_clarify_choices_become_buttons_that_answer_the_pending_question(
    make_gateway: Callable[[float], Gateway],
) -> None:
    # Assumption: confidence 0.5, between the 0.3 clarify and 0.7 answer thresholds.
    gw = make_gateway(0.5)
    clarify = gw.chat("tạm trú cần giấy tờ gì")
    assert clarify["kind"] == "clarify" and clarify["citation"] is None
    codes = [b["procedure_code"] for b in clarify["buttons"]]
    assert TEMPORARY_RESIDENCE in codes and all(b["label"] for b in clarify["buttons"])
    chosen = gw.chat("Đăng ký tạm trú", clarify["conversation_id"], procedure_code=TEMPORARY_RESIDENCE)
    assert chosen["kind"] == "answer" and chosen["route"] == "knowledge"
    assert chosen["citation"]["procedure_code"] == TEMPORARY_RESIDENCE
    assert "Hồ sơ" in chosen["text"]  # the pending question asked for documents, not the button's label


def test_off_topic_and_fee_questions_without_rasa(gw: Gateway) -> None:
    fee = gw.chat("lệ phí đăng ký khai sinh bao nhiêu tiền")
    assert fee["kind"] in {"fee", "clarify", "unknown"} and fee["route"] == "fallback"
    if fee["kind"] == "fee":
        assert fee["citation"]["procedure_code"] == "1.001193"


# ---- WebSocket --------------------------------------------------------------------------


def test_websocket_chat_keeps_the_conversation_and_reports_bad_frames(gw: Gateway) -> None:
    with gw.client.websocket_connect("/ws/chat") as ws:
        ws.send_json({"message": "làm tạm trú cần giấy tờ gì"})
        first = ws.receive_json()
        assert first["kind"] == "answer" and first["citation"]["procedure_code"] == TEMPORARY_RESIDENCE
        ws.send_json({"message": "tôi muốn tra cứu hồ sơ"})
        second = ws.receive_json()
        assert second["conversation_id"] == first["conversation_id"] and second["kind"] == "unavailable"
        for bad in ("not json", '{"message": ""}', '{"message": "   \\u0000 "}', '{"msg": "x"}', "[]"):
            ws.send_text(bad)
            error = ws.receive_json()["error"]
            assert error["message"] and error["message_en"], bad
        ws.send_bytes(b"\x00\xff binary")
        assert "văn bản" in ws.receive_json()["error"]["message"]
        ws.send_text('{"message": "' + "a" * 300_000 + '"}')
        assert "quá lớn" in ws.receive_json()["error"]["message"]
        ws.send_json({"message": "đăng ký khai sinh cần gì"})  # still usable after errors
        assert ws.receive_json()["conversation_id"] == first["conversation_id"]
    assert gw.stored()["turns"] == 3


# ---- health, readiness, metrics, schema ----------------------------------------------------


def test_health_and_readiness_report_each_component(gw: Gateway) -> None:
    assert gw.client.get("/health").json() == {"status": "ok"}
    ready = gw.client.get("/ready")
    assert ready.status_code == 200
    body = ready.json()
    assert body["status"] == "degraded"
    assert body["checks"]["index"]["ok"] and body["checks"]["index"]["procedures"] == 6
    assert body["checks"]["database"]["ok"]
    assert body["checks"]["rasa"]["ok"] is False and body["checks"]["rasa"]["error"]


def test_readiness_is_503_when_the_index_cannot_load(gw: Gateway) -> None:
    def broken() -> Assistant:
        raise FileNotFoundError("var/index/CURRENT")

    gw.client.app.dependency_overrides  # noqa: B018  (the app is shared; build one with a broken factory)
    app = create_app(assistant_factory=broken)
    app.dependency_overrides.update(gw.client.app.dependency_overrides)
    with TestClient(app) as client:
        response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["index"] == {"ok": False, "error": "FileNotFoundError: var/index/CURRENT"}


def metric(text: str, name: str, **labels: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0])) if "{" in line else {}
            if all(found.get(k) == v for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_turns_latency_abstentions_and_handovers(gw: Gateway) -> None:
    gw.chat("làm tạm trú cần giấy tờ gì")
    gw.chat("tôi muốn tra cứu hồ sơ")
    gw.client.post("/api/callbacks", json={"phone": "0912345678", "question": "hỏi về tạm trú"})
    gw.chat("cho tôi gặp cán bộ")
    text = gw.client.get("/metrics").text
    assert metric(text, "citizenbot_chat_turns_total", channel="rest", route="fallback", kind="answer") == 1
    assert metric(text, "citizenbot_chat_turn_seconds_count", channel="rest") == 3
    assert metric(text, "citizenbot_abstentions_total", kind="unavailable") == 1
    assert metric(text, "citizenbot_handovers_total", via="callback") == 1
    assert metric(text, "citizenbot_handovers_total", via="chat") == 1
    assert metric(text, "citizenbot_rasa_failures_total") == 3
    assert metric(text, "citizenbot_feedback_total", type="callback") == 1


def test_openapi_schema_lists_every_citizen_route(gw: Gateway) -> None:
    schema = gw.client.get("/openapi.json").json()
    for path in ("/api/chat", "/api/ask", "/api/fees", "/api/dossiers/status", "/api/ratings", "/api/callbacks",
                 "/api/complaints", "/ready", "/health"):
        assert path in schema["paths"], path
    assert {"ChatMessage", "ChatReply", "QuickReply", "Citation", "RatingIn", "CallbackIn", "ComplaintIn"} <= set(
        schema["components"]["schemas"]
    )


# ---- the widget is served ---------------------------------------------------------------


def test_the_widget_and_its_demo_page_are_served(gw: Gateway) -> None:
    page = gw.client.get("/")
    assert page.status_code == 200 and '<script src="/widget.js"' in page.text and 'lang="vi"' in page.text
    script = gw.client.get("/widget.js")
    assert script.status_code == 200 and "javascript" in script.headers["content-type"]
    assert ".innerHTML" not in script.text and "insertAdjacentHTML" not in script.text
    assert gw.client.get("/widget.css").status_code == 200


# ---- bad input ------------------------------------------------------------------------------

BAD_CHAT_BODIES = [
    pytest.param(b'{"message": ""}', 422, id="empty"),
    pytest.param(b'{"message": "   \\u0000\\u0007\\u001b  "}', 422, id="control-chars-only"),
    pytest.param(('{"message": "' + "tạm trú " * 12_800 + '"}').encode(), 422, id="100-KB"),
    pytest.param(('{"message": "' + "a" * 1_000_000 + '"}').encode(), 413, id="1-MB"),
    pytest.param(b"\x00\x01\xff\xfe binary \x89PNG", 422, id="binary"),
    pytest.param(b'{"message": "\xff\xfe"}', 400, id="invalid-utf8"),
    pytest.param(b"{not json", 422, id="malformed-json"),
    pytest.param(b"[]", 422, id="array"),
    pytest.param(b'{"message": 42}', 422, id="number"),
    pytest.param(b'{"message": "x", "conversation_id": "' + b"c" * 65 + b'"}', 422, id="long-conversation-id"),
]


@pytest.mark.parametrize(("body", "status"), BAD_CHAT_BODIES)
def test_bad_chat_input_gets_a_clear_4xx_and_stores_nothing(gw: Gateway, body: bytes, status: int) -> None:
    before = gw.stored()
    response = gw.client.post("/api/chat", content=body, headers={"content-type": "application/json"})
    assert response.status_code == status, response.text[:300]
    error = response.json()
    assert error["message"] and error["message_en"]
    assert any(ch in error["message"] for ch in "ạảấầẩẫậắằẳẵặẹẻẽếềểễệịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđ")  # Vietnamese
    assert gw.stored() == before


@pytest.mark.parametrize(
    "message",
    [
        pytest.param("<script>alert('xss')</script> làm tạm trú", id="script"),
        pytest.param('<img src=x onerror="alert(1)">', id="html"),
        pytest.param("'; DROP TABLE procedures; --", id="sql"),
        pytest.param("1 OR 1=1; DELETE FROM feedback_callbacks", id="sql-or"),
        pytest.param("\u202eđảo chiều\u200b tạm trú", id="bidi-zero-width"),
    ],
)
def test_hostile_text_is_treated_as_text(gw: Gateway, message: str) -> None:
    before = gw.stored()
    reply = gw.chat(message)
    assert reply["kind"] in {"answer", "clarify", "abstain", "out_of_scope", "invalid", "unavailable", "fee",
                             "unknown"}
    after = gw.stored()
    assert after["procedures"] == before["procedures"] and after["callbacks"] == before["callbacks"]
    assert after["turns"] == before["turns"] + 1
    assert gw.conversations.turns(reply["conversation_id"])[-1].message.startswith(message.strip()[:5])


# ---- feedback routes --------------------------------------------------------------------------


def test_ratings_are_stored_and_summarised(gw: Gateway) -> None:
    for rating in ("very_satisfied", "satisfied", "dissatisfied"):
        body = {"rating": rating, "conversation_id": "c1", "procedure_code": TEMPORARY_RESIDENCE, "question": "q"}
        response = gw.client.post("/api/ratings", json=body)
        assert response.status_code == 201, response.text
    assert response.json()["label"] == "Không hài lòng"
    summary = gw.feedback.ratings_summary()
    assert summary.total == 3 and round(summary.satisfied_share, 3) == 0.667
    assert summary.dissatisfied_by_procedure == {TEMPORARY_RESIDENCE: 1}
    bad = gw.client.post("/api/ratings", json={"rating": "tuyệt vời"})
    assert bad.status_code == 422 and "rating" in bad.json()["message"]
    assert gw.feedback.counts()["ratings"] == 3


def test_a_callback_request_gets_a_ticket_and_is_listed_masked(gw: Gateway, clock: Clock) -> None:
    body = {"name": "Nguyễn Văn An", "phone": "+84 912 345 678", "question": "hỏi về tạm trú", "conversation_id": "c"}
    response = gw.client.post("/api/callbacks", json=body)
    assert response.status_code == 201, response.text
    ticket = response.json()["ticket"]
    assert ticket == f"YC-{clock.now.strftime('%Y%m%d')}-0001" and ticket in response.json()["text"]
    second = gw.client.post("/api/callbacks", json={**body, "phone": "0912.345.679"}).json()["ticket"]
    assert second.endswith("-0002")
    listed = gw.feedback.list_callbacks()
    assert [c.ticket for c in listed] == [second, ticket]
    assert listed[1].phone == "091****678" and gw.feedback.callback(ticket).phone == "0912345678"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param({"phone": "abc", "question": "x"}, "phone", id="letters"),
        pytest.param({"phone": "123", "question": "x"}, "phone", id="short"),
        pytest.param({"phone": "0912345678", "question": "  \u0000 "}, "question", id="blank-question"),
        pytest.param({"phone": "0912345678"}, "question", id="missing-question"),
        pytest.param({"phone": "0912345678", "question": "x" * 2001}, "question", id="long-question"),
    ],
)
def test_bad_callback_requests_are_refused(gw: Gateway, body: dict, field: str) -> None:
    response = gw.client.post("/api/callbacks", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["message"] and response.json()["message_en"]
    assert gw.feedback.counts()["callbacks"] == 0


def test_complaints_get_a_ticket_and_staff_see_them(gw: Gateway) -> None:
    body = {"category": "complaint", "content": "Chờ ở bộ phận một cửa quá lâu", "phone": "0987654321"}
    response = gw.client.post("/api/complaints", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["ticket"].startswith("PA-") and "phản ánh" in response.json()["text"]
    gw.client.post("/api/complaints", json={"category": "suggestion", "content": "Nên có thêm quầy"})
    complaints = gw.feedback.list_complaints()
    assert [c.category_label for c in complaints] == ["Kiến nghị", "Phản ánh"]
    assert complaints[1].phone == "098****321"
    assert gw.client.post("/api/complaints", json={"category": "khen", "content": "x"}).status_code == 422
    assert gw.client.post("/api/complaints", json={"category": "complaint", "content": ""}).status_code == 422
    assert gw.feedback.counts()["complaints"] == 2
