"""A small CTC acoustic model for connected digits (session 02).

- Front end: 40 log-mel bands from 20 Hz to 4 kHz, 10 ms hop, normalised per utterance (mean 0,
  variance 1 per band), so phone-band and wide-band audio look alike and the level does not matter.
- SpecAugment (time and frequency masks) while training only.
- Two strided 1-D convolutions over time: 4x fewer frames (one output every 40 ms).
- A 2-layer bidirectional GRU reads the whole utterance.
- A linear layer gives, for every output frame, log-probabilities over the characters of the digit
  words plus the CTC blank (id 0). Trained with CTC (Graves et al., 2006).
- ``transcribe`` decodes with a beam search restricted to the digit-word lexicon (flashlight-text),
  or greedily (best path) when that is not installed or ``decoder="greedy"``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.augment import SpecAugment
from course_utils.decoding import FlashlightDecoder, ctc_greedy
from course_utils.features import LogMelFrontend
from course_utils.models import register
from course_utils.text import DIGIT_VOCAB, CharTokenizer


@dataclass
class CTCConfig:
    """Everything needed to rebuild a :class:`CTCModel` (saved in its checkpoints)."""

    arch: str = "ctc"
    words: list[str] = field(default_factory=lambda: list(DIGIT_VOCAB))  # the characters come from these
    sample_rate: int = 16000
    n_mels: int = 40
    fmax: float = 4000.0
    conv_channels: int = 192
    kernel_size: int = 5
    rnn_hidden: int = 128     # per direction
    rnn_layers: int = 2
    dropout: float = 0.15
    spec_augment: bool = True
    time_mask_width: int = 10  # frames (10 ms each); two masks of up to this width per utterance
    freq_mask_width: int = 8   # mel bands; two masks
    decoder: str = "lexicon"   # how transcribe() reads the outputs: "lexicon" or "greedy"


class ConvSubsampling(nn.Module):
    """Two stride-2 convolutions over time: (B, T, n_mels) -> (B, ceil(ceil(T/2)/2), C)."""

    def __init__(self, n_in: int, channels: int, kernel_size: int):
        super().__init__()
        pad = kernel_size // 2
        self.conv1 = nn.Conv1d(n_in, channels, kernel_size, stride=2, padding=pad)
        self.conv2 = nn.Conv1d(channels, channels, kernel_size, stride=2, padding=pad)

    @staticmethod
    def halve(lengths: Tensor) -> Tensor:
        """Return the frame counts after one stride-2 convolution."""
        return (lengths - 1) // 2 + 1

    def out_lengths(self, lengths: Tensor) -> Tensor:
        """Return the frame counts after both convolutions."""
        return self.halve(self.halve(lengths))

    def forward(self, x: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        x = x.transpose(1, 2)                             # (B, n_mels, T)
        for conv in (self.conv1, self.conv2):
            x = F.gelu(conv(x))                           # (B, C, T/2), then (B, C, T/4)
            lengths = self.halve(lengths)
            # zero the frames past each utterance's end, so padding never leaks into real frames
            valid = torch.arange(x.shape[-1], device=x.device)[None, :] < lengths[:, None]
            x = x * valid.unsqueeze(1)
        return x.transpose(1, 2), lengths                 # (B, T/4, C)


@register("ctc")
class CTCModel(nn.Module):
    """Log-mels -> SpecAugment -> conv x4 subsampling -> BiGRU -> characters, trained with CTC."""

    config_class = CTCConfig

    def __init__(self, config: CTCConfig | None = None):
        super().__init__()
        self.config = config = config or CTCConfig()
        self.tokenizer = CharTokenizer.for_words(config.words)      # id 0 = blank
        self.frontend = LogMelFrontend(sr=config.sample_rate, n_mels=config.n_mels, fmax=config.fmax)
        self.spec_augment = (SpecAugment(time_width=config.time_mask_width, freq_width=config.freq_mask_width)
                             if config.spec_augment else nn.Identity())
        self.subsample = ConvSubsampling(config.n_mels, config.conv_channels, config.kernel_size)
        self.dropout = nn.Dropout(config.dropout)
        self.rnn = nn.GRU(config.conv_channels, config.rnn_hidden, num_layers=config.rnn_layers,
                          batch_first=True, bidirectional=True, dropout=config.dropout)
        self.head = nn.Linear(2 * config.rnn_hidden, len(self.tokenizer))

    @property
    def frame_seconds(self) -> float:
        """Seconds between two output frames (hop length x subsampling / sample rate)."""
        return self.frontend.hop_length * 4 / self.config.sample_rate

    def forward(self, wave: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Return ``(log_probs (B, T', V), out_lengths (B,))`` for 16 kHz ``wave`` (B, N) of ``lengths`` samples."""
        feats, frames = self.frontend(wave, lengths)                # (B, T, n_mels), (B,)
        feats = self.spec_augment(feats)                            # masks in training mode only
        x, out_lengths = self.subsample(feats, frames)              # (B, T', C)
        x = self.dropout(x)
        packed = nn.utils.rnn.pack_padded_sequence(x, out_lengths.cpu(), batch_first=True, enforce_sorted=False)
        y, _ = self.rnn(packed)
        y, _ = nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=x.shape[1])  # (B, T', 2H)
        logits = self.head(self.dropout(y))                         # (B, T', V)
        return logits.log_softmax(-1), out_lengths

    def loss(self, batch: dict) -> Tensor:
        """Return the mean CTC loss (per target character, as torch defines "mean") of a collated batch."""
        device = self.head.weight.device
        log_probs, out_lengths = self(batch["wave"].to(device), batch["lengths"].to(device))
        ids = [self.tokenizer.encode(t) for t in batch["text"]]
        targets = torch.tensor([i for row in ids for i in row], dtype=torch.long, device=device)
        target_lengths = torch.tensor([len(row) for row in ids], dtype=torch.long, device=device)
        return F.ctc_loss(log_probs.transpose(0, 1), targets, out_lengths, target_lengths,
                          blank=0, reduction="mean", zero_infinity=True)

    @torch.no_grad()
    def transcribe(self, wave: Tensor, lengths: Tensor | None = None, decoder: str | None = None) -> list[str]:
        """Return the transcript of each 16 kHz waveform in ``wave`` (B, N); ``decoder`` overrides ``config.decoder``."""
        was_training = self.training
        self.eval()
        device = self.head.weight.device
        if lengths is None:
            lengths = torch.full((wave.shape[0],), wave.shape[1], dtype=torch.long)
        log_probs, out_lengths = self(wave.to(device), lengths.to(device))
        self.train(was_training)
        decoder = decoder or self.config.decoder
        if decoder == "lexicon":
            lexicon = _lexicon_decoder(tuple(self.config.words))
            if lexicon is not None:
                return lexicon(log_probs, out_lengths)
        elif decoder != "greedy":
            raise ValueError(f"decoder must be 'lexicon' or 'greedy', got {decoder!r}")
        return ctc_greedy(log_probs, out_lengths, self.tokenizer)


@lru_cache(maxsize=4)
def _lexicon_decoder(words: tuple[str, ...]) -> FlashlightDecoder | None:
    """Return a beam-search decoder restricted to ``words`` (None, with a warning, if flashlight-text is missing)."""
    try:
        return FlashlightDecoder(CharTokenizer.for_words(words), words, beam=16)
    except ImportError as e:
        warnings.warn(f"{e}; decoding greedily instead", stacklevel=3)
        return None

