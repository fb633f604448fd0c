"""Session 07: keyword spotter and speaker models, EER, streaming detection, and the classify command line."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from course_utils.audio import save_audio
from course_utils.classify import (KEYWORDS, cosine_scores, detect_keywords, equal_error_rate, fit, load_model,
                                   predict_keywords, save_model, trial_pairs)
from course_utils.models.kws import KWS_LABELS, KeywordSpotter, KWSConfig
from course_utils.models.speaker import SpeakerConfig, SpeakerEncoder

REPO = Path(__file__).resolve().parents[1]
SR = 16000


@pytest.fixture(autouse=True)
def one_thread():
    """Run each test on one CPU thread (these models are small; extra threads only contend), then restore."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _tone(f: float, seconds: float = 0.5, seed: int = 0) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    rng = np.random.default_rng(seed)
    return (0.3 * np.sin(2 * np.pi * f * t) + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


# ----------------------------------------------------------------------------- models
def test_keyword_spotter_gives_one_logit_per_class():
    model = KeywordSpotter().eval()
    logits, loss = model(torch.randn(3, SR) * 0.1)
    assert logits.shape == (3, len(KWS_LABELS)) and loss is None
    assert model.labels[-2:] == ["_unknown_", "_silence_"]


def test_keyword_spotter_ignores_padding():
    model = KeywordSpotter().eval()
    x = torch.randn(1, 12000) * 0.1
    padded = torch.cat([x, torch.zeros(1, 4000)], dim=1)
    with torch.no_grad():
        alone = model(x)[0]
        batch = model(torch.cat([padded, torch.randn(1, 16000) * 0.1]), torch.tensor([12000, 16000]))[0]
    assert torch.allclose(alone[0], batch[0], atol=1e-4)


def test_keyword_spotter_overfits_four_tones():
    torch.manual_seed(0)
    model = KeywordSpotter(KWSConfig(labels=["a", "b", "c", "d"], spec_augment=False, dropout=0.0))
    wave = torch.from_numpy(np.stack([_tone(f, 1.0, seed=i) for i, f in enumerate([300, 700, 1500, 2500])]))
    labels = torch.arange(4)
    hist = fit(model, lambda step: (wave, labels), lambda m, b: m(b[0], labels=b[1])[1], steps=40, lr=3e-3,
               live_plot=False, progress=False)
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]
    with torch.no_grad():
        assert (model(wave)[0].argmax(1) == labels).all()


def test_speaker_encoder_embeddings_are_unit_length_and_learn():
    torch.manual_seed(0)
    model = SpeakerEncoder(SpeakerConfig(n_speakers=3, channels=32, embedding_dim=16, spec_augment=False))
    wave = torch.from_numpy(np.stack([_tone(f, 0.6, seed=k) for k in range(2) for f in (200, 900, 2000)]))
    speakers = torch.tensor([0, 1, 2, 0, 1, 2])
    with torch.no_grad():
        emb = model.eval()(wave)
    assert emb.shape == (6, 16)
    assert torch.allclose(emb.norm(dim=1), torch.ones(6), atol=1e-5)
    hist = fit(model, lambda step: (wave, speakers), lambda m, b: m.loss(m(b[0]), b[1]), steps=30, lr=3e-3,
               live_plot=False, progress=False)
    assert hist["loss"][-1] < 0.5 * hist["loss"][0]


def test_predict_keywords_takes_short_and_long_clips():
    model = KeywordSpotter().eval()
    rng = np.random.default_rng(0)
    long_noisy = (0.05 * rng.standard_normal(3 * SR)).astype(np.float32)          # 3 s: read as a stream
    labels, probs = predict_keywords(model, [long_noisy, _tone(500, 0.4)], allowed=KEYWORDS)
    assert probs.shape == (2, len(KWS_LABELS)) and np.allclose(probs.sum(1), 1, atol=1e-4)
    assert all(w in KEYWORDS for w in labels)


def test_checkpoint_round_trip(tmp_path):
    model = KeywordSpotter().eval()
    path = save_model(model, tmp_path / "kws.pt", {"note": "test"})
    again = load_model(path)
    x = torch.randn(2, SR) * 0.1
    with torch.no_grad():
        assert torch.allclose(model(x)[0], again(x)[0], atol=1e-6)
    assert again.meta == {"note": "test"}


