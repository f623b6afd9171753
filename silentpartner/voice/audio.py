"""Telephone audio helpers: G.711 μ-law, resampling, 20 ms framing, loudness.

Everything here is numpy only, so it works on every Python the project supports (audioop is gone in 3.13).

- μ-law: lookup tables that reproduce CPython's audioop (`st_14linear2ulaw` on the 16-bit sample shifted to
  14 bits, clip 8159, bias 0x21) bit for bit; the textbook G.711 encoder with bias 0x84 on 16-bit values
  differs from audioop for some inputs, and Twilio only cares that the bytes are valid G.711.
- Resampling: a polyphase windowed-sinc filter (Kaiser window) for any rational ratio, with state kept
  between chunks so a stream cut into 20 ms pieces resamples exactly as if it came in one piece.
- Framing: Twilio Media Streams carry 20 ms of 8 kHz μ-law, 160 bytes, per media message.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from math import ceil, gcd

import numpy as np

PHONE_RATE = 8000
STT_RATE = 16000
FRAME_MS = 20
FRAME_BYTES = PHONE_RATE * FRAME_MS // 1000  # 160 μ-law bytes (one byte per sample) per 20 ms
MULAW_SILENCE = 0xFF  # the code for a zero sample

# ---------------------------------------------------------------------------------------------------------------
# G.711 μ-law

_SEGMENT_ENDS = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF], dtype=np.int32)


def _build_encode_table() -> np.ndarray:
    """μ-law code for every int16 sample value, indexed by sample + 32768."""
    x = np.arange(-32768, 32768, dtype=np.int32) >> 2  # audioop works on 14-bit magnitudes
    negative = x < 0
    magnitude = np.minimum(np.where(negative, -x, x), 8159) + 0x21
    segment = np.searchsorted(_SEGMENT_ENDS, magnitude)
    code = np.where(segment >= 8, 0x7F, (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F))
    return (code ^ np.where(negative, 0x7F, 0xFF)).astype(np.uint8)


def _build_decode_table() -> np.ndarray:
    """int16 sample for every μ-law code."""
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    t = (((u & 0x0F) << 3) + 0x84) << ((u & 0x70) >> 4)
    return np.where(u & 0x80, 0x84 - t, t - 0x84).astype("<i2")


ULAW_ENCODE = _build_encode_table()
ULAW_DECODE = _build_decode_table()


def pcm16_to_ulaw(pcm16: bytes) -> bytes:
    """16-bit little-endian linear PCM -> μ-law bytes (one per sample)."""
    samples = np.frombuffer(pcm16, dtype="<i2")
    return ULAW_ENCODE[samples.astype(np.int32) + 32768].tobytes()


def ulaw_to_pcm16(ulaw: bytes) -> bytes:
    """μ-law bytes -> 16-bit little-endian linear PCM."""
    return ULAW_DECODE[np.frombuffer(ulaw, dtype=np.uint8)].tobytes()


def ulaw_to_array(ulaw: bytes) -> np.ndarray:
    """μ-law bytes -> int16 samples."""
    return ULAW_DECODE[np.frombuffer(ulaw, dtype=np.uint8)]


def array_to_ulaw(samples: np.ndarray) -> bytes:
    """Samples (int16, or float in [-1, 1]) -> μ-law bytes."""
    return ULAW_ENCODE[to_int16(samples).astype(np.int32) + 32768].tobytes()


def to_int16(samples: np.ndarray) -> np.ndarray:
    """int16 passes through; float in [-1, 1] is scaled, rounded and clipped."""
    if samples.dtype == np.int16:
        return samples
    if np.issubdtype(samples.dtype, np.integer):
        return np.clip(samples, -32768, 32767).astype(np.int16)
    return np.clip(np.rint(samples.astype(np.float64) * 32768.0), -32768, 32767).astype(np.int16)


# ---------------------------------------------------------------------------------------------------------------
# Resampling


@cache
def _polyphase_bank(up: int, down: int, zero_crossings: int, rolloff: float) -> tuple[np.ndarray, int]:
    """Low-pass FIR for rate change up/down, split into `up` phases of `taps` coefficients each.

    Returns (bank[phase, k], delay) where delay is the filter's centre at the upsampled rate, so output
    sample n lines up in time with input position n * down / up.
    """
    cutoff = rolloff / max(up, down)  # cycles per sample at the upsampled rate, times two (sinc convention)
    half = ceil(zero_crossings / cutoff)
    n = np.arange(-half, half + 1, dtype=np.float64)
    beta = 8.6  # Kaiser beta: about 90 dB stopband, ample for 8-bit μ-law
    h = cutoff * np.sinc(cutoff * n) * np.kaiser(len(n), beta) * up  # gain `up` makes up for zero stuffing
    taps = ceil(len(h) / up)
    padded = np.zeros(taps * up, dtype=np.float64)
    padded[: len(h)] = h
    # bank[p, k] is the coefficient that multiplies input sample (i - k) for an output at phase p.
    bank = padded.reshape(taps, up).T.astype(np.float32).copy()
    return bank, half


class Resampler:
    """Streaming rational-ratio resampler for mono audio.

    `process` takes any number of samples and returns the output samples it can already compute; `flush`
    returns the tail. Feeding a signal in pieces gives the same samples as feeding it whole, and the
    output is aligned in time with the input (no filter delay), `ceil(n * out / in)` samples in total.
    One instance per direction per stream: it holds that stream's filter history.
    """

    BLOCK = 8192  # outputs computed per numpy step, to bound the temporary index matrix

    def __init__(self, in_rate: int, out_rate: int, *, zero_crossings: int = 16, rolloff: float = 0.94) -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError("sample rates must be positive")
        g = gcd(in_rate, out_rate)
        self.in_rate, self.out_rate = in_rate, out_rate
        self.up, self.down = out_rate // g, in_rate // g
        self._bank, self._delay = _polyphase_bank(self.up, self.down, zero_crossings, rolloff)
        self._taps = self._bank.shape[1]
        # _buffer[j] holds input sample (_base + j); samples before the stream began count as zeros.
        self._base = -self._taps
        self._buffer = np.zeros(self._taps, dtype=np.float32)
        self._received = 0  # input samples fed so far
        self._emitted = 0  # output samples returned so far
        self._flushed = False

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Feed input (int16 or float); returns float32 output in the same scale as the input."""
        if len(samples):
            self._buffer = np.concatenate([self._buffer, samples.astype(np.float32, copy=False)])
            self._received += len(samples)
        # Output n needs input up to index (n * down + delay) // up.
        if self._flushed:
            raise RuntimeError("Resampler.process after flush: use a new Resampler for a new stream")
        last_ready = (self._received * self.up - 1 - self._delay) // self.down
        return self._emit(last_ready + 1)

    def flush(self) -> np.ndarray:
        """The remaining output, computed as if the input were followed by silence. Ends the stream."""
        self._flushed = True
        total = ceil(self._received * self.up / self.down)
        pad = self._delay // self.up + 2
        self._buffer = np.concatenate([self._buffer, np.zeros(pad, dtype=np.float32)])
        return self._emit(total)

    def _emit(self, stop: int) -> np.ndarray:
        parts = []
        while self._emitted < stop:
            end = min(stop, self._emitted + self.BLOCK)
            if self.down == 1 or self.up == 1:
                parts.append(self._block_by_convolution(self._emitted, end))
            else:
                parts.append(self._block_by_gather(self._emitted, end))
            self._emitted = end
        # Drop history no future output needs.
        next_t = self._emitted * self.down + self._delay
        keep_from = next_t // self.up - self._taps + 1 - self._base
        if keep_from > 0:
            self._buffer = self._buffer[keep_from:]
            self._base += keep_from
        if not parts:
            return np.zeros(0, dtype=np.float32)
        return np.concatenate(parts).astype(np.float32, copy=False)

    def _block_by_gather(self, start: int, end: int) -> np.ndarray:
        """Outputs start..end-1 for any ratio: gather each output's input window and its phase's taps."""
        n = np.arange(start, end, dtype=np.int64)
        t = n * self.down + self._delay
        newest = t // self.up  # the newest input sample each output needs
        phase = t - newest * self.up
        index = (newest - self._base)[:, None] - np.arange(self._taps)[None, :]
        return np.einsum("nk,nk->n", self._bank[phase], self._buffer[index])

    def _block_by_convolution(self, start: int, end: int) -> np.ndarray:
        """Outputs start..end-1 when the ratio is a whole number (8k <-> 16k, 24k -> 8k): per phase, the
        outputs read consecutive inputs (upsampling) or every `down`-th input (downsampling), which is a
        plain convolution, several times faster than gathering windows for the short frames of a live call."""
        out = np.empty(end - start, dtype=np.float32)
        for p in range(self.up):
            first = (p - (start * self.down + self._delay)) % self.up  # first output in the block with phase p
            if first >= end - start:
                continue
            count = len(range(first, end - start, self.up))
            lo = ((start + first) * self.down + self._delay) // self.up  # newest input of that output
            stride = self.down
            hi = lo + (count - 1) * stride  # newest input of the phase's last output
            segment = self._buffer[lo - self._taps + 1 - self._base : hi + 1 - self._base]
            full = np.convolve(segment, self._bank[p], mode="valid")  # full[j]: output reading input lo+j
            out[first :: self.up] = full[::stride][:count]
        return out


