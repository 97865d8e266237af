"""The phone line: a WebSocket media stream in the shape telephony gateways use (Twilio Media Streams).

``/ws/phone`` takes JSON text frames from the gateway:

- ``connected`` — ``{"event": "connected", "protocol": "Call", "version": "1.0.0"}``
- ``start`` — ``{"event": "start", "streamSid": "MZ…", "start": {"streamSid", "callSid",
  "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
  "customParameters": {"from": "0905111201"}}}`` (the caller's number, when the gateway passes it)
- ``media`` — ``{"event": "media", "streamSid", "media": {"track": "inbound", "payload": base64 μ-law}}``,
  8 kHz, normally 20 ms (160 bytes) per event
- ``dtmf`` — ``{"event": "dtmf", "streamSid", "dtmf": {"track": "inbound_track", "digit": "5"}}``
- ``mark`` — ``{"event": "mark", "streamSid", "mark": {"name": "prompt-3"}}``: the gateway has played
  the bot's audio up to the mark of that name
- ``stop`` — the call has ended

and sends back:

- ``media`` — ``{"event": "media", "streamSid", "media": {"payload": base64 μ-law}}``, 20 ms each, paced in
  real time (a little ahead), so that stopping is immediate
- ``mark`` — ``{"event": "mark", "streamSid", "mark": {"name": "prompt-N"}}`` after each prompt
- ``clear`` — ``{"event": "clear", "streamSid"}``: the caller barged in, drop the audio not yet played
- ``transcript`` (not in Twilio's protocol; gateways ignore unknown events) —
  ``{"event": "transcript", "streamSid", "transcript": {"speaker": "bot" | "caller", "text": "…"}}``:
  what the bot says (written form) and what the recogniser heard

The WebSocket is closed by the bot after its goodbye. Malformed events (bad JSON, bad base64,
oversized frames, unknown kinds) are counted and ignored: they never end the call.
"""

# No `from __future__ import annotations`: FastAPI resolves the route annotations.
import asyncio
import base64
import binascii
import contextlib
import json
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from fastapi import APIRouter, FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse

from voice import SpeechEngineError, prompts
from voice.audio import ulaw_decode, ulaw_encode
from voice.call import CallConfig, CallSession, Speaker
from voice.engines import SpeechEngines, speech_engines
from voice.services import CallServices

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"
MAX_EVENT_CHARS = 64 * 1024  # one JSON event; a 20 ms media event is ~300 characters
MAX_MEDIA_BYTES = 8000  # one second of μ-law in one event is already far more than any gateway sends
INBOUND_EVENTS = frozenset({"connected", "start", "media", "dtmf", "mark", "stop"})
DTMF_KEYS = frozenset("0123456789*#")


@dataclass(frozen=True)
class InboundEvent:
    kind: str
    stream_sid: str = ""
    pcm: np.ndarray | None = None  # media: 8 kHz int16
    digit: str = ""  # dtmf
    name: str = ""  # mark
    call_sid: str = ""  # start
    caller: str = ""  # start: customParameters.from (or caller)


def _text(value: Any, limit: int = 128) -> str:
    return value[:limit] if isinstance(value, str) else ""


def parse_event(raw: str | bytes | None) -> InboundEvent | None:
    """One gateway event, or None when it is malformed, oversized or of an unknown kind."""
    if raw is None or len(raw) > MAX_EVENT_CHARS:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("event") not in INBOUND_EVENTS:
        return None
    kind = data["event"]
    sid = _text(data.get("streamSid"))
    body = data.get(kind)
    body = body if isinstance(body, dict) else {}
    if kind == "media":
        if body.get("track", "inbound") not in ("inbound", "inbound_track"):
            return None
        payload = body.get("payload")
        if not isinstance(payload, str) or not payload or len(payload) > MAX_MEDIA_BYTES * 4 // 3 + 4:
            return None
        try:
            ulaw = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError):
            return None
        return InboundEvent(kind, sid, pcm=ulaw_decode(ulaw)) if ulaw else None
    if kind == "dtmf":
        digit = _text(body.get("digit"), 2)
        return InboundEvent(kind, sid, digit=digit) if digit in DTMF_KEYS else None
    if kind == "mark":
        return InboundEvent(kind, sid, name=_text(body.get("name")))
    if kind == "start":
        params = body.get("customParameters")
        params = params if isinstance(params, dict) else {}
        caller = _text(params.get("from") or params.get("caller") or params.get("From"), 32)
        call_sid = _text(body.get("callSid"))
        return InboundEvent(kind, sid or _text(body.get("streamSid")), call_sid=call_sid, caller=caller)
    return InboundEvent(kind, sid)


def media_event(stream_sid: str, pcm: np.ndarray) -> str:
    payload = base64.b64encode(ulaw_encode(pcm)).decode("ascii")
    return json.dumps({"event": "media", "streamSid": stream_sid, "media": {"payload": payload}})


