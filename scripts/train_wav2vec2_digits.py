"""Train the course's offline speech recogniser: a tiny Wav2Vec2ForCTC for connected digits (session 05).

    python scripts/train_wav2vec2_digits.py --steps 200 --out /tmp/w2v   # a quick try

The shipped model (data/models/wav2vec2_digits) was made in two runs on a busy 2-core CPU, the
second continuing the first (its ``training.json`` records both):

    python scripts/train_wav2vec2_digits.py --minutes 40 --out /tmp/w2v_stage1       # 1398 steps
    python scripts/train_wav2vec2_digits.py --init /tmp/w2v_stage1 --steps 1100 --lr 1e-3 --minutes 26

Synthesizes (or reuses from the cache) the digit corpus of sessions 02-04 (espeak-ng, flite, piper
and hibari voices; the same held-out test voices, ``course_utils.asr.HELD_OUT_VOICES``), trains from
scratch (or from ``--init``) with ``transformers.Trainer`` (course_utils.hf_models), scores the model on the
held-out voices and on real human digit strings, and saves it with ``save_pretrained`` next to its
processor, plus ``training.json`` (how it was made and how well it does).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# On a shared, busy CPU, OpenMP threads that spin while waiting for each other make every step
# several times slower; passive waiting costs nothing measurable on an idle machine.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def main(argv=None) -> int:
    from course_utils.asr import DEFAULT_CORPUS_SIZE, DEFAULT_ENGINES
    from course_utils.hf_models import LOCAL_ASR_DIR

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=LOCAL_ASR_DIR, help="folder to save the model in (default: %(default)s)")
    ap.add_argument("--n", type=int, default=DEFAULT_CORPUS_SIZE, help="utterances in the synthetic corpus")
    ap.add_argument("--engines", nargs="+", default=list(DEFAULT_ENGINES), help="TTS engines to mix")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--minutes", type=float, default=None, help="stop after this much wall-clock time")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--augment", choices=["none", "light"], default="none",
                    help="light: random speed (0.9-1.1) and noise (15-40 dB SNR) on half the utterances")
    ap.add_argument("--threads", type=int, default=2, help="CPU threads for torch")
    ap.add_argument("--init", default=None, help="start from the model saved in this folder instead of from scratch")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--real", type=int, default=100, help="real human digit strings to test on (0: skip)")
    args = ap.parse_args(argv)

    import numpy as np
    import torch

    from course_utils.augment import add_noise, speed_perturb
    from course_utils.data import load_split, make_corpus, real_digit_set, read_manifest
    from course_utils.device import seed_everything
    from course_utils.hf_models import (Wav2Vec2Recognizer, build_wav2vec2_digits, load_wav2vec2, model_size_mb,
                                        save_wav2vec2, train_wav2vec2)
    from course_utils.text import DIGIT_VOCAB
    from course_utils.train import evaluate_asr

    torch.set_num_threads(args.threads)
    seed_everything(args.seed)
    start = time.perf_counter()
    cpu0 = time.process_time()

    def light(x, sr, rng):
        """Speed-perturb and add noise to half the utterances (cheap; masks do the rest)."""
        if rng.random() < 0.5:
            x = speed_perturb(x, float(rng.uniform(0.9, 1.1)))
            x = add_noise(x, float(rng.uniform(15, 40)), rng, color=("white", "pink")[int(rng.integers(2))])
        return x

    from course_utils.asr import HELD_OUT_VOICES

    manifest = make_corpus("digits", n=args.n, seed=args.seed, engines=tuple(args.engines),
                           test_voices=list(HELD_OUT_VOICES))
    train, valid, test = (load_split(manifest, s) for s in ("train", "valid", "test"))
    print(f"corpus: {len(train)} train / {len(valid)} valid / {len(test)} test utterances "
          f"({', '.join(args.engines)}), test voices held out", flush=True)

    if args.init:
        model, processor = load_wav2vec2(args.init)
        record = Path(args.init) / "training.json"
        previous = json.loads(record.read_text()) if record.is_file() else {}
    else:
        model, processor = build_wav2vec2_digits(seed=args.seed)
        previous = {}
    print(f"model: Wav2Vec2ForCTC, {sum(p.numel() for p in model.parameters()) / 1e6:.2f} M parameters", flush=True)
    history = train_wav2vec2(model, processor, train, steps=args.steps, minutes=args.minutes,
                             batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                             augment=light if args.augment == "light" else None, valid_rows=valid[:60],
                             evals=4, log=lambda line: print(line, flush=True))
    greedy, lexicon = Wav2Vec2Recognizer(model, processor), Wav2Vec2Recognizer(model, processor, lexicon=DIGIT_VOCAB)
    result = {"test_wer_held_out_voices": evaluate_asr(greedy, test)["wer"],
              "test_wer_held_out_voices_lexicon": evaluate_asr(lexicon, test)["wer"]}
    if args.real:
        real = read_manifest(real_digit_set(args.real, seed=0))
        result["real_wer_asterisk_digits"] = evaluate_asr(greedy, real)["wer"]
        result["real_wer_asterisk_digits_lexicon"] = evaluate_asr(lexicon, real)["wer"]
    meta = {
        "made_by": "scripts/train_wav2vec2_digits.py", "argv": sys.argv[1:] if argv is None else list(argv),
        "corpus": {"kind": "digits", "n": args.n, "seed": args.seed, "engines": args.engines,
                   "held_out_voices": list(HELD_OUT_VOICES),
                   "train": len(train), "valid": len(valid), "test": len(test)},
        "training": {"init": previous.get("training") and {k: previous[k] for k in ("argv", "training")},
                     "steps": history["steps"], "batch_size": args.batch_size, "lr": args.lr,
                     "augment": args.augment, "threads": args.threads,
                     "train_seconds": round(history["seconds"], 1),
                     "valid_wer": [round(w, 4) for w in history["valid_wer"]], "valid_step": history["valid_step"]},
        **{k: round(v, 4) for k, v in result.items()},
        "total_wall_seconds": round(time.perf_counter() - start, 1),
        "total_cpu_seconds": round(time.process_time() - cpu0, 1),
        "versions": {"torch": torch.__version__, "transformers": __import__("transformers").__version__,
                     "numpy": np.__version__},
    }
    out = save_wav2vec2(model, processor, args.out, meta)
    print(json.dumps({k: meta[k] for k in ("training", "total_wall_seconds", "total_cpu_seconds")}, indent=1))
    for key, value in result.items():
        print(f"{key}: WER {value:.3f}")
    print(f"saved {out} ({model_size_mb(out):.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
