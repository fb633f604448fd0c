"""Where code runs: device choice, seeding, Colab detection and the hub's online/offline mode."""

from __future__ import annotations

import os
import random
import socket
import sys

import numpy as np

_ONLINE_CACHE: bool | None = None


def get_device(verbose: bool = True):
    """Return the best available ``torch.device`` (CUDA > MPS > CPU) and print a one-line summary."""
    import torch

    if torch.cuda.is_available():
        dev = torch.device("cuda")
        what = f"CUDA GPU: {torch.cuda.get_device_name(0)}"
    elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        dev = torch.device("mps")
        what = "Apple GPU (MPS)"
    else:
        dev = torch.device("cpu")
        what = f"CPU ({torch.get_num_threads()} threads) - everything in this course runs here, just slower"
    if verbose:
        print(f"device: {dev} | {what} | torch {torch.__version__}")
    return dev


def seed_everything(seed: int = 0) -> None:
    """Seed Python, NumPy and torch (CPU and GPU) so runs repeat."""
    random.seed(seed)
    np.random.seed(seed)
    try:
        import torch

        torch.manual_seed(seed)
        if torch.cuda.is_available():
            torch.cuda.manual_seed_all(seed)
    except ImportError:  # pragma: no cover - torch is a core dependency
        pass


def in_colab() -> bool:
    """Return True when running inside Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def is_online(timeout: float = 2.0, host: str = "huggingface.co", port: int = 443) -> bool:
    """Return True if the Hugging Face Hub answers a TCP connection within ``timeout`` seconds.

    The answer is cached for the session. ``COURSE_OFFLINE=1`` (or ``HF_HUB_OFFLINE=1``) forces
    offline, ``COURSE_ONLINE=1`` forces online.
    """
    global _ONLINE_CACHE
    if os.environ.get("COURSE_OFFLINE") == "1" or os.environ.get("HF_HUB_OFFLINE") == "1":
        return False
    if os.environ.get("COURSE_ONLINE") == "1":
        return True
    if _ONLINE_CACHE is not None:
        return _ONLINE_CACHE
    try:
        # Resolve and connect, both bounded by the timeout: no 50 s hub retries.
        old = socket.getdefaulttimeout()
        socket.setdefaulttimeout(timeout)
        try:
            with socket.create_connection((host, port), timeout=timeout):
                _ONLINE_CACHE = True
        finally:
            socket.setdefaulttimeout(old)
    except OSError:
        _ONLINE_CACHE = False
    return _ONLINE_CACHE


def setup_hub(verbose: bool = True, timeout: float = 2.0) -> bool:
    """Check the network once; offline, set ``HF_HUB_OFFLINE=1`` so hub calls fail fast. Returns online?"""
    online = is_online(timeout=timeout)
    if not online:
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["HF_DATASETS_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
    if verbose:
        print("hub: online - hub models and datasets available" if online else
              "hub: offline - sections that need the Hugging Face Hub will skip and use local models")
    return online


def reset_online_cache() -> None:
    """Forget the cached online check (tests use this)."""
    global _ONLINE_CACHE
    _ONLINE_CACHE = None
