"""Speed and librosa parity of log-mel and MFCC: course_utils.features vs librosa vs torchaudio.

Run: python benchmarks/bench_features.py  (about 20 s on 2 CPU cores)

All three compute the same thing on one batch of 16 clips x 5 s at 16 kHz: n_fft=400, hop=160,
Hann window, zero ("constant") centre padding, Slaney mel filterbank, power_to_db with ref=1 and
top_db=80 per clip; log-mel has 80 mels, MFCC 13 coefficients from 40 mels. librosa runs clip by
clip (its top_db is per call); the torch versions run on the whole batch.
"""

from __future__ import annotations

import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import librosa  # noqa: E402
import torchaudio.transforms as T  # noqa: E402

from course_utils import features as F  # noqa: E402

SR, BATCH, SECONDS, REPEATS = 16000, 16, 5.0, 7
N_FFT, HOP = 400, 160


def make_batch(seed: int = 0) -> np.ndarray:
    """Return a (BATCH, n) float32 batch of speech-like clips: gliding harmonics, syllable envelope, noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(SECONDS * SR)) / SR
    clips = []
    for _ in range(BATCH):
        f0 = rng.uniform(90, 220) * (1 + 0.2 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t))
        phase = 2 * np.pi * np.cumsum(f0) / SR
        voiced = sum(np.sin(k * phase) / k for k in range(1, 25))
        envelope = 0.5 * (1 + np.sin(2 * np.pi * rng.uniform(3, 5) * t))
        clips.append(rng.uniform(0.02, 0.3) * voiced * envelope + 1e-3 * rng.standard_normal(t.size))
    return np.stack(clips).astype(np.float32)


def best_time(fn, repeats: int = REPEATS) -> tuple[float, object]:
    """Return (fastest wall time in seconds over ``repeats`` runs after one warm-up, last result)."""
    out = fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return min(times), out


def librosa_log_mel(batch: np.ndarray) -> np.ndarray:
    """Return (B, 80, T) log-mels in dB, one librosa call per clip."""
    return np.stack([librosa.power_to_db(librosa.feature.melspectrogram(
        y=y, sr=SR, n_fft=N_FFT, hop_length=HOP, n_mels=80)) for y in batch])


def librosa_mfcc(batch: np.ndarray) -> np.ndarray:
    """Return (B, 13, T) MFCCs, one librosa call per clip."""
    return np.stack([librosa.feature.mfcc(y=y, sr=SR, n_mfcc=13, n_fft=N_FFT, hop_length=HOP, n_mels=40)
                     for y in batch])


def torchaudio_transforms():
    """Return torchaudio (log-mel, MFCC) callables configured to match librosa's defaults."""
    def mel_kwargs(n_mels):
        return dict(n_fft=N_FFT, hop_length=HOP, n_mels=n_mels, norm="slaney", mel_scale="slaney",
                    pad_mode="constant")

    mel = T.MelSpectrogram(sample_rate=SR, **mel_kwargs(80))
    to_db = T.AmplitudeToDB(stype="power", top_db=80.0)
    mfcc = T.MFCC(sample_rate=SR, n_mfcc=13, melkwargs=mel_kwargs(40))

    # torchaudio takes the top_db max over the last three dims: add a channel dim so it is per clip.
    def log_mel(wav):
        return to_db(mel(wav).unsqueeze(1)).squeeze(1)             # (B, 80, T)

    def mfcc_fn(wav):
        return mfcc(wav.unsqueeze(1)).squeeze(1)                   # (B, 13, T)

    return log_mel, mfcc_fn


def main() -> None:
    torch.set_num_threads(min(torch.get_num_threads(), os.cpu_count() or 1))
    batch = make_batch()
    wav = torch.from_numpy(batch)
    audio_seconds = BATCH * SECONDS
    ta_log_mel, ta_mfcc = torchaudio_transforms()

    tasks = {  # feature -> (librosa reference, course_utils, torchaudio)
        "log-mel 80 (dB)": (lambda: librosa_log_mel(batch), lambda: F.log_mel(wav), lambda: ta_log_mel(wav)),
        "MFCC 13": (lambda: librosa_mfcc(batch), lambda: F.mfcc(wav), lambda: ta_mfcc(wav)),
    }
    rows = []  # (feature, implementation, seconds, max abs error vs librosa)
    with torch.inference_mode():
        for name, (ref_fn, ours_fn, ta_fn) in tasks.items():
            t_ref, ref = best_time(ref_fn)
            rows.append((name, "librosa (per clip)", t_ref, 0.0))
            for label, fn in [("course_utils.features", ours_fn), ("torchaudio.transforms", ta_fn)]:
                t, out = best_time(fn)
                rows.append((name, label, t, float(np.abs(out.numpy() - ref).max())))

    print(f"batch: {BATCH} clips x {SECONDS:g} s at {SR} Hz = {audio_seconds:g} s of audio | "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU | best of {REPEATS}")
    header = f"{'feature':<16} {'implementation':<22} {'ms/batch':>9} {'ms per s audio':>15} {'x librosa':>10} " \
             f"{'max |err| vs librosa':>21}"
    print(header)
    print("-" * len(header))
    ref_time = {}
    for name, label, t, err in rows:
        ref_time.setdefault(name, t)
        unit = "dB" if name.startswith("log-mel") else ""
        err_txt = "reference" if label.startswith("librosa") else f"{err:.2e} {unit}".rstrip()
        print(f"{name:<16} {label:<22} {1000 * t:>9.1f} {1000 * t / audio_seconds:>15.3f} "
              f"{ref_time[name] / t:>9.1f}x {err_txt:>21}")
    fb_err = np.abs(F.mel_filterbank(SR, N_FFT, 80).numpy() - librosa.filters.mel(sr=SR, n_fft=N_FFT, n_mels=80)).max()
    print(f"mel filterbank (80 x 201) max |err| vs librosa.filters.mel: {fb_err:.2e}")


if __name__ == "__main__":
    main()
