"""course_utils.device: device choice, seeding, and a fast offline check."""

import time

import numpy as np
import torch

from course_utils import device as dev


def test_get_device_returns_a_usable_device_and_prints_one_line(capsys):
    d = dev.get_device()
    assert torch.zeros(2, device=d).sum().item() == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith(f"device: {d.type}")


def test_seed_everything_repeats_numpy_and_torch():
    dev.seed_everything(3)
    a = (np.random.rand(3), torch.rand(3))
    dev.seed_everything(3)
    b = (np.random.rand(3), torch.rand(3))
    assert np.allclose(a[0], b[0]) and torch.equal(a[1], b[1])


def test_in_colab_is_false_here(monkeypatch):
    monkeypatch.delenv("COLAB_RELEASE_TAG", raising=False)
    assert dev.in_colab() is False
    monkeypatch.setenv("COLAB_RELEASE_TAG", "x")
    assert dev.in_colab() is True


def test_offline_check_is_fast_and_sets_hub_offline(monkeypatch):
    # An address in TEST-NET-1 (RFC 5737) never answers: the check must give up within its timeout.
    dev.reset_online_cache()
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("COURSE_OFFLINE", raising=False)
    monkeypatch.delenv("COURSE_ONLINE", raising=False)
    t0 = time.monotonic()
    assert dev.is_online(timeout=1.0, host="192.0.2.1", port=9) is False
    assert time.monotonic() - t0 < 3.0
    assert dev.setup_hub(verbose=False) is False  # cached answer: offline
    import os
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    dev.reset_online_cache()


def test_online_and_offline_can_be_forced(monkeypatch):
    dev.reset_online_cache()
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("COURSE_ONLINE", "1")
    assert dev.is_online() is True
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    assert dev.is_online() is False
    dev.reset_online_cache()
