"""course_utils: the small package behind the ML for Audio course notebooks.

Modules (import what you need, e.g. ``from course_utils import audio, features``):

- ``device``    device choice (CUDA > MPS > CPU), seeding, Colab and online detection
- ``audio``     load / save / resample / mono / normalise / play, with input checks
- ``features``  spectrogram, log-mel, MFCC in torch (batched, any device)
- ``augment``   noise, reverb, speed/pitch, telephone band, SpecAugment
- ``plotting``, ``widgets``  figures and sliders used in the notebooks
- ``data``      synthetic speech corpora, the real-speech check set, manifests, datasets
- ``text``      digit words, normalisation, character tokenizer
- ``metrics``   WER / CER (jiwer)
"""

__version__ = "0.1.0"

import os as _os

_REPO = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))
#: The repository root when running from a checkout, else None (installed as a package).
REPO_DIR = _REPO if _os.path.exists(_os.path.join(_REPO, "pyproject.toml")) else None
#: Where shipped data lives (``data/`` in the checkout).
DATA_DIR = _os.path.join(REPO_DIR or _REPO, "data")
#: A writable cache for generated corpora and checkpoints; override with COURSE_CACHE.
CACHE_DIR = _os.environ.get(
    "COURSE_CACHE",
    _os.path.join(REPO_DIR, "cache") if REPO_DIR else _os.path.expanduser("~/.cache/ml_for_audio"),
)
