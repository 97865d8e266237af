"""The gateway routing through a real Rasa server and action server (tests/processes.py `live_stack`).

The gateway runs on a copy of the real knowledge store with the dossier fixture
imported; Rasa's actions call back into it. Each reply must carry what the
widget needs: kind, quick-reply buttons, citation, conversation id.
"""

from __future__ import annotations

import json

import httpx
import pytest
from processes import Stack, chat, free_port

from bot.conversations import ConversationStore

pytestmark = pytest.mark.slow


def test_ready_reports_rasa(live_stack: Stack) -> None:
    body = httpx.get(f"{live_stack.gateway}/ready", timeout=60).json()
    assert body["status"] == "ready", body
    servers = body["checks"]["rasa"]["servers"]
    assert body["checks"]["rasa"]["ok"] and [s["model"].endswith(".tar.gz") for s in servers.values()] == [True]


def test_a_procedure_question_goes_through_rasa_to_the_knowledge_core(live_stack: Stack) -> None:
    reply = chat(live_stack.gateway, "làm tạm trú cần giấy tờ gì")
    assert reply["route"] == "rasa"
    assert reply["kind"] == "answer", reply
    assert reply["citation"]["procedure_code"] == "1.004194"
    assert "dichvucong" in reply["citation"]["url"]


def test_how_to_submit_online_gets_the_general_guidance_through_rasa(live_stack: Stack) -> None:
    reply = chat(live_stack.gateway, "làm sao để nộp hồ sơ trực tuyến")
    assert reply["route"] == "rasa" and reply["kind"] == "guide", reply
    assert "dichvucong.gov.vn" in reply["text"] and reply["citation"] is None


def test_dossier_status_through_the_rasa_form(live_stack: Stack) -> None:
    first = chat(live_stack.gateway, "cho mình hỏi hồ sơ của mình đến đâu rồi")
    assert first["route"] == "rasa" and first["kind"] == "dossier_form" and "mã hồ sơ" in first["text"]
    conversation = first["conversation_id"]
    code = chat(live_stack.gateway, "000.00.21.H48-261117-0005", conversation)
    assert code["kind"] == "dossier_form" and "4 số cuối" in code["text"]
    status = chat(live_stack.gateway, "8908", conversation)
    assert status["kind"] == "dossier", status
    assert "đã có kết quả, đang chờ trả" in status["text"] and "Ngô T. H." in status["text"]
    assert status["conversation_id"] == conversation
    kinds = [t.kind for t in ConversationStore(live_stack.database_url).turns(conversation)]
    assert kinds == ["dossier_form", "dossier_form", "dossier"]


def test_a_fee_clarification_becomes_buttons_and_a_button_answers(live_stack: Stack) -> None:
    clarify = chat(live_stack.gateway, "lệ phí chứng thực bao nhiêu")
    assert clarify["kind"] == "clarify" and clarify["route"] == "rasa", clarify
    assert len(clarify["buttons"]) >= 2 and all(b["label"] and b["procedure_code"] for b in clarify["buttons"])
    choice = clarify["buttons"][0]
    fee = chat(live_stack.gateway, choice["label"], clarify["conversation_id"], procedure_code=choice["procedure_code"])
    assert fee["kind"] == "fee" and fee["route"] == "knowledge", fee
    assert "đồng" in fee["text"] and fee["citation"]["procedure_code"] == choice["procedure_code"]
    # Rasa was told the choice: a follow-up about submitting online is about the same procedure.
    tracker = httpx.get(f"{live_stack.rasa}/conversations/{fee['conversation_id']}/tracker", timeout=30).json()
    assert tracker["slots"]["procedure_code"] == choice["procedure_code"]
    follow_up = chat(live_stack.gateway, "nộp online có rẻ hơn không", fee["conversation_id"])
    assert follow_up["kind"] == "fee" and follow_up["citation"]["procedure_code"] == choice["procedure_code"]


def test_what_rasa_takes_for_off_topic_gets_the_knowledge_core_answer_if_it_has_one(live_stack: Stack) -> None:
    """Rasa's NLU calls "xây nhà ở quê có phải xin phép không" off-topic; the building permit's conditions
    answer it. Small talk stays Rasa's off-topic reply."""
    reply = chat(live_stack.gateway, "xây nhà ở quê có phải xin phép không")
    assert (reply["route"], reply["kind"]) == ("knowledge", "answer"), reply
    assert reply["citation"]["procedure_code"] == "1.013225"
    small_talk = chat(live_stack.gateway, "kể chuyện cười đi")
    assert (small_talk["route"], small_talk["kind"]) == ("rasa", "out_of_scope"), small_talk


def test_a_handover_request(live_stack: Stack) -> None:
    reply = chat(live_stack.gateway, "cho tôi nói chuyện với cán bộ")
    assert reply["kind"] == "handover" and "1800 1096" in reply["text"], reply


def test_websocket_through_rasa(live_stack: Stack) -> None:
    import asyncio

    import websockets

    async def converse() -> list[dict]:
        url = live_stack.gateway.replace("http://", "ws://") + "/ws/chat"
        replies = []
        async with websockets.connect(url, open_timeout=30) as ws:
            for message in ("xin chào", "làm tạm trú cần giấy tờ gì"):
                await ws.send(json.dumps({"message": message}))
                replies.append(json.loads(await asyncio.wait_for(ws.recv(), 120)))
        return replies

    greeting, answer = asyncio.run(converse())
    assert greeting["route"] == "rasa" and greeting["kind"] == "dialogue" and "Xin chào" in greeting["text"]
    assert answer["conversation_id"] == greeting["conversation_id"]
    assert answer["kind"] == "answer" and answer["citation"]["procedure_code"] == "1.004194"


def test_the_same_gateway_falls_back_when_rasa_stops_answering(live_stack: Stack) -> None:
    """A gateway of the same stack pointed at a port where nothing listens: procedure questions still work."""
    from processes import knowledge_copy, start_gateway

    workdir = live_stack.workdir / "no-rasa"
    workdir.mkdir(exist_ok=True)
    server = start_gateway(workdir, knowledge_copy(workdir), f"http://127.0.0.1:{free_port()}", "gateway without rasa")
    try:
        answer = chat(server.url, "làm tạm trú cần giấy tờ gì")
        assert answer["route"] == "fallback" and answer["kind"] == "answer"
        dossier = chat(server.url, "tra cứu hồ sơ 000.00.21.H48-261117-0005")
        assert dossier["kind"] == "unavailable" and "tạm thời gián đoạn" in dossier["text"]
        assert "1800 1096" in dossier["text"]
        assert httpx.get(f"{server.url}/ready", timeout=60).json()["status"] == "degraded"
    finally:
        server.stop()
