"""bot.masking: phone numbers and ID numbers hidden in logs, analytics and the staff review queues.

Unit tests of the masking (what is masked, what never is: dossier and procedure codes, dates,
amounts, tickets, check digits), of the log filter, and one test through the whole application:
a chat message with a phone number and a citizen ID number reaches Rasa whole but is masked in
the turn log, the unanswered-question log, the ratings, the review queues and the log output.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from app_support import build_app
from conftest import FIXTURES, Clock, FixtureKB
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from staff_support import PASSWORD

from bot import gateway
from bot.api import create_app
from bot.assistant import Assistant
from bot.confidence import ConfidenceModel
from bot.masking import MaskingFilter, mask_phone, mask_text
from bot.procedure import format_vnd
from bot.rasa_client import RasaUnavailable
from bot.store import KnowledgeStore


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("0912345678", "091*******"),
        ("gọi 0912 345 678 nhé", "gọi 091* *** *** nhé"),
        ("sđt: 0912.345.678.", "sđt: 091*.***.***."),
        ("0912-345-678", "091*-***-***"),
        ("091 234 5678", "091 *** ****"),
        ("+84 912 345 678", "+84 9** *** ***"),
        ("+84912345678", "+849********"),
        ("84912345678", "849********"),
        ("(+84) 912.345.678", "(+84) 9**.***.***"),
        ("máy bàn 0255 3822 123", "máy bàn 025* **** ***"),
        ("cccd 001203004567", "cccd 001*********"),
        ("căn cước 001 203 004 567", "căn cước 001 *** *** ***"),
        ("0012 0300 4567", "001* **** ****"),
        ("cmnd 123456789", "cmnd 123******"),
        ("0912345678,001203004567", "091*******,001*********"),
    ],
)
def test_phone_and_id_numbers_are_masked(text: str, masked: str) -> None:
    assert mask_text(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "000.00.53.H48-220921-0099",
        "hồ sơ 000.00.21.H48-261106-0009 số cuối 1413",
        "000 00 21 H48 261106 0009",
        "00000021H482611060009",
        "1.001193.000.00.00.H48",
        "thủ tục 2.000635",
        "lệ phí 150.000 đồng",
        "1.500.000.000 đồng",
        "200000000 đồng",
        "300000000 VND",
        "ngày 23/11/2026 lúc 10:30",
        "2026-11-23T09:00:00+07:00",
        "mã phiếu YC-20261123-0001 và PA-20261123-0003",
        "4 số cuối 5678",
        "127.0.0.1:8000",
    ],
)
def test_codes_dates_amounts_and_check_digits_are_never_masked(text: str) -> None:
    assert mask_text(text) == text


def test_the_fixture_dossier_codes_are_kept_next_to_a_masked_number() -> None:
    for dossier in json.loads((FIXTURES / "dossiers.json").read_text("utf-8")):
        text = f"hồ sơ {dossier['code']}, sđt {dossier['phone']}"
        assert mask_text(text) == f"hồ sơ {dossier['code']}, sđt {mask_text(dossier['phone'])}"
        assert mask_text(dossier["phone"]) != dossier["phone"]
        if dossier["id_number"]:
            assert mask_text(dossier["id_number"]) != dossier["id_number"]


def test_a_listed_phone_number_keeps_its_first_and_last_three_digits() -> None:
    assert mask_phone("0912345678") == "091****678"
    assert mask_phone("02553822123") == "025*****123"
    assert mask_phone("") == "" and mask_phone("12345") == "*****"


# ---- properties --------------------------------------------------------------------------------


@given(st.text(st.characters(exclude_categories=()), max_size=80))
def test_masking_only_turns_digits_into_stars_and_is_idempotent(text: str) -> None:
    masked = mask_text(text)
    assert len(masked) == len(text)
    assert all(m == t or (m == "*" and t.isdigit()) for m, t in zip(masked, text, strict=True))
    assert mask_text(masked) == masked


digits = st.integers(min_value=0, max_value=9).map(str)


@st.composite
def dossier_codes(draw: st.DrawFn) -> str:
    """Codes as the one-stop systems issue them: received since 2015 (a 2009 code written with spaces,
    "… H48 091106 0009", would read as the mobile number 091 106 0009)."""
    n = lambda size: "".join(draw(st.lists(digits, min_size=size, max_size=size)))  # noqa: E731
    received = draw(st.dates(date(2015, 1, 1), date(2035, 12, 31))).strftime("%y%m%d")
    code = f"{n(3)}.{n(2)}.{n(2)}.{draw(st.sampled_from('HGK'))}{n(2)}-{received}-{n(4)}"
    spaced, joined = code.replace(".", " ").replace("-", " "), code.replace(".", "").replace("-", "")
    return draw(st.sampled_from([code, spaced, joined]))


@st.composite
def procedure_codes(draw: st.DrawFn) -> str:
    national = f"{draw(st.integers(1, 3))}.{draw(st.integers(0, 999_999)):06d}"
    return draw(st.sampled_from([national, f"{national}.000.00.00.H{draw(st.integers(10, 99))}"]))


phones = st.tuples(st.sampled_from(["09", "08", "03", "+84 9", "849"]), st.integers(0, 99_999_999)).map(
    lambda p: f"{p[0]}{p[1]:08d}"
)
kept = st.one_of(
    dossier_codes(), procedure_codes(), st.integers(0, 10**12).map(format_vnd), st.integers(1000, 9999).map(str)
)


@given(kept, phones)
def test_codes_and_amounts_stay_whole_beside_a_masked_phone_number(text: str, phone: str) -> None:
    assert mask_text(f"{text} {phone}") == f"{text} {mask_text(phone)}"
    assert mask_text(phone) != phone


# ---- logs --------------------------------------------------------------------------------------


def test_the_log_filter_masks_messages_arguments_and_exceptions() -> None:
    logger = logging.getLogger("test_masking.probe")
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.addFilter(MaskingFilter())
    logger.propagate = False
    try:
        logger.warning("gọi 0912345678 về %s, lần %d", "căn cước 001203004567", 3)
        logger.warning("%(who)s: %(phone)s", {"who": "dân", "phone": "+84 912 345 678"})
        logger.warning("lỗi: %s", ValueError("số 0987654321 sai"))
        try:
            raise RuntimeError("không gọi được 0912 345 678")
        except RuntimeError:
            logger.exception("gọi lại thất bại")
    finally:
        logger.removeHandler(handler)
    lines = stream.getvalue()
    assert "gọi 091******* về căn cước 001*********, lần 3" in lines
    assert "dân: +84 9** *** ***" in lines
    assert "lỗi: số 098*******" in lines
    assert "RuntimeError: không gọi được 091* *** ***" in lines
    for raw in ("0912345678", "001203004567", "912 345 678", "0987654321"):
        assert raw not in lines


def test_the_gateway_installs_the_filter_once_on_every_app_logger() -> None:
    create_app()
    create_app()
    for name in ("bot", "bot.gateway", "bot.api", "voice.call", "uvicorn.access", "uvicorn.error"):
        filters = [f for f in logging.getLogger(name).filters if isinstance(f, MaskingFilter)]
        assert len(filters) == 1, name


# ---- through the application -------------------------------------------------------------------

MESSAGE = "Tôi hỏi thủ tục nuôi chim yến, gọi tôi số 0912 345 678, căn cước 001203004567"
MASKED = "Tôi hỏi thủ tục nuôi chim yến, gọi tôi số 091* *** ***, căn cước 001*********"
RAW_NUMBERS = ("0912 345 678", "0912345678", "001203004567", "0935261413", "123456789", "0987654321")


class RecordingRasa:
    """A Rasa that is down, but records what it was sent first."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, sender: str, message: str) -> None:
        self.sent.append(message)
        raise RasaUnavailable("test: Rasa is down")


