"""Speech recognition behind one interface, with two backends.

A :class:`Recognizer` is loaded once per process and shared; each call turn opens
a :class:`RecognizerStream` on it, feeds 8 kHz int16 PCM (20 ms frames or any
size) and gets the running partial text back, then asks for the final text::

    recognizer = load_recognizer()              # CITIZENBOT_ASR: viet-asr (default) or vosk
    with recognizer.stream() as stream:
        for frame in frames(pcm):
            partial = stream.accept(frame)
        text = stream.result()                  # also readies the stream for the next utterance

``stream(grammar=YES_NO_GRAMMAR)`` restricts what may be recognised, for
confirmations and spoken digits, and ``stream.use_grammar(...)`` changes it from
the next utterance on. vosk decodes against the grammar itself
(``Recognizer.decodes_grammar``); viet-asr has no grammar decoding, so its output
is filtered onto the grammar (words outside it are dropped, diacritic slips are
mapped to the grammar word), which is why a call keeps it on free recognition.

Neither backend downloads anything: viet-asr's model is compiled into its wheel
(its native library is built without HTTP), and vosk only opens the directory it
is given.
"""

from __future__ import annotations

import atexit
import json
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

import numpy as np

from bot.text import fold
from voice import SpeechEngineError
from voice.audio import FRAME_SAMPLES, SAMPLE_RATE, as_pcm, frames
from voice.settings import ASR_BACKENDS, VoiceSettings

# What a caller may say to confirm or refuse a read-back (voice.replies.yes_or_no reads it).
YES_NO_GRAMMAR: tuple[str, ...] = (
    "có",
    "không",
    "đúng",
    "đúng rồi",
    "đúng không",  # the question echoed back: a yes
    "phải không",
    "có đúng không",
    "không đúng",
    "sai",
    "sai rồi",
    "vâng",
    "dạ",
    "phải",
    "không phải",
    "chưa",
    "chưa đúng",
    "rồi",
    "ừ",
)

# Words of spoken digit strings (dossier codes, phone digits); bot.dossier_codes.spoken_digits and
# parse_dossier_code turn them into digits.
DIGIT_GRAMMAR: tuple[str, ...] = (
    "không",
    "một",
    "mốt",
    "hai",
    "ba",
    "bốn",
    "tư",
    "năm",
    "lăm",
    "nhăm",
    "sáu",
    "bảy",
    "bẩy",
    "tám",
    "chín",
    "mười",
    "mươi",
    "linh",
    "lẻ",
    "trăm",
    "lần",
    "chấm",
    "gạch",
    "ngang",
    "hát",  # the letter H of dossier codes (000.00.21.H48-…)
)

VOSK_MODEL_HELP = (
    "Chưa có mô hình Vosk tiếng Việt: đặt biến môi trường CITIZENBOT_VOSK_MODEL là thư mục mô hình "
    "(thư mục chứa am/ và conf/), hoặc dùng CITIZENBOT_ASR=viet-asr. "
    "/ No Vosk model: set CITIZENBOT_VOSK_MODEL to the model directory (the one holding am/ and conf/), "
    "or use CITIZENBOT_ASR=viet-asr."
)


def normalize_transcript(text: str) -> str:
    """NFC, lower case, one line, single spaces (engines put a newline at their own segment ends)."""
    return " ".join(unicodedata.normalize("NFC", text).lower().split())


class RecognizerStream(Protocol):
    """One caller's audio, utterance after utterance."""

    grammar: tuple[str, ...] | None  # what utterances are recognised against (None: free speech)

    def use_grammar(self, grammar: Sequence[str] | None) -> None:
        """Recognise from the next utterance on against this grammar (None: free speech)."""
        ...

    def accept(self, pcm: bytes | np.ndarray) -> str:
        """Feed 8 kHz int16 PCM; returns the partial text of the current utterance so far."""
        ...

    def result(self) -> str:
        """The final text of the utterance; the stream then starts a new one."""
        ...

    def close(self) -> None: ...

    def __enter__(self) -> Self: ...

    def __exit__(self, *exc: object) -> None: ...


class Recognizer(Protocol):
    name: str
    # True when a grammar restricts the decoding itself (vosk); False when the free text is only
    # filtered onto it afterwards (viet-asr), which loses words a grammar-less call would still use.
    decodes_grammar: bool

    def stream(self, grammar: Sequence[str] | None = None) -> RecognizerStream: ...


