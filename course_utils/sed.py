"""Sound event detection (session 08): synthetic soundscapes, a frame-level CRNN, and the DCASE metrics.

- :func:`make_soundscape`: real event recordings mixed into a background at random onsets and
  SNRs (at most two at once), returned with their annotations ``{"onset", "offset", "label"}``
  in seconds - the recipe of Scaper (Salamon et al. 2017) and the DCASE challenge data.
- :func:`event_roll`: annotations -> frame targets (frames, classes); :func:`roll_to_events` back.
- :class:`CRNN`: log-mels -> 2-D convolutions (pooling over frequency only, so every 40 ms frame
  survives) -> a bidirectional GRU over time -> per-frame, per-class probabilities (sigmoid: events
  may overlap). Trained with binary cross-entropy on every frame.
- :func:`energy_baseline`: the simple baseline to beat - frames louder than the background by a
  margin are "an event", labelled with the commonest training class.
- :func:`event_based_scores` and :func:`segment_based_scores`: Mesaros et al. 2016 (the metrics of
  ``sed_eval``): an estimated event is correct when its label matches a reference event whose
  onset is within 200 ms and whose offset is within max(200 ms, 20% of its length); segment-based
  scores compare activity per class in 1-second segments. Both micro-averaged over classes.
  :func:`sed_eval_scores` computes the same with the ``sed_eval`` package, to cross-check them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.audio import SAMPLE_RATE

#: The event classes of the course's soundscapes (categories of :mod:`course_utils.sounds`).
EVENT_CLASSES = ["animal", "alert", "drum", "electronic", "bass"]
_MERGE = {"kick": "drum", "snare": "drum", "tom": "drum", "cymbal": "drum"}
HOP_S = 0.04  # 40 ms frames: fine enough for 200 ms collars, cheap enough for a CPU


# ============================================================================= soundscapes
def event_sources(seed: int = 0, test_share: float = 0.3) -> dict[str, list[dict]]:
    """Return ``{"train": rows, "test": rows}`` of event recordings, each class's source files split between the two.

    Rows: ``{"path", "name", "label"}`` with labels in :data:`EVENT_CLASSES`. Splitting by file means
    test soundscapes contain only recordings never heard in training.
    """
    from course_utils.sounds import animal_sounds, desktop_sounds, sonic_pi_samples

    rows = [{**r, "label": _MERGE.get(r["label"], r["label"])} for r in animal_sounds() + desktop_sounds() + sonic_pi_samples()]
    rows = [r for r in rows if r["label"] in EVENT_CLASSES]
    rng = np.random.default_rng(seed)
    out: dict[str, list[dict]] = {"train": [], "test": []}
    for c in EVENT_CLASSES:
        mine = [r for r in rows if r["label"] == c]
        order = rng.permutation(len(mine))
        n_test = max(1, int(round(test_share * len(mine))))
        out["test"] += [mine[i] for i in order[:n_test]]
        out["train"] += [mine[i] for i in order[n_test:]]
    return out


def background_sources() -> list[str]:
    """Return paths of real ambient recordings used as soundscape backgrounds (sonic-pi drones, hums and hiss)."""
    from course_utils.sounds import sonic_pi_samples

    keep = ("ambi_drone", "ambi_haunted_hum", "ambi_soft_buzz", "ambi_sauna", "ambi_lunar_land", "vinyl_hiss",
            "ambi_glass_hum", "ambi_dark_woosh")
    return [r["path"] for r in sonic_pi_samples() if r["name"] in keep]


def _background(n: int, rng: np.random.Generator, backgrounds: Sequence[str], sr: int) -> np.ndarray:
    """Return ``n`` samples of background: coloured noise plus (usually) a looped real ambience."""
    from course_utils.augment import _colored_noise
    from course_utils.sounds import load_sound

    bg = _colored_noise(n, str(rng.choice(["pink", "brown", "white"])), rng)
    bg = bg / (np.std(bg) + 1e-9) * rng.uniform(0.2, 1.0)
    if backgrounds and rng.random() < 0.8:
        amb = load_sound(backgrounds[int(rng.integers(len(backgrounds)))], sr)
        amb = np.tile(amb, int(np.ceil(n / len(amb))) + 1)
        start = int(rng.integers(len(amb) - n))
        amb = amb[start:start + n]
        bg = bg + amb / (np.std(amb) + 1e-9)
    return (bg / (np.std(bg) + 1e-9) * 0.01).astype(np.float32)        # background RMS 0.01 (-40 dBFS)


def make_soundscape(sources: Sequence[dict], duration: float = 10.0, n_events: tuple[int, int] = (3, 6),
                    snr_db: tuple[float, float] = (0.0, 20.0), max_event_s: float = 3.0, max_polyphony: int = 2,
                    backgrounds: Sequence[str] = (), sr: int = SAMPLE_RATE, seed: int = 0,
                    return_stems: bool = False):
    """Return ``(wave, annotations)`` (and the per-event ``stems`` list if asked): events mixed into a background.

    Each event is the active part of a random source file (at most ``max_event_s`` seconds, faded
    out), at a random onset and an SNR (event RMS over background RMS) drawn from ``snr_db``; no
    more than ``max_polyphony`` events overlap. ``annotations``: ``{"onset", "offset", "label"}``
    in seconds, sorted by onset.
    """
    from course_utils.sounds import active_part, load_sound

    rng = np.random.default_rng(seed)
    n = int(duration * sr)
    wave = _background(n, rng, backgrounds, sr)
    bg_rms = float(np.sqrt(np.mean(wave.astype(np.float64) ** 2)))
    annotations, stems = [], []
    for _ in range(int(rng.integers(n_events[0], n_events[1] + 1))):
        src = sources[int(rng.integers(len(sources)))]
        x = active_part(load_sound(src["path"], sr), sr)[: int(max_event_s * sr)].copy()
        fade = min(len(x) // 4, int(0.05 * sr))
        if fade > 0:
            x[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)
        for _try in range(20):  # find an onset that keeps the polyphony limit
            onset = int(rng.integers(0, max(1, n - len(x))))
            a, b = onset / sr, (onset + len(x)) / sr
            points = [a] + [e["onset"] for e in annotations if a <= e["onset"] < b]   # where overlaps can peak
            if max(sum(1 for e in annotations if e["onset"] <= t < e["offset"]) for t in points) < max_polyphony:
                break
        else:
            continue
        rms = float(np.sqrt(np.mean(x.astype(np.float64) ** 2))) + 1e-9
        x = x * (bg_rms * 10 ** (rng.uniform(*snr_db) / 20) / rms)
        stem = np.zeros(n, np.float32)
        stem[onset:onset + len(x)] = x
        wave = wave + stem
        stems.append(stem)
        annotations.append({"onset": round(onset / sr, 3), "offset": round((onset + len(x)) / sr, 3), "label": src["label"]})
    peak = float(np.abs(wave).max())
    if peak > 0.99:  # scale everything together so the annotations stay true
        wave, stems = wave * (0.99 / peak), [s * (0.99 / peak) for s in stems]
    order = np.argsort([e["onset"] for e in annotations], kind="stable")
    annotations = [annotations[i] for i in order]
    stems = [stems[i] for i in order]
    return (wave.astype(np.float32), annotations, stems) if return_stems else (wave.astype(np.float32), annotations)


def make_soundscapes(sources: Sequence[dict], n: int, seed: int = 0, **kwargs) -> tuple[np.ndarray, list[list[dict]]]:
    """Return ``(waves (n, samples), annotations per soundscape)`` of ``n`` soundscapes drawn from ``seed``."""
    backgrounds = kwargs.pop("backgrounds", None)
    if backgrounds is None:
        backgrounds = background_sources()
    out = [make_soundscape(sources, seed=seed * 100003 + i, backgrounds=backgrounds, **kwargs) for i in range(n)]
    return np.stack([w for w, _ in out]), [a for _, a in out]


# ============================================================================= frames <-> events
def sed_features(waves, sr: int = SAMPLE_RATE, n_mels: int = 64) -> Tensor:
    """Return log-mel features (B, frames, n_mels) with 40 ms frames (80 ms windows) up to 8 kHz."""
    from course_utils.features import log_mel

    hop = int(HOP_S * sr)
    return log_mel(waves, sr=sr, n_fft=2 * hop, hop_length=hop, n_mels=n_mels, top_db=None).transpose(-1, -2)


def event_roll(annotations: Sequence[dict], n_frames: int, classes: Sequence[str] = EVENT_CLASSES,
               hop_s: float = HOP_S) -> np.ndarray:
    """Return the frame targets (n_frames, classes): 1 where an annotated event of that class is active."""
    roll = np.zeros((n_frames, len(classes)), np.float32)
    for e in annotations:
        a, b = int(round(e["onset"] / hop_s)), int(round(e["offset"] / hop_s))
        roll[a:max(b, a + 1), list(classes).index(e["label"])] = 1.0
    return roll


def roll_to_events(roll: np.ndarray, classes: Sequence[str] = EVENT_CLASSES, hop_s: float = HOP_S,
                   min_duration_s: float = 0.1, fill_gap_s: float = 0.2) -> list[dict]:
    """Return events ``{"onset", "offset", "label"}`` from a binary roll (frames, classes).

    Gaps shorter than ``fill_gap_s`` inside an event are filled; events shorter than ``min_duration_s`` dropped.
    """
    events = []
    for c, label in enumerate(classes):
        active = np.r_[False, roll[:, c] > 0.5, False]
        starts = np.flatnonzero(~active[:-1] & active[1:])
        ends = np.flatnonzero(active[:-1] & ~active[1:])
        runs = []
        for s, e in zip(starts, ends):
            if runs and (s - runs[-1][1]) * hop_s < fill_gap_s:
                runs[-1][1] = e
            else:
                runs.append([s, e])
        events += [{"onset": round(s * hop_s, 3), "offset": round(e * hop_s, 3), "label": label}
                   for s, e in runs if (e - s) * hop_s >= min_duration_s]
    return sorted(events, key=lambda e: (e["onset"], e["label"]))


def median_filter(probs: np.ndarray, width: int = 7) -> np.ndarray:
    """Return ``probs`` (frames, classes) median-filtered over time, ``width`` frames (odd)."""
    from scipy.ndimage import median_filter as _mf

    return _mf(probs, size=(width, 1), mode="nearest")


# ============================================================================= model
class CRNN(nn.Module):
    """Log-mels (B, T, n_mels) -> per-frame class logits (B, T, n_classes): convolutions, then a BiGRU."""

    def __init__(self, n_classes: int = len(EVENT_CLASSES), n_mels: int = 64, channels: Sequence[int] = (16, 32, 64),
                 pools: Sequence[int] = (4, 4, 2), hidden: int = 64):
        super().__init__()
        self.config = {"n_classes": n_classes, "n_mels": n_mels, "channels": list(channels), "pools": list(pools),
                       "hidden": hidden}
        layers, c_in, f = [], 1, n_mels
        for c, p in zip(channels, pools):
            layers += [nn.Conv2d(c_in, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.MaxPool2d((1, p))]
            c_in, f = c, f // p
        self.conv = nn.Sequential(*layers)                                 # pools frequency only: T stays
        self.gru = nn.GRU(c_in * f, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * hidden, n_classes)
        self.register_buffer("mean", torch.zeros(n_mels))
        self.register_buffer("std", torch.ones(n_mels))

    def set_normalization(self, feats: Tensor) -> None:
        """Store the mean and std per mel band of training features (B, T, n_mels)."""
        self.mean.copy_(feats.mean(dim=(0, 1)))
        self.std.copy_(feats.std(dim=(0, 1)) + 1e-5)

    def forward(self, feats: Tensor) -> Tensor:
        x = ((feats - self.mean) / self.std).unsqueeze(1)                  # (B, 1, T, n_mels)
        x = self.conv(x)                                                    # (B, C, T, F')
        x = x.permute(0, 2, 1, 3).flatten(2)                                # (B, T, C * F')
        x, _ = self.gru(x)                                                  # (B, T, 2 * hidden)
        return self.head(x)                                                 # (B, T, n_classes)


def train_sed(model: CRNN, feats: Tensor, rolls: Tensor, *, minutes: float | None = None, steps: int | None = None,
              batch_size: int = 16, crop_frames: int = 125, lr: float = 3e-3, seed: int = 0, live_plot: bool = True,
              progress: bool = True) -> dict:
    """Train ``model`` in place on features (N, T, n_mels) and frame targets (N, T, classes); return the loss history.

    Each step takes random ``crop_frames``-frame windows (5 s) of random soundscapes, with SpecAugment-style masks.
    """
    from course_utils.augment import spec_augment
    from course_utils.classify import fit

    model.set_normalization(feats)
    gen = torch.Generator().manual_seed(seed)
    T = feats.shape[1]

    def next_batch(step):
        idx = torch.randint(len(feats), (batch_size,), generator=gen)
        start = torch.randint(0, max(1, T - crop_frames + 1), (batch_size,), generator=gen)
        x = torch.stack([feats[i, s:s + crop_frames] for i, s in zip(idx.tolist(), start.tolist())])
        y = torch.stack([rolls[i, s:s + crop_frames] for i, s in zip(idx.tolist(), start.tolist())])
        x = model.mean + spec_augment(x - model.mean, freq_masks=1, time_masks=0, generator=gen)  # masked bands -> mean
        return x, y

    return fit(model, next_batch, lambda m, b: F.binary_cross_entropy_with_logits(m(b[0]), b[1]), minutes=minutes,
               steps=steps, lr=lr, live_plot=live_plot, progress=progress, desc="training CRNN")


def save_crnn(model: CRNN, path, meta: dict | None = None):
    """Write ``model``'s settings, weights (with its feature normalisation) and ``meta`` to ``path``; return the path."""
    from pathlib import Path

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({"format": "course_utils.sed/1", "config": model.config, "classes": list(EVENT_CLASSES),
                "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()}, "meta": dict(meta or {})}, path)
    return path


def load_crnn(path=None) -> CRNN:
    """Return the CRNN saved at ``path`` (default: the course's ``data/models/sed_crnn.pt``) in eval mode, ``.meta`` attached."""
    from pathlib import Path

    from course_utils import DATA_DIR

    path = Path(path) if path is not None else Path(DATA_DIR) / "models" / "sed_crnn.pt"
    if not path.is_file():
        raise FileNotFoundError(f"{path}: checkpoint not found (make it with `python -m course_utils.classify train --task sed`)")
    ckpt = torch.load(path, map_location="cpu", weights_only=True)
    if not isinstance(ckpt, dict) or ckpt.get("format") != "course_utils.sed/1":
        raise ValueError(f"{path}: not a course_utils.sed checkpoint")
    model = CRNN(**ckpt["config"])
    model.load_state_dict(ckpt["state_dict"])
    model.meta = ckpt.get("meta", {})
    return model.eval()


def sed_benchmark(n_train: int = 300, n_test: int = 40, seed: int = 0):
    """Return ``(train_waves, train_annotations, test_waves, test_annotations)``: the course's SED data.

    Train soundscapes use seed 1 and the training source files, test soundscapes seed 2 and the held-out files
    (the first ``n`` of a larger set are the same soundscapes, so small and large runs share them).
    """
    sources = event_sources(seed)
    tw, ta = make_soundscapes(sources["train"], n_train, seed=1)
    vw, va = make_soundscapes(sources["test"], n_test, seed=2)
    return tw, ta, vw, va


@torch.no_grad()
def detect_events(model: CRNN, feats: Tensor, threshold: float = 0.5, median_width: int = 5,
                  classes: Sequence[str] = EVENT_CLASSES) -> tuple[list[list[dict]], np.ndarray]:
    """Return ``(events per soundscape, probabilities (N, T, classes))`` of ``model`` on features (N, T, n_mels)."""
    model.eval()
    probs = torch.sigmoid(model(feats)).numpy()
    events = [roll_to_events(median_filter(p, median_width) > threshold, classes) for p in probs]
    return events, probs


def energy_baseline(waves: np.ndarray, label: str, sr: int = SAMPLE_RATE, margin_db: float = 6.0,
                    classes: Sequence[str] = EVENT_CLASSES) -> list[list[dict]]:
    """Return events per soundscape from an energy threshold: frames ``margin_db`` above the clip's median level.

    Every detected event gets ``label`` (the commonest class in training): a detector that knows
    *when* something happens, but not *what*.
    """
    hop = int(HOP_S * sr)
    out = []
    for x in np.atleast_2d(waves):
        n = len(x) // hop
        e = 10 * np.log10(np.mean(x[: n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1) + 1e-12)
        active = median_filter((e > np.median(e) + margin_db).astype(np.float32)[:, None], 5)[:, 0]
        roll = np.zeros((n, len(classes)), np.float32)
        roll[:, list(classes).index(label)] = active
        out.append(roll_to_events(roll, classes))
    return out


# ============================================================================= metrics
def _scores(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    return {"f1": f, "precision": p, "recall": r, "tp": tp, "fp": fp, "fn": fn}


def _max_matching(ok: np.ndarray) -> int:
    """Return the size of a maximum matching in the bipartite graph ``ok`` (refs x ests), by augmenting paths."""
    match_est = [-1] * ok.shape[1]

    def augment(r: int, seen: list[bool]) -> bool:
        for e in np.flatnonzero(ok[r]):
            if not seen[e]:
                seen[e] = True
                if match_est[e] < 0 or augment(match_est[e], seen):
                    match_est[e] = r
                    return True
        return False

    return sum(augment(r, [False] * ok.shape[1]) for r in range(ok.shape[0]))


def event_based_scores(reference: Sequence[Sequence[dict]], estimated: Sequence[Sequence[dict]],
                       t_collar: float = 0.2, percentage_of_length: float = 0.2) -> dict:
    """Return micro-averaged event-based ``f1, precision, recall, tp, fp, fn`` over lists of files' events.

    A match needs the same label, onsets within ``t_collar`` seconds, and offsets within
    max(``t_collar``, ``percentage_of_length`` x the reference event's length); each reference and
    each estimate is used at most once (a maximum matching, as ``sed_eval`` does).
    """
    if len(reference) != len(estimated):
        raise ValueError(f"{len(reference)} reference files but {len(estimated)} estimated ones")
    tp = n_ref = n_est = 0
    for ref, est in zip(reference, estimated):
        n_ref, n_est = n_ref + len(ref), n_est + len(est)
        for label in {e["label"] for e in ref} & {e["label"] for e in est}:
            r = [e for e in ref if e["label"] == label]
            s = [e for e in est if e["label"] == label]
            ok = np.zeros((len(r), len(s)), bool)
            for i, a in enumerate(r):
                collar = max(t_collar, percentage_of_length * (a["offset"] - a["onset"]))
                for j, b in enumerate(s):
                    ok[i, j] = (abs(a["onset"] - b["onset"]) <= t_collar + 1e-9
                                and abs(a["offset"] - b["offset"]) <= collar + 1e-9)
            tp += _max_matching(ok)
    return _scores(tp, n_est - tp, n_ref - tp)


def segment_based_scores(reference: Sequence[Sequence[dict]], estimated: Sequence[Sequence[dict]],
                         duration: float | Sequence[float], segment: float = 1.0,
                         classes: Sequence[str] | None = None) -> dict:
    """Return micro-averaged segment-based ``f1, precision, recall, tp, fp, fn``: class activity per ``segment`` seconds.

    A class is active in a segment if any of its events overlaps it; every (segment, class) is
    then a true positive, a false positive or a false negative. ``duration``: of each file.
    """
    if len(reference) != len(estimated):
        raise ValueError(f"{len(reference)} reference files but {len(estimated)} estimated ones")
    durations = [duration] * len(reference) if np.isscalar(duration) else list(duration)
    classes = list(classes) if classes is not None else sorted({e["label"] for f in list(reference) + list(estimated) for e in f})
    tp = fp = fn = 0
    for ref, est, dur in zip(reference, estimated, durations):
        last = max([dur] + [e["offset"] for e in list(ref) + list(est)])  # estimates may run past the end
        n_seg = int(np.ceil(last / segment - 1e-9))

        def activity(events):
            act = np.zeros((n_seg, len(classes)), bool)
            for e in events:
                a = int(np.floor(e["onset"] / segment + 1e-9))
                b = int(np.ceil(e["offset"] / segment - 1e-9))
                act[a:max(b, a + 1), classes.index(e["label"])] = True
            return act

        r, s = activity(ref), activity(est)
        tp, fp, fn = tp + int(np.sum(r & s)), fp + int(np.sum(~r & s)), fn + int(np.sum(r & ~s))
    return _scores(tp, fp, fn)


def sed_eval_scores(reference: Sequence[Sequence[dict]], estimated: Sequence[Sequence[dict]],
                    duration: float | Sequence[float], classes: Sequence[str] = EVENT_CLASSES, t_collar: float = 0.2,
                    percentage_of_length: float = 0.2, segment: float = 1.0) -> dict | None:
    """Return ``{"event": scores, "segment": scores}`` (``f1, precision, recall``) from the ``sed_eval`` package.

    The same definitions as :func:`event_based_scores` and :func:`segment_based_scores`, computed by the
    DCASE reference implementation, so the two can be compared. Returns None if ``sed_eval`` is not
    installed. (``dcase_util`` imports ``pkg_resources``, which setuptools 81+ no longer ships: a stand-in
    module is put in place for the import only, and removed again.)
    """
    import sys
    import types

    stub = None
    try:
        import pkg_resources  # noqa: F401
    except ImportError:
        stub = sys.modules["pkg_resources"] = types.ModuleType("pkg_resources")
    try:
        import dcase_util
        import sed_eval
    except ImportError:
        return None
    finally:
        if stub is not None and sys.modules.get("pkg_resources") is stub:
            del sys.modules["pkg_resources"]
    if len(reference) != len(estimated):
        raise ValueError(f"{len(reference)} reference files but {len(estimated)} estimated ones")
    durations = [duration] * len(reference) if np.isscalar(duration) else list(duration)
    labels = list(classes)
    events = sed_eval.sound_event.EventBasedMetrics(event_label_list=labels, t_collar=t_collar,
                                                    percentage_of_length=percentage_of_length)
    segments = sed_eval.sound_event.SegmentBasedMetrics(event_label_list=labels, time_resolution=segment)
    for k, (ref, est, dur) in enumerate(zip(reference, estimated, durations)):
        def container(evs):
            return dcase_util.containers.MetaDataContainer(
                [{"filename": f"{k}.wav", "onset": e["onset"], "offset": e["offset"], "event_label": e["label"]} for e in evs])

        r, s = container(ref), container(est)
        events.evaluate(reference_event_list=r, estimated_event_list=s)
        segments.evaluate(reference_event_list=r, estimated_event_list=s,
                          evaluated_length_seconds=max([dur] + [e["offset"] for e in list(ref) + list(est)]))
    out = {}
    for name, metric in (("event", events), ("segment", segments)):
        m = metric.results_overall_metrics()["f_measure"]
        out[name] = {"f1": float(m["f_measure"]), "precision": float(m["precision"]), "recall": float(m["recall"])}
    return out


# ============================================================================= picture
def plot_events(reference: Sequence[dict], estimated: Sequence[dict], duration: float,
                classes: Sequence[str] = EVENT_CLASSES, probs: np.ndarray | None = None, ax=None, title: str | None = None):
    """Return the axes after drawing a timeline: true events as wide pale bars, estimates as thin dark ones."""
    import matplotlib.pyplot as plt

    from course_utils.plotting import DPI

    if ax is None:
        _, ax = plt.subplots(figsize=(8, 0.4 * len(classes) + 0.9), dpi=DPI, layout="constrained")
    for k, c in enumerate(classes):
        if probs is not None:
            t = np.arange(len(probs)) * HOP_S
            ax.plot(t, k - 0.4 + 0.8 * probs[:, k], color="0.5", lw=0.6)
        for e in reference:
            if e["label"] == c:
                ax.barh(k, e["offset"] - e["onset"], left=e["onset"], height=0.8, color="tab:green", alpha=0.35)
        for e in estimated:
            if e["label"] == c:
                ax.barh(k, e["offset"] - e["onset"], left=e["onset"], height=0.25, color="black")
    ax.set_yticks(range(len(classes)), classes)
    ax.set_xlim(0, duration)
    ax.set_xlabel("time (s)")
    ax.set_title(title or "true events (green) and detected events (black)")
    return ax