def test_a_citizens_numbers_reach_rasa_whole_and_are_masked_everywhere_they_are_kept(
    kb: FixtureKB,
    store: KnowledgeStore,
    make_assistant: Callable[[ConfidenceModel], Assistant],
    constant_confidence: Callable[..., ConfidenceModel],
    clock: Clock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Confidence 0.1, below the 0.3 clarify threshold: the question is not answered and is logged for staff.
    served = build_app(kb, store, make_assistant(constant_confidence(0.1)), clock, tmp_path)
    rasa = RecordingRasa()
    served.app.dependency_overrides[gateway.rasa_client] = lambda: rasa
    served.staff.accounts.create("editor1", PASSWORD, "editor")
    client = TestClient(served.app)
    dossier_turn = "hồ sơ 000.00.21.H48-261106-0009, số điện thoại 0935261413"
    with caplog.at_level(logging.DEBUG, logger="bot"):
        reply = client.post("/api/chat", json={"message": MESSAGE}).json()
        assert reply["kind"] == "abstain"
        dossier = client.post("/api/chat", json={"message": dossier_turn}).json()
        rating = {"rating": "dissatisfied", "question": MESSAGE, "comment": "gọi lại 0987654321 giúp"}
        assert client.post("/api/ratings", json=rating).status_code == 201
        callback = {"phone": "0912 345 678", "question": "CCCD 001203004567 của tôi bị ghi sai"}
        ticket = client.post("/api/callbacks", json=callback).json()["ticket"]
        complaint = {"category": "complaint", "content": "CMND 123456789 bị từ chối", "phone": "0987654321"}
        assert client.post("/api/complaints", json=complaint).status_code == 201

    # Rasa, and through it the dossier ownership check, get the citizen's own words.
    assert rasa.sent == [MESSAGE, dossier_turn]
    lookup = {"code": "000.00.21.H48-261106-0009", "check": "0935261413", "conversation_id": "c-masking"}
    assert client.post("/api/dossiers/status", json=lookup).json()["outcome"] == "verified"

    # What is kept for analytics.
    assert [t.message for t in served.conversations.turns(reply["conversation_id"])] == [MASKED]
    assert [t.message for t in served.conversations.turns(dossier["conversation_id"])] == [
        "hồ sơ 000.00.21.H48-261106-0009, số điện thoại 093*******"
    ]
    assert served.knowledge.unanswered(1)[0].question == MASKED
    (stored_rating,) = served.feedback.list_ratings()
    assert (stored_rating.question, stored_rating.comment) == (MASKED, "gọi lại 098******* giúp")

    # The callback record keeps the whole number (staff call back); its listing does not show it.
    full = served.feedback.callback(ticket)
    assert (full.phone, full.question) == ("0912345678", callback["question"])

    # The review queues, as JSON and as the console page.
    login = client.post("/api/staff/login", json={"username": "editor1", "password": PASSWORD})
    assert login.status_code == 200
    queue = client.get("/api/staff/review/unanswered").json()
    assert queue["groups"][0]["question"] == MASKED
    feedback = client.get("/api/staff/review/feedback")
    assert "CCCD 001********* của tôi bị ghi sai" in feedback.text and "091****678" in feedback.text
    page = client.get("/staff/review")
    assert page.status_code == 200 and MASKED in page.text and "CMND 123****** bị từ chối" in page.text
    for shown in (json.dumps(queue, ensure_ascii=False), feedback.text, page.text):
        assert not [raw for raw in RAW_NUMBERS if raw in shown]

    # The log output.
    assert f"'{MASKED}'" in caplog.text
    assert not [raw for raw in RAW_NUMBERS if raw in caplog.text]
