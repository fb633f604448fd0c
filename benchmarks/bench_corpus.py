"""How fast the course makes its speech data.

Prints the time to generate a 2,000-utterance digit corpus with espeak-ng from a cold cache (into
a temporary folder), the time a cached call takes, and the per-utterance speed of each TTS engine
installed here (after one warm-up call, which loads the engine).

    python benchmarks/bench_corpus.py            # --n 500 for a quicker run
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from course_utils.data import available_engines, make_corpus, read_manifest, synthesize, voices  # noqa: E402


def time_corpus(n: int) -> None:
    """Print the cold and cached times of make_corpus for ``n`` espeak digit strings."""
    with tempfile.TemporaryDirectory() as root:
        start = time.perf_counter()
        manifest = make_corpus("digits", n=n, seed=0, root=root)
        cold = time.perf_counter() - start
        start = time.perf_counter()
        make_corpus("digits", n=n, seed=0, root=root)
        cached = time.perf_counter() - start
        rows = read_manifest(manifest)
        audio_s = sum(r["duration"] for r in rows)
        print(f"make_corpus digits n={n} espeak, cold: {cold:.1f} s ({1000 * cold / n:.1f} ms per utterance, "
              f"{audio_s / 60:.1f} min of audio, {os.cpu_count()} CPUs); cached: {1000 * cached:.1f} ms")


def time_engines(repeats: int) -> None:
    """Print the per-utterance synthesis time of every available engine."""
    text = "three one four oh five nine two"
    for engine in available_engines():
        names = voices(engine)
        start = time.perf_counter()
        synthesize(text, names[0], engine)  # loads the engine
        load = time.perf_counter() - start
        start = time.perf_counter()
        audio_s = 0.0
        for i in range(repeats):
            x = synthesize(text, names[i % len(names)], engine, rate=150 + 5 * i, seed=i)
            audio_s += len(x) / 16000
        per = (time.perf_counter() - start) / repeats
        print(f"{engine:7s} {len(names):4d} voices: {1000 * per:7.1f} ms per 7-digit utterance "
              f"({audio_s / repeats / per:5.0f}x real time; first call {load:.2f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="utterances in the corpus timed")
    parser.add_argument("--repeats", type=int, default=20, help="utterances per engine")
    args = parser.parse_args()
    time_corpus(args.n)
    time_engines(args.repeats)
