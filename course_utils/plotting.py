"""The course's figures, with one small, consistent look.

- ``plot_waveform``      amplitude over time (seconds)
- ``plot_spectrogram``   a dB spectrogram or log-mel, time in seconds, frequency in Hz
- ``plot_filterbank``    the triangles of a mel filterbank against frequency
- ``plot_features``      several panels (waveform, spectrogram, log-mel, MFCC, ...) on one time axis
- ``LivePlot``           the training-curve plot every training loop uses: redraws in place in
                         Jupyter, draws the final figure once when run headless

Figures are small (8 x 2.5 inches at 80 dpi) so notebooks stored with their outputs stay small.
Every function takes NumPy arrays or torch tensors and an optional ``ax`` to draw into.
"""

from __future__ import annotations

import io
import math
import os
import time
from typing import Iterable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

#: Default size of one panel (inches) and resolution; small on purpose.
FIGSIZE = (8.0, 2.5)
DPI = 80
#: Colour map for spectrograms, and how many colours it has (20 look smooth and keep PNGs small).
CMAP = "magma"
CMAP_LEVELS = 20
#: Waveforms longer than 4x this many samples are drawn as a min/max envelope of this many points.
ENVELOPE_POINTS = 1000


def _to_numpy(x) -> np.ndarray:
    """Return ``x`` (array, list or torch tensor on any device) as a NumPy array."""
    if hasattr(x, "detach"):
        x = x.detach().float().cpu().numpy()
    return np.asarray(x)


def _new_ax(ax: Axes | None, figsize: tuple[float, float] = FIGSIZE) -> Axes:
    """Return ``ax``, or the axes of a new figure of the course's size."""
    if ax is not None:
        return ax
    _, ax = plt.subplots(figsize=figsize, dpi=DPI, layout="constrained")
    return ax


def plot_waveform(x, sr: int, ax: Axes | None = None, title: str | None = None, **line_kw) -> Axes:
    """Return the axes after drawing the waveform ``x`` (``(n,)`` or ``(channels, n)``) against time in seconds."""
    x = _to_numpy(x)
    if x.ndim == 2 and x.shape[0] > x.shape[1]:
        x = x.T
    ax = _new_ax(ax)
    t = np.arange(x.shape[-1]) / sr
    line_kw.setdefault("lw", 0.7)
    for i, ch in enumerate(np.atleast_2d(x)):
        label = f"channel {i}" if x.ndim == 2 else None
        if len(ch) > 4 * ENVELOPE_POINTS:  # long signal: draw its min/max envelope (same look, small PNG)
            n = len(ch) // ENVELOPE_POINTS * ENVELOPE_POINTS
            blocks = ch[:n].reshape(ENVELOPE_POINTS, -1)
            tb = t[:n].reshape(ENVELOPE_POINTS, -1)[:, 0]
            ax.fill_between(tb, blocks.min(1), blocks.max(1), lw=0, label=label,
                            color=line_kw.get("color", f"C{i}"), alpha=line_kw.get("alpha", 1.0))
        else:
            ax.plot(t, ch, label=label, **line_kw)
    ax.set_xlim(0, max(t[-1], 1.0 / sr) if len(t) else 1.0)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("amplitude")
    if x.ndim == 2:
        ax.legend(loc="upper right", fontsize=8)
    if title:
        ax.set_title(title)
    return ax


def _hz_to_mel(f):
    """Return mels for ``f`` Hz using the course's formula (from ``features`` when available)."""
    try:
        from course_utils.features import hz_to_mel

        out = hz_to_mel(f)
        return _to_numpy(out).astype(float) if not np.isscalar(out) else float(out)
    except Exception:  # features not importable yet: the HTK formula
        return 2595.0 * np.log10(1.0 + np.asarray(f, dtype=float) / 700.0)


