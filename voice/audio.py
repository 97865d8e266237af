"""Telephone audio: 8 kHz 16-bit mono PCM inside, G.711 μ-law on the wire.

Everything in :mod:`voice` passes audio around as 8 kHz int16 PCM (numpy arrays
or little-endian bytes). The μ-law codec is written here because ``audioop``
left the standard library in Python 3.13; it is bit-exact with ``audioop``'s
``lin2ulaw``/``ulaw2lin`` (the CCITT G.711 reference algorithm on the top 14 bits).
"""

from __future__ import annotations

import wave
from collections.abc import Iterator
from math import gcd
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

SAMPLE_RATE = 8000
FRAME_MS = 20
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000  # 160
FRAME_BYTES = FRAME_SAMPLES * 2  # 16-bit PCM; a μ-law frame is FRAME_SAMPLES bytes

_ULAW_BIAS = 0x84  # 132 in 16-bit units (33 in the standard's 14-bit units)
_ULAW_CLIP = 8159  # largest 14-bit magnitude before the bias is added
_SEGMENT_ENDS = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])


def _decode_table() -> np.ndarray:
    codes = ~np.arange(256, dtype=np.int32) & 0xFF
    mantissa = codes & 0x0F
    exponent = (codes >> 4) & 0x07
    magnitude = (((mantissa << 3) + _ULAW_BIAS) << exponent) - _ULAW_BIAS
    return np.where(codes & 0x80, -magnitude, magnitude).astype(np.int16)


ULAW_DECODE_TABLE = _decode_table()


def as_pcm(audio: bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
    """int16 samples from bytes (little-endian) or any numeric array."""
    if isinstance(audio, bytes | bytearray | memoryview):
        return np.frombuffer(audio, dtype="<i2").astype(np.int16, copy=False)
    array = np.asarray(audio)
    if array.dtype == np.int16:
        return array
    if np.issubdtype(array.dtype, np.floating):
        return float_to_pcm(array)
    return np.clip(array, -32768, 32767).astype(np.int16)


def pcm_bytes(pcm: np.ndarray) -> bytes:
    return np.asarray(pcm, dtype="<i2").tobytes()


def float_to_pcm(samples: np.ndarray) -> np.ndarray:
    """Round and clip float samples already on the int16 scale."""
    return np.clip(np.rint(samples), -32768, 32767).astype(np.int16)


def ulaw_encode(audio: bytes | np.ndarray) -> bytes:
    """16-bit linear PCM → G.711 μ-law, one byte per sample."""
    pcm = as_pcm(audio).astype(np.int32) >> 2  # to the standard's 14-bit range (arithmetic shift, as audioop)
    negative = pcm < 0
    magnitude = np.minimum(np.where(negative, -pcm, pcm), _ULAW_CLIP) + (_ULAW_BIAS >> 2)
    segment = np.searchsorted(_SEGMENT_ENDS, magnitude)  # first segment whose end is >= magnitude
    code = (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F)
    code = np.where(segment >= len(_SEGMENT_ENDS), 0x7F, code)  # beyond the last segment: the largest code
    mask = np.where(negative, 0x7F, 0xFF)
    return (code ^ mask).astype(np.uint8).tobytes()


def ulaw_decode(data: bytes | bytearray | memoryview | np.ndarray) -> np.ndarray:
    """G.711 μ-law bytes → 16-bit linear PCM."""
    codes = np.frombuffer(data, dtype=np.uint8) if not isinstance(data, np.ndarray) else data.astype(np.uint8)
    return ULAW_DECODE_TABLE[codes]


def ulaw_round_trip(audio: bytes | np.ndarray) -> np.ndarray:
    """What the caller's audio sounds like after crossing a G.711 μ-law line."""
    return ulaw_decode(ulaw_encode(audio))


def resample(pcm: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """Polyphase resampling (anti-aliasing included) of int16 or float samples, returned as int16."""
    samples = np.asarray(pcm)
    if from_rate == to_rate:
        return as_pcm(samples)
    divisor = gcd(int(from_rate), int(to_rate))
    out = resample_poly(samples.astype(np.float32), int(to_rate) // divisor, int(from_rate) // divisor)
    return float_to_pcm(out)


def to_8k(pcm: np.ndarray, rate: int) -> np.ndarray:
    return resample(pcm, rate, SAMPLE_RATE)


def frames(pcm: np.ndarray | bytes, frame_samples: int = FRAME_SAMPLES, pad: bool = True) -> Iterator[np.ndarray]:
    """Consecutive frames (20 ms at 8 kHz by default); the last one is zero-padded or, without pad, dropped."""
    samples = as_pcm(pcm)
    whole = len(samples) // frame_samples * frame_samples
    for start in range(0, whole, frame_samples):
        yield samples[start : start + frame_samples]
    if pad and whole < len(samples):
        tail = np.zeros(frame_samples, dtype=np.int16)
        tail[: len(samples) - whole] = samples[whole:]
        yield tail


def silence(seconds: float, rate: int = SAMPLE_RATE) -> np.ndarray:
    return np.zeros(round(seconds * rate), dtype=np.int16)


def duration(pcm: np.ndarray | bytes, rate: int = SAMPLE_RATE) -> float:
    return len(as_pcm(pcm)) / rate


def read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    """(int16 mono samples, sample rate) of a 16-bit PCM or μ-law WAV; stereo is mixed down."""
    with wave.open(str(path), "rb") as wav:
        rate, channels, width = wav.getframerate(), wav.getnchannels(), wav.getsampwidth()
        raw = wav.readframes(wav.getnframes())
        if wav.getcomptype() != "NONE":
            raise ValueError(f"{path}: compressed WAV ({wav.getcomptype()}) is not supported")
    if width == 2:
        samples = np.frombuffer(raw, dtype="<i2").astype(np.int16)
    elif width == 1:  # 8-bit WAV is unsigned
        samples = ((np.frombuffer(raw, dtype=np.uint8).astype(np.int16) - 128) << 8).astype(np.int16)
    elif width == 4:
        samples = (np.frombuffer(raw, dtype="<i4") >> 16).astype(np.int16)
    else:
        raise ValueError(f"{path}: {8 * width}-bit WAV is not supported")
    if channels > 1:
        samples = float_to_pcm(samples.reshape(-1, channels).mean(axis=1))
    return samples, rate


def read_wav_8k(path: str | Path) -> np.ndarray:
    """A WAV file as 8 kHz int16 mono PCM, the internal format."""
    samples, rate = read_wav(path)
    return to_8k(samples, rate)


def write_wav(path: str | Path, pcm: np.ndarray | bytes, rate: int = SAMPLE_RATE) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(pcm_bytes(as_pcm(pcm)))
    return path
