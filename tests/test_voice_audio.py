"""Telephone audio: G.711 μ-law against the standard's values, resampling, frames, WAV files."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
from voice_support import natural_clip

from voice.audio import (
    FRAME_BYTES,
    FRAME_SAMPLES,
    SAMPLE_RATE,
    ULAW_DECODE_TABLE,
    as_pcm,
    frames,
    read_wav,
    read_wav_8k,
    resample,
    ulaw_decode,
    ulaw_encode,
    ulaw_round_trip,
    write_wav,
)

# G.711 μ-law decoder output at the first step of each of the 8 positive segments, in the
# standard's 14-bit units (0, 33, 99, … 4191, then the largest value 8031), ×4 for 16-bit PCM.
SEGMENT_STARTS_14BIT = [0, 33, 99, 231, 495, 1023, 2079, 4191]


def test_decoder_matches_the_standard_values() -> None:
    for segment, value in enumerate(SEGMENT_STARTS_14BIT):
        positive_code = 0xFF - (segment << 4)  # codes are sent inverted: 0xFF is +0, 0x80 the largest
        assert ULAW_DECODE_TABLE[positive_code] == 4 * value
        assert ULAW_DECODE_TABLE[positive_code & 0x7F] == -4 * value
    assert ULAW_DECODE_TABLE[0x80] == 4 * 8031 == 32124
    assert ULAW_DECODE_TABLE[0x00] == -32124
    assert ULAW_DECODE_TABLE[0x7F] == 0  # negative zero
    # Within a segment the step is 2^(segment+1) in 14-bit units: segment 0 steps by 2 (×4 = 8).
    assert list(ulaw_decode(bytes([0xFF, 0xFE, 0xFD]))) == [0, 8, 16]
    assert list(ulaw_decode(bytes([0x8F, 0x8E]))) == [16764, 16764 + 4 * 256]


def test_encoder_known_values() -> None:
    samples = np.array([0, 32767, -32768, 8, -8, 132, -132, 16764, 32124], dtype=np.int16)
    assert list(ulaw_encode(samples)) == [0xFF, 0x80, 0x00, 0xFE, 0x7E, 0xEF, 0x6F, 0x8F, 0x80]


def test_every_code_survives_a_round_trip() -> None:
    codes = bytes(c for c in range(256) if c != 0x7F)  # negative zero comes back as positive zero
    assert ulaw_encode(ulaw_decode(codes)) == codes
    assert ulaw_encode(ulaw_decode(bytes([0x7F]))) == bytes([0xFF])


def test_quantisation_error_is_bounded_and_the_code_monotonic() -> None:
    x = np.arange(-32768, 32768, dtype=np.int32)
    y = ulaw_round_trip(x.astype(np.int16)).astype(np.int32)
    assert np.all(np.abs(y - x) <= np.abs(x) / 32 + 8)
    assert np.all(np.diff(y) >= 0)  # a louder input never decodes quieter


def test_bit_exact_with_audioop() -> None:
    # audioop is the reference implementation that Python < 3.13 shipped; this project runs on 3.11.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import audioop
    every = np.arange(-32768, 32768, dtype=np.int16)
    assert ulaw_encode(every) == audioop.lin2ulaw(every.tobytes(), 2)
    assert ulaw_decode(bytes(range(256))).tobytes() == audioop.ulaw2lin(bytes(range(256)), 2)


def test_speech_keeps_its_quality_through_mu_law() -> None:
    speech = read_wav_8k(natural_clip(2)).astype(np.float64)
    error = ulaw_round_trip(speech.astype(np.int16)) - speech
    snr = 10 * np.log10(np.sum(speech**2) / np.sum(error**2))
    assert snr > 30  # G.711 gives about 38 dB on speech


def test_bytes_and_arrays_are_interchangeable() -> None:
    pcm = np.array([0, 1000, -1000, 32767], dtype=np.int16)
    assert ulaw_encode(pcm.tobytes()) == ulaw_encode(pcm)
    assert np.array_equal(as_pcm(pcm.tobytes()), pcm)
    assert np.array_equal(as_pcm(np.array([0.4, 40000.0, -40000.0])), [0, 32767, -32768])


def tone(frequency: float, rate: int, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (10000 * np.sin(2 * np.pi * frequency * t)).astype(np.int16)


def dominant_frequency(pcm: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(pcm.astype(np.float64)))
    return float(np.fft.rfftfreq(len(pcm), 1 / rate)[np.argmax(spectrum)])


def test_resampling_keeps_the_band_and_filters_what_8khz_cannot_carry() -> None:
    low = resample(tone(1000, 24000), 24000, SAMPLE_RATE)
    assert len(low) == SAMPLE_RATE
    assert dominant_frequency(low, SAMPLE_RATE) == pytest.approx(1000, abs=2)
    assert np.abs(low).max() == pytest.approx(10000, rel=0.05)
    # 5 kHz is above the 4 kHz Nyquist limit: without filtering it would fold to 3 kHz.
    assert np.abs(resample(tone(5000, 24000), 24000, SAMPLE_RATE)[100:-100]).max() < 300  # edges: filter start-up
    # Odd ratios (espeak's 22.05 kHz) and the way back up.
    assert len(resample(tone(440, 22050), 22050, SAMPLE_RATE)) == SAMPLE_RATE
    assert dominant_frequency(resample(low, SAMPLE_RATE, 16000), 16000) == pytest.approx(1000, abs=2)


def test_frames_are_20_ms_and_the_last_one_padded() -> None:
    pcm = np.arange(FRAME_SAMPLES * 2 + 10, dtype=np.int16)
    cut = list(frames(pcm))
    assert [len(f) for f in cut] == [FRAME_SAMPLES] * 3
    assert FRAME_SAMPLES == 160 and FRAME_BYTES == 320
    assert np.array_equal(cut[2][:10], pcm[-10:]) and not cut[2][10:].any()
    assert len(list(frames(pcm, pad=False))) == 2
    assert len(list(frames(pcm.tobytes()))) == 3


def test_wav_round_trip_and_reading_the_shared_clips(tmp_path: Path) -> None:
    pcm = tone(300, SAMPLE_RATE, 0.5)
    path = write_wav(tmp_path / "sub" / "tone.wav", pcm)
    samples, rate = read_wav(path)
    assert rate == SAMPLE_RATE and np.array_equal(samples, pcm)
    original, original_rate = read_wav(natural_clip(1))
    assert original_rate == 24000
    assert len(read_wav_8k(natural_clip(1))) == pytest.approx(len(original) / 3, abs=1)
