"""Sequence losses written from scratch, to read and to check against the library versions.

- ``ctc_loss_scratch``: Connectionist Temporal Classification (Graves et al., 2006), the forward
  (alpha) recursion in log space, differentiable through torch autograd. Training uses the fast
  ``torch.nn.functional.ctc_loss``; this one exists to be read and is tested to agree with it.

(Session 03 adds the RNN-T loss here.)
"""

from __future__ import annotations

import torch
from torch import Tensor

#: Stands in for log(0): finite, so logsumexp and its gradient never see -inf - (-inf) = NaN.
LOG_ZERO = -1e30


def _padded_targets(targets: Tensor, target_lengths: Tensor) -> Tensor:
    """Return targets as a padded (B, L) tensor, from padded (B, L) or concatenated (sum L,) form."""
    if targets.dim() == 2:
        return targets
    rows = torch.split(targets, target_lengths.tolist())
    return torch.nn.utils.rnn.pad_sequence(list(rows), batch_first=True, padding_value=0)


def ctc_loss_scratch(log_probs: Tensor, targets: Tensor, input_lengths: Tensor, target_lengths: Tensor,
                     blank: int = 0, reduction: str = "mean", batch_first: bool = False) -> Tensor:
    """Return the CTC loss -log p(targets | inputs), reduced like ``F.ctc_loss`` ("mean", "sum" or "none").

    ``log_probs`` are log-softmax outputs, (T, B, V) like torch's, or (B, T, V) with ``batch_first``.
    ``targets`` are padded (B, L) or concatenated (sum of L,) label ids without blanks. Impossible
    alignments (input shorter than the labels need) give a huge loss (about 1e30) instead of inf.
    """
    if batch_first:
        log_probs = log_probs.transpose(0, 1)  # (T, B, V)
    T, B, V = log_probs.shape
    input_lengths = torch.as_tensor(input_lengths, device=log_probs.device).long()
    target_lengths = torch.as_tensor(target_lengths, device=log_probs.device).long()
    labels = _padded_targets(torch.as_tensor(targets, device=log_probs.device).long(), target_lengths)  # (B, L)
    L = labels.shape[1]

    # 1. The extended label sequence: a blank before, between and after the labels,
    #    "cat" -> "_c_a_t_", S = 2L + 1 states.
    S = 2 * L + 1
    ext = torch.full((B, S), blank, dtype=torch.long, device=log_probs.device)  # (B, S)
    ext[:, 1::2] = labels
    # A state may be entered from two states back (skipping a blank) only if it is a label that
    # differs from the label two states back: "aa" needs a blank between the two a's.
    can_skip = torch.zeros(B, S, dtype=torch.bool, device=log_probs.device)  # (B, S)
    can_skip[:, 2:] = (ext[:, 2:] != blank) & (ext[:, 2:] != ext[:, :-2])

    # 2. The log-probability of emitting each state's symbol at each frame.
    emit = log_probs.gather(2, ext.unsqueeze(0).expand(T, B, S))  # (T, B, S)

    # 3. alpha[s] = log of the total probability of all paths that end in state s at frame t.
    #    A path starts in the first blank or the first label.
    alpha = torch.full((B, S), LOG_ZERO, dtype=log_probs.dtype, device=log_probs.device)  # (B, S)
    alpha[:, 0] = emit[0, :, 0]
    if S > 1:
        alpha[:, 1] = emit[0, :, 1]
    pad = torch.full((B, 1), LOG_ZERO, dtype=log_probs.dtype, device=log_probs.device)
    for t in range(1, T):
        stay = alpha                                               # from s (repeat the symbol)
        step = torch.cat([pad, alpha[:, :-1]], dim=1)              # from s - 1
        skip = torch.cat([pad, pad, alpha[:, :-2]], dim=1)[:, :S]  # from s - 2
        skip = torch.where(can_skip, skip, torch.full_like(skip, LOG_ZERO))
        new = torch.logsumexp(torch.stack([stay, step, skip]), dim=0) + emit[t]  # (B, S)
        # Utterances that have already ended keep their final alpha.
        alpha = torch.where((t < input_lengths).unsqueeze(1), new, alpha)

    # 4. A complete path ends in the last label or in the blank after it (state 2L or 2L - 1).
    last = (2 * target_lengths).unsqueeze(1)                       # (B, 1)
    end_blank = alpha.gather(1, last).squeeze(1)
    end_label = alpha.gather(1, (last - 1).clamp(min=0)).squeeze(1)
    end_label = torch.where(target_lengths > 0, end_label, torch.full_like(end_label, LOG_ZERO))
    nll = -torch.logaddexp(end_blank, end_label)                   # (B,)

    if reduction == "none":
        return nll
    if reduction == "sum":
        return nll.sum()
    if reduction == "mean":  # torch's convention: divide by the target length, then average
        return (nll / target_lengths.clamp(min=1).to(nll.dtype)).mean()
    raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
