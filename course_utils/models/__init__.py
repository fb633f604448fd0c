"""The course's ASR models, one small readable file per family, behind one interface.

Every ASR model is an ``nn.Module`` with

- ``config``: a dataclass (with an ``arch`` field) that rebuilds the model: ``Model(config)``;
- ``loss(batch) -> Tensor``: a scalar training loss for a batch from ``collate_speech``;
- ``transcribe(wave (B, N), lengths (B,)) -> list[str]``: text for a batch of 16 kHz waveforms.

so ``course_utils.train`` trains, evaluates, saves and loads every one of them the same way.
A model file registers its class with ``@register("name")``; ``get_model_class("name")`` imports
``course_utils.models.name`` on first use (session 02: ``ctc``; 03: ``rnnt``; 04: ``las``).
"""

from __future__ import annotations

import importlib
import pkgutil

from torch import nn

_REGISTRY: dict[str, type[nn.Module]] = {}


def register(arch: str):
    """Return a class decorator that makes the model class available as ``arch``."""
    def add(cls: type[nn.Module]) -> type[nn.Module]:
        _REGISTRY[arch] = cls
        return cls
    return add


def available_archs() -> list[str]:
    """Return the names of the model files in this package (the architectures that can be built)."""
    found = {m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_")}
    return sorted(found | set(_REGISTRY))


def get_model_class(arch: str) -> type[nn.Module]:
    """Return the model class registered as ``arch``; raises ValueError naming the known architectures."""
    if arch not in _REGISTRY:
        if arch in available_archs():
            importlib.import_module(f"{__name__}.{arch}")
        if arch not in _REGISTRY:
            known = ", ".join(available_archs()) or "none"
            raise ValueError(f"unknown model architecture {arch!r} (available here: {known})")
    return _REGISTRY[arch]


def build_model(arch: str, **config) -> nn.Module:
    """Return a new, untrained model of architecture ``arch``; keyword arguments override its config."""
    cls = get_model_class(arch)
    return cls(cls.config_class(**config))
