"""A torch ``Dataset`` over manifest rows, and the collate function that pads a batch.

    rows = load_split(make_corpus(), "train")
    train = SpeechDataset(rows, augment=augment.random_augment)     # waveform augmentation on the fly
    loader = DataLoader(train, batch_size=32, shuffle=True, collate_fn=collate_speech)
    batch = next(iter(loader))    # batch["wave"]: (B, N_max) zero-padded, batch["lengths"]: (B,)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch.utils.data import Dataset, get_worker_info

from ..audio import SAMPLE_RATE, load_audio

#: ``augment(x, sr, rng) -> x``: float32 samples in and out, randomness only from ``rng``.
Augment = Callable[[np.ndarray, int, np.random.Generator], np.ndarray]


class SpeechDataset(Dataset):
    """Speech items ``{"wave": FloatTensor (n,), "text", "speaker", "index"}`` (+ ``"label"`` if rows have one).

    rows: manifest rows with ``"audio_path"`` (as :func:`read_manifest` / :func:`load_split` give them)
    or ``"path"``, and ``"text"``. preload: read every file once up front (kept as 16-bit, a quarter
    of the memory of float32) instead of at each access. augment: applied to each item as it is
    drawn, with a generator that differs per item, per epoch and per DataLoader worker and is
    reproducible from ``seed`` (and torch's seed, when workers are used).
    """

    def __init__(self, rows: Sequence[dict], sr: int = SAMPLE_RATE, augment: Augment | None = None,
                 seed: int = 0, preload: bool = True):
        if len(rows) == 0:
            raise ValueError("SpeechDataset: no rows given")
        for i, row in enumerate(rows):
            if "text" not in row or not ("audio_path" in row or "path" in row):
                raise ValueError(f"SpeechDataset: row {i} needs 'text' and 'audio_path' (or 'path'): {row}")
        self.rows, self.sr, self.augment, self.seed = list(rows), sr, augment, seed
        self._draws = 0
        self._cache = [self._read(i) for i in range(len(self.rows))] if preload else None

    def _read(self, i: int) -> np.ndarray:
        """Return row ``i``'s audio as int16 samples at ``self.sr``."""
        row = self.rows[i]
        x, _ = load_audio(row.get("audio_path") or row["path"], sr=self.sr)
        return np.clip(np.round(x * 32768.0), -32768, 32767).astype(np.int16)

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        row = self.rows[i]
        x = (self._cache[i] if self._cache is not None else self._read(i)).astype(np.float32) / 32768.0
        if self.augment is not None:
            x = np.asarray(self.augment(x, self.sr, self._rng(i)), dtype=np.float32)
        item = {"wave": torch.from_numpy(np.ascontiguousarray(x)), "text": row["text"],
                "speaker": row.get("speaker", ""), "index": i}
        if "label" in row:
            item["label"] = int(row["label"])
        return item

    def _rng(self, i: int) -> np.random.Generator:
        """Return a generator for one draw of item ``i``: new each draw, each epoch and each worker."""
        self._draws += 1
        worker = get_worker_info()  # workers are re-created each epoch with a new seed
        return np.random.default_rng([self.seed, i, self._draws, worker.seed if worker is not None else 0])


def collate_speech(batch: Sequence[dict]) -> dict:
    """Return the batch as ``{"wave": (B, N_max) zero-padded, "lengths": (B,) samples, "text", "speaker", "index"}``.

    ``"label"`` (LongTensor (B,)) is added when every item has one.
    """
    if len(batch) == 0:
        raise ValueError("collate_speech: the batch is empty")
    lengths = torch.tensor([len(b["wave"]) for b in batch], dtype=torch.long)
    wave = torch.zeros(len(batch), int(lengths.max()), dtype=torch.float32)  # (B, N_max)
    for k, b in enumerate(batch):
        wave[k, : len(b["wave"])] = b["wave"]
    out = {"wave": wave, "lengths": lengths, "text": [b["text"] for b in batch],
           "speaker": [b["speaker"] for b in batch], "index": torch.tensor([b["index"] for b in batch])}
    if all("label" in b for b in batch):
        out["label"] = torch.tensor([b["label"] for b in batch], dtype=torch.long)
    return out