def _mel_ticks(n_mels: int, fmin: float, fmax: float) -> tuple[list[float], list[str]]:
    """Return (positions in mel-bin units, labels in Hz) for a mel frequency axis."""
    m_lo, m_hi = float(_hz_to_mel(fmin)), float(_hz_to_mel(fmax))
    step = (m_hi - m_lo) / (n_mels + 1)  # band centres sit at m_lo + (i + 1) * step
    candidates = [0, 500, 1000, 2000, 4000, 8000, 16000]
    pos, lab = [], []
    for f in candidates:
        if fmin <= f <= fmax:
            pos.append((float(_hz_to_mel(f)) - m_lo) / step - 1 + 0.5)
            lab.append(f"{f // 1000}k" if f >= 1000 else str(f))
    return pos, lab


def plot_spectrogram(S_db, sr: int = 16000, hop_length: int = 160, ax: Axes | None = None,
                     y_axis: str = "linear", title: str | None = None, fmax: float | None = None,
                     fmin: float = 0.0, colorbar: bool = True, vmin: float | None = None,
                     vmax: float | None = None, cmap: str = CMAP) -> Axes:
    """Return the axes after drawing a ``(F, frames)`` dB spectrogram (``y_axis="linear"``) or log-mel (``"mel"``).

    Time is in seconds (``frames * hop_length / sr``). For ``"linear"`` the rows are the
    ``n_fft // 2 + 1`` FFT bins from 0 to ``sr / 2`` and ``fmax`` crops the view; for ``"mel"`` the rows
    are mel bands from ``fmin`` to ``fmax`` (default ``sr / 2``), labelled in Hz. Use
    ``y_axis="coef"`` for MFCCs or any other feature rows.
    """
    S = _to_numpy(S_db)
    while S.ndim > 2 and S.shape[0] == 1:
        S = S[0]
    if S.ndim != 2:
        raise ValueError(f"plot_spectrogram expects a 2-D (F, frames) array, got shape {S.shape}")
    if y_axis not in ("linear", "mel", "coef"):
        raise ValueError(f"y_axis must be 'linear', 'mel' or 'coef', got {y_axis!r}")
    ax = _new_ax(ax)
    n_rows, n_frames = S.shape
    t_end = n_frames * hop_length / sr
    if y_axis == "linear":
        extent = (0.0, t_end, 0.0, sr / 2)
    else:
        extent = (0.0, t_end, 0.0, float(n_rows))
    im = ax.imshow(S, origin="lower", aspect="auto", extent=extent, cmap=plt.get_cmap(cmap, CMAP_LEVELS),
                   vmin=vmin, vmax=vmax, interpolation="nearest")
    ax.set_xlabel("time (s)")
    if y_axis == "linear":
        ax.set_ylabel("frequency (Hz)")
        if fmax is not None:
            ax.set_ylim(fmin, fmax)
    elif y_axis == "mel":
        pos, lab = _mel_ticks(n_rows, fmin, fmax if fmax is not None else sr / 2)
        ax.set_yticks(pos, lab)
        ax.set_ylabel("frequency (Hz, mel)")
    else:
        ax.set_ylabel("coefficient")
    if colorbar:
        ax.figure.colorbar(im, ax=ax, pad=0.01, label="dB" if y_axis != "coef" else None)
    if title:
        ax.set_title(title)
    return ax


def plot_filterbank(fb, sr: int, ax: Axes | None = None, title: str | None = None,
                    every: int = 1) -> Axes:
    """Return the axes after drawing each filter of an ``(n_filters, n_fft // 2 + 1)`` filterbank against Hz."""
    fb = _to_numpy(fb)
    if fb.ndim != 2:
        raise ValueError(f"plot_filterbank expects (n_filters, F), got shape {fb.shape}")
    ax = _new_ax(ax)
    freqs = np.linspace(0, sr / 2, fb.shape[1])
    colors = plt.get_cmap("viridis")(np.linspace(0, 1, fb.shape[0]))
    for i in range(0, fb.shape[0], every):
        ax.plot(freqs, fb[i], lw=0.8, color=colors[i])
    ax.set_xlim(0, sr / 2)
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("weight")
    ax.set_title(title or f"{fb.shape[0]} filters")
    return ax


