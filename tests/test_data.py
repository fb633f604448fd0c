"""Tests for course_utils.data: manifests, TTS engines, synthetic corpora, the real-speech set, the Dataset."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from course_utils.data import (
    COMMAND_LABELS, ENGINES, ManifestError, SpeechDataset, asterisk_digit_path, available_engines, collate_speech,
    espeak_voices, load_split, make_corpus, plan_corpus, read_manifest, real_digit_set, real_speech_samples,
    speaker_group, synthesize, voices, write_manifest,
)
from course_utils.data import realspeech, synth
from course_utils.text import DIGIT_VOCAB

ENGINES_HERE = available_engines()
needs_asterisk = pytest.mark.skipif(not Path("/usr/share/asterisk/sounds").is_dir(),
                                    reason="Debian package asterisk-core-sounds-en-wav is not installed "
                                           "(sudo apt-get install asterisk-core-sounds-en-wav)")
needs_pocketsphinx = pytest.mark.skipif(not Path("/usr/share/pocketsphinx/test/data").is_dir(),
                                        reason="Debian package pocketsphinx-testdata is not installed "
                                               "(sudo apt-get install pocketsphinx-testdata)")


# ------------------------------------------------------------------------------------------ manifests
def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def wav_dir(tmp_path: Path) -> Path:
    (tmp_path / "wav").mkdir()
    sf.write(tmp_path / "wav" / "a.wav", np.zeros(1600, np.float32), 16000)
    return tmp_path


def test_read_manifest_resolves_audio_relative_to_manifest_and_skips_blank_lines(wav_dir: Path):
    m = _write_lines(wav_dir / "m.jsonl", ['{"path": "wav/a.wav", "text": "one"}', "", "   ",
                                           '{"path": "wav/a.wav", "text": "two", "speaker": "x"}'])
    rows = read_manifest(m)
    assert [r["text"] for r in rows] == ["one", "two"]
    assert rows[0]["audio_path"] == str((wav_dir / "wav" / "a.wav").resolve())
    assert Path(rows[0]["audio_path"]).is_absolute()


def test_read_manifest_names_a_missing_manifest(tmp_path: Path):
    with pytest.raises(ManifestError, match=r"nope\.jsonl: manifest not found"):
        read_manifest(tmp_path / "nope.jsonl")


@pytest.mark.parametrize("bad_line, message", [
    ('{"path": "wav/a.wav", "text": "one"', r"invalid JSON"),
    ('{"path": "wav/a.wav"}', r"no 'text' field"),
    ('{"text": "one"}', r"no 'path' field"),
    ('{"path": "wav/a.wav", "text": "  "}', r"the text is empty"),
    ('{"path": "wav/missing.wav", "text": "one"}', r"audio file .*missing\.wav does not exist"),
    ('["wav/a.wav", "one"]', r"expected a JSON object"),
])
def test_read_manifest_errors_name_the_file_and_line(wav_dir: Path, bad_line: str, message: str):
    m = _write_lines(wav_dir / "m.jsonl", ['{"path": "wav/a.wav", "text": "fine"}', "", bad_line])
    with pytest.raises(ManifestError, match=message) as err:
        read_manifest(m)
    assert f"{m}, line 3:" in str(err.value)


def test_read_manifest_rejects_an_empty_manifest(tmp_path: Path):
    with pytest.raises(ManifestError, match="has no rows"):
        read_manifest(_write_lines(tmp_path / "m.jsonl", [""]))


def test_write_manifest_round_trips_without_audio_path(wav_dir: Path):
    rows = [{"path": "wav/a.wav", "text": "one", "audio_path": "/elsewhere/a.wav", "label": 3}]
    m = write_manifest(wav_dir / "sub" / "m.jsonl", rows)
    assert json.loads(m.read_text()) == {"path": "wav/a.wav", "text": "one", "label": 3}


# ------------------------------------------------------------------------------------------ engines
def test_espeak_voices_cover_accents_and_variants():
    names = espeak_voices()
    assert {"en-us", "en-us+m3", "en-gb-scotland+f2", "en-gb+klatt4"} <= set(names)
    assert len({n.split("+")[0] for n in names}) >= 7 and len(names) >= 500
    capped = espeak_voices(12)
    assert len(set(capped)) == 12 and set(capped) <= set(names)
    assert len({n.partition("+")[2] for n in capped}) == 12  # a cap spreads over different variants


def test_available_engines_are_known_and_include_espeak():
    assert set(ENGINES_HERE) <= set(ENGINES) and "espeak" in ENGINES_HERE


@pytest.mark.parametrize("engine", ENGINES)
def test_each_available_engine_speaks_at_the_requested_rate(engine: str):
    if engine not in ENGINES_HERE:
        pytest.skip(f"{engine} is not installed here")
    voice = voices(engine)[0]
    x16 = synthesize("three one four", voice, engine)
    x8 = synthesize("three one four", voice, engine, sr=8000)
    assert x16.dtype == np.float32 and x16.ndim == 1
    assert 0.5 < len(x16) / 16000 < 4.0 and abs(len(x8) / 8000 - len(x16) / 16000) < 0.05
    assert np.sqrt(np.mean(x16 ** 2)) > 0.01


def test_espeak_rate_changes_the_duration():
    slow, fast = (len(synthesize("one two three four five", "en-us", rate=r)) for r in (120, 220))
    assert slow > 1.4 * fast


def test_synthesize_rejects_bad_input_with_clear_errors():
    with pytest.raises(ValueError, match="text is empty"):
        synthesize("  ", "en-us")
    with pytest.raises(ValueError, match="unknown espeak voice 'xx-yy'"):
        synthesize("one", "xx-yy")
    with pytest.raises(ValueError, match="unknown espeak variant 'nosuchvariant'"):
        synthesize("one", "en-us+nosuchvariant")
    with pytest.raises(ValueError, match="unknown engine 'festival'"):
        synthesize("one", "kal", engine="festival")
    with pytest.raises(ValueError, match="rate must be"):
        synthesize("one", "en-us", rate=5)


def test_fresh_espeak_makes_output_reproducible():
    def say() -> list[np.ndarray]:
        with synth.fresh_espeak():
            return [synthesize("two five", v, seed=7) for v in ("en-us+m3", "en-gb+klatt4", "en-us+m3")]
    synthesize("nine", "en-029+f1")  # leave some state in the shared library
    first, second = say(), say()
    assert all(np.array_equal(a, b) for a, b in zip(first, second))


# ------------------------------------------------------------------------------------------ corpora
@pytest.fixture(scope="module")
def corpora(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("corpora")
    engines = tuple(e for e in ("espeak", "flite", "hibari") if e in ENGINES_HERE)  # piper is slow to load
    return {
        "digits": make_corpus("digits", n=30, seed=0, root=root),
        "digits_again": make_corpus("digits", n=30, seed=0, root=root / "again"),
        "digits_seed1": make_corpus("digits", n=30, seed=1, root=root),
        "mixed": make_corpus("digits", n=24, seed=0, engines=engines, root=root, min_digits=2, max_digits=3),
        "mixed_again": make_corpus("digits", n=24, seed=0, engines=engines, root=root / "again", min_digits=2,
                                   max_digits=3),
        "commands": make_corpus("commands", n=24, seed=0, root=root),
    }


@pytest.mark.parametrize("name", ["digits", "mixed"])
def test_same_seed_gives_byte_identical_manifest_and_audio(corpora, name: str):
    a, b = corpora[name], corpora[name + "_again"]
    assert a != b and a.read_bytes() == b.read_bytes()
    for wav in sorted((a.parent / "wav").iterdir())[:8]:
        assert wav.read_bytes() == (b.parent / "wav" / wav.name).read_bytes(), wav.name


def test_different_seed_gives_a_different_corpus(corpora):
    a, c = corpora["digits"], corpora["digits_seed1"]
    assert a.parent != c.parent
    assert [r["text"] for r in read_manifest(a)] != [r["text"] for r in read_manifest(c)]


def test_cached_corpus_returns_at_once_without_rewriting(corpora):
    m = corpora["digits"]
    before = m.stat().st_mtime_ns
    start = time.perf_counter()
    assert make_corpus("digits", n=30, seed=0, root=m.parent.parent) == m
    assert time.perf_counter() - start < 0.5 and m.stat().st_mtime_ns == before


@pytest.mark.parametrize("name", ["digits", "mixed", "commands"])
def test_split_is_speaker_independent(corpora, name: str):
    rows = read_manifest(corpora[name])
    by_split = {s: [r for r in rows if r["split"] == s] for s in ("train", "valid", "test")}
    assert set(r["split"] for r in rows) <= {"train", "valid", "test"}
    assert by_split["train"] and by_split["test"]
    groups = {s: {speaker_group(*r["speaker"].split(":", 1)) for r in rs} for s, rs in by_split.items()}
    assert not groups["train"] & groups["test"] and not groups["train"] & groups["valid"]
    assert not groups["valid"] & groups["test"]
    speakers = {s: {r["speaker"] for r in rs} for s, rs in by_split.items()}
    assert not speakers["train"] & speakers["test"]


def test_every_engine_speaks_in_training(corpora):
    rows = read_manifest(corpora["mixed"])
    engines = {r["engine"] for r in rows}
    assert {r["engine"] for r in rows if r["split"] == "train"} == engines
    assert all(r["speaker"].startswith(r["engine"] + ":") for r in rows)


@pytest.mark.parametrize("name", ["digits", "mixed", "commands"])
def test_corpus_audio_is_16k_mono_pcm16_nonsilent_and_as_long_as_the_manifest_says(corpora, name: str):
    for r in read_manifest(corpora[name]):
        info = sf.info(r["audio_path"])
        assert (info.samplerate, info.channels, info.subtype) == (16000, 1, "PCM_16")
        assert abs(info.frames / 16000 - r["duration"]) <= 0.0005
        x, _ = sf.read(r["audio_path"], dtype="float32")
        assert np.sqrt(np.mean(x ** 2)) > 0.005, f"{r['path']} is (nearly) silent"
        assert np.abs(x[:800]).max() == 0.0  # at least 50 ms of leading silence


def test_digit_text_uses_the_vocabulary_and_the_length_range(corpora):
    rows = read_manifest(corpora["digits"]) + read_manifest(corpora["digits_seed1"])
    for r in rows:
        words = r["text"].split()
        assert 1 <= len(words) <= 7 and set(words) <= set(DIGIT_VOCAB), r
    assert {len(r["text"].split()) for r in read_manifest(corpora["mixed"])} <= {2, 3}
    all_words = [w for r in rows for w in r["text"].split()]
    assert "zero" in all_words or "oh" in all_words


def test_commands_have_labels_matching_their_words(corpora):
    rows = read_manifest(corpora["commands"])
    assert all(COMMAND_LABELS[r["label"]] == r["text"] for r in rows)
    assert len({r["label"] for r in rows}) == len(COMMAND_LABELS)  # 24 rows cover all 20 classes


def test_load_split_returns_only_that_split_and_rejects_unknown_names(corpora):
    test_rows = load_split(corpora["digits"], "test")
    assert test_rows and all(r["split"] == "test" and Path(r["audio_path"]).is_file() for r in test_rows)
    with pytest.raises(ValueError, match="split must be one of"):
        load_split(corpora["digits"], "dev")


def test_requested_test_voices_are_held_out_with_their_variant():
    plan = plan_corpus("digits", n=40, seed=3, test_voices=["en-us+m3", "espeak:en-gb+f2"])
    assert {(u.engine, u.voice) for u in plan if u.split == "test"} <= {("espeak", "en-us+m3"), ("espeak", "en-gb+f2")}
    assert not [u for u in plan if u.split != "test" and u.voice.partition("+")[2] in ("m3", "f2")]
    with pytest.raises(ValueError, match="test_voices not offered"):
        plan_corpus("digits", n=40, test_voices=["en-us+nosuchvariant"])
    ignored = plan_corpus("digits", n=40, seed=3, test_voices=["en-us+m3", "piper:joe"])  # piper is not in use
    assert {u.voice for u in ignored if u.split == "test"} == {"en-us+m3"}


def test_plan_rejects_bad_parameters():
    with pytest.raises(ValueError, match="kind must be one of"):
        plan_corpus("sentences")
    with pytest.raises(ValueError, match="engines must be some of"):
        plan_corpus(engines=("espeak", "festival"))
    with pytest.raises(ValueError, match="too small"):
        plan_corpus(n=2)
    single = [e for e in ("hibari", "piper") if e in ENGINES_HERE]
    if single:  # one voice each: nothing can be held out
        with pytest.raises(ValueError, match="too few voices"):
            plan_corpus(n=20, engines=single)


# ------------------------------------------------------------------------------------------ real speech
@needs_asterisk
def test_real_digit_set_is_built_from_the_asterisk_recordings(tmp_path: Path):
    manifest = real_digit_set(n=6, seed=0, root=tmp_path)
    rows = read_manifest(manifest)
    assert len(rows) == 6 and {r["speaker"] for r in rows} == {"asterisk"} and {r["split"] for r in rows} == {"test"}
    for r in rows:
        assert 3 <= len(r["text"].split()) <= 7 and set(r["text"].split()) <= set(DIGIT_VOCAB)
        info = sf.info(r["audio_path"])
        assert (info.samplerate, info.channels) == (16000, 1)
        assert abs(info.frames / 16000 - r["duration"]) <= 0.0005
        assert r["duration"] > 0.45 * len(r["text"].split())  # every digit really is in there
    assert real_digit_set(n=6, seed=0, root=tmp_path).read_bytes() == manifest.read_bytes()


@needs_asterisk
def test_asterisk_digit_path_finds_each_digit_and_oh():
    assert asterisk_digit_path(7).name == "7.wav" and asterisk_digit_path("seven") == asterisk_digit_path(7)
    assert asterisk_digit_path("oh").name == "oh.wav"
    with pytest.raises(ValueError, match="expected a digit"):
        asterisk_digit_path(12)


def test_missing_asterisk_package_says_how_to_install_it(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(realspeech, "_ASTERISK_SOUNDS", tmp_path)
    with pytest.raises(FileNotFoundError, match="sudo apt-get install asterisk-core-sounds-en-wav"):
        asterisk_digit_path(3)


@needs_pocketsphinx
def test_real_speech_samples_list_recordings_with_transcripts(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(realspeech, "CACHE_DIR", str(tmp_path))
    rows = real_speech_samples()
    assert len(rows) >= 10
    assert any(r["text"] == "go forward ten meters" for r in rows)
    assert any(r["text"] == "he was not an ill disposed young man" for r in rows)
    for r in rows:
        assert Path(r["audio_path"]).is_file() and r["text"].strip()
        assert sf.info(r["audio_path"]).samplerate == 16000


# ------------------------------------------------------------------------------------------ dataset
def test_dataset_items_and_collate_shapes(corpora):
    rows = load_split(corpora["commands"], "train")
    ds = SpeechDataset(rows)
    item = ds[1]
    assert item["wave"].dtype == torch.float32 and item["wave"].ndim == 1
    assert item["text"] == rows[1]["text"] and item["speaker"] == rows[1]["speaker"] and item["index"] == 1
    assert item["label"] == rows[1]["label"]
    batch = collate_speech([ds[0], ds[1], ds[2]])
    lengths = [len(ds[i]["wave"]) for i in range(3)]
    assert batch["wave"].shape == (3, max(lengths)) and batch["lengths"].tolist() == lengths
    assert batch["lengths"].dtype == torch.long and batch["label"].dtype == torch.long
    k = int(np.argmin(lengths))
    assert torch.all(batch["wave"][k, lengths[k]:] == 0)
    assert batch["text"] == [rows[i]["text"] for i in range(3)] and len(batch["speaker"]) == 3


def test_dataset_matches_the_file_and_works_with_a_dataloader(corpora):
    rows = load_split(corpora["digits"], "train")[:5]
    for preload in (True, False):
        ds = SpeechDataset(rows, preload=preload)
        x, _ = sf.read(rows[0]["audio_path"], dtype="float32")
        assert np.allclose(ds[0]["wave"].numpy(), x, atol=1e-6)
    loader = torch.utils.data.DataLoader(ds, batch_size=2, collate_fn=collate_speech)
    batches = list(loader)
    assert [b["wave"].shape[0] for b in batches] == [2, 2, 1] and "label" not in batches[0]


def test_dataset_augments_each_draw_differently_but_reproducibly(corpora):
    rows = load_split(corpora["digits"], "train")[:3]

    def add_noise(x: np.ndarray, sr: int, rng: np.random.Generator) -> np.ndarray:
        assert sr == 16000
        return x + rng.normal(0, 0.01, size=x.shape).astype(np.float32)

    a, b = SpeechDataset(rows, augment=add_noise, seed=5), SpeechDataset(rows, augment=add_noise, seed=5)
    first, again = a[0]["wave"], a[0]["wave"]
    assert not torch.equal(first, again)  # a new draw each time
    assert torch.equal(first, b[0]["wave"])  # same seed, same first draw


def test_dataset_rejects_rows_without_audio_or_text():
    with pytest.raises(ValueError, match="no rows"):
        SpeechDataset([])
    with pytest.raises(ValueError, match="row 0 needs 'text'"):
        SpeechDataset([{"path": "x.wav"}])
