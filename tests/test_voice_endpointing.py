"""Endpointing on real speech over a simulated line: start, end of utterance, barge-in, no input."""

from __future__ import annotations

import numpy as np
import pytest
from voice_support import phone_audio

from voice.audio import SAMPLE_RATE, float_to_pcm, ulaw_round_trip
from voice.endpointing import (
    BARGE_IN,
    NO_INPUT,
    SPEECH_END,
    SPEECH_START,
    Endpointer,
    EndpointerConfig,
    level_dbfs,
)


def line_noise(seconds: float, rms: float = 30.0, seed: int = 0) -> np.ndarray:
    """White noise at about -60 dBFS, like a quiet phone line."""
    return float_to_pcm(np.random.default_rng(seed).normal(0, rms, int(seconds * SAMPLE_RATE)))


def call(clip: int, before: float = 1.0, after: float = 2.0, rms: float = 30.0) -> tuple[np.ndarray, int]:
    """(line audio, clip length in ms): the clip between stretches of line noise, through μ-law."""
    speech = phone_audio(clip)
    noisy = float_to_pcm(speech + line_noise(len(speech) / SAMPLE_RATE, rms, seed=1))
    pcm = ulaw_round_trip(np.concatenate([line_noise(before, rms), noisy, line_noise(after, rms, seed=2)]))
    return pcm, round(1000 * len(speech) / SAMPLE_RATE)


@pytest.mark.parametrize("clip", [2, 4, 10])  # clip 4 has a pause at its comma
def test_one_utterance_from_start_to_end(clip: int) -> None:
    pcm, length_ms = call(clip)
    endpointer = Endpointer()
    events = endpointer.feed(pcm)
    assert [e.kind for e in events] == [SPEECH_START, SPEECH_END]
    start, end = events
    assert 1000 <= start.at_ms <= 1100
    assert start.detected_ms - start.at_ms == EndpointerConfig().start_ms
    # The utterance ends at the clip's last speech, reported end_silence_ms later.
    assert 1000 + length_ms - 400 <= end.at_ms <= 1000 + length_ms
    assert end.detected_ms - end.at_ms == EndpointerConfig().end_silence_ms
    assert end.speech_ms == end.at_ms - start.at_ms


def test_barge_in_is_caught_within_300_ms() -> None:
    pcm, _ = call(6, before=0.5)
    endpointer = Endpointer(bot_speaking=True)
    events = endpointer.feed(pcm)
    assert events[0].kind == BARGE_IN and events[1].kind == SPEECH_START
    assert events[0].at_ms == pytest.approx(500, abs=60)
    assert events[0].detected_ms - 500 <= 300
    assert [e.kind for e in events].count(BARGE_IN) == 1


def test_barge_in_needs_more_than_a_click() -> None:
    click = float_to_pcm(np.random.default_rng(3).normal(0, 8000, SAMPLE_RATE // 20))  # 50 ms, loud
    pcm = ulaw_round_trip(np.concatenate([line_noise(0.5), click, line_noise(1.0)]))
    assert Endpointer(bot_speaking=True).feed(pcm) == []
    assert Endpointer().feed(pcm) == []


def test_silence_gives_one_no_input_per_listening_turn() -> None:
    endpointer = Endpointer(EndpointerConfig(no_input_ms=3000))
    events = endpointer.feed(ulaw_round_trip(line_noise(7.0)))
    assert [(e.kind, e.at_ms) for e in events] == [(NO_INPUT, 3000)]
    endpointer.start_listening()  # the bot re-prompts, the timer starts again
    assert [(e.kind, e.at_ms) for e in endpointer.feed(ulaw_round_trip(line_noise(3.0)))] == [(NO_INPUT, 10000)]


def test_steady_noise_is_not_speech() -> None:
    noise = ulaw_round_trip(line_noise(4.0, rms=1000))  # about -30 dBFS of hiss from the start
    assert level_dbfs(noise) > -32
    assert Endpointer(EndpointerConfig(no_input_ms=None)).feed(noise) == []


def test_speech_is_found_over_a_noisy_line() -> None:
    pcm, length_ms = call(10, rms=180)  # about -45 dBFS of noise
    events = Endpointer().feed(pcm)
    assert [e.kind for e in events] == [SPEECH_START, SPEECH_END]
    assert events[1].speech_ms > 0.7 * length_ms