def plot_features(panels: Mapping[str, object], sr: int = 16000, hop_length: int = 160,
                  height: float = 1.8, fmax: float | None = None) -> Figure:
    """Return a figure with one row per entry of ``panels`` (``{title: array}``) on a shared time axis.

    1-D arrays are drawn as waveforms at ``sr``; 2-D arrays as spectrograms, with the axis chosen
    from the title: one containing "mel" is drawn with a mel axis, "mfcc" as coefficients, anything
    else as linear frequency.
    """
    n = len(panels)
    if n == 0:
        raise ValueError("plot_features needs at least one panel")
    fig, axes = plt.subplots(n, 1, figsize=(FIGSIZE[0], height * n), dpi=DPI, sharex=True,
                             layout="constrained", squeeze=False)
    arrays = {}
    for name, arr in panels.items():
        a = _to_numpy(arr)
        while a.ndim > 2 and a.shape[0] == 1:
            a = a[0]
        arrays[name] = a
    any_2d = any(a.ndim == 2 for a in arrays.values())
    for ax, (name, a) in zip(axes[:, 0], arrays.items()):
        if a.ndim == 1:
            plot_waveform(a, sr, ax=ax, title=name)
            ax.set_xlabel("")
            if any_2d:  # an invisible colour bar keeps the time axis aligned with the spectrograms
                cb = fig.colorbar(plt.cm.ScalarMappable(cmap=CMAP), ax=ax, pad=0.01, label="dB")
                cb.ax.set_visible(False)
            continue
        low = name.lower()
        kind = "coef" if "mfcc" in low else "mel" if "mel" in low else "linear"
        plot_spectrogram(a, sr=sr, hop_length=hop_length, ax=ax, y_axis=kind, title=name,
                         fmax=fmax if kind == "linear" else None)
        ax.set_xlabel("")
    axes[-1, 0].set_xlabel("time (s)")
    return fig


def _in_kernel() -> bool:
    """Return True inside a Jupyter/IPython kernel (notebook, Colab, nbconvert), False in plain Python."""
    try:
        from IPython import get_ipython

        ip = get_ipython()
        return ip is not None and hasattr(ip, "kernel")
    except ImportError:  # pragma: no cover
        return False


