"""Spectral features in torch: spectrogram, mel filterbank, log-mel, MFCC, and the models' front end.

- Every function takes a NumPy array or a torch tensor of shape ``(..., n)`` (any leading batch
  dims) and returns a torch tensor on the input's device, so the same call runs on CPU or GPU.
- Framing follows librosa: periodic Hann window, ``center=True`` with zero padding (librosa's
  default ``pad_mode="constant"`` since 0.10), so ``1 + n // hop_length`` frames for even ``n_fft``.
- The mel filterbank is built from the Slaney formula (linear below 1 kHz, logarithmic above,
  area-normalised triangles), exactly what ``librosa.filters.mel`` returns by default.
- ``power_to_db`` / ``mfcc`` match ``librosa.power_to_db`` / ``librosa.feature.mfcc`` (ref=1,
  top_db=80, DCT-II with orthonormal scaling); ``tests/test_features.py`` states the tolerances.
- :class:`LogMelFrontend` is the front end the course's speech models share:
  ``(B, N)`` waveforms -> ``(B, T, n_mels)`` normalised log-mels plus frame counts.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn

__all__ = [
    "hz_to_mel", "mel_to_hz", "spectrogram", "mel_filterbank", "mel_spectrogram", "power_to_db",
    "log_mel", "mfcc", "num_frames", "LogMelFrontend",
]

# Slaney mel scale: 3 mels per 200 Hz up to 1 kHz (= 15 mels), then 27 mels per factor 6.4.
_F_SP = 200.0 / 3.0
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOG_STEP = math.log(6.4) / 27.0


def _as_tensor(x, name: str = "x") -> Tensor:
    """Return ``x`` as a floating torch tensor with at least one dim (NumPy is converted to float32)."""
    if isinstance(x, Tensor):
        if x.is_complex() or not (x.is_floating_point() or x.dtype in (torch.int16, torch.int32, torch.int64)):
            raise TypeError(f"{name}: expected real audio samples, got a tensor of dtype {x.dtype}")
        if not x.is_floating_point() or x.dtype in (torch.float16, torch.bfloat16):
            x = x.float()  # the FFT wants float32 or float64
    else:
        arr = np.asarray(x)
        if arr.dtype.kind not in "fiu":
            raise TypeError(f"{name}: expected real audio samples, got an array of dtype {arr.dtype}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name}: contains NaN or Inf values; clean the input first")
        x = torch.from_numpy(np.ascontiguousarray(arr, dtype=np.float32))
    if x.ndim == 0 or x.shape[-1] == 0:
        raise ValueError(f"{name}: expected shape (..., n) with n > 0 samples, got {tuple(x.shape)}")
    return x


# ----------------------------------------------------------------------------- mel scale
def hz_to_mel(f):
    """Return the Slaney mel value of frequency ``f`` in Hz (float, ndarray or tensor in, same kind out)."""
    if isinstance(f, Tensor):
        f = f.double() if not f.is_floating_point() else f
        log_part = _MIN_LOG_MEL + torch.log(torch.clamp(f, min=_MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOG_STEP
        return torch.where(f >= _MIN_LOG_HZ, log_part, f / _F_SP)
    f_arr = np.asarray(f, dtype=np.float64)
    log_part = _MIN_LOG_MEL + np.log(np.maximum(f_arr, _MIN_LOG_HZ) / _MIN_LOG_HZ) / _LOG_STEP
    mel = np.where(f_arr >= _MIN_LOG_HZ, log_part, f_arr / _F_SP)
    return float(mel) if mel.ndim == 0 else mel


def mel_to_hz(m):
    """Return the frequency in Hz of Slaney mel value ``m`` (float, ndarray or tensor in, same kind out)."""
    if isinstance(m, Tensor):
        m = m.double() if not m.is_floating_point() else m
        log_part = _MIN_LOG_HZ * torch.exp(_LOG_STEP * (m - _MIN_LOG_MEL))
        return torch.where(m >= _MIN_LOG_MEL, log_part, m * _F_SP)
    m_arr = np.asarray(m, dtype=np.float64)
    hz = np.where(m_arr >= _MIN_LOG_MEL, _MIN_LOG_HZ * np.exp(_LOG_STEP * (m_arr - _MIN_LOG_MEL)), m_arr * _F_SP)
    return float(hz) if hz.ndim == 0 else hz


def _mel_filterbank_np(sr: int, n_fft: int, n_mels: int, fmin: float, fmax: float | None) -> np.ndarray:
    """Return the Slaney-normalised triangular mel filterbank as a float64 array (n_mels, n_fft//2+1)."""
    fmax = sr / 2.0 if fmax is None else float(fmax)
    if sr <= 0 or n_fft <= 0 or n_mels <= 0:
        raise ValueError(f"sr, n_fft and n_mels must be positive, got sr={sr}, n_fft={n_fft}, n_mels={n_mels}")
    if not 0.0 <= fmin < fmax <= sr / 2.0:
        raise ValueError(f"need 0 <= fmin < fmax <= sr/2 = {sr / 2}, got fmin={fmin}, fmax={fmax}")
    fft_hz = np.linspace(0.0, sr / 2.0, n_fft // 2 + 1)                     # (F,) bin centre frequencies
    edges_hz = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))  # (n_mels+2,)
    lo, centre, hi = edges_hz[:-2, None], edges_hz[1:-1, None], edges_hz[2:, None]   # (n_mels, 1) each
    rising = (fft_hz - lo) / (centre - lo)                                  # (n_mels, F)
    falling = (hi - fft_hz) / (hi - centre)                                 # (n_mels, F)
    triangles = np.maximum(0.0, np.minimum(rising, falling))
    return triangles * (2.0 / (hi - lo))  # Slaney: each triangle has the same area


