"""Speed and accuracy of the session 02 CTC digit recogniser, its decoders, and the PocketSphinx baseline.

    python benchmarks/bench_asr.py [--n-real 100] [--n-sphinx 100] [--threads 2]

Prints, on the real human digit strings (``real_digit_set``, Asterisk prompts):
- WER / CER and decoding time (seconds per second of audio) of greedy, prefix beam search and the
  flashlight lexicon (+ bigram LM) decoder, all on the same network outputs;
- the network's own time (features + model) per second of audio;
- WER and time of PocketSphinx with a digit grammar on the first ``--n-sphinx`` of the same strings.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from course_utils.asr import default_checkpoint
from course_utils.baselines import PocketsphinxDigits
from course_utils.data import read_manifest, real_digit_set
from course_utils.data.corpus import random_digit_text
from course_utils.decoding import FlashlightDecoder, ctc_greedy, ctc_prefix_beam_search
from course_utils.metrics import cer, wer
from course_utils.text import DIGIT_VOCAB
from course_utils.train import batch_waves, load_checkpoint, load_waves


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-real", type=int, default=100)
    parser.add_argument("--n-sphinx", type=int, default=100)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    model = load_checkpoint(default_checkpoint("ctc"))
    rows = read_manifest(real_digit_set(n=args.n_real, seed=0))
    refs = [r["text"] for r in rows]
    waves = load_waves(rows)
    audio_s = sum(len(w) for w in waves) / 16000
    print(f"real digit strings: {len(rows)} utterances, {audio_s:.0f} s of audio, torch threads {args.threads}")

    # the network once, keeping its outputs for every decoder
    outputs: list = [None] * len(rows)
    t0 = time.perf_counter()
    with torch.no_grad():
        for idx, wave, lengths in batch_waves(waves, 16):
            log_probs, out_lengths = model(wave, lengths)
            for j, i in enumerate(idx):
                outputs[i] = log_probs[j, : out_lengths[j]]
    net_s = time.perf_counter() - t0

    flashlight = FlashlightDecoder(model.tokenizer, DIGIT_VOCAB, beam=8)
    # the LM learns from random digit strings like the training corpus's, never from the test references
    rng = np.random.default_rng(0)
    lm_texts = [random_digit_text(rng) for _ in range(2000)]
    flashlight_lm = FlashlightDecoder(model.tokenizer, DIGIT_VOCAB, beam=8, lm_texts=lm_texts, lm_weight=0.5)
    decoders = {
        "greedy": lambda lp: ctc_greedy(lp.unsqueeze(0), None, model.tokenizer)[0],
        "prefix beam (8)": lambda lp: ctc_prefix_beam_search(lp, model.tokenizer, beam=8),
        "flashlight lexicon (8)": lambda lp: flashlight(lp.unsqueeze(0))[0],
        "flashlight lexicon + bigram (8)": lambda lp: flashlight_lm(lp.unsqueeze(0))[0],
    }
    print(f"\n{'decoder':34s} {'WER':>6s} {'CER':>6s} {'s per audio s':>14s}")
    print(f"{'(network: features + model)':34s} {'':6s} {'':6s} {net_s / audio_s:14.5f}")
    for name, decode in decoders.items():
        t0 = time.perf_counter()
        hyps = [decode(lp) for lp in outputs]
        dt = time.perf_counter() - t0
        print(f"{name:34s} {wer(refs, hyps):6.3f} {cer(refs, hyps):6.3f} {dt / audio_s:14.5f}")

    sphinx = PocketsphinxDigits()
    n = min(args.n_sphinx, len(rows))
    t0 = time.perf_counter()
    hyps = [sphinx.transcribe(r["audio_path"]) for r in rows[:n]]
    dt = time.perf_counter() - t0
    sub_audio = sum(len(w) for w in waves[:n]) / 16000
    print(f"\non the first {n} real strings:")
    for name in ("greedy", "flashlight lexicon (8)"):
        t0 = time.perf_counter()
        model_hyps = [decoders[name](lp) for lp in outputs[:n]]
        dt_dec = time.perf_counter() - t0
        label = f"course CTC model ({name.split(' (')[0]})"
        print(f"{label:34s} {wer(refs[:n], model_hyps):6.3f} {cer(refs[:n], model_hyps):6.3f} "
              f"{net_s / audio_s + dt_dec / sub_audio:14.5f}")
    print(f"{'pocketsphinx digit grammar':34s} {wer(refs[:n], hyps):6.3f} {cer(refs[:n], hyps):6.3f} {dt / sub_audio:14.5f}")


if __name__ == "__main__":
    main()