class LivePlot:
    """A training-curve plot that redraws in place while a loop runs.

    ``metrics`` names the curves; each entry gets its own panel, and a tuple of names shares one
    panel (``metrics=(("train_loss", "val_loss"), "wer")``). ``update(step, loss=...)`` records
    values and, at most every ``every`` updates and ``min_interval`` seconds, redraws the figure in
    the cell's output (one PNG, replaced in place through a display id). ``close()`` draws the
    final figure once. Headless (plain Python, tests) or with ``live=False`` (or the environment
    variable ``COURSE_LIVEPLOT=0``) only the final figure is drawn, so stored notebooks and CI
    logs carry one image. The recorded values are in ``history``.

    Usage::

        plot = LivePlot(metrics=("loss", "val_wer"), every=10)
        for step in range(steps):
            ...
            plot.update(step, loss=loss.item())
        plot.close()
    """

    def __init__(self, metrics: Sequence[str | Sequence[str]] = ("loss",), every: int = 1,
                 xlabel: str = "step", title: str | None = None, logy: Iterable[str] = (),
                 live: bool | None = None, min_interval: float = 1.0, height: float = FIGSIZE[1]):
        if isinstance(metrics, str):
            metrics = (metrics,)
        self.groups: list[tuple[str, ...]] = [(m,) if isinstance(m, str) else tuple(m) for m in metrics]
        if not self.groups or not all(self.groups):
            raise ValueError("LivePlot needs at least one metric name, e.g. LivePlot(metrics=('loss',))")
        self.every = max(1, int(every))
        self.xlabel, self.title, self.logy = xlabel, title, set(logy)
        self.min_interval = float(min_interval)
        self.height = height
        if live is None:
            live = _in_kernel() and os.environ.get("COURSE_LIVEPLOT", "1") != "0"
        self.live = bool(live)
        self.history: dict[str, tuple[list[float], list[float]]] = {}
        self.fig: Figure | None = None
        self._handle = None
        self._n_updates = 0
        self._last_draw = -math.inf
        self._closed = False

    # ----- recording -------------------------------------------------------------------------
    def update(self, step: float, **values: float) -> None:
        """Record ``values`` at ``step`` (numbers or 0-d tensors) and redraw if it is time to."""
        for name, v in values.items():
            if v is None:
                continue
            steps, vals = self.history.setdefault(name, ([], []))
            steps.append(float(step))
            vals.append(float(v.item() if hasattr(v, "item") else v))
        self._closed = False
        self._n_updates += 1
        if not self.live or self._n_updates % self.every:
            return
        now = time.monotonic()
        if now - self._last_draw >= self.min_interval:
            self._show()
            self._last_draw = time.monotonic()

    def last(self, name: str) -> float | None:
        """Return the most recent value recorded for ``name`` (None if there is none)."""
        return self.history[name][1][-1] if self.history.get(name, ([], []))[1] else None

    # ----- drawing ---------------------------------------------------------------------------
    def _summary(self) -> str:
        """Return one line with the latest step and values, for the figure title."""
        parts = []
        latest_step = max((s[-1] for s, _ in self.history.values() if s), default=None)
        if latest_step is not None:
            parts.append(f"{self.xlabel} {latest_step:g}")
        for group in self.groups:
            for name in group:
                v = self.last(name)
                if v is not None:
                    parts.append(f"{name} {v:.4g}")
        return " | ".join(parts)

    def draw(self) -> Figure:
        """Return the figure redrawn from ``history`` (creates it on first use, without pyplot)."""
        if self.fig is None:
            width = FIGSIZE[0] if len(self.groups) > 1 else FIGSIZE[0] * 0.75
            self.fig = Figure(figsize=(width, self.height), dpi=DPI, layout="constrained")
        self.fig.clear()
        axes = self.fig.subplots(1, len(self.groups), squeeze=False)[0]
        for ax, group in zip(axes, self.groups):
            for name in group:
                steps, vals = self.history.get(name, ([], []))
                style = "-" if len(vals) > 20 else "-o"
                ax.plot(steps, vals, style, ms=3, lw=1.2, label=name)
                if name in self.logy and vals and min(vals) > 0:
                    ax.set_yscale("log")
            ax.set_xlabel(self.xlabel)
            ax.grid(alpha=0.3)
            if len(group) > 1:
                ax.legend(fontsize=8)
            else:
                ax.set_ylabel(group[0])
        head = self._summary()
        self.fig.suptitle(f"{self.title} - {head}" if self.title and head else (self.title or head),
                          fontsize=10)
        return self.fig

    def to_png(self) -> bytes:
        """Return the current figure as PNG bytes."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        fig = self.draw()
        FigureCanvasAgg(fig)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=DPI)
        return buf.getvalue()

    def _show(self) -> None:
        """Show the figure in the notebook output, replacing the previous drawing in place."""
        if not _in_kernel():
            return
        from IPython.display import Image, display

        img = Image(data=self.to_png(), format="png")
        if self._handle is None:
            self._handle = display(img, display_id=True)
        else:
            self._handle.update(img)

    def close(self) -> None:
        """Draw the final figure once (in place of the live one in a notebook); safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if _in_kernel():
            self._show()
        else:
            self.draw()

    def __enter__(self) -> "LivePlot":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