def mel_filterbank(sr: int = 16000, n_fft: int = 400, n_mels: int = 80, fmin: float = 0.0,
                   fmax: float | None = None, device=None) -> Tensor:
    """Return the Slaney mel filterbank (librosa's default) as a float32 tensor (n_mels, n_fft//2+1)."""
    fb = _mel_filterbank_np(sr, n_fft, n_mels, fmin, fmax)
    return torch.tensor(fb, dtype=torch.float32, device=device)


# ----------------------------------------------------------------------------- spectra
def num_frames(n_samples, n_fft: int = 400, hop_length: int = 160, center: bool = True):
    """Return the number of STFT frames for ``n_samples`` samples (int or integer tensor, same kind out)."""
    padded = n_samples + 2 * (n_fft // 2) - n_fft if center else n_samples - n_fft
    return 1 + padded // hop_length


def spectrogram(x, n_fft: int = 400, hop_length: int = 160, win_length: int | None = None,
                power: float = 2.0, center: bool = True, pad_mode: str = "constant") -> Tensor:
    """Return the |STFT|**power spectrogram (..., n_fft//2+1, frames) of ``x`` (..., n), Hann window.

    ``power=1`` gives magnitudes, ``2`` power. ``pad_mode`` is how ``center=True`` pads the ends:
    ``"constant"`` (zeros, librosa's default) or ``"reflect"`` (torchaudio's default).
    """
    x = _as_tensor(x)
    win_length = n_fft if win_length is None else win_length
    if not 0 < win_length <= n_fft or hop_length <= 0:
        raise ValueError(f"need 0 < win_length <= n_fft and hop_length > 0, got win_length={win_length}, "
                         f"n_fft={n_fft}, hop_length={hop_length}")
    if not center and x.shape[-1] < n_fft:
        raise ValueError(f"x has {x.shape[-1]} samples, fewer than n_fft={n_fft}; pad it or use center=True")
    lead = x.shape[:-1]
    flat = x.reshape(-1, x.shape[-1])                                       # (B, n)
    window = torch.hann_window(win_length, periodic=True, dtype=flat.dtype, device=flat.device)
    stft = torch.stft(flat, n_fft, hop_length=hop_length, win_length=win_length, window=window,
                      center=center, pad_mode=pad_mode, return_complex=True)  # (B, F, frames)
    if power == 2.0:
        spec = stft.real.square() + stft.imag.square()                      # |X|^2 without a sqrt
    else:
        spec = stft.abs().pow(power)
    return spec.reshape(*lead, *spec.shape[-2:])                            # (..., F, frames)


def mel_spectrogram(x, sr: int = 16000, n_fft: int = 400, hop_length: int = 160, n_mels: int = 80,
                    fmin: float = 0.0, fmax: float | None = None, power: float = 2.0) -> Tensor:
    """Return the mel spectrogram (..., n_mels, frames) of ``x`` (..., n), like ``librosa.feature.melspectrogram``."""
    spec = spectrogram(x, n_fft=n_fft, hop_length=hop_length, power=power)  # (..., F, frames)
    fb = mel_filterbank(sr, n_fft, n_mels, fmin, fmax, device=spec.device).to(spec.dtype)
    return torch.matmul(fb, spec)                                           # (..., n_mels, frames)


def power_to_db(S, amin: float = 1e-10, top_db: float | None = 80.0) -> Tensor:
    """Return ``10*log10(max(S, amin))`` in dB (ref=1), floored at each item's max minus ``top_db``.

    Like ``librosa.power_to_db`` called once per item: the max is taken over the last two dims
    (mel x frames), so every spectrogram in a batch keeps its own 80 dB range.
    """
    S = _as_tensor(S, name="S")
    if amin <= 0:
        raise ValueError(f"amin must be positive, got {amin}")
    db = 10.0 * torch.log10(torch.clamp(S, min=amin))
    if top_db is not None:
        if top_db < 0:
            raise ValueError(f"top_db must be non-negative, got {top_db}")
        dims = (-2, -1) if db.ndim >= 2 else (-1,)
        db = torch.maximum(db, db.amax(dim=dims, keepdim=True) - top_db)
    return db


def log_mel(x, sr: int = 16000, n_fft: int = 400, hop_length: int = 160, n_mels: int = 80,
            fmin: float = 0.0, fmax: float | None = None, top_db: float | None = 80.0) -> Tensor:
    """Return the log-mel spectrogram in dB (..., n_mels, frames) of ``x`` (..., n)."""
    mel = mel_spectrogram(x, sr=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, fmin=fmin, fmax=fmax)
    return power_to_db(mel, top_db=top_db)


def _dct_matrix(n_out: int, n_in: int, dtype=torch.float32, device=None) -> Tensor:
    """Return the orthonormal DCT-II matrix (n_out, n_in): row k is sqrt(2/N) cos(pi k (2n+1) / 2N)."""
    n = torch.arange(n_in, dtype=torch.float64)
    k = torch.arange(n_out, dtype=torch.float64)[:, None]
    basis = torch.cos(math.pi * k * (2 * n + 1) / (2 * n_in)) * math.sqrt(2.0 / n_in)  # (n_out, n_in)
    basis[0] /= math.sqrt(2.0)  # the DC row has norm 1 too
    return basis.to(dtype=dtype, device=device)


def mfcc(x, sr: int = 16000, n_mfcc: int = 13, n_fft: int = 400, hop_length: int = 160, n_mels: int = 40,
         fmin: float = 0.0, fmax: float | None = None) -> Tensor:
    """Return MFCCs (..., n_mfcc, frames) of ``x`` (..., n), like ``librosa.feature.mfcc`` (dB log-mel, DCT-II ortho)."""
    if not 0 < n_mfcc <= n_mels:
        raise ValueError(f"need 0 < n_mfcc <= n_mels, got n_mfcc={n_mfcc}, n_mels={n_mels}")
    db = log_mel(x, sr=sr, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, fmin=fmin, fmax=fmax)
    dct = _dct_matrix(n_mfcc, n_mels, dtype=db.dtype, device=db.device)      # (n_mfcc, n_mels)
    return torch.matmul(dct, db)                                            # (..., n_mfcc, frames)


# ----------------------------------------------------------------------------- model front end
class LogMelFrontend(nn.Module):
    """Waveforms (B, N) -> per-utterance normalised natural-log mels (B, T, n_mels) and frame counts (B,).

    Features are ``log(mel + 1e-6)`` with 40 mels between 20 Hz and 4 kHz by default: capping at
    4 kHz makes synthetic training speech look like real telephone-band voices (FINDINGS.md).
    With ``normalize``, each utterance is shifted and scaled to zero mean, unit variance per mel
    band over its own valid frames; frames past an utterance's length are set to 0.
    Zero padding at the ends means an utterance's features are the same alone or padded in a batch.
    """

    def __init__(self, sr: int = 16000, n_fft: int = 400, hop_length: int = 160, n_mels: int = 40,
                 fmin: float = 20.0, fmax: float = 4000.0, normalize: bool = True):
        super().__init__()
        self.sr, self.n_fft, self.hop_length, self.n_mels = sr, n_fft, hop_length, n_mels
        self.normalize = normalize
        self.register_buffer("window", torch.hann_window(n_fft, periodic=True), persistent=False)
        self.register_buffer("fb", mel_filterbank(sr, n_fft, n_mels, fmin, fmax), persistent=False)

    def num_frames(self, n_samples):
        """Return the frame count for ``n_samples`` samples (int or integer tensor, same kind out)."""
        return num_frames(n_samples, self.n_fft, self.hop_length, center=True)

    def forward(self, wav: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Return ``(feats (B, T, n_mels), frame_counts (B,))`` for ``wav`` (B, N) with ``lengths`` samples each."""
        if wav.ndim != 2:
            raise ValueError(f"wav must be (batch, samples), got shape {tuple(wav.shape)}; use wav[None] for one clip")
        B, N = wav.shape
        if lengths is None:
            lengths = torch.full((B,), N, dtype=torch.long, device=wav.device)
        else:
            lengths = torch.as_tensor(lengths)
            if lengths.shape != (B,):
                raise ValueError(f"lengths must have shape ({B},) to match wav, got {tuple(lengths.shape)}")
            if lengths.device.type == "cpu" and (lengths.min() < 1 or lengths.max() > N):
                raise ValueError(f"lengths must be sample counts in [1, {N}], got {lengths.tolist()}")
            lengths = lengths.to(device=wav.device, dtype=torch.long)
        wav = wav.float() if wav.dtype != torch.float64 else wav
        stft = torch.stft(wav, self.n_fft, hop_length=self.hop_length, window=self.window.to(wav.dtype),
                          center=True, pad_mode="constant", return_complex=True)  # (B, F, T)
        power = stft.real.square() + stft.imag.square()                     # (B, F, T)
        mel = torch.matmul(self.fb.to(power.dtype), power)                  # (B, n_mels, T)
        feats = torch.log(mel + 1e-6).transpose(1, 2)                       # (B, T, n_mels)
        frames = self.num_frames(lengths)                                   # (B,)
        if self.normalize:
            T = feats.shape[1]
            valid = (torch.arange(T, device=feats.device)[None, :] < frames[:, None])  # (B, T)
            valid = valid.unsqueeze(-1).to(feats.dtype)                     # (B, T, 1)
            count = frames.clamp(min=1).to(feats.dtype)[:, None, None]      # (B, 1, 1)
            mean = (feats * valid).sum(1, keepdim=True) / count             # (B, 1, n_mels)
            var = ((feats - mean).square() * valid).sum(1, keepdim=True) / count
            feats = (feats - mean) / torch.sqrt(var + 1e-5) * valid         # padded frames -> 0
        return feats, frames

    def extra_repr(self) -> str:
        """Return the settings shown by ``print(module)``."""
        return (f"sr={self.sr}, n_fft={self.n_fft}, hop_length={self.hop_length}, n_mels={self.n_mels}, "
                f"normalize={self.normalize}")
