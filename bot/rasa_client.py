"""The Rasa server, seen from the gateway: one citizen message in, the bot's replies and what it decided out.

Rasa runs in its own environment (``.venv-rasa``) and is reached over HTTP:
the REST channel (``POST /webhooks/rest/webhook``, sender = conversation id)
for the replies, then the tracker (``GET /conversations/{id}/tracker``, needs
``rasa run --enable-api``) for the intent and the slots the actions set in
that turn (``answer_kind``, ``procedure_code``, ``choices``…), from which the
gateway adds quick-reply buttons and the citation. Any failure raises
:class:`RasaUnavailable`: the gateway then answers without Rasa.

In the scale-out configuration several Rasa servers share one tracker store
(PostgreSQL) and lock store (Redis), so any of them can continue any
conversation. ``CITIZENBOT_RASA_URL`` then lists them, comma-separated: each
conversation prefers one server (a hash of its id, so its turns are not spread
for nothing) and moves to the next when that one gives no response at all: it
refuses the connection, or drops it before the response begins (a server killed
or shutting down; Rasa 3.6 saves a conversation's tracker once, at the end of
the turn just before replying, so a server dying mid-turn has not recorded it).
A timeout never moves on: the request reached a live server, which may still
finish that turn, and sending it again would run it twice.
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

DEFAULT_URL = "http://127.0.0.1:5005"


class RasaUnavailable(Exception):
    """Rasa could not be reached, timed out or answered with an error."""


class _Unanswered(RasaUnavailable):
    """The server refused the connection or dropped it without a response: another may take the turn."""


# Before any response came back: the connection refused, reset or closed by the server, the
# request not written in full. Not httpx.ReadTimeout: the server is alive and may be doing the turn.
NO_RESPONSE = (
    httpx.ConnectError, httpx.ConnectTimeout, httpx.WriteError, httpx.ReadError, httpx.RemoteProtocolError
)


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
    def __init__(self, urls: str | Sequence[str] = DEFAULT_URL, timeout: float = 30.0) -> None:
        listed = urls.split(",") if isinstance(urls, str) else list(urls)
        self.urls = tuple(url.strip().rstrip("/") for url in listed if url.strip())
        if not self.urls:
            raise ValueError("no Rasa server URL given")
        self.timeout = timeout

    @classmethod
    def from_env(cls) -> RasaClient:
        return cls(
            os.environ.get("CITIZENBOT_RASA_URL", DEFAULT_URL),
            float(os.environ.get("CITIZENBOT_RASA_TIMEOUT", "30")),
        )

    def servers_for(self, sender: str) -> list[str]:
        """Every server, the conversation's own first."""
        first = zlib.crc32(sender.encode()) % len(self.urls)
        return [*self.urls[first:], *self.urls[:first]]

    async def _call(self, url: str, method: str, path: str, **kwargs: Any) -> Any:
        """One request to one server; :class:`_Unanswered` when it gave no response at all."""
        async with httpx.AsyncClient(timeout=self.timeout) as client:
            try:
                # Streamed: returns once the status line and headers are in, so that a failure
                # here means no response began, and one while reading the body does not move on.
                response = await client.send(client.build_request(method, f"{url}{path}", **kwargs), stream=True)
            except NO_RESPONSE as error:
                raise _Unanswered(f"{url}: {error!r}") from error
            except httpx.HTTPError as error:
                raise RasaUnavailable(f"{method} {url}{path}: {error!r}") from error
            try:
                await response.aread()
            except httpx.HTTPError as error:
                raise RasaUnavailable(f"{method} {url}{path}: {error!r}") from error
            finally:
                await response.aclose()
        if response.status_code >= 400:
            raise RasaUnavailable(f"{method} {url}{path} answered {response.status_code}: {response.text[:300]}")
        try:
            return response.json()
        except ValueError as error:
            raise RasaUnavailable(f"{method} {url}{path} answered no JSON") from error

    async def _request(self, method: str, path: str, sender: str, **kwargs: Any) -> Any:
        unanswered: list[str] = []
        for url in self.servers_for(sender):
            try:
                return await self._call(url, method, path, **kwargs)
            except _Unanswered as error:
                unanswered.append(str(error))
        raise RasaUnavailable(f"{method} {path}: no Rasa server answered ({'; '.join(unanswered)})")

    async def send(self, sender: str, message: str) -> RasaTurn:
        body = {"sender": sender, "message": message}
        replies = await self._request("POST", "/webhooks/rest/webhook", sender, json=body)
        if not isinstance(replies, list):
            raise RasaUnavailable(f"unexpected webhook reply {replies!r:.300}")
        texts = [r["text"] for r in replies if isinstance(r, dict) and isinstance(r.get("text"), str)]
        after_restart = {"include_events": "AFTER_RESTART"}
        tracker = await self._request("GET", f"/conversations/{sender}/tracker", sender, params=after_restart)
        intent, slots, actions = this_turn(tracker)
        loop = (tracker.get("active_loop") or {}).get("name")
        return RasaTurn(texts, intent, slots, actions, loop)

    async def set_slots(self, sender: str, slots: dict[str, Any]) -> None:
        """Tells Rasa what the gateway decided without it (a quick-reply choice)."""
        events = [{"event": "slot", "name": name, "value": value} for name, value in slots.items()]
        await self._request("POST", f"/conversations/{sender}/tracker/events", sender, json=events)

    async def status(self) -> dict[str, dict[str, Any]]:
        """Each server's state; raises :class:`RasaUnavailable` when none has a model loaded."""
        states: dict[str, dict[str, Any]] = {}
        for url in self.urls:
            try:
                status = await self._call(url, "GET", "/status")
                if not isinstance(status, dict) or not status.get("model_file"):
                    raise RasaUnavailable("Rasa answers but has no model loaded")
                states[url] = {"ok": True, "model": str(status["model_file"])}
            except RasaUnavailable as error:
                states[url] = {"ok": False, "error": str(error)[:300]}
        if not any(state["ok"] for state in states.values()):
            raise RasaUnavailable("; ".join(f"{url}: {state['error']}" for url, state in states.items()))
        return states
