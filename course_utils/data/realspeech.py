"""Real human speech from Debian packages, to check models trained on synthetic voices.

- :func:`real_digit_set`: digit strings joined from the Asterisk voice prompts (Debian
  ``asterisk-core-sounds-en-wav``, CC-BY-SA-3.0): one US female speaker, 8 kHz telephone quality,
  each digit recorded alone, joined with short random gaps.
- :func:`real_speech_samples`: read speech with transcripts from Debian ``pocketsphinx-testdata``
  (LibriVox and other public-domain recordings), for notebooks that want a real voice.

The recordings are read from the installed packages at run time; only derived files go to the
cache, never into the repository.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import numpy as np

from .. import CACHE_DIR
from ..audio import SAMPLE_RATE, load_audio
from ..text import DIGIT_WORDS
from .corpus import P_OH, random_digit_text, write_wav16
from .manifest import write_manifest
from .synth import trim_silence

ASTERISK_PACKAGE = "asterisk-core-sounds-en-wav"
POCKETSPHINX_PACKAGE = "pocketsphinx-testdata"
_ASTERISK_SOUNDS = Path("/usr/share/asterisk/sounds")
_ASTERISK_VOICES = ("en_US_f_Allison", "en_US", "en")  # the same speaker under several names
_POCKETSPHINX_DATA = Path("/usr/share/pocketsphinx/test/data")
REAL_SET_VERSION = 1
GAP_S, SILENCE_S, PEAK = (0.03, 0.25), (0.1, 0.4), (0.3, 0.95)


def _not_installed(what: str, package: str) -> FileNotFoundError:
    return FileNotFoundError(f"{what} not found: install the Debian package with `sudo apt-get install {package}`")


def asterisk_digits_dir() -> Path:
    """Return the folder of the Asterisk digit prompts (``0.wav`` ... ``9.wav``, ``oh.wav``)."""
    for name in _ASTERISK_VOICES:
        folder = _ASTERISK_SOUNDS / name / "digits"
        if all((folder / f"{d}.wav").is_file() for d in range(10)):
            return folder
    raise _not_installed(f"Asterisk digit recordings ({_ASTERISK_SOUNDS}/*/digits)", ASTERISK_PACKAGE)


def asterisk_digit_path(d: int | str) -> Path:
    """Return the recording of digit ``d`` (0-9, or a digit word such as "seven" or "oh")."""
    if isinstance(d, str) and d in DIGIT_WORDS:
        d = DIGIT_WORDS.index(d)
    if not (d == "oh" or (isinstance(d, (int, np.integer)) and 0 <= d <= 9)):
        raise ValueError(f"expected a digit 0-9 or a digit word, got {d!r}")
    path = asterisk_digits_dir() / f"{d}.wav"
    if not path.is_file():
        raise _not_installed(f"{path}", ASTERISK_PACKAGE)
    return path


def real_digit_set(n: int = 100, seed: int = 0, root: str | os.PathLike | None = None,
                   min_digits: int = 3, max_digits: int = 7) -> Path:
    """Return the manifest of ``n`` real digit strings (16 kHz WAV, split "test"), building it first unless cached."""
    if n < 1 or not 1 <= min_digits <= max_digits:
        raise ValueError(f"need n >= 1 and 1 <= min_digits <= max_digits, got {n}, {min_digits}, {max_digits}")
    params = {"version": REAL_SET_VERSION, "n": n, "seed": seed, "min_digits": min_digits, "max_digits": max_digits}
    digest = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    out = Path(root if root is not None else Path(CACHE_DIR) / "corpora") / f"real-digits-{digest}"
    manifest = out / "manifest.jsonl"
    if manifest.is_file():
        return manifest
    words = DIGIT_WORDS + ["oh"]
    prompts = {w: trim_silence(load_audio(asterisk_digit_path(w), sr=SAMPLE_RATE)[0], SAMPLE_RATE) for w in words}
    rng = np.random.default_rng(seed)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "wav").mkdir(parents=True)
    try:
        rows = []
        for i in range(n):
            text = random_digit_text(rng, min_digits, max_digits)
            pieces = [np.zeros(int(rng.uniform(*SILENCE_S) * SAMPLE_RATE), np.float32)]
            for k, w in enumerate(text.split()):
                if k:
                    pieces.append(np.zeros(int(rng.uniform(*GAP_S) * SAMPLE_RATE), np.float32))
                pieces.append(prompts[w])
            pieces.append(np.zeros(int(rng.uniform(*SILENCE_S) * SAMPLE_RATE), np.float32))
            x = np.concatenate(pieces)
            x = x * (rng.uniform(*PEAK) / max(float(np.max(np.abs(x))), 1e-9))
            write_wav16(tmp / "wav" / f"{i:06d}.wav", x, SAMPLE_RATE)
            rows.append({"path": f"wav/{i:06d}.wav", "text": text, "speaker": "asterisk", "engine": "human",
                         "split": "test", "duration": round(len(x) / SAMPLE_RATE, 3)})
        write_manifest(tmp / "manifest.jsonl", rows)
        (tmp / "corpus.json").write_text(json.dumps({
            **params, "source": f"Debian {ASTERISK_PACKAGE} ({asterisk_digits_dir()}), CC-BY-SA-3.0",
            "p_oh": P_OH, "gap_s": GAP_S}, indent=1) + "\n")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return manifest


def _sphinx_transcripts(path: Path) -> dict[str, str]:
    """Return {utterance id: text} from a Sphinx transcription file (``<s> text </s> (id)`` lines)."""
    found = {}
    for line in path.read_text().splitlines():
        m = re.match(r"\s*<s>\s*(.*?)\s*</s>\s*\((\S+)\)", line)
        if m:
            found[m.group(2)] = " ".join(m.group(1).split())
    return found


def real_speech_samples() -> list[dict]:
    """Return pocketsphinx-testdata's real read-speech recordings: rows with "path", "audio_path", "text", "speaker"."""
    data = _POCKETSPHINX_DATA
    if not (data / "librivox" / "transcription").is_file():
        raise _not_installed(f"pocketsphinx test recordings ({data})", POCKETSPHINX_PACKAGE)
    rows = []
    for folder, transcripts, speaker in (("librivox", "transcription", "librivox"),
                                          ("cards", "cards.transcription", "cards")):
        for utt, text in _sphinx_transcripts(data / folder / transcripts).items():
            wav = data / folder / f"{utt}.wav"
            if wav.is_file():
                rows.append({"path": str(wav), "audio_path": str(wav), "text": text, "speaker": speaker})
    raw = data / "goforward.raw"  # headerless 16 kHz 16-bit mono: give it a WAV header in the cache
    if raw.is_file():
        wav = Path(CACHE_DIR) / "real" / "goforward.wav"
        if not wav.is_file():
            wav.parent.mkdir(parents=True, exist_ok=True)
            x = np.fromfile(raw, dtype="<i2").astype(np.float32) / 32768.0
            part = wav.with_name(f".goforward-{os.getpid()}.wav")
            write_wav16(part, x, 16000)
            os.replace(part, wav)
        rows.append({"path": str(wav), "audio_path": str(wav), "text": "go forward ten meters", "speaker": "goforward"})
    return rows
