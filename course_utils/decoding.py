"""Turning CTC outputs into text and time stamps.

- ``ctc_greedy``: best symbol per frame, merge repeats, drop blanks (fast, usually good enough).
- ``ctc_prefix_beam_search``: keeps the ``beam`` most probable *label sequences*, summing over all
  the alignments that collapse to each (Hannun et al. 2014; Hannun 2017, Distill), from scratch.
- ``FlashlightDecoder``: torchaudio's C++ beam search (flashlight-text) with a word lexicon and an
  optional n-gram language model, here a bigram over digit words written by ``write_arpa``.
- ``forced_align_words``: the best alignment of a *known* transcript, as word start/end times
  (``torchaudio.functional.forced_align``).

Log-probabilities are ``(B, T, V)`` (or ``(T, V)`` for one utterance) with the blank at id 0.
"""

from __future__ import annotations

import math
import os
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

import torch
from torch import Tensor

from course_utils.audio import quiet_c_stderr
from course_utils.text import CharTokenizer

NEG_INF = -math.inf


def _clean(text: str) -> str:
    """Return ``text`` with runs of spaces collapsed and the ends stripped."""
    return " ".join(text.split())


def ctc_collapse(ids, blank: int = 0) -> list[int]:
    """Return the label sequence of a frame-level path: merge repeated ids, then drop blanks."""
    out, prev = [], None
    for i in (int(j) for j in ids):
        if i != prev and i != blank:
            out.append(i)
        prev = i
    return out


def ctc_greedy(log_probs: Tensor, lengths: Tensor | None, tokenizer: CharTokenizer, blank: int = 0) -> list[str]:
    """Return the greedy (best path) transcript of each utterance in ``log_probs`` (B, T, V)."""
    if log_probs.dim() == 2:
        log_probs = log_probs.unsqueeze(0)
    best = log_probs.argmax(-1).cpu()  # (B, T)
    if lengths is None:
        lengths = torch.full((best.shape[0],), best.shape[1])
    return [_clean(tokenizer.decode(ctc_collapse(row[: int(n)], blank))) for row, n in zip(best, lengths)]


def ctc_prefix_beam_search(log_probs: Tensor, tokenizer: CharTokenizer, beam: int = 8, blank: int = 0,
                           token_min_logp: float = -12.0) -> str:
    """Return the most probable transcript of one utterance ``log_probs`` (T, V) by CTC prefix beam search.

    Each prefix (a label sequence) keeps two scores: the log-probability of all alignments of the
    frames so far that produce it and end in a blank (``pb``), or in its last label (``pnb``).
    Symbols below ``token_min_logp`` at a frame are skipped (they cannot win and cost time).
    """
    if log_probs.dim() != 2:
        raise ValueError(f"log_probs must be (T, V) for one utterance, got shape {tuple(log_probs.shape)}")
    lp = log_probs.detach().float().cpu().tolist()
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, NEG_INF)}  # prefix -> (pb, pnb)
    for frame in lp:
        candidates = [c for c, p in enumerate(frame) if p >= token_min_logp or c == blank]
        nxt: dict[tuple[int, ...], list[float]] = defaultdict(lambda: [NEG_INF, NEG_INF])
        for prefix, (pb, pnb) in beams.items():
            total = _logadd(pb, pnb)
            for c in candidates:
                p = frame[c]
                if c == blank:  # the prefix stays the same, now ending in a blank
                    nxt[prefix][0] = _logadd(nxt[prefix][0], total + p)
                    continue
                extended = prefix + (c,)
                if prefix and c == prefix[-1]:
                    # "a" then "a": without a blank between, the repeat merges into the same prefix;
                    # after a blank it is a new label.
                    nxt[prefix][1] = _logadd(nxt[prefix][1], pnb + p)
                    nxt[extended][1] = _logadd(nxt[extended][1], pb + p)
                else:
                    nxt[extended][1] = _logadd(nxt[extended][1], total + p)
        ranked = sorted(nxt.items(), key=lambda kv: _logadd(*kv[1]), reverse=True)[:beam]
        beams = {prefix: (pb, pnb) for prefix, (pb, pnb) in ranked}
    best = max(beams.items(), key=lambda kv: _logadd(*kv[1]))[0]
    return _clean(tokenizer.decode(best))


def _logadd(a: float, b: float) -> float:
    """Return log(exp(a) + exp(b)) without overflow (either may be -inf)."""
    if a == NEG_INF:
        return b
    if b == NEG_INF:
        return a
    m = max(a, b)
    return m + math.log1p(math.exp(-abs(a - b)))


# ----------------------------------------------------------------------------- n-gram LM
def write_arpa(texts, path: str | os.PathLike, vocab=None) -> Path:
    """Write an add-one smoothed word bigram LM of ``texts`` in ARPA format to ``path``; return the path.

    ``vocab`` lists every word the LM must know (default: the words of ``texts``). Backoff weights
    are left at 0 (log10 1.0): a plain interpolation-free bigram, enough for a tiny vocabulary.
    """
    sents = [t.split() for t in texts]
    words = sorted(set(vocab or []) | {w for s in sents for w in s})
    uni = Counter(w for s in sents for w in s + ["</s>"])
    bi = Counter((a, b) for s in sents for a, b in zip(["<s>"] + s, s + ["</s>"]))
    history = Counter(a for (a, _b) in bi.elements())
    targets = words + ["</s>"]
    n_uni = sum(uni.values()) + len(targets)
    lines = ["\\data\\", f"ngram 1={len(targets) + 2}", f"ngram 2={(len(words) + 1) * len(targets)}", "",
             "\\1-grams:", "-99.0\t<s>\t0.0", "-99.0\t<unk>\t0.0"]
    lines += [f"{math.log10((uni[w] + 1) / n_uni):.6f}\t{w}\t0.0" for w in targets]
    lines += ["", "\\2-grams:"]
    for a in ["<s>"] + words:
        for b in targets:
            p = (bi[(a, b)] + 1) / (history[a] + len(targets))
            lines.append(f"{math.log10(p):.6f}\t{a} {b}")
    lines += ["", "\\end\\", ""]
    path = Path(path)
    path.write_text("\n".join(lines))
    return path


