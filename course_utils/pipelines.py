"""Pretrained models in one call, online or offline: thin wrappers over ``transformers.pipeline`` (session 05).

- ``asr_pipeline()``: speech -> text, with word or segment timestamps on request, long audio in
  chunks. Online: ``openai/whisper-tiny``. Offline: the course's own wav2vec2 digit recogniser
  (``data/models/wav2vec2_digits``, see :mod:`course_utils.hf_models`), run by the very same
  ``pipeline(...)`` code.
- ``classification_pipeline()``: audio -> labels (online: ``MIT/ast-finetuned-speech-commands-v2``).
- ``tts_pipeline()``: text -> audio (online: ``facebook/mms-tts-eng``).
- Every pipeline takes audio as a file path, an ``(array, rate)`` pair, a 16 kHz array, or a
  ``datasets`` row with an ``"audio"`` field, resamples it to the model's rate and returns plain
  Python values.
- Offline (:func:`course_utils.device.is_online` says so within ~2 s), one line says which local
  model is used instead; a task with no local model raises :class:`PipelineError` in one line.
  Later sessions add theirs with :func:`register_local_model`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from course_utils.audio import SAMPLE_RATE, check_audio, load_audio, resample, to_mono

#: The hub model each task uses by default when online.
HUB_MODELS = {
    "automatic-speech-recognition": "openai/whisper-tiny",
    "audio-classification": "MIT/ast-finetuned-speech-commands-v2",
    "text-to-speech": "facebook/mms-tts-eng",
}
#: Short names accepted for the tasks.
ALIASES = {"asr": "automatic-speech-recognition", "classification": "audio-classification",
           "tts": "text-to-speech", "text-to-audio": "text-to-speech"}
#: The local model each task falls back to offline (a folder saved with ``save_pretrained``), or None.
LOCAL_MODELS: dict[str, str | None] = {task: None for task in HUB_MODELS}
#: Which later session is due to add a local model for a task that has none yet.
_PLANNED = {"audio-classification": "session 07", "text-to-speech": "session 06"}


class PipelineError(RuntimeError):
    """A pipeline that cannot be built or run; the message says why and what to do, in one line."""


def _default_local_asr() -> str:
    from course_utils.hf_models import LOCAL_ASR_DIR

    return LOCAL_ASR_DIR


def register_local_model(task: str, path: str | os.PathLike) -> None:
    """Make the model saved in ``path`` the offline fallback for ``task``."""
    LOCAL_MODELS[canonical_task(task)] = os.fspath(path)


def canonical_task(task: str) -> str:
    """Return the ``transformers`` name of ``task`` (``"asr"`` -> ``"automatic-speech-recognition"``)."""
    task = ALIASES.get(task, task)
    if task not in HUB_MODELS:
        known = ", ".join(sorted(set(HUB_MODELS) | set(ALIASES)))
        raise PipelineError(f"unknown task {task!r}: choose one of {known}")
    return task


def local_model(task: str) -> str | None:
    """Return the folder of ``task``'s local model, or None if it has none."""
    task = canonical_task(task)
    if LOCAL_MODELS.get(task):
        return LOCAL_MODELS[task]
    return _default_local_asr() if task == "automatic-speech-recognition" else None


def _shown(path: str | os.PathLike) -> str:
    """Return ``path`` relative to the repository (``data/models/...``) when it lies inside it."""
    from course_utils import DATA_DIR

    root = Path(DATA_DIR).resolve().parent
    try:
        return str(Path(path).resolve().relative_to(root))
    except ValueError:
        return os.fspath(path)


def _looks_like_path(name: str) -> bool:
    """Return True if ``name`` is meant as a folder rather than a hub id (``org/name``)."""
    return (os.path.isabs(name) or name.startswith((".", "~")) or name.count("/") > 1
            or name.startswith("data/") or os.sep != "/" and os.sep in name)


