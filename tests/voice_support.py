"""Helpers shared by the tests of the speech layer (``tests/test_voice_*.py``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from bot.settings import Settings
from voice.audio import read_wav_8k, silence, ulaw_round_trip

CLIPS = Settings.from_env().shared_data_dir / "speech" / "natural"


def natural_clip(number: int) -> Path:
    path = CLIPS / f"clip_{number:02d}.wav"
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} is missing: the natural-speech clips come with the project's shared data "
            "(set CITIZENBOT_SHARED_DATA to the folder holding speech/natural/)"
        )
    return path


def transcript(number: int) -> str:
    return natural_clip(number).with_suffix(".txt").read_text("utf-8").strip()


def phone_audio(number: int) -> np.ndarray:
    """A clip as it arrives over the phone: 8 kHz, through G.711 μ-law."""
    return ulaw_round_trip(read_wav_8k(natural_clip(number)))


def padded(pcm: np.ndarray, before: float = 0.3, after: float = 0.6) -> np.ndarray:
    return np.concatenate([silence(before), pcm, silence(after)])


class LineLog:
    """The bot's side of an in-process call (a :class:`voice.call.CallLine`) that keeps the transcript:
    for tests that drive a :class:`voice.call.CallSession` directly. The bot's audio is counted, not kept."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []  # (speaker, text)
        self.audio_frames = 0

    async def send_audio(self, frame: np.ndarray) -> None:
        self.audio_frames += 1

    async def send_mark(self, name: str) -> None:
        pass

    async def clear(self) -> None:
        pass

    async def transcript(self, speaker: str, text: str) -> None:
        self.lines.append((speaker, text))

    async def hangup(self) -> None:
        pass

    def said(self, speaker: str) -> list[str]:
        return [text for who, text in self.lines if who == speaker]
