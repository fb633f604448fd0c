"""From mel spectrogram back to a waveform: the last stage of a TTS system.

- ``MelConfig`` / ``log_mel``    the analysis every TTS stage agrees on: 22.05 kHz, 1024-point FFT,
                                  hop 256 (11.6 ms), 80 Slaney mel bands up to 8 kHz, natural log
- ``mel_to_linear``              undo the mel filterbank (least squares, non-negative): an estimate of
                                  the magnitude spectrogram, missing the detail the 80 bands threw away
- ``griffin_lim``                Griffin & Lim (1984): find a phase that agrees with a magnitude, by
                                  alternating STFT and inverse STFT (with momentum: Perraudin et al. 2013)
- ``mu_law_encode/decode``       WaveNet's 8-bit companding: 256 levels, finer near zero
- ``CausalDilatedStack``         WaveNet's dilated causal convolutions and their receptive field
- ``MelVocoder``                 the course voice's vocoder: mel -> waveform with Griffin-Lim, batched
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor, nn

from course_utils.features import mel_filterbank, spectrogram

__all__ = ["MelConfig", "log_mel", "mel_to_linear", "griffin_lim", "mel_to_audio", "mu_law_encode",
           "mu_law_decode", "receptive_field", "CausalDilatedStack", "MelVocoder", "spectral_convergence"]


@dataclass(frozen=True)
class MelConfig:
    """The mel analysis shared by the teacher corpus, the acoustic model and the vocoder."""

    sample_rate: int = 22050
    n_fft: int = 1024
    hop_length: int = 256
    n_mels: int = 80
    fmin: float = 0.0
    fmax: float = 8000.0
    log_floor: float = 1e-5

    def filterbank(self, device=None) -> Tensor:
        """Return the (n_mels, n_fft // 2 + 1) Slaney filterbank."""
        return mel_filterbank(self.sample_rate, self.n_fft, self.n_mels, self.fmin, self.fmax, device=device)

    def frames(self, n_samples: int) -> int:
        """Return how many mel frames ``n_samples`` samples give (centred STFT)."""
        return 1 + n_samples // self.hop_length


def log_mel(x, cfg: MelConfig = MelConfig()) -> np.ndarray | Tensor:
    """Return ``log(max(mel magnitude, floor))`` of shape (..., n_mels, frames); NumPy in, NumPy out."""
    as_numpy = isinstance(x, np.ndarray)
    mag = spectrogram(x, n_fft=cfg.n_fft, hop_length=cfg.hop_length, power=1.0)    # (..., F, frames)
    mel = torch.matmul(cfg.filterbank(mag.device), mag)                              # (..., n_mels, frames)
    out = torch.log(torch.clamp(mel, min=cfg.log_floor))
    return out.numpy() if as_numpy else out


# ----------------------------------------------------------------------------- Griffin-Lim
_PINV_CACHE: dict = {}


def mel_to_linear(logmel: Tensor, cfg: MelConfig = MelConfig(), iters: int = 0) -> Tensor:
    """Return a magnitude spectrogram (..., F, frames) whose mel bands match ``exp(logmel)``.

    The pseudo-inverse of the filterbank gives a least-squares answer, clamped at zero; ``iters``
    extra multiplicative (NMF-style) updates make it a non-negative least-squares fit.
    """
    mel = torch.exp(logmel)
    key = (cfg, str(mel.device))
    if key not in _PINV_CACHE:
        fb = cfg.filterbank(mel.device)
        _PINV_CACHE[key] = (fb, torch.linalg.pinv(fb))
    fb, pinv = _PINV_CACHE[key]
    lin = torch.clamp(pinv @ mel, min=1e-6)                                          # (..., F, frames)
    for _ in range(iters):
        lin = lin * (fb.T @ mel) / (fb.T @ (fb @ lin) + 1e-8)
    return lin


def griffin_lim(magnitude: Tensor, cfg: MelConfig = MelConfig(), n_iter: int = 32, momentum: float = 0.99,
                length: int | None = None, seed: int = 0, return_history: bool = False):
    """Return a waveform (..., n) whose STFT magnitude is close to ``magnitude`` (..., F, frames).

    Each iteration keeps the phase of the current estimate and puts back the wanted magnitude
    (Griffin & Lim 1984); ``momentum`` > 0 is the "fast Griffin-Lim" extrapolation that converges in
    far fewer iterations. With ``return_history`` it also returns the spectral convergence per iteration.
    """
    window = torch.hann_window(cfg.n_fft, device=magnitude.device)
    gen = torch.Generator().manual_seed(seed)
    angles = torch.exp(2j * math.pi * torch.rand(magnitude.shape, generator=gen)).to(magnitude.device)
    stft = lambda x: torch.stft(x, cfg.n_fft, cfg.hop_length, window=window, return_complex=True)  # noqa: E731
    istft = lambda s: torch.istft(s, cfg.n_fft, cfg.hop_length, window=window, length=length)  # noqa: E731
    lead = magnitude.shape[:-2]
    mag = magnitude.reshape(-1, *magnitude.shape[-2:])
    angles = angles.reshape(mag.shape)
    prev = torch.zeros_like(angles)
    history = []
    for _ in range(n_iter):
        rebuilt = stft(istft(mag * angles))
        if return_history:
            history.append(spectral_convergence(rebuilt.abs(), mag))
        angles = rebuilt - (momentum / (1 + momentum)) * prev
        prev = rebuilt
        angles = angles / (angles.abs() + 1e-8)
    wave = istft(mag * angles).reshape(*lead, -1)
    return (wave, history) if return_history else wave


def spectral_convergence(estimate: Tensor, target: Tensor) -> float:
    """Return ||target - estimate|| / ||target|| in dB (lower is better): how far a magnitude is from the wanted one."""
    return float(20 * torch.log10(torch.linalg.norm(target - estimate) / torch.linalg.norm(target)))


def mel_to_audio(logmel, cfg: MelConfig = MelConfig(), n_iter: int = 32, power: float = 1.3) -> np.ndarray:
    """Return float32 audio for a (n_mels, frames) log-mel: mel -> linear magnitude, sharpened by ``power``, Griffin-Lim.

    The level follows the mel's (so louder mels give louder audio), scaled down only if it would clip.
    """
    logmel = torch.as_tensor(np.asarray(logmel, dtype=np.float32)) if not isinstance(logmel, Tensor) else logmel
    with torch.no_grad():
        logmel = logmel.float()
        mag = mel_to_linear(logmel, cfg) ** power
        wave = griffin_lim(mag, cfg, n_iter=n_iter)
        wanted = torch.exp(logmel).mean()                                  # undo the level change of ** power
        got = torch.exp(log_mel(wave, cfg)).mean()
        wave = wave * (wanted / got.clamp(min=1e-8))
    wave = wave.numpy()
    peak = float(np.abs(wave).max()) if wave.size else 0.0
    return (wave * (0.99 / peak) if peak > 0.99 else wave).astype(np.float32)


class MelVocoder:
    """The course voice's vocoder: ``vocoder(logmel (n_mels, frames)) -> float32 audio``, Griffin-Lim with momentum."""

    def __init__(self, cfg: MelConfig = MelConfig(), n_iter: int = 32, power: float = 1.3):
        self.cfg, self.n_iter, self.power = cfg, n_iter, power
        self.sample_rate = cfg.sample_rate

    def __call__(self, logmel) -> np.ndarray:
        return mel_to_audio(logmel, self.cfg, self.n_iter, self.power)


# ----------------------------------------------------------------------------- WaveNet's ideas
def mu_law_encode(x, mu: int = 255) -> np.ndarray:
    """Return integer codes 0..mu for audio in [-1, 1]: ``sign(x) ln(1 + mu|x|) / ln(1 + mu)``, quantised."""
    x = np.clip(np.asarray(x, dtype=np.float64), -1.0, 1.0)
    y = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    return np.round((y + 1) / 2 * mu).astype(np.int64)


def mu_law_decode(codes, mu: int = 255) -> np.ndarray:
    """Return float32 audio in [-1, 1] for mu-law ``codes`` (the inverse of :func:`mu_law_encode`)."""
    y = 2 * np.asarray(codes, dtype=np.float64) / mu - 1
    return (np.sign(y) * ((1 + mu) ** np.abs(y) - 1) / mu).astype(np.float32)


def receptive_field(kernel_size: int, dilations) -> int:
    """Return how many input samples one output of stacked causal convolutions sees: 1 + sum((k - 1) * d)."""
    return 1 + sum((kernel_size - 1) * int(d) for d in dilations)


class CausalDilatedStack(nn.Module):
    """WaveNet's core: causal convolutions whose dilation doubles per layer, so the receptive field grows exponentially.

    ``forward(x (B, C, n)) -> (B, C, n)``; output sample t depends only on inputs up to t.
    """

    def __init__(self, channels: int = 16, kernel_size: int = 2, dilations=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512)):
        super().__init__()
        self.kernel_size, self.dilations = kernel_size, list(dilations)
        self.convs = nn.ModuleList(nn.Conv1d(channels, 2 * channels, kernel_size, dilation=d) for d in self.dilations)
        self.res = nn.ModuleList(nn.Conv1d(channels, channels, 1) for _ in self.dilations)

    @property
    def receptive_field(self) -> int:
        return receptive_field(self.kernel_size, self.dilations)

    def forward(self, x: Tensor) -> Tensor:
        for conv, res, d in zip(self.convs, self.res, self.dilations):
            h = conv(nn.functional.pad(x, ((self.kernel_size - 1) * d, 0)))     # left pad only: causal
            a, b = h.chunk(2, dim=1)
            x = x + res(torch.tanh(a) * torch.sigmoid(b))                       # gated activation, residual
        return x
