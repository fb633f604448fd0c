"""Recognition metrics, computed with jiwer (the reference implementation used across the field)."""

from __future__ import annotations

from collections import Counter

import jiwer


def _lists(refs, hyps):
    if isinstance(refs, str):
        refs = [refs]
    if isinstance(hyps, str):
        hyps = [hyps]
    refs, hyps = list(refs), list(hyps)
    if len(refs) != len(hyps):
        raise ValueError(f"{len(refs)} references but {len(hyps)} hypotheses")
    if not refs:
        raise ValueError("no utterances to score")
    if any(not r.strip() for r in refs):
        raise ValueError("a reference transcript is empty")
    return refs, hyps


def wer(refs, hyps) -> float:
    """Return the word error rate over all utterances (substitutions + deletions + insertions) / reference words."""
    refs, hyps = _lists(refs, hyps)
    return float(jiwer.wer(refs, hyps))


def cer(refs, hyps) -> float:
    """Return the character error rate over all utterances."""
    refs, hyps = _lists(refs, hyps)
    return float(jiwer.cer(refs, hyps))


def word_confusions(refs, hyps) -> Counter:
    """Return a Counter of ``(reference word, hypothesis word)`` substitution pairs, plus deletions as ``(w, '')`` and insertions as ``('', w)``."""
    refs, hyps = _lists(refs, hyps)
    out = jiwer.process_words(refs, hyps)
    pairs: Counter = Counter()
    for ref, hyp, chunks in zip(out.references, out.hypotheses, out.alignments):
        for ch in chunks:
            if ch.type == "substitute":
                for r, h in zip(ref[ch.ref_start_idx:ch.ref_end_idx], hyp[ch.hyp_start_idx:ch.hyp_end_idx]):
                    pairs[(r, h)] += 1
            elif ch.type == "delete":
                for r in ref[ch.ref_start_idx:ch.ref_end_idx]:
                    pairs[(r, "")] += 1
            elif ch.type == "insert":
                for h in hyp[ch.hyp_start_idx:ch.hyp_end_idx]:
                    pairs[("", h)] += 1
    return pairs
