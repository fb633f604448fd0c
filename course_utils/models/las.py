"""Listen, Attend and Spell for connected digits (session 04).

- Listener: the CTC model's front end (40 log-mels to 4 kHz, per-utterance normalisation,
  SpecAugment, two stride-2 convolutions: one frame every 40 ms) and a bidirectional GRU.
- Attention: location-aware (Chorowski et al., 2015): the score of encoder frame j at output
  step i looks at the speller state, at frame j, and at a convolution of the previous and the
  cumulative attention weights, so the focus moves along the utterance instead of jumping.
- Speller: an LSTM cell reads the previous character (``<sos>`` first) and the previous context
  vector; a linear layer over [state, context] scores the next character or ``<eos>``. Trained
  with teacher forcing (the true previous character is fed in) and cross-entropy.
- Decoding: greedy or beam search, always with a length cap from the input length; the beam's
  scores are length-normalised, and an optional attention window keeps the focus moving forward
  (the remedy for looping and early stopping on inputs longer than any seen in training).
- ``attend(wave, text)`` returns the attention matrix (output characters x encoder frames) to plot.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.augment import SpecAugment
from course_utils.features import LogMelFrontend
from course_utils.models import register
from course_utils.models.ctc import ConvSubsampling
from course_utils.text import DIGIT_VOCAB, CharTokenizer

PAD, SOS, EOS = 0, 1, 2


@dataclass
class LASConfig:
    """Everything needed to rebuild a :class:`LASModel` (saved in its checkpoints)."""

    arch: str = "las"
    words: list[str] = field(default_factory=lambda: list(DIGIT_VOCAB))  # the characters come from these
    sample_rate: int = 16000
    n_mels: int = 40
    fmax: float = 4000.0
    conv_channels: int = 144
    kernel_size: int = 5
    listener_hidden: int = 128    # per direction
    listener_layers: int = 2
    embed_dim: int = 48
    speller_hidden: int = 192
    attention_dim: int = 128
    location_filters: int = 8
    location_kernel: int = 15
    dropout: float = 0.15
    label_smoothing: float = 0.1
    spec_augment: bool = True
    time_mask_width: int = 10     # frames (10 ms each); two masks of up to this width per utterance
    freq_mask_width: int = 8      # mel bands; two masks
    max_chars_per_frame: float = 1.0  # decoding stops after this many characters per encoder frame (+ 5)


class Listener(nn.Module):
    """Log-mels -> SpecAugment -> conv x4 subsampling -> BiGRU: (B, N) samples -> (B, T', 2H) frames."""

    def __init__(self, config: LASConfig):
        super().__init__()
        self.frontend = LogMelFrontend(sr=config.sample_rate, n_mels=config.n_mels, fmax=config.fmax)
        self.spec_augment = (SpecAugment(time_width=config.time_mask_width, freq_width=config.freq_mask_width)
                             if config.spec_augment else nn.Identity())
        self.subsample = ConvSubsampling(config.n_mels, config.conv_channels, config.kernel_size)
        self.dropout = nn.Dropout(config.dropout)
        self.rnn = nn.GRU(config.conv_channels, config.listener_hidden, num_layers=config.listener_layers,
                          batch_first=True, bidirectional=True, dropout=config.dropout)

    def forward(self, wave: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Return (encoder frames (B, T', 2H), frame counts (B,))."""
        feats, frames = self.frontend(wave, lengths)                # (B, T, n_mels)
        x, out_lengths = self.subsample(self.spec_augment(feats), frames)  # (B, T', C)
        packed = nn.utils.rnn.pack_padded_sequence(self.dropout(x), out_lengths.cpu(), batch_first=True,
                                                   enforce_sorted=False)
        y, _ = self.rnn(packed)
        y, _ = nn.utils.rnn.pad_packed_sequence(y, batch_first=True, total_length=x.shape[1])
        return self.dropout(y), out_lengths


class LocationAwareAttention(nn.Module):
    """score(i, j) = w . tanh(W s_i + V h_j + U (conv * [a_{i-1}, sum_{k<i} a_k])_j + b)  (Chorowski et al., 2015)."""

    def __init__(self, query_dim: int, key_dim: int, attention_dim: int, filters: int, kernel: int):
        super().__init__()
        self.query = nn.Linear(query_dim, attention_dim, bias=False)
        self.key = nn.Linear(key_dim, attention_dim)
        self.location_conv = nn.Conv1d(2, filters, kernel, padding=kernel // 2, bias=False)
        self.location = nn.Linear(filters, attention_dim, bias=False)
        self.score = nn.Linear(attention_dim, 1, bias=False)

    def forward(self, query: Tensor, keys: Tensor, values: Tensor, prev: Tensor, cumulative: Tensor,
                mask: Tensor) -> tuple[Tensor, Tensor]:
        """Return (context (B, D), weights (B, T')) for speller state ``query`` (B, Q).

        ``keys`` are ``self.key(values)`` computed once per utterance (B, T', A); ``prev`` and
        ``cumulative`` the last and summed attention weights (B, T'); ``mask`` is False on padding
        (and, when decoding with a window, outside the window).
        """
        loc = self.location_conv(torch.stack([prev, cumulative], dim=1)).transpose(1, 2)  # (B, T', filters)
        e = self.score(torch.tanh(keys + self.query(query)[:, None, :] + self.location(loc))).squeeze(-1)  # (B, T')
        weights = e.masked_fill(~mask, float("-inf")).softmax(-1)                          # (B, T')
        context = torch.bmm(weights[:, None, :], values).squeeze(1)                        # (B, D)
        return context, weights


class Speller(nn.Module):
    """One decoding step: (previous character, previous context, state) -> (logits, context, attention, state)."""

    def __init__(self, vocab: int, enc_dim: int, config: LASConfig):
        super().__init__()
        self.embed = nn.Embedding(vocab, config.embed_dim)
        self.cell = nn.LSTMCell(config.embed_dim + enc_dim, config.speller_hidden)
        self.attention = LocationAwareAttention(config.speller_hidden, enc_dim, config.attention_dim,
                                                config.location_filters, config.location_kernel)
        self.dropout = nn.Dropout(config.dropout)
        self.out = nn.Linear(config.speller_hidden + enc_dim, vocab)

    def initial_state(self, enc: Tensor, lengths: Tensor) -> dict:
        """Return the state before the first character for encoder frames ``enc`` (B, T', D)."""
        B, T, D = enc.shape
        H = self.cell.hidden_size
        mask = torch.arange(T, device=enc.device)[None, :] < lengths[:, None]          # (B, T')
        first = mask.float() * 0.0
        first[:, 0] = 1.0                                                               # attend to the start
        return {"h": enc.new_zeros(B, H), "c": enc.new_zeros(B, H), "context": enc.new_zeros(B, D),
                "attn": first, "cumulative": first.clone(), "enc": enc, "keys": self.attention.key(enc),
                "mask": mask}

    def step(self, prev_token: Tensor, state: dict, window_mask: Tensor | None = None) -> tuple[Tensor, dict]:
        """Return (logits (B, V), new state) after reading ``prev_token`` (B,)."""
        x = torch.cat([self.dropout(self.embed(prev_token)), state["context"]], dim=-1)  # (B, E + D)
        h, c = self.cell(x, (state["h"], state["c"]))                                    # (B, H)
        mask = state["mask"] if window_mask is None else state["mask"] & window_mask
        context, attn = self.attention(h, state["keys"], state["enc"], state["attn"], state["cumulative"], mask)
        logits = self.out(self.dropout(torch.cat([h, context], dim=-1)))                 # (B, V)
        new = dict(state, h=h, c=c, context=context, attn=attn, cumulative=state["cumulative"] + attn)
        return logits, new


@register("las")
class LASModel(nn.Module):
    """Listener (conv + BiGRU) -> location-aware attention -> LSTM speller, characters with <sos>/<eos>."""

    config_class = LASConfig

    def __init__(self, config: LASConfig | None = None):
        super().__init__()
        self.config = config = config or LASConfig()
        chars = "".join(sorted(set("".join(config.words)) | {" "}))
        self.tokenizer = CharTokenizer(chars, reserved=("<pad>", "<sos>", "<eos>"))  # ids 0, 1, 2
        self.listener = Listener(config)
        self.speller = Speller(len(self.tokenizer), 2 * config.listener_hidden, config)

    @property
    def device(self) -> torch.device:
        return self.speller.out.weight.device

    @property
    def frame_seconds(self) -> float:
        """Seconds between two encoder frames (hop length x subsampling / sample rate)."""
        return self.listener.frontend.hop_length * 4 / self.config.sample_rate

    def targets(self, texts: list[str]) -> tuple[Tensor, Tensor]:
        """Return (speller inputs ``<sos> y`` (B, U+1), targets ``y <eos>`` (B, U+1)), padded with ``<pad>``."""
        ids = [self.tokenizer.encode(" ".join(t.split())) for t in texts]
        U1 = max(len(i) for i in ids) + 1
        inputs = torch.full((len(ids), U1), PAD, dtype=torch.long)
        outputs = torch.full((len(ids), U1), PAD, dtype=torch.long)
        for b, row in enumerate(ids):
            inputs[b, : len(row) + 1] = torch.tensor([SOS] + row)
            outputs[b, : len(row) + 1] = torch.tensor(row + [EOS])
        return inputs.to(self.device), outputs.to(self.device)

    def forward(self, wave: Tensor, lengths: Tensor, inputs: Tensor) -> tuple[Tensor, Tensor]:
        """Teacher forcing: return (logits (B, U+1, V), attention (B, U+1, T')) for speller ``inputs`` (B, U+1)."""
        enc, enc_lengths = self.listener(wave.to(self.device), lengths.to(self.device))
        state = self.speller.initial_state(enc, enc_lengths)
        logits, attns = [], []
        for i in range(inputs.shape[1]):
            step_logits, state = self.speller.step(inputs[:, i], state)   # the true previous character
            logits.append(step_logits)
            attns.append(state["attn"])
        return torch.stack(logits, 1), torch.stack(attns, 1)

    def loss(self, batch: dict) -> Tensor:
        """Return the label-smoothed cross-entropy per output character (``<eos>`` included) of a collated batch."""
        inputs, outputs = self.targets(batch["text"])
        logits, _ = self(batch["wave"], batch["lengths"], inputs)
        return F.cross_entropy(logits.transpose(1, 2), outputs, ignore_index=PAD,
                               label_smoothing=self.config.label_smoothing)

    @torch.no_grad()
    def attend(self, wave: Tensor, text: str) -> Tensor:
        """Return the attention weights (characters + <eos>, encoder frames) of one utterance (N,) read with ``text``."""
        was_training = self.training
        self.eval()
        inputs, _ = self.targets([text])
        _, attn = self(wave.reshape(1, -1), torch.tensor([wave.numel()]), inputs)
        self.train(was_training)
        return attn[0].cpu()

    # -- decoding
    def max_length(self, enc_lengths: Tensor) -> Tensor:
        """Return the most characters a hypothesis may have for encoders of ``enc_lengths`` frames."""
        return (enc_lengths.float() * self.config.max_chars_per_frame).long() + 5

    @torch.no_grad()
    def greedy(self, enc: Tensor, enc_lengths: Tensor, window: tuple[int, int] | None = None) -> tuple[list[list[int]], list[Tensor]]:
        """Return (label ids, attention (steps, T')) per utterance, decoding the batch greedily until ``<eos>`` or the cap."""
        B = enc.shape[0]
        state = self.speller.initial_state(enc, enc_lengths)
        token = torch.full((B,), SOS, dtype=torch.long, device=enc.device)
        done = torch.zeros(B, dtype=torch.bool, device=enc.device)
        cap = self.max_length(enc_lengths)
        hyps, attns = [[] for _ in range(B)], []
        for i in range(int(cap.max()) + 1):
            logits, state = self.speller.step(token, state, _window_mask(state, window))
            token = logits.argmax(-1)
            attns.append(state["attn"])
            for b in range(B):
                if not done[b]:
                    if token[b] == EOS or i >= cap[b]:
                        done[b] = True
                    else:
                        hyps[b].append(int(token[b]))
            if done.all():
                break
        attn = torch.stack(attns, 1)                                            # (B, steps, T')
        return hyps, [attn[b, : len(hyps[b]) + 1, : int(enc_lengths[b])] for b in range(B)]

    @torch.no_grad()
    def beam_search(self, enc: Tensor, enc_length: int, beam: int = 4, length_penalty: float = 1.0,
                    window: tuple[int, int] | None = None) -> list[tuple[list[int], float]]:
        """Return up to ``beam`` (label ids, score) for one utterance's encoder frames ``enc`` (T', D), best first.

        The score is log p(y, <eos> | x) / (len(y) + 1) ** ``length_penalty``: without the
        division (``length_penalty=0``) every extra character costs probability, so short,
        early-stopped hypotheses win. Hypotheses stop at ``<eos>`` or at the length cap.
        """
        lengths = torch.tensor([enc_length], device=enc.device)
        cap = int(self.max_length(lengths)[0])
        state = self.speller.initial_state(enc[None, :enc_length], lengths)
        alive = [([], 0.0, state)]                          # (labels, log p, speller state)
        finished: list[tuple[list[int], float]] = []           # (labels, normalised score)
        for i in range(cap + 1):
            if not alive:
                break
            tokens = torch.tensor([h[0][-1] if h[0] else SOS for h in alive], device=enc.device)
            batch_state = {k: (torch.cat([h[2][k] for h in alive]) if k not in ("enc", "keys", "mask") else
                               alive[0][2][k].expand(len(alive), *alive[0][2][k].shape[1:]))
                           for k in state}
            logits, new_state = self.speller.step(tokens, batch_state, _window_mask(batch_state, window))
            logp = logits.log_softmax(-1)
            candidates = []
            for a, (labels, score, _) in enumerate(alive):
                top = torch.topk(logp[a], beam + 1)
                for lp, k in zip(top.values.tolist(), top.indices.tolist()):
                    if k in (PAD, SOS):
                        continue
                    candidates.append((score + lp, a, k))
            candidates.sort(key=lambda c: -c[0])
            next_alive = []
            for score, a, k in candidates:
                labels = alive[a][0]
                if k == EOS or i >= cap:
                    finished.append((labels, score / (len(labels) + 1) ** length_penalty))
                    continue
                if len(next_alive) < beam:
                    st = {key: (v[a: a + 1] if key not in ("enc", "keys", "mask") else state[key])
                          for key, v in new_state.items()}
                    next_alive.append((labels + [k], score, st))
            alive = next_alive
            # stop once the best finished hypothesis beats every live one even if it ended at the next step
            if finished and alive and max(f[1] for f in finished) > max(
                    s / (len(y) + 2) ** length_penalty for y, s, _ in alive):
                break
        finished.sort(key=lambda f: -f[1])
        return finished[:beam]

    @torch.no_grad()
    def transcribe(self, wave: Tensor, lengths: Tensor | None = None, beam: int = 1,
                   window: tuple[int, int] | None = None) -> list[str]:
        """Return the transcript of each 16 kHz waveform in ``wave`` (B, N): greedy, or beam search with ``beam`` > 1."""
        was_training = self.training
        self.eval()
        if wave.dim() == 1:
            wave = wave[None]
        if lengths is None:
            lengths = torch.full((wave.shape[0],), wave.shape[1], dtype=torch.long)
        enc, enc_lengths = self.listener(wave.to(self.device), lengths.to(self.device))
        if beam <= 1:
            ids, _ = self.greedy(enc, enc_lengths, window)
        else:
            ids = []
            for b in range(enc.shape[0]):
                found = self.beam_search(enc[b], int(enc_lengths[b]), beam=beam, window=window)
                ids.append(found[0][0] if found else [])
        self.train(was_training)
        return [" ".join(self.tokenizer.decode(i).split()) for i in ids]


def _window_mask(state: dict, window: tuple[int, int] | None) -> Tensor | None:
    """Return a (B, T') mask that allows frames from ``back`` before to ``ahead`` after the last attention peak."""
    if window is None:
        return None
    back, ahead = window
    peak = state["attn"].argmax(-1, keepdim=True)                              # (B, 1)
    pos = torch.arange(state["attn"].shape[1], device=peak.device)[None, :]    # (1, T')
    return (pos >= peak - back) & (pos <= peak + ahead)
