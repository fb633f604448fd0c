"""One way to train, evaluate, save and load the course's ASR models (sessions 02 CTC, 03 RNN-T, 04 LAS).

- ``train_asr``: AdamW, linear warm-up then cosine decay over the run (measured in steps or in
  wall-clock minutes, whichever ends first), gradient clipping, a tqdm bar and a live loss plot.
- ``evaluate_asr``: WER / CER (jiwer) and decoding speed on a list of manifest rows.
- ``prepare_audio``: what every waveform goes through before a model hears it, in training and at
  test time alike: DC removed, leading/trailing silence trimmed, level set to -20 dBFS RMS.
- ``save_checkpoint`` / ``load_checkpoint``: config + weights in one small file.

A model only has to provide ``loss(batch)``, ``transcribe(wave, lengths)`` and ``config``
(see ``course_utils.models``); the device (CUDA, MPS, CPU) is picked by ``get_device``.
"""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from course_utils.audio import SAMPLE_RATE, check_audio, load_audio, to_mono
from course_utils.metrics import cer as _cer
from course_utils.metrics import wer as _wer

CHECKPOINT_FORMAT = "course_utils.asr/1"


# ----------------------------------------------------------------------------- audio in
def prepare_audio(x, sr: int = SAMPLE_RATE, top_db: float = 40.0, margin_s: float = 0.15,
                  target_db: float = -20.0) -> np.ndarray:
    """Return mono ``x`` with its DC offset removed, silence beyond ``margin_s`` trimmed from both ends, at ``target_db`` RMS.

    "Silence" is any 20 ms frame more than ``top_db`` below the loudest frame. Real recordings
    start and end with pauses of any length and come at any level; synthetic ones do not.
    """
    x = to_mono(check_audio(x, name="waveform")).astype(np.float32)
    x = x - x.mean()
    hop = max(1, int(0.02 * sr))
    n = len(x) // hop
    if n >= 3:
        frames = x[: n * hop].reshape(n, hop)
        energy = 10 * np.log10(np.mean(frames.astype(np.float64) ** 2, axis=1) + 1e-12)  # dB per frame
        loud = np.flatnonzero(energy > energy.max() - top_db)
        pad = int(margin_s * sr)
        start = max(0, loud[0] * hop - pad)
        end = min(len(x), (loud[-1] + 1) * hop + pad)
        x = x[start:end]
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    if rms > 0:
        x = x * (10 ** (target_db / 20) / rms)
    return np.clip(x, -1.0, 1.0).astype(np.float32)