# ----------------------------------------------------------------------------- verification metrics
def test_eer_matches_sklearn_roc_curve():
    from sklearn.metrics import roc_curve

    rng = np.random.default_rng(0)
    same = rng.random(2000) < 0.3
    scores = np.where(same, rng.normal(1.0, 1.0, same.size), rng.normal(-0.5, 1.0, same.size))
    eer, threshold = equal_error_rate(scores, same)
    fpr, tpr, _ = roc_curve(same, scores)
    fnr = 1 - tpr
    k = np.nanargmin(np.abs(fnr - fpr))
    assert abs(eer - (fpr[k] + fnr[k]) / 2) < 2.0 / min(same.sum(), (~same).sum())
    far = np.mean(scores[~same] >= threshold)
    frr = np.mean(scores[same] < threshold)
    assert abs(far - eer) < 0.01 and abs(frr - eer) < 0.01


def test_eer_is_zero_when_scores_separate_and_half_when_they_tie():
    same = np.array([1, 1, 0, 0], bool)
    assert equal_error_rate([0.9, 0.8, 0.1, 0.2], same)[0] == 0.0
    assert equal_error_rate([0.5, 0.5, 0.5, 0.5], same)[0] == pytest.approx(0.5)


def test_eer_rejects_pairs_of_one_kind():
    with pytest.raises(ValueError, match="both"):
        equal_error_rate([0.1, 0.2], [True, True])


def test_trial_pairs_cover_all_pairs_or_a_fixed_sample():
    speakers = ["a", "a", "b", "b", "c"]
    pairs, same = trial_pairs(speakers)
    assert len(pairs) == 10 and same.sum() == 2
    many = [str(i % 20) for i in range(200)]
    p1, s1 = trial_pairs(many, max_pairs=500, seed=3)
    p2, s2 = trial_pairs(many, max_pairs=500, seed=3)
    assert len(p1) == 500 and np.array_equal(p1, p2) and s1.sum() == 250
    assert np.all(np.array(many)[p1[:, 0]][s1] == np.array(many)[p1[:, 1]][s1])


def test_cosine_scores_of_identical_vectors_are_one():
    e = np.array([[1.0, 0.0], [2.0, 0.0], [0.0, 3.0]])
    assert np.allclose(cosine_scores(e, np.array([[0, 1], [0, 2]])), [1.0, 0.0])


def test_detect_keywords_fires_once_per_peak():
    labels = ["yes", "no", "_unknown_", "_silence_"]
    times = np.arange(50) * 0.1
    post = np.zeros((50, 4))
    post[:, 3] = 1.0
    post[10:15, 0], post[10:15, 3] = 0.9, 0.1   # "yes" around 1.2 s
    post[30:34, 1], post[30:34, 3] = 0.8, 0.2   # "no" around 3.1 s
    found = detect_keywords(times, post, labels, threshold=0.5)
    assert [w for _, w, _ in found] == ["yes", "no"]
    assert abs(found[0][0] - 1.2) < 0.25 and abs(found[1][0] - 3.15) < 0.25


# ----------------------------------------------------------------------------- command line
def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "course_utils.classify", *args], capture_output=True, text=True,
                          cwd=REPO, timeout=180, env=env)