class GrammarFilter:
    """Maps free-form text onto a grammar: the longest grammar phrase at each word, other words dropped."""

    def __init__(self, grammar: Sequence[str]) -> None:
        self.phrases = {tuple(normalize_transcript(p).split()) for p in grammar if p != "[unk]"}
        self.phrases.discard(())
        if not self.phrases:
            raise ValueError("empty grammar")
        self.longest = max(len(p) for p in self.phrases)
        # A word spoken with a diacritic slip ("co" for "có") maps to the grammar word only if unambiguous.
        by_fold: dict[str, set[str]] = {}
        for phrase in self.phrases:
            for word in phrase:
                by_fold.setdefault(fold(word), set()).add(word)
        self.words = {w for phrase in self.phrases for w in phrase}
        self.folded = {key: next(iter(ws)) for key, ws in by_fold.items() if len(ws) == 1}

    def __call__(self, text: str) -> str:
        spoken = re.sub(r"[^\w\s]", " ", normalize_transcript(text)).split()
        words = [w if w in self.words else self.folded.get(fold(w), "") for w in spoken]
        out: list[str] = []
        i = 0
        while i < len(words):
            for size in range(min(self.longest, len(words) - i), 0, -1):
                if tuple(words[i : i + size]) in self.phrases:
                    out += words[i : i + size]
                    i += size
                    break
            else:
                i += 1
        return " ".join(out)


class _Stream:
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        pass


# ---------------------------------------------------------------- viet-asr


class VietAsrStream(_Stream):
    def __init__(self, session: Any, grammar: Sequence[str] | None) -> None:
        self.session = session
        self.use_grammar(grammar)

    def use_grammar(self, grammar: Sequence[str] | None) -> None:
        self.grammar = tuple(grammar) if grammar else None
        self.filter = GrammarFilter(grammar) if grammar else None

    def _text(self, raw: str) -> str:
        text = normalize_transcript(raw)
        return self.filter(text) if self.filter else text

    def accept(self, pcm: bytes | np.ndarray) -> str:
        self.session.accept(np.ascontiguousarray(as_pcm(pcm)))
        return self._text(self.session.partial().text)

    def result(self) -> str:
        text = self._text(self.session.final().text)
        self.session.reset()
        return text

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
            self.session = None


class VietAsrRecognizer:
    """viet-asr's streaming Conformer-CTC model (int8 ONNX, compiled into its wheel); one pipeline, many streams."""

    name = "viet-asr"
    decodes_grammar = False

    def __init__(self) -> None:
        try:
            import vietasr
            from vietasr.ffi import native
        except (ImportError, OSError) as error:
            raise SpeechEngineError(
                "Chưa cài bộ nhận dạng tiếng nói viet-asr: chạy `.venv/bin/pip install viet-asr==0.1.0.dev11`. "
                f"/ viet-asr is not installed or its native library failed to load ({error})."
            ) from error
        native.lib.vietasr_set_log_level(3)  # warnings and errors only
        try:
            self.pipeline = vietasr.Pipeline.new().add("vietasr").build()
        except RuntimeError as error:
            raise SpeechEngineError(
                f"Không nạp được mô hình viet-asr / the viet-asr model failed to load: {error}"
            ) from error

    def close(self) -> None:
        self.pipeline.close()

    def stream(self, grammar: Sequence[str] | None = None) -> VietAsrStream:
        return VietAsrStream(self.pipeline.stream(sample_rate=float(SAMPLE_RATE)), grammar)


# ---------------------------------------------------------------- vosk


class VoskStream(_Stream):
    def __init__(self, owner: VoskRecognizer, grammar: Sequence[str] | None) -> None:
        self.owner = owner
        self.recognizer = owner.kaldi(grammar)
        self.grammar = tuple(grammar) if grammar else None
        self.done: list[str] = []  # segments vosk closed at its own endpoints within this utterance

    def use_grammar(self, grammar: Sequence[str] | None) -> None:
        wanted = tuple(grammar) if grammar else None
        if wanted != self.grammar:
            # A new decoder (cheap: the model is shared) rather than SetGrammar, which cannot go back to free speech.
            self.recognizer = self.owner.kaldi(wanted)
            self.grammar = wanted
            self.done = []

    def _joined(self, current: str) -> str:
        return normalize_transcript(" ".join([*self.done, current]))

    def accept(self, pcm: bytes | np.ndarray) -> str:
        data = as_pcm(pcm).astype("<i2", copy=False).tobytes()
        if self.recognizer.AcceptWaveform(data):
            self.done.append(json.loads(self.recognizer.Result()).get("text", ""))
            return self._joined("")
        return self._joined(json.loads(self.recognizer.PartialResult()).get("partial", ""))

    def result(self) -> str:
        text = self._joined(json.loads(self.recognizer.FinalResult()).get("text", ""))
        self.recognizer.Reset()
        self.done = []
        return text

    def close(self) -> None:
        self.recognizer = None


