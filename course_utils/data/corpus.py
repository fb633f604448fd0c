"""Synthetic speech corpora: connected digit strings (like TIDIGITS) and spoken commands.

``make_corpus`` plans every utterance from the seed (text, voice, rate, pitch, silences, level,
split), renders the plan with the TTS engines of :mod:`.synth` and writes 16 kHz mono 16-bit WAV
files plus a ``manifest.jsonl``::

    {"path": "wav/000123.wav", "text": "three one four", "speaker": "espeak:en-us+m3",
     "engine": "espeak", "split": "train", "duration": 1.234}

The split is speaker-independent: whole voices are held out for "test" (and a few for "valid"),
and the engines asked for take equal turns in "train". For espeak a held-out "voice" is a
variant (``m3``, ``f2``, ``klatt4``...) in every accent, so test voices have a timbre never heard
in training; test utterances are spread evenly over the held-out speakers. Corpora are cached under ``CACHE_DIR/corpora/<kind>-<hash of the parameters>/``: the
same call returns at once the second time, and the same seed gives a byte-identical manifest.
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import shutil
import warnings
import wave
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

import numpy as np

from .. import CACHE_DIR
from ..audio import SAMPLE_RATE, check_audio
from ..text import COMMAND_WORDS, DIGIT_WORDS
from .manifest import ManifestError, read_manifest, write_manifest
from .synth import ENGINES, _espeak, fresh_espeak, require_engine, synthesize, trim_silence, voices

#: Bump when the generator changes, so cached corpora are rebuilt.
CORPUS_VERSION = 2
KINDS = ("digits", "commands")
SPLITS = ("train", "valid", "test")
#: The classes of the "commands" corpus; a row's ``"label"`` indexes this list.
COMMAND_LABELS = COMMAND_WORDS + DIGIT_WORDS
#: How often a spoken 0 is "oh" rather than "zero" in digit strings.
P_OH = 0.3
#: Share of an engine's voice groups held out for test / valid (engines with 10 or more groups).
TEST_SHARE, VALID_SHARE = 0.10, 0.05
RATE_WPM, PITCH, SILENCE_S, PEAK, PIPER_NOISE = (120, 220), (30, 70), (0.05, 0.4), (0.3, 0.95), (0.3, 0.9)
_CHUNK = 50  # utterances rendered by one fresh espeak library (and one pool task)
_POOL_MIN = 300  # below this many utterances, starting worker processes costs more than it saves


@dataclass(frozen=True)
class Utterance:
    """One planned utterance: what to say, who says it and how."""

    index: int
    text: str
    engine: str
    voice: str
    split: str
    rate: int
    pitch: int
    lead_s: float
    trail_s: float
    peak: float
    seed: int
    noise: float | None = None
    label: int | None = None


def speaker_group(engine: str, voice: str) -> str:
    """Return the unit held out together: an espeak variant in every accent, one flite speaker (kal = kal16)."""
    if engine == "espeak":
        return "espeak:" + (voice.partition("+")[2] or "default")
    if engine == "flite" and voice == "kal16":
        return "flite:kal"
    return f"{engine}:{voice}"


def random_digit_text(rng: np.random.Generator, min_digits: int = 1, max_digits: int = 7) -> str:
    """Return a random digit string in words (\"three oh four\"), ``min_digits`` to ``max_digits`` long."""
    n = int(rng.integers(min_digits, max_digits + 1))
    digits = rng.integers(0, 10, size=n)
    return " ".join(("oh" if rng.random() < P_OH else "zero") if d == 0 else DIGIT_WORDS[d] for d in digits)


def _hold_out(engine: str, engine_voices: list[str], rng: np.random.Generator,
              test_voices: set[str] | None) -> dict[str, str]:
    """Return {voice: split} for one engine; whole speaker groups go to valid or test."""
    groups = sorted({speaker_group(engine, v) for v in engine_voices})
    order = [groups[i] for i in rng.permutation(len(groups))]
    if test_voices is not None:
        chosen = [v for v in engine_voices if v in test_voices or f"{engine}:{v}" in test_voices]
        test_groups = {speaker_group(engine, v) for v in chosen}
        rest = [g for g in order if g not in test_groups]
        valid_groups = set(rest[: max(1, round(VALID_SHARE * len(groups)))]) if len(groups) >= 10 else set()
        split = {v: "test" for v in chosen}
        for v in engine_voices:
            g = speaker_group(engine, v)
            if v not in split and g not in test_groups:  # a test voice's group-mates are left out
                split[v] = "valid" if g in valid_groups else "train"
        return split
    if len(groups) >= 10:
        n_test, n_valid = max(1, round(TEST_SHARE * len(groups))), max(1, round(VALID_SHARE * len(groups)))
    elif len(groups) >= 3:
        n_test, n_valid = 1, 0
    else:  # one or two voices: all of them are needed for training
        n_test, n_valid = 0, 0
    test_groups, valid_groups = set(order[:n_test]), set(order[n_test:n_test + n_valid])
    return {v: "test" if speaker_group(engine, v) in test_groups
            else "valid" if speaker_group(engine, v) in valid_groups else "train" for v in engine_voices}


def plan_corpus(kind: str = "digits", n: int = 2000, seed: int = 0, engines: Sequence[str] = ("espeak",),
                test_voices: Sequence[str] | None = None, min_digits: int = 1, max_digits: int = 7) -> list[Utterance]:
    """Return the utterances :func:`make_corpus` would render, all drawn from ``seed`` (nothing is synthesized)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    engines = sorted(set(engines))
    unknown = [e for e in engines if e not in ENGINES]
    if not engines or unknown:
        raise ValueError(f"engines must be some of {ENGINES}, got {list(engines)}")
    if not 1 <= min_digits <= max_digits:
        raise ValueError(f"need 1 <= min_digits <= max_digits, got {min_digits}, {max_digits}")
    if n < len(engines) + 2:
        raise ValueError(f"n={n} is too small: need at least {len(engines) + 2} utterances "
                         f"(one per engine in train, one in valid, one in test)")
    for e in engines:
        require_engine(e)
    rng = np.random.default_rng(seed)
    wanted = set(test_voices) if test_voices is not None else None
    split_of = {e: _hold_out(e, voices(e), rng, wanted) for e in engines}
    if wanted is not None:
        known = {f"{e}:{v}" for e in engines for v, sp in split_of[e].items() if sp == "test"}
        known |= {k.partition(":")[2] for k in known}
        # "engine:voice" names of engines not in use are ignored, so one list can serve several mixes
        missing = [t for t in wanted if t not in known and (":" not in t or t.partition(":")[0] in engines)]
        if missing:
            raise ValueError(f"test_voices not offered by engines {engines}: {missing}")
    train = {e: [v for v, sp in split_of[e].items() if sp == "train"] for e in engines}
    if not all(train.values()):
        raise ValueError(f"every engine must keep a voice for training; none left for "
                         f"{[e for e, vs in train.items() if not vs]} (check test_voices)")
    held: dict[str, dict[str, list[tuple[str, str]]]] = {"valid": {}, "test": {}}
    for e in engines:
        for v, sp in split_of[e].items():
            if sp != "train":
                held[sp].setdefault(speaker_group(e, v), []).append((e, v))
    if not held["test"]:
        raise ValueError(f"engines {engines} have too few voices to hold any out for a speaker-independent "
                         f"test split: add 'espeak' (or 'flite'), or pass test_voices")
    held_groups = {s: [groups[k] for k in sorted(groups)] for s, groups in held.items()}
    n_test = max(1, round(TEST_SHARE * n))
    n_valid = max(1, round(VALID_SHARE * n)) if held["valid"] else 0
    splits = [SPLITS[i] for i in rng.permutation(np.repeat([0, 1, 2], [n - n_valid - n_test, n_valid, n_test]))]
    turns = [engines[i] for i in rng.permutation(len(engines))]
    labels = rng.permutation(np.resize(np.arange(len(COMMAND_LABELS)), n))
    plan, n_train = [], 0
    for i, split in enumerate(splits):
        if split == "train":  # engines take turns, so each has an equal share of training
            engine = turns[n_train % len(turns)]
            voice = train[engine][int(rng.integers(len(train[engine])))]
            n_train += 1
        else:  # a held-out speaker group at random, then one of its voices
            group = held_groups[split][int(rng.integers(len(held_groups[split])))]
            engine, voice = group[int(rng.integers(len(group)))]
        label = int(labels[i]) if kind == "commands" else None
        text = COMMAND_LABELS[label] if label is not None else random_digit_text(rng, min_digits, max_digits)
        plan.append(Utterance(
            index=i, text=text, engine=engine, voice=voice, split=split,
            rate=int(rng.integers(RATE_WPM[0], RATE_WPM[1] + 1)), pitch=int(rng.integers(PITCH[0], PITCH[1] + 1)),
            lead_s=round(float(rng.uniform(*SILENCE_S)), 3), trail_s=round(float(rng.uniform(*SILENCE_S)), 3),
            peak=round(float(rng.uniform(*PEAK)), 3), seed=int(rng.integers(2**31)),
            noise=round(float(rng.uniform(*PIPER_NOISE)), 3) if engine == "piper" else None, label=label))
    return plan


def write_wav16(path: str | os.PathLike, x: np.ndarray, sr: int) -> Path:
    """Write ``x`` as a 16-bit mono WAV file and return its path (the stdlib writer: no fsync per file)."""
    x = check_audio(x, sr=sr, name=os.fspath(path))
    pcm = np.clip(np.round(x * 32768.0), -32768, 32767).astype("<i2")
    with wave.open(os.fspath(path), "wb") as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(sr)
        f.writeframes(pcm.tobytes())
    return Path(path)


def _render(u: Utterance, wav_dir: str) -> int:
    """Synthesize one planned utterance into ``wav_dir`` and return its length in samples."""
    x = synthesize(u.text, u.voice, u.engine, rate=u.rate, pitch=u.pitch, sr=SAMPLE_RATE, seed=u.seed, noise=u.noise)
    if u.engine != "piper":  # piper's edges are short, and its sampling noise would move a trim between runs
        x = trim_silence(x, SAMPLE_RATE)
    x = x * (u.peak / max(float(np.max(np.abs(x))), 1e-9))
    x = np.concatenate([np.zeros(int(u.lead_s * SAMPLE_RATE), np.float32), x.astype(np.float32),
                        np.zeros(int(u.trail_s * SAMPLE_RATE), np.float32)])
    write_wav16(os.path.join(wav_dir, f"{u.index:06d}.wav"), x, SAMPLE_RATE)
    return len(x)


def _render_chunk(chunk: list[Utterance], wav_dir: str) -> list[int]:
    """Render utterances in order with a freshly loaded espeak-ng, so the audio depends only on the chunk."""
    with fresh_espeak():
        return [_render(u, wav_dir) for u in chunk]


def _render_all(plan: list[Utterance], wav_dir: str, desc: str) -> list[int]:
    """Render the plan into ``wav_dir`` (in worker processes when it is large) and return each length in samples."""
    from tqdm.auto import tqdm

    chunks = [plan[i:i + _CHUNK] for i in range(0, len(plan), _CHUNK)]
    workers = min(os.cpu_count() or 1, 4, len(chunks)) if len(plan) >= _POOL_MIN else 1
    with tqdm(total=len(plan), desc=desc, unit="utt") as bar:
        if workers > 1:
            lengths = []
            try:
                spawn = multiprocessing.get_context("spawn")  # fresh interpreters: no inherited library state
                with ProcessPoolExecutor(workers, mp_context=spawn) as pool:
                    for chunk, done in zip(chunks, pool.map(_render_chunk, chunks, [wav_dir] * len(chunks))):
                        lengths += done
                        bar.update(len(chunk))
                return lengths
            except BrokenProcessPool:  # e.g. called from a script without `if __name__ == "__main__":`
                warnings.warn("make_corpus: worker processes failed to start; rendering in this process instead")
                bar.reset()
        lengths = []
        for chunk in chunks:
            lengths += _render_chunk(chunk, wav_dir)
            bar.update(len(chunk))
        return lengths


def _versions(engines: list[str]) -> dict[str, str]:
    """Return the version of each engine's software, for the corpus record."""
    out = {}
    for e in engines:
        if e == "espeak":
            out[e] = "espeak-ng " + _espeak().version
        elif e == "flite":
            out[e] = "flite (Debian)"
        else:
            dist = {"piper": "piper-tts", "hibari": "hibari-tts"}[e]
            out[e] = f"{dist} {metadata.version(dist)}"
    return out


def corpus_dir(kind: str = "digits", n: int = 2000, seed: int = 0, engines: Sequence[str] = ("espeak",),
               root: str | os.PathLike | None = None, test_voices: Sequence[str] | None = None,
               min_digits: int = 1, max_digits: int = 7) -> Path:
    """Return the folder where :func:`make_corpus` keeps the corpus for these parameters."""
    params = {"version": CORPUS_VERSION, "kind": kind, "n": n, "seed": seed, "engines": sorted(set(engines)),
              "test_voices": sorted(test_voices) if test_voices is not None else None,
              "min_digits": min_digits, "max_digits": max_digits}
    digest = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    return Path(root if root is not None else Path(CACHE_DIR) / "corpora") / f"{kind}-{digest}"


def make_corpus(kind: str = "digits", n: int = 2000, seed: int = 0, engines: Sequence[str] = ("espeak",),
                root: str | os.PathLike | None = None, test_voices: Sequence[str] | None = None,
                min_digits: int = 1, max_digits: int = 7) -> Path:
    """Return the path of the corpus's ``manifest.jsonl``, synthesizing the corpus first unless it is cached.

    kind: "digits" (strings of ``min_digits``-``max_digits`` digit words; 0 is "zero", or "oh" 30% of
    the time) or "commands" (one word of ``COMMAND_LABELS``; rows also get ``"label"``).
    engines: TTS engines to mix, in equal shares of the training set (see :func:`available_engines`).
    root: folder for corpora (default ``CACHE_DIR/corpora``). test_voices: voices (``"en-us+m3"`` or
    ``"espeak:en-us+m3"``) to hold out for test instead of the ones the seed picks.
    """
    out = corpus_dir(kind, n, seed, engines, root, test_voices, min_digits, max_digits)
    manifest = out / "manifest.jsonl"
    if manifest.is_file():
        return manifest
    plan = plan_corpus(kind, n, seed, engines, test_voices, min_digits, max_digits)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "wav").mkdir(parents=True)
    try:
        lengths = _render_all(plan, str(tmp / "wav"), f"synthesizing {kind} corpus")
        rows = []
        for u, length in zip(plan, lengths):
            row = {"path": f"wav/{u.index:06d}.wav", "text": u.text, "speaker": f"{u.engine}:{u.voice}",
                   "engine": u.engine, "split": u.split, "duration": round(length / SAMPLE_RATE, 3)}
            if u.label is not None:
                row["label"] = u.label
            rows.append(row)
        write_manifest(tmp / "manifest.jsonl", rows)
        record = {"kind": kind, "n": n, "seed": seed, "engines": sorted(set(engines)), "test_voices": test_voices,
                  "min_digits": min_digits, "max_digits": max_digits, "corpus_version": CORPUS_VERSION,
                  "software": _versions(sorted(set(engines))), "labels": COMMAND_LABELS if kind == "commands" else None,
                  "utterances": {s: sum(u.split == s for u in plan) for s in SPLITS},
                  "speakers": {s: len({(u.engine, u.voice) for u in plan if u.split == s}) for s in SPLITS},
                  "plan": [asdict(u) for u in plan]}
        (tmp / "corpus.json").write_text(json.dumps(record, indent=1) + "\n")
        if out.exists() and not manifest.is_file():  # a broken earlier attempt
            shutil.rmtree(out)
        if not out.exists():  # (else another process has just finished the same corpus)
            os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest


def load_split(manifest_path: str | os.PathLike, split: str) -> list[dict]:
    """Return the manifest's rows in ``split`` ("train", "valid" or "test"), each with ``"audio_path"``."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    rows = read_manifest(manifest_path)
    chosen = [r for r in rows if r.get("split") == split]
    if not chosen:
        present = sorted({str(r.get("split")) for r in rows})
        raise ManifestError(f"{manifest_path}: no rows in split {split!r} (splits present: {', '.join(present)})")
    return chosen
