"""course_utils.features: parity with librosa, batching, input kinds, and the models' log-mel front end."""

import librosa
import numpy as np
import pytest
import torch

from course_utils import features as F

SR = 16000
# Tolerances against librosa (float32 on both sides; measured errors are 5-500x smaller).
FILTERBANK_MAX_ABS_ERR = 1e-6      # filter weights peak at ~0.03
SPECTROGRAM_MAX_REL_ERR = 1e-5     # relative to the largest bin
LOG_MEL_MAX_DB_ERR = 0.01          # dB, over the whole 80 dB range
MFCC_MAX_ABS_ERR = 0.01            # coefficients reach a few hundred


def _speechlike(seconds: float = 1.0, seed: int = 0) -> np.ndarray:
    """A gliding harmonic tone with syllable-rate envelope, a quiet gap and a little noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    f0 = 120 + 40 * np.sin(2 * np.pi * 1.5 * t)
    phase = 2 * np.pi * np.cumsum(f0) / SR
    voiced = sum(np.sin(k * phase) / k for k in range(1, 20))
    envelope = 0.5 * (1 + np.sin(2 * np.pi * 4 * t)) * (t > 0.2)
    return (0.1 * voiced * envelope + 1e-3 * rng.standard_normal(t.size)).astype(np.float32)


@pytest.fixture(scope="module")
def wave() -> np.ndarray:
    return _speechlike()


def test_hz_mel_conversions_match_librosa_slaney_and_invert():
    hz = np.array([0.0, 100.0, 999.0, 1000.0, 2500.0, 8000.0])
    np.testing.assert_allclose(F.hz_to_mel(hz), librosa.hz_to_mel(hz), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(F.mel_to_hz(F.hz_to_mel(hz)), hz, rtol=1e-12, atol=1e-9)
    assert F.hz_to_mel(1000.0) == pytest.approx(15.0)  # the linear/log break point
    as_tensor = F.hz_to_mel(torch.tensor(hz))
    np.testing.assert_allclose(as_tensor.numpy(), librosa.hz_to_mel(hz), rtol=1e-12)


@pytest.mark.parametrize("sr,n_fft,n_mels,fmin,fmax", [
    (16000, 400, 80, 0.0, None), (16000, 400, 40, 20.0, 4000.0), (22050, 2048, 128, 0.0, None),
    (8000, 256, 40, 0.0, None), (16000, 512, 64, 50.0, 7000.0),
])
def test_mel_filterbank_matches_librosa(sr, n_fft, n_mels, fmin, fmax):
    ours = F.mel_filterbank(sr, n_fft, n_mels, fmin, fmax)
    ref = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax)
    assert ours.shape == (n_mels, n_fft // 2 + 1) and ours.dtype == torch.float32
    assert np.abs(ours.numpy() - ref).max() < FILTERBANK_MAX_ABS_ERR


def test_mel_filterbank_rejects_fmax_above_nyquist():
    with pytest.raises(ValueError, match="fmax"):
        F.mel_filterbank(sr=8000, fmax=6000.0)


@pytest.mark.parametrize("power,pad_mode", [(1.0, "constant"), (2.0, "constant"), (2.0, "reflect")])
def test_spectrogram_matches_librosa_stft(wave, power, pad_mode):
    ours = F.spectrogram(wave, n_fft=400, hop_length=160, power=power, pad_mode=pad_mode).numpy()
    ref = np.abs(librosa.stft(wave, n_fft=400, hop_length=160, pad_mode=pad_mode)) ** power
    assert ours.shape == ref.shape == (201, F.num_frames(wave.size))
    assert np.abs(ours - ref).max() < SPECTROGRAM_MAX_REL_ERR * ref.max()


def test_log_mel_matches_librosa_in_db(wave):
    ours = F.log_mel(wave, sr=SR, n_mels=80).numpy()
    ref = librosa.power_to_db(librosa.feature.melspectrogram(y=wave, sr=SR, n_fft=400, hop_length=160, n_mels=80))
    assert ours.shape == ref.shape
    assert np.abs(ours - ref).max() < LOG_MEL_MAX_DB_ERR


def test_log_mel_with_fmin_fmax_matches_librosa(wave):
    ours = F.log_mel(wave, sr=SR, n_mels=40, fmin=20.0, fmax=4000.0).numpy()
    mel = librosa.feature.melspectrogram(y=wave, sr=SR, n_fft=400, hop_length=160, n_mels=40, fmin=20.0, fmax=4000.0)
    assert np.abs(ours - librosa.power_to_db(mel)).max() < LOG_MEL_MAX_DB_ERR


def test_mfcc_matches_librosa(wave):
    ours = F.mfcc(wave, sr=SR).numpy()
    ref = librosa.feature.mfcc(y=wave, sr=SR, n_mfcc=13, n_fft=400, hop_length=160, n_mels=40)
    assert ours.shape == ref.shape == (13, F.num_frames(wave.size))
    assert np.abs(ours - ref).max() < MFCC_MAX_ABS_ERR


def test_power_to_db_floors_each_item_at_its_own_top_db():
    loud = torch.tensor([[1.0, 1e-12]])
    quiet = torch.tensor([[1e-4, 1e-12]])
    db = F.power_to_db(torch.stack([loud, quiet]), top_db=80.0)   # (2, 1, 2)
    assert db[0].max() == pytest.approx(0.0) and db[0].min() == pytest.approx(-80.0)
    assert db[1].max() == pytest.approx(-40.0) and db[1].min() == pytest.approx(-100.0, abs=1e-4)


def test_batched_features_equal_per_item_features():
    clips = np.stack([_speechlike(seed=s) * scale for s, scale in [(0, 1.0), (1, 0.01), (2, 0.3)]])  # (3, n)
    batch = clips.reshape(3, 1, -1)                               # extra leading dim: (3, 1, n)
    batched_db = F.log_mel(batch)                                 # (3, 1, 80, T)
    batched_mfcc = F.mfcc(clips)                                  # (3, 13, T)
    for i, clip in enumerate(clips):
        torch.testing.assert_close(batched_db[i, 0], F.log_mel(clip), rtol=0, atol=1e-4)
        torch.testing.assert_close(batched_mfcc[i], F.mfcc(clip), rtol=0, atol=1e-3)


def test_numpy_and_tensor_inputs_agree(wave):
    from_numpy = F.mel_spectrogram(wave)
    from_tensor = F.mel_spectrogram(torch.from_numpy(wave))
    assert isinstance(from_numpy, torch.Tensor) and from_numpy.dtype == torch.float32
    torch.testing.assert_close(from_numpy, from_tensor, rtol=0, atol=0)


def test_int16_samples_are_accepted_as_floats():
    x = (np.random.default_rng(0).standard_normal(1600) * 1000).astype(np.int16)
    assert F.spectrogram(x).dtype == torch.float32


@pytest.mark.parametrize("n", [1, 159, 160, 161, 400, 16000, 16001])
def test_num_frames_matches_the_spectrogram(n):
    x = np.random.default_rng(n).standard_normal(n).astype(np.float32)
    assert F.spectrogram(x).shape[-1] == F.num_frames(n) == F.LogMelFrontend().num_frames(n)


def test_features_reject_empty_and_nan_input():
    with pytest.raises(ValueError, match="n > 0"):
        F.log_mel(np.zeros(0, dtype=np.float32))
    with pytest.raises(ValueError, match="NaN"):
        F.log_mel(np.array([0.0, np.nan, 0.1], dtype=np.float32))
    with pytest.raises(TypeError, match="dtype"):
        F.spectrogram(np.array(["a", "b"]))


# ----------------------------------------------------------------------------- LogMelFrontend
def _padded_batch(lengths):
    """Return a zero-padded (B, N) batch of distinct clips and their lengths tensor."""
    wav = torch.zeros(len(lengths), max(lengths))
    for i, n in enumerate(lengths):
        wav[i, :n] = torch.from_numpy(_speechlike(seed=i)[:n])
    return wav, torch.tensor(lengths)


def test_frontend_shapes_and_frame_counts():
    front = F.LogMelFrontend()
    wav, lengths = _padded_batch([16000, 9600, 4001])
    feats, frames = front(wav, lengths)
    assert feats.shape == (3, front.num_frames(16000), 40)
    assert frames.tolist() == [F.num_frames(n) for n in (16000, 9600, 4001)]
    feats_all, frames_all = front(wav)                              # no lengths: all frames valid
    assert frames_all.tolist() == [feats_all.shape[1]] * 3


def test_frontend_normalises_valid_frames_and_zeros_padding():
    wav, lengths = _padded_batch([16000, 9600, 4001])
    feats, frames = F.LogMelFrontend()(wav, lengths)
    for i, t in enumerate(frames.tolist()):
        valid = feats[i, :t]                                        # (t, n_mels)
        torch.testing.assert_close(valid.mean(0), torch.zeros(40), rtol=0, atol=1e-4)
        assert torch.allclose(valid.std(0, unbiased=False), torch.ones(40), atol=1e-2)
        assert torch.all(feats[i, t:] == 0)


def test_frontend_features_do_not_depend_on_batch_padding():
    front = F.LogMelFrontend()
    wav, lengths = _padded_batch([16000, 6400])
    feats, frames = front(wav, lengths)
    alone, alone_frames = front(wav[1:2, :6400])
    assert alone_frames.item() == frames[1].item()
    torch.testing.assert_close(feats[1, : frames[1]], alone[0], rtol=0, atol=1e-4)


def test_frontend_raw_log_mel_matches_the_formula():
    wav, _ = _padded_batch([8000])
    feats, _ = F.LogMelFrontend(normalize=False)(wav)
    mel = F.mel_spectrogram(wav[0], n_mels=40, fmin=20.0, fmax=4000.0)    # (40, T)
    torch.testing.assert_close(feats[0], torch.log(mel + 1e-6).T, rtol=1e-5, atol=1e-5)


def test_frontend_rejects_bad_shapes_and_lengths():
    front = F.LogMelFrontend()
    with pytest.raises(ValueError, match="batch, samples"):
        front(torch.zeros(1600))
    with pytest.raises(ValueError, match="lengths"):
        front(torch.zeros(2, 1600), torch.tensor([1600, 2000]))


def test_frontend_window_and_filterbank_move_with_the_module():
    front = F.LogMelFrontend().double()
    buffers = dict(front.named_buffers())
    assert set(buffers) == {"window", "fb"} and buffers["fb"].dtype == torch.float64
    assert front(torch.zeros(1, 1600, dtype=torch.float64))[0].dtype == torch.float64


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_frontend_and_log_mel_run_on_cuda_and_match_cpu():
    wav, lengths = _padded_batch([16000, 9600])
    front = F.LogMelFrontend()
    cpu_feats, _ = front(wav, lengths)
    gpu_feats, gpu_frames = front.cuda()(wav.cuda(), lengths.cuda())
    assert gpu_feats.is_cuda and gpu_frames.is_cuda
    torch.testing.assert_close(gpu_feats.cpu(), cpu_feats, rtol=0, atol=1e-3)
    torch.testing.assert_close(F.log_mel(wav.cuda()).cpu(), F.log_mel(wav), rtol=0, atol=LOG_MEL_MAX_DB_ERR)
