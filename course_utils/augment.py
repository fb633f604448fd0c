"""Augmentation that helps models trained on synthetic voices hold up on real human ones.

- Waveform functions take and return float32 NumPy arrays ``(n,)`` in [-1, 1]; the random ones
  take an ``np.random.Generator`` so a seed repeats a run exactly.
- ``add_noise`` (white / pink / brown at an exact SNR), ``add_reverb`` (synthetic room),
  ``speed_perturb`` (Kaldi-style tempo + pitch), ``pitch_shift`` (pitch only), ``telephone``
  (300-3400 Hz via 8 kHz, optional mu-law), ``gain``; ``random_augment`` chains them at random.
- ``spec_augment`` / :class:`SpecAugment` mask frequency bands and time spans of features
  ``(T, F)`` or ``(B, T, F)`` (Park et al., 2019); the module is active only in ``.train()`` mode.
- FINDINGS.md: SpecAugment and 4 kHz-capped features are cheap and safe; the heavy waveform chain
  doubled step cost and hurt at a 10-minute budget, so measure before turning it on.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor, nn

from .audio import AudioError, check_audio

__all__ = [
    "add_noise", "add_reverb", "speed_perturb", "pitch_shift", "telephone", "gain", "random_augment",
    "spec_augment", "SpecAugment",
]

#: A time mask never covers more than this fraction of an utterance's frames.
MAX_TIME_MASK_FRACTION = 0.2


def _mono(x, name: str = "x") -> np.ndarray:
    """Return ``x`` checked as a 1-D float32 array; raise :class:`AudioError` otherwise."""
    x = check_audio(x, name=name)
    if x.ndim != 1:
        raise AudioError(f"{name}: expected mono audio of shape (n,), got {x.shape}; mix down with audio.to_mono")
    return x


def _peak_limit(y: np.ndarray, peak: float = 1.0) -> np.ndarray:
    """Return ``y`` as float32, scaled down (not clipped) if its largest absolute sample exceeds ``peak``."""
    m = float(np.max(np.abs(y))) if y.size else 0.0
    if m > peak:
        y = y * (peak / m)
    return y.astype(np.float32)


def _power(x: np.ndarray) -> float:
    """Return the mean power of ``x`` (float64 accumulation)."""
    return float(np.mean(np.square(x, dtype=np.float64)))


# ----------------------------------------------------------------------------- waveform
def _colored_noise(n: int, color: str, rng: np.random.Generator) -> np.ndarray:
    """Return ``n`` samples of white, pink (1/f power) or brown (1/f^2 power) Gaussian noise."""
    white = rng.standard_normal(n)
    if color == "white":
        return white
    exponent = {"pink": 0.5, "brown": 1.0}.get(color)
    if exponent is None:
        raise ValueError(f"color must be 'white', 'pink' or 'brown', got {color!r}")
    spectrum = np.fft.rfft(white)                                           # (n//2+1,)
    f = np.arange(spectrum.size, dtype=np.float64)
    f[0] = 1.0  # keep DC finite; it is removed below anyway
    shaped = np.fft.irfft(spectrum / f**exponent, n=n)
    return shaped - shaped.mean()


def add_noise(x, snr_db: float, rng: np.random.Generator, color: str = "white") -> np.ndarray:
    """Return ``x`` plus ``color`` noise at exactly ``snr_db`` dB SNR (mixture scaled down if it would clip)."""
    x = _mono(x)
    signal_power = _power(x)
    if signal_power == 0.0:
        raise AudioError("x: is silent, so an SNR is undefined; skip add_noise for silent clips")
    noise = _colored_noise(x.size, color, rng)
    noise *= np.sqrt(signal_power / (_power(noise) * 10.0 ** (snr_db / 10.0)))
    return _peak_limit(x + noise)


def add_reverb(x, sr: int, rng: np.random.Generator, rt60: float | None = None) -> np.ndarray:
    """Return ``x`` convolved with a synthetic room impulse response, same length and RMS as ``x``.

    The response is a direct-path impulse plus Gaussian noise decaying by 60 dB over ``rt60``
    seconds (drawn from 0.15-0.7 s when None), at a direct-to-reverberant ratio of 0-10 dB.
    """
    from scipy.signal import fftconvolve

    x = _mono(x)
    rt60 = float(rng.uniform(0.15, 0.7)) if rt60 is None else float(rt60)
    if not 0.0 < rt60 <= 5.0:
        raise ValueError(f"rt60 must be in (0, 5] seconds, got {rt60}")
    t = np.arange(1, max(int(rt60 * sr), 2)) / sr                           # tail times after the direct path
    tail = rng.standard_normal(t.size) * np.exp(-np.log(1000.0) * t / rt60)  # amplitude -60 dB at rt60
    drr_db = rng.uniform(0.0, 10.0)
    tail *= np.sqrt(10.0 ** (-drr_db / 10.0) / np.sum(tail**2))             # direct path has energy 1
    rir = np.concatenate([[1.0], tail])
    wet = fftconvolve(x.astype(np.float64), rir)[: x.size]                  # (n,) causal, aligned
    wet_power = _power(wet)
    if wet_power > 0.0:
        wet *= np.sqrt(_power(x) / wet_power)
    return _peak_limit(wet)


def speed_perturb(x, factor: float) -> np.ndarray:
    """Return ``x`` played ``factor`` times faster (tempo and pitch both scale; length becomes n / factor)."""
    import soxr

    x = _mono(x)
    if not 0.5 <= factor <= 2.0:
        raise ValueError(f"factor must be in [0.5, 2.0] (Kaldi uses 0.9, 1.0, 1.1), got {factor}")
    if factor == 1.0:
        return x.copy()
    # Read the samples as if recorded at factor * rate, then resample back to the rate.
    y = soxr.resample(x, 1000.0 * factor, 1000.0)
    return _peak_limit(np.asarray(y))


def pitch_shift(x, sr: int, semitones: float) -> np.ndarray:
    """Return ``x`` with its pitch moved by ``semitones`` and its duration kept (phase vocoder + resampling)."""
    import librosa

    x = _mono(x)
    if not -12.0 <= semitones <= 12.0:
        raise ValueError(f"semitones must be in [-12, 12], got {semitones}")
    if semitones == 0:
        return x.copy()
    y = librosa.effects.pitch_shift(x, sr=sr, n_steps=float(semitones), res_type="soxr_hq")
    return _peak_limit(librosa.util.fix_length(y, size=x.size))


def _mu_law_quantize(x: np.ndarray, mu: int = 255) -> np.ndarray:
    """Return ``x`` after 8-bit mu-law companding, quantisation and expansion (G.711-like)."""
    x = np.clip(x, -1.0, 1.0)
    compressed = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    q = np.round((compressed + 1.0) / 2.0 * mu) / mu * 2.0 - 1.0            # 256 levels in [-1, 1]
    return np.sign(q) * np.expm1(np.abs(q) * np.log1p(mu)) / mu


def telephone(x, sr: int, rng: np.random.Generator | None = None) -> np.ndarray:
    """Return ``x`` as heard over a phone line: 8 kHz round trip, 300-3400 Hz band, same length and rate.

    Deterministic without ``rng``; with it, 8-bit mu-law quantisation is applied with probability 0.5.
    """
    from scipy.signal import butter, sosfilt

    from .audio import resample

    x = _mono(x)
    narrow = resample(x, sr, 8000) if sr != 8000 else x                     # anti-aliased to < 4 kHz
    sos = butter(4, [300.0, 3400.0], btype="bandpass", fs=8000, output="sos")
    narrow = sosfilt(sos, narrow.astype(np.float64))
    if rng is not None and rng.random() < 0.5:
        narrow = _mu_law_quantize(narrow)
    y = resample(narrow.astype(np.float32), 8000, sr) if sr != 8000 else narrow
    y = np.pad(y, (0, max(0, x.size - y.size)))[: x.size]                   # exact original length
    return np.clip(y, -1.0, 1.0).astype(np.float32)


def gain(x, db: float) -> np.ndarray:
    """Return ``x`` scaled by ``db`` decibels, clipped to [-1, 1] (loud gains clip, as a real device would)."""
    x = _mono(x)
    return np.clip(x * 10.0 ** (db / 20.0), -1.0, 1.0).astype(np.float32)


def random_augment(x, sr: int, rng: np.random.Generator, p: float = 0.5) -> np.ndarray:
    """Return ``x`` after a random chain: speed, pitch, reverb, noise, telephone, gain (each with probability ``p``).

    Ranges: speed 0.9/1.1 (changes the length), pitch +-2 semitones, RT60 0.15-0.7 s, noise 5-30 dB
    SNR (white/pink/brown), telephone band with random mu-law, gain -10..+3 dB.
    """
    y = _mono(x)
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must be a probability in [0, 1], got {p}")
    if rng.random() < p:
        y = speed_perturb(y, float(rng.choice([0.9, 1.1])))
    if rng.random() < p:
        y = pitch_shift(y, sr, float(rng.uniform(-2.0, 2.0)))
    if rng.random() < p:
        y = add_reverb(y, sr, rng)
    if rng.random() < p and _power(y) > 0.0:
        y = add_noise(y, float(rng.uniform(5.0, 30.0)), rng, color=str(rng.choice(["white", "pink", "brown"])))
    if rng.random() < p:
        y = telephone(y, sr, rng)
    if rng.random() < p:
        y = gain(y, float(rng.uniform(-10.0, 3.0)))
    return np.clip(y, -1.0, 1.0).astype(np.float32)


# ----------------------------------------------------------------------------- features
def _band_mask(batch: int, n_masks: int, max_width: int, size: int, generator) -> Tensor:
    """Return a bool mask (batch, size): ``n_masks`` random bands per row, widths uniform in [0, max_width]."""
    max_width = max(0, min(max_width, size))
    u = torch.rand(2, batch, n_masks, 1, generator=generator)              # CPU draws, device-independent
    width = torch.floor(u[0] * (max_width + 1)).long()                      # (B, M, 1)
    start = torch.floor(u[1] * (size - width + 1)).long()                   # (B, M, 1) so the band fits
    pos = torch.arange(size)                                                # (size,)
    return ((pos >= start) & (pos < start + width)).any(dim=1)              # (B, size)


def spec_augment(feats: Tensor, freq_masks: int = 2, freq_width: int = 8, time_masks: int = 2,
                 time_width: int = 20, generator: torch.Generator | None = None) -> Tensor:
    """Return a copy of ``feats`` (T, F) or (B, T, F) with random frequency and time bands set to 0.

    Each item gets its own masks; widths are uniform in [0, width], time widths capped at
    ``MAX_TIME_MASK_FRACTION`` of T so short clips keep most of their frames. 0 is the mean of
    normalised features. ``generator`` is a CPU ``torch.Generator`` for repeatable masks.
    """
    if not isinstance(feats, Tensor) or feats.ndim not in (2, 3):
        raise ValueError(f"feats must be a tensor of shape (T, F) or (B, T, F), got "
                         f"{tuple(feats.shape) if isinstance(feats, Tensor) else type(feats).__name__}")
    batched = feats if feats.ndim == 3 else feats.unsqueeze(0)              # (B, T, F)
    B, T, F = batched.shape
    max_time = min(time_width, int(MAX_TIME_MASK_FRACTION * T))
    freq = _band_mask(B, freq_masks, freq_width, F, generator)              # (B, F)
    time = _band_mask(B, time_masks, max_time, T, generator)                # (B, T)
    mask = (time[:, :, None] | freq[:, None, :]).to(feats.device)           # (B, T, F)
    out = batched.masked_fill(mask, 0.0)
    return out if feats.ndim == 3 else out.squeeze(0)


class SpecAugment(nn.Module):
    """SpecAugment as a layer: masks features (B, T, F) in ``.train()`` mode, passes them through in ``.eval()``."""

    def __init__(self, freq_masks: int = 2, freq_width: int = 8, time_masks: int = 2, time_width: int = 20,
                 generator: torch.Generator | None = None):
        super().__init__()
        self.freq_masks, self.freq_width = freq_masks, freq_width
        self.time_masks, self.time_width = time_masks, time_width
        self.generator = generator

    def forward(self, feats: Tensor) -> Tensor:
        """Return masked ``feats`` while training, ``feats`` itself otherwise."""
        if not self.training:
            return feats
        return spec_augment(feats, self.freq_masks, self.freq_width, self.time_masks, self.time_width,
                            generator=self.generator)

    def extra_repr(self) -> str:
        """Return the settings shown by ``print(module)``."""
        return (f"freq_masks={self.freq_masks}, freq_width={self.freq_width}, "
                f"time_masks={self.time_masks}, time_width={self.time_width}")
