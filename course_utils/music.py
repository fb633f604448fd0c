"""Music for session 08: notes rendered from soundfonts, real instrument samples, beats, chroma and key.

- :func:`write_midi` writes a standard MIDI file (format 0) from ``(start_s, duration_s, pitch,
  velocity)`` notes; :func:`render_notes` plays it through FluidSynth (Debian ``fluidsynth``) with a
  General MIDI soundfont: ``"fluid"`` (``fluid-soundfont-gm``, FluidR3) or ``"timgm"``
  (``timgm6mb-soundfont``). Two soundfonts = two "recording studios" for the same notes.
- :func:`instrument_notes`: one-second notes of :data:`INSTRUMENTS` from one soundfont, to train on.
- :func:`real_instrument_samples`: real recordings of some of those instruments (Debian
  ``sound-icons``, GPL-2+, and ``sonic-pi-samples``, CC0), to test on: the domain shift.
- :func:`estimate_key`: the Krumhansl-Schmuckler key finder on a chroma vector.
- :func:`beat_clicks`: a click at every beat, to *hear* whether a beat tracker got it right.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from course_utils import CACHE_DIR
from course_utils.audio import SAMPLE_RATE, load_audio

SOUNDFONTS = {"fluid": Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"), "timgm": Path("/usr/share/sounds/sf2/TimGM6mb.sf2")}
_SOUNDFONT_PACKAGES = {"fluid": "fluid-soundfont-gm", "timgm": "timgm6mb-soundfont"}
#: Instrument classes and their General MIDI program numbers (0-based) and playing range (MIDI pitches).
INSTRUMENTS = {"piano": (0, 40, 84), "harpsichord": (6, 41, 84), "xylophone": (13, 60, 96), "organ": (19, 36, 84),
               "guitar": (24, 40, 76), "strings": (42, 36, 72), "trumpet": (56, 55, 82), "flute": (73, 60, 96)}
PITCH_CLASSES = ["C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B"]
# Krumhansl & Kessler (1982) key profiles: how well each pitch class fits a major / minor key on C.
_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


# ----------------------------------------------------------------------------- MIDI
def _varlen(n: int) -> bytes:
    """Return ``n`` as a MIDI variable-length quantity."""
    out = [n & 0x7F]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7F))
        n >>= 7
    return bytes(reversed(out))


def write_midi(path: str | os.PathLike, notes: Sequence[tuple[float, float, int, int]], program: int = 0,
               channel: int = 0) -> Path:
    """Write ``notes`` ``(start_s, duration_s, pitch, velocity)`` for GM ``program`` as a MIDI file; return its path.

    Tempo 120 bpm, 480 ticks per beat (so 960 ticks per second). Channel 9 is drums in General MIDI.
    """
    tpb, ticks_per_s = 480, 960
    events = []  # (tick, order, bytes): note-offs sort before note-ons at the same tick
    for start, dur, pitch, vel in notes:
        if not 0 <= pitch <= 127 or not 1 <= vel <= 127 or dur <= 0 or start < 0:
            raise ValueError(f"bad note (start={start}, duration={dur}, pitch={pitch}, velocity={vel})")
        on, off = int(round(start * ticks_per_s)), int(round((start + dur) * ticks_per_s))
        events.append((on, 1, bytes([0x90 | channel, pitch, vel])))
        events.append((off, 0, bytes([0x80 | channel, pitch, 0])))
    track = bytearray(b"\x00\xff\x51\x03\x07\xa1\x20")                      # tempo: 500000 us per beat
    track += b"\x00" + bytes([0xC0 | channel, program])                     # program change
    last = 0
    for tick, _, msg in sorted(events):
        track += _varlen(tick - last) + msg
        last = tick
    track += b"\x00\xff\x2f\x00"                                            # end of track
    path = Path(path)
    path.write_bytes(b"MThd" + struct.pack(">IHHH", 6, 0, 1, tpb) + b"MTrk" + struct.pack(">I", len(track)) + bytes(track))
    return path


def render_notes(notes: Sequence[tuple[float, float, int, int]], program: int = 0, soundfont: str = "fluid",
                 sr: int = SAMPLE_RATE, channel: int = 0) -> np.ndarray:
    """Return mono float32 audio at ``sr`` of ``notes`` played by GM ``program`` from ``soundfont`` (cached)."""
    if soundfont not in SOUNDFONTS:
        raise ValueError(f"soundfont must be one of {list(SOUNDFONTS)}, got {soundfont!r}")
    sf2 = SOUNDFONTS[soundfont]
    if not sf2.is_file():
        raise FileNotFoundError(f"soundfont {sf2} not found: sudo apt-get install {_SOUNDFONT_PACKAGES[soundfont]}")
    if shutil.which("fluidsynth") is None:
        raise FileNotFoundError("fluidsynth not found: sudo apt-get install fluidsynth")
    key = hashlib.sha1(repr((list(notes), program, soundfont, sr, channel)).encode()).hexdigest()[:16]
    cached = Path(CACHE_DIR) / "music" / f"{soundfont}-{key}.npy"
    if cached.is_file():
        return np.load(cached)
    with tempfile.TemporaryDirectory() as tmp:
        mid = write_midi(Path(tmp) / "notes.mid", notes, program, channel)
        wav = Path(tmp) / "out.wav"
        done = subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.6", "-r", str(sr), "-F", str(wav), str(sf2), str(mid)],
                              capture_output=True, text=True, timeout=300)
        if done.returncode != 0 or not wav.is_file():
            raise RuntimeError(f"fluidsynth failed: {done.stderr.strip()[:200]}")
        x, _ = load_audio(wav, sr=sr)
    cached.parent.mkdir(parents=True, exist_ok=True)
    np.save(cached, x)
    return x


def instrument_notes(soundfont: str = "fluid", per_instrument: int = 24, seconds: float = 1.0, seed: int = 0,
                     sr: int = SAMPLE_RATE) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(clips (n, seconds*sr), labels (n,))``: single notes of every instrument in :data:`INSTRUMENTS`.

    Pitches are drawn from each instrument's range, velocities 50-120, note lengths 0.4-0.9 s;
    each clip starts at the note's onset. One FluidSynth run per instrument.
    """
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    clips, labels = [], []
    for name, (program, lo, hi) in INSTRUMENTS.items():
        notes = [(k * (seconds + 0.5), float(rng.uniform(0.4, 0.9)), int(rng.integers(lo, hi + 1)), int(rng.integers(50, 121)))
                 for k in range(per_instrument)]
        audio = render_notes(notes, program, soundfont, sr)
        for start, *_ in notes:
            a = int(start * sr)
            clip = np.pad(audio[a:a + n], (0, max(0, a + n - len(audio))))
            clips.append(0.5 * clip / max(float(np.abs(clip).max()), 1e-6))
            labels.append(name)
    return np.stack(clips).astype(np.float32), np.asarray(labels)


