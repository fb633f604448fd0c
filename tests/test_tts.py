"""Tests for session 06: text normaliser, phonemiser, FastSpeech, vocoders and the TTS command line."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils import tts_text
from course_utils.tts_text import TextError, normalize, number_to_words, ordinal, phonemize, year_to_words

REPO = Path(__file__).resolve().parents[1]
CHECKPOINT = REPO / "data" / "models" / "tts_fastspeech.pt"


# ----------------------------------------------------------------------------- normaliser
@pytest.mark.parametrize("written, said", [
    ("Dr. Smith paid $3.50 on 12 March 2024 at 10:30",
     "Doctor Smith paid three dollars and fifty cents on the twelfth of March twenty twenty-four at ten thirty"),
    ("It costs $1.5 million.", "It costs one point five million dollars."),
    ("$0.99 and $1.00 and £2", "ninety-nine cents and one dollar and two pounds"),
    ("On March 3rd, 1999 at 7:05 pm", "On March third, nineteen ninety-nine at seven oh five p m"),
    ("2024-03-12", "March twelfth, twenty twenty-four"),
    ("on the 12th of March", "on the twelfth of March"),
    ("the 21st and 102nd time", "the twenty-first and one hundred second time"),
    ("50% of 1,234,567", "fifty percent of one million two hundred thirty-four thousand five hundred sixty-seven"),
    ("3.14 km and 5 kg", "three point one four kilometers and five kilograms"),
    ("Mr. Jones lives on Elm St.", "Mister Jones lives on Elm Street."),
    ("St. Louis, e.g. rock & roll, etc.", "Saint Louis, for example rock and roll, et cetera."),
    ("Flight 007 leaves at 6am", "Flight zero zero seven leaves at six a m"),
    ("It was -5 degrees in 2005", "It was minus five degrees in two thousand five"),
    ("I said no.", "I said no."),
    ("5 in the box", "five in the box"),
])
def test_normalize_expands_hard_cases(written, said):
    assert normalize(written) == said


def test_number_words_ordinals_and_years():
    assert number_to_words(0) == "zero"
    assert number_to_words(115) == "one hundred fifteen"
    assert number_to_words(2_000_000_001) == "two billion one"
    assert ordinal(12) == "twelfth" and ordinal(40) == "fortieth" and ordinal(93) == "ninety-third"
    assert year_to_words(1900) == "nineteen hundred" and year_to_words(1905) == "nineteen oh five"
    assert year_to_words(2000) == "two thousand"


# ----------------------------------------------------------------------------- phonemiser
def test_phonemize_keeps_stress_words_and_punctuation():
    ipa = phonemize("Hello, world!")
    assert ipa.startswith("həlˈoʊ,") and ipa.endswith("!")
    assert "ˈ" in ipa and " " in ipa


def test_phonemize_reads_numbers_through_the_normaliser():
    assert phonemize("3") == phonemize("three")


def test_phonemize_rejects_empty_and_unpronounceable_text():
    for bad in ["", "   ", "!!! ...", "---", "日本語"]:
        with pytest.raises(TextError):
            phonemize(bad)


def test_text_to_ids_round_trip():
    ids = tts_text.text_to_ids("Hi there.")
    assert ids[0] == tts_text.SYMBOLS.index("^") and ids[-1] == tts_text.SYMBOLS.index("$")
    assert tts_text.ids_to_phonemes(ids[1:-1]) == phonemize("Hi there.")


def test_dictionary_phonemize_flags_unknown_words():
    ipa, unknown = tts_text.dictionary_phonemize("the blorfish tomato")
    assert unknown == ["blorfish"] and "<blorfish>" in ipa and ipa.startswith("ð")
    assert tts_text.arpabet_to_ipa("HH AH0 L OW1") == "hʌlˈoʊ"


# ----------------------------------------------------------------------------- the model
def _tiny_model():
    from course_utils.models.fastspeech import FastSpeech, FastSpeechConfig

    torch.manual_seed(0)
    return FastSpeech(FastSpeechConfig(n_symbols=len(tts_text.SYMBOLS), d_model=32, n_enc=1, n_dec=1, ff_mult=2,
                                       predictor_channels=32, postnet_channels=32, postnet_layers=2, dropout=0.0))


def test_length_regulator_repeats_each_phoneme_its_duration():
    from course_utils.models.fastspeech import length_regulate

    x = torch.arange(3.0)[None, :, None].expand(2, 3, 4)                 # (B=2, N=3, d=4), row i holds i
    d = torch.tensor([[2, 0, 3], [1, 1, 1]])
    frames, mask, where = length_regulate(x, d)
    assert frames.shape == (2, 5, 4)
    assert frames[0, :, 0].tolist() == [0, 0, 2, 2, 2]
    assert frames[1, :3, 0].tolist() == [0, 1, 2] and mask[1].tolist() == [True] * 3 + [False] * 2
    assert 0 < where[0, 0] < where[0, 1] < 1


def test_fastspeech_shapes_and_controls():
    model = _tiny_model().eval()
    ids = torch.tensor(tts_text.text_to_ids("Good morning."))
    mel = model.synthesize(ids)
    assert mel.shape[0] == 80 and mel.shape[1] >= 1
    out = model(ids[None], torch.tensor([len(ids)]), durations=torch.full((1, len(ids)), 3))
    assert out["mel_post"].shape == (1, 3 * len(ids), 80)
    slow = model(ids[None], torch.tensor([len(ids)]), durations=None, rate=0.5)["durations"].sum()
    fast = model(ids[None], torch.tensor([len(ids)]), durations=None, rate=2.0)["durations"].sum()
    assert slow >= fast


def test_fastspeech_overfits_one_batch():
    model = _tiny_model()
    ids = torch.tensor(tts_text.text_to_ids("Hello there."))[None]
    N = ids.shape[1]
    dur = torch.full((1, N), 2)
    batch = {"ids": ids, "lengths": torch.tensor([N]), "durations": dur, "energy": torch.zeros(1, N),
             "f0": torch.zeros(1, 2 * N), "voiced": torch.ones(1, 2 * N), "mel": torch.randn(1, 2 * N, 80) * 2 - 5}
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    first = None
    for _ in range(60):
        loss = model.loss(batch)
        first = first if first is not None else float(loss.detach())
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert float(loss.detach()) < 0.5 * first


# ----------------------------------------------------------------------------- vocoders
def test_griffin_lim_recovers_a_waveform_from_its_magnitude():
    from course_utils.vocoders import MelConfig, griffin_lim, spectral_convergence

    cfg = MelConfig()
    t = np.arange(cfg.sample_rate // 2) / cfg.sample_rate
    x = torch.tensor(0.5 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * 660 * t), dtype=torch.float32)
    win = torch.hann_window(cfg.n_fft)
    mag = torch.stft(x, cfg.n_fft, cfg.hop_length, window=win, return_complex=True).abs()
    y, history = griffin_lim(mag, cfg, n_iter=30, length=len(x), return_history=True)
    rebuilt = torch.stft(y, cfg.n_fft, cfg.hop_length, window=win, return_complex=True).abs()
    assert y.shape == x.shape
    assert history[-1] < history[0] - 6 and spectral_convergence(rebuilt, mag) < -12


def test_mel_to_audio_gives_speech_length_audio():
    from course_utils.vocoders import MelConfig, log_mel, mel_to_audio

    cfg = MelConfig()
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(cfg.sample_rate) * 0.1).astype(np.float32)
    y = mel_to_audio(log_mel(x, cfg), cfg, n_iter=4)
    assert abs(len(y) - len(x)) <= cfg.hop_length and y.dtype == np.float32 and np.abs(y).max() <= 1


def test_mu_law_round_trip_and_receptive_field():
    from course_utils.vocoders import CausalDilatedStack, mu_law_decode, mu_law_encode, receptive_field

    x = np.linspace(-1, 1, 1001)
    codes = mu_law_encode(x)
    assert codes.min() == 0 and codes.max() == 255
    assert np.abs(mu_law_decode(codes) - x).max() < 0.04                  # coarse steps near +-1 ...
    small = np.linspace(-0.01, 0.01, 101)
    assert np.abs(mu_law_decode(mu_law_encode(small)) - small).max() < 4e-4  # ... 10x finer than 8-bit linear near 0
    assert receptive_field(2, [1, 2, 4, 8]) == 16
    stack = CausalDilatedStack(channels=4, dilations=[1, 2, 4])
    z = torch.randn(1, 4, 32)
    a = stack(z)
    z2 = z.clone()
    z2[..., 20:] = 0                                                     # the future must not leak back
    assert torch.allclose(stack(z2)[..., :20], a[..., :20], atol=1e-6)


# ----------------------------------------------------------------------------- command line
def _run(*args, cwd=REPO):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "course_utils.tts", "synthesize", *args], capture_output=True,
                          text=True, cwd=cwd, env=env, timeout=120)


@pytest.mark.skipif(not CHECKPOINT.is_file(), reason="the course voice checkpoint is not built")
def test_cli_writes_16bit_mono_wavs_and_reports_rtf(tmp_path):
    import soundfile as sf

    texts = tmp_path / "lines.txt"
    texts.write_text("Hello there.\nthree one oh four\nDr. Smith paid $3.50.\n", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    done = _run("--voice", "course", "--texts", str(texts), "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert re.match(r"^RTF \d+\.\d{3} \(lines=3, audio=\d+\.\d s\)$", done.stdout.strip().splitlines()[-1])
    files = sorted(out.glob("*.wav"))
    assert [f.name for f in files] == ["0000.wav", "0001.wav", "0002.wav"]
    for f in files:
        info = sf.info(f)
        assert info.channels == 1 and info.subtype == "PCM_16" and info.samplerate == 22050 and info.duration > 0.3


@pytest.mark.parametrize("content, voice, out_kind, expected", [
    ("Hello.\n\nBye.\n", "espeak", "ok", r"line 2: the line is empty"),
    ("Hello.\n### *** ...\n", "espeak", "ok", r"line 2: nothing pronounceable"),
    ("Hello.\n", "robot", "ok", r"unknown voice 'robot'"),
    ("Hello.\n", "espeak", "missing", r"does not exist"),
    ("Hello.\n", "espeak", "readonly", r"not writable"),
    ("Hello.\n", "espeak", "file", r"is not a directory"),
])
def test_cli_rejects_bad_input_in_one_line_before_writing(tmp_path, content, voice, out_kind, expected):
    texts = tmp_path / "lines.txt"
    texts.write_text(content, encoding="utf-8")
    out = tmp_path / "out"
    if out_kind == "file":
        out.write_text("not a folder")
    elif out_kind != "missing":
        out.mkdir()
    if out_kind == "readonly":
        if os.geteuid() == 0:
            pytest.skip("root can write anywhere")
        out.chmod(0o500)
    done = _run("--voice", voice, "--texts", str(texts), "--out", str(out))
    assert done.returncode != 0
    lines = [ln for ln in done.stderr.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and re.search(expected, lines[0]), done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert not (out.is_dir() and any(out.iterdir()))
