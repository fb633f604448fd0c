"""Interactive explorers for the intro session (ipywidgets), and the pure functions behind them.

- ``aliasing_explorer(sr)``   drag a sine (or the top of a chirp) past Nyquist: see the samples, the
                              frequency they really describe, and hear it fold back
- ``bit_depth_explorer()``    fewer bits: the staircase, the quantisation error, SNR vs 6.02 b + 1.76 dB
- ``stft_explorer()``         window length: time resolution against frequency resolution

Each explorer returns a widget (show it by making it a cell's value). ``aliasing_figure``,
``bit_depth_figure`` and ``stft_figure`` draw one setting as a plain figure (what readers see on
GitHub, where widgets do not run). The computations (``alias_frequency``, ``quantize``, ``snr_db``,
``two_tones_and_clicks``, ``stft_db`` ...) are plain functions, so notebooks and tests check them
without sliders.
"""

from __future__ import annotations

import numpy as np

from course_utils.plotting import DPI, FIGSIZE, plot_spectrogram

# ----------------------------------------------------------------------------- sampling and aliasing


def alias_frequency(f: float, sr: float) -> float:
    """Return the frequency in [0, sr/2] that a sine of frequency ``f`` Hz appears at after sampling at ``sr``."""
    if sr <= 0:
        raise ValueError(f"sample rate must be positive, got {sr}")
    r = abs(float(f)) % sr          # sampling cannot tell f from f + k*sr ...
    return min(r, sr - r)           # ... nor f from -f: fold into [0, sr/2]


def tone(f: float, sr: int, duration: float = 1.0, amplitude: float = 0.8, phase: float = 0.0) -> np.ndarray:
    """Return ``amplitude * sin(2 pi f t + phase)`` sampled at ``sr`` for ``duration`` seconds (float32)."""
    t = np.arange(int(round(duration * sr))) / sr
    return (amplitude * np.sin(2 * np.pi * f * t + phase)).astype(np.float32)


def chirp(f0: float, f1: float, sr: int, duration: float = 2.0, amplitude: float = 0.8) -> np.ndarray:
    """Return a linear sweep from ``f0`` to ``f1`` Hz sampled at ``sr`` (float32); above sr/2 it aliases."""
    t = np.arange(int(round(duration * sr))) / sr
    phase = 2 * np.pi * (f0 * t + (f1 - f0) * t ** 2 / (2 * duration))
    return (amplitude * np.sin(phase)).astype(np.float32)


def dominant_frequency(x: np.ndarray, sr: int) -> float:
    """Return the frequency in Hz of the largest peak of ``x``'s spectrum (Hann window, zero-padded FFT)."""
    x = np.asarray(x, dtype=np.float64)
    n_fft = 1 << int(np.ceil(np.log2(len(x) * 4)))
    spec = np.abs(np.fft.rfft(x * np.hanning(len(x)), n=n_fft))
    return float(np.argmax(spec) * sr / n_fft)


# ----------------------------------------------------------------------------- quantisation


def quantize(x: np.ndarray, bits: int) -> np.ndarray:
    """Return ``x`` (in [-1, 1]) rounded to ``bits``-bit PCM levels, as float32 (like int16 for bits=16).

    Levels are ``k / 2**(bits-1)`` for integer ``k`` in ``[-2**(bits-1), 2**(bits-1) - 1]``: a
    mid-tread quantiser with a zero level and two's-complement range, as WAV files store samples.
    """
    if int(bits) != bits or not 1 <= bits <= 32:
        raise ValueError(f"bits must be an integer from 1 to 32, got {bits}")
    half = 2.0 ** (int(bits) - 1)
    q = np.clip(np.round(np.asarray(x, dtype=np.float64) * half), -half, half - 1)
    return (q / half).astype(np.float32)