def _check_model_dir(path: str | os.PathLike, task: str) -> str:
    """Return ``path`` if it holds a saved ``transformers`` model; else raise PipelineError naming it."""
    path = os.path.expanduser(os.fspath(path))
    if not os.path.isdir(path):
        hint = " (train it with `python scripts/train_wav2vec2_digits.py`)" if task.startswith("automatic") else ""
        raise PipelineError(f"model directory {_shown(path)} not found{hint}")
    if not os.path.isfile(os.path.join(path, "config.json")):
        raise PipelineError(f"{_shown(path)} is not a saved transformers model (no config.json in it)")
    return path


def _cached_snapshot(repo_id: str) -> str | None:
    """Return the local folder of ``repo_id`` in the Hugging Face cache, or None (never touches the network)."""
    try:
        from huggingface_hub import snapshot_download

        path = snapshot_download(repo_id, local_files_only=True)
    except Exception:  # not cached (or not a valid id): that is all we need to know
        return None
    return path if os.path.isfile(os.path.join(path, "config.json")) else None


def resolve_model(task: str, model: str | os.PathLike | None = None, online: bool | None = None,
                  verbose: bool = True) -> tuple[str, bool]:
    """Return ``(what to load, is_local)`` for ``task``: ``model`` (a folder or a hub id), else the default.

    Offline, a hub id is used from the local cache if it is there; otherwise the task's local model
    is used and one line says so; with no local model, PipelineError says what to do.
    """
    from course_utils.device import is_online, setup_hub

    task = canonical_task(task)
    if model is not None and (os.path.exists(os.path.expanduser(os.fspath(model))) or _looks_like_path(os.fspath(model))):
        return _check_model_dir(model, task), True
    wanted = os.fspath(model) if model is not None else HUB_MODELS[task]
    online = is_online() if online is None else online
    if online:
        return wanted, False
    setup_hub(verbose=False)  # HF_HUB_OFFLINE=1: any later hub call fails at once instead of retrying
    cached = _cached_snapshot(wanted)
    if cached is not None:
        if verbose:
            print(f"offline: using {wanted} from the local Hugging Face cache")
        return cached, False
    fallback = local_model(task)
    if fallback is None:
        when = f" yet ({_PLANNED[task]} adds one)" if task in _PLANNED else ""
        raise PipelineError(f"offline: no local {task} model{when}, and {wanted} needs the Hugging Face Hub: "
                            f"run this online (e.g. on Colab)")
    path = _check_model_dir(fallback, task)
    if verbose:
        print(f"offline: using the course's local model {_shown(path)} instead of {wanted}")
    return path, True


# ----------------------------------------------------------------------------- audio in
def as_waveform(audio, sr: int | None = None, target_sr: int = SAMPLE_RATE) -> np.ndarray:
    """Return ``audio`` as float32 mono samples at ``target_sr``.

    ``audio``: a file path; an ``(array, rate)`` pair; an array (or torch tensor) at ``sr``
    (default 16 kHz); a dict with ``"array"``/``"raw"`` and ``"sampling_rate"``, or ``"path"``; or a
    ``datasets`` row whose ``"audio"`` field is such a dict. Raises AudioError for empty or broken audio.
    """
    if isinstance(audio, dict) and "audio" in audio:
        audio = audio["audio"]
    if isinstance(audio, (str, os.PathLike)):
        x, rate = load_audio(audio, sr=None)
        return resample(x, rate, target_sr)
    if isinstance(audio, dict):
        samples = audio.get("array", audio.get("raw"))
        if samples is None:
            if audio.get("path"):
                return as_waveform(audio["path"], target_sr=target_sr)
            raise PipelineError(f"an audio dict needs 'array' (or 'raw') and 'sampling_rate', or 'path'; "
                                f"got keys {sorted(audio)}")
        if "sampling_rate" not in audio:
            raise PipelineError("an audio dict with 'array' needs its 'sampling_rate' too")
        audio = (samples, audio["sampling_rate"])
    if isinstance(audio, tuple) and len(audio) == 2 and isinstance(audio[1], (int, np.integer)):
        audio, sr = audio
    rate = SAMPLE_RATE if sr is None else int(sr)
    x = to_mono(check_audio(audio, sr=rate, name="audio"))
    return resample(x, rate, target_sr)


