"""FastSpeech 2 (Ren et al. 2019, 2020), small enough to train on a laptop CPU.

The acoustic model turns phoneme ids into a log-mel spectrogram, all frames at once (no autoregression):

- **encoder**: phoneme embeddings + sinusoidal positions -> ``n_enc`` blocks of self-attention and a
  convolutional feed-forward layer: one context-aware vector per phoneme.
- **variance adaptor**: small conv nets predict each phoneme's *duration* (log frames) and *energy*;
  after the length regulator, another predicts the *pitch* of every frame (log f0 and voicing), as in
  FastSpeech 2. Energy and pitch are embedded and added back, so at synthesis time we can change them.
- **length regulator**: repeat phoneme i's vector ``d_i`` times: phoneme rate -> frame rate. This
  is what replaces attention; training durations come from outside the model (below).
- **decoder**: ``n_dec`` convolutional blocks over frames -> 80 mel bands, then a small conv postnet.

Training durations come from the teacher voice itself (piper's VITS duration predictor, read out of its
ONNX graph by ``scripts/train_tts.py``) or from forced alignment (``course_utils.tts.PhonemeAligner``).
The model follows the course's model interface: a ``config`` dataclass, ``loss(batch)``, checkpoints
with ``course_utils.train.save_checkpoint`` / ``load_checkpoint``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.models import register


@dataclass
class FastSpeechConfig:
    arch: str = "fastspeech"
    n_symbols: int = 78          # len(course_utils.tts_text.SYMBOLS)
    n_mels: int = 80
    d_model: int = 128
    n_heads: int = 2
    n_enc: int = 3               # encoder blocks (attention + conv feed-forward)
    n_dec: int = 4               # decoder blocks (conv feed-forward only: cheap at frame rate)
    ff_mult: int = 3             # feed-forward width = ff_mult * d_model
    kernel: int = 9              # depthwise conv kernel in the feed-forward layers
    predictor_channels: int = 128
    postnet_channels: int = 128
    postnet_layers: int = 2
    dropout: float = 0.1
    # statistics of the training targets (set by the training script, used to normalise / denormalise)
    mel_mean: float = -5.0
    mel_std: float = 2.0
    pitch_mean: float = 4.8      # log Hz, over voiced frames
    pitch_std: float = 0.25
    energy_mean: float = -4.0
    energy_std: float = 1.5


def sinusoids(length: int, dim: int, device=None) -> Tensor:
    """Return the (length, dim) sinusoidal position table of "Attention is all you need"."""
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim, device=device)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq)
    return table


class ConvFeedForward(nn.Module):
    """Depthwise conv over time (local context), then a pointwise MLP: LightSpeech's cheap FFT feed-forward."""

    def __init__(self, d: int, mult: int, kernel: int, dropout: float):
        super().__init__()
        self.depthwise = nn.Conv1d(d, d, kernel, padding=kernel // 2, groups=d)
        self.up, self.down = nn.Linear(d, mult * d), nn.Linear(mult * d, d)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:               # x (B, T, d), mask (B, T) True = real
        x = x * mask[..., None]
        h = self.depthwise(x.transpose(1, 2)).transpose(1, 2)          # (B, T, d)
        return self.drop(self.down(self.drop(F.gelu(self.up(h)))))


class Block(nn.Module):
    """One FFT block: optional self-attention, then the conv feed-forward; pre-norm residuals."""

    def __init__(self, cfg: FastSpeechConfig, attention: bool, dropout: float | None = None):
        super().__init__()
        d, p = cfg.d_model, cfg.dropout if dropout is None else dropout
        self.attn = nn.MultiheadAttention(d, cfg.n_heads, dropout=p, batch_first=True) if attention else None
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.ff = ConvFeedForward(d, cfg.ff_mult, cfg.kernel, p)

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:
        if self.attn is not None:
            h = self.ln1(x)
            x = x + self.attn(h, h, h, key_padding_mask=~mask, need_weights=False)[0]
        return x + self.ff(self.ln2(x), mask)


class VariancePredictor(nn.Module):
    """Two conv layers and a linear map: ``outputs`` numbers per position (log duration, energy; log f0 and voicing)."""

    def __init__(self, d: int, channels: int, dropout: float, outputs: int = 1):
        super().__init__()
        self.conv1 = nn.Conv1d(d, channels, 3, padding=1)
        self.conv2 = nn.Conv1d(channels, channels, 3, padding=1)
        self.ln1, self.ln2 = nn.LayerNorm(channels), nn.LayerNorm(channels)
        self.out = nn.Linear(channels, outputs)
        self.drop = nn.Dropout(dropout) if dropout > 0 else nn.Identity()

    def forward(self, x: Tensor, mask: Tensor) -> Tensor:               # (B, N, d) -> (B, N) or (B, N, outputs)
        h = self.drop(self.ln1(F.relu(self.conv1(x.transpose(1, 2)).transpose(1, 2))))
        h = self.drop(self.ln2(F.relu(self.conv2(h.transpose(1, 2)).transpose(1, 2))))
        out = self.out(h) * mask[..., None]
        return out.squeeze(-1) if out.shape[-1] == 1 else out


def length_regulate(x: Tensor, durations: Tensor, max_frames: int | None = None) -> tuple[Tensor, Tensor, Tensor]:
    """Repeat each phoneme vector ``durations[b, i]`` times.

    x (B, N, d), durations (B, N) integer frames -> (frames (B, T, d), frame mask (B, T), position of each
    frame inside its phoneme as a fraction 0..1 (B, T)). T is the longest total duration (or ``max_frames``).
    """
    B, N, d = x.shape
    ends = durations.long().cumsum(1)                                   # (B, N) frame where phoneme i ends
    T = int(ends[:, -1].max().clamp(min=1)) if max_frames is None else max_frames
    t = torch.arange(T, device=x.device).expand(B, T)                   # (B, T)
    idx = torch.searchsorted(ends, t.contiguous(), right=True).clamp(max=N - 1)  # (B, T) phoneme of each frame
    frames = x.gather(1, idx[..., None].expand(B, T, d))                # (B, T, d)
    mask = t < ends[:, -1:]
    starts = ends - durations.long()
    start, dur = starts.gather(1, idx), durations.long().gather(1, idx).clamp(min=1)
    where = ((t - start).float() + 0.5) / dur.float()                   # (B, T) 0..1 inside the phoneme
    return frames * mask[..., None], mask, where * mask


def _fit(x: Tensor, T: int) -> Tensor:
    """Return ``x`` (B, T') cut or zero-padded to (B, T)."""
    return x[:, :T] if x.shape[1] >= T else F.pad(x, (0, T - x.shape[1]))


@register("fastspeech")
class FastSpeech(nn.Module):
    """Phoneme ids -> (durations, pitch, energy) -> log-mel frames. See the module docstring."""

    config_class = FastSpeechConfig

    def __init__(self, cfg: FastSpeechConfig):
        super().__init__()
        self.config = cfg
        d = cfg.d_model
        self.embed = nn.Embedding(cfg.n_symbols, d, padding_idx=0)
        self.encoder = nn.ModuleList(Block(cfg, attention=True) for _ in range(cfg.n_enc))
        self.duration = VariancePredictor(d, cfg.predictor_channels, cfg.dropout)
        self.energy = VariancePredictor(d, cfg.predictor_channels, cfg.dropout)
        self.energy_embed = nn.Conv1d(1, d, 3, padding=1)
        self.pitch = VariancePredictor(d, cfg.predictor_channels, 0.0, outputs=2)   # per frame: log f0, voicing
        self.pitch_embed = nn.Conv1d(2, d, 3, padding=1)
        self.where_embed = nn.Linear(2, d)
        self.decoder = nn.ModuleList(Block(cfg, attention=False, dropout=0.0) for _ in range(cfg.n_dec))
        self.ln_out = nn.LayerNorm(d)
        self.to_mel = nn.Linear(d, cfg.n_mels)
        layers, c = [], cfg.n_mels
        for i in range(cfg.postnet_layers):
            last = i == cfg.postnet_layers - 1
            layers += [nn.Conv1d(c, cfg.n_mels if last else cfg.postnet_channels, 5, padding=2)]
            if not last:
                layers += [nn.Tanh(), nn.Dropout(cfg.dropout)]
            c = cfg.postnet_channels
        self.postnet = nn.Sequential(*layers)

    def encode(self, ids: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Return phoneme vectors (B, N, d) and the phoneme mask (B, N)."""
        N = ids.shape[1]
        mask = torch.arange(N, device=ids.device)[None] < lengths[:, None]
        x = self.embed(ids) + sinusoids(N, self.config.d_model, ids.device)
        for block in self.encoder:
            x = block(x, mask)
        return x, mask

    def forward(self, ids: Tensor, lengths: Tensor, durations: Tensor | None = None, energy: Tensor | None = None,
                f0: Tensor | None = None, voiced: Tensor | None = None, rate: float = 1.0, pitch_shift: float = 0.0,
                energy_shift: float = 0.0, pause_scale: float = 1.0, pause_ids: Tensor | None = None,
                crop: int | None = None) -> dict:
        """Return a dict: mel (B, T, n_mels) before and after the postnet, frame mask, and the predicted variances.

        Training passes the true ``durations`` and ``energy`` (per phoneme), ``f0`` (normalised log f0,
        interpolated through unvoiced frames) and ``voiced`` (per frame): teacher forcing. Synthesis
        leaves them None and can scale the speaking ``rate`` (>1 = faster), shift the pitch (semitones)
        and energy (normalised units), and stretch the pauses at punctuation (``pause_ids`` marks them).
        ``crop`` (training only) runs the decoder on a random window of that many frames per utterance,
        which the convolutional decoder allows and which makes a step several times cheaper.
        """
        cfg = self.config
        x, mask = self.encode(ids, lengths)                             # (B, N, d)
        log_dur = self.duration(x, mask)                                # (B, N) predicted log(1 + frames)
        energy_hat = self.energy(x, mask)                               # (B, N)
        if durations is None:
            frames = (torch.exp(log_dur) - 1).clamp(min=0) / rate
            if pause_ids is not None and pause_scale != 1.0:
                frames = torch.where(torch.isin(ids, pause_ids), frames * pause_scale, frames)
            durations = torch.round(frames).long() * mask
            durations[:, 0] = durations[:, 0].clamp(min=1)
        if energy is None:
            energy = energy_hat + energy_shift
        x = x + self.energy_embed(energy[:, None]).transpose(1, 2)
        h, frame_mask, where = length_regulate(x, durations)            # (B, T, d)
        h = h + self.where_embed(torch.stack([where, 1 - where], -1))   # where inside its phoneme each frame is
        starts = None
        if crop is not None and h.shape[1] > crop:
            n_frames = frame_mask.sum(1)                                # (B,)
            starts = (torch.rand(len(n_frames)) * (n_frames - crop).clamp(min=0).float()).long()
            idx = starts[:, None] + torch.arange(crop)[None]           # (B, crop)
            h = h.gather(1, idx[..., None].expand(-1, -1, h.shape[2]))
            frame_mask = frame_mask.gather(1, idx)
            if f0 is not None:
                idx = idx.clamp(max=f0.shape[1] - 1)
                f0, voiced = f0.gather(1, idx), voiced.gather(1, idx)
        pitch_hat = self.pitch(h, frame_mask)                           # (B, T, 2): log f0, voicing logit
        if f0 is None:
            f0 = pitch_hat[..., 0] + pitch_shift * math.log(2) / 12 / cfg.pitch_std
            voiced = (pitch_hat[..., 1] > 0).float()
        T = h.shape[1]
        f0, voiced = _fit(f0, T), _fit(voiced, T)
        h = h + self.pitch_embed(torch.stack([f0, voiced], 1)).transpose(1, 2)
        for block in self.decoder:
            h = block(h, frame_mask)
        mel = self.to_mel(self.ln_out(h))                               # (B, T, n_mels), normalised units
        mel_post = mel + self.postnet(mel.transpose(1, 2)).transpose(1, 2)
        return {"mel": mel, "mel_post": mel_post, "frame_mask": frame_mask, "log_dur": log_dur,
                "energy": energy_hat, "pitch": pitch_hat, "durations": durations, "crop_starts": starts,
                "f0": f0, "voiced": voiced}

    def loss(self, batch: dict, crop: int | None = None) -> Tensor:
        """Return the training loss: L1 on mels (before + after postnet), MSE on log durations, energy and log f0, BCE on voicing."""
        out = self(batch["ids"], batch["lengths"], batch["durations"], batch["energy"], batch["f0"], batch["voiced"],
                   crop=crop)
        target = (batch["mel"] - self.config.mel_mean) / self.config.mel_std   # (B, T, n_mels)
        if out["crop_starts"] is not None:
            idx = (out["crop_starts"][:, None] + torch.arange(crop)[None]).clamp(max=target.shape[1] - 1)
            target = target.gather(1, idx[..., None].expand(-1, -1, target.shape[2]))
        T = min(target.shape[1], out["mel"].shape[1])
        fm = out["frame_mask"][:, :T].float()
        n = fm.sum() * self.config.n_mels
        mel_loss = ((out["mel"][:, :T] - target[:, :T]).abs() * fm[..., None]).sum() / n
        post_loss = ((out["mel_post"][:, :T] - target[:, :T]).abs() * fm[..., None]).sum() / n
        pm = (torch.arange(batch["ids"].shape[1])[None] < batch["lengths"][:, None]).float()
        mse = lambda a, b: (((a - b) ** 2) * pm).sum() / pm.sum()  # noqa: E731
        dur_loss = mse(out["log_dur"], torch.log1p(batch["durations"].float()))
        energy_loss = mse(out["energy"], batch["energy"])
        p, f0, voiced = out["pitch"][:, :T], out["f0"][:, :T], out["voiced"][:, :T]
        pitch_loss = (((p[..., 0] - f0) ** 2) * fm).sum() / fm.sum()
        voicing_loss = (F.binary_cross_entropy_with_logits(p[..., 1], voiced, reduction="none") * fm).sum() / fm.sum()
        self.last_losses = {k: float(v.detach()) for k, v in dict(
            mel=mel_loss, post=post_loss, dur=dur_loss, pitch=pitch_loss, voicing=voicing_loss, energy=energy_loss).items()}
        return mel_loss + post_loss + dur_loss + energy_loss + pitch_loss + voicing_loss

    @torch.no_grad()
    def synthesize(self, ids: Tensor, **controls) -> Tensor:
        """Return the log-mel (n_mels, frames) for one sequence of ids (a 1-D tensor); ``controls`` as in forward."""
        self.eval()
        out = self(ids[None], torch.tensor([len(ids)]), **controls)
        mel = out["mel_post"][0] * self.config.mel_std + self.config.mel_mean  # (T, n_mels)
        return mel.T
