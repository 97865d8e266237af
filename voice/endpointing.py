"""Turn-taking on 20 ms frames of 8 kHz PCM: when the caller starts and stops speaking.

An energy detector against the line's noise floor (the quietest frame of the last
``noise_window_ms``, so a steady hum or hiss is never taken for speech), with hysteresis:

- ``speech_start``: ``start_ms`` of consecutive speech frames (reported at the first of them);
- ``speech_end``: ``end_silence_ms`` of non-speech after speech (or ``max_utterance_ms`` reached);
- ``barge_in``: while the bot is speaking, ``barge_in_ms`` of speech ``barge_in_margin_db`` louder
  than the normal threshold (so line echo of the prompt does not interrupt it);
- ``no_input``: ``no_input_ms`` since listening started without any speech.

Pure numpy, one :class:`Endpointer` per call.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np

from voice.audio import FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, as_pcm, frames

SPEECH_START = "speech_start"
SPEECH_END = "speech_end"
BARGE_IN = "barge_in"
NO_INPUT = "no_input"


@dataclass(frozen=True)
class EndpointerConfig:
    start_ms: int = 100
    end_silence_ms: int = 700
    barge_in_ms: int = 140
    margin_db: float = 12.0  # above the noise floor
    barge_in_margin_db: float = 6.0  # further margin while the bot is speaking
    min_speech_dbfs: float = -48.0  # never speech below this, however quiet the line
    noise_window_ms: int = 2000
    no_input_ms: int | None = 6000
    max_utterance_ms: int = 20000


@dataclass(frozen=True)
class EndpointEvent:
    kind: str
    at_ms: int  # stream time the event refers to (for speech_start: the first speech frame)
    detected_ms: int  # stream time at which it was detected (end of the deciding frame)
    speech_ms: int = 0  # for speech_end: the utterance's length up to its last speech frame


def level_dbfs(frame: np.ndarray) -> float:
    """RMS level of a frame in dB relative to full scale (a full-scale square wave is 0 dBFS)."""
    samples = as_pcm(frame).astype(np.float64)
    power = float(np.mean(samples * samples)) if len(samples) else 0.0
    return 10.0 * np.log10(power / 32768.0**2 + 1e-12)


@dataclass
class Endpointer:
    config: EndpointerConfig = field(default_factory=EndpointerConfig)
    bot_speaking: bool = False

    def __post_init__(self) -> None:
        self._levels: deque[float] = deque(maxlen=max(1, self.config.noise_window_ms // FRAME_MS))
        self.now_ms = 0
        self.in_speech = False
        self._run_ms = 0  # consecutive speech frames (before a start)
        self._silence_ms = 0  # consecutive non-speech frames (inside an utterance)
        self._onset_ms = 0
        self._last_speech_ms = 0
        self._listening_since = 0
        self._no_input_sent = False

    def start_listening(self) -> None:
        """(Re)starts the no-input timer, e.g. when the bot has finished its prompt."""
        self._listening_since = self.now_ms
        self._no_input_sent = False

    @property
    def noise_dbfs(self) -> float:
        return float(np.clip(min(self._levels, default=-90.0), -90.0, -25.0))

    def _threshold(self, barge: bool) -> float:
        threshold = max(self.noise_dbfs + self.config.margin_db, self.config.min_speech_dbfs)
        return threshold + (self.config.barge_in_margin_db if barge else 0.0)

    def process(self, frame: np.ndarray | bytes) -> list[EndpointEvent]:
        """One frame (normally 20 ms); returns the events it completes."""
        pcm = as_pcm(frame)
        frame_ms = max(1, round(1000 * len(pcm) / SAMPLE_RATE))
        start_ms, self.now_ms = self.now_ms, self.now_ms + frame_ms
        level = level_dbfs(pcm)
        self._levels.append(level)
        events: list[EndpointEvent] = []
        config = self.config

        if not self.in_speech:
            barge = self.bot_speaking
            if level > self._threshold(barge):
                if self._run_ms == 0:
                    self._onset_ms = start_ms
                self._run_ms += frame_ms
            else:
                self._run_ms = 0
            if self._run_ms >= (config.barge_in_ms if barge else config.start_ms):
                self.in_speech = True
                self._silence_ms = 0
                self._last_speech_ms = self.now_ms
                if barge:
                    events.append(EndpointEvent(BARGE_IN, self._onset_ms, self.now_ms))
                events.append(EndpointEvent(SPEECH_START, self._onset_ms, self.now_ms))
            elif (
                config.no_input_ms is not None
                and not self._no_input_sent
                and self._run_ms == 0
                and self.now_ms - self._listening_since >= config.no_input_ms
            ):
                self._no_input_sent = True
                events.append(EndpointEvent(NO_INPUT, self.now_ms, self.now_ms))
            return events

        if level > self._threshold(False):
            self._silence_ms = 0
            self._last_speech_ms = self.now_ms
        else:
            self._silence_ms += frame_ms
        too_long = self.now_ms - self._onset_ms >= config.max_utterance_ms
        if self._silence_ms >= config.end_silence_ms or too_long:
            self.in_speech = False
            self._run_ms = 0
            events.append(
                EndpointEvent(SPEECH_END, self._last_speech_ms, self.now_ms, self._last_speech_ms - self._onset_ms)
            )
            self.start_listening()
        return events

    def feed(self, pcm: np.ndarray | bytes) -> list[EndpointEvent]:
        """Any length of audio, cut into 20 ms frames (a last partial frame is zero-padded)."""
        events: list[EndpointEvent] = []
        for frame in frames(pcm, FRAME_SAMPLES):
            events += self.process(frame)
        return events


__all__ = [
    "BARGE_IN",
    "FRAME_MS",
    "NO_INPUT",
    "SPEECH_END",
    "SPEECH_START",
    "EndpointEvent",
    "Endpointer",
    "EndpointerConfig",
    "level_dbfs",
]
