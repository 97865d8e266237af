"""Speech benchmark: ASR word error rate and speed on phone-quality audio, concurrent streams, TTS,
and calls over the phone line.

Every natural-speech clip in ``$CITIZENBOT_SHARED_DATA/speech/natural`` (24 kHz WAV with
``clip_NN.txt`` transcripts) is brought to 8 kHz, sent through a G.711 μ-law round trip
and streamed to each ASR backend in 20 ms frames.

The phone-line figures are calls placed with :mod:`voice.simulator` on a live ``/ws/phone``:
``--phone-url`` of a running server, or else a gateway started here as the tests start one
(``tests/processes.py``: a copy of the knowledge store with the dossier fixture imported, free
ports; with ``--rasa`` the action server and Rasa too), stopped at the end. Dossier codes are keyed
as DTMF and counted from the bot's read-back; latency runs from the end of the caller's question
to the first audio of the answer (a "chưa nghe rõ" re-prompt is not an answer).

    .venv/bin/python bench/voice.py [--max-streams 16] [--stream-seconds 8] [--phone-url URL | --rasa]
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the package it measures: keep its own folder off the import path.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import argparse  # noqa: E402
import asyncio  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import httpx  # noqa: E402
import numpy as np  # noqa: E402

from bot.dossier_codes import parse_dossier_code, parse_reception  # noqa: E402
from bot.settings import Settings  # noqa: E402
from voice import SpeechEngineError, prompts  # noqa: E402
from voice.asr import DIGIT_GRAMMAR, Recognizer, VietAsrRecognizer, VoskRecognizer, transcribe  # noqa: E402
from voice.audio import FRAME_MS, SAMPLE_RATE, frames, read_wav_8k, silence, ulaw_round_trip  # noqa: E402
from voice.digit_voice import DigitVoice  # noqa: E402
from voice.settings import VoiceSettings  # noqa: E402
from voice.simulator import CallRecord, place_call  # noqa: E402
from voice.speech_text import read_code  # noqa: E402
from voice.tts import EspeakSynthesizer  # noqa: E402
from voice.wer import word_edits  # noqa: E402

# What the bot says on the phone, to measure how intelligible the synthesizer is at 8 kHz.
BOT_SENTENCES = [
    "Thủ tục đăng ký khai sinh cần tờ khai và giấy chứng sinh.",
    "Lệ phí là năm mươi nghìn đồng.",
    "Hồ sơ của bạn đang được xử lý.",
    "Bạn vui lòng đọc mã hồ sơ.",
    "Bạn có muốn nghe lại không?",
    "Thời gian giải quyết là ba ngày làm việc.",
    "Bạn nộp hồ sơ tại Ủy ban nhân dân cấp xã.",
    "Tôi sẽ gửi tin nhắn chi tiết cho bạn.",
    "Xin chào, tôi là trợ lý ảo thủ tục hành chính.",
    "Căn cước công dân còn hiệu lực.",
    "Đăng ký thường trú cho con.",
    "Xin lỗi, tôi chưa hiểu câu hỏi của bạn.",
]


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def load_clips(folder: Path) -> list[tuple[str, np.ndarray, str]]:
    clips = []
    for wav in sorted(folder.glob("clip_*.wav")):
        transcript = wav.with_suffix(".txt").read_text("utf-8").strip()
        clips.append((wav.stem, ulaw_round_trip(read_wav_8k(wav)), transcript))
    if not clips:
        raise SystemExit(f"no clip_*.wav in {folder}")
    return clips


def measure_wer(recognizer: Recognizer, clips: list[tuple[str, np.ndarray, str]]) -> None:
    total_edits = total_words = 0
    busy = audio = 0.0
    for name, pcm, reference in clips:
        started = time.perf_counter()
        text, _ = transcribe(recognizer, pcm)
        busy += time.perf_counter() - started
        audio += len(pcm) / SAMPLE_RATE
        edits, words = word_edits(reference, text)
        total_edits += edits
        total_words += words
        print(f"  {name}  WER {edits / words:5.3f}  «{text}»")
    print(
        f"  overall WER {total_edits / total_words:.3f} ({total_edits} edits / {total_words} words), "
        f"{audio:.1f} s of audio, real-time factor {busy / audio:.3f} (one stream)"
    )


def paced_stream(recognizer: Recognizer, pcm: np.ndarray, barrier: threading.Barrier, out: list[dict]) -> None:
    """Feeds 20 ms frames as a phone line would, timing how far behind the line the recognizer falls."""
    lags = []
    with recognizer.stream() as stream:
        barrier.wait()
        origin = time.perf_counter()
        for i, frame in enumerate(frames(pcm)):
            arrived = origin + (i + 1) * FRAME_MS / 1000
            wait = arrived - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            stream.accept(frame)
            lags.append(time.perf_counter() - arrived)
        stream.result()
        final_lag = time.perf_counter() - (origin + len(pcm) / SAMPLE_RATE)
    out.append({"p95_lag": float(np.percentile(lags, 95)), "final_lag": final_lag})


def measure_concurrency(recognizer: Recognizer, pcm: np.ndarray, max_streams: int) -> None:
    print(
        f"  each stream: {len(pcm) / SAMPLE_RATE:.1f} s of audio paced in real time; holds if the p95 frame lag "
        "< 0.2 s and the final text comes < 0.5 s after the audio ends"
    )
    held = 0
    n = 1
    while n <= max_streams:
        barrier = threading.Barrier(n)
        out: list[dict] = []
        threads = [threading.Thread(target=paced_stream, args=(recognizer, pcm, barrier, out)) for _ in range(n)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        p95 = max(r["p95_lag"] for r in out)
        final = max(r["final_lag"] for r in out)
        ok = p95 < 0.2 and final < 0.5
        print(
            f"  {n:2d} streams: worst p95 frame lag {p95 * 1000:6.0f} ms, worst final lag {final * 1000:6.0f} ms"
            f"  {'holds' if ok else 'falls behind'}"
        )
        if not ok:
            break
        held = n
        n = n + 1 if n < 4 else n + 2
    print(f"  simultaneous streams holding real time: {held}")


def measure_tts(recognizer: Recognizer) -> None:
    synthesizer = EspeakSynthesizer()
    timings, edits_total, words_total = [], 0, 0
    for sentence in BOT_SENTENCES:
        started = time.perf_counter()
        pcm = synthesizer.synthesize(sentence)
        timings.append(time.perf_counter() - started)
        line = ulaw_round_trip(np.concatenate([silence(0.2), pcm, silence(0.5)]))
        text, _ = transcribe(recognizer, line)
        edits, words = word_edits(sentence, text)
        edits_total += edits
        words_total += words
    print(
        f"  {synthesizer.name} voice {synthesizer.voice} at {synthesizer.rate} wpm: "
        f"median {statistics.median(timings) * 1000:.0f} ms per sentence (~10 words, 8 kHz output)"
    )
    print(
        f"  intelligibility at 8 kHz μ-law: WER {edits_total / words_total:.3f} when viet-asr recognises it back "
        f"({len(BOT_SENTENCES)} bot sentences; lower is clearer)"
    )


def spoken_receptions(voice: DigitVoice, count: int = 20, seed: int = 5) -> list[str]:
    """Date and sequence parts ('251029-0215') that the human digit voice can say, valid dates, fixed seed."""
    rng = random.Random(seed)
    digits = sorted(voice.audio)
    found: list[str] = []
    while len(found) < count:
        tail = "".join(rng.choice(digits) for _ in range(10))
        if (reception := parse_reception(tail)) is not None and reception not in found:
            found.append(reception)
    return found


def fixture_codes() -> list[str]:
    return [d["code"] for d in json.loads((_HERE.parent / "tests" / "fixtures" / "dossiers.json").read_text("utf-8"))]


def measure_dossier_codes(recognizer: Recognizer, synthesizer: EspeakSynthesizer, voice: DigitVoice) -> None:
    """Exact-match rate of dossier codes said (caller → μ-law → ASR → parser)."""
    codes = fixture_codes()

    def heard(pcm: np.ndarray, grammar: tuple[str, ...] | None = None) -> str:
        line = np.concatenate([silence(0.3), ulaw_round_trip(pcm), silence(0.6)])
        return transcribe(recognizer, line, grammar)[0]

    whole = sum(parse_dossier_code(heard(synthesizer.synthesize(code), DIGIT_GRAMMAR)) == code for code in codes)
    receptions = [code.split("-", 1)[1] for code in codes]
    espeak_parts = sum(
        parse_reception(heard(synthesizer.synthesize(read_code(r.replace("-", ", "))))) == r for r in receptions
    )
    human = spoken_receptions(voice)
    human_parts = human_two = 0
    for reception in human:
        date, sequence = reception.split("-")
        human_parts += parse_reception(heard(voice.say(date + sequence, groups=(6, 4)))) == reception
        # A longer pause between the groups: two utterances, joined by the call (voice.call).
        human_two += parse_reception(f"{heard(voice.say(date))} {heard(voice.say(sequence))}") == reception
    n = len(codes)
    print(f"  dossier codes spoken by espeak-ng, whole code: {whole}/{n} ({whole / n:.0%})")
    print(f"  spoken by espeak-ng, date and sequence part: {espeak_parts}/{n} ({espeak_parts / n:.0%})")
    print(
        f"  spoken in a human voice (digit words cut from the natural clips: {', '.join(sorted(voice.audio))}), "
        f"date and sequence part in one breath: {human_parts}/{len(human)} ({human_parts / len(human):.0%}), "
        f"date then sequence as two utterances: {human_two}/{len(human)} ({human_two / len(human):.0%})"
    )


QUESTIONS = [
    "đăng ký khai sinh cần giấy tờ gì",
    "làm căn cước công dân ở đâu",
    "đăng ký kết hôn mất bao lâu",
    "cấp lại giấy phép lái xe cần gì",
    "đăng ký tạm trú cần giấy tờ gì",
]


# A reply to the caller's speech that is not an answer: its latency is not the answer's.
REPROMPTS = (prompts.NOT_HEARD, prompts.ARE_YOU_THERE, prompts.THINKING_FAILED)
HOLDS = "p50 < 1.0 s and p95 < 1.5 s, slowest barge-in ≤ 300 ms"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else float("nan")


def measure_keyed_codes(url: str, simultaneous: int = 4) -> None:
    """Each fixture dossier code keyed as DTMF on a call; an exact match is the bot reading back that code."""
    codes = fixture_codes()
    gate = asyncio.Semaphore(simultaneous)

    async def read_back(code: str) -> str | None:
        keys = re.sub(r"\D", "", code.replace("H", "")) + "#"  # the keypad has no H: it is left out
        steps = [{"after_bot_starts": 0.5, "dtmf": "1"}, {"after_bot_starts": 0.5, "dtmf": keys},
                 {"after_bot_starts": 0.5, "hangup": True}]  # fmt: skip
        async with gate:
            record = await place_call(steps, url, max_seconds=60)
        said = [s for s in record.said("bot") if s.startswith("Mã hồ sơ bạn cho là ")]
        return parse_dossier_code(said[0]) if said else None

    async def all_codes() -> list[str | None]:
        return await asyncio.gather(*(read_back(code) for code in codes))

    matched = sum(heard == code for heard, code in zip(asyncio.run(all_codes()), codes, strict=True))
    print(
        f"  dossier codes keyed as DTMF over the line, read back exactly: {matched}/{len(codes)} "
        f"({matched / len(codes):.0%})"
    )


def answer_latencies(records: list[CallRecord]) -> tuple[list[float], int]:
    """Seconds from the end of each question to the first audio of its answer, and the replies that were not one."""
    replies = [reply for record in records for reply in record.replies]
    answers = [r.latency for r in replies if not r.text.startswith(REPROMPTS)]
    return answers, len(replies) - len(answers)


def measure_phone_line(url: str, turns: int, max_calls: int) -> None:
    """Voice-to-voice latency over a live /ws/phone, then how many simultaneous calls keep it."""

    def script(n: int) -> list[dict]:
        return [{"after_bot_starts": 1.0, "say": QUESTIONS[i % len(QUESTIONS)]} for i in range(n)] + [
            {"after_bot_starts": 0.5, "hangup": True}
        ]

    async def calls(count: int, n: int) -> list[CallRecord]:
        return await asyncio.gather(*(place_call(script(n), url, max_seconds=30 + 15 * n) for _ in range(count)))

    def summary(records: list[CallRecord]) -> tuple[float, float, float, str]:
        answers, others = answer_latencies(records)
        barge = max((x for r in records for x in r.barge_ins), default=float("nan"))
        counted = f"{len(answers)} answers" + (f", {others} re-prompts left out" if others else "")
        p50 = statistics.median(answers) if answers else float("nan")
        return p50, percentile(answers, 0.95), barge, counted

    p50, p95, barge, counted = summary(asyncio.run(calls(1, turns)))
    print(
        f"  voice-to-voice latency over {turns} questions of one call (end of caller speech → first audio of the "
        f"answer; {counted}): p50 {p50:.2f} s, p95 {p95:.2f} s (target p50 < 1.0 s, p95 < 1.5 s); "
        f"slowest barge-in {barge * 1000:.0f} ms"
    )
    held = 1 if p50 < 1.0 and p95 < 1.5 else 0
    count = 2
    while count <= max_calls:
        p50, p95, barge, counted = summary(asyncio.run(calls(count, 3)))
        ok = p50 < 1.0 and p95 < 1.5 and barge <= 0.3
        print(
            f"  {count} simultaneous calls ({counted}): latency p50 {p50:.2f} s, p95 {p95:.2f} s, "
            f"slowest barge-in {barge * 1000:.0f} ms {'(holds)' if ok else '(does not hold)'}"
        )
        if not ok:
            break
        held = count
        count *= 2
    print(f"  simultaneous calls that hold ({HOLDS}): {held}")


@contextlib.contextmanager
def phone_line(url: str | None, with_rasa: bool) -> Iterator[str]:
    """The /ws/phone to call: the one given, or a gateway (and Rasa) started here as the tests start them."""
    if url:
        yield url
        return
    sys.path.insert(0, str(_HERE.parent / "tests"))
    import processes

    with tempfile.TemporaryDirectory(prefix="citizenbot-bench-voice-") as folder:
        workdir = Path(folder)
        with contextlib.ExitStack() as stack:
            if with_rasa:
                gateway = stack.enter_context(processes.running_stack(workdir)).gateway
            else:  # nobody listens on the Rasa port: the gateway answers on its own, as when Rasa is down
                env = processes.knowledge_copy(workdir)
                rasa_url = f"http://127.0.0.1:{processes.free_port()}"
                server = processes.start_gateway(workdir, env, rasa_url)
                stack.callback(server.stop)
                gateway = server.url
            deadline = time.monotonic() + 120
            while httpx.get(f"{gateway}/ready", timeout=120).json()["checks"]["voice"]["state"] != "loaded":
                if time.monotonic() > deadline:
                    raise SystemExit(f"the speech engines of {gateway} did not load")
                time.sleep(0.5)
            print(f"  a gateway started for the benchmark at {gateway}{' with Rasa' if with_rasa else ', no Rasa'}")
            yield gateway.replace("http://", "ws://") + "/ws/phone"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-streams", type=int, default=16)
    parser.add_argument("--stream-seconds", type=float, default=8.0)
    parser.add_argument("--phone-url", help="a running /ws/phone (citizenbot serve); by default one is started")
    parser.add_argument("--rasa", action="store_true", help="with no --phone-url: start the action server and Rasa too")
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--max-calls", type=int, default=8)
    args = parser.parse_args()

    folder = Settings.from_env().shared_data_dir / "speech" / "natural"
    clips = load_clips(folder)
    print(f"{len(clips)} natural-speech clips from {folder}, 8 kHz after a G.711 μ-law round trip")

    print("\nviet-asr 0.1.0.dev11 (default backend)")
    before = rss_mb()
    started = time.perf_counter()
    viet = VietAsrRecognizer()
    print(f"  load {time.perf_counter() - started:.2f} s, +{rss_mb() - before:.0f} MB resident")
    measure_wer(viet, clips)
    print(f"  resident memory after recognition: {rss_mb():.0f} MB (whole process)")
    joined = np.concatenate([pcm for _, pcm, _ in clips])[: int(args.stream_seconds * SAMPLE_RATE)]
    measure_concurrency(viet, joined, args.max_streams)

    print("\nvosk 0.3.45")
    model_dir = VoiceSettings.from_env().vosk_model_dir
    if model_dir is None:
        print(
            "  not measured: no Vietnamese vosk model is configured (CITIZENBOT_VOSK_MODEL is unset) and none can "
            "be installed from the package registries; set CITIZENBOT_VOSK_MODEL to a Vietnamese model to measure it"
        )
    else:
        try:
            started = time.perf_counter()
            vosk = VoskRecognizer(model_dir)
            print(f"  model {model_dir}, load {time.perf_counter() - started:.2f} s")
            measure_wer(vosk, clips)
            measure_concurrency(vosk, joined, args.max_streams)
        except SpeechEngineError as error:
            print(f"  not measured: {error}")

    print("\nspeech synthesis")
    measure_tts(viet)

    print("\nphone line")
    measure_dossier_codes(viet, EspeakSynthesizer(), DigitVoice(folder))
    with phone_line(args.phone_url, args.rasa) as url:
        measure_keyed_codes(url)
        measure_phone_line(url, args.turns, args.max_calls)
    print(f"\npeak resident memory: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    main()
