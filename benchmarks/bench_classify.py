"""Quality and speed of the session 07/08 models: keywords, speakers, sound events.

Run: python benchmarks/bench_classify.py  (about 2 minutes on 2 CPU cores; builds small corpora on first use)

Prints, for the shipped checkpoints in data/models/:
- keyword spotter: accuracy on held-out synthetic voices (espeak-ng variants never heard in training), on the
  real-speech check set (90 clips: 15 real digit recordings x 6 conditions) next to PocketSphinx with a one-word
  grammar over the same 20 words, and clips per second;
- speaker verification: EER of the course's x-vector model and of resemblyzer (if installed) on held-out synthetic
  speakers and on real recordings (Asterisk, LibriVox, cards, TIDIGITS);
- sound event detection: event- and segment-based F1 of the CRNN and of the energy baseline on 40 test soundscapes;
- environmental sounds: MFCC statistics + logistic regression, 5-fold CV grouped by recording.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from course_utils import classify as C  # noqa: E402
from course_utils import sed, sounds  # noqa: E402


def keywords() -> None:
    kws = C.load_model(C.KWS_CHECKPOINT)
    test = C.keyword_rows(C.keyword_corpus(n_keywords=1000, n_unknown=200, n_silence=80, engines=("espeak",)), "test")
    start = time.perf_counter()
    synth = C.evaluate_keywords(kws, test)
    speed = len(test) / (time.perf_counter() - start)
    real_rows = C.keyword_rows(C.real_keyword_set())
    real = C.evaluate_keywords(kws, real_rows, closed_set=True)
    sphinx = C.PocketsphinxWords(C.KEYWORDS)
    sphinx_acc = np.mean([sphinx.recognize(r["audio_path"]) == r["label"] for r in real_rows])
    print(f"keywords  held-out synthetic voices: accuracy {synth['accuracy']:.3f} (n={synth['n']}, 22 classes), "
          f"{speed:.0f} clips/s")
    print(f"keywords  real check set:            accuracy {real['accuracy']:.3f} (n={real['n']}); "
          f"PocketSphinx one-word grammar {sphinx_acc:.3f}")


def speakers() -> None:
    rows = C.manifest_rows(C.speaker_corpus(n_speakers=40, n_utts=6, engines=("espeak",), test_share=0.5))
    test = [r for r in rows if r["split"] == "test"]
    pairs, same = C.trial_pairs([r["speaker"] for r in test])
    real = C.real_speaker_set()
    rpairs, rsame = C.trial_pairs([r["speaker"] for r in real])
    models = {"x-vector (course)": C.load_model(C.SPEAKER_CHECKPOINT)}
    try:
        models["resemblyzer"] = C.Resemblyzer()
    except ImportError:
        print("speakers  resemblyzer not installed: skipped")
    for name, model in models.items():
        e1 = C.equal_error_rate(C.cosine_scores(C.embed_speakers(model, [r["audio_path"] for r in test]), pairs), same)[0]
        e2 = C.equal_error_rate(C.cosine_scores(C.embed_speakers(model, [r["path"] for r in real]), rpairs), rsame)[0]
        print(f"speakers  {name:>18}: EER {e1:.3f} on held-out synthetic ({len(pairs)} trials), "
              f"{e2:.3f} on real ({len(rpairs)} trials)")


def events() -> None:
    _, train_ann, test_waves, test_ann = sed.sed_benchmark(n_train=100, n_test=40)
    model = sed.load_crnn()
    est, _ = sed.detect_events(model, sed.sed_features(test_waves))
    common = Counter(e["label"] for a in train_ann for e in a).most_common(1)[0][0]
    base = sed.energy_baseline(test_waves, common)
    for name, e in (("CRNN", est), ("energy baseline", base)):
        print(f"sed       {name:>15}: event F1 {sed.event_based_scores(test_ann, e)['f1']:.3f}, "
              f"segment F1 {sed.segment_based_scores(test_ann, e, 10.0)['f1']:.3f}")


def environmental() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    clips, labels, groups = sounds.clips_from_sources(sounds.sound_collection(), per_file=3)
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=3000))
    pred = cross_val_predict(clf, sounds.mfcc_statistics(clips), labels, cv=GroupKFold(5), groups=groups)
    print(f"sounds    MFCC stats + logistic regression: accuracy {np.mean(pred == labels):.3f} "
          f"({len(clips)} clips, {len(set(labels))} classes, grouped 5-fold CV)")


if __name__ == "__main__":
    torch.set_num_threads(min(2, torch.get_num_threads()))
    for part in (keywords, speakers, events, environmental):
        t = time.perf_counter()
        part()
        print(f"          ({part.__name__}: {time.perf_counter() - t:.0f} s)")
