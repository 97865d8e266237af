"""Speech settings: embedded defaults, overridable by ``CITIZENBOT_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

ASR_BACKENDS = ("viet-asr", "vosk")


@dataclass(frozen=True)
class VoiceSettings:
    asr_backend: str = "viet-asr"
    vosk_model_dir: Path | None = None
    # espeak-ng voice and speed: "vi" with the f2 variant at 150 wpm was the most intelligible
    # espeak-ng configuration over an 8 kHz μ-law line (measured by recognising it back with viet-asr).
    tts_voice: str = "vi+f2"
    tts_rate: int = 150

    @classmethod
    def from_env(cls) -> VoiceSettings:
        backend = os.environ.get("CITIZENBOT_ASR", cls.asr_backend).strip().lower()
        if backend not in ASR_BACKENDS:
            raise ValueError(
                f"CITIZENBOT_ASR={backend!r} không hợp lệ / is not valid: "
                f"chọn / choose one of {', '.join(ASR_BACKENDS)}"
            )
        vosk_model = os.environ.get("CITIZENBOT_VOSK_MODEL")
        return cls(
            asr_backend=backend,
            vosk_model_dir=Path(vosk_model).expanduser().resolve() if vosk_model else None,
            tts_voice=os.environ.get("CITIZENBOT_TTS_VOICE", cls.tts_voice),
            tts_rate=int(os.environ.get("CITIZENBOT_TTS_RATE", cls.tts_rate)),
        )
