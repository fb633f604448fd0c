"""Audio in and out: load any common file as float32 mono at the rate you ask for, check it, save it, play it.

Every loader and checker raises :class:`AudioError` with a message that names the file (or the
signal) and what is wrong with it, so notebooks and command-line tools can show one clear line.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from math import gcd
from pathlib import Path

import numpy as np

#: The course's working sample rate.
SAMPLE_RATE = 16000


class AudioError(ValueError):
    """Raised for input audio that cannot be used; the message says which file and why."""


def _decode_with_ffmpeg(path: str) -> tuple[np.ndarray, int]:
    """Decode anything FFmpeg reads (m4a, webm, ...) to float32 samples (channels, n) at the file's rate."""
    if shutil.which("ffmpeg") is None or shutil.which("ffprobe") is None:
        raise AudioError(f"{path}: cannot read this format (soundfile failed and FFmpeg is not installed)")
    probe = subprocess.run(
        ["ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=sample_rate,channels",
         "-of", "csv=p=0", path], capture_output=True, text=True, timeout=60)
    fields = probe.stdout.strip().split(",")
    if probe.returncode != 0 or len(fields) < 2 or not fields[0].isdigit():
        raise AudioError(f"{path}: not a readable audio file")
    sr, channels = int(fields[0]), int(fields[1])
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "f32le", "-acodec", "pcm_f32le", "-"],
                         capture_output=True, timeout=600)
    if out.returncode != 0:
        raise AudioError(f"{path}: FFmpeg could not decode it ({out.stderr.decode(errors='replace').strip()[:200]})")
    x = np.frombuffer(out.stdout, dtype="<f4").astype(np.float32)
    return x.reshape(-1, channels).T, sr


