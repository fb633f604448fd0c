"""Exercise checkers: friendly feedback in the notebooks, an error only for a wrong attempt.

In a notebook::

    def alias_frequency(f, sr):
        ...  # your code here

    check("01.alias_frequency", alias_frequency)

``check`` prints one of three answers:

- ``⏳ not attempted yet`` (and how to ask for a hint) - the answer is still ``...`` (or None), or
  a function whose body is still ``...`` (it returns None) or raises ``NotImplementedError``.
  Never raises, so a notebook still runs top to bottom (nbval, "Run all") before anyone has done
  the exercises.
- ``✅ correct`` - the checker accepted it.
- ``❌ not yet: <what was wrong>`` - and raises ``AssertionError`` with the same message, so a wrong
  solution stops "Run all" where the problem is.

Adding an exercise (in this file, or in a notebook for a one-off): write a function that takes the
learner's answer and calls the ``expect_*`` helpers (or raises :class:`Wrong`), and register it::

    @register("02.collapse", hint="merge repeats first, then drop blanks")
    def _check_collapse(fn):
        expect_equal(fn([1, 1, 0, 1]), [1, 1], "collapse([1, 1, 0, 1])")

Names are ``"<notebook number>.<short name>"``; ``list_exercises()`` shows what is registered.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np


class Wrong(AssertionError):
    """Raised by a checker when an attempted answer is wrong; the message says what to look at."""


class _NotAttempted(Exception):
    """Raised internally when an answer is still the placeholder."""


@dataclass
class Exercise:
    """A registered exercise: its name, the checker function and an optional hint."""

    name: str
    checker: Callable[..., Any]
    hint: str = ""


#: Every registered exercise, by name.
EXERCISES: dict[str, Exercise] = {}


def register(name: str, hint: str = "") -> Callable[[Callable], Callable]:
    """Return a decorator that registers a checker under ``name`` (re-registering replaces it)."""

    def deco(checker: Callable) -> Callable:
        EXERCISES[name] = Exercise(name, checker, hint)
        return checker

    return deco


def list_exercises() -> list[str]:
    """Return the names of all registered exercises, sorted."""
    return sorted(EXERCISES)


def hint(name: str) -> str:
    """Return the hint for exercise ``name`` (empty if it has none)."""
    return _get(name).hint


def _get(name: str) -> Exercise:
    """Return the exercise called ``name`` or raise a KeyError listing the known ones."""
    if name not in EXERCISES:
        raise KeyError(f"no exercise called {name!r}; known: {', '.join(list_exercises())}")
    return EXERCISES[name]


def _is_placeholder(value: Any) -> bool:
    """Return True if ``value`` is the unfilled ``...`` or None."""
    return value is Ellipsis or value is None


def _guard(fn: Callable) -> Callable:
    """Return ``fn`` wrapped so that a placeholder result (None, ``...``, NotImplementedError) means not attempted."""

    def wrapped(*args, **kwargs):
        try:
            out = fn(*args, **kwargs)
        except NotImplementedError as e:
            raise _NotAttempted from e
        if _is_placeholder(out):
            raise _NotAttempted
        return out

    wrapped.__name__ = getattr(fn, "__name__", "your function")
    return wrapped


def check(name: str, answer: Any, *args, **kwargs) -> None:
    """Check ``answer`` (a value or a function) for exercise ``name``; print feedback, raise AssertionError if wrong.

    Extra ``args``/``kwargs`` are passed on to the checker (for exercises that need context).
    """
    ex = _get(name)
    tip = f"\n   hint: {ex.hint}" if ex.hint else ""
    try:
        if _is_placeholder(answer):
            raise _NotAttempted
        ex.checker(_guard(answer) if callable(answer) else answer, *args, **kwargs)
    except _NotAttempted:
        nudge = f' Stuck? hint("{name}")' if ex.hint else ""
        print(f"⏳ {name}: not attempted yet - replace the `...` with your code (and `return` the result).{nudge}")
        return
    except Wrong as e:
        msg = f"❌ {name}: not yet: {e}"
        print(msg + tip)
        raise AssertionError(msg) from None
    except Exception as e:  # the learner's code crashed: that is an attempt that needs work
        msg = f"❌ {name}: not yet: your code raised {type(e).__name__}: {e}"
        print(msg + tip)
        raise AssertionError(msg) from e
    print(f"✅ {name}: correct")


# ----------------------------------------------------------------------------- helpers for checkers


def _to_numpy(x: Any) -> np.ndarray:
    """Return ``x`` (number, list, array or torch tensor) as a NumPy array."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def expect(condition: bool, message: str) -> None:
    """Raise :class:`Wrong` with ``message`` unless ``condition`` holds."""
    if not condition:
        raise Wrong(message)


