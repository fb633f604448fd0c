"""course_utils.audio: loading any valid input, and clear errors for broken input."""

import subprocess

import numpy as np
import pytest
import soundfile as sf

from course_utils.audio import (AudioError, check_audio, load_audio, normalize, play, resample, rms_normalize,
                                save_audio, to_mono)


def tone(sr=16000, seconds=0.5, freq=440.0, amp=0.5):
    t = np.arange(int(sr * seconds)) / sr
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def peak_hz(x, sr):
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return np.argmax(spec) * sr / len(x)


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"])
def test_load_reads_every_wav_sample_format_as_float32(tmp_path, subtype):
    path = tmp_path / f"t_{subtype}.wav"
    sf.write(path, tone(), 16000, subtype=subtype)
    x, sr = load_audio(path)
    assert sr == 16000 and x.dtype == np.float32 and x.shape == (8000,)
    assert abs(np.max(np.abs(x)) - 0.5) < 0.02  # 8-bit is coarse but centred and scaled


def test_load_resamples_any_rate_to_16k_keeping_pitch(tmp_path):
    path = tmp_path / "t.wav"
    sf.write(path, tone(sr=44100, seconds=1.0), 44100)
    x, sr = load_audio(path, sr=16000)
    assert sr == 16000 and len(x) == 16000
    assert abs(peak_hz(x, sr) - 440) < 2


def test_load_keeps_native_rate_when_sr_is_none(tmp_path):
    path = tmp_path / "t.wav"
    sf.write(path, tone(sr=22050), 22050)
    x, sr = load_audio(path, sr=None)
    assert sr == 22050 and len(x) == 11025


def test_load_mixes_stereo_to_mono(tmp_path):
    path = tmp_path / "st.wav"
    left, right = tone(freq=300), tone(freq=300) * 0  # right channel silent
    sf.write(path, np.stack([left, right], axis=1), 16000)
    x, _ = load_audio(path)
    assert x.ndim == 1 and np.allclose(x, left / 2, atol=1e-3)
    both, _ = load_audio(path, mono=False)
    assert both.shape == (2, 8000)


def test_load_reads_flac_and_mp3(tmp_path):
    flac = tmp_path / "t.flac"
    sf.write(flac, tone(), 16000)
    x, _ = load_audio(flac)
    assert abs(peak_hz(x, 16000) - 440) < 3
    wav = tmp_path / "src.wav"
    sf.write(wav, tone(seconds=1.0), 16000)
    mp3 = tmp_path / "t.mp3"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), str(mp3)], check=True)
    y, sr = load_audio(mp3)
    assert sr == 16000 and abs(len(y) - 16000) < 2000 and abs(peak_hz(y, sr) - 440) < 3


def test_load_falls_back_to_ffmpeg_for_other_containers(tmp_path):
    wav = tmp_path / "src.wav"
    sf.write(wav, tone(seconds=1.0), 16000)
    m4a = tmp_path / "t.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(wav), "-c:a", "aac", str(m4a)], check=True)
    y, sr = load_audio(m4a)
    assert sr == 16000 and abs(peak_hz(y, sr) - 440) < 3


def test_load_rejects_missing_file_naming_it(tmp_path):
    with pytest.raises(AudioError, match="nope.wav: file not found"):
        load_audio(tmp_path / "nope.wav")


def test_load_rejects_empty_and_unreadable_files(tmp_path):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioError, match="empty.wav: file is empty"):
        load_audio(empty)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not audio at all" * 10)
    with pytest.raises(AudioError, match="junk.wav"):
        load_audio(junk)


def test_load_rejects_a_wav_with_no_samples(tmp_path):
    path = tmp_path / "zero.wav"
    sf.write(path, np.zeros(0, np.float32), 16000)
    with pytest.raises(AudioError, match="empty"):
        load_audio(path)


def test_load_rejects_nan_samples(tmp_path):
    path = tmp_path / "nan.wav"
    x = tone()
    x[100] = np.nan
    sf.write(path, x, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="nan.wav: contains 1 NaN or Inf"):
        load_audio(path)


def test_check_audio_scales_integers_and_transposes_channels_last():
    ints = (tone() * 32767).astype(np.int16)
    x = check_audio(ints)
    assert x.dtype == np.float32 and abs(np.max(np.abs(x)) - 0.5) < 1e-3
    stereo = np.stack([tone(), tone()], axis=1)  # (n, 2)
    assert check_audio(stereo).shape == (2, 8000)


@pytest.mark.parametrize("bad, message", [
    (np.array([], np.float32), "empty"),
    (np.array(["a", "b"]), "must be numbers"),
    (np.zeros((2, 2, 2), np.float32), "expected shape"),
    (np.array([0.1, np.inf], np.float32), "NaN or Inf"),
])
def test_check_audio_names_the_problem(bad, message):
    with pytest.raises(AudioError, match=message):
        check_audio(bad, name="mysignal")


def test_check_audio_rejects_silence_when_speech_is_needed():
    with pytest.raises(AudioError, match="silent"):
        check_audio(np.zeros(1600, np.float32), require_speech=True)
    assert check_audio(tone(), require_speech=True).shape == (8000,)


def test_check_audio_rejects_bad_sample_rate():
    with pytest.raises(AudioError, match="sample rate"):
        check_audio(tone(), sr=0)


def test_resample_preserves_duration_and_frequency():
    x = tone(sr=8000, seconds=1.0, freq=1000)
    y = resample(x, 8000, 16000)
    assert len(y) == 16000 and abs(peak_hz(y, 16000) - 1000) < 2


def test_normalize_scales_peak_and_rms():
    x = tone(amp=0.1)
    assert abs(np.max(np.abs(normalize(x, peak=0.9))) - 0.9) < 1e-5
    y = rms_normalize(x, target_db=-20)
    assert abs(20 * np.log10(np.sqrt(np.mean(y ** 2))) + 20) < 0.01


def test_to_mono_averages_channels():
    x = np.stack([np.ones(4), np.zeros(4)]).astype(np.float32)
    assert np.allclose(to_mono(x), 0.5)


def test_save_then_load_round_trips_16bit(tmp_path):
    x = tone()
    path = save_audio(tmp_path / "out.wav", x, 16000)
    assert sf.info(path).subtype == "PCM_16"
    y, _ = load_audio(path)
    assert np.max(np.abs(x - y)) < 1e-4


def test_save_rejects_missing_directory(tmp_path):
    with pytest.raises(AudioError, match="does not exist"):
        save_audio(tmp_path / "no" / "dir" / "x.wav", tone(), 16000)


def test_play_returns_an_audio_player():
    html = play(tone(), 16000)._repr_html_()
    assert "<audio" in html
