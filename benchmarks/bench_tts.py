"""Speed of the TTS voices: real-time factor (seconds of computing per second of speech).

    python benchmarks/bench_tts.py                 # the course voice, split by stage
    python benchmarks/bench_tts.py --all           # every voice installed here

The course voice's budget is RTF <= 0.2 on 2 CPU cores; its last line says whether it holds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

SENTENCES = [
    "The museum opens at nine and closes early on Sundays.",
    "Turn left at the bridge, then follow the river to the old mill.",
    "Dr. Smith paid $3.50 on 12 March 2024 at 10:30.",
    "three one four one five nine two six",
    "Could you please send me the report before Friday afternoon?",
    "A gentle breeze moved through the tall grass near the lake.",
    "seven oh two five",
    "We will need about 25 chairs and 4 tables for the party.",
]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--all", action="store_true", help="time every voice installed here, not only the course voice")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeat", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)

    from course_utils import tts, tts_text

    course = tts.get_voice("course")
    course("Warm up.")                                     # first calls load libraries: not timed
    t_text = t_model = t_voc = 0.0
    audio_s = 0.0
    cpu0 = time.process_time()
    for _ in range(args.repeat):
        for s in SENTENCES:
            t0 = time.perf_counter()
            tts_text.phonemize(s)
            t1 = time.perf_counter()
            mel = course.mel(s)
            t2 = time.perf_counter()
            wave = course.vocoder(mel)
            t3 = time.perf_counter()
            t_text += t1 - t0
            t_model += t2 - t1 - (t1 - t0)               # course.mel phonemizes again inside
            t_voc += t3 - t2
            audio_s += len(wave) / course.sample_rate
    total = t_text + t_model + t_voc
    cpu = time.process_time() - cpu0
    print(f"course voice on {args.threads} threads, {len(SENTENCES) * args.repeat} sentences, {audio_s:.1f} s of speech")
    print(f"  front end (normalise + espeak-ng G2P)  RTF {t_text / audio_s:.4f}")
    print(f"  FastSpeech (text -> mel)               RTF {t_model / audio_s:.4f}")
    print(f"  Griffin-Lim, 32 iterations             RTF {t_voc / audio_s:.4f}")
    if args.all:
        for name in tts.VOICES:
            if name == "course" or not tts.voice_available(name):
                continue
            v = tts.get_voice(name)
            v("Warm up.")
            rtf, _ = tts.real_time_factor(v, SENTENCES)
            print(f"  {name:13s} RTF {rtf:.3f}")
    verdict = "within" if total / audio_s <= 0.2 else "OVER"
    print(f"  (CPU time per second of speech: {cpu / audio_s:.3f}; wall time counts a busy machine's waiting too)")
    print(f"course voice RTF {total / audio_s:.3f} ({verdict} the 0.2 budget)")


if __name__ == "__main__":
    main()
