"""The ASR command line: ``python -m course_utils.asr evaluate --arch ctc --manifest DIR/manifest.jsonl``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from course_utils import REPO_DIR
from course_utils.asr import default_checkpoint, main
from course_utils.audio import load_audio, resample

RESULT_LINE = re.compile(r"^WER \d\.\d{3} CER \d\.\d{3} \(n=\d+\)$")
SHIPPED = default_checkpoint("ctc")


def _asterisk_string(words: list[str]) -> np.ndarray:
    """Return real 8 kHz speech: the Asterisk prompts for ``words`` joined by short pauses."""
    from course_utils.data import asterisk_digit_path

    gap = np.zeros(800, np.float32)
    parts = [gap]
    for w in words:
        parts += [load_audio(asterisk_digit_path(w), sr=8000)[0], gap]
    return np.concatenate(parts)


def _write_manifest(folder: Path, rows: list[dict | str]) -> Path:
    path = folder / "manifest.jsonl"
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory) -> Path:
    """Return a folder of real digit strings at odd rates, formats and channel counts."""
    pytest.importorskip("course_utils.data")
    try:
        a = _asterisk_string(["three", "one", "four"])
        b = _asterisk_string(["nine", "oh", "two", "six"])
    except FileNotFoundError as e:
        pytest.skip(str(e))
    d = tmp_path_factory.mktemp("cli")
    sf.write(d / "phone.wav", a, 8000, subtype="PCM_16")                                 # 8 kHz mono
    stereo = resample(b, 8000, 22050)
    sf.write(d / "stereo.wav", np.stack([stereo, 0.5 * stereo], axis=1), 22050)          # 22.05 kHz stereo
    sf.write(d / "wide.flac", resample(a, 8000, 44100), 44100)                           # 44.1 kHz FLAC
    (d / "empty.wav").write_bytes(b"")
    sf.write(d / "nosamples.wav", np.zeros(0, np.float32), 16000)
    (d / "notaudio.wav").write_text("this is not audio")
    return d


GOOD = [{"path": "phone.wav", "text": "three one four"}, {"path": "stereo.wav", "text": "nine oh two six"},
        {"path": "wide.flac", "text": "three one four"}]


@pytest.mark.skipif(not SHIPPED.is_file(), reason=f"the shipped checkpoint {SHIPPED} is not built yet")
def test_evaluate_prints_wer_and_cer_as_its_last_line(audio_dir):
    manifest = _write_manifest(audio_dir, GOOD)
    done = subprocess.run([sys.executable, "-m", "course_utils.asr", "evaluate", "--arch", "ctc",
                           "--manifest", str(manifest)], capture_output=True, text=True, cwd=REPO_DIR, timeout=120)
    assert done.returncode == 0, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert RESULT_LINE.match(last), done.stdout
    assert last.endswith("(n=3)")
    assert float(last.split()[1]) <= 0.5  # real speech, clean: the model gets most digits right


BAD = [
    ("missing manifest", None, r"manifest not found"),
    ("invalid JSON", [GOOD[0], '{"path": "phone.wav", "text": '], r"line 2: invalid JSON"),
    ("no text", [GOOD[0], GOOD[1], {"path": "phone.wav"}], r"line 3: the row has no \"text\""),
    ("no path", [{"text": "one"}], r"line 1: the row has no \"path\""),
    ("word outside the vocabulary", [GOOD[0], {"path": "phone.wav", "text": "three ten"}],
     r"line 2: \"text\" contains \"ten\", which is not a digit word \(zero\.\.nine, oh\)"),
    ("empty text", [{"path": "phone.wav", "text": "  "}], r"line 1: \"text\" is empty"),
    ("missing audio", [GOOD[0], {"path": "nope.wav", "text": "one"}], r"line 2: audio file \"nope.wav\" not found"),
    ("empty audio file", [{"path": "empty.wav", "text": "one"}], r"line 1: .*empty"),
    ("audio without samples", [GOOD[0], {"path": "nosamples.wav", "text": "one"}], r"line 2: .*(empty|0 samples)"),
    ("unreadable audio", [{"path": "notaudio.wav", "text": "one"}], r"line 1: .*notaudio\.wav"),
    ("a number instead of a string", [{"path": "phone.wav", "text": 314}], r"line 1: \"text\" must be a string"),
]


@pytest.mark.parametrize("case,rows,pattern", BAD, ids=[b[0] for b in BAD])
def test_evaluate_rejects_bad_input_with_one_error_line_naming_the_row(audio_dir, capsys, case, rows, pattern):
    manifest = audio_dir / "absent.jsonl" if rows is None else _write_manifest(audio_dir, rows)
    status = main(["evaluate", "--arch", "ctc", "--manifest", str(manifest)])
    out = capsys.readouterr()
    lines = [line for line in (out.out + out.err).splitlines() if line.strip()]
    assert status != 0
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert re.search(pattern, lines[0]), lines[0]
    assert "Traceback" not in out.err


def test_unknown_architecture_is_a_clear_error(audio_dir, capsys):
    status = main(["evaluate", "--arch", "wav2vec9", "--manifest", str(_write_manifest(audio_dir, GOOD))])
    err = capsys.readouterr().err.strip()
    assert status != 0 and err.startswith("error: unknown model architecture 'wav2vec9'") and "ctc" in err


def test_bad_input_through_the_real_process_exits_non_zero_without_traceback(audio_dir):
    manifest = _write_manifest(audio_dir, [GOOD[0], {"path": "phone.wav", "text": "three ten"}])
    done = subprocess.run([sys.executable, "-m", "course_utils.asr", "evaluate", "--arch", "ctc",
                           "--manifest", str(manifest)], capture_output=True, text=True, cwd=REPO_DIR, timeout=120)
    assert done.returncode != 0
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.strip().splitlines() == [
        f"error: {manifest} line 2: \"text\" contains \"ten\", which is not a digit word (zero..nine, oh)"]


def test_join_digit_words_makes_strings_with_pauses_and_caches_them(tmp_path):
    from course_utils.asr import join_digit_words
    from course_utils.text import DIGIT_VOCAB

    rows = []
    for k, w in enumerate(DIGIT_VOCAB):  # one short "recording" per word
        path = tmp_path / f"{w}.wav"
        sf.write(path, 0.3 * np.sin(2 * np.pi * (200 + 50 * k) * np.arange(1600) / 16000), 16000)
        rows.append({"audio_path": str(path), "text": w, "speaker": "tone:a", "engine": "tone"})
    joined = join_digit_words(rows, 6, seed=0, out_dir=tmp_path / "joined")
    assert len(joined) == 6
    for row in joined:
        words = row["text"].split()
        assert 1 <= len(words) <= 7 and set(words) <= set(DIGIT_VOCAB)
        x, sr = load_audio(row["audio_path"])
        assert len(x) / sr >= len(words) * 0.1  # every word is in there, pauses on top
    again = join_digit_words(rows, 6, seed=0, out_dir=tmp_path / "joined")
    assert [r["text"] for r in again] == [r["text"] for r in joined]


def test_train_then_continue_from_the_checkpoint_records_both_commands(tmp_path, capsys):
    import torch

    first, second = tmp_path / "first.pt", tmp_path / "second.pt"
    small = ["--arch", "ctc", "--engines", "espeak", "--corpus-size", "40", "--word-corpus-size", "20",
             "--joined", "0", "--steps", "2", "--batch-size", "4", "--minutes", "5"]
    assert main(["train", *small, "--out", str(first)]) == 0
    assert main(["train", *small, "--init", str(first), "--lr", "1e-3", "--out", str(second)]) == 0
    meta = torch.load(second, weights_only=True)["meta"]
    assert meta["steps"] == 2 and meta["init"]["steps"] == 2
    assert meta["command"].startswith("python -m course_utils.asr train --arch ctc") and "--init" in meta["command"]
    assert "--init" not in meta["init"]["command"]
    assert main(["train", *small, "--init", str(tmp_path / "missing.pt")]) != 0
    assert "missing.pt: checkpoint not found" in capsys.readouterr().err


def test_set_overrides_a_config_field_and_rejects_unknown_or_mistyped_ones(tmp_path, capsys):
    import torch

    from course_utils.asr import CLIError, parse_overrides

    assert parse_overrides("rnnt", ["lookahead=4", "spec_augment=false", "dropout=0.1"]) == {
        "lookahead": 4, "spec_augment": False, "dropout": 0.1}
    for bad, says in [("nope=1", "KEY one of"), ("lookahead=four", "not a valid int"), ("lookahead", "KEY=VALUE"),
                      ("words=one", "cannot be set"), ("spec_augment=maybe", "not a valid bool")]:
        with pytest.raises(CLIError, match=says):
            parse_overrides("rnnt", [bad])
    out = tmp_path / "small.pt"
    small = ["--arch", "ctc", "--engines", "espeak", "--corpus-size", "40", "--word-corpus-size", "20",
             "--joined", "0", "--steps", "1", "--batch-size", "4", "--minutes", "5"]
    assert main(["train", *small, "--set", "dropout=0.05", "--out", str(out)]) == 0
    ckpt = torch.load(out, weights_only=True)
    assert ckpt["config"]["dropout"] == 0.05 and "--set dropout=0.05" in ckpt["meta"]["command"]
    assert main(["train", *small, "--set", "nope=1", "--out", str(out)]) == 2
    assert "--set 'nope=1'" in capsys.readouterr().err
