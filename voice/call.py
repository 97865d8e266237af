"""One phone call with the assistant: turn-taking and the dialogue on the voice channel.

A :class:`CallSession` is fed what the telephony gateway sends (caller audio, keypad
digits, marks) and answers through a :class:`CallLine` (bot audio in 20 ms frames,
marks, ``clear``, transcripts, hang-up). :mod:`voice.media_stream` connects it to
the WebSocket.

- Listening: every caller frame goes through the :class:`~voice.endpointing.Endpointer`;
  from the start of speech (with 500 ms of pre-roll) the audio streams into the shared
  recogniser; at the end of the utterance its text is handled.
- Speaking: prompts are synthesised sentence by sentence and sent paced in real time,
  at most ``playback_lead_s`` ahead of the line, so that a barge-in (the caller speaking,
  or pressing a key) stops the prompt at once: no more media, and a ``clear`` event for
  what the gateway still holds.
- Dialogue: a question goes to the same assistant as chat (:class:`voice.services.CallServices`)
  and is answered in at most two short sentences plus the offer to repeat or to send the
  details by text message. Dossier codes and the ownership check are keyed (ending with
  ``#``) or said (the whole code, or only the ten digits that vary: reception date and
  sequence number, the agency part being found from them after the ownership check), read
  back for a yes/no confirmation, then looked up. Silence gets one
  re-prompt; a second silence, three failures in a row, key 0 or asking for a person
  (at any point) hands over: a callback request whose ticket number is read out.
- Grammars: with a recogniser that decodes against a grammar (vosk), a read-back is answered
  under the yes/no grammar and digits are said under the digit grammar; otherwise (viet-asr)
  every utterance is recognised freely.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from bot.dossier_codes import (
    CHECK_DIGITS,
    RECEPTION_DIGITS,
    parse_check_digits,
    parse_dossier_code,
    parse_reception,
    spoken_digits,
)
from bot.gateway import DOSSIER_PHRASES
from voice import SpeechEngineError, prompts
from voice.asr import DIGIT_GRAMMAR, YES_NO_GRAMMAR, Recognizer, RecognizerStream
from voice.audio import FRAME_MS, FRAME_SAMPLES, as_pcm, frames
from voice.endpointing import BARGE_IN, NO_INPUT, SPEECH_END, SPEECH_START, Endpointer, EndpointerConfig
from voice.replies import asks_for_a_person, asks_for_a_text_message, asks_to_repeat, folded, yes_or_no
from voice.services import CallServices, valid_phone
from voice.speech_text import sentences, shorten_for_voice
from voice.tts import Synthesizer

logger = logging.getLogger(__name__)

PRE_ROLL_FRAMES = 25  # 500 ms before the detected start of speech go to the recogniser too
ASR_CHUNK_FRAMES = 5  # audio is handed to the recogniser 100 ms at a time
CODE_DIGITS = 19  # a dossier code keyed without its letter H: 000.00.21.H48-261122-0031
MAX_KEYED_DIGITS = 32
MAX_PENDING_SAMPLES = 8000 * 2  # caller audio not yet cut into frames (a misbehaving gateway cannot grow it)
CONFIRM_STATES = ("confirm_code", "confirm_check")
DIGIT_STATES = ("code", "check", "phone")  # the states whose keys are digits, not menu choices


@dataclass(frozen=True)
class CallConfig:
    no_input_ms: int = 6000  # silence after a prompt before the re-prompt (and, a second time, the handover)
    end_silence_ms: int = 550  # silence that ends an utterance
    max_failures: int = 3
    playback_lead_s: float = 0.2  # how far ahead of the line bot audio is sent
    # What a grammar-decoding recogniser listens for while a read-back waits for its answer, and while
    # digits are awaited (a model of another language is given grammars of its own words).
    yes_no_grammar: tuple[str, ...] = YES_NO_GRAMMAR
    digit_grammar: tuple[str, ...] = DIGIT_GRAMMAR

    @classmethod
    def from_env(cls) -> CallConfig:
        return cls(
            no_input_ms=int(os.environ.get("CITIZENBOT_PHONE_NO_INPUT_MS", cls.no_input_ms)),
            end_silence_ms=int(os.environ.get("CITIZENBOT_PHONE_END_SILENCE_MS", cls.end_silence_ms)),
        )


class CallLine(Protocol):
    """The way back to the caller (a telephony media stream)."""

    async def send_audio(self, frame: np.ndarray) -> None: ...

    async def send_mark(self, name: str) -> None: ...

    async def clear(self) -> None: ...

    async def transcript(self, speaker: str, text: str) -> None: ...

    async def hangup(self) -> None: ...


def keyed_code(digits: str) -> str | None:
    """A dossier code from the keypad: its 19 digits, the letter H left out (or keyed as 4, the H key)."""
    if len(digits) == CODE_DIGITS:
        return parse_dossier_code(f"{digits[:7]}H{digits[7:]}")
    if len(digits) == CODE_DIGITS + 1 and digits[7] == "4":  # "GHI" is on key 4
        return parse_dossier_code(f"{digits[:7]}H{digits[8:]}")
    return None


# ---------------------------------------------------------------- speaking


class Speaker:
    """Plays prompts on the line, paced in real time, interruptible."""

    def __init__(self, line: CallLine, synthesizer: Synthesizer, lead_s: float) -> None:
        self.line, self.synthesizer, self.lead_s = line, synthesizer, lead_s
        self.task: asyncio.Task | None = None
        self.playing_until = 0.0
        self.interruptible = True
        self.count = 0
        self.first_audio_at: float | None = None  # monotonic time of the first frame of the last prompt

    @property
    def speaking(self) -> bool:
        return (self.task is not None and not self.task.done()) or time.monotonic() < self.playing_until

    def play(self, text: str, interruptible: bool = True, then: Callable[[], Awaitable[None]] | None = None) -> None:
        """Starts saying the text (stopping any prompt still playing); ``then`` runs once it has been heard."""
        self.cancel()
        self.count += 1
        self.interruptible = interruptible
        self.first_audio_at = None
        self.task = asyncio.create_task(self._play(text, f"prompt-{self.count}", then))

    def cancel(self) -> bool:
        """Stops the prompt; True if one was playing."""
        was = self.speaking
        if self.task is not None and not self.task.done():
            self.task.cancel()
        self.task = None
        self.playing_until = 0.0
        return was

    async def _synthesize(self, sentence: str) -> np.ndarray:
        try:
            return await asyncio.to_thread(self.synthesizer.synthesize, sentence)
        except Exception:  # a sentence the engine fails on is skipped, never the whole call
            logger.exception("speech synthesis failed for %r", sentence)
            return np.zeros(0, dtype=np.int16)

    async def _play(self, text: str, mark: str, then: Callable[[], Awaitable[None]] | None) -> None:
        await self.line.transcript("bot", text)
        parts = sentences(text) or [text]
        pending = [asyncio.create_task(self._synthesize(part)) for part in parts]
        try:
            clock: float | None = None  # monotonic time at which the first frame plays
            sent = 0.0  # seconds of audio sent
            for job in pending:
                pcm = await job
                for frame in frames(pcm):
                    now = time.monotonic()
                    if clock is None or now > clock + sent:  # first frame, or synthesis fell behind the line
                        clock = now - sent
                    ahead = clock + sent - now
                    if ahead > self.lead_s:
                        await asyncio.sleep(ahead - self.lead_s)
                    await self.line.send_audio(frame)
                    if self.first_audio_at is None:
                        self.first_audio_at = time.monotonic()
                    sent += FRAME_MS / 1000
            await self.line.send_mark(mark)
            if clock is not None:
                self.playing_until = clock + sent
                await asyncio.sleep(max(0.0, self.playing_until - time.monotonic()))
        finally:
            for job in pending:
                job.cancel()
        if then is not None:
            await then()


# ---------------------------------------------------------------- listening


@dataclass(frozen=True)
class GrammarSwitch:
    grammar: tuple[str, ...] | None


class Utterances:
    """Streams each utterance into one recogniser stream; audio is fed in order by a single worker.

    ``grammar()`` is asked at the start of each utterance what to recognise it against; a change
    reaches the stream before that utterance's first audio, never in the middle of one.
    """

    def __init__(
        self, stream: RecognizerStream, grammar: Callable[[], tuple[str, ...] | None] = lambda: None
    ) -> None:
        self.stream = stream
        self.grammar = grammar
        self.queue: asyncio.Queue[np.ndarray | GrammarSwitch | asyncio.Future[str] | None] = asyncio.Queue()
        self.chunk: list[np.ndarray] = []
        self.open = False  # audio of an utterance has been fed and not finished yet
        self.requested: tuple[str, ...] | None = None
        self.worker = asyncio.create_task(self._work())

    def feed(self, frame: np.ndarray) -> None:
        if not self.open:
            self.open = True
            if (wanted := self.grammar()) != self.requested:
                self.requested = wanted
                self.queue.put_nowait(GrammarSwitch(wanted))
        self.chunk.append(frame)
        if len(self.chunk) >= ASR_CHUNK_FRAMES:
            self.queue.put_nowait(np.concatenate(self.chunk))
            self.chunk = []

    def finish(self) -> asyncio.Future[str]:
        """The text of the utterance fed so far (the next one starts after it)."""
        if self.chunk:
            self.queue.put_nowait(np.concatenate(self.chunk))
            self.chunk = []
        self.open = False
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self.queue.put_nowait(done)
        return done

    def _use_grammar(self, grammar: tuple[str, ...] | None) -> None:
        try:
            self.stream.use_grammar(grammar)
        except SpeechEngineError as error:  # e.g. a model that knows none of the grammar's words
            logger.warning("recognising freely instead of with a grammar: %s", error)
            self.stream.use_grammar(None)

    async def _work(self) -> None:
        while (item := await self.queue.get()) is not None:
            try:
                if isinstance(item, np.ndarray):
                    await asyncio.to_thread(self.stream.accept, item)
                elif isinstance(item, GrammarSwitch):
                    await asyncio.to_thread(self._use_grammar, item.grammar)
                else:
                    item.set_result(await asyncio.to_thread(self.stream.result))
            except Exception as error:  # the engine failing on one utterance must not end the call
                logger.exception("speech recognition failed")
                if isinstance(item, asyncio.Future) and not item.done():
                    item.set_exception(error)

    async def close(self) -> None:
        self.queue.put_nowait(None)
        with contextlib.suppress(Exception):
            await self.worker
        await asyncio.to_thread(self.stream.close)


# ---------------------------------------------------------------- the call


@dataclass
class Dialogue:
    state: str = "menu"  # menu | code | confirm_code | check | confirm_check | choice | phone | closing
    prompt: str = prompts.MENU  # what the current state asks (said again on a re-prompt)
    code: str | None = None
    reception: str | None = None  # a code said by its date and sequence part only ('261122-0031')
    said_digits: str = ""  # digits of a code part said so far, when the caller paused between its groups
    check: str | None = None
    conversation_id: str | None = None
    last_answer: str = ""  # the full written answer, for the text message
    last_spoken: str = ""  # what was said, for "nhắc lại"
    choices: list[str] = field(default_factory=list)
    choice_question: str = ""
    failures: int = 0
    silences: int = 0
    heard: list[str] = field(default_factory=list)


class CallSession:
    def __init__(
        self,
        line: CallLine,
        services: CallServices,
        recognizer: Recognizer,
        synthesizer: Synthesizer,
        call_id: str,
        caller: str | None = None,
        config: CallConfig | None = None,
    ) -> None:
        self.config = config or CallConfig.from_env()
        self.line, self.services, self.call_id = line, services, call_id
        self.caller = valid_phone(caller)
        self.speaker = Speaker(line, synthesizer, self.config.playback_lead_s)
        self.endpointer = Endpointer(
            EndpointerConfig(end_silence_ms=self.config.end_silence_ms, no_input_ms=self.config.no_input_ms)
        )
        self.decodes_grammar = recognizer.decodes_grammar
        self.utterances = Utterances(recognizer.stream(), self.grammar)
        self.pre_roll: deque[np.ndarray] = deque(maxlen=PRE_ROLL_FRAMES)
        self.pending = np.zeros(0, dtype=np.int16)
        self.keys = ""
        self.dialogue = Dialogue()
        self.busy = False  # a turn is being answered
        self.turns: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        self.turn_worker = asyncio.create_task(self._take_turns())
        self.closed = False
        self.latencies: list[float] = []  # seconds from the end of the caller's speech to the first bot audio
        self._speech_ended_at: float | None = None
        self.tasks: set[asyncio.Future] = set()

    # ---- what the gateway sends

    async def start(self) -> None:
        self.say(prompts.GREETING, prompt=prompts.MENU)

    async def on_audio(self, pcm: np.ndarray) -> None:
        self.pending = np.concatenate([self.pending, as_pcm(pcm)])[-MAX_PENDING_SAMPLES:]
        whole = len(self.pending) // FRAME_SAMPLES * FRAME_SAMPLES
        chunk, self.pending = self.pending[:whole], self.pending[whole:]
        for frame in frames(chunk, pad=False):
            self._frame(frame)

    def _frame(self, frame: np.ndarray) -> None:
        endpointer = self.endpointer
        endpointer.bot_speaking = self.speaker.speaking and self.speaker.interruptible
        was_in_speech = endpointer.in_speech
        events = endpointer.process(frame)
        for event in events:
            if event.kind == SPEECH_START:
                for early in self.pre_roll:  # the frames before the detection
                    self.utterances.feed(early)
            elif event.kind == BARGE_IN:
                self._barge_in()
        if was_in_speech and endpointer.in_speech and endpointer.bot_speaking:
            # A prompt began while the caller was already talking: the caller keeps the floor.
            self._barge_in()
        if was_in_speech or endpointer.in_speech:
            self.utterances.feed(frame)
        for event in events:
            if event.kind == SPEECH_END:
                late_ms = event.detected_ms - event.at_ms
                self._speech_ended_at = time.monotonic() - late_ms / 1000
                self.turns.put_nowait(("speech", self.utterances.finish()))
            elif event.kind == NO_INPUT and not self.speaker.speaking and not self.busy and self.turns.empty():
                self.turns.put_nowait(("silence", None))
        self.pre_roll.append(frame)

    async def on_dtmf(self, digit: str) -> None:
        if digit not in "0123456789*#" or len(digit) != 1:
            return
        if self.speaker.speaking and self.speaker.interruptible:
            self._barge_in()
        self.endpointer.start_listening()
        if self.dialogue.state in DIGIT_STATES:
            if digit == "#":
                keys, self.keys = self.keys, ""
                self.turns.put_nowait(("keys", keys))
            elif digit == "*":
                self.keys = ""
            elif len(self.keys) < MAX_KEYED_DIGITS:
                self.keys += digit
            return
        self.turns.put_nowait(("key", digit))

    async def on_mark(self, name: str) -> None:
        logger.debug("call %s: the gateway played %s", self.call_id, name)

    async def close(self) -> None:
        self.closed = True
        self.speaker.cancel()
        self.turn_worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.turn_worker
        await self.utterances.close()

    def grammar(self) -> tuple[str, ...] | None:
        """What the recogniser listens for now: a read-back's yes or no, or digits, when it can decode against
        a grammar. A recogniser that could only filter its free text keeps it (it may hold a request for a person).
        """
        if not self.decodes_grammar:
            return None
        if self.dialogue.state in CONFIRM_STATES:
            return self.config.yes_no_grammar
        if self.dialogue.state in DIGIT_STATES:
            return self.config.digit_grammar
        return None

    # ---- turn-taking

    def background(self, job: Awaitable[None]) -> None:
        task = asyncio.ensure_future(job)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    def _barge_in(self) -> None:
        if self.speaker.cancel():
            self.background(self.line.clear())

    def say(self, text: str, prompt: str | None = None, interruptible: bool = True) -> None:
        """Says the text; ``prompt`` (what the caller is now asked) is kept for re-prompts and repeats."""
        if prompt is not None:
            self.dialogue.prompt = prompt
        self.dialogue.last_spoken = text
        self.speaker.play(text, interruptible, then=self._listen)

    def hang_up_after(self, text: str) -> None:
        self.dialogue.state = "closing"
        self.speaker.play(text, interruptible=False, then=self.line.hangup)

    async def _listen(self) -> None:
        self.endpointer.start_listening()

    async def _take_turns(self) -> None:
        while True:
            kind, value = await self.turns.get()
            if self.dialogue.state == "closing":
                continue
            self.busy = True
            try:
                if kind == "speech":
                    await self._speech(value)
                elif kind == "silence":
                    await self._silence()
                elif kind == "key":
                    await self._key(value)
                elif kind == "keys":
                    await self._keys(value)
            except Exception:
                logger.exception("call %s: turn failed", self.call_id)
                self.say(f"{prompts.THINKING_FAILED} {self.dialogue.prompt}")
            finally:
                self.busy = False
            if kind == "speech" and self._speech_ended_at is not None:
                self.background(self._measure(self._speech_ended_at))
            self._speech_ended_at = None

    async def _measure(self, ended_at: float) -> None:
        for _ in range(150):  # the first frame of the reply goes out within a few hundred ms
            if self.speaker.first_audio_at is not None:
                self.latencies.append(self.speaker.first_audio_at - ended_at)
                return
            await asyncio.sleep(0.02)

    async def _speech(self, result: asyncio.Future[str]) -> None:
        try:
            text = await result
        except Exception:
            text = ""
        if text:
            await self.line.transcript("caller", text)
            self.dialogue.heard.append(text)
            self.dialogue.silences = 0
        await self._heard(text)

    async def _silence(self) -> None:
        d = self.dialogue
        d.silences += 1
        d.said_digits = ""  # the prompt said again asks for the whole code
        if d.silences >= 2:
            await self._hand_over(prompts.CANNOT_HELP)
        else:
            self.say(f"{prompts.ARE_YOU_THERE} {d.prompt}")

    async def _fail(self, why: str) -> None:
        d = self.dialogue
        d.failures += 1
        if d.failures >= self.config.max_failures:
            await self._hand_over(prompts.CANNOT_HELP)
        else:
            self.say(f"{why} {d.prompt}")

    def _succeeded(self) -> None:
        self.dialogue.failures = 0
        self.dialogue.silences = 0

    # ---- the dialogue

    async def _heard(self, text: str) -> None:
        d = self.dialogue
        if not text:
            await self._fail(prompts.NOT_HEARD)
            return
        if d.state != "phone" and asks_for_a_person(text):  # like key 0, wherever the call is
            await self._hand_over(prompts.HANDING_OVER)
            return
        if d.state in CONFIRM_STATES:
            answer = yes_or_no(text)
            if answer is None:
                await self._fail(prompts.NOT_YES_NO)
            else:
                await self._confirmed(answer)
            return
        if d.state == "code":
            digits = d.said_digits + spoken_digits(text)
            if code := parse_dossier_code(text):
                await self._got_code(code)
            elif reception := parse_reception(digits):
                await self._got_reception(reception)
            elif digits and len(digits) < RECEPTION_DIGITS and not d.said_digits:
                # The date group said, then a pause longer than an utterance's end: listen for the sequence.
                d.said_digits = digits
                self.endpointer.start_listening()
            else:
                d.said_digits = ""
                await self._fail(prompts.BAD_CODE)
            return
        if d.state == "check":
            # Said in reply to "the 4 digits": a word the recogniser slips between them ("năm một hai được
            # không") does not split them; the read-back catches a wrong one.
            digits = spoken_digits(text)
            check = parse_check_digits(text) or (digits if len(digits) == CHECK_DIGITS else None)
            await (self._got_check(check) if check else self._fail(prompts.BAD_CHECK))
            return
        if d.state == "phone":
            await self._got_phone(spoken_digits(text))
            return
        # menu or choice: a new request
        if asks_to_repeat(text):
            self._repeat()
        elif asks_for_a_text_message(text):
            await self._send_sms()
        elif (code := parse_dossier_code(text)) is not None:
            await self._got_code(code)
        elif any(p in folded(text) for p in DOSSIER_PHRASES):
            self._succeeded()
            self._enter("code", prompts.ASK_CODE)
        else:
            await self._ask(text)

    async def _key(self, digit: str) -> None:
        d = self.dialogue
        if digit == "0":
            await self._hand_over(prompts.HANDING_OVER)
        elif digit == "*":
            self._repeat()
        elif d.state in CONFIRM_STATES and digit in "12":
            await self._confirmed(digit == "1")
        elif d.state == "choice" and digit.isdigit() and 1 <= int(digit) <= len(d.choices):
            await self._ask(d.choice_question, d.choices[int(digit) - 1])
        elif d.state in ("menu", "choice") and digit == "1":
            self._succeeded()
            self._enter("code", prompts.ASK_CODE)
        elif d.state in ("menu", "choice") and digit == "2":
            await self._send_sms()
        else:
            self.say(f"{prompts.UNKNOWN_KEY} {d.prompt}")

    async def _keys(self, digits: str) -> None:
        d = self.dialogue
        if d.state == "code":
            code = keyed_code(digits)
            await (self._got_code(code) if code else self._fail(prompts.BAD_CODE))
        elif d.state == "check":
            await (self._got_check(digits) if len(digits) == 4 else self._fail(prompts.BAD_CHECK))
        elif d.state == "phone":
            await self._got_phone(digits)

    def _enter(self, state: str, prompt: str, preface: str = "") -> None:
        self.dialogue.state = state
        self.dialogue.said_digits = ""
        self.keys = ""
        self.say(f"{preface} {prompt}".strip(), prompt=prompt)

    def _repeat(self) -> None:
        self.say(self.dialogue.last_spoken or self.dialogue.prompt)

    async def _got_code(self, code: str) -> None:
        self._succeeded()
        self.dialogue.code, self.dialogue.reception = code, None
        self._enter("confirm_code", prompts.confirm_code(code))

    async def _got_reception(self, reception: str) -> None:
        self._succeeded()
        self.dialogue.code, self.dialogue.reception = None, reception
        self._enter("confirm_code", prompts.confirm_reception(reception))

    async def _got_check(self, check: str) -> None:
        self._succeeded()
        self.dialogue.check = check
        self._enter("confirm_check", prompts.confirm_check(check))

    async def _confirmed(self, yes: bool) -> None:
        d = self.dialogue
        self._succeeded()
        if d.state == "confirm_code":
            self._enter("check", prompts.ASK_CHECK) if yes else self._enter("code", prompts.ASK_CODE)
            return
        if not yes:
            self._enter("check", prompts.ASK_CHECK)
            return
        if d.reception is not None:
            reply = await self.services.dossier_status_received(d.reception, d.check or "", self.call_id)
        else:
            reply = await self.services.dossier_status(d.code or "", d.check or "", self.call_id)
        d.last_answer = reply.text
        spoken = shorten_for_voice(reply.text)
        if reply.outcome == "not_verified":
            self._enter("check", prompts.ASK_CHECK, preface=spoken)
        elif reply.outcome == "invalid_code":
            self._enter("code", prompts.ASK_CODE, preface=spoken)
        else:
            d.state = "menu"
            self.say(f"{spoken} {prompts.ANSWER_OFFER} {prompts.ANYTHING_ELSE}", prompt=prompts.MENU)

    async def _ask(self, question: str, procedure_code: str | None = None) -> None:
        d = self.dialogue
        reply = await self.services.ask(d.conversation_id, question, procedure_code)
        d.conversation_id = reply.conversation_id
        d.last_answer = reply.text
        if reply.kind == "handover":
            await self._hand_over(prompts.HANDING_OVER)
            return
        if reply.kind in ("unknown", "abstain", "invalid"):
            d.failures += 1
            if d.failures >= self.config.max_failures:
                await self._hand_over(shorten_for_voice(reply.text, max_sentences=1))
                return
        else:
            d.failures = 0
        if reply.buttons and reply.kind == "clarify":
            d.state, d.choice_question = "choice", question
            d.choices = [b.procedure_code for b in reply.buttons[:3]]
            names = [shorten_for_voice(b.label, max_sentences=1, max_words=14) for b in reply.buttons[:3]]
            self.say(prompts.choices(names), prompt=prompts.choices(names))
            return
        d.state = "menu"
        self.say(f"{shorten_for_voice(reply.text)} {prompts.ANSWER_OFFER}", prompt=prompts.MENU)

    async def _send_sms(self) -> None:
        d = self.dialogue
        if not d.last_answer:
            self.say(f"{prompts.NOTHING_TO_SEND} {d.prompt}")
        elif self.caller is None:
            self.say(f"{prompts.NO_NUMBER_FOR_SMS} {d.prompt}")
        else:
            await self.services.send_sms(self.caller, d.last_answer, d.conversation_id or self.call_id)
            d.state = "menu"
            self.say(prompts.SMS_QUEUED, prompt=prompts.MENU)

    async def _hand_over(self, preface: str) -> None:
        if self.caller is None:
            self._enter("phone", prompts.ASK_PHONE, preface=preface)
            return
        await self._create_ticket(self.caller, preface)

    async def _got_phone(self, digits: str) -> None:
        phone = valid_phone(digits)
        if phone is None:
            self.hang_up_after(prompts.handover_failed(self.services.helpdesk))
            return
        self.caller = phone
        await self._create_ticket(phone, "")

    async def _create_ticket(self, phone: str, preface: str) -> None:
        heard = " / ".join(self.dialogue.heard[-3:])
        question = (
            f"Cuộc gọi tổng đài cần cán bộ hỗ trợ. Người gọi đã nói: {heard}"
            if heard
            else ("Cuộc gọi tổng đài cần cán bộ hỗ trợ.")
        )
        try:
            conversation = self.dialogue.conversation_id or self.call_id
            ticket = await self.services.request_callback(phone, question, conversation)
        except Exception:
            logger.exception("call %s: callback request failed", self.call_id)
            self.hang_up_after(prompts.handover_failed(self.services.helpdesk))
            return
        self.hang_up_after(f"{preface} {prompts.ticket(ticket)}".strip())