class _Prepared:
    """Dataset hook: the optional augmentation, then :func:`prepare_audio` (a class, so it pickles for workers)."""

    def __init__(self, augment=None):
        self.augment = augment

    def __call__(self, x: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
        if self.augment is not None:
            x = self.augment(x, sr, rng)
        return prepare_audio(x, sr)


def batch_waves(waves: list[np.ndarray], batch_size: int):
    """Yield ``(indices, wave (B, N), lengths (B,))`` over ``waves`` sorted by length (less padding)."""
    order = sorted(range(len(waves)), key=lambda i: len(waves[i]))
    for k in range(0, len(order), batch_size):
        idx = order[k:k + batch_size]
        lengths = torch.tensor([len(waves[i]) for i in idx], dtype=torch.long)
        wave = torch.zeros(len(idx), int(lengths.max()))
        for j, i in enumerate(idx):
            wave[j, : len(waves[i])] = torch.from_numpy(waves[i])
        yield idx, wave, lengths


# ----------------------------------------------------------------------------- evaluation
def load_waves(rows, sr: int = SAMPLE_RATE) -> list[np.ndarray]:
    """Return the prepared waveform of each row (its "wave" at ``sr`` if given, else its "audio_path" loaded)."""
    out = []
    for row in rows:
        x = row["wave"] if "wave" in row else load_audio(row["audio_path"], sr=sr)[0]
        out.append(prepare_audio(x, sr))
    return out


@torch.no_grad()
def evaluate_asr(model: nn.Module, rows, batch_size: int = 16, waves: list[np.ndarray] | None = None) -> dict:
    """Return ``dict(wer, cer, n, hyps, refs, seconds_per_audio_second)`` of ``model`` on manifest ``rows``.

    Rows need "text" and either "audio_path" or "wave" (16 kHz samples). ``waves`` (from
    :func:`load_waves`) skips loading. Speed counts the model's time only, not file reading.
    """
    rows = list(rows)
    if not rows:
        raise ValueError("evaluate_asr: no rows to evaluate")
    waves = load_waves(rows) if waves is None else waves
    hyps: list[str] = [""] * len(rows)
    was_training = model.training
    model.eval()
    start = time.perf_counter()
    for idx, wave, lengths in batch_waves(waves, batch_size):
        for i, h in zip(idx, model.transcribe(wave, lengths)):
            hyps[i] = h
    seconds = time.perf_counter() - start
    model.train(was_training)
    refs = [" ".join(r["text"].split()) for r in rows]
    audio_seconds = sum(len(w) for w in waves) / SAMPLE_RATE
    return {"wer": _wer(refs, hyps), "cer": _cer(refs, hyps), "n": len(rows), "hyps": hyps, "refs": refs,
            "seconds_per_audio_second": seconds / max(audio_seconds, 1e-9)}


# ----------------------------------------------------------------------------- training
def _lr_factor(progress: float, warmup: float) -> float:
    """Return the learning-rate multiplier at ``progress`` in [0, 1]: linear warm-up, then cosine to ~0."""
    if progress < warmup:
        return max(progress / warmup, 0.01)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (progress - warmup) / (1 - warmup))))


def _forever(loader):
    """Yield batches from ``loader`` epoch after epoch."""
    while True:
        yield from loader


