"""G.711 μ-law, resampling and framing (silentpartner.voice.audio): pure numpy, no models needed."""

from __future__ import annotations

import importlib
import math
import warnings

import numpy as np
import pytest

from silentpartner.voice import audio

# ---------------------------------------------------------------------------------------------------------------
# Reference G.711 μ-law, written out sample by sample from the algorithm CPython's audioop implements
# (st_14linear2ulaw / st_ulaw2linear16), independently of the lookup tables under test.


def reference_encode(sample: int) -> int:
    value = sample >> 2  # 16-bit -> 14-bit
    if value < 0:
        value, mask = -value, 0x7F
    else:
        mask = 0xFF
    value = min(value, 8159) + 0x21
    segment_ends = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)
    segment = next((i for i, end in enumerate(segment_ends) if value <= end), 8)
    if segment >= 8:
        return 0x7F ^ mask
    return ((segment << 4) | ((value >> (segment + 1)) & 0x0F)) ^ mask


def reference_decode(code: int) -> int:
    code = ~code & 0xFF
    t = (((code & 0x0F) << 3) + 0x84) << ((code & 0x70) >> 4)
    return 0x84 - t if code & 0x80 else t - 0x84


ALL_SAMPLES = np.arange(-32768, 32768, dtype="<i2")
ALL_CODES = bytes(range(256))


def test_encode_matches_reference_for_every_16_bit_sample() -> None:
    expected = bytes(reference_encode(int(s)) for s in ALL_SAMPLES)
    assert audio.pcm16_to_ulaw(ALL_SAMPLES.tobytes()) == expected


def test_decode_matches_reference_for_every_code() -> None:
    expected = np.array([reference_decode(c) for c in ALL_CODES], dtype="<i2").tobytes()
    assert audio.ulaw_to_pcm16(ALL_CODES) == expected


def test_known_codes() -> None:
    # Fixed points of G.711: zero is 0xFF, full scale positive 0x80, full scale negative 0x00.
    assert audio.pcm16_to_ulaw(np.array([0, 32767, -32768], dtype="<i2").tobytes()) == bytes([0xFF, 0x80, 0x00])
    assert np.frombuffer(audio.ulaw_to_pcm16(bytes([0xFF, 0x80, 0x00, 0x7F])), "<i2").tolist() == [
        0,
        32124,
        -32124,
        0,
    ]


def test_bit_exact_with_audioop_where_it_exists() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        try:
            audioop = importlib.import_module("audioop")
        except ModuleNotFoundError:
            pytest.skip("no audioop on this Python (3.13+ without audioop-lts); the reference formula test covers it")
    pcm = ALL_SAMPLES.tobytes()
    assert audio.pcm16_to_ulaw(pcm) == audioop.lin2ulaw(pcm, 2)
    assert audio.ulaw_to_pcm16(ALL_CODES) == audioop.ulaw2lin(ALL_CODES, 2)


def test_code_round_trip() -> None:
    # Every code decodes and re-encodes to itself, except 0x7F ("negative zero"), which becomes 0xFF.
    again = audio.pcm16_to_ulaw(audio.ulaw_to_pcm16(ALL_CODES))
    assert [c for c in range(256) if again[c] != c] == [0x7F]
    assert again[0x7F] == 0xFF


def test_sample_round_trip_error_is_within_one_quantization_step() -> None:
    decoded = np.frombuffer(audio.ulaw_to_pcm16(audio.pcm16_to_ulaw(ALL_SAMPLES.tobytes())), "<i2")
    error = np.abs(decoded.astype(np.int32) - ALL_SAMPLES.astype(np.int32))
    # μ-law steps double per segment: half a step is at most about 5% of the magnitude (plus a floor near zero).
    magnitude = np.abs(ALL_SAMPLES.astype(np.int32))
    bound = np.maximum(magnitude * 0.051, 12)
    bound[magnitude > 32124] = 645  # beyond the top code, samples clip to +-32124
    assert np.all(error <= bound)


def test_float_input_is_scaled_and_clipped() -> None:
    floats = np.array([0.0, 0.5, -0.5, 1.5, -1.5], dtype=np.float32)
    assert audio.array_to_ulaw(floats) == audio.pcm16_to_ulaw(
        np.array([0, 16384, -16384, 32767, -32768], dtype="<i2").tobytes()
    )


# ---------------------------------------------------------------------------------------------------------------
# Resampling


@pytest.mark.parametrize(("in_rate", "out_rate"), [(8000, 16000), (16000, 8000), (24000, 8000), (22050, 8000)])
@pytest.mark.parametrize("length", [0, 1, 159, 160, 4000, 24001])
def test_resampled_length(in_rate: int, out_rate: int, length: int) -> None:
    x = np.random.default_rng(length).normal(0, 3000, length).astype(np.float32)
    assert len(audio.resample(x, in_rate, out_rate)) == math.ceil(length * out_rate / in_rate)