def snr_db(clean: np.ndarray, noisy: np.ndarray) -> float:
    """Return the signal-to-noise ratio in dB of ``noisy`` against ``clean`` (noise = noisy - clean)."""
    clean = np.asarray(clean, dtype=np.float64)
    noise = np.asarray(noisy, dtype=np.float64) - clean
    p_noise = float(np.mean(noise ** 2))
    if p_noise == 0:
        return float("inf")
    return float(10 * np.log10(np.mean(clean ** 2) / p_noise))


def quantization_snr_rule(bits: int) -> float:
    """Return the textbook SNR in dB of a full-scale sine quantised to ``bits`` bits: 6.02 b + 1.76."""
    return 6.02 * bits + 1.76


def plucked_note(sr: int = 16000, duration: float = 1.5, f: float = 330.0) -> np.ndarray:
    """Return a decaying note with a few harmonics (float32): loud then quiet, so low bit depths are audible."""
    t = np.arange(int(duration * sr)) / sr
    x = sum(np.sin(2 * np.pi * f * k * t) / k for k in (1, 2, 3, 4))
    x = x * np.exp(-3.0 * t)
    return (0.9 * x / np.max(np.abs(x))).astype(np.float32)


# ----------------------------------------------------------------------------- STFT resolution


def two_tones_and_clicks(sr: int = 16000, duration: float = 1.0, f1: float = 1000.0, f2: float = 1080.0,
                         clicks: tuple[float, float] = (0.5, 0.51)) -> np.ndarray:
    """Return two steady tones ``f2 - f1`` Hz apart plus two clicks 10 ms apart (float32), a test of STFT resolution."""
    n = int(duration * sr)
    t = np.arange(n) / sr
    x = 0.25 * np.sin(2 * np.pi * f1 * t) + 0.25 * np.sin(2 * np.pi * f2 * t)
    for c in clicks:
        x[int(c * sr)] += 0.9
    return np.clip(x, -1, 1).astype(np.float32)