@pytest.fixture(scope="module")
def cli_data(tmp_path_factory):
    """A folder with small checkpoints (untrained: the CLI's plumbing is under test) and labelled clips."""
    d = tmp_path_factory.mktemp("cli")
    torch.manual_seed(0)
    save_model(KeywordSpotter().eval(), d / "kws.pt")
    save_model(SpeakerEncoder(SpeakerConfig(n_speakers=2)).eval(), d / "spk.pt")
    (d / "audio").mkdir()
    rows = []
    for i, (word, spk, f) in enumerate([("yes", "ann", 300), ("seven", "ann", 320), ("stop", "bob", 900),
                                        ("zero", "bob", 950)]):
        save_audio(d / "audio" / f"{i}.wav", _tone(f, 0.8, seed=i), SR if i % 2 else 8000)
        rows.append({"path": f"audio/{i}.wav", "label": word, "speaker": spk})
    (d / "manifest.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    (d / "broken.wav").write_text("not audio")
    return d


def _write(d: Path, name: str, rows: list[dict]) -> str:
    (d / name).write_text("".join(json.dumps(r) + "\n" for r in rows))
    return str(d / name)


def test_cli_evaluate_prints_accuracy_last(cli_data):
    out = _cli("evaluate", "--task", "keywords", "--manifest", str(cli_data / "manifest.jsonl"),
               "--checkpoint", str(cli_data / "kws.pt"))
    assert out.returncode == 0, out.stderr
    assert re.fullmatch(r"accuracy \d\.\d{3} \(n=4\)", out.stdout.strip().splitlines()[-1])


def test_cli_verify_prints_eer_last(cli_data):
    out = _cli("verify", "--manifest", str(cli_data / "manifest.jsonl"), "--model", "course",
               "--checkpoint", str(cli_data / "spk.pt"))
    assert out.returncode == 0, out.stderr
    assert re.fullmatch(r"EER \d\.\d{3} \(pairs=6\)", out.stdout.strip().splitlines()[-1])


def _assert_one_line_error(out: subprocess.CompletedProcess, *needles: str) -> None:
    assert out.returncode != 0
    assert "Traceback" not in out.stderr + out.stdout
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    for n in needles:
        assert n in lines[0], lines[0]


def test_cli_bad_inputs_give_one_line_naming_the_row(cli_data):
    d = cli_data
    kws = ["--checkpoint", str(d / "kws.pt")]
    good = {"path": "audio/0.wav", "label": "yes", "speaker": "ann"}
    _assert_one_line_error(_cli("evaluate", "--manifest", str(d / "missing.jsonl"), *kws), "missing.jsonl", "not found")
    m = _write(d, "nolabel.jsonl", [good, {"path": "audio/1.wav"}])
    _assert_one_line_error(_cli("evaluate", "--manifest", m, *kws), "line 2", "label")
    m = _write(d, "badaudio.jsonl", [good, good, {"path": "broken.wav", "label": "no"}])
    _assert_one_line_error(_cli("evaluate", "--manifest", m, *kws), "line 3", "audio")
    m = _write(d, "vocab.jsonl", [good, {"path": "audio/1.wav", "label": "banana"}])
    _assert_one_line_error(_cli("evaluate", "--manifest", m, *kws), "line 2", "banana")
    m = _write(d, "onespeaker.jsonl", [good, {**good, "path": "audio/1.wav"}])
    _assert_one_line_error(_cli("verify", "--manifest", m, "--model", "course", "--checkpoint", str(d / "spk.pt")),
                           "two speakers")
    _assert_one_line_error(_cli("tag", str(d / "audio" / "0.wav"), str(d / "broken.wav")), "broken.wav")
    m = _write(d, "nospeaker.jsonl", [good, {"path": "audio/1.wav", "label": "no"}])
    _assert_one_line_error(_cli("verify", "--manifest", m, "--model", "course"), "line 2", "speaker")


def test_keyword_vocabulary_is_digits_and_commands():
    assert len(KEYWORDS) == 20 and "zero" in KEYWORDS and "stop" in KEYWORDS


# ----------------------------------------------------------------------------- shipped models, helpers
def test_checkpoints_record_the_command_that_made_them():
    import argparse

    from course_utils import classify

    args = argparse.Namespace(argv=["train", "--task", "keywords", "--minutes", "12"])
    assert classify._command(args) == "python -m course_utils.classify train --task keywords --minutes 12"
    # both models ship in data/models/: each must say how it was made
    assert classify.KWS_CHECKPOINT.stat().st_size <= 10 * 2**20
    meta = load_model(classify.KWS_CHECKPOINT).meta
    assert meta["command"].startswith("python -m course_utils.classify train --task keywords")
    assert meta["test_accuracy"] >= 0.95
    record = classify.HF_KWS_DIR / "training.json"
    assert record.is_file(), "the tiny AST must say how it was made"
    assert json.loads(record.read_text())["command"].startswith("python -m course_utils.classify train --task hf-keywords")


def test_course_classifier_is_the_offline_audio_classification_model():
    from course_utils import classify, pipelines

    classify.register_course_classifier()
    assert Path(pipelines.LOCAL_MODELS["audio-classification"]) == classify.HF_KWS_DIR


def test_conversation_reads_manifest_rows_by_their_audio_path(tmp_path):
    from course_utils.classify import conversation

    rows = []
    for i, (spk, f) in enumerate([("ann", 300), ("bob", 900), ("ann", 320)]):
        save_audio(tmp_path / f"{i}.wav", _tone(f, 0.5, seed=i), SR)
        rows.append({"path": f"{i}.wav", "audio_path": str(tmp_path / f"{i}.wav"), "speaker": spk})
    wave, turns = conversation(rows, n_turns=4, seed=0)
    assert len(turns) == 4 and all(a["speaker"] != b["speaker"] for a, b in zip(turns, turns[1:]))
    assert len(wave) / SR >= turns[-1]["offset"] - 1e-3