def _plain(value):
    """Return ``value`` with NumPy scalars and tuples made plain Python (floats, lists), recursively."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, np.generic):
        return value.item()
    return value


# ----------------------------------------------------------------------------- pipelines
class AudioPipeline:
    """A ``transformers`` pipeline that accepts the course's audio inputs; ``.pipe`` is the pipeline itself."""

    def __init__(self, pipe, task: str, model_name: str, local: bool, **defaults):
        self.pipe, self.task, self.model_name, self.local = pipe, task, model_name, local
        self.defaults = defaults  # keyword arguments every call gets unless it gives its own
        fe = getattr(pipe, "feature_extractor", None)
        self.sampling_rate = getattr(fe, "sampling_rate", None) or SAMPLE_RATE
        self.is_ctc = task == "automatic-speech-recognition" and getattr(pipe, "type", "") in ("ctc", "ctc_with_lm")

    def __repr__(self) -> str:
        where = "local" if self.local else "hub"
        return f"AudioPipeline({self.task!r}, model={self.model_name!r} ({where}), rate={self.sampling_rate})"

    def _inputs(self, audio, sr):
        return {"raw": as_waveform(audio, sr=sr, target_sr=self.sampling_rate), "sampling_rate": self.sampling_rate}

    def __call__(self, inputs, sr: int | None = None, **kwargs):
        """Run the pipeline on one input (or a list of them); see :func:`asr_pipeline` and friends for what comes back."""
        from course_utils.hf_models import quiet_transformers

        if isinstance(inputs, list):
            return [self(x, sr=sr, **kwargs) for x in inputs]
        with quiet_transformers():  # no notices about generation settings on every call
            return self._run(inputs, sr, {**self.defaults, **kwargs})

    def _run(self, inputs, sr, kwargs):
        if self.task == "text-to-speech":
            if not isinstance(inputs, str) or not inputs.strip():
                raise PipelineError("text-to-speech needs a non-empty string of text")
            out = self.pipe(inputs, **kwargs)
            audio = np.asarray(out["audio"], dtype=np.float32).reshape(-1)
            return {"audio": audio, "sampling_rate": int(out["sampling_rate"])}
        if self.task == "automatic-speech-recognition":
            stamps = kwargs.pop("return_timestamps", None)
            if stamps:
                # CTC models time characters or words; Whisper times segments (True) or words
                kwargs["return_timestamps"] = ("word" if stamps in (True, "segment") else stamps) if self.is_ctc else (
                    True if stamps == "segment" else stamps)
            out = self.pipe(self._inputs(inputs, sr), **kwargs)
            out["text"] = " ".join(out["text"].split()) if self.is_ctc else out["text"].strip()
            return _plain(out)
        return _plain(self.pipe(self._inputs(inputs, sr), **kwargs))