def load_audio(path: str | os.PathLike, sr: int | None = SAMPLE_RATE, mono: bool = True) -> tuple[np.ndarray, int]:
    """Return ``(samples, rate)``: float32 in [-1, 1], mono ``(n,)`` (or ``(channels, n)``), resampled to ``sr``.

    Reads WAV (8/16/24/32-bit int or float), FLAC, OGG and MP3 with soundfile, anything else FFmpeg
    reads. ``sr=None`` keeps the file's own rate.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise AudioError(f"{path}: file not found")
    if os.path.isdir(path):
        raise AudioError(f"{path}: is a directory, not an audio file")
    if os.path.getsize(path) == 0:
        raise AudioError(f"{path}: file is empty (0 bytes)")
    try:
        import soundfile as sf

        data, file_sr = sf.read(path, dtype="float32", always_2d=True)
        x = data.T  # (channels, n)
    except Exception:  # soundfile cannot read it: try FFmpeg before giving up
        x, file_sr = _decode_with_ffmpeg(path)
    x = check_audio(x, name=path)
    if mono:
        x = to_mono(x)
    if sr is not None and sr != file_sr:
        x = resample(x, file_sr, sr)
        file_sr = sr
    return np.ascontiguousarray(x, dtype=np.float32), int(file_sr)


def check_audio(x, sr: int | None = None, name: str = "signal", require_speech: bool = False) -> np.ndarray:
    """Return ``x`` as a float32 array after checking it; raise :class:`AudioError` naming ``name`` if unusable.

    Accepts 1-D ``(n,)`` or 2-D ``(channels, n)`` / ``(n, channels)`` arrays (or torch tensors) of
    float or integer samples (integers are scaled to [-1, 1]). Rejects empty signals, NaN/Inf,
    non-numeric dtypes, more than two dimensions, and (with ``require_speech``) silence.
    """
    if hasattr(x, "detach"):  # torch tensor
        x = x.detach().cpu().numpy()
    x = np.asarray(x)
    if x.dtype.kind in "iu":
        info = np.iinfo(x.dtype)
        if x.dtype.kind == "u":  # 8-bit WAV is unsigned, centred on 128
            x = (x.astype(np.float64) - (info.max + 1) / 2) / ((info.max + 1) / 2)
        else:
            x = x.astype(np.float64) / (info.max + 1)
    elif x.dtype.kind != "f":
        raise AudioError(f"{name}: samples must be numbers (float or int), got dtype {x.dtype}")
    if x.ndim == 0 or x.ndim > 2:
        raise AudioError(f"{name}: expected shape (n,) or (channels, n), got {x.shape}")
    if x.ndim == 2 and x.shape[0] > x.shape[1]:  # (n, channels) -> (channels, n)
        x = x.T
    if x.size == 0 or x.shape[-1] == 0:
        raise AudioError(f"{name}: the signal is empty (0 samples)")
    if not np.all(np.isfinite(x)):
        bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
        raise AudioError(f"{name}: contains {bad} NaN or Inf samples")
    if sr is not None and (not isinstance(sr, (int, np.integer)) or sr <= 0):
        raise AudioError(f"{name}: sample rate must be a positive integer, got {sr!r}")
    x = x.astype(np.float32, copy=False)
    if require_speech and float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) < 1e-4:
        raise AudioError(f"{name}: is silent (RMS below 1e-4) where speech is needed")
    return x


def to_mono(x: np.ndarray) -> np.ndarray:
    """Return the channel average of ``(channels, n)`` audio; 1-D input is returned unchanged."""
    x = np.asarray(x, dtype=np.float32)
    return x if x.ndim == 1 else x.mean(axis=0)


def resample(x: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Return ``x`` resampled from ``orig_sr`` to ``target_sr`` (high-quality soxr, last axis)."""
    if orig_sr <= 0 or target_sr <= 0:
        raise AudioError(f"sample rates must be positive, got {orig_sr} -> {target_sr}")
    x = np.asarray(x, dtype=np.float32)
    if orig_sr == target_sr:
        return x
    try:
        import soxr

        if x.ndim == 1:
            return soxr.resample(x, orig_sr, target_sr).astype(np.float32)
        return soxr.resample(x.T, orig_sr, target_sr).T.astype(np.float32)
    except ImportError:  # pragma: no cover - soxr comes with librosa
        from scipy.signal import resample_poly

        g = gcd(orig_sr, target_sr)
        return resample_poly(x, target_sr // g, orig_sr // g, axis=-1).astype(np.float32)


def normalize(x: np.ndarray, peak: float = 0.95) -> np.ndarray:
    """Return ``x`` scaled so its largest absolute sample is ``peak`` (silence is returned unchanged)."""
    x = check_audio(x)
    m = float(np.max(np.abs(x)))
    return x if m == 0 else (x * (peak / m)).astype(np.float32)


def rms_normalize(x: np.ndarray, target_db: float = -20.0) -> np.ndarray:
    """Return ``x`` scaled to an RMS level of ``target_db`` dBFS (clipped to [-1, 1])."""
    x = check_audio(x)
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    if rms == 0:
        return x
    return np.clip(x * (10 ** (target_db / 20) / rms), -1, 1).astype(np.float32)


def save_audio(path: str | os.PathLike, x, sr: int, subtype: str = "PCM_16") -> Path:
    """Write ``x`` to ``path`` (WAV 16-bit PCM by default; format from the extension) and return the path."""
    import soundfile as sf

    x = check_audio(x, sr=sr, name=os.fspath(path))
    path = Path(path)
    if not path.parent.exists():
        raise AudioError(f"{path}: the directory {path.parent} does not exist")
    data = np.clip(x, -1.0, 1.0)
    sf.write(str(path), data.T if data.ndim == 2 else data, sr, subtype=subtype)
    return path


def play(x, sr: int = SAMPLE_RATE, normalize: bool = True):
    """Return an ``IPython.display.Audio`` player for ``x`` (a notebook shows it when it is the cell's value)."""
    from IPython.display import Audio

    x = check_audio(x, sr=sr)
    if not normalize:
        x = np.clip(x, -1, 1)
    return Audio(x, rate=sr, normalize=normalize)


def duration(x: np.ndarray, sr: int) -> float:
    """Return the length of ``x`` in seconds."""
    return np.asarray(x).shape[-1] / float(sr)


@contextmanager
def quiet_c_stderr():
    """Silence what C libraries write to stderr (file descriptor 2) inside the block, e.g. mpg123's ID3 warnings."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no real stderr here: nothing to silence
        yield
        return
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
