"""Custom actions for the dossier-status and fee dialogue (rasa-sdk action server).

The actions hold no business logic: dossier lookups, fees and procedure answers
come from the main app over HTTP (``CITIZENBOT_API_URL``), and codes and check
digits are parsed by ``bot.dossier_codes`` (the repository root is on PYTHONPATH).
Whatever goes wrong with the main app, the citizen gets a polite reply.

Run with:  PYTHONPATH=. .venv-rasa/bin/rasa run actions --actions actions.dialogue
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import unicodedata
from typing import Any

import aiohttp
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.dossier_codes import parse_check_digits, parse_code_and_check

logger = logging.getLogger(__name__)

API_URL = os.environ.get("CITIZENBOT_API_URL", "http://127.0.0.1:8000").rstrip("/")
API_TIMEOUT = float(os.environ.get("CITIZENBOT_API_TIMEOUT", "30"))
MAX_QUESTION_CHARS = 2000  # the main app refuses longer questions

UNAVAILABLE = (
    "Hệ thống tạm thời gián đoạn nên tôi chưa trả lời được lúc này. Bạn vui lòng thử lại sau ít phút "
    "hoặc gọi tổng đài Cổng Dịch vụ công quốc gia 1800 1096 (miễn phí) để được hỗ trợ."
)

# "ba bản sao" → 3 (the copies entity is digits or one of these words).
COUNT_WORDS = {
    word: n
    for n, words in enumerate(
        "một mot|hai|ba|bốn bon|năm nam|sáu sau|bảy bay|tám tam|chín chin|mười muoi".split("|"), 1
    )
    for word in words.split()
}
ONLINE_WORDS = ("online", "trực tuyến", "truc tuyen", "qua mạng", "qua mang", "dịch vụ công", "dich vu cong", "dvc")
COUNTER_WORDS = ("trực tiếp", "truc tiep", "tại quầy", "tai quay", "bộ phận một cửa", "bo phan mot cua")


class ApiUnavailable(Exception):
    """The main app could not be reached or gave no usable answer."""


async def call_api(path: str, body: dict[str, Any]) -> dict[str, Any]:
    url = f"{API_URL}{path}"
    try:
        timeout = aiohttp.ClientTimeout(total=API_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as session, session.post(url, json=body) as response:
            if response.status != 200:
                detail = (await response.text())[:300]
                raise ApiUnavailable(f"{url} answered {response.status}: {detail}")
            data = await response.json()
    except (asyncio.TimeoutError, aiohttp.ClientError, ValueError) as error:
        raise ApiUnavailable(f"{url}: {error!r}") from error
    if not isinstance(data, dict) or not isinstance(data.get("text"), str):
        raise ApiUnavailable(f"{url} answered without a text: {data!r:.300}")
    return data


def fold(text: str) -> str:
    """Lower case without diacritics: "Thứ Hai" → "thu hai"."""
    decomposed = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def message_text(tracker: Tracker) -> str:
    return unicodedata.normalize("NFC", tracker.latest_message.get("text") or "").strip()


def entity_values(tracker: Tracker, entity: str) -> list[str]:
    return [str(e["value"]) for e in tracker.latest_message.get("entities", []) if e.get("entity") == entity]


def copies_asked(tracker: Tracker) -> int | None:
    for value in entity_values(tracker, "copies"):
        value = value.strip().lower()
        if value.isdigit() and 0 < int(value) <= 100:
            return int(value)
        if value in COUNT_WORDS:
            return COUNT_WORDS[value]
    return None


def channel_asked(text: str, intent: str) -> bool | None:
    """True when the question is about submitting online, False for the counter, None when unsaid."""
    lowered = text.lower()
    online = intent == "ask_online_discount" or any(w in lowered for w in ONLINE_WORDS)
    counter = any(w in lowered for w in COUNTER_WORDS)
    if online and counter:
        return None  # a comparison: let the fee engine show both
    return True if online else False if counter else None


class ValidateDossierForm(FormValidationAction):
    """Normalises the dossier code and check digits with the main app's parser."""

    def name(self) -> str:
        return "validate_dossier_form"

    async def validate_dossier_code(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        code, check = parse_code_and_check(message_text(tracker))
        if code is None and isinstance(value, str):
            code, check = parse_code_and_check(value)
        if code is None:
            dispatcher.utter_message(response="utter_invalid_dossier_code")
            return {"dossier_code": None}
        slots: dict[str, Any] = {"dossier_code": code}
        if check and not tracker.get_slot("check_digits"):
            slots["check_digits"] = check  # both given in one message
        return slots

    async def validate_check_digits(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        # The code, when the same message has one, is left out of the digits.
        _, check = parse_code_and_check(message_text(tracker))
        for candidate in entity_values(tracker, "check_digits"):
            check = check or parse_check_digits(candidate)
        if check is None:
            dispatcher.utter_message(response="utter_invalid_check_digits")
            return {"check_digits": None}
        return {"check_digits": check}


class ActionCheckDossierStatus(Action):
    """Asks the main app for the status; it checks ownership, counts failures and locks."""

    def name(self) -> str:
        return "action_check_dossier_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        body = {
            "code": tracker.get_slot("dossier_code") or "",
            "check": tracker.get_slot("check_digits") or "",
            "conversation_id": tracker.sender_id,
        }
        try:
            reply = await call_api("/api/dossiers/status", body)
            dispatcher.utter_message(text=reply["text"])
            outcome = str(reply.get("outcome") or "unknown")
        except ApiUnavailable as error:
            logger.warning("dossier status unavailable: %s", error)
            dispatcher.utter_message(text=UNAVAILABLE)
            outcome = "unavailable"
        # A later lookup starts from scratch: the check is never reused.
        return [SlotSet("dossier_outcome", outcome), SlotSet("dossier_code", None), SlotSet("check_digits", None)]


def clarified(kind: str, question: str, reply: dict[str, Any]) -> list[EventType]:
    """Remembers the procedures a clarifying question offered, so that "số 2" can pick one."""
    codes = [c["code"] for c in reply.get("choices") or [] if isinstance(c, dict) and c.get("code")]
    if not codes:
        return [SlotSet("choices", None)]
    return [SlotSet("choices", codes), SlotSet("pending_question", question), SlotSet("pending_kind", kind)]


async def relay(
    path: str, body: dict[str, Any], dispatcher: CollectingDispatcher, result_field: str, topic: str
) -> list[EventType]:
    """Says the main app's reply to `body` and records it in slots; `topic` is "ask" or "fee"."""
    try:
        reply = await call_api(path, body)
    except ApiUnavailable as error:
        logger.warning("%s unavailable: %s", path, error)
        dispatcher.utter_message(text=UNAVAILABLE)
        return [SlotSet("answer_kind", "unavailable")]
    dispatcher.utter_message(text=reply["text"])
    result = str(reply.get(result_field) or "unknown")
    events: list[EventType] = [SlotSet("answer_kind", f"{topic}:{result}"), *clarified(topic, body["question"], reply)]
    if result == "answer" and reply.get("procedure_code"):
        events.append(SlotSet("procedure_code", reply["procedure_code"]))
    return events


async def ask_knowledge(
    question: str, dispatcher: CollectingDispatcher, procedure_code: str | None = None
) -> list[EventType]:
    body = {"question": question[:MAX_QUESTION_CHARS], "procedure_code": procedure_code}
    return await relay("/api/ask", body, dispatcher, "kind", "ask")


async def answer_fee(
    question: str, dispatcher: CollectingDispatcher, procedure_code: str | None, copies: int | None, online: bool | None
) -> list[EventType]:
    body = {"question": question[:MAX_QUESTION_CHARS], "procedure_code": procedure_code, "copies": copies}
    return await relay("/api/fees", {**body, "online": online}, dispatcher, "outcome", "fee")


class ActionAnswerFee(Action):
    """Fees, the online reduction and processing times, from the main app's fee engine.

    A follow-up that names no procedure ("nộp online có rẻ hơn không") is about the
    procedure of the previous answer.
    """

    def name(self) -> str:
        return "action_answer_fee"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        question = message_text(tracker)
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        named = bool(entity_values(tracker, "procedure"))
        procedure_code = None if named else tracker.get_slot("procedure_code")
        online = channel_asked(question, intent)
        return await answer_fee(question, dispatcher, procedure_code, copies_asked(tracker), online)


class ActionAskKnowledge(Action):
    """Free-text procedure questions (and messages the NLU is unsure of) go to the knowledge core."""

    def name(self) -> str:
        return "action_ask_knowledge"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        return await ask_knowledge(message_text(tracker), dispatcher)


# Folded words that say which item of a list: "cái thứ hai", "số 1", "cái đầu tiên", "cái cuối".
ORDINALS = {"mot": 1, "nhat": 1, "dau": 1, "hai": 2, "nhi": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5}


def chosen_index(text: str, count: int) -> int | None:
    """The 0-based item the citizen picked, or None when the message names none."""
    for token in re.findall(r"\w+", fold(text)):
        if token.isdigit():
            return int(token) - 1
        if token in ORDINALS:
            return ORDINALS[token] - 1
        if token == "cuoi":
            return count - 1
    return None


class ActionChooseOption(Action):
    """The citizen picked a procedure from a clarifying question: answer the pending question for it."""

    def name(self) -> str:
        return "action_choose_option"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> list[EventType]:
        choices = tracker.get_slot("choices") or []
        question = tracker.get_slot("pending_question")
        if not choices or not question:
            dispatcher.utter_message(response="utter_nothing_to_choose")
            return []
        index = chosen_index(message_text(tracker), len(choices))
        if index is None or not 0 <= index < len(choices):
            dispatcher.utter_message(response="utter_choose_in_range", choice_count=len(choices))
            return []
        code = choices[index]
        if tracker.get_slot("pending_kind") == "fee":
            events = await answer_fee(question, dispatcher, code, None, channel_asked(question, ""))
        else:
            events = await ask_knowledge(question, dispatcher, code)
        return [*events, SlotSet("choices", None), SlotSet("pending_question", None)]