def stft_db(x: np.ndarray, win_length: int, hop_length: int | None = None, n_fft: int | None = None):
    """Return the dB spectrogram ``(n_fft//2+1, frames)`` of ``x`` with a Hann window of ``win_length`` samples.

    ``hop_length`` defaults to a quarter window and ``n_fft`` to the next power of two >= max(win_length, 1024),
    so short windows are zero-padded and every setting is drawn on the same frequency grid.
    """
    from course_utils.features import power_to_db, spectrogram

    hop_length = hop_length or max(1, win_length // 4)
    n_fft = n_fft or 1 << int(np.ceil(np.log2(max(win_length, 1024))))
    S = spectrogram(np.asarray(x, dtype=np.float32), n_fft=n_fft, hop_length=hop_length, win_length=win_length)
    return power_to_db(S, top_db=70.0).numpy()


def stft_resolution(win_length: int, sr: int) -> tuple[float, float]:
    """Return ``(seconds, hertz)``: a window's length in time and its bin spacing ``sr / win_length``."""
    return win_length / sr, sr / win_length


# ----------------------------------------------------------------------------- the widgets


def _figure(nrows: int = 1, height: float = FIGSIZE[1]):
    """Return ``(fig, axes)`` for a widget panel, sized like the course's other figures."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, 1, figsize=(FIGSIZE[0], height * nrows), dpi=DPI,
                             layout="constrained", squeeze=False)
    return fig, axes[:, 0]


def _png(fig) -> bytes:
    """Return ``fig`` rendered as PNG bytes, and close it."""
    import io

    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    plt.close(fig)
    return buf.getvalue()


def _wav(x: np.ndarray, sr: int, normalize: bool = False) -> bytes:
    """Return ``x`` as the bytes of a 16-bit WAV file (what an audio widget plays)."""
    from course_utils.audio import play

    return play(x, sr, normalize=normalize).data


# The explorers draw into Image and Audio widgets (not Output widgets): their state is plain data,
# so it is stored in the notebook, shows without a kernel, and executes headless without hangs.
def aliasing_figure(f: float, sr: int, mode: str = "sine"):
    """Return ``(figure, sampled signal, caption)``: a sine (a few ms of samples) or a 0-to-``f`` chirp (spectrogram) at ``sr``."""
    fa = alias_frequency(f, sr)
    if mode == "sine":
        fig, (ax,) = _figure(1, height=2.8)
        span = float(np.clip(6.0 / max(fa, 1.0), 0.002, 0.02))             # about 6 periods of what you hear
        t_fine = np.linspace(0, span, 2000)
        n = np.arange(int(span * sr) + 1)
        samples = np.sin(2 * np.pi * f * n / sr)
        sign = 1.0 if (abs(f) % sr) <= sr / 2 else -1.0                   # a folded sine comes back inverted
        ax.plot(t_fine * 1000, np.sin(2 * np.pi * f * t_fine), color="0.75", lw=0.8, label=f"true {f:.0f} Hz")
        ax.plot(t_fine * 1000, sign * np.sin(2 * np.pi * fa * t_fine), "--", color="C1", lw=1.2,
                label=f"what the samples describe: {fa:.0f} Hz")
        ax.plot(n / sr * 1000, samples, "o", color="C0", ms=4, label=f"samples at {sr} Hz")
        ax.set_xlabel("time (ms)")
        ax.set_ylim(-1.3, 1.3)
        ax.legend(loc="upper right", fontsize=7, ncol=3)
        x = tone(f, sr, duration=1.0, amplitude=0.5)
        text = f"f = {f:.0f} Hz, Nyquist = {sr / 2:.0f} Hz -> heard at {fa:.0f} Hz"
    else:
        x = chirp(0, f, sr, duration=2.0, amplitude=0.5)
        fig, (ax,) = _figure(1, height=2.8)
        plot_spectrogram(stft_db(x, 256, 64, 256), sr=sr, hop_length=64, ax=ax, colorbar=False)
        t = np.linspace(0, 2.0, 400)
        true_f = f * t / 2.0
        ax.plot(t, true_f, color="C0", lw=1.0, ls="--", label="true frequency")
        ax.axhline(sr / 2, color="C2", lw=1, label="Nyquist")
        ax.set_ylim(0, max(sr / 2, min(f, 2 * sr)) * 1.02)
        ax.legend(loc="upper left", fontsize=7)
        text = f"sweep 0 -> {f:.0f} Hz sampled at {sr} Hz: above {sr / 2:.0f} Hz it folds back down"
    ax.set_title(text, fontsize=10)
    return fig, x, text


def aliasing_explorer(sr: int = 8000):
    """Return a widget: a frequency slider (up to 2*sr) for a sine or a chirp sampled at ``sr``, with plot and audio."""
    import ipywidgets as w

    freq = w.IntSlider(value=1000, min=0, max=2 * sr, step=50, description="frequency (Hz)",
                       continuous_update=False, style={"description_width": "initial"},
                       layout=w.Layout(width="60%"))
    mode = w.ToggleButtons(options=["sine", "chirp"], value="sine", description="signal")
    image = w.Image(format="png")
    player = w.Audio(format="wav", autoplay=False, loop=False)

    def render(_=None):
        fig, x, _caption = aliasing_figure(freq.value, sr, mode.value)
        image.value, player.value = _png(fig), _wav(x, sr)

    freq.observe(render, names="value")
    mode.observe(render, names="value")
    render()
    note = w.HTML(f"<b>Sample rate {sr} Hz, Nyquist {sr // 2} Hz.</b> Drag past Nyquist and listen: "
                  "the pitch goes back down.")
    return w.VBox([note, w.HBox([freq, mode]), image, player])


def bit_depth_figure(x: np.ndarray, sr: int, bits: int):
    """Return ``(figure, quantised signal, error)``: the loudest 10 ms of ``x`` quantised to ``bits`` bits, and the error."""
    xq = quantize(x, bits)
    err = xq - x
    fig, (a0, a1) = _figure(2, height=1.8)
    n = min(len(x), int(0.01 * sr))                                        # zoom on the loudest 10 ms
    i0 = int(np.argmax(np.convolve(x.astype(np.float64) ** 2, np.ones(n), mode="valid")))
    seg = slice(i0, i0 + n)
    t = np.arange(len(x))[seg] / sr * 1000
    a0.plot(t, x[seg], color="0.6", lw=1, label="original")
    a0.step(t, xq[seg], where="mid", color="C0", lw=1.2, label=f"{bits}-bit")
    a0.legend(loc="upper right", fontsize=7)
    a0.set_ylabel("amplitude")
    measured = snr_db(x, xq)
    a0.set_title(f"{bits} bits: {2 ** bits} levels, SNR here {measured:.1f} dB "
                 f"(full-scale sine rule 6.02b+1.76 = {quantization_snr_rule(bits):.1f} dB)", fontsize=10)
    a1.plot(np.arange(len(x)) / sr, err, color="C3", lw=0.5)
    a1.set_ylabel("error")
    a1.set_xlabel("time (s)")
    a0.set_xlabel("time (ms), 10 ms zoom")
    return fig, xq, err


def bit_depth_explorer(x: np.ndarray | None = None, sr: int = 16000):
    """Return a widget: a bits slider (2-16) quantising ``x`` (peak-normalised; default a decaying note), with plots and audio."""
    import ipywidgets as w

    from course_utils.audio import normalize

    x = plucked_note(sr) if x is None else normalize(np.asarray(x, dtype=np.float32), peak=0.95)
    bits = w.IntSlider(value=4, min=2, max=16, description="bits", continuous_update=False)
    image = w.Image(format="png")
    quantised = w.Audio(format="wav", autoplay=False, loop=False)
    error = w.Audio(format="wav", autoplay=False, loop=False)

    def render(_=None):
        fig, xq, err = bit_depth_figure(x, sr, bits.value)
        image.value, quantised.value, error.value = _png(fig), _wav(xq, sr), _wav(err, sr, normalize=True)

    bits.observe(render, names="value")
    render()
    return w.VBox([bits, image, w.HBox([w.Label("quantised:"), quantised]),
                   w.HBox([w.Label("the error alone (made louder):"), error])])


def stft_figure(x: np.ndarray, sr: int, win_ms: float, ax=None):
    """Return the figure: the spectrogram of ``x`` over 0.44-0.57 s and 0-3 kHz with a ``win_ms`` ms window."""
    win = max(8, int(round(win_ms * sr / 1000)))
    hop = max(1, win // 4)
    S = stft_db(x, win, hop)
    dt, df = stft_resolution(win, sr)
    if ax is None:
        fig, (ax,) = _figure(1, height=3.0)
    fig = ax.figure
    plot_spectrogram(S, sr=sr, hop_length=hop, ax=ax, colorbar=False, vmin=S.max() - 60)
    ax.set_xlim(0.44, 0.57)
    ax.set_ylim(0, 3000)
    ax.set_title(f"window {win_ms:g} ms ({win} samples): time resolution ~{dt * 1000:.0f} ms, "
                 f"bin spacing {df:.0f} Hz", fontsize=10)
    return fig


def stft_explorer(x: np.ndarray | None = None, sr: int = 16000):
    """Return a widget: a window-length slider (2-128 ms) over the spectrogram of two tones and two clicks."""
    import ipywidgets as w

    x = two_tones_and_clicks(sr) if x is None else np.asarray(x, dtype=np.float32)
    win = w.SelectionSlider(options=[2, 4, 8, 16, 32, 64, 128], value=16, description="window (ms)",
                            continuous_update=False, style={"description_width": "initial"})
    image = w.Image(format="png")

    def render(_=None):
        image.value = _png(stft_figure(x, sr, win.value))

    win.observe(render, names="value")
    render()
    player = w.Audio(value=_wav(x, sr, normalize=True), format="wav", autoplay=False, loop=False)
    note = w.HTML("Tones at 1000 and 1080 Hz, clicks at 0.50 and 0.51 s. Which window shows both pairs?")
    return w.VBox([note, player, win, image])