def real_instrument_samples(seconds: float = 1.0, sr: int = SAMPLE_RATE) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Return ``(clips, labels, names)``: real recorded notes of some :data:`INSTRUMENTS` from Debian packages.

    ``sound-icons`` (GPL-2+): piano, guitar, trumpet, cello, harpsichord ("cembalo"), xylophone;
    ``sonic-pi-samples`` (CC0): ambient piano, electric guitar. Each clip is the first ``seconds``
    of the recording's active part. Missing packages are skipped.
    """
    from course_utils.sounds import SONIC_PI_DIR, active_part

    icons = Path("/usr/share/sounds/sound-icons")
    wanted = [(icons, "piano-3.wav", "piano"), (icons, "guitar-12.wav", "guitar"), (icons, "guitar-13.wav", "guitar"),
              (icons, "trumpet-1.wav", "trumpet"), (icons, "trumpet-12.wav", "trumpet"),
              (icons, "violoncello-7.wav", "strings"), (icons, "xylofon.wav", "xylophone")]
    wanted += [(icons, f"cembalo-{k}.wav", "harpsichord") for k in (1, 2, 3, 6, 10, 11, 12)]
    wanted += [(SONIC_PI_DIR, "ambi_piano.flac", "piano"), (SONIC_PI_DIR, "guit_harmonics.flac", "guitar"),
               (SONIC_PI_DIR, "guit_e_fifths.flac", "guitar"), (SONIC_PI_DIR, "guit_em9.flac", "guitar")]
    n = int(seconds * sr)
    clips, labels, names = [], [], []
    for folder, name, label in wanted:
        if not (folder / name).is_file():
            continue
        x = active_part(load_audio(folder / name, sr=sr)[0], sr)[:n]
        x = np.pad(x, (0, n - len(x)))
        clips.append(0.5 * x / max(float(np.abs(x).max()), 1e-6))
        labels.append(label)
        names.append(name)
    if not clips:
        raise FileNotFoundError("no real instrument samples found: sudo apt-get install sound-icons sonic-pi-samples")
    return np.stack(clips).astype(np.float32), np.asarray(labels), names


# ----------------------------------------------------------------------------- harmony and rhythm
def estimate_key(chroma: np.ndarray) -> tuple[str, float]:
    """Return ``(key, correlation)`` such as ``("G major", 0.87)`` for a chroma vector (12,) or chromagram (12, frames).

    Krumhansl-Schmuckler: correlate the pitch-class profile with the major and minor key profiles
    rotated to each of the 12 tonics, and take the best.
    """
    c = np.asarray(chroma, dtype=np.float64)
    c = c.mean(axis=1) if c.ndim == 2 else c
    if c.shape != (12,):
        raise ValueError(f"chroma must have 12 pitch classes, got shape {np.shape(chroma)}")
    best = ("", -2.0)
    for mode, profile in (("major", _MAJOR), ("minor", _MINOR)):
        for tonic in range(12):
            r = float(np.corrcoef(c, np.roll(profile, tonic))[0, 1])
            if r > best[1]:
                best = (f"{PITCH_CLASSES[tonic]} {mode}", r)
    return best


def scale_notes(tonic: int = 60, mode: str = "major", step_s: float = 0.4) -> list[tuple[float, float, int, int]]:
    """Return the notes ``(start, duration, pitch, velocity)`` of a one-octave scale up and a tonic triad."""
    steps = [0, 2, 4, 5, 7, 9, 11, 12] if mode == "major" else [0, 2, 3, 5, 7, 8, 10, 12]
    notes = [(k * step_s, step_s * 0.9, tonic + s, 90) for k, s in enumerate(steps)]
    third = 4 if mode == "major" else 3
    t = len(steps) * step_s
    notes += [(t, 1.2, tonic + i, 80) for i in (0, third, 7)]
    return notes


def beat_clicks(beat_times: np.ndarray, n: int, sr: int = SAMPLE_RATE) -> np.ndarray:
    """Return ``n`` samples with a short 1 kHz click at every beat time (``librosa.clicks``)."""
    import librosa

    return librosa.clicks(times=np.asarray(beat_times), sr=sr, length=n, click_freq=1000.0).astype(np.float32)
