"""A small x-vector speaker-embedding model (session 07).

- Front end: 40 log-mel bands from 20 Hz to 4 kHz, 10 ms hop, normalised per clip (mean and
  variance per band), so the channel (phone line, microphone) matters less than the voice.
- A TDNN (Snyder et al. 2018): 1-D convolutions over time with growing dilation, each frame
  seeing a wider window of context (5, then 9, then 15 frames).
- Statistics pooling: the mean and the standard deviation of the frame vectors over the clip's
  valid frames -> one fixed-size vector however long the clip is.
- A linear layer maps the statistics to the embedding (the "x-vector", 128-d by default).
- Training: classify the training speakers with an additive-margin softmax (AM-softmax, Wang et
  al. 2018) on cosine similarities, so that embeddings of one speaker point the same way.
  At test time the classifier is thrown away: two clips are compared by the cosine of their
  embeddings, and speakers never seen in training can be verified.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.augment import SpecAugment
from course_utils.features import LogMelFrontend


@dataclass
class SpeakerConfig:
    """Everything needed to rebuild a :class:`SpeakerEncoder` (saved in its checkpoints)."""

    arch: str = "speaker"
    n_speakers: int = 100       # classes of the training head (not needed at test time)
    sample_rate: int = 16000
    n_mels: int = 40
    fmax: float = 4000.0
    channels: int = 96
    embedding_dim: int = 128
    margin: float = 0.2         # AM-softmax: the target cosine must beat the others by this much
    scale: float = 30.0         # AM-softmax: cosines are multiplied by this before the softmax
    spec_augment: bool = True


class TDNNLayer(nn.Module):
    """Conv1d over time (kernel, dilation) -> ReLU -> BatchNorm: (B, C_in, T) -> (B, C_out, T)."""

    def __init__(self, c_in: int, c_out: int, kernel: int, dilation: int = 1):
        super().__init__()
        self.conv = nn.Conv1d(c_in, c_out, kernel, dilation=dilation, padding=dilation * (kernel - 1) // 2)
        self.bn = nn.BatchNorm1d(c_out)

    def forward(self, x: Tensor) -> Tensor:
        return self.bn(F.relu(self.conv(x)))


class SpeakerEncoder(nn.Module):
    """Waveforms (B, N) at 16 kHz -> L2-normalised speaker embeddings (B, embedding_dim)."""

    config_class = SpeakerConfig

    def __init__(self, config: SpeakerConfig | None = None):
        super().__init__()
        self.config = config = config or SpeakerConfig()
        C = config.channels
        self.frontend = LogMelFrontend(config.sample_rate, n_mels=config.n_mels, fmax=config.fmax)
        self.spec_augment = SpecAugment(time_width=10, freq_width=4) if config.spec_augment else nn.Identity()
        self.tdnn = nn.Sequential(TDNNLayer(config.n_mels, C, 5), TDNNLayer(C, C, 3, dilation=2),
                                  TDNNLayer(C, C, 3, dilation=3), TDNNLayer(C, 2 * C, 1))
        self.embedding = nn.Linear(4 * C, config.embedding_dim)            # from [mean; std] of 2C channels
        self.speaker_weights = nn.Parameter(torch.randn(config.n_speakers, config.embedding_dim) * 0.01)

    def forward(self, wave: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Return unit-length embeddings (B, D) for ``wave`` (B, N) with ``lengths`` samples each."""
        feats, frames = self.frontend(wave, lengths)                        # (B, T, n_mels), (B,)
        feats = self.spec_augment(feats)
        h = self.tdnn(feats.transpose(1, 2))                                # (B, 2C, T)
        mask = (torch.arange(h.shape[2], device=h.device)[None, :] < frames[:, None]).to(h.dtype)[:, None, :]
        count = frames.clamp(min=1).to(h.dtype)[:, None]                    # (B, 1)
        mean = (h * mask).sum(2) / count                                    # (B, 2C)
        var = ((h - mean[:, :, None]).square() * mask).sum(2) / count       # (B, 2C)
        stats = torch.cat([mean, torch.sqrt(var + 1e-5)], dim=1)            # (B, 4C) statistics pooling
        return F.normalize(self.embedding(stats), dim=-1)                   # (B, D)

    def loss(self, embeddings: Tensor, speakers: Tensor) -> Tensor:
        """Return the AM-softmax loss of unit ``embeddings`` (B, D) for integer ``speakers`` (B,)."""
        cosine = embeddings @ F.normalize(self.speaker_weights, dim=-1).T   # (B, n_speakers)
        margin = F.one_hot(speakers, cosine.shape[1]).to(cosine.dtype) * self.config.margin
        return F.cross_entropy(self.config.scale * (cosine - margin), speakers)