def resample(samples: np.ndarray, in_rate: int, out_rate: int) -> np.ndarray:
    """Resample a whole clip; returns float32 in the input's scale (int16 input gives int16-scaled floats)."""
    if in_rate == out_rate:
        return samples.astype(np.float32)
    r = Resampler(in_rate, out_rate)
    return np.concatenate([r.process(samples), r.flush()])


def pcm_to_phone(samples: np.ndarray, rate: int) -> bytes:
    """A clip at any rate (int16, or float in [-1, 1]) -> 8 kHz μ-law bytes."""
    scaled = samples.astype(np.float32) / 32768.0 if samples.dtype == np.int16 else samples.astype(np.float32)
    return array_to_ulaw(resample(scaled, rate, PHONE_RATE))


def phone_to_pcm16k(ulaw: bytes) -> bytes:
    """8 kHz μ-law -> 16 kHz 16-bit little-endian PCM (a whole clip)."""
    up = resample(ulaw_to_array(ulaw), PHONE_RATE, STT_RATE)
    return to_int16(np.clip(np.rint(up), -32768, 32767).astype(np.int32)).astype("<i2").tobytes()


# ---------------------------------------------------------------------------------------------------------------
# Framing and loudness


def split_frames(data: bytes, frame_bytes: int = FRAME_BYTES, *, pad: bool = True) -> list[bytes]:
    """Cut μ-law audio into frames; the last partial frame is padded with μ-law silence (or dropped)."""
    frames = [data[i : i + frame_bytes] for i in range(0, len(data), frame_bytes)]
    if frames and len(frames[-1]) < frame_bytes:
        if pad:
            frames[-1] = frames[-1] + bytes([MULAW_SILENCE]) * (frame_bytes - len(frames[-1]))
        else:
            frames.pop()
    return frames