def load_pipeline(task: str, model: str | os.PathLike | None = None, device=None, verbose: bool = True,
                  online: bool | None = None, **kwargs) -> AudioPipeline:
    """Return an :class:`AudioPipeline` for ``task`` on ``device`` (default: the best here), online or offline.

    ``model``: a hub id or a folder saved with ``save_pretrained`` (default: the task's hub model
    online, its local model offline). Other keyword arguments go to ``transformers.pipeline``.
    """
    task = canonical_task(task)
    name, local = resolve_model(task, model, online=online, verbose=verbose)
    from transformers import pipeline

    from course_utils.device import get_device
    from course_utils.hf_models import quiet_transformers

    device = get_device(verbose=False) if device is None else device
    try:
        with quiet_transformers():
            pipe = pipeline(task, model=name, device=device, **kwargs)
    except (OSError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise PipelineError(f"could not load {_shown(name) if local else name} for {task}: {first[:300]}") from None
    shown = _shown(name) if local else (model and os.fspath(model)) or HUB_MODELS[task]
    return AudioPipeline(pipe, task, shown, local)


def asr_pipeline(model: str | os.PathLike | None = None, device=None, chunk_length_s: float | None = None,
                 **kwargs) -> AudioPipeline:
    """Return a speech recogniser: ``asr(audio, return_timestamps=False|True|"word")`` -> ``{"text", "chunks"?}``.

    ``chunks`` (with timestamps) is a list of ``{"text", "timestamp": (start_s, end_s)}``: words for
    CTC models (True means words), segments (True) or words for Whisper. Audio longer than
    ``chunk_length_s`` (default: 30 s for Whisper, 10 s for CTC models) is cut into overlapping
    chunks and the pieces joined.
    """
    asr = load_pipeline("automatic-speech-recognition", model, device, **kwargs)
    asr.defaults["chunk_length_s"] = chunk_length_s or (10.0 if asr.is_ctc else 30.0)
    if getattr(asr.pipe.model.config, "model_type", "") == "whisper":
        # tiny Whisper models sometimes repeat a word forever at temperature 0: cap the output
        asr.defaults["max_new_tokens"] = 128
    return asr


def classification_pipeline(model: str | os.PathLike | None = None, device=None, **kwargs) -> AudioPipeline:
    """Return an audio classifier: ``clf(audio, top_k=5)`` -> ``[{"label", "score"}, ...]``, best first."""
    return load_pipeline("audio-classification", model, device, **kwargs)


def tts_pipeline(model: str | os.PathLike | None = None, device=None, **kwargs) -> AudioPipeline:
    """Return a speech synthesiser: ``tts("text")`` -> ``{"audio": float32 (n,), "sampling_rate": int}``."""
    return load_pipeline("text-to-speech", model, device, **kwargs)


# ----------------------------------------------------------------------------- pictures
def plot_timestamps(x, sr: int, chunks, ax=None, chunk_length_s: float | None = None, title: str | None = None):
    """Return a matplotlib Axes with the waveform ``x`` and each timed chunk (word or segment) as a labelled span.

    ``chunks`` is the ``"chunks"`` list an ASR pipeline returns with ``return_timestamps``. With
    ``chunk_length_s``, the windows the pipeline cut the audio into are marked along the bottom.
    """
    import matplotlib.pyplot as plt

    x = np.asarray(x, dtype=np.float32)
    if ax is None:
        _, ax = plt.subplots(figsize=(12, 2.8))
    t = np.arange(len(x)) / sr
    ax.plot(t, x, lw=0.4, color="0.55")
    peak = float(np.abs(x).max()) or 1.0
    for k, c in enumerate(chunks):
        start, end = c["timestamp"]
        end = end if end is not None else len(x) / sr
        ax.axvspan(start, end, color=("tab:blue", "tab:orange")[k % 2], alpha=0.25, lw=0)
        ax.text((start + end) / 2, peak * (1.08 if k % 2 == 0 else 1.28), c["text"].strip(), ha="center",
                va="bottom", fontsize=8, clip_on=True)
    if chunk_length_s:
        for k, start in enumerate(np.arange(0, len(x) / sr, chunk_length_s * 5 / 6)):  # default stride: 1/6 each side
            ax.plot([start, min(start + chunk_length_s, len(x) / sr)], [-peak * (1.1 + 0.1 * (k % 2))] * 2,
                    color="tab:green", lw=3, solid_capstyle="butt")
    ax.set_xlim(0, len(x) / sr)
    ax.set_ylim(-peak * 1.35, peak * 1.55)
    ax.set_xlabel("time (s)")
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return ax
