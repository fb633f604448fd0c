"""A small streaming RNN-Transducer for connected digits (session 03).

- Encoder ("transcription network"), causal so it can stream: 40 log-mels (20 Hz - 4 kHz, 10 ms
  hop) normalised by the running mean and variance of the frames heard so far; SpecAugment while
  training; two stride-2 convolutions that look at most ``lookahead`` frames ahead (4x fewer
  frames: one every 40 ms); a unidirectional GRU.
- Output units: the eleven digit words by default (``units="words"``), or their characters
  (``units="chars"``). Whole words give 3-7 labels per utterance instead of 20-40 characters, and
  the transducer learns to align them several times sooner on a CPU budget.
- Prediction network: an embedding of the previous label (blank = "start") and a 1-layer GRU,
  a language model over the labels emitted so far.
- Joiner: ``linear(tanh(enc_t + pred_u))`` gives logits over labels + blank for every pair
  (t, u) of the (T x U+1) lattice.
- Trained with the transducer loss (Graves, 2012; ``torchaudio.functional.rnnt_loss``), plus 0.3 x a CTC loss
  on the encoder through a small extra head, which makes the encoder align sooner (a common recipe; the head is
  not used to decode). :func:`rnnt_loss_scratch` is the transducer recursion written out to read and check.
- Decoded greedily (:func:`greedy_decode`), by beam search (:func:`beam_search`), or chunk by
  chunk while audio arrives (:class:`StreamingDecoder`), which gives exactly the greedy result of
  the whole utterance because every layer is causal.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from course_utils.augment import SpecAugment
from course_utils.features import LogMelFrontend
from course_utils.models import register
from course_utils.text import DIGIT_VOCAB, CharTokenizer, WordTokenizer

BLANK = 0


@dataclass
class RNNTConfig:
    """Everything needed to rebuild an :class:`RNNTModel` (saved in its checkpoints)."""

    #: what checkpoints saved before a field existed were trained with (not a field: no annotation)
    LEGACY_DEFAULTS = {"units": "chars"}

    arch: str = "rnnt"
    words: list[str] = field(default_factory=lambda: list(DIGIT_VOCAB))
    units: str = "words"          # output units: "words" (one label per digit word) or "chars" (spelling)
    sample_rate: int = 16000
    n_mels: int = 40
    fmax: float = 4000.0
    norm_prior_frames: float = 100.0  # running normalisation starts from a learnt prior worth this many frames
    conv_channels: int = 144
    kernel_size: int = 5
    lookahead: int = 2          # feature frames (10 ms each) the first convolution may look ahead
    enc_hidden: int = 192
    enc_layers: int = 2
    embed_dim: int = 48
    pred_hidden: int = 128
    joint_dim: int = 160
    dropout: float = 0.15
    spec_augment: bool = True
    time_mask_width: int = 10   # frames (10 ms each); two masks of up to this width per utterance
    freq_mask_width: int = 8    # mel bands; two masks
    max_symbols_per_frame: int = 5  # decoding: at most this many labels per encoder frame
    ctc_weight: float = 0.3     # training only: weight of an auxiliary CTC loss on the encoder (0 = none)


# ----------------------------------------------------------------------------- the loss, from scratch
def rnnt_loss_scratch(logits: Tensor, targets: Tensor, logit_lengths: Tensor, target_lengths: Tensor,
                      blank: int = 0, reduction: str = "mean") -> Tensor:
    """Return the transducer loss -log p(targets | inputs) (Graves, 2012), reduced by "mean", "sum" or "none".

    ``logits`` (B, T, U+1, V) are joiner outputs (log-softmax is taken here); ``targets`` (B, U)
    label ids without blanks. ``alpha[t, u]`` is the log-probability of having emitted the first
    ``u`` labels after reading frames ``0..t``; a path through the lattice either emits blank
    (t -> t+1) or the next label (u -> u+1). Same conventions as ``torchaudio.functional.rnnt_loss``.
    """
    log_probs = logits.float().log_softmax(-1)                              # (B, T, U+1, V)
    B, T, U1, V = log_probs.shape
    targets = targets.long()
    lp_blank = log_probs[..., blank]                                        # (B, T, U+1)
    # Probability of emitting label u+1 at node (t, u): gather along V.
    idx = targets[:, None, :, None].expand(B, T, U1 - 1, 1)
    lp_label = log_probs[:, :, :-1, :].gather(3, idx).squeeze(3)            # (B, T, U)

    nll = []
    for b in range(B):
        Tb, Ub = int(logit_lengths[b]), int(target_lengths[b])
        alpha = [[None] * (Ub + 1) for _ in range(Tb)]
        for t in range(Tb):
            for u in range(Ub + 1):
                if t == 0 and u == 0:
                    alpha[t][u] = log_probs.new_zeros(())                    # log 1: start at the corner
                    continue
                paths = []
                if t > 0:   # arrived by a blank from (t-1, u)
                    paths.append(alpha[t - 1][u] + lp_blank[b, t - 1, u])
                if u > 0:   # arrived by emitting label u at (t, u-1)
                    paths.append(alpha[t][u - 1] + lp_label[b, t, u - 1])
                alpha[t][u] = torch.logsumexp(torch.stack(paths), 0)
        # Every path ends with a final blank out of the top-right node.
        nll.append(-(alpha[Tb - 1][Ub] + lp_blank[b, Tb - 1, Ub]))
    nll = torch.stack(nll)                                                  # (B,)
    if reduction == "none":
        return nll
    if reduction == "sum":
        return nll.sum()
    if reduction == "mean":   # torchaudio's "mean": the mean over the batch
        return nll.mean()
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


# ----------------------------------------------------------------------------- encoder pieces
class RunningNorm(nn.Module):
    """Causal per-band normalisation: frame t is scaled by the mean and variance of frames 0..t.

    The statistics start from a learnt prior (mean, log-variance per band) counted as
    ``prior_frames`` frames, so the first frames are not divided by a zero variance.
    """

    def __init__(self, n_mels: int, prior_frames: float):
        super().__init__()
        self.prior_frames = prior_frames
        self.prior_mean = nn.Parameter(torch.full((n_mels,), -8.0))   # about the mean log-mel at -20 dBFS
        self.prior_logvar = nn.Parameter(torch.full((n_mels,), math.log(16.0)))

    def initial_state(self, batch: int, device=None) -> tuple[Tensor, Tensor, Tensor]:
        """Return (sum x, sum x^2, count) of the prior: the state before any frame."""
        p = self.prior_frames
        m, v = self.prior_mean.to(device), self.prior_logvar.exp().to(device)
        return (p * m).expand(batch, -1), (p * (v + m * m)).expand(batch, -1), torch.full((batch, 1), p, device=device)

    def forward(self, x: Tensor, state=None) -> tuple[Tensor, tuple]:
        """Return (normalised x (B, T, F), state after the last frame) for log-mels ``x`` (B, T, F)."""
        s1, s2, n = state if state is not None else self.initial_state(x.shape[0], x.device)
        c1 = s1[:, None] + x.cumsum(1)                                      # (B, T, F)
        c2 = s2[:, None] + (x * x).cumsum(1)
        cn = n[:, None] + torch.arange(1, x.shape[1] + 1, device=x.device, dtype=x.dtype)[None, :, None]
        mean = c1 / cn
        var = (c2 / cn - mean * mean).clamp(min=1e-3)
        y = (x - mean) / var.sqrt()
        return y, (c1[:, -1], c2[:, -1], cn[:, -1])


class CausalConvSubsampling(nn.Module):
    """Two stride-2 convolutions over time, (B, T, n_mels) -> (B, ceil(ceil(T/2)/2), C).

    Output frame j of the first one sees input frames up to ``2j + lookahead``; the second one
    is causal (sees nothing after its own position), so the encoder waits for at most
    ``lookahead`` future frames. In streaming mode each convolution keeps the tail of its input.
    """

    def __init__(self, n_in: int, channels: int, kernel_size: int, lookahead: int):
        super().__init__()
        if not 0 <= lookahead < kernel_size:
            raise ValueError(f"lookahead must be in [0, {kernel_size - 1}] frames, got {lookahead}")
        self.k, self.lookahead = kernel_size, lookahead
        self.conv1 = nn.Conv1d(n_in, channels, kernel_size, stride=2)
        self.conv2 = nn.Conv1d(channels, channels, kernel_size, stride=2)

    @staticmethod
    def out_lengths(lengths: Tensor) -> Tensor:
        """Return the frame counts after the two stride-2 convolutions."""
        for _ in range(2):
            lengths = (lengths - 1) // 2 + 1
        return lengths

    def initial_state(self, x: Tensor) -> list[Tensor]:
        """Return the left zero padding of each convolution: the state before any frame."""
        B, _, C = x.shape
        return [x.new_zeros(B, self.conv1.in_channels, self.k - 1 - self.lookahead),
                x.new_zeros(B, self.conv2.in_channels, self.k - 1)]

    def _push(self, conv: nn.Conv1d, buf: Tensor, x: Tensor) -> tuple[Tensor, Tensor]:
        """Append ``x`` (B, C, n) to ``buf``; return (every output that is now complete, the new buffer)."""
        buf = torch.cat([buf, x], dim=2)
        m = max(0, (buf.shape[2] - self.k) // 2 + 1)          # complete outputs
        y = F.gelu(conv(buf[:, :, : 2 * (m - 1) + self.k])) if m else buf.new_zeros(buf.shape[0], conv.out_channels, 0)
        return y, buf[:, :, 2 * m:]

    def forward(self, x: Tensor, state=None, final: bool = True) -> tuple[Tensor, list[Tensor]]:
        """Return (features (B, T', C), state) for frames ``x`` (B, T, n_mels) that follow ``state``.

        With ``final`` the input ends here: the look-ahead is padded with zeros.
        """
        b1, b2 = state if state is not None else self.initial_state(x)
        x = x.transpose(1, 2)                                   # (B, n_mels, T)
        if final and self.lookahead:
            x = torch.cat([x, x.new_zeros(x.shape[0], x.shape[1], self.lookahead)], dim=2)
        y1, b1 = self._push(self.conv1, b1, x)                  # (B, C, ~T/2)
        y2, b2 = self._push(self.conv2, b2, y1)                 # (B, C, ~T/4)
        return y2.transpose(1, 2), [b1, b2]


class Predictor(nn.Module):
    """Prediction network: embedding of the previous label + GRU; blank (id 0) stands for "start"."""

    def __init__(self, vocab: int, embed_dim: int, hidden: int, dropout: float):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed_dim)
        self.rnn = nn.GRU(embed_dim, hidden, batch_first=True)
        self.dropout = nn.Dropout(dropout)

    def forward(self, tokens: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Return (outputs (B, U, H), state (1, B, H)) after reading ``tokens`` (B, U)."""
        y, state = self.rnn(self.dropout(self.embed(tokens)), state)
        return self.dropout(y), state


class Joiner(nn.Module):
    """logits(t, u) = W tanh(A enc_t + B pred_u): one score per label + blank for every lattice node."""

    def __init__(self, enc_dim: int, pred_dim: int, joint_dim: int, vocab: int):
        super().__init__()
        self.enc_proj = nn.Linear(enc_dim, joint_dim)
        self.pred_proj = nn.Linear(pred_dim, joint_dim, bias=False)
        self.out = nn.Linear(joint_dim, vocab)

    def forward(self, enc: Tensor, pred: Tensor) -> Tensor:
        """Return logits (..., V) for already-projected ``enc`` and ``pred`` that broadcast together."""
        return self.out(torch.tanh(enc + pred))


# ----------------------------------------------------------------------------- the model
@register("rnnt")
class RNNTModel(nn.Module):
    """Causal encoder + prediction network + joiner, trained with the RNN-T loss."""

    config_class = RNNTConfig

    def __init__(self, config: RNNTConfig | None = None):
        super().__init__()
        self.config = config = config or RNNTConfig()
        if config.units not in ("words", "chars"):
            raise ValueError(f"units must be 'words' or 'chars', got {config.units!r}")
        self.tokenizer = (WordTokenizer(config.words) if config.units == "words"   # id 0 = blank
                          else CharTokenizer.for_words(config.words))
        V = len(self.tokenizer)
        self.frontend = LogMelFrontend(sr=config.sample_rate, n_mels=config.n_mels, fmax=config.fmax,
                                       normalize=False)
        self.norm = RunningNorm(config.n_mels, config.norm_prior_frames)
        self.spec_augment = (SpecAugment(time_width=config.time_mask_width, freq_width=config.freq_mask_width)
                             if config.spec_augment else nn.Identity())
        self.subsample = CausalConvSubsampling(config.n_mels, config.conv_channels, config.kernel_size,
                                               config.lookahead)
        self.dropout = nn.Dropout(config.dropout)
        self.encoder_rnn = nn.GRU(config.conv_channels, config.enc_hidden, num_layers=config.enc_layers,
                                  batch_first=True, dropout=config.dropout)
        self.predictor = Predictor(V, config.embed_dim, config.pred_hidden, config.dropout)
        self.joiner = Joiner(config.enc_hidden, config.pred_hidden, config.joint_dim, V)
        self.ctc_head = nn.Linear(config.enc_hidden, V) if config.ctc_weight > 0 else None

    @property
    def frame_seconds(self) -> float:
        """Seconds between two encoder frames (hop length x subsampling / sample rate)."""
        return self.frontend.hop_length * 4 / self.config.sample_rate

    @property
    def device(self) -> torch.device:
        return self.joiner.out.weight.device

    # -- encoder
    def log_mels(self, wave: Tensor) -> Tensor:
        """Return un-normalised log-mels (B, T, n_mels) of ``wave`` (B, N) already padded by n_fft/2 both ends."""
        fe = self.frontend
        stft = torch.stft(wave.float(), fe.n_fft, hop_length=fe.hop_length, window=fe.window,
                          center=False, return_complex=True)                 # (B, F, T)
        power = torch.view_as_real(stft).square().sum(-1)
        return torch.log(torch.matmul(fe.fb, power) + 1e-6).transpose(1, 2)  # (B, T, n_mels)

    def encoder_states(self, wave: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Return (encoder GRU outputs (B, T', H), frame counts (B,)) for 16 kHz ``wave`` (B, N)."""
        half = self.frontend.n_fft // 2
        feats = self.log_mels(F.pad(wave, (half, half)))                    # (B, T, n_mels), T = 1 + N // hop
        frames = self.frontend.num_frames(lengths)                          # (B,)
        valid = (torch.arange(feats.shape[1], device=feats.device)[None, :] < frames[:, None]).unsqueeze(-1)
        feats, _ = self.norm(feats)
        feats = self.spec_augment(feats * valid)                            # frames past the end are 0
        x, _ = self.subsample(feats)                                        # (B, T', C)
        out_lengths = self.subsample.out_lengths(frames)
        x = x[:, : int(out_lengths.max())]
        y, _ = self.encoder_rnn(self.dropout(x))                            # (B, T', H), causal: no packing needed
        return y, out_lengths

    def encode(self, wave: Tensor, lengths: Tensor) -> tuple[Tensor, Tensor]:
        """Return (encoder outputs projected for the joiner (B, T', J), frame counts (B,)) for 16 kHz ``wave`` (B, N)."""
        y, out_lengths = self.encoder_states(wave, lengths)
        return self.joiner.enc_proj(self.dropout(y)), out_lengths

    # -- prediction network
    def predict(self, tokens: Tensor, state: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """Return (prediction outputs projected for the joiner (B, U, J), GRU state) after ``tokens`` (B, U)."""
        y, state = self.predictor(tokens, state)
        return self.joiner.pred_proj(y), state

    def targets(self, texts: list[str]) -> tuple[Tensor, Tensor]:
        """Return (label ids (B, U) padded with 0, label counts (B,)) for transcripts ``texts``."""
        ids = [self.tokenizer.encode(" ".join(t.split())) for t in texts]
        lengths = torch.tensor([len(i) for i in ids], dtype=torch.long, device=self.device)
        targets = torch.zeros(len(ids), max(1, int(lengths.max())), dtype=torch.long, device=self.device)
        for b, row in enumerate(ids):
            targets[b, : len(row)] = torch.tensor(row, dtype=torch.long)
        return targets, lengths

    def lattice(self, enc: Tensor, targets: Tensor) -> Tensor:
        """Return joiner logits (B, T', U+1, V) for projected encoder frames ``enc`` and labels ``targets`` (B, U)."""
        start = torch.full((targets.shape[0], 1), BLANK, dtype=torch.long, device=targets.device)
        pred, _ = self.predict(torch.cat([start, targets], dim=1))          # (B, U+1, J)
        return self.joiner(enc[:, :, None, :], pred[:, None, :, :])         # (B, T', U+1, V)

    def joint(self, wave: Tensor, lengths: Tensor, texts: list[str]) -> tuple[Tensor, Tensor, Tensor, Tensor]:
        """Return (logits (B, T', U+1, V), targets (B, U), logit lengths (B,), target lengths (B,))."""
        enc, enc_lengths = self.encode(wave.to(self.device), lengths.to(self.device))
        targets, target_lengths = self.targets(texts)
        return self.lattice(enc, targets), targets, enc_lengths, target_lengths

    def loss(self, batch: dict) -> Tensor:
        """Return the transducer loss per target label (+ ``ctc_weight`` x a CTC loss on the encoder), batch mean."""
        import torchaudio.functional as AF

        states, enc_lengths = self.encoder_states(batch["wave"].to(self.device), batch["lengths"].to(self.device))
        targets, target_lengths = self.targets(batch["text"])
        logits = self.lattice(self.joiner.enc_proj(self.dropout(states)), targets)
        nll = AF.rnnt_loss(logits.float(), targets.int(), enc_lengths.int(), target_lengths.int(),
                           blank=BLANK, reduction="none")
        loss = (nll / target_lengths.clamp(min=1)).mean()
        if self.config.ctc_weight > 0:   # an auxiliary CTC head on the encoder: aligns it sooner (not used to decode)
            log_probs = self.ctc_head(self.dropout(states)).log_softmax(-1)
            ctc = F.ctc_loss(log_probs.transpose(0, 1), targets, enc_lengths, target_lengths, blank=BLANK,
                             reduction="mean", zero_infinity=True)
            loss = loss + self.config.ctc_weight * ctc
        return loss

    # -- decoding
    @torch.no_grad()
    def transcribe(self, wave: Tensor, lengths: Tensor | None = None, beam: int = 1) -> list[str]:
        """Return the transcript of each 16 kHz waveform in ``wave`` (B, N): greedy, or beam search with ``beam`` > 1."""
        was_training = self.training
        self.eval()
        if wave.dim() == 1:
            wave = wave[None]
        if lengths is None:
            lengths = torch.full((wave.shape[0],), wave.shape[1], dtype=torch.long)
        enc, enc_lengths = self.encode(wave.to(self.device), lengths.to(self.device))
        out = []
        for b in range(enc.shape[0]):
            e = enc[b, : int(enc_lengths[b])]
            ids = greedy_decode(self, e) if beam <= 1 else beam_search(self, e, beam=beam)[0][0]
            out.append(" ".join(self.tokenizer.decode(ids).split()))
        self.train(was_training)
        return out


# ----------------------------------------------------------------------------- decoding
@torch.no_grad()
def greedy_decode(model: RNNTModel, enc: Tensor, state: dict | None = None) -> list[int]:
    """Return the greedy label ids for one utterance's encoder frames ``enc`` (T', J).

    At each frame: ask the joiner for the best symbol; a blank moves to the next frame, a
    label is emitted and fed to the prediction network, and the same frame is asked again
    (at most ``max_symbols_per_frame`` times). Pass a ``state`` dict to continue a previous call
    (the streaming decoder does); it is updated in place.
    """
    if state is None:
        state = {}
    if "hyp" not in state:                              # nothing emitted yet: the predictor reads blank
        pred, h = model.predict(torch.tensor([[BLANK]], device=enc.device))
        state.update(hyp=[], pred=pred[0, 0], h=h)
    for t in range(enc.shape[0]):
        for _ in range(model.config.max_symbols_per_frame):
            k = int(model.joiner(enc[t], state["pred"]).argmax())
            if k == BLANK:
                break
            state["hyp"].append(k)
            pred, state["h"] = model.predict(torch.tensor([[k]], device=enc.device), state["h"])
            state["pred"] = pred[0, 0]
    return state["hyp"]


@torch.no_grad()
def beam_search(model: RNNTModel, enc: Tensor, beam: int = 4, expansions: int | None = None) -> list[tuple[list[int], float]]:
    """Return up to ``beam`` (label ids, log-probability) pairs, best first, for encoder frames ``enc`` (T', J).

    The time-synchronous search of Graves (2012), as in ``torchaudio.models.RNNTBeamSearch``:
    at each frame, repeatedly take the best hypothesis not yet finished with this frame; its
    blank extension moves on to the next frame (identical label sequences are merged by adding
    their probabilities), its ``beam`` best label extensions stay on this frame. The frame is
    done when ``beam`` hypotheses moved on that all beat the best one still waiting.
    """
    expansions = expansions or beam * model.config.max_symbols_per_frame
    device = enc.device

    def advance(tokens, h):
        pred, h = model.predict(torch.tensor([[tokens[-1] if tokens else BLANK]], device=device), h)
        return pred[0, 0], h

    pred0, h0 = advance((), None)
    finished = {(): (0.0, pred0, h0)}                  # labels -> (log p, predictor output, state)
    for t in range(enc.shape[0]):
        waiting = dict(finished)
        finished = {}
        for _ in range(expansions):
            if not waiting:
                break
            labels = max(waiting, key=lambda y: waiting[y][0])
            score, pred, h = waiting.pop(labels)
            if len(finished) >= beam and score <= sorted(v[0] for v in finished.values())[-beam]:
                break
            logp = model.joiner(enc[t], pred).log_softmax(-1)
            s_blank = score + float(logp[BLANK])
            if labels in finished:                      # the same labels by another path: add
                s_blank = float(np.logaddexp(finished[labels][0], s_blank))
            finished[labels] = (s_blank, pred, h)
            top = torch.topk(logp[1:], min(beam, logp.shape[0] - 1))
            for lp, k in zip(top.values.tolist(), (top.indices + 1).tolist()):
                new = labels + (k,)
                s = score + lp
                if new in waiting:
                    waiting[new] = (float(np.logaddexp(waiting[new][0], s)),) + waiting[new][1:]
                else:
                    p, hh = advance(new, h)
                    waiting[new] = (s, p, hh)
        finished = dict(sorted(finished.items(), key=lambda kv: -kv[1][0])[:beam])
    ranked = sorted(finished.items(), key=lambda kv: -kv[1][0])
    return [(list(y), v[0]) for y, v in ranked]


# ----------------------------------------------------------------------------- streaming
class StreamingDecoder:
    """Decode audio chunk by chunk while it arrives; the encoder and decoder states carry across chunks.

    ``accept(chunk)`` takes the next 16 kHz samples and returns the text so far (a partial
    hypothesis); ``finish()`` flushes the look-ahead and returns the final text. Every layer is
    causal, so the final text equals ``greedy_decode`` of the whole utterance. ``compute_s``
    records the time each call took.

    >>> dec = StreamingDecoder(model)
    >>> for chunk in np.array_split(wave, 20):
    ...     print(dec.accept(chunk))
    >>> dec.finish()
    """

    def __init__(self, model: RNNTModel):
        self.model = model.eval()
        fe = model.frontend
        self.hop, self.n_fft = fe.hop_length, fe.n_fft
        self.reset()

    def reset(self) -> None:
        """Forget everything heard: start a new utterance."""
        self.samples = torch.zeros(1, self.n_fft // 2, device=self.model.device)  # the centre padding
        self.n_samples = 0            # audio samples received
        self.n_frames = 0             # feature frames computed
        self.norm_state = self.conv_state = self.rnn_state = None
        self.decoder_state: dict = {}
        self.compute_s: list[float] = []

    @property
    def text(self) -> str:
        """Return the current hypothesis."""
        return " ".join(self.model.tokenizer.decode(self.decoder_state.get("hyp", [])).split())

    @torch.no_grad()
    def _run(self, final: bool) -> None:
        m = self.model
        # 1. Feature frames whose 25 ms window is complete.
        n = 0 if self.samples.shape[1] < self.n_fft else 1 + (self.samples.shape[1] - self.n_fft) // self.hop
        if final:   # the full-utterance front end makes exactly 1 + N // hop frames
            n = 1 + self.n_samples // self.hop - self.n_frames
        if n > 0:
            feats = m.log_mels(self.samples[:, : (n - 1) * self.hop + self.n_fft])
            self.samples = self.samples[:, n * self.hop:]
            self.n_frames += n
        else:
            feats = self.samples.new_zeros(1, 0, m.config.n_mels)
        # 2. Running normalisation, convolutions (which wait for their look-ahead), GRU, decoder.
        if self.norm_state is None:
            self.norm_state = m.norm.initial_state(1, self.samples.device)
        feats, self.norm_state = m.norm(feats, self.norm_state) if n > 0 else (feats, self.norm_state)
        x, self.conv_state = m.subsample(feats, self.conv_state, final=final)
        if x.shape[1]:
            y, self.rnn_state = m.encoder_rnn(x, self.rnn_state)
            greedy_decode(m, m.joiner.enc_proj(y)[0], self.decoder_state)
        elif "hyp" not in self.decoder_state:
            greedy_decode(m, x.new_zeros(0, m.config.joint_dim), self.decoder_state)

    def accept(self, chunk) -> str:
        """Feed the next chunk of 16 kHz samples (1-D array or tensor); return the partial transcript."""
        start = time.perf_counter()
        chunk = torch.as_tensor(np.asarray(chunk, dtype=np.float32)).to(self.samples.device).reshape(1, -1)
        self.samples = torch.cat([self.samples, chunk], dim=1)
        self.n_samples += chunk.shape[1]
        self._run(final=False)
        self.compute_s.append(time.perf_counter() - start)
        return self.text

    def finish(self) -> str:
        """Signal the end of the audio (pads the look-ahead with silence); return the final transcript."""
        start = time.perf_counter()
        if self.n_samples == 0:
            raise ValueError("StreamingDecoder.finish: no audio was given (call accept(chunk) first)")
        half = self.n_fft // 2
        self.samples = torch.cat([self.samples, self.samples.new_zeros(1, half)], dim=1)
        self._run(final=True)
        self.compute_s.append(time.perf_counter() - start)
        return self.text

    @property
    def lookahead_seconds(self) -> float:
        """Return how far past the newest sample the decoder must wait: window half + conv look-ahead."""
        sr = self.model.config.sample_rate
        return (self.n_fft // 2 + self.model.config.lookahead * self.hop) / sr


def stream(model: RNNTModel, wave, chunk_seconds: float = 0.2) -> list[dict]:
    """Return one record per chunk of ``wave`` fed to a :class:`StreamingDecoder`: audio time, text, compute time.

    Each record: ``{"t": seconds of audio heard, "text": partial transcript, "compute_s": time the
    chunk took}``; the last record (after ``finish``) has ``"final": True``.
    """
    sr = model.config.sample_rate
    wave = np.asarray(wave, dtype=np.float32).reshape(-1)
    step = max(1, int(round(chunk_seconds * sr)))
    dec = StreamingDecoder(model)
    out = []
    for i in range(0, len(wave), step):
        text = dec.accept(wave[i:i + step])
        out.append({"t": min(i + step, len(wave)) / sr, "text": text, "compute_s": dec.compute_s[-1], "final": False})
    text = dec.finish()
    out.append({"t": len(wave) / sr, "text": text, "compute_s": dec.compute_s[-1], "final": True})
    return out