def iter_frames(data: bytes, frame_bytes: int = FRAME_BYTES) -> Iterator[bytes]:
    """Like split_frames with padding, lazily."""
    yield from split_frames(data, frame_bytes)


def silence_ulaw(ms: int) -> bytes:
    """`ms` milliseconds of 8 kHz μ-law silence."""
    return bytes([MULAW_SILENCE]) * (PHONE_RATE * ms // 1000)


def ulaw_duration(ulaw: bytes) -> float:
    """Seconds of audio in 8 kHz μ-law bytes."""
    return len(ulaw) / PHONE_RATE


def rms(samples: np.ndarray) -> float:
    """Root mean square of int16 samples, in sample units (0..32768)."""
    if len(samples) == 0:
        return 0.0
    x = samples.astype(np.float64)
    return float(np.sqrt(np.mean(x * x)))


def dbfs(samples: np.ndarray) -> float:
    """Level relative to full scale; -inf for digital silence."""
    level = rms(samples)
    return float("-inf") if level == 0 else 20.0 * float(np.log10(level / 32768.0))


def ulaw_rms(ulaw: bytes) -> float:
    """RMS of μ-law audio, in int16 sample units."""
    return rms(ulaw_to_array(ulaw))


def is_silent(ulaw: bytes, threshold_dbfs: float = -50.0) -> bool:
    """True when μ-law audio stays below `threshold_dbfs` (the default is well under quiet speech)."""
    return dbfs(ulaw_to_array(ulaw)) < threshold_dbfs
