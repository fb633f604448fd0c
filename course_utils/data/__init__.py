"""Speech data for the course, all made or found offline.

- :mod:`.synth`: text to speech (espeak-ng, flite, piper, hibari) -> float32 arrays.
- :mod:`.corpus`: synthetic digit-string and command corpora with a speaker-independent split.
- :mod:`.realspeech`: real human recordings from Debian packages, to test on real voices.
- :mod:`.manifest`: the JSON-lines manifest every corpus is described by.
- :mod:`.dataset`: a torch Dataset over manifest rows and a padding collate function.

    from course_utils.data import make_corpus, load_split, SpeechDataset, collate_speech
    manifest = make_corpus("digits", n=2000, engines=("espeak", "piper", "hibari"))
    train = SpeechDataset(load_split(manifest, "train"))
"""

from .corpus import COMMAND_LABELS, SPLITS, load_split, make_corpus, plan_corpus, speaker_group
from .manifest import ManifestError, read_manifest, write_manifest
from .realspeech import asterisk_digit_path, real_digit_set, real_speech_samples
from .synth import ENGINES, available_engines, espeak_voices, synthesize, trim_silence, voices

__all__ = [
    "COMMAND_LABELS", "ENGINES", "SPLITS", "ManifestError", "SpeechDataset", "asterisk_digit_path",
    "available_engines", "collate_speech", "espeak_voices", "load_split", "make_corpus", "plan_corpus",
    "read_manifest", "real_digit_set", "real_speech_samples", "speaker_group", "synthesize", "trim_silence",
    "voices", "write_manifest",
]


def __getattr__(name: str):
    # The Dataset needs torch: import it on first use, so corpus worker processes start quickly.
    if name in ("SpeechDataset", "collate_speech"):
        from . import dataset

        return getattr(dataset, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
