"""course_utils.augment: exact SNR, lengths, levels, band limits, reproducibility, SpecAugment masks."""

import numpy as np
import pytest
import torch

from course_utils import augment as A
from course_utils.audio import AudioError

SR = 16000
SNR_TOL_DB = 0.1


def _tone(freq: float = 440.0, seconds: float = 1.0, amp: float = 0.1) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def _band_db(x: np.ndarray, lo: float, hi: float, sr: int = SR) -> float:
    """Mean power spectral density of ``x`` between ``lo`` and ``hi`` Hz, in dB."""
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(x.size, 1 / sr)
    return float(10 * np.log10(spectrum[(freqs >= lo) & (freqs < hi)].mean()))


def _peak_hz(x: np.ndarray, sr: int = SR) -> float:
    return float(np.argmax(np.abs(np.fft.rfft(x))) * sr / x.size)


def _ok(y: np.ndarray) -> bool:
    return y.dtype == np.float32 and y.ndim == 1 and bool(np.all(np.isfinite(y))) and float(np.abs(y).max()) <= 1.0


# ----------------------------------------------------------------------------- noise
@pytest.mark.parametrize("color", ["white", "pink", "brown"])
@pytest.mark.parametrize("snr_db", [0.0, 10.0, 25.0])
def test_add_noise_hits_the_requested_snr(color, snr_db):
    x = _tone(amp=0.05)
    y = A.add_noise(x, snr_db, np.random.default_rng(0), color=color)
    noise = y.astype(np.float64) - x
    achieved = 10 * np.log10(np.sum(x.astype(np.float64) ** 2) / np.sum(noise**2))
    assert abs(achieved - snr_db) < SNR_TOL_DB
    assert _ok(y) and y.shape == x.shape


def test_noise_colors_tilt_towards_low_frequencies():
    x = _tone(amp=0.05, seconds=2.0)
    tilt = {}
    for color in ["white", "pink", "brown"]:
        noise = A.add_noise(x, 0.0, np.random.default_rng(1), color=color) - x
        tilt[color] = _band_db(noise, 50, 200) - _band_db(noise, 3000, 6000)
    assert abs(tilt["white"]) < 3 < tilt["pink"] < tilt["brown"]


def test_add_noise_keeps_loud_mixtures_within_full_scale():
    y = A.add_noise(_tone(amp=0.99), -5.0, np.random.default_rng(0))
    assert _ok(y)


def test_add_noise_rejects_silence_and_unknown_colors():
    with pytest.raises(AudioError, match="silent"):
        A.add_noise(np.zeros(1600, dtype=np.float32), 10.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="color"):
        A.add_noise(_tone(), 10.0, np.random.default_rng(0), color="purple")


def test_waveform_functions_reject_stereo_input():
    with pytest.raises(AudioError, match="mono"):
        A.gain(np.zeros((2, 1600), dtype=np.float32) + 0.1, 3.0)


# ----------------------------------------------------------------------------- reverb
def test_add_reverb_keeps_length_and_level():
    x = _tone()
    y = A.add_reverb(x, SR, np.random.default_rng(0))
    assert _ok(y) and y.shape == x.shape
    assert np.sqrt(np.mean(y.astype(np.float64) ** 2)) == pytest.approx(np.sqrt(np.mean(x.astype(np.float64) ** 2)),
                                                                        rel=1e-3)


def test_longer_rt60_leaves_a_longer_tail():
    burst = np.zeros(SR, dtype=np.float32)
    burst[:800] = _tone(seconds=0.05, amp=0.5)
    tails = [np.sum(A.add_reverb(burst, SR, np.random.default_rng(0), rt60=rt60)[4000:] ** 2) for rt60 in (0.15, 0.7)]
    assert tails[1] > 10 * tails[0]