class PhoneSocket:
    """The bot's side of the media stream (a :class:`voice.call.CallLine`)."""

    def __init__(self, websocket: WebSocket) -> None:
        self.websocket = websocket
        self.stream_sid = ""
        self.closed = False
        self._lock = asyncio.Lock()

    async def _send(self, text: str) -> None:
        if self.closed:
            return
        async with self._lock:
            try:
                await self.websocket.send_text(text)
            except Exception:  # the caller hung up while we were talking
                self.closed = True

    async def _event(self, kind: str, **body: Any) -> None:
        await self._send(json.dumps({"event": kind, "streamSid": self.stream_sid, **body}, ensure_ascii=False))

    async def send_audio(self, frame: np.ndarray) -> None:
        await self._send(media_event(self.stream_sid, frame))

    async def send_mark(self, name: str) -> None:
        await self._event("mark", mark={"name": name})

    async def clear(self) -> None:
        await self._event("clear")

    async def transcript(self, speaker: str, text: str) -> None:
        await self._event("transcript", transcript={"speaker": speaker, "text": text})

    async def hangup(self) -> None:
        if not self.closed:
            self.closed = True
            with contextlib.suppress(Exception):
                await self.websocket.close(1000)


def install_phone(
    app: FastAPI,
    assistant_factory: Any,
    status_lookup_factory: Any,
    fee_engine_factory: Any,
    engines: SpeechEngines | None = None,
) -> None:
    """Adds the phone line to the app: its routes, the engines' load at start-up, their state in ``/ready``."""
    engines = engines or speech_engines()
    app.include_router(build_phone_router(assistant_factory, status_lookup_factory, fee_engine_factory, engines))
    checks = getattr(app.state, "readiness_checks", {})
    app.state.readiness_checks = {**checks, "voice": engines.status}


def build_phone_router(
    assistant_factory: Any, status_lookup_factory: Any, fee_engine_factory: Any, engines: SpeechEngines
) -> APIRouter:
    """``/ws/phone`` (the media stream) and ``/phone`` (the browser phone); the engines load when the app starts."""

    @contextlib.asynccontextmanager
    async def warm_up(app: Any) -> AsyncIterator[None]:
        engines.start()  # in the background: the server answers at once, the first caller does not wait
        yield

    router = APIRouter(lifespan=warm_up)

    @router.websocket("/ws/phone")
    async def phone(websocket: WebSocket) -> None:
        await websocket.accept()
        line = PhoneSocket(websocket)
        session: CallSession | None = None
        ignored = 0
        try:
            while not line.closed:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                event = parse_event(message.get("text") or message.get("bytes"))
                if event is None:
                    ignored += 1
                    continue
                if event.kind == "start" and session is None:
                    line.stream_sid = event.stream_sid or "MZ" + secrets.token_hex(16)
                    session = await _open_call(
                        websocket, line, event, engines, assistant_factory, status_lookup_factory, fee_engine_factory
                    )
                    if session is None:
                        break
                elif session is None:
                    continue  # nothing before the start but "connected"
                elif event.kind == "media" and event.pcm is not None:
                    await session.on_audio(event.pcm)
                elif event.kind == "dtmf":
                    await session.on_dtmf(event.digit)
                elif event.kind == "mark":
                    await session.on_mark(event.name)
                elif event.kind == "stop":
                    break
        except WebSocketDisconnect:
            pass
        finally:
            if ignored:
                logger.info("phone stream %s: ignored %d malformed events", line.stream_sid, ignored)
            if session is not None:
                await session.close()
            await line.hangup()

    @router.get("/phone", include_in_schema=False)
    def phone_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "phone.html", media_type="text/html; charset=utf-8")

    return router


async def _open_call(
    websocket: WebSocket,
    line: PhoneSocket,
    event: InboundEvent,
    engines: SpeechEngines,
    assistant_factory: Any,
    status_lookup_factory: Any,
    fee_engine_factory: Any,
) -> CallSession | None:
    """The call's session; None when the speech engines are missing (the caller has been told, the line closed)."""
    metrics = getattr(websocket.app.state, "metrics", None)
    services = CallServices.build(assistant_factory, status_lookup_factory, fee_engine_factory, metrics)
    # Ready before the greeting: the engines are normally loaded at start-up already, and loading the
    # knowledge core while audio streams would hold the interpreter long enough to stall the line.
    try:
        (recognizer, synthesizer), _ = await asyncio.gather(
            asyncio.to_thread(engines.get), asyncio.to_thread(assistant_factory)
        )
    except SpeechEngineError as error:
        logger.error("phone call %s refused: no speech engines: %s", line.stream_sid, error)
        await _apologise(line, engines, services.helpdesk)
        return None
    session = CallSession(line, services, recognizer, synthesizer, event.call_sid or line.stream_sid, event.caller)
    await session.start()
    return session


async def _apologise(line: PhoneSocket, engines: SpeechEngines, helpdesk: str) -> None:
    """Tells the caller the line is out of order (spoken if the synthesizer works, always in the transcript)."""
    text = prompts.out_of_order(helpdesk)
    synthesizer = engines.state("tts").engine
    if synthesizer is None:
        await line.transcript("bot", text)
    else:
        speaker = Speaker(line, synthesizer, CallConfig().playback_lead_s)
        speaker.play(text, interruptible=False)
        with contextlib.suppress(Exception):
            await speaker.task
    await line.hangup()