class VoskRecognizer:
    """Kaldi models through vosk. The model directory is the operator's (no Vietnamese model ships on a registry).

    Grammar-restricted recognition needs a model with a dynamic graph (``graph/HCLr.fst`` and
    ``graph/Gr.fst``, as in vosk's small models); a static ``HCLG.fst`` model ignores the grammar.
    """

    name = "vosk"
    decodes_grammar = True

    def __init__(self, model_dir: str | Path | None = None) -> None:
        if model_dir is None:
            model_dir = VoiceSettings.from_env().vosk_model_dir
        if model_dir is None:
            raise SpeechEngineError(VOSK_MODEL_HELP)
        path = Path(model_dir)
        if not (path / "am" / "final.mdl").is_file() or not (path / "conf" / "model.conf").is_file():
            raise SpeechEngineError(
                f"{path}: không phải thư mục mô hình Vosk / not a Vosk model directory. {VOSK_MODEL_HELP}"
            )
        try:
            import vosk
        except (ImportError, OSError) as error:
            raise SpeechEngineError(
                f"Chưa cài vosk: chạy `.venv/bin/pip install vosk==0.3.45`. / vosk is not installed ({error})."
            ) from error
        vosk.SetLogLevel(-1)  # Kaldi warnings and errors only
        self._vosk = vosk
        self.model_dir = path
        try:
            self.model = vosk.Model(str(path))  # a path, never a model name: vosk would download a named model
        except Exception as error:  # vosk raises a bare Exception when Kaldi cannot read the model
            raise SpeechEngineError(
                f"Không nạp được mô hình Vosk / failed to load the Vosk model {path}: {error}"
            ) from error

    def close(self) -> None:
        self.model = None  # the last reference: vosk frees the model now, while its library is still loaded

    def in_vocabulary(self, word: str) -> bool:
        return self.model.vosk_model_find_word(word) >= 0

    def grammar_json(self, grammar: Sequence[str]) -> str:
        """vosk's grammar: phrases whose words the model knows, plus [unk] so that other speech has somewhere to go."""
        phrases = [normalize_transcript(p) for p in grammar if p != "[unk]"]
        known = [p for p in phrases if p and all(self.in_vocabulary(w) for w in p.split())]
        if not known:
            raise SpeechEngineError(
                f"Mô hình Vosk {self.model_dir} không biết từ nào của ngữ pháp "
                f"/ the model knows no word of the grammar {list(grammar)}"
            )
        if self.in_vocabulary("[unk]"):
            known.append("[unk]")
        return json.dumps(list(dict.fromkeys(known)), ensure_ascii=False)

    def kaldi(self, grammar: Sequence[str] | None) -> Any:
        """A vosk decoder on the shared model, free or restricted to the grammar."""
        if grammar:
            return self._vosk.KaldiRecognizer(self.model, float(SAMPLE_RATE), self.grammar_json(grammar))
        return self._vosk.KaldiRecognizer(self.model, float(SAMPLE_RATE))

    def stream(self, grammar: Sequence[str] | None = None) -> VoskStream:
        return VoskStream(self, grammar)


# ---------------------------------------------------------------- choosing and using


_loaded: list[VietAsrRecognizer | VoskRecognizer] = []


@lru_cache(maxsize=4)
def _load(backend: str, model_dir: Path | None) -> Recognizer:
    if backend in ("viet-asr", "vosk"):
        recognizer = VietAsrRecognizer() if backend == "viet-asr" else VoskRecognizer(model_dir)
        _loaded.append(recognizer)
        return recognizer
    raise SpeechEngineError(f"Bộ nhận dạng không rõ / unknown ASR backend {backend!r}: chọn / choose {ASR_BACKENDS}")


@atexit.register
def _close_shared() -> None:
    # Engines freed during interpreter teardown find their C bindings gone and print tracebacks.
    for recognizer in _loaded:
        recognizer.close()
    _loaded.clear()
    _load.cache_clear()


def load_recognizer(backend: str | None = None, model_dir: str | Path | None = None) -> Recognizer:
    """The shared recognizer of a backend (default: the CITIZENBOT_ASR setting), loaded on first use."""
    settings = VoiceSettings.from_env()
    backend = backend or settings.asr_backend
    directory = Path(model_dir) if model_dir else settings.vosk_model_dir if backend == "vosk" else None
    return _load(backend, directory)


def transcribe(
    recognizer: Recognizer,
    pcm: bytes | np.ndarray,
    grammar: Sequence[str] | None = None,
    frame_samples: int = FRAME_SAMPLES,
) -> tuple[str, list[str]]:
    """Streams a whole 8 kHz recording in 20 ms frames: (final text, the distinct partials seen on the way)."""
    partials: list[str] = []
    with recognizer.stream(grammar) as stream:
        for frame in frames(pcm, frame_samples):
            partial = stream.accept(frame)
            if partial and (not partials or partials[-1] != partial):
                partials.append(partial)
        return stream.result(), partials
