"""Classical baselines to measure the course's models against.

- ``PocketsphinxDigits``: CMU PocketSphinx (an HMM/GMM recogniser, Huggins-Daines et al. 2006)
  with its bundled US-English acoustic model and dictionary, restricted by a JSGF grammar to
  connected digit strings ("zero".."nine", "oh"). No training, no network: a living example of
  how ASR was done before end-to-end models.
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

from course_utils.audio import SAMPLE_RATE, check_audio, load_audio, resample, to_mono
from course_utils.text import DIGIT_VOCAB

_GRAMMAR = """#JSGF V1.0;
grammar digits;
public <digits> = <digit>+;
<digit> = {words};
"""


class PocketsphinxDigits:
    """PocketSphinx constrained to digit strings: ``transcribe(path_or_array, sr) -> "three one four"``."""

    def __init__(self, words=DIGIT_VOCAB):
        try:
            from pocketsphinx import Config, Decoder, get_model_path
        except ImportError:
            raise ImportError("PocketsphinxDigits needs the pocketsphinx package: pip install pocketsphinx") from None
        model = os.path.join(get_model_path(), "en-us")
        self.words = list(words)
        with tempfile.TemporaryDirectory(prefix="digits_jsgf_") as tmp:  # read once, when the decoder starts
            grammar = os.path.join(tmp, "digits.gram")
            with open(grammar, "w") as f:
                f.write(_GRAMMAR.format(words=" | ".join(self.words)))
            config = Config(hmm=os.path.join(model, "en-us"), dict=os.path.join(model, "cmudict-en-us.dict"),
                            lm=None, jsgf=grammar, loglevel="FATAL", samprate=SAMPLE_RATE)
            self._decoder = Decoder(config)

    def transcribe(self, audio, sr: int | None = None) -> str:
        """Return the digit words recognised in ``audio``: a file path, or samples at rate ``sr``."""
        if isinstance(audio, (str, os.PathLike)):
            x, _ = load_audio(audio, sr=SAMPLE_RATE)
        else:
            if sr is None:
                raise ValueError("PocketsphinxDigits.transcribe: give sr= with an array of samples")
            x = resample(to_mono(check_audio(audio, sr=sr)), sr, SAMPLE_RATE)
        pcm = (np.clip(x, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
        self._decoder.start_utt()
        self._decoder.process_raw(pcm, full_utt=True)
        self._decoder.end_utt()
        hyp = self._decoder.hyp()
        return " ".join(hyp.hypstr.split()) if hyp is not None else ""
