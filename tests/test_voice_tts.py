"""Speech synthesis with the real espeak-ng, checked by recognising it back with viet-asr."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from voice_support import padded

from voice import SpeechEngineError
from voice.asr import Recognizer, load_recognizer, transcribe
from voice.audio import SAMPLE_RATE, ulaw_round_trip
from voice.endpointing import level_dbfs
from voice.tts import EspeakSynthesizer, Synthesizer, load_synthesizer


@pytest.fixture(scope="module")
def synthesizer() -> Synthesizer:
    return load_synthesizer()


@pytest.fixture(scope="module")
def viet_asr() -> Recognizer:
    return load_recognizer("viet-asr")


def over_the_line(pcm: np.ndarray) -> np.ndarray:
    return ulaw_round_trip(padded(pcm))


def test_synthesizes_8khz_speech(synthesizer: Synthesizer) -> None:
    pcm = synthesizer.synthesize("Xin chào, tôi là trợ lý ảo thủ tục hành chính.")
    assert synthesizer.sample_rate == SAMPLE_RATE and pcm.dtype == np.int16
    assert 1.5 < len(pcm) / SAMPLE_RATE < 6.0
    assert -35 < level_dbfs(pcm) < -10  # speech with its pauses, peaks normalised to about -4 dBFS
    power = np.abs(np.fft.rfft(pcm.astype(np.float64))) ** 2
    frequency = np.fft.rfftfreq(len(pcm), 1 / SAMPLE_RATE)
    assert power[(frequency >= 300) & (frequency <= 3400)].sum() > 0.8 * power.sum()  # the telephone band


def test_an_unknown_voice_is_refused() -> None:
    with pytest.raises(SpeechEngineError, match="không có giọng"):
        EspeakSynthesizer(voice="xx-none")


def test_empty_text_is_silence(synthesizer: Synthesizer) -> None:
    assert len(synthesizer.synthesize("  ")) == 0


def test_a_missing_output_folder_is_an_error_not_silence(tmp_path: Path) -> None:
    with pytest.raises(SpeechEngineError, match="không tồn tại"):
        EspeakSynthesizer().render_wav("xin chào", tmp_path / "missing" / "speech.wav")
    written = EspeakSynthesizer().render_wav("xin chào", tmp_path / "speech.wav")
    assert written.stat().st_size > 1000


# espeak-ng keeps some state from one utterance to the next, so the same text never renders to
# exactly the same samples: these checks use phrases viet-asr recognised in 100 renderings out of 100.


def test_spoken_request_is_recognised_back(synthesizer: Synthesizer, viet_asr: Recognizer) -> None:
    text, _ = transcribe(viet_asr, over_the_line(synthesizer.synthesize("đăng ký khai sinh")))
    assert "khai sinh" in text


def test_amounts_are_spoken_in_words(synthesizer: Synthesizer, viet_asr: Recognizer) -> None:
    text, _ = transcribe(viet_asr, over_the_line(synthesizer.synthesize("Lệ phí là 150.000 đồng.")))
    assert "trăm" in text and "mươi" in text