def train_asr(model: nn.Module, train_rows, valid_rows=None, *, minutes: float | None = None,
              steps: int | None = None, batch_size: int = 32, lr: float = 3e-3, augment=None,
              device=None, seed: int = 0, live_plot: bool = True, progress: bool = True,
              evals: int = 4, weight_decay: float = 0.01, warmup: float = 0.05, clip: float = 1.0,
              num_workers: int = 0, log=None) -> dict:
    """Train ``model`` in place on manifest rows and return its history (losses, learning rates, validation WERs).

    The run lasts ``steps`` optimizer steps or ``minutes`` of wall-clock time, whichever ends
    first; the learning-rate schedule follows that progress, so a time budget still ends with a
    low learning rate. ``augment(x, sr, rng)`` changes training waveforms (None: none); every
    waveform then goes through :func:`prepare_audio`. With ``valid_rows``, the validation WER is
    measured ``evals`` times. ``log`` is a callable given one line of text now and then.
    """
    from torch.utils.data import DataLoader

    from course_utils.data import SpeechDataset, collate_speech
    from course_utils.device import get_device, seed_everything

    if minutes is None and steps is None:
        raise ValueError("train_asr: give a budget, steps=... or minutes=... (or both)")
    seed_everything(seed)
    device = torch.device(device) if device is not None else get_device(verbose=False)
    model.to(device).train()
    train_rows = list(train_rows)
    if not train_rows:
        raise ValueError("train_asr: no training rows")
    dataset = SpeechDataset(train_rows, sr=SAMPLE_RATE, augment=_Prepared(augment), seed=seed)
    loader = DataLoader(dataset, batch_size=min(batch_size, len(train_rows)), shuffle=True, drop_last=True,
                        collate_fn=collate_speech, num_workers=num_workers,
                        generator=torch.Generator().manual_seed(seed), persistent_workers=num_workers > 0)
    valid_rows = list(valid_rows or [])
    valid_waves = load_waves(valid_rows) if valid_rows else None

    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=lr)
    budget_s = None if minutes is None else 60.0 * minutes

    plot = None
    if live_plot:
        from course_utils.plotting import LivePlot

        plot = LivePlot(metrics=("loss", "valid_wer") if valid_rows else ("loss",), every=5)
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps if steps else int(budget_s), unit="step" if steps else "s",
                   desc=f"training {type(model).__name__}", leave=True)

    history: dict = {"step": [], "loss": [], "lr": [], "valid_step": [], "valid_wer": [], "valid_cer": []}
    start = time.perf_counter()
    step, frac, next_eval, smooth = 0, 0.0, 1.0 / max(evals, 1), None
    for batch in _forever(loader):
        for group in opt.param_groups:
            group["lr"] = lr * _lr_factor(frac, warmup)
        loss = model.loss(batch)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        opt.step()
        step += 1

        value = float(loss.detach())
        smooth = value if smooth is None else 0.95 * smooth + 0.05 * value
        elapsed = time.perf_counter() - start
        frac = max(step / steps if steps else 0.0, elapsed / budget_s if budget_s else 0.0)
        history["step"].append(step)
        history["loss"].append(value)
        history["lr"].append(opt.param_groups[0]["lr"])
        if plot is not None:
            plot.update(step, loss=value)
        if bar is not None:
            bar.n = step if steps else min(int(elapsed), bar.total)
            bar.set_postfix(loss=f"{smooth:.3f}", refresh=False)
            bar.refresh()
        done = frac >= 1.0
        if valid_rows and (frac >= next_eval or done):
            result = evaluate_asr(model, valid_rows, waves=valid_waves)
            model.train()
            next_eval += 1.0 / max(evals, 1)
            history["valid_step"].append(step)
            history["valid_wer"].append(result["wer"])
            history["valid_cer"].append(result["cer"])
            if plot is not None:
                plot.update(step, valid_wer=result["wer"])
            if log is not None:
                log(f"step {step} ({elapsed / 60:.1f} min): loss {smooth:.3f}, valid WER {result['wer']:.3f} "
                    f"CER {result['cer']:.3f}")
        elif log is not None and step % 100 == 0:
            log(f"step {step} ({elapsed / 60:.1f} min): loss {smooth:.3f}, lr {opt.param_groups[0]['lr']:.2e}")
        if done:
            break
    if bar is not None:
        bar.close()
    if plot is not None:
        plot.close()
    model.eval()
    history["steps"] = step
    history["seconds"] = time.perf_counter() - start
    history["device"] = str(device)
    return history


# ----------------------------------------------------------------------------- checkpoints
def save_checkpoint(model: nn.Module, path: str | os.PathLike, meta: dict | None = None) -> Path:
    """Write ``model``'s config and weights (plus ``meta``, e.g. how it was trained, as plain JSON values) to ``path``; return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"format": CHECKPOINT_FORMAT, "arch": model.config.arch, "config": asdict(model.config),
                "state_dict": state, "meta": json.loads(json.dumps(meta or {}, default=str))}, path)
    return path


def load_checkpoint(path: str | os.PathLike, device=None) -> nn.Module:
    """Return the model stored at ``path`` (built from its config, weights loaded, in eval mode)."""
    from course_utils.models import get_model_class

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ValueError(f"{path}: not a readable checkpoint ({type(e).__name__}: {str(e)[:120]})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: not a course_utils ASR checkpoint (expected format {CHECKPOINT_FORMAT!r})")
    cls = get_model_class(ckpt["arch"])
    # a field added to a config after a checkpoint was saved takes the value that checkpoint was trained with
    config = {**getattr(cls.config_class, "LEGACY_DEFAULTS", {}), **ckpt["config"]}
    model = cls(cls.config_class(**config))
    model.load_state_dict(ckpt["state_dict"])
    model.meta = ckpt.get("meta", {})
    if device is not None:
        model.to(device)
    return model.eval()
