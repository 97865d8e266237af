"""A phone-line simulator: dials ``/ws/phone`` like a telephony gateway and plays a caller script.

A script is a list of steps (a JSON-lines file, or a YAML list), each one of:

- ``{"say": "đăng ký khai sinh cần giấy tờ gì"}`` — text spoken by the synthesizer; with
  ``"voice": "vi-vn-x-south"`` in another espeak-ng voice than the configured one
- ``{"wav": "path/to/caller.wav"}`` — a recording (any rate, resampled to 8 kHz)
- ``{"dtmf": "1"}`` — keypad digits, 150 ms apart (``"0000021482611220031#"``)
- ``{"silence": 2.5}`` — seconds of silence
- ``{"wait": "bot"}`` — until the bot has spoken and gone quiet (``"timeout"`` seconds, default 60)
- ``"after_bot_starts": 1.0`` added to a say/wav/dtmf step — wait until the bot starts its next
  prompt, then that many seconds, then speak over it (a barge-in)
- ``{"raw": "…"}`` — a text (or bytes) frame sent as is, for testing a gateway's bad input
- ``{"hangup": true}``

Audio goes out paced in real time in 20 ms μ-law frames (silence between steps, as a real line
does). The bot's audio is played out like a gateway would (``clear`` drops what has not been
played, marks are echoed when played) and can be written to a WAV; the transcript has both
sides: what the bot said, what the caller sent and what the bot's recogniser heard. Each bot reply
to caller speech is timed from the end of that speech to the reply's first audio frame.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import websockets

from voice.audio import FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, frames, read_wav_8k, ulaw_decode, ulaw_encode, write_wav
from voice.endpointing import BARGE_IN, Endpointer, level_dbfs
from voice.tts import Synthesizer, load_synthesizer

DEFAULT_URL = "ws://127.0.0.1:8000/ws/phone"
FRAME_S = FRAME_MS / 1000
SPEECH_DBFS = -40.0  # a caller frame louder than this is speech (for timing the end of what was said)
DTMF_GAP_S = 0.15
QUIET_S = 0.6  # the bot has gone quiet once nothing has played for this long


@dataclass
class Line:
    at: float  # seconds since the call started
    side: str  # bot | caller | heard | event
    text: str


@dataclass(frozen=True)
class Reply:
    latency: float  # end of the caller's speech → the first audio frame of the bot's reply
    text: str  # what the reply says (its transcript), e.g. an answer or a "chưa nghe rõ" re-prompt


@dataclass
class CallRecord:
    lines: list[Line] = field(default_factory=list)
    bot_audio: list[tuple[float, np.ndarray]] = field(default_factory=list)  # (play time, frame)
    replies: list[Reply] = field(default_factory=list)
    barge_ins: list[float] = field(default_factory=list)  # caller speech onset → clear, during a prompt
    clears: list[float] = field(default_factory=list)
    media_after_clear: int = 0  # bot frames of a prompt received after its clear (should be none)
    hung_up_by_bot: bool = False
    connection_lost: bool = False  # the line dropped without a close (e.g. the server process died)
    duration: float = 0.0

    @property
    def latencies(self) -> list[float]:
        return [reply.latency for reply in self.replies]

    def said(self, side: str) -> list[str]:
        return [line.text for line in self.lines if line.side == side]

    def text(self, side: str = "bot") -> str:
        return " ".join(self.said(side))

    def transcript(self) -> str:
        labels = {"bot": "bot   ", "caller": "caller", "heard": "  (ASR)", "event": "  ---"}
        return "\n".join(f"[{line.at:7.2f}] {labels.get(line.side, line.side)}: {line.text}" for line in self.lines)

    def audio(self) -> np.ndarray:
        """The bot's audio as the caller heard it, on the call's timeline."""
        if not self.bot_audio:
            return np.zeros(0, dtype=np.int16)
        end = max(t for t, _ in self.bot_audio) + FRAME_S
        out = np.zeros(int(end * SAMPLE_RATE) + FRAME_SAMPLES, dtype=np.int16)
        for t, frame in self.bot_audio:
            start = round(t * SAMPLE_RATE)
            out[start : start + len(frame)] = frame
        return out


def load_script(path: str | Path) -> list[dict[str, Any]]:
    """Steps from a JSON-lines file (one object a line, # comments allowed) or a YAML list."""
    path = Path(path)
    text = path.read_text("utf-8")
    if path.suffix in (".yml", ".yaml"):
        import yaml

        steps = yaml.safe_load(text) or []
    else:
        steps = [json.loads(line) for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not isinstance(steps, list) or not all(isinstance(s, dict) for s in steps):
        raise ValueError(f"{path}: a script is a list of steps (objects)")
    return steps


class Caller:
    def __init__(self, url: str, synthesizer: Synthesizer | None, caller_number: str, base_dir: Path) -> None:
        self.url, self.synthesizer, self.caller_number, self.base_dir = url, synthesizer, caller_number, base_dir
        self.record = CallRecord()
        self.outgoing: deque[np.ndarray] = deque()  # caller frames waiting for their 20 ms slot
        self.stream_sid = "MZ" + secrets.token_hex(16)
        self.t0 = 0.0
        self.play_end = 0.0  # call time at which the bot's audio received so far has all played
        self.prompts = 0  # bot prompts heard so far (counted at their first audio frame)
        self.prompts_before_input = 0  # … when the last input step began
        self.new_prompt = False  # a prompt's transcript came, its audio not yet
        self.bot_text = ""  # the transcript of the bot's latest prompt
        self.last_speech_end: float | None = None  # call time of the caller's last speech frame, until answered
        self.onsets: list[float] = []  # call times at which the caller started an utterance
        self.cleared = False  # a clear came and no new prompt since
        self.closed = asyncio.Event()
        self.socket: Any = None

    def now(self) -> float:
        return time.monotonic() - self.t0

    def log(self, side: str, text: str) -> None:
        self.record.lines.append(Line(round(self.now(), 2), side, text))

    async def send(self, event: dict[str, Any]) -> None:
        if not self.closed.is_set():
            with contextlib.suppress(websockets.ConnectionClosed):
                await self.socket.send(json.dumps({**event, "streamSid": self.stream_sid}))

    # ---- the two directions

    async def pump(self) -> None:
        """Sends a caller frame every 20 ms: the script's audio, else silence."""
        silent = np.zeros(FRAME_SAMPLES, dtype=np.int16)
        tick = time.monotonic()
        while not self.closed.is_set():
            frame = self.outgoing.popleft() if self.outgoing else silent
            if frame is not silent and level_dbfs(frame) > SPEECH_DBFS:
                self.last_speech_end = self.now() + FRAME_S
            payload = base64.b64encode(ulaw_encode(frame)).decode("ascii")
            await self.send({"event": "media", "media": {"track": "inbound", "payload": payload}})
            tick += FRAME_S
            await asyncio.sleep(max(0.0, tick - time.monotonic()))

    async def listen(self) -> None:
        try:
            async for raw in self.socket:
                self.received(json.loads(raw))
        except websockets.ConnectionClosedError:  # no closing handshake: the server went away, not a hang-up
            self.record.connection_lost = True
            self.log("event", "connection lost (dropped without a close)")
        except (websockets.ConnectionClosed, ValueError):
            pass
        finally:
            self.record.hung_up_by_bot = not self.closed.is_set() and not self.record.connection_lost
            self.closed.set()

    def received(self, event: dict[str, Any]) -> None:
        kind, now = event.get("event"), self.now()
        if kind == "media":
            try:
                pcm = ulaw_decode(base64.b64decode(event["media"]["payload"]))
            except (KeyError, TypeError, binascii.Error):
                return
            if self.new_prompt:
                self.new_prompt = False
                self.prompts += 1
            if now >= self.play_end:  # the line was idle: this frame starts a new stretch of bot audio
                self.play_end = now
                if self.last_speech_end is not None:
                    self.record.replies.append(Reply(now - self.last_speech_end, self.bot_text))
                    self.last_speech_end = None
            if self.cleared:
                self.record.media_after_clear += 1
            self.record.bot_audio.append((self.play_end, pcm))
            self.play_end += len(pcm) / SAMPLE_RATE
        elif kind == "clear":
            self.record.clears.append(now)
            self.cleared = True
            self.record.bot_audio = [(t, f) for t, f in self.record.bot_audio if t < now]
            self.play_end = now
            if self.onsets:
                self.record.barge_ins.append(now - self.onsets[-1])
            self.log("event", "clear (bot stopped)")
        elif kind == "mark":
            name = str((event.get("mark") or {}).get("name", ""))
            delay = max(0.0, self.play_end - now)
            asyncio.get_running_loop().call_later(
                delay, lambda: asyncio.ensure_future(self.send({"event": "mark", "mark": {"name": name}}))
            )
        elif kind == "transcript":
            body = event.get("transcript") or {}
            if body.get("speaker") == "bot":
                self.cleared = False  # a new prompt
                self.new_prompt = True
                self.bot_text = str(body.get("text", ""))
            self.log("bot" if body.get("speaker") == "bot" else "heard", str(body.get("text", "")))

    # ---- the script

    async def speak(self, pcm: np.ndarray) -> None:
        chunk = list(frames(pcm))
        # The onset as the bot's endpointer finds barge-in speech on the line (after a second of line silence,
        # so that its noise floor is the line's); the pump sends the queue's head at its next tick.
        line = ulaw_decode(ulaw_encode(np.concatenate([np.zeros(SAMPLE_RATE, dtype=np.int16), pcm])))
        onset_ms = next((e.at_ms for e in Endpointer(bot_speaking=True).feed(line) if e.kind == BARGE_IN), 1000)
        self.onsets.append(self.now() + onset_ms / 1000 - 1.0)
        self.outgoing.extend(chunk)
        while self.outgoing and not self.closed.is_set():
            await asyncio.sleep(FRAME_S)

    async def bot_spoke(self, timeout: float) -> None:
        """Until a prompt has started since the last input step began."""
        deadline = time.monotonic() + timeout
        while self.prompts <= self.prompts_before_input and not self.closed.is_set() and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    async def wait_bot(self, timeout: float) -> None:
        """Until the bot has said something and nothing more has played for QUIET_S."""
        deadline = time.monotonic() + timeout
        await self.bot_spoke(timeout)
        while not self.closed.is_set() and time.monotonic() < deadline:
            if self.now() > self.play_end + QUIET_S:
                return
            await asyncio.sleep(0.05)

    async def step(self, step: dict[str, Any]) -> None:
        if "after_bot_starts" in step:
            await self.bot_spoke(float(step.get("timeout", 60)))
            await asyncio.sleep(float(step["after_bot_starts"]))
        if any(key in step for key in ("say", "wav", "dtmf")):
            self.prompts_before_input = self.prompts
        if "say" in step:
            text = str(step["say"])
            if "voice" in step:
                synthesizer = await asyncio.to_thread(load_synthesizer, str(step["voice"]))
            else:
                if self.synthesizer is None:
                    self.synthesizer = await asyncio.to_thread(load_synthesizer)
                synthesizer = self.synthesizer
            pcm = await asyncio.to_thread(synthesizer.synthesize, text)
            self.log("caller", f"«{text}»")
            await self.speak(pcm)
        elif "wav" in step:
            path = Path(step["wav"])
            path = path if path.is_absolute() else self.base_dir / path
            self.log("caller", f"[{path.name}]")
            await self.speak(await asyncio.to_thread(read_wav_8k, path))
        elif "dtmf" in step:
            digits = str(step["dtmf"])
            self.log("caller", f"phím {digits}")
            for digit in digits:
                await self.send({"event": "dtmf", "dtmf": {"track": "inbound_track", "digit": digit}})
                await asyncio.sleep(DTMF_GAP_S)
        elif "silence" in step:
            with contextlib.suppress(TimeoutError):  # the bot may hang up meanwhile
                await asyncio.wait_for(self.closed.wait(), float(step["silence"]))
        elif "raw" in step:  # anything at all, as a misbehaving gateway would send it
            if not self.closed.is_set():
                with contextlib.suppress(websockets.ConnectionClosed):
                    await self.socket.send(step["raw"])
        elif step.get("wait") == "bot":
            await self.wait_bot(float(step.get("timeout", 60)))
        elif step.get("hangup"):
            self.closed.set()

    async def run(self, steps: list[dict[str, Any]], max_seconds: float) -> CallRecord:
        async with websockets.connect(self.url, max_size=2**20) as socket:
            self.socket = socket
            self.t0 = time.monotonic()
            await self.send({"event": "connected", "protocol": "Call", "version": "1.0.0"})
            start = {
                "streamSid": self.stream_sid,
                "callSid": "CA" + secrets.token_hex(16),
                "tracks": ["inbound"],
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": SAMPLE_RATE, "channels": 1},
                "customParameters": {"from": self.caller_number} if self.caller_number else {},
            }
            await self.send({"event": "start", "sequenceNumber": "1", "start": start})
            tasks = [asyncio.create_task(self.pump()), asyncio.create_task(self.listen())]

            async def script() -> None:
                for step in steps:
                    if self.closed.is_set():
                        return
                    await self.step(step)
                await self.wait_bot(30)

            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(script(), max_seconds)
            if not self.closed.is_set():
                await self.send({"event": "stop", "stop": {}})
                self.closed.set()
            self.record.duration = round(self.now(), 2)
            await socket.close()
            for task in tasks:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        return self.record


async def place_call(
    steps: list[dict[str, Any]],
    url: str = DEFAULT_URL,
    caller_number: str = "0905111201",
    synthesizer: Synthesizer | None = None,
    max_seconds: float = 180.0,
    base_dir: Path | None = None,
) -> CallRecord:
    """Dials the bot, plays the steps in real time and returns what happened."""
    caller = Caller(url, synthesizer, caller_number, base_dir or Path.cwd())
    return await caller.run(steps, max_seconds)


def run_call(script: Path, url: str, record: Path | None, caller_number: str, max_seconds: float) -> CallRecord:
    """The ``citizenbot call`` command: prints the timed transcript, writes the bot's audio."""
    steps = load_script(script)
    result = asyncio.run(place_call(steps, url, caller_number, None, max_seconds, script.parent))
    print(result.transcript())
    if result.connection_lost:
        ended = "connection lost"
    else:
        ended = "bot hung up" if result.hung_up_by_bot else "caller hung up"
    print(f"--- {result.duration:.1f} s, {ended}")
    if result.latencies:
        print("voice-to-voice latency: " + ", ".join(f"{x:.2f} s" for x in result.latencies))
    if result.barge_ins:
        print("barge-in (caller speech → clear): " + ", ".join(f"{x * 1000:.0f} ms" for x in result.barge_ins))
    if record is not None:
        write_wav(record, result.audio())
        print(f"bot audio → {record}")
    return result