@pytest.mark.parametrize(("in_rate", "out_rate"), [(8000, 16000), (24000, 8000), (22050, 8000)])
def test_streaming_in_pieces_equals_whole(in_rate: int, out_rate: int) -> None:
    x = np.random.default_rng(1).normal(0, 5000, in_rate).astype(np.float32)
    whole = audio.resample(x, in_rate, out_rate)
    resampler = audio.Resampler(in_rate, out_rate)
    pieces = [resampler.process(x[i : i + 173]) for i in range(0, len(x), 173)]
    pieces.append(resampler.flush())
    np.testing.assert_allclose(np.concatenate(pieces), whole, atol=1e-2)


@pytest.mark.parametrize(
    ("in_rate", "out_rate", "freq"), [(8000, 16000, 1000), (24000, 8000, 440), (22050, 8000, 3000)]
)
def test_tones_keep_pitch_level_and_timing(in_rate: int, out_rate: int, freq: int) -> None:
    t_in = np.arange(in_rate) / in_rate
    out = audio.resample(np.sin(2 * np.pi * freq * t_in) * 10000, in_rate, out_rate)
    t_out = np.arange(out_rate) / out_rate
    expected = np.sin(2 * np.pi * freq * t_out) * 10000
    middle = slice(out_rate // 10, -out_rate // 10)  # away from the edges, where the clip starts and stops
    assert np.max(np.abs(out[middle] - expected[middle])) < 0.01 * 10000  # in phase (no delay) and level


def test_downsampling_removes_what_the_phone_cannot_carry() -> None:
    # A 6 kHz tone at 16 kHz would alias to 2 kHz at 8 kHz; the filter must remove it.
    t = np.arange(16000) / 16000
    out = audio.resample(np.sin(2 * np.pi * 6000 * t) * 10000, 16000, 8000)
    assert audio.dbfs(out[800:-800].astype(np.int16)) < -90 + 20 * math.log10(10000 / 32768) + 40


def test_process_after_flush_is_refused() -> None:
    resampler = audio.Resampler(8000, 16000)
    resampler.flush()
    with pytest.raises(RuntimeError):
        resampler.process(np.zeros(10, np.float32))


def test_phone_round_trip_keeps_speech_band() -> None:
    # 1 kHz at 16 kHz -> 8 kHz μ-law -> 16 kHz: same tone back, within μ-law's 8-bit noise.
    t = np.arange(16000) / 16000
    tone = (np.sin(2 * np.pi * 1000 * t) * 8000).astype(np.int16)
    back = np.frombuffer(audio.phone_to_pcm16k(audio.pcm_to_phone(tone, 16000)), "<i2")
    assert len(back) == 16000
    error = back[1600:-1600].astype(np.float64) - tone[1600:-1600]
    assert audio.rms(error) < 0.05 * audio.rms(tone)


# ---------------------------------------------------------------------------------------------------------------
# Framing and loudness


def test_twenty_ms_frames() -> None:
    assert audio.FRAME_BYTES == 160
    frames = audio.split_frames(bytes(range(256)) * 2)  # 512 bytes: 3 full frames and 32 bytes
    assert [len(f) for f in frames] == [160, 160, 160, 160]
    assert frames[3] == (bytes(range(256)) * 2)[480:] + bytes([audio.MULAW_SILENCE]) * 128
    assert b"".join(audio.split_frames(bytes(480))) == bytes(480)
    assert len(audio.split_frames(bytes(500), pad=False)) == 3
    assert audio.split_frames(b"") == []
    assert list(audio.iter_frames(bytes(170))) == audio.split_frames(bytes(170))


def test_silence_and_levels() -> None:
    quiet = audio.silence_ulaw(1000)
    assert len(quiet) == 8000 and audio.ulaw_duration(quiet) == 1.0
    assert audio.is_silent(quiet)
    assert audio.dbfs(np.zeros(10, np.int16)) == float("-inf")
    assert audio.rms(np.zeros(0, np.int16)) == 0.0
    tone = (np.sin(2 * np.pi * 440 * np.arange(8000) / 8000) * 16384).astype(np.int16)
    assert audio.dbfs(tone) == pytest.approx(-9.03, abs=0.05)  # half scale sine: -6 dB peak, -3 dB more for RMS
    loud = audio.array_to_ulaw(tone)
    assert not audio.is_silent(loud)
    assert audio.ulaw_rms(loud) == pytest.approx(audio.rms(tone), rel=0.02)
