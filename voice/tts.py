"""Speech synthesis behind one interface; the first backend is espeak-ng through pyttsx3.

A :class:`Synthesizer` turns text into 8 kHz int16 PCM ready for the phone line.
Text is first normalised for speech (:func:`voice.speech_text.for_speech`:
amounts, dates, codes, abbreviations); shortening an answer for voice is the
dialogue's choice (:func:`voice.speech_text.shorten_for_voice`).

espeak-ng's Vietnamese is robotic: a better engine can be added as another
class with the same ``synthesize`` method.
"""

from __future__ import annotations

import contextlib
import io
import tempfile
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from scipy.signal import lfilter

from voice import SpeechEngineError
from voice.audio import SAMPLE_RATE, float_to_pcm, read_wav, to_8k
from voice.settings import VoiceSettings
from voice.speech_text import for_speech

# espeak-ng can be initialised only once per process and is not re-entrant.
_ESPEAK_LOCK = threading.Lock()

ATTEMPTS = 3
WAV_HEADER_BYTES = 44
PEAK = 20000  # about -4 dBFS: loud enough for a phone line, with room left for μ-law


@lru_cache(maxsize=1)
def _espeak_engine() -> Any:
    """The process's one pyttsx3 espeak engine, kept for good. pyttsx3 keeps an engine only while something
    holds it, and a collected engine clears espeak's synthesis callback: collected late (from a reference
    cycle) after a newer engine set its own, it leaves espeak calling nothing. A full test run once crashed
    inside espeak's Synth (a segmentation fault); with one engine that cannot happen."""
    try:
        import pyttsx3
    except ImportError as error:
        raise SpeechEngineError(
            f"Chưa cài pyttsx3: chạy `.venv/bin/pip install pyttsx3==2.99`. / pyttsx3 is not installed ({error})."
        ) from error
    return pyttsx3.init(driverName="espeak")


class Synthesizer(Protocol):
    name: str
    sample_rate: int

    def synthesize(self, text: str) -> np.ndarray:
        """8 kHz int16 PCM of the text spoken."""
        ...


class EspeakSynthesizer:
    """pyttsx3's espeak driver (Debian ``espeak-ng``), headless, rendered to a WAV then brought to 8 kHz."""

    name = "espeak-ng"
    sample_rate = SAMPLE_RATE

    def __init__(
        self,
        voice: str | None = None,
        rate: int | None = None,
        normalize: bool = True,
        pre_emphasis: float = 0.9,
    ) -> None:
        settings = VoiceSettings.from_env()
        self.voice = voice or settings.tts_voice
        self.rate = rate or settings.tts_rate
        self.normalize = normalize
        # A first-order pre-emphasis keeps the consonants' high band audible once the line cuts at 3.4 kHz.
        self.pre_emphasis = pre_emphasis
        try:
            with _ESPEAK_LOCK:
                self.engine: Any = _espeak_engine()
        except (OSError, RuntimeError) as error:
            raise SpeechEngineError(
                "Không khởi động được espeak-ng: cài gói Debian `apt-get install espeak-ng`. "
                f"/ espeak-ng could not start (install the Debian package espeak-ng): {error}"
            ) from error
        # pyttsx3 queues property changes and ignores a voice espeak-ng does not know: check it here.
        base = self.voice.split("+")[0].lower()
        known = {
            name.lower()
            for v in self.engine.getProperty("voices")
            for name in (v.id, v.id.rsplit("/", 1)[-1], v.name, *(v.languages or []))
        }
        if base not in known:
            raise SpeechEngineError(
                f"espeak-ng không có giọng / has no voice {self.voice!r} (xem / see `espeak-ng --voices=vi`)"
            )

    def render_wav(self, text: str, path: Path) -> Path:
        """Synthesize into a WAV file at espeak's own rate (22.05 kHz); raises if nothing was written."""
        if not path.parent.is_dir():
            # pyttsx3 only reports this from inside a C callback and carries on as if it had written the file.
            raise SpeechEngineError(f"Thư mục không tồn tại / output folder does not exist: {path.parent}")
        # About one call in a hundred, pyttsx3's espeak loop ends on a stray end-of-message event and
        # writes a WAV with no samples; a new attempt then works.
        for _ in range(ATTEMPTS):
            path.unlink(missing_ok=True)
            with _ESPEAK_LOCK, contextlib.redirect_stdout(io.StringIO()):  # pyttsx3 prints "Audio saved to …"
                self.engine.setProperty("voice", self.voice)
                self.engine.setProperty("rate", self.rate)
                self.engine.save_to_file(text, str(path))
                self.engine.runAndWait()
            if path.is_file() and path.stat().st_size > WAV_HEADER_BYTES:
                return path
        raise SpeechEngineError(f"espeak-ng không tạo ra âm thanh / produced no audio for {text!r} in {path}")

    def synthesize(self, text: str) -> np.ndarray:
        spoken = for_speech(text) if self.normalize else text
        if not spoken.strip():
            return np.zeros(0, dtype=np.int16)
        with tempfile.TemporaryDirectory(prefix="citizenbot-tts-") as folder:
            samples, rate = read_wav(self.render_wav(spoken, Path(folder) / "speech.wav"))
        signal = samples.astype(np.float64)
        if self.pre_emphasis:
            signal = lfilter([1.0, -self.pre_emphasis], [1.0], signal)
        peak = np.abs(signal).max(initial=0.0)
        if peak > 0:
            signal *= PEAK / peak
        return to_8k(float_to_pcm(signal), rate)


@lru_cache(maxsize=4)
def load_synthesizer(voice: str | None = None) -> Synthesizer:
    """The process-wide synthesizer (of the configured voice, or of another one for a simulated caller):
    espeak-ng's voice list overflows when engines are created again and again."""
    return EspeakSynthesizer(voice=voice)
