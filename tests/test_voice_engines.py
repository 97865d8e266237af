"""The speech engines' load at server start (voice.engines): background, once, failures kept and reported."""

from __future__ import annotations

import threading

import pytest

from voice import SpeechEngineError
from voice.asr import VOSK_MODEL_HELP, VoskRecognizer
from voice.engines import SpeechEngines
from voice.tts import load_synthesizer


class Named:
    def __init__(self, name: str) -> None:
        self.name = name


def test_the_load_runs_in_the_background_and_is_reported() -> None:
    release = threading.Event()
    loads: list[str] = []

    def slow_asr() -> Named:
        loads.append("asr")
        release.wait(10)
        return Named("viet-asr")

    engines = SpeechEngines(slow_asr, lambda: Named("espeak-ng"))
    assert engines.status() == {"ok": False, "state": "not_started"}
    engines.start()  # returns at once although the recogniser takes its time
    engines.start()  # a second start does not load again
    assert engines.status() == {"ok": False, "state": "loading"} and not engines.loaded
    assert engines.wait(timeout=0.05) is False
    with pytest.raises(SpeechEngineError, match="chưa nạp xong"):
        engines.get(timeout=0.05)
    release.set()
    assert engines.wait(timeout=10)
    assert engines.loaded and loads == ["asr"]
    assert engines.status() == {"ok": True, "state": "loaded", "asr": "viet-asr", "tts": "espeak-ng"}
    assert [e.name for e in engines.get()] == ["viet-asr", "espeak-ng"]


def test_a_missing_model_is_kept_as_an_error_and_the_other_engine_still_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    # The real failure: the vosk backend chosen without a model directory.
    monkeypatch.delenv("CITIZENBOT_VOSK_MODEL", raising=False)
    engines = SpeechEngines(lambda: VoskRecognizer(None), load_synthesizer)
    engines.start()
    assert engines.wait(timeout=60)
    status = engines.status()
    assert status["ok"] is False and status["state"] == "failed"
    assert status["asr"] is None and status["asr_error"].startswith(VOSK_MODEL_HELP[:40])
    assert status["tts"] == "espeak-ng" and "tts_error" not in status
    assert engines.state("tts").engine is not None  # the apology can still be spoken
    with pytest.raises(SpeechEngineError, match="CITIZENBOT_VOSK_MODEL"):
        engines.get()
