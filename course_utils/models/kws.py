"""A small keyword spotter: one spoken word in, one label out (session 07).

- Front end: 40 log-mel bands from 20 Hz to 4 kHz, 10 ms hop, normalised per clip (the speech
  models' :class:`~course_utils.features.LogMelFrontend`), so phone-band and wide-band audio look alike.
- SpecAugment (time and frequency masks) while training only.
- A TC-ResNet (Choi et al. 2019, "Temporal convolution for real-time keyword spotting"): the 40
  mel bands are the input *channels* of 1-D convolutions over time, so every filter sees the whole
  spectrum at once; three residual blocks, each halving the frame rate (10 -> 20 -> 40 -> 80 ms).
  Few parameters, few multiply-adds: it trains on a laptop CPU in minutes.
- Pooling over time turns the sequence of frames into one vector: the mean over the clip's valid
  frames. That is the step "from sequences to labels".
- A linear layer gives one logit per class: the keywords, ``_unknown_`` (any other word) and
  ``_silence_`` (no speech). ``forward`` returns ``(logits, loss)`` like minGPT.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.augment import SpecAugment
from course_utils.features import LogMelFrontend
from course_utils.text import COMMAND_WORDS, DIGIT_WORDS

UNKNOWN, SILENCE = "_unknown_", "_silence_"
#: The classes of the course's keyword spotter: 10 commands, 10 digits, unknown, silence.
KWS_LABELS = COMMAND_WORDS + DIGIT_WORDS + [UNKNOWN, SILENCE]


@dataclass
class KWSConfig:
    """Everything needed to rebuild a :class:`KeywordSpotter` (saved in its checkpoints)."""

    arch: str = "kws"
    labels: list[str] = field(default_factory=lambda: list(KWS_LABELS))
    sample_rate: int = 16000
    n_mels: int = 40
    fmax: float = 4000.0
    channels: tuple[int, ...] = (48, 64, 96)  # one residual block per entry, each with stride 2
    kernel_size: int = 9
    dropout: float = 0.1
    spec_augment: bool = True
    time_mask_width: int = 10  # frames (10 ms each); two masks
    freq_mask_width: int = 6   # mel bands; two masks
    label_smoothing: float = 0.05


class ResBlock1d(nn.Module):
    """conv(k, stride 2) -> BN -> ReLU -> conv(k) -> BN, plus a 1x1 stride-2 shortcut, -> ReLU: (B, C_in, T) -> (B, C_out, T/2)."""

    def __init__(self, c_in: int, c_out: int, kernel: int):
        super().__init__()
        self.conv1 = nn.Conv1d(c_in, c_out, kernel, stride=2, padding=kernel // 2, bias=False)
        self.bn1 = nn.BatchNorm1d(c_out)
        self.conv2 = nn.Conv1d(c_out, c_out, kernel, padding=kernel // 2, bias=False)
        self.bn2 = nn.BatchNorm1d(c_out)
        self.shortcut = nn.Sequential(nn.Conv1d(c_in, c_out, 1, stride=2, bias=False), nn.BatchNorm1d(c_out))

    def forward(self, x: Tensor, keep: Tensor) -> Tensor:
        """``keep`` (B, 1, T/2): 1 for output frames inside the clip, 0 for padding (zeroed before the 2nd conv)."""
        y = F.relu(self.bn1(self.conv1(x))) * keep
        return F.relu(self.bn2(self.conv2(y)) + self.shortcut(x)) * keep


class KeywordSpotter(nn.Module):
    """Waveforms (B, N) at 16 kHz -> class logits (B, n_labels)."""

    config_class = KWSConfig

    def __init__(self, config: KWSConfig | None = None):
        super().__init__()
        self.config = config = config or KWSConfig()
        self.frontend = LogMelFrontend(config.sample_rate, n_mels=config.n_mels, fmax=config.fmax)
        self.spec_augment = SpecAugment(time_width=config.time_mask_width, freq_width=config.freq_mask_width) \
            if config.spec_augment else nn.Identity()
        widths = [config.channels[0], *config.channels]
        self.stem = nn.Sequential(nn.Conv1d(config.n_mels, widths[0], 3, padding=1, bias=False),
                                  nn.BatchNorm1d(widths[0]), nn.ReLU())
        self.blocks = nn.ModuleList([ResBlock1d(a, b, config.kernel_size) for a, b in zip(widths[:-1], widths[1:])])
        self.dropout = nn.Dropout(config.dropout)
        self.head = nn.Linear(widths[-1], len(config.labels))

    @property
    def labels(self) -> list[str]:
        """Return the class names, in logit order."""
        return list(self.config.labels)

    def embed(self, wave: Tensor, lengths: Tensor | None = None) -> Tensor:
        """Return the pooled clip vector (B, C): features -> convolutions over time -> mean over valid frames."""
        feats, frames = self.frontend(wave, lengths)                        # (B, T, n_mels), (B,)
        feats = self.spec_augment(feats)

        def keep(T: int, frames: Tensor) -> Tensor:                         # (B, 1, T): 0 past each clip's end, so
            t = torch.arange(T, device=feats.device)                        # a clip gives the same answer alone
            return (t[None, None, :] < frames[:, None, None]).to(feats.dtype)  # or padded in a batch

        x = self.stem(feats.transpose(1, 2)) * keep(feats.shape[1], frames)  # (B, C, T)
        for block in self.blocks:
            frames = (frames - 1) // 2 + 1                                  # each block halves the frame rate
            x = block(x, keep((x.shape[2] - 1) // 2 + 1, frames))           # (B, C', T / 2)
        return x.sum(dim=2) / frames.clamp(min=1).to(x.dtype)[:, None]     # (B, C) mean over valid frames

    def forward(self, wave: Tensor, lengths: Tensor | None = None, labels: Tensor | None = None):
        """Return ``(logits (B, n_labels), loss or None)``; the loss is cross-entropy with label smoothing."""
        logits = self.head(self.dropout(self.embed(wave, lengths)))         # (B, K)
        loss = None
        if labels is not None:
            loss = F.cross_entropy(logits, labels, label_smoothing=self.config.label_smoothing)
        return logits, loss