def test_add_reverb_is_reproducible_for_a_seed():
    x = _tone()
    a = A.add_reverb(x, SR, np.random.default_rng(7))
    b = A.add_reverb(x, SR, np.random.default_rng(7))
    c = A.add_reverb(x, SR, np.random.default_rng(8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


# ----------------------------------------------------------------------------- speed, pitch
@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_speed_perturb_scales_length_and_pitch(factor):
    x = _tone(440.0)
    y = A.speed_perturb(x, factor)
    assert _ok(y) and abs(y.size - x.size / factor) <= 1
    assert _peak_hz(y) == pytest.approx(440.0 * factor, abs=2.0)


def test_speed_perturb_rejects_extreme_factors():
    with pytest.raises(ValueError, match="factor"):
        A.speed_perturb(_tone(), 3.0)


def test_pitch_shift_moves_pitch_and_keeps_duration():
    x = _tone(440.0)
    y = A.pitch_shift(x, SR, 2.0)
    assert _ok(y) and y.shape == x.shape
    assert _peak_hz(y) == pytest.approx(440.0 * 2 ** (2 / 12), abs=3.0)


# ----------------------------------------------------------------------------- telephone, gain
def test_telephone_keeps_300_to_3400_hz_and_length():
    x = (0.1 * np.random.default_rng(0).standard_normal(SR)).astype(np.float32)
    y = A.telephone(x, SR)
    assert _ok(y) and y.shape == x.shape
    passband = _band_db(y, 500, 3000)
    assert passband - _band_db(y, 0, 150) > 20
    assert passband - _band_db(y, 4200, 8000) > 40


def test_telephone_is_deterministic_without_rng_and_reproducible_with_one():
    x = _tone(1000.0)
    assert np.array_equal(A.telephone(x, SR), A.telephone(x, SR))
    seeded = [A.telephone(x, SR, np.random.default_rng(s)) for s in range(6)]
    assert np.array_equal(seeded[0], A.telephone(x, SR, np.random.default_rng(0)))
    assert all(_ok(y) and y.shape == x.shape for y in seeded)


def test_gain_scales_by_decibels_and_clips():
    x = _tone(amp=0.1)
    assert np.abs(A.gain(x, 6.0)).max() == pytest.approx(0.1 * 10 ** (6 / 20), rel=1e-4)
    assert np.abs(A.gain(x, 40.0)).max() == pytest.approx(1.0)


# ----------------------------------------------------------------------------- random chain
def test_random_augment_outputs_are_valid_and_seeded():
    x = _tone(amp=0.5)
    outs = [A.random_augment(x, SR, np.random.default_rng(s), p=0.5) for s in range(6)]
    assert all(_ok(y) and abs(y.size - x.size) <= x.size * 0.12 for y in outs)
    assert np.array_equal(outs[0], A.random_augment(x, SR, np.random.default_rng(0), p=0.5))


def test_random_augment_p0_is_identity_and_p1_changes_the_signal():
    x = _tone()
    assert np.array_equal(A.random_augment(x, SR, np.random.default_rng(0), p=0.0), x)
    y = A.random_augment(x, SR, np.random.default_rng(0), p=1.0)
    assert _ok(y) and (y.size != x.size or not np.allclose(y, x, atol=1e-3))


def test_random_augment_survives_silence():
    y = A.random_augment(np.zeros(SR, dtype=np.float32), SR, np.random.default_rng(0), p=1.0)
    assert _ok(y)


# ----------------------------------------------------------------------------- SpecAugment
def _masked_frames(m: torch.Tensor) -> int:
    return int((m == 0).all(-1).sum())


def _masked_bins(m: torch.Tensor) -> int:
    return int((m == 0).all(-2).sum())


def test_spec_augment_masks_bounded_bands_and_leaves_input_untouched():
    feats = torch.randn(8, 200, 40) + 5.0                          # (B, T, F), no zeros by chance
    original = feats.clone()
    out = A.spec_augment(feats, freq_masks=2, freq_width=8, time_masks=2, time_width=20,
                         generator=torch.Generator().manual_seed(0))
    assert out.shape == feats.shape and torch.equal(feats, original)
    frames = [_masked_frames(m) for m in out]
    bins = [_masked_bins(m) for m in out]
    assert max(frames) <= 2 * 20 and max(bins) <= 2 * 8
    assert sum(frames) > 0 and sum(bins) > 0
    kept = out != 0
    assert torch.equal(out[kept], feats[kept])                     # unmasked values unchanged
    assert not torch.equal(out[0] == 0, out[1] == 0)               # each item has its own masks


def test_spec_augment_caps_time_masks_on_short_inputs():
    feats = torch.randn(30, 40) + 5.0                              # (T, F) with T = 30
    cap = int(A.MAX_TIME_MASK_FRACTION * 30)
    for seed in range(20):
        out = A.spec_augment(feats, time_width=20, generator=torch.Generator().manual_seed(seed))
        assert out.shape == feats.shape and _masked_frames(out) <= 2 * cap


def test_spec_augment_is_reproducible_with_a_generator():
    feats = torch.randn(4, 100, 40)
    a = A.spec_augment(feats, generator=torch.Generator().manual_seed(3))
    b = A.spec_augment(feats, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_spec_augment_rejects_1d_input():
    with pytest.raises(ValueError, match="shape"):
        A.spec_augment(torch.randn(40))


def test_spec_augment_module_masks_in_train_and_is_identity_in_eval():
    layer = A.SpecAugment(generator=torch.Generator().manual_seed(0))
    feats = torch.randn(4, 100, 40) + 5.0
    assert layer.eval()(feats) is feats
    assert (layer.train()(feats) == 0).any()
