"""The Rasa server, seen from the gateway: one citizen message in, the bot's replies and what it decided out.

Rasa runs in its own environment (``.venv-rasa``) and is reached over HTTP:
the REST channel (``POST /webhooks/rest/webhook``, sender = conversation id)
for the replies, then the tracker (``GET /conversations/{id}/tracker``, needs
``rasa run --enable-api``) for the intent and the slots the actions set in
that turn (``answer_kind``, ``procedure_code``, ``choices``…), from which the
gateway adds quick-reply buttons and the citation. Any failure raises
:class:`RasaUnavailable`: the gateway then answers without Rasa.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:5005"


class RasaUnavailable(Exception):
    """Rasa could not be reached, timed out or answered with an error."""


@dataclass(frozen=True)
class RasaTurn:
    texts: list[str]
    intent: str | None
    slots_set: dict[str, Any] = field(default_factory=dict)  # slots set during this turn, last value wins
    actions: list[str] = field(default_factory=list)
    active_loop: str | None = None  # the form still running after the turn


def this_turn(tracker: dict[str, Any]) -> tuple[str | None, dict[str, Any], list[str]]:
    """Intent, slots set and actions run since the tracker's last user message."""
    events = tracker.get("events") or []
    last_user = max((i for i, e in enumerate(events) if e.get("event") == "user"), default=-1)
    intent = None
    if last_user >= 0:
        intent = ((events[last_user].get("parse_data") or {}).get("intent") or {}).get("name")
    slots: dict[str, Any] = {}
    actions: list[str] = []
    for event in events[last_user + 1 :]:
        if event.get("event") == "slot":
            slots[event["name"]] = event.get("value")
        elif event.get("event") == "action" and event.get("name") not in {"action_listen", None}:
            actions.append(event["name"])
    return intent, slots, actions


class RasaClient:
    def __init__(self, url: str = DEFAULT_URL, timeout: float = 30.0) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout

    @classmethod
    def from_env(cls) -> RasaClient:
        return cls(
            os.environ.get("CITIZENBOT_RASA_URL", DEFAULT_URL),
            float(os.environ.get("CITIZENBOT_RASA_TIMEOUT", "30")),
        )

    async def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.request(method, f"{self.url}{path}", **kwargs)
        except httpx.HTTPError as error:
            raise RasaUnavailable(f"{method} {path}: {error!r}") from error
        if response.status_code >= 400:
            raise RasaUnavailable(f"{method} {path} answered {response.status_code}: {response.text[:300]}")
        try:
            return response.json()
        except ValueError as error:
            raise RasaUnavailable(f"{method} {path} answered no JSON") from error

    async def send(self, sender: str, message: str) -> RasaTurn:
        replies = await self._request("POST", "/webhooks/rest/webhook", json={"sender": sender, "message": message})
        if not isinstance(replies, list):
            raise RasaUnavailable(f"unexpected webhook reply {replies!r:.300}")
        texts = [r["text"] for r in replies if isinstance(r, dict) and isinstance(r.get("text"), str)]
        after_restart = {"include_events": "AFTER_RESTART"}
        tracker = await self._request("GET", f"/conversations/{sender}/tracker", params=after_restart)
        intent, slots, actions = this_turn(tracker)
        loop = (tracker.get("active_loop") or {}).get("name")
        return RasaTurn(texts, intent, slots, actions, loop)

    async def set_slots(self, sender: str, slots: dict[str, Any]) -> None:
        """Tells Rasa what the gateway decided without it (a quick-reply choice)."""
        events = [{"event": "slot", "name": name, "value": value} for name, value in slots.items()]
        await self._request("POST", f"/conversations/{sender}/tracker/events", json=events)

    async def status(self) -> dict[str, Any]:
        status = await self._request("GET", "/status")
        if not isinstance(status, dict) or not status.get("model_file"):
            raise RasaUnavailable("Rasa answers but has no model loaded")
        return status
