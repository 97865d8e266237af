"""The process's speech engines, loaded once, in the background, when the server starts.

Loading viet-asr's model and starting espeak-ng takes seconds; done lazily it was the first
caller who waited, in silence. :meth:`SpeechEngines.start` loads both on a thread of their own
when the server starts (the phone router's lifespan), so that ``/health`` answers at once;
``/ready`` reports :meth:`SpeechEngines.status`; a call takes them with :meth:`SpeechEngines.get`,
which waits only if the load is still under way.

An engine that cannot load (a missing model, no espeak-ng) is remembered with its error: the chat
is not affected, the error is logged once, and calls are told so (:mod:`voice.media_stream` says
the apology if the synthesizer works, and hangs up).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from voice import SpeechEngineError
from voice.asr import Recognizer, load_recognizer
from voice.tts import Synthesizer, load_synthesizer

logger = logging.getLogger(__name__)

LOAD_WAIT_S = 60.0  # a call arriving during the load waits at most this long for it


@dataclass(frozen=True)
class EngineState:
    name: str  # "asr" | "tts"
    engine: Any = None
    error: str | None = None


class SpeechEngines:
    """The shared recogniser and synthesizer, each loaded once (the first failure is kept, not retried)."""

    def __init__(
        self,
        load_asr: Callable[[], Recognizer] = load_recognizer,
        load_tts: Callable[[], Synthesizer] = load_synthesizer,
    ) -> None:
        self._loaders = {"asr": load_asr, "tts": load_tts}
        self._states: dict[str, EngineState] = {}
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Starts loading on a background thread (once; later calls do nothing)."""
        with self._lock:
            if self._thread is not None:
                return
            # Not a daemon: the interpreter must not tear the engines' C libraries down under a load.
            self._thread = threading.Thread(target=self._load_all, name="speech-engines")
            self._thread.start()

    def _load_all(self) -> None:
        try:
            for name, load in self._loaders.items():
                try:
                    self._states[name] = EngineState(name, engine=load())
                except SpeechEngineError as error:
                    logger.error("phone line: the speech %s engine did not load: %s", name, error)
                    self._states[name] = EngineState(name, error=str(error))
                except Exception as error:  # an engine's own failure must not kill the thread silently
                    logger.exception("phone line: the speech %s engine failed while loading", name)
                    self._states[name] = EngineState(name, error=f"{type(error).__name__}: {error}")
        finally:
            self._done.set()

    @property
    def loaded(self) -> bool:
        """Both engines are loaded and usable."""
        return self._done.is_set() and all(s.engine is not None for s in self._states.values())

    def wait(self, timeout: float = LOAD_WAIT_S) -> bool:
        """Starts the load if needed and waits for it to finish; False if it is still running."""
        self.start()
        return self._done.wait(timeout)

    def state(self, name: str) -> EngineState:
        return self._states.get(name, EngineState(name, error="chưa nạp xong / still loading"))

    def get(self, timeout: float = LOAD_WAIT_S) -> tuple[Recognizer, Synthesizer]:
        """The recogniser and the synthesizer; raises SpeechEngineError if either is missing."""
        if not self.wait(timeout):
            raise SpeechEngineError("Bộ máy tiếng nói chưa nạp xong / the speech engines are still loading")
        asr, tts = self.state("asr"), self.state("tts")
        if asr.engine is None or tts.engine is None:
            raise SpeechEngineError(" ".join(s.error for s in (asr, tts) if s.error))
        return asr.engine, tts.engine

    def status(self) -> dict[str, Any]:
        """What ``/ready`` reports for the phone line."""
        if not self._done.is_set():
            return {"ok": False, "state": "loading" if self._thread else "not_started"}
        report: dict[str, Any] = {"ok": self.loaded, "state": "loaded" if self.loaded else "failed"}
        for name in self._loaders:
            state = self.state(name)
            report[name] = getattr(state.engine, "name", None) if state.engine is not None else None
            if state.error:
                report[f"{name}_error"] = state.error[:300]
        return report


@lru_cache(maxsize=1)
def speech_engines() -> SpeechEngines:
    """The process-wide engines (every app in the process shares them)."""
    return SpeechEngines()
