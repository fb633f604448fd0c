"""Manifests: one JSON object per line, one line per utterance.

A row names its audio file (``"path"``, relative to the manifest's folder) and what is said in it
(``"text"``), plus whatever else the corpus records (speaker, engine, split, duration, label)::

    {"path": "wav/000123.wav", "text": "three one four", "speaker": "espeak:en-us+m3", ...}

:func:`read_manifest` checks every row and adds ``"audio_path"``, the absolute path of the audio,
so a row can be handed to a loader as it is. Every error names the manifest file and the line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path


class ManifestError(ValueError):
    """Raised for a manifest that cannot be used; the message names the file and the line."""


def read_manifest(path: str | os.PathLike, required: Sequence[str] = ("path", "text")) -> list[dict]:
    """Return the manifest's rows, each with ``"audio_path"`` (absolute) added; blank lines are skipped."""
    path = Path(path)
    if not path.is_file():
        raise ManifestError(f"{path}: manifest not found")
    base = path.resolve().parent
    rows = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            where = f"{path}, line {lineno}"
            try:
                row = json.loads(line)
            except json.JSONDecodeError as e:
                raise ManifestError(f"{where}: invalid JSON ({e.msg} at column {e.colno})") from None
            if not isinstance(row, dict):
                raise ManifestError(f"{where}: expected a JSON object, got {type(row).__name__}")
            missing = [k for k in required if k not in row]
            if missing:
                raise ManifestError(f"{where}: row has no {', '.join(repr(k) for k in missing)} field")
            if "text" in row and (not isinstance(row["text"], str) or not row["text"].strip()):
                raise ManifestError(f"{where}: the text is empty")
            if "path" in row:
                audio = Path(row["path"])
                audio = audio if audio.is_absolute() else base / audio
                if not audio.is_file():
                    raise ManifestError(f"{where}: audio file {audio} does not exist")
                row["audio_path"] = str(audio)
            rows.append(row)
    if not rows:
        raise ManifestError(f"{path}: manifest has no rows")
    return rows


def write_manifest(path: str | os.PathLike, rows: Iterable[dict]) -> Path:
    """Write ``rows`` as JSON lines (without ``"audio_path"``) and return the manifest's path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps({k: v for k, v in row.items() if k != "audio_path"}, ensure_ascii=False) + "\n")
    return path
