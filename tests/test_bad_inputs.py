"""A corpus of hostile and malformed input (tests/fixtures/bad_inputs.json) on every public input surface.

Each input goes to the chat (REST and WebSocket), the Q&A route, the fee route, the dossier
lookup (as the code and as the check digits) and the feedback routes (rating comment, callback
question and phone, complaint). Every reply is a clear Vietnamese answer or a 4xx with a
Vietnamese message, never a 5xx or a traceback, and nothing already stored changes: a table may
only gain the row the request legitimately adds (a logged chat turn, an unanswered question, a
rating, a ticket), and the dossier lookup's failure counts may move (the ownership lockout).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from app_support import InProcessApp, build_app
from conftest import DOSSIER_NOW, FIXTURES, HELPDESK, Clock, FixtureKB, constant_model, filled_store
from fastapi.testclient import TestClient

from bot.assistant import Assistant
from bot.retriever import Retriever

CORPUS = json.loads((FIXTURES / "bad_inputs.json").read_text("utf-8"))["inputs"]
VIETNAMESE_LETTERS = set("ạảấầẩẫậắằẳẵặẹẻẽếềểễệịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđăâêôơư")


@dataclass(frozen=True)
class Surface:
    path: str
    template: str  # the JSON body: VALUE stands for the text field, CASE for the input's id
    grows: frozenset[str] = frozenset()  # tables the request may add one row to
    updates: frozenset[str] = frozenset()  # tables whose rows it may change


def table_set(*names: str) -> frozenset[str]:
    return frozenset(names)


SURFACES = {
    "chat": Surface(
        "/api/chat", '{"message": VALUE}', table_set("chat_conversations", "chat_turns", "unanswered_questions")
    ),
    "ask": Surface("/api/ask", '{"question": VALUE}', table_set("unanswered_questions")),
    "fees": Surface("/api/fees", '{"question": VALUE}', table_set("unanswered_questions")),
    "dossier-code": Surface(
        "/api/dossiers/status",
        '{"code": VALUE, "check": "1413", "conversation_id": "CASE"}',
        updates=table_set("dossier_check_guard"),
    ),
    "dossier-check": Surface(
        "/api/dossiers/status",
        '{"code": "000.00.21.H48-261106-0009", "check": VALUE, "conversation_id": "CASE"}',
        updates=table_set("dossier_check_guard"),
    ),
    "rating": Surface("/api/ratings", '{"rating": "neutral", "comment": VALUE}', table_set("feedback_ratings")),
    "callback-question": Surface(
        "/api/callbacks", '{"phone": "0912345678", "question": VALUE}', table_set("feedback_callbacks")
    ),
    "callback-phone": Surface(
        "/api/callbacks", '{"phone": VALUE, "question": "Tôi cần hỏi về tạm trú"}', table_set("feedback_callbacks")
    ),
    "complaint": Surface(
        "/api/complaints", '{"category": "complaint", "content": VALUE}', table_set("feedback_complaints")
    ),
}


def field_value(entry: dict) -> bytes | None:
    """The JSON of the text field for this input, or None when the input is a whole body."""
    if "raw_hex" in entry:
        return b'"' + bytes.fromhex(entry["raw_hex"]) + b'"'
    if "value_json" in entry:
        return entry["value_json"].encode()
    if "text" in entry or "repeat" in entry:
        text = entry.get("text", "") + entry.get("repeat", "") * entry.get("times", 0)
        return json.dumps(text).encode()  # ASCII escapes: lone surrogates travel as \ud800
    return None


def request_body(surface: Surface, entry: dict) -> bytes:
    value = field_value(entry)
    if value is not None:
        prefix, suffix = surface.template.replace("CASE", f"bad-{entry['id']}").encode().split(b"VALUE")
        return prefix + value + suffix
    if "body_hex" in entry:
        return bytes.fromhex(entry["body_hex"])
    return b"[" * entry["nesting"] + b"]" * entry["nesting"]


def vietnamese(text: str) -> bool:
    return bool(VIETNAMESE_LETTERS & set(text.lower()))


@pytest.fixture(scope="module")
def served(kb: FixtureKB, retriever: Retriever, tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcessApp]:
    folder = tmp_path_factory.mktemp("bad-inputs")
    store = filled_store(f"sqlite:///{folder / 'citizenbot.db'}")
    # Confidence 0.5, between the thresholds: replies of every kind the assistant gives.
    assistant = Assistant(store, retriever, constant_model(0.5), HELPDESK)
    yield build_app(kb, store, assistant, Clock(DOSSIER_NOW), folder)


@pytest.fixture(scope="module")
def client(served: InProcessApp) -> Iterator[TestClient]:
    client = TestClient(served.app, raise_server_exceptions=False)  # not started: no model warm-up in the background
    yield client
    client.close()


def assert_clear_reply(status: int, text: str) -> None:
    assert status < 500, text[:300]
    assert "Traceback" not in text and 'File "' not in text, text[:300]
    body = json.loads(text)
    if status < 300:
        assert vietnamese(body["text"]), body
    else:
        assert 400 <= status < 500
        assert vietnamese(body["message"]) and body["message_en"], body


def assert_only_legitimate_changes(before: dict, after: dict, surface: Surface, status: int) -> None:
    assert set(after) == set(before), "tables created or dropped"
    for table, rows in before.items():
        if status < 300 and table in surface.updates:
            continue
        if status < 300 and table in surface.grows:
            added = [row for row in after[table] if row not in rows]
            assert all(row in after[table] for row in rows), f"{table}: a stored row changed"
            assert len(added) <= 1, f"{table}: {len(added)} rows added"
            continue
        assert after[table] == rows, f"{table} changed"


@pytest.mark.parametrize("entry", CORPUS, ids=[e["id"] for e in CORPUS])
@pytest.mark.parametrize("surface_name", SURFACES)
def test_bad_input_gets_a_clear_reply_and_changes_nothing_stored(
    served: InProcessApp, client: TestClient, surface_name: str, entry: dict
) -> None:
    surface = SURFACES[surface_name]
    before = served.tables()
    body = request_body(surface, entry)
    response = client.post(surface.path, content=body, headers={"content-type": "application/json"})
    assert_clear_reply(response.status_code, response.text)
    assert_only_legitimate_changes(before, served.tables(), surface, response.status_code)


@pytest.mark.parametrize("entry", CORPUS, ids=[e["id"] for e in CORPUS])
def test_bad_input_on_the_chat_socket_gets_a_clear_frame_and_the_socket_stays_usable(
    served: InProcessApp, client: TestClient, entry: dict
) -> None:
    body = request_body(SURFACES["chat"], entry)
    before = served.tables()
    with client.websocket_connect("/ws/chat") as socket:
        try:
            socket.send_text(body.decode("utf-8"))
        except UnicodeDecodeError:
            socket.send_bytes(body)
        frame = socket.receive_json()
        error = frame.get("error")
        if error is None:
            assert vietnamese(frame["text"]), frame
        else:
            assert vietnamese(error["message"]) and error["message_en"], frame
        assert_only_legitimate_changes(before, served.tables(), SURFACES["chat"], 400 if error else 200)
        socket.send_json({"message": "làm tạm trú cần giấy tờ gì"})
        assert "text" in socket.receive_json()
