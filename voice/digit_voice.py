"""A caller who reads digits in a real human voice: digit words cut from the natural-speech clips.

espeak-ng, the simulator's synthetic caller, reads digits in a voice that viet-asr hardly
understands at 8 kHz ("sáu" comes out as "tháng", a digit said alone is often not heard at
all). Real callers are people, so this caller voice is made of words people said: cut from
the natural-speech clips of the shared data (``speech/natural``, 24 kHz WAV) at boundaries
where viet-asr, given the cut alone, hears exactly that word (:func:`find_word`;
``python -m voice.digit_voice`` derives the table again). Only the digits those clips contain
can be said: không, một, hai, năm ("chín" is there too, but its cut is heard as "mười chín" over the
line).

:meth:`DigitVoice.say` reads a digit string word by word with a short pause, and a longer one
between groups, as people read a code off a receipt. The benchmark and the tests use it to
call the bot; the bot never does.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from voice.asr import Recognizer, transcribe
from voice.audio import SAMPLE_RATE, frames, read_wav_8k, silence


@dataclass(frozen=True)
class WordCut:
    clip: str  # file name in speech/natural
    word: str
    start: float  # seconds
    end: float


# Derived by `python -m voice.digit_voice` with viet-asr 0.1.0.dev11: each cut, padded with silence,
# is recognised as exactly its word.
WORDS: dict[str, WordCut] = {
    "0": WordCut("clip_09.wav", "không", 0.68, 1.07),  # «Cậu có nhìn thấy không?»
    "1": WordCut("clip_01.wav", "một", 1.34, 1.72),  # «… như là một huấn luyện viên.»
    "2": WordCut("clip_07.wav", "hai", 0.44, 0.9),  # «Ví dụ hai.»
    "5": WordCut("clip_10.wav", "năm", 2.1, 2.32),  # «… đón chào một năm mới …»
}

# Pauses, silence at the cuts' edges trimmed: shorter than the call's end-of-utterance silence (550 ms),
# so that a code read in groups is still one utterance.
WORD_GAP_S = 0.2  # between the digits of a group
GROUP_GAP_S = 0.4  # between groups
EDGE_DB = -30.0  # 10 ms frames this far below the word's loudest are silence at its edges


def trimmed(pcm: np.ndarray) -> np.ndarray:
    """The word without the quiet at its start and end."""
    step = SAMPLE_RATE // 100
    blocks = pcm[: len(pcm) // step * step].astype(np.float64).reshape(-1, step)
    level = np.sqrt((blocks**2).mean(axis=1)) + 1e-9
    loud = np.nonzero(20 * np.log10(level / level.max()) > EDGE_DB)[0]
    return pcm[loud[0] * step : (loud[-1] + 1) * step] if len(loud) else pcm


class DigitVoice:
    def __init__(self, clips_dir: Path, words: dict[str, WordCut] | None = None) -> None:
        self.words = WORDS if words is None else words
        self.audio: dict[str, np.ndarray] = {}
        for digit, cut in self.words.items():
            path = clips_dir / cut.clip
            if not path.is_file():
                raise FileNotFoundError(f"{path} is missing: the digit voice is cut from the natural-speech clips")
            pcm = read_wav_8k(path)
            self.audio[digit] = trimmed(pcm[round(cut.start * SAMPLE_RATE) : round(cut.end * SAMPLE_RATE)])

    def sayable(self, digits: str) -> bool:
        return bool(digits) and all(d in self.audio for d in digits)

    def say(self, digits: str, groups: Sequence[int] = ()) -> np.ndarray:
        """8 kHz PCM of the digits read one by one; ``groups`` (sizes, e.g. (6, 4)) adds the longer pauses."""
        if not self.sayable(digits):
            missing = sorted({d for d in digits if d not in self.audio})
            raise ValueError(f"this voice cannot say the digits {missing}: it has {sorted(self.audio)}")
        ends, at = set(), 0
        for size in groups:
            at += size
            ends.add(at)
        parts: list[np.ndarray] = []
        for i, digit in enumerate(digits, 1):
            parts.append(self.audio[digit])
            if i < len(digits):
                parts.append(silence(GROUP_GAP_S if i in ends else WORD_GAP_S))
        return np.concatenate(parts)


def find_word(recognizer: Recognizer, pcm: np.ndarray, word: str, step: float = 0.04) -> WordCut | None:
    """Where ``word`` is in a recording, cut so that the recogniser hears exactly it; None if nowhere.

    The streaming partials locate it (a word shows up in them shortly after it is said); then every
    cut around that place is recognised alone, and the cut nearest the middle of those heard as the
    word wins.
    """
    timeline: list[tuple[float, list[str]]] = []
    with recognizer.stream() as stream:
        for i, chunk in enumerate(frames(pcm, SAMPLE_RATE // 10)):
            timeline.append(((i + 1) / 10, stream.accept(chunk).split()))
        final = stream.result().split()
    if word not in final:
        return None
    k = final.index(word)

    def shown(j: int) -> float:
        if j < 0:
            return 0.0
        return next((t for t, words in timeline if len(words) > j and words[j] == final[j]), len(pcm) / SAMPLE_RATE)

    before, at = shown(k - 1), shown(k)
    heard = []
    for start in np.arange(max(0.0, before - 0.7), before + 0.15, step):
        for end in np.arange(at - 0.6, min(at + 0.3, len(pcm) / SAMPLE_RATE), step):
            if end - start < 0.15:
                continue
            cut = pcm[round(start * SAMPLE_RATE) : round(end * SAMPLE_RATE)]
            if transcribe(recognizer, np.concatenate([silence(0.3), cut, silence(0.5)]))[0] == word:
                heard.append((float(start), float(end)))
    if not heard:
        return None
    middle = np.median(np.array(heard), axis=0)
    start, end = min(heard, key=lambda cut: float(np.abs(np.array(cut) - middle).sum()))
    return WordCut("", word, round(start, 2), round(end, 2))


# Where the digits are said in the natural-speech clips.
# "chín" (clip_05, «mười chín») is left out: over the phone line its cut is heard as "mười chín".
SOURCES = {"0": ("clip_09.wav", "không"), "1": ("clip_01.wav", "một"), "2": ("clip_07.wav", "hai"),
           "5": ("clip_10.wav", "năm")}  # fmt: skip


def derive(clips_dir: Path, recognizer: Recognizer) -> dict[str, WordCut]:
    table = {}
    for digit, (clip, word) in SOURCES.items():
        cut = find_word(recognizer, read_wav_8k(clips_dir / clip), word)
        if cut is not None:
            table[digit] = WordCut(clip, word, cut.start, cut.end)
    return table


if __name__ == "__main__":
    from bot.settings import Settings
    from voice.asr import load_recognizer

    folder = Path(sys.argv[1]) if len(sys.argv) > 1 else Settings.from_env().shared_data_dir / "speech" / "natural"
    for digit, cut in derive(folder, load_recognizer("viet-asr")).items():
        print(f"    {digit!r}: {cut!r},")
