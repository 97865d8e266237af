"""Whole phone calls end to end, with the real engines, over the real WebSocket.

The app runs under uvicorn in a subprocess on a free port, on a copy of the real knowledge
base (``var/citizenbot.db`` and ``var/index``) with the dossier fixture imported and the clock
fixed at 2026-11-23 09:00. No Rasa is running: the gateway answers on its own, as it does
when Rasa is down. The scripted calls are placed at the same time (the line is real time,
so this keeps the suite short) and each test checks one of them.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from conftest import FIXTURES, REAL_SETTINGS

from bot.feedback import FeedbackStore
from voice.audio import ulaw_encode
from voice.call import keyed_code, yes_or_no
from voice.media_stream import MAX_EVENT_CHARS, parse_event
from voice.outbox import Outbox
from voice.simulator import CallRecord, place_call

ROOT = Path(__file__).resolve().parent.parent
NOW = "2026-11-23T09:00:00+07:00"
CODE = "000.00.21.H48-261122-0031"  # Trần Thị Bích, phone 0905 111 201, registered online 22/11
CALLER = "0912345678"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    real_db = REAL_SETTINGS.var_dir / "citizenbot.db"
    if not real_db.is_file() or not (REAL_SETTINGS.index_dir / "CURRENT").is_file():
        pytest.fail(
            f"The knowledge base is missing ({real_db}, {REAL_SETTINGS.index_dir}): run `make run` or "
            "`citizenbot ingest && citizenbot index` first.",
            pytrace=False,
        )
    folder = tmp_path_factory.mktemp("phone")
    database = folder / "citizenbot.db"
    shutil.copy(real_db, database)
    url = f"sqlite:///{database}"
    env = {
        **os.environ,
        "CITIZENBOT_DATABASE_URL": url,
        "CITIZENBOT_INDEX_DIR": str(REAL_SETTINGS.index_dir),
        "CITIZENBOT_MODEL_DIR": str(REAL_SETTINGS.model_dir),
        "CITIZENBOT_NOW": NOW,
        "CITIZENBOT_RASA_URL": f"http://127.0.0.1:{free_port()}",  # nobody listens: the gateway's own answers
        "CITIZENBOT_PHONE_NO_INPUT_MS": "3000",
    }
    cli = [sys.executable, "-m", "bot.cli"]
    subprocess.run(
        [*cli, "dossiers", "import", str(FIXTURES / "dossiers.json")],
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    port = free_port()
    log = (folder / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "bot.api:create_app", "--factory", "--port", str(port)],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                # The first question loads the knowledge core; calls then start at once.
                if httpx.post(
                    f"http://127.0.0.1:{port}/api/ask", json={"question": "khai sinh"}, timeout=120
                ).is_success:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the server did not start: {(folder / 'server.log').read_text()[-2000:]}", pytrace=False)
            time.sleep(0.5)
        yield f"ws://127.0.0.1:{port}/ws/phone", url
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


CALLS: dict[str, list[dict]] = {
    # The caller asks a question over the greeting: the greeting stops, the question is answered.
    "question": [
        {"after_bot_starts": 2.0, "say": "đăng ký khai sinh cần giấy tờ gì"},
        {"wait": "bot", "timeout": 40},
    ],
    # Keypad all the way, each key pressed over the prompt (a key stops the prompt too).
    "dossier": [
        {"after_bot_starts": 0.5, "dtmf": "1"},
        {"after_bot_starts": 0.5, "dtmf": CODE.replace(".", "").replace("-", "").replace("H", "") + "#"},
        {"after_bot_starts": 1.0, "dtmf": "1"},
        {"after_bot_starts": 0.5, "dtmf": "1201#"},
        {"after_bot_starts": 0.5, "dtmf": "1"},
        {"after_bot_starts": 3.0, "dtmf": "2"},  # the details by text message
        {"after_bot_starts": 1.0, "hangup": True},
    ],
    # Silence: one re-prompt, then the handover with a ticket number.
    "silence": [{"silence": 60}],
    # A misbehaving gateway, then key 0 without a caller number: the number is keyed, a ticket made.
    "garbage": [
        {"raw": "not json"},
        {"raw": json.dumps({"event": "media", "media": {"payload": "%%%not base64%%%"}})},
        {"raw": json.dumps({"event": "media", "media": {"payload": "A" * 20000}})},
        {"raw": json.dumps({"event": "media", "media": 5})},
        {"raw": json.dumps({"event": "dtmf", "dtmf": {"digit": "99"}})},
        {"raw": json.dumps({"event": "hello"})},
        {"raw": "x" * (MAX_EVENT_CHARS + 10)},
        {"raw": json.dumps([1, 2, 3])},
        {"after_bot_starts": 0.5, "dtmf": "0"},
        {"after_bot_starts": 0.5, "dtmf": "0905 111 201".replace(" ", "") + "#"},
    ],
}


@pytest.fixture(scope="module")
def calls(server: tuple[str, str]) -> dict[str, CallRecord]:
    url, _ = server

    async def all_calls() -> list[CallRecord]:
        return await asyncio.gather(
            *(
                place_call(steps, url, "" if name == "garbage" else CALLER, max_seconds=90)
                for name, steps in CALLS.items()
            )
        )

    records = dict(zip(CALLS, asyncio.run(all_calls()), strict=True))
    for name, record in records.items():
        print(f"--- {name}\n{record.transcript()}")
    return records


def test_spoken_question_gets_a_short_spoken_answer_naming_the_procedure(calls: dict[str, CallRecord]) -> None:
    call = calls["question"]
    heard = call.text("heard")
    assert "khai sinh" in heard, call.transcript()
    answer = call.said("bot")[-1]
    assert "khai sinh" in answer.lower(), call.transcript()
    assert "nghe lại" in answer and "tin nhắn" in answer  # the offer to repeat or to send the details
    assert len(call.audio()) > 8000  # it was spoken, not only written
    assert call.latencies and call.latencies[-1] < 3.0, call.latencies


def test_barge_in_stops_the_prompt_within_300_ms(calls: dict[str, CallRecord]) -> None:
    call = calls["question"]
    assert call.barge_ins, call.transcript()
    assert call.barge_ins[0] <= 0.3, call.barge_ins
    assert call.media_after_clear == 0
    assert call.said("bot")[0].startswith("Xin chào")


def test_dossier_status_by_keypad_with_read_back_and_ownership_check(calls: dict[str, CallRecord]) -> None:
    call = calls["dossier"]
    said = call.text("bot")
    assert f"Mã hồ sơ bạn cho là {CODE}" in said, call.transcript()
    assert "4 số cuối" in said and "một hai không một" in said
    status = next(s for s in call.said("bot") if s.startswith("Hồ sơ"))
    assert CODE in status and "Trần" in status and "tiếp nhận" in status, call.transcript()
    assert "tin nhắn" in status


def test_silence_gets_one_reprompt_then_a_handover_with_a_ticket(
    calls: dict[str, CallRecord], server: tuple[str, str]
) -> None:
    call = calls["silence"]
    said = call.said("bot")
    assert any(s.startswith("Bạn còn nghe máy không?") for s in said), call.transcript()
    assert sum(s.startswith("Bạn còn nghe máy không?") for s in said) == 1
    ticket = said[-1].split("Số phiếu yêu cầu của bạn là ")[1].split(". ")[0]
    assert call.hung_up_by_bot
    request = FeedbackStore(server[1]).callback(ticket)
    assert request is not None and request.phone == CALLER and request.conversation_id


def test_malformed_events_are_ignored_and_a_keyed_number_gets_a_ticket(
    calls: dict[str, CallRecord], server: tuple[str, str]
) -> None:
    call = calls["garbage"]
    said = call.text("bot")
    assert "bấm số điện thoại" in said, call.transcript()
    assert "Số phiếu yêu cầu của bạn là YC-20261123-" in said
    tickets = [c for c in FeedbackStore(server[1]).list_callbacks() if c.phone.endswith("201")]
    assert tickets


def test_the_details_go_to_the_outbox_on_request(calls: dict[str, CallRecord], server: tuple[str, str]) -> None:
    call = calls["dossier"]
    assert "gửi chi tiết qua tin nhắn" in call.said("bot")[-1], call.transcript()
    queued = [m for m in Outbox(server[1]).list() if m.phone == CALLER]
    assert queued and CODE in queued[0].text and queued[0].status == "queued"


# ---- the wire format, without a server ----------------------------------------------


def media(payload: str) -> str:
    return json.dumps({"event": "media", "streamSid": "MZ1", "media": {"track": "inbound", "payload": payload}})


def test_parse_event_accepts_the_gateway_shapes() -> None:
    frame = (np.sin(np.arange(160) / 5) * 8000).astype(np.int16)
    event = parse_event(media(base64.b64encode(ulaw_encode(frame)).decode()))
    assert event is not None and event.kind == "media" and len(event.pcm) == 160
    assert np.abs(event.pcm.astype(int) - frame).max() < 400
    start = parse_event(
        json.dumps(
            {
                "event": "start",
                "start": {"streamSid": "MZ2", "callSid": "CA1", "customParameters": {"from": "+84905111201"}},
            }
        )
    )
    assert start is not None and (start.stream_sid, start.call_sid, start.caller) == ("MZ2", "CA1", "+84905111201")
    assert parse_event(json.dumps({"event": "dtmf", "dtmf": {"digit": "#"}})).digit == "#"
    assert parse_event(json.dumps({"event": "mark", "mark": {"name": "prompt-1"}})).name == "prompt-1"
    assert parse_event(json.dumps({"event": "stop"})).kind == "stop"


@pytest.mark.parametrize(
    "raw",
    [None, "", "{", "[]", "null", '{"event": "nope"}', media("!!!"), media(""), media("A" * 20000), media("QQ=x"),
     '{"event": "dtmf", "dtmf": {"digit": "A"}}', '{"event": "dtmf", "dtmf": "1"}', b"\xff\xfe", "x" * 70000,
     json.dumps({"event": "media", "media": {"track": "outbound", "payload": "AAAA"}})],
)  # fmt: skip
def test_parse_event_refuses_bad_input(raw: str | bytes | None) -> None:
    assert parse_event(raw) is None


def test_keyed_codes_and_confirmations() -> None:
    assert keyed_code("0000021482611220031") == CODE
    assert keyed_code("00000214482611220031") == CODE  # the H keyed as 4 (GHI)
    assert keyed_code("000002148261122003") is None
    assert keyed_code("0000021481399990031") is None  # no such date
    assert yes_or_no("có") is True and yes_or_no("đúng rồi") is True
    assert yes_or_no("không") is False and yes_or_no("sai rồi") is False and yes_or_no("không phải") is False
    assert yes_or_no("xin chào") is None