def expect_shape(got: Any, shape: tuple, what: str = "your answer") -> None:
    """Raise :class:`Wrong` unless ``got`` has ``shape`` (use None in ``shape`` for 'any size')."""
    g = _to_numpy(got)
    ok = g.ndim == len(shape) and all(s is None or s == d for s, d in zip(shape, g.shape))
    want = "(" + ", ".join("n" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
    expect(ok, f"expected {what} to have shape {want}, got {tuple(g.shape)}")


def expect_equal(got: Any, expected: Any, what: str = "your answer") -> None:
    """Raise :class:`Wrong` unless ``got == expected`` (element-wise for arrays and lists)."""
    g, e = _to_numpy(got), _to_numpy(expected)
    if g.shape != e.shape:
        raise Wrong(f"expected {what} to have shape {e.shape}, got {g.shape}")
    expect(bool(np.all(g == e)), f"expected {what} = {expected!r}, got {got!r}")


def expect_close(got: Any, expected: Any, what: str = "your answer", rtol: float = 1e-4,
                 atol: float = 1e-6) -> None:
    """Raise :class:`Wrong` unless ``got`` matches ``expected`` in shape and within the tolerances."""
    g = _to_numpy(got)
    e = _to_numpy(expected)
    if g.dtype.kind not in "fiub":
        raise Wrong(f"expected {what} to be a number or an array of numbers, got {type(got).__name__}")
    if g.shape != e.shape:
        raise Wrong(f"expected {what} to have shape {e.shape}, got {g.shape}")
    if not np.allclose(g, e, rtol=rtol, atol=atol, equal_nan=False):
        if e.size == 1:
            raise Wrong(f"expected {what} ≈ {e.item():.6g}, got {g.item():.6g}")
        worst = int(np.argmax(np.abs(g - e)))
        raise Wrong(f"{what} differs from the expected values (largest gap at index {worst}: "
                    f"expected {e.flat[worst]:.6g}, got {g.flat[worst]:.6g})")


# ----------------------------------------------------------------------------- 00 welcome


@register("00.add", hint="return a + b")
def _check_add(fn):
    for a, b in [(1, 2), (-3, 3), (0.5, 0.25)]:
        expect_close(fn(a, b), a + b, f"my_add({a}, {b})")


@register("00.tone", hint="t = np.arange(int(duration * sr)) / sr; return np.sin(2 * np.pi * freq * t)")
def _check_tone(fn):
    from course_utils.widgets import dominant_frequency

    for freq, sr, dur in [(440, 16000, 0.5), (1000, 8000, 0.25), (3000, 22050, 0.1)]:
        x = _to_numpy(fn(freq, sr, dur))
        call = f"tone({freq}, {sr}, {dur})"
        expect_shape(x, (int(dur * sr),), call)
        expect(x.dtype.kind == "f", f"{call} should hold floats, got dtype {x.dtype}")
        expect(np.all(np.abs(x) <= 1.0 + 1e-6), f"{call} should stay within [-1, 1] (peak {np.abs(x).max():.3g})")
        expect(np.abs(x).max() > 0.1, f"{call} is (almost) silent")
        f0 = dominant_frequency(x, sr)
        expect(abs(f0 - freq) < max(2.0, 2.0 * sr / len(x) / 4), f"{call} has its peak at {f0:.1f} Hz, not {freq} Hz")


# ----------------------------------------------------------------------------- 01 intro to audio


@register("01.alias_frequency",
          hint="sampling cannot tell f from f + k*sr, nor f from -f: take f % sr, then fold it into [0, sr/2]")
def _check_alias(fn):
    from course_utils.widgets import alias_frequency

    for f, sr in [(1000, 8000), (3999, 8000), (4000, 8000), (5000, 8000), (7900, 8000), (8000, 8000),
                  (12500, 8000), (30000, 44100), (50, 16000)]:
        expect_close(fn(f, sr), alias_frequency(f, sr), f"alias_frequency({f}, {sr})", atol=1e-6)


@register("01.num_frames", hint="center=True pads n_fft // 2 samples at each end; then count the hops that fit")
def _check_num_frames(fn):
    for n, n_fft, hop in [(16000, 400, 160), (16000, 512, 128), (8000, 400, 100), (1000, 400, 160), (1, 400, 160)]:
        expected = 1 + (n + 2 * (n_fft // 2) - n_fft) // hop
        got = fn(n, n_fft, hop)
        expect(isinstance(got, (int, np.integer)) or (hasattr(got, "item") and float(got) == int(got)),
               f"num_frames({n}, {n_fft}, {hop}) should be a whole number, got {got!r}")
        expect_equal(int(got), expected, f"num_frames({n}, {n_fft}, {hop})")


@register("01.hz_to_mel_htk", hint="m = 2595 * log10(1 + f / 700)")
def _check_hz_to_mel(fn):
    for f in [0.0, 100.0, 700.0, 1000.0, 4000.0, 8000.0]:
        expect_close(fn(f), 2595.0 * math.log10(1.0 + f / 700.0), f"hz_to_mel_htk({f})", rtol=1e-4, atol=1e-3)


@register("01.mix_at_snr",
          hint="scale the noise by g so that 10*log10(P_clean / (g**2 * P_noise)) = snr_db, where P = mean(x**2)")
def _check_mix_at_snr(fn):
    from course_utils.widgets import snr_db, tone

    rng = np.random.default_rng(0)
    clean = tone(440, 16000, 0.5, amplitude=0.5)
    noise = rng.standard_normal(len(clean)).astype(np.float32)
    for target in [20.0, 5.0, 0.0, -5.0]:
        mix = _to_numpy(fn(clean, noise, target))
        call = f"mix_at_snr(clean, noise, {target})"
        expect_shape(mix, clean.shape, call)
        got = snr_db(clean, mix)
        expect(abs(got - target) < 0.1, f"{call} has an SNR of {got:.2f} dB, not {target} dB")
        resid = mix - clean
        corr = float(np.dot(resid, noise) / (np.linalg.norm(resid) * np.linalg.norm(noise) + 1e-12))
        expect(corr > 0.999, f"{call} should be clean + (a scaled copy of) noise")


# ----------------------------------------------------------------------------- 07 keywords and speakers


@register("07.mean_pool", hint="mask = arange(T)[None, :] < lengths[:, None]; sum frames * mask[..., None] over time, "
                               "then divide by lengths[:, None]")
def _check_mean_pool(fn):
    import torch

    gen = torch.Generator().manual_seed(0)
    frames = torch.randn(3, 7, 4, generator=gen)
    lengths = torch.tensor([7, 3, 1])
    want = torch.stack([frames[b, : int(n)].mean(0) for b, n in enumerate(lengths)])
    got = fn(frames, lengths)
    expect_shape(got, (3, 4), "mean_pool(frames (3, 7, 4), lengths)")
    expect_close(got, want, "mean_pool(frames, lengths=[7, 3, 1])", atol=1e-5)
    frames[1, 3:] = 1e6                                                     # padding must not leak in
    expect_close(fn(frames, lengths)[1], want[1], "mean_pool(...)[1] after changing the padding frames", atol=1e-5)


@register("07.identify", hint="normalise both sets of rows to unit length; similarities = test @ enrolled.T; argmax over axis 1")
def _check_identify(fn):
    rng = np.random.default_rng(0)
    enrolled = rng.standard_normal((5, 16)) * rng.uniform(0.5, 3.0, (5, 1))   # lengths differ: cosine, not dot
    truth = rng.integers(5, size=40)
    test = enrolled[truth] / np.linalg.norm(enrolled[truth], axis=1, keepdims=True) + 0.3 * rng.standard_normal((40, 16))
    e = enrolled / np.linalg.norm(enrolled, axis=1, keepdims=True)
    t = test / np.linalg.norm(test, axis=1, keepdims=True)
    want = (t @ e.T).argmax(1)
    got = _to_numpy(fn(enrolled, test))
    expect_shape(got, (40,), "identify(enrolled (5, 16), test (40, 16))")
    expect_equal(got.astype(int), want, "identify(enrolled, test) (cosine similarity, best enrolled speaker)")


@register("07.eer", hint="for each candidate threshold t (each distinct score): FAR = mean(scores[~same] >= t), "
                         "FRR = mean(scores[same] < t); the EER is where they cross - average the two at the closest point")
def _check_eer(fn):
    from course_utils.classify import equal_error_rate

    rng = np.random.default_rng(0)
    for n, gap in [(400, 1.0), (1000, 2.0), (300, 0.3)]:
        same = rng.random(n) < 0.3
        scores = rng.standard_normal(n) + gap * same
        want = equal_error_rate(scores, same)[0]
        got = float(fn(scores, same))
        expect(abs(got - want) < 0.02, f"eer(scores, same) on {n} random trials: expected about {want:.3f}, got {got:.3f}")
    scores = np.array([0.9, 0.8, 0.3, 0.2])
    expect(abs(float(fn(scores, np.array([True, True, False, False])))) < 0.02,
           "eer(...) should be 0 when every same-speaker score beats every different-speaker score")


# ----------------------------------------------------------------------------- 08 sound events and music


@register("08.leaks", hint="a recording leaks when it has clips on both sides: set(train_groups) & set(test_groups)")
def _check_leaks(fn):
    for train, test, want in [(["a", "a", "b"], ["b", "c"], ["b"]), (["a"], ["c"], []),
                              (np.array(["x", "y", "z"]), np.array(["z", "y"]), ["y", "z"])]:
        got = sorted(str(g) for g in fn(train, test))
        expect(got == want, f"leaked_recordings({list(train)}, {list(test)}) should give the recordings {want}, got {got}")


@register("08.segment_f1",
          hint="tp = sum(ref & est), fp = sum(~ref & est), fn = sum(ref & ~est); F1 = 2 tp / (2 tp + fp + fn)")
def _check_segment_f1(fn):
    rng = np.random.default_rng(0)
    for _ in range(5):
        ref, est = rng.random((10, 5)) < 0.3, rng.random((10, 5)) < 0.3
        tp, fp, fn_ = np.sum(ref & est), np.sum(~ref & est), np.sum(ref & ~est)
        expect_close(float(fn(ref, est)), 2 * tp / (2 * tp + fp + fn_), "segment_f1(ref, est) on random activity")
    ref = np.zeros((4, 2), bool)
    ref[1, 0] = True
    expect_close(float(fn(ref, ref.copy())), 1.0, "segment_f1(ref, ref) (a perfect estimate)")
    expect_close(float(fn(ref, np.zeros_like(ref))), 0.0, "segment_f1(ref, nothing detected)")


@register("08.key", hint="for each mode's profile and each tonic k: np.corrcoef(chroma, np.roll(profile, k))[0, 1]; "
                         "keep the best and name it f\"{PITCH_CLASSES[k]} {mode}\"")
def _check_key(fn):
    from course_utils.music import estimate_key

    scale = np.zeros(12)
    scale[[7, 9, 11, 0, 2, 4, 6]] = [3, 1, 2, 1, 2, 1, 1]                      # G major, tonic and triad weighted
    expect_equal(fn(scale), "G major", "best_key(chroma of a G major scale)")
    rng = np.random.default_rng(0)
    for _ in range(6):
        chroma = rng.random(12) ** 3
        expect_equal(fn(chroma), estimate_key(chroma)[0], "best_key(a random chroma vector)")
