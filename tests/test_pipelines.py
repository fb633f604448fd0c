"""The pipeline wrappers (course_utils.pipelines) with the course's local wav2vec2 model, offline.

Every test runs with no network: COURSE_OFFLINE=1 and HF_HUB_OFFLINE=1, so nothing here can reach
the Hugging Face Hub; the hub defaults are only named, never fetched.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from course_utils import pipelines
from course_utils.audio import AudioError, resample, save_audio
from course_utils.hf_models import LOCAL_ASR_DIR, MODEL_RATE, digit_processor, model_size_mb, snap_to_lexicon
from course_utils.metrics import wer

HAVE_LOCAL = os.path.isfile(os.path.join(LOCAL_ASR_DIR, "config.json"))
needs_local = pytest.mark.skipif(not HAVE_LOCAL, reason="data/models/wav2vec2_digits is not built yet")


@pytest.fixture(autouse=True)
def offline(monkeypatch):
    """No network for any test: the course's switch and the hub client's own."""
    from course_utils import device

    for var in ("COURSE_OFFLINE", "HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        monkeypatch.setenv(var, "1")  # restored after each test, whatever the code under test sets
    monkeypatch.setattr(device, "is_online", lambda *a, **k: False)
    monkeypatch.setitem(pipelines.LOCAL_MODELS, "audio-classification", None)
    monkeypatch.setitem(pipelines.LOCAL_MODELS, "text-to-speech", None)


@pytest.fixture(scope="module")
def asr():
    """The offline default recogniser (the local model), built once for the module."""
    if not HAVE_LOCAL:
        pytest.skip("data/models/wav2vec2_digits is not built yet")
    saved = dict(os.environ)
    os.environ.update(COURSE_OFFLINE="1", HF_HUB_OFFLINE="1")
    try:
        return pipelines.asr_pipeline(device="cpu")
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture(scope="module")
def digits_wave():
    """ "four two seven" by a held-out espeak-ng voice at 16 kHz, with pauses around it."""
    from course_utils.data import synthesize

    x = synthesize("four two seven", "en-us+m3", "espeak", rate=150)
    pad = np.zeros(4000, np.float32)
    return np.concatenate([pad, 0.5 * x / np.abs(x).max(), pad]).astype(np.float32), "four two seven"


# ----------------------------------------------------------------------------- the model folder
@needs_local
def test_local_model_is_small_and_complete():
    names = set(os.listdir(LOCAL_ASR_DIR))
    assert {"config.json", "model.safetensors", "vocab.json"} <= names
    assert names & {"processor_config.json", "preprocessor_config.json"}  # the feature extractor's settings
    assert model_size_mb(LOCAL_ASR_DIR) <= 10.0


def test_digit_processor_round_trips_digit_words():
    proc = digit_processor()
    ids = proc.tokenizer("three oh seven").input_ids
    assert proc.decode(ids, group_tokens=False) == "three oh seven"  # CTC decoding would merge the "ee"
    assert proc.feature_extractor.sampling_rate == MODEL_RATE


# ----------------------------------------------------------------------------- every input form
@needs_local
def test_offline_default_is_the_local_model(asr):
    assert asr.local and asr.model_name == "data/models/wav2vec2_digits"
    assert asr.is_ctc and asr.sampling_rate == MODEL_RATE


@pytest.fixture(scope="module")
def heard(asr, digits_wave):
    """What the local model hears in the 16 kHz array: the reference for every other input form."""
    return asr(digits_wave[0])["text"]


@needs_local
def test_transcribes_a_16k_array(heard, digits_wave):
    assert snap_to_lexicon(heard) == digits_wave[1]


@needs_local
@pytest.mark.parametrize("rate", [8000, 44100])
def test_transcribes_an_array_rate_pair(asr, digits_wave, heard, rate):
    x, text = digits_wave
    assert asr((resample(x, 16000, rate), rate))["text"] == heard


@needs_local
def test_transcribes_a_file_path(asr, digits_wave, heard, tmp_path):
    x, text = digits_wave
    path = save_audio(tmp_path / "digits.wav", resample(x, 16000, 22050), 22050)
    assert asr(str(path))["text"] == heard
    assert asr(path)["text"] == heard


@needs_local
def test_transcribes_datasets_style_rows(asr, digits_wave, heard, tmp_path):
    x, text = digits_wave
    row = {"audio": {"array": resample(x, 16000, 8000), "sampling_rate": 8000}, "text": text}
    assert asr(row)["text"] == heard
    path = save_audio(tmp_path / "row.wav", x, 16000)
    assert asr({"audio": {"path": str(path)}})["text"] == heard


@needs_local
def test_a_list_gives_a_list(asr, digits_wave, heard):
    x, text = digits_wave
    assert [o["text"] for o in asr([x, (x, 16000)])] == [heard, heard]


# ----------------------------------------------------------------------------- timestamps and chunks
@needs_local
def test_word_timestamps_when_asked(asr, digits_wave, heard):
    x, text = digits_wave
    out = asr(x, return_timestamps=True)
    assert out["text"] == heard
    assert " ".join(c["text"] for c in out["chunks"]) == heard  # one chunk per word
    starts = [c["timestamp"][0] for c in out["chunks"]]
    ends = [c["timestamp"][1] for c in out["chunks"]]
    assert starts == sorted(starts) and all(s < e for s, e in zip(starts, ends))
    assert 0.0 <= starts[0] and ends[-1] <= len(x) / 16000 + 0.05
    assert isinstance(starts[0], float)  # plain Python, not NumPy scalars
    assert "chunks" not in asr(x)


@needs_local
def test_long_audio_is_chunked_and_joined(asr, digits_wave):
    x, text = digits_wave
    pause = np.zeros(16000, np.float32)
    long = np.concatenate([x, pause] * 5)  # about 14 s: more than one 10 s chunk
    out = asr(long, return_timestamps="word")
    assert wer(" ".join([text] * 5), snap_to_lexicon(out["text"])) <= 0.2
    assert out["chunks"][-1]["timestamp"][1] > 10.0


# ----------------------------------------------------------------------------- offline behaviour
@needs_local
def test_offline_fallback_is_fast_and_says_so(capsys):
    import transformers  # noqa: F401  (importing the library is not what is timed)

    start = time.perf_counter()
    asr = pipelines.asr_pipeline(device="cpu")
    elapsed = time.perf_counter() - start
    out = capsys.readouterr().out
    assert elapsed < 3.0
    assert ("offline: using the course's local model data/models/wav2vec2_digits instead of "
            "openai/whisper-tiny") in out
    assert len(out.strip().splitlines()) == 1 and asr.local


@needs_local
def test_offline_hub_id_that_is_not_cached_falls_back(capsys):
    name, local = pipelines.resolve_model("asr", "openai/whisper-base.en")
    assert local and name.endswith("wav2vec2_digits")
    assert "instead of openai/whisper-base.en" in capsys.readouterr().out


@pytest.mark.parametrize("task, session", [("tts", "session 06"), ("audio-classification", "session 07")])
def test_offline_task_without_local_model_says_so_in_one_line(task, session):
    start = time.perf_counter()
    with pytest.raises(pipelines.PipelineError) as err:
        pipelines.load_pipeline(task)
    assert time.perf_counter() - start < 3.0
    msg = str(err.value)
    assert msg.startswith("offline: no local") and session in msg and "\n" not in msg


# ----------------------------------------------------------------------------- bad inputs
@needs_local
def test_empty_audio_is_rejected_clearly(asr):
    with pytest.raises(AudioError, match="empty"):
        asr(np.zeros(0, np.float32))


@needs_local
def test_nan_audio_is_rejected_clearly(asr):
    with pytest.raises(AudioError, match="NaN"):
        asr(np.full(1600, np.nan, np.float32))


@needs_local
def test_missing_file_is_rejected_clearly(asr, tmp_path):
    with pytest.raises(AudioError, match="not found"):
        asr(str(tmp_path / "nope.wav"))


@needs_local
def test_audio_dict_without_rate_is_rejected(asr):
    with pytest.raises(pipelines.PipelineError, match="sampling_rate"):
        asr({"array": np.zeros(1600, np.float32)})


def test_unknown_task_names_the_known_ones():
    with pytest.raises(pipelines.PipelineError, match="unknown task 'translation'.*automatic-speech-recognition"):
        pipelines.load_pipeline("translation")


def test_missing_model_dir_is_named(tmp_path):
    missing = tmp_path / "no_such_model"
    with pytest.raises(pipelines.PipelineError, match="no_such_model not found"):
        pipelines.asr_pipeline(str(missing))
    with pytest.raises(pipelines.PipelineError, match="model directory data/models/nope not found"):
        pipelines.asr_pipeline("data/models/nope")


def test_folder_without_config_is_named(tmp_path):
    with pytest.raises(pipelines.PipelineError, match="not a saved transformers model"):
        pipelines.asr_pipeline(str(tmp_path))


def test_tts_needs_text():
    fake = pipelines.AudioPipeline(pipe=lambda text: None, task="text-to-speech", model_name="x", local=True)
    with pytest.raises(pipelines.PipelineError, match="non-empty string"):
        fake("   ")