class FlashlightDecoder:
    """Lexicon-constrained CTC beam search (torchaudio ``ctc_decoder``, flashlight-text) for a word list.

    Only words in ``words`` can come out, each spelled with the tokenizer's characters. With
    ``lm_texts`` a bigram LM over those words (``write_arpa``) is added with weight ``lm_weight``.
    ``decoder(log_probs (B, T, V), lengths) -> list[str]``.
    """

    def __init__(self, tokenizer: CharTokenizer, words, beam: int = 8, lm_texts=None, lm_weight: float = 0.5,
                 word_score: float = 0.0, workdir: str | os.PathLike | None = None):
        try:
            from torchaudio.models.decoder import ctc_decoder
            import flashlight.lib.text  # noqa: F401  (ctc_decoder needs it at call time)
        except ImportError as e:
            raise ImportError("FlashlightDecoder needs the flashlight-text package: pip install flashlight-text "
                              f"({e})") from None
        if " " not in tokenizer.chars:
            raise ValueError("FlashlightDecoder needs a tokenizer whose characters include the space")
        self.tokenizer = tokenizer
        with tempfile.TemporaryDirectory(prefix="ctc_lexicon_") as tmp:  # the decoder reads its files once
            folder = Path(workdir or tmp)
            # Flashlight's token list: our ids in order; blank "-" at 0 and the word separator "|" for space.
            tokens = ["-" if i == 0 else ("|" if ch == " " else ch) for i, ch in enumerate(tokenizer.vocab)]
            (folder / "tokens.txt").write_text("\n".join(tokens) + "\n")
            lexicon = folder / "lexicon.txt"
            lexicon.write_text("".join(f"{w} {' '.join(w)} |\n" for w in sorted(set(words))))
            lm = None
            if lm_texts is not None:
                lm = str(write_arpa(lm_texts, folder / "bigram.arpa", vocab=words))
            with quiet_c_stderr():  # KenLM prints loading chatter (and file paths) straight to descriptor 2
                self._decode = ctc_decoder(lexicon=str(lexicon), tokens=str(folder / "tokens.txt"), lm=lm,
                                           nbest=1, beam_size=beam, lm_weight=lm_weight if lm else 0.0,
                                           word_score=word_score, blank_token="-", sil_token="|", unk_word="<unk>")

    def __call__(self, log_probs: Tensor, lengths: Tensor | None = None) -> list[str]:
        """Return the best word sequence for each utterance of ``log_probs`` (B, T, V)."""
        if log_probs.dim() == 2:
            log_probs = log_probs.unsqueeze(0)
        emissions = log_probs.detach().float().cpu().contiguous()
        if lengths is not None:
            lengths = torch.as_tensor(lengths).cpu().to(torch.int32)
        results = self._decode(emissions, lengths)
        return [_clean(" ".join(r[0].words)) if r else "" for r in results]


# ----------------------------------------------------------------------------- alignment
def forced_align_words(log_probs: Tensor, transcript: str, tokenizer: CharTokenizer,
                       frame_seconds: float, blank: int = 0) -> list[tuple[str, float, float]]:
    """Return ``(word, start_s, end_s)`` for each word of ``transcript`` in one utterance ``log_probs`` (T, V)."""
    import torchaudio.functional as AF

    if log_probs.dim() == 3:
        if log_probs.shape[0] != 1:
            raise ValueError("forced_align_words aligns one utterance: pass log_probs of shape (T, V)")
        log_probs = log_probs[0]
    words = transcript.split()
    if not words:
        raise ValueError("forced_align_words needs a non-empty transcript")
    ids = tokenizer.encode(" ".join(words))
    repeats = sum(a == b for a, b in zip(ids, ids[1:]))
    T = log_probs.shape[0]
    if T < len(ids) + repeats:
        raise ValueError(f"{T} frames are too few to align {len(ids)} characters ({transcript!r})")
    emissions = log_probs.detach().float().cpu().unsqueeze(0)        # (1, T, V)
    targets = torch.tensor([ids], dtype=torch.int32)                  # (1, L)
    path, scores = AF.forced_align(emissions, targets, blank=blank)   # (1, T) each
    spans = AF.merge_tokens(path[0], scores[0].exp(), blank=blank)    # one span per target character
    space = tokenizer.encode(" ")[0]
    out, current = [], []
    for span in spans + [None]:
        if span is None or span.token == space:
            if current:
                out.append((current[0].start * frame_seconds, current[-1].end * frame_seconds))
            current = []
        else:
            current.append(span)
    return [(w, round(s, 4), round(e, 4)) for w, (s, e) in zip(words, out)]
