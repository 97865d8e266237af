"""What a call needs from the rest of the assistant, in one place.

Questions go through the gateway's :class:`bot.gateway.ChatRouter` (Rasa, then the
knowledge core), exactly like chat messages, on the channel ``phone``; dossier
status through :class:`bot.dossiers.StatusLookup` (the function behind
``POST /api/dossiers/status``); handovers through :class:`bot.feedback.FeedbackStore`
(callback requests with ticket numbers); text messages through :class:`voice.outbox.Outbox`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from bot.dossiers import StatusLookup, StatusReply
from bot.feedback import FeedbackStore, normalize_phone
from bot.gateway import ChatMessage, ChatReply, ChatRouter, conversation_store, feedback_store, helpdesk, rasa_client
from bot.metrics import GatewayMetrics
from bot.settings import Settings
from bot.text import MAX_QUESTION_CHARS
from voice.outbox import Outbox

CHANNEL = "phone"


@lru_cache(maxsize=1)
def outbox() -> Outbox:
    settings = Settings.from_env()
    return Outbox(settings.database_url, settings.now)


@dataclass
class CallServices:
    chat: ChatRouter
    status_lookup: Callable[[], StatusLookup]
    feedback: Callable[[], FeedbackStore]
    outbox: Callable[[], Outbox]
    helpdesk: str

    @classmethod
    def build(
        cls,
        assistant_factory: Callable[[], Any],
        status_lookup_factory: Callable[[], StatusLookup],
        fee_engine_factory: Callable[[], Any],
        metrics: GatewayMetrics | None,
    ) -> CallServices:
        desk = helpdesk()
        metrics = metrics or GatewayMetrics()
        chat = ChatRouter(assistant_factory, fee_engine_factory, conversation_store(), rasa_client(), desk, metrics)
        return cls(chat, status_lookup_factory, feedback_store, outbox, desk)

    async def ask(self, conversation_id: str | None, text: str, procedure_code: str | None = None) -> ChatReply:
        message = ChatMessage(
            message=text[:MAX_QUESTION_CHARS], conversation_id=conversation_id, procedure_code=procedure_code
        )
        return await self.chat.handle(message, CHANNEL)

    async def dossier_status(self, code: str, check: str, conversation_id: str) -> StatusReply:
        return await asyncio.to_thread(lambda: self.status_lookup().lookup(code, check, conversation_id))

    async def dossier_status_received(self, reception: str, check: str, conversation_id: str) -> StatusReply:
        """The same lookup for a code given by its date and sequence part only ('261122-0031')."""
        return await asyncio.to_thread(lambda: self.status_lookup().lookup_received(reception, check, conversation_id))

    async def request_callback(self, phone: str, question: str, conversation_id: str) -> str:
        """The ticket number of a new callback request (raises FeedbackError on a bad phone number)."""
        request = await asyncio.to_thread(
            lambda: self.feedback().request_callback(phone, question[:MAX_QUESTION_CHARS], "", conversation_id)
        )
        return request.ticket

    async def send_sms(self, phone: str, text: str, conversation_id: str) -> None:
        await asyncio.to_thread(lambda: self.outbox().queue(phone, text, conversation_id))


def valid_phone(number: str | None) -> str | None:
    """The caller's number as 0xxxxxxxxx, or None when it is missing or not a Vietnamese phone number."""
    if not number:
        return None
    try:
        return normalize_phone(number[:32])
    except ValueError:
        return None
