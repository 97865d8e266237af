"""The HTTP contract the Rasa action server relies on: /api/dossiers/status and /api/fees."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from conftest import HELPDESK, REAL_SETTINGS, Clock
from fastapi.testclient import TestClient

from bot.api import create_app
from bot.assistant import Assistant, Reply
from bot.confidence import ConfidenceModel
from bot.dossiers import DossierStore, StatusLookup
from bot.fees import FeeEngine, FeePolicies
from bot.guidance import GuideBook
from bot.ingest import load_curated
from bot.procedure import Procedure
from bot.text import normalize

STATUS_KEYS = {"outcome", "text", "dossier_code", "status", "source", "updated_at", "attempts_left"}
FEE_KEYS = {"outcome", "text", "procedure_code", "procedure_name", "choices"}
EXTENDED = "000.00.53.H48-261105-0017"


def app_client(assistant: object, dossier_store: DossierStore, clock: Clock) -> TestClient:
    engine = FeeEngine(FeePolicies.load(REAL_SETTINGS.fee_policies_file), HELPDESK, clock)
    lookup = StatusLookup(dossier_store, HELPDESK)
    app = create_app(
        assistant_factory=lambda: assistant,
        status_lookup_factory=lambda: lookup,
        fee_engine_factory=lambda: engine,
    )
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(
    make_assistant: Callable[[ConfidenceModel], Assistant],
    constant_confidence: Callable[..., ConfidenceModel],
    dossier_store: DossierStore,
    clock: Clock,
) -> Iterator[TestClient]:
    # Assumption: confidence 0.99, above the 0.7 answer threshold.
    with app_client(make_assistant(constant_confidence(0.99)), dossier_store, clock) as c:
        yield c


def status(client: TestClient, code: str, check: str = "", conversation: str = "conv-1") -> dict:
    response = client.post("/api/dossiers/status", json={"code": code, "check": check, "conversation_id": conversation})
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == STATUS_KEYS
    return body


# ---- /api/dossiers/status --------------------------------------------------------------------


def test_verified_status(client: TestClient) -> None:
    body = status(client, "000 00 53 h48 261105 0017", "số đt đuôi bảy tám không bảy")
    assert body["outcome"] == "verified"
    assert body["dossier_code"] == EXTENDED
    assert body["status"] == "extended"
    assert body["source"] == "Hệ thống thông tin giải quyết thủ tục hành chính tỉnh Quảng Ngãi"
    assert body["updated_at"] == "2026-11-10T16:00:00+07:00"
    assert body["attempts_left"] is None
    assert body["text"].startswith(
        f"Hồ sơ {EXTENDED} (Thủ tục cấp Giấy xác nhận tình trạng hôn nhân), người nộp Bùi V. N."
    )
    assert "Bùi Văn Nam" not in body["text"]


def test_overdue_status_key(client: TestClient) -> None:
    body = status(client, "000.00.21.H48-261106-0009", "1413")
    assert (body["outcome"], body["status"]) == ("verified", "overdue")
    assert "xin lỗi" in body["text"]


def test_code_and_check_in_one_field(client: TestClient) -> None:
    response = client.post(
        "/api/dossiers/status",
        json={"code": "ho so 000.00.21.H48-261116-0012 so dt cuoi 3403", "conversation_id": "c"},
    )
    assert response.status_code == 200
    assert response.json()["status"] == "processing"


def test_unknown_code_and_wrong_check_look_the_same(client: TestClient) -> None:
    wrong = status(client, EXTENDED, "0000", "a")
    unknown = status(client, "000.00.53.H48-261105-9999", "7807", "b")
    for body in (wrong, unknown):
        assert body["outcome"] == "not_verified"
        assert body["status"] is body["source"] is body["updated_at"] is None
    assert wrong["text"] == unknown["text"]
    assert wrong["attempts_left"] == unknown["attempts_left"] == 4


def test_lockout_over_http(client: TestClient, clock: Clock) -> None:
    bodies = [status(client, EXTENDED, "0000", "attacker") for _ in range(5)]
    assert [b["outcome"] for b in bodies] == ["not_verified"] * 4 + ["locked"]
    assert [b["attempts_left"] for b in bodies] == [4, 3, 2, 1, 0]
    locked = status(client, EXTENDED, "7807", "owner")
    assert locked["outcome"] == "locked" and "15 phút" in locked["text"] and HELPDESK in locked["text"]
    clock.advance(minutes=16)
    assert status(client, EXTENDED, "7807", "owner")["outcome"] == "verified"


def test_invalid_code_and_check(client: TestClient) -> None:
    body = status(client, "hồ sơ của tôi", "1234")
    assert (body["outcome"], body["dossier_code"]) == ("invalid_code", None)
    body = status(client, EXTENDED, "")
    assert (body["outcome"], body["dossier_code"]) == ("invalid_check", EXTENDED)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param({"code": "x" * 201, "check": "1234", "conversation_id": "c"}, "code", id="long-code"),
        pytest.param({"code": EXTENDED, "check": "1" * 101, "conversation_id": "c"}, "check", id="long-check"),
        pytest.param({"code": EXTENDED, "check": "7807"}, "conversation_id", id="no-conversation"),
        pytest.param({"code": EXTENDED, "check": "7807", "conversation_id": ""}, "conversation_id", id="empty-conv"),
        pytest.param({"code": EXTENDED, "check": "7807", "conversation_id": "c" * 129}, "conversation_id", id="long"),
        pytest.param({"code": None, "check": "7807", "conversation_id": "c"}, "code", id="null-code"),
        pytest.param({"code": [EXTENDED], "check": "7807", "conversation_id": "c"}, "code", id="list-code"),
        pytest.param({"code": 12345, "check": "7807", "conversation_id": "c"}, "code", id="number-code"),
    ],
)
def test_bad_status_requests_are_422(client: TestClient, payload: dict, field: str) -> None:
    response = client.post("/api/dossiers/status", json=payload)
    assert response.status_code == 422, response.text[:300]
    body = response.json()
    assert ("body", field) in [tuple(e["loc"]) for e in body["detail"]]
    assert body["message"].startswith("Yêu cầu không hợp lệ") and field in body["message"]


@pytest.mark.parametrize(
    "code",
    ["\x00\x01\x02", "🙂" * 50, "\u202e000.00.53.H48-261105-0017", "000.00.53.H48-261105-0017\x00", "' OR 1=1 --"],
)
def test_odd_text_never_breaks_the_status_route(client: TestClient, code: str) -> None:
    response = client.post("/api/dossiers/status", json={"code": code, "check": "\x00", "conversation_id": "\x00🙂"})
    assert response.status_code == 200
    assert response.json()["outcome"] in {"invalid_code", "invalid_check", "not_verified"}


def test_non_json_body_is_a_client_error(client: TestClient) -> None:
    for content in (b"\x89PNG", b'{"code": "000.00.53.H48-261105-0017", '):
        response = client.post("/api/dossiers/status", content=content, headers={"content-type": "application/json"})
        assert response.status_code in {400, 422}, response.text[:300]
        if response.status_code == 422:
            assert "không phải JSON" in response.json()["message"]


# ---- /api/fees --------------------------------------------------------------------------------


def fees(client: TestClient, **payload: object) -> dict:
    response = client.post("/api/fees", json=payload)
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == FEE_KEYS
    return body


def test_fee_question_resolved_by_retrieval(client: TestClient) -> None:
    body = fees(client, question="đăng ký tạm trú nộp online có rẻ hơn không")
    assert (body["outcome"], body["procedure_code"], body["procedure_name"]) == (
        "answer",
        "1.004194",
        "Đăng ký tạm trú",
    )
    assert body["text"].startswith("Có, nộp trực tuyến được thu mức thấp hơn.")
    assert "15.000 đồng/lần" in body["text"] and "7.000 đồng/lần" in body["text"]
    assert body["text"].splitlines()[-1].startswith("Nguồn: thủ tục “Đăng ký tạm trú”, mã 1.004194")
    assert body["choices"] == []


def test_time_question_with_a_picked_procedure(client: TestClient) -> None:
    body = fees(client, question="bao lâu thì có kết quả", procedure_code="1.004194")
    assert body["outcome"] == "answer"
    assert "03 ngày làm việc" in body["text"] and "dự kiến không quá 02 ngày làm việc" in body["text"]


def test_online_flag_from_the_caller(client: TestClient) -> None:
    online = fees(client, question="hết bao nhiêu tiền", procedure_code="1.004194", online=True)["text"]
    counter = fees(client, question="hết bao nhiêu tiền", procedure_code="1.004194", online=False)["text"]
    assert online.startswith("Có, nộp trực tuyến") and "Nộp trực tuyến: 7.000 đồng" in online
    assert "trực tuyến: 7.000" not in counter


def test_question_naming_no_procedure_asks_which(client: TestClient) -> None:
    body = fees(client, question="bao lâu thì có kết quả")
    assert body["outcome"] == "clarify"
    assert body["procedure_code"] is None
    assert len(body["choices"]) == 3
    assert all(set(c) == {"code", "name"} and c["name"] in body["text"] for c in body["choices"])


def test_unknown_picked_procedure_falls_back_to_the_question(client: TestClient) -> None:
    body = fees(client, question="làm hộ chiếu hết bao nhiêu tiền", procedure_code="9.999999")
    assert (body["outcome"], body["procedure_code"]) == ("answer", "1.001456")
    assert "200.000 đồng" in body["text"]


def test_off_topic_or_unsure_is_unknown(
    make_assistant: Callable[[ConfidenceModel], Assistant],
    constant_confidence: Callable[..., ConfidenceModel],
    dossier_store: DossierStore,
    clock: Clock,
) -> None:
    # Assumption: confidence 0.05, below the 0.3 clarify threshold.
    with app_client(make_assistant(constant_confidence(0.05)), dossier_store, clock) as client:
        off_topic = fees(client, question="giá vàng hôm nay bao nhiêu tiền")
        unsure = fees(client, question="lệ phí cấp giấy phép khai thác cát sỏi lòng sông bao nhiêu")
        no_procedure = fees(client, question="mất bao lâu thì có kết quả ạ")
    for body in (off_topic, unsure):
        assert body["outcome"] == "unknown"
        assert body["procedure_code"] is None and body["choices"] == []
        assert body["text"].startswith("Xin lỗi")
    # Too unsure to offer choices, but the question only lacks the procedure: ask for it.
    assert (no_procedure["outcome"], no_procedure["choices"]) == ("clarify", [])
    assert no_procedure["text"].startswith("Bạn muốn hỏi phí, lệ phí hoặc thời hạn của thủ tục nào?")


def test_blank_question_is_unknown(client: TestClient) -> None:
    body = fees(client, question="   ")
    assert body["outcome"] == "unknown" and body["text"].startswith("Xin lỗi")


class CuratedAssistant:
    """Stands in for the assistant with the curated records (the fixture base has no per-copy fee)."""

    def __init__(self) -> None:
        self.records = {p.code: p for p in load_curated(REAL_SETTINGS.curated_dir)}

    def procedure(self, code: str) -> Procedure | None:
        return self.records.get(code)

    def ask(self, question: str) -> Reply:
        return Reply("abstain", "Xin lỗi, không rõ.")


def test_copies_from_the_caller(dossier_store: DossierStore, clock: Clock) -> None:
    with app_client(CuratedAssistant(), dossier_store, clock) as client:
        body = fees(client, question="bản sao trích lục hết bao nhiêu", procedure_code="2.000635", copies=3)
        spoken = fees(client, question="3 bản sao trích lục hết bao nhiêu", procedure_code="2.000635")
    assert body["outcome"] == "answer"
    assert "× 3 = 24.000 đồng" in body["text"] and "× 3 = 24.000 đồng" in spoken["text"]


class GuidedAssistant(CuratedAssistant):
    """Answers what the real guidance file covers as the assistant does, before any retrieval."""

    guides = GuideBook.load(REAL_SETTINGS.guidance_file)

    def ask(self, question: str) -> Reply:
        matched = self.guides.match(normalize(question))
        return Reply("guide", matched[0].text(), 1.0) if matched else super().ask(question)


def test_a_case_the_catalogue_lacks_gets_its_guidance(dossier_store: DossierStore, clock: Clock) -> None:
    """A fee question about a vehicle transfer says what the guide says, not "unknown"."""
    with app_client(GuidedAssistant(), dossier_store, clock) as client:
        body = fees(client, question="lệ phí sang tên xe máy")
    assert (body["outcome"], body["procedure_code"]) == ("guide", None)
    assert body["text"].startswith("Sang tên xe") and "1800 1096" in body["text"]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        pytest.param({"question": ""}, "question", id="empty"),
        pytest.param({"question": "x" * 2001}, "question", id="too-long"),
        pytest.param({}, "question", id="missing"),
        pytest.param({"question": "phí", "copies": 0}, "copies", id="zero-copies"),
        pytest.param({"question": "phí", "copies": 101}, "copies", id="many-copies"),
        pytest.param({"question": "phí", "copies": "ba"}, "copies", id="word-copies"),
        pytest.param({"question": "phí", "online": "có lẽ"}, "online", id="online-maybe"),
        pytest.param({"question": "phí", "procedure_code": "1" * 65}, "procedure_code", id="long-code"),
    ],
)
def test_bad_fee_requests_are_422(client: TestClient, payload: dict, field: str) -> None:
    response = client.post("/api/fees", json=payload)
    assert response.status_code == 422, response.text[:300]
    body = response.json()
    assert ("body", field) in [tuple(e["loc"]) for e in body["detail"]]
    assert field in body["message"]
