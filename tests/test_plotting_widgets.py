"""Tests for course_utils.plotting, widgets and exercises: the pure functions, and that the pieces build headless."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from course_utils import exercises, plotting, widgets
from course_utils.exercises import Wrong, check, expect_close, expect_shape, register


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# ----------------------------------------------------------------------------- aliasing
@pytest.mark.parametrize("f, sr, expected", [
    (1000, 8000, 1000), (4000, 8000, 4000), (5000, 8000, 3000), (7900, 8000, 100), (8000, 8000, 0),
    (12500, 8000, 3500), (-300, 8000, 300), (30000, 44100, 14100),
])
def test_alias_frequency_folds_into_0_to_nyquist(f, sr, expected):
    assert widgets.alias_frequency(f, sr) == pytest.approx(expected)


def test_alias_frequency_matches_fft_peak_of_sampled_sine():
    for f in [700, 3300, 5100, 9700, 14000]:
        x = widgets.tone(f, 8000, duration=0.5)
        assert widgets.dominant_frequency(x, 8000) == pytest.approx(widgets.alias_frequency(f, 8000), abs=2.0)


def test_alias_frequency_rejects_bad_rate():
    with pytest.raises(ValueError):
        widgets.alias_frequency(100, 0)


# ----------------------------------------------------------------------------- quantisation
@pytest.mark.parametrize("bits", [6, 8, 12, 16])
def test_quantize_snr_follows_602b_plus_176_for_full_scale_sine(bits):
    x = widgets.tone(997.0, 16000, duration=1.0, amplitude=1 - 2.0 ** -bits)  # full scale, no clipping
    snr = widgets.snr_db(x, widgets.quantize(x, bits))
    assert abs(snr - widgets.quantization_snr_rule(bits)) < 1.0


def test_quantize_uses_pcm_levels_and_range():
    x = np.linspace(-1, 1, 1001)
    q = widgets.quantize(x, 3)
    assert set(np.round(q * 4).astype(int)) <= set(range(-4, 4))
    assert q.dtype == np.float32 and q.min() == -1.0 and q.max() == 0.75
    assert np.max(np.abs(widgets.quantize(x, 16) - x)) <= 2.0 ** -15 + 1e-9


def test_quantize_rejects_bad_bits():
    with pytest.raises(ValueError):
        widgets.quantize(np.zeros(4), 0)
    with pytest.raises(ValueError):
        widgets.quantize(np.zeros(4), 2.5)


def test_stft_resolution_trades_time_for_frequency():
    short_t, short_f = widgets.stft_resolution(64, 16000)
    long_t, long_f = widgets.stft_resolution(1024, 16000)
    assert short_t < long_t and short_f > long_f
    assert short_t * short_f == pytest.approx(1.0)


def test_stft_db_resolves_close_tones_only_with_a_long_window():
    x = widgets.two_tones_and_clicks(16000)                 # tones at 1000 and 1080 Hz

    def dip_between_tones(win):
        S = widgets.stft_db(x, win)
        freqs = np.linspace(0, 8000, S.shape[0])
        column = S[:, S.shape[1] // 4]                      # at 0.25 s, far from the clicks
        peak = column[(freqs > 950) & (freqs < 1130)].max()
        return peak - column[np.argmin(np.abs(freqs - 1040))]

    assert widgets.stft_db(x, 1024).shape[0] == 1024 // 2 + 1
    assert dip_between_tones(1024) > 6.0 > dip_between_tones(64)   # 64 ms separates them, 4 ms cannot


# ----------------------------------------------------------------------------- plotting
def test_plot_functions_draw_numpy_and_torch():
    sr = 16000
    x = widgets.tone(440, sr, 0.25)
    assert plotting.plot_waveform(x, sr, title="tone").get_xlabel() == "time (s)"
    S = np.random.default_rng(0).standard_normal((201, 26))
    ax = plotting.plot_spectrogram(torch.tensor(S), sr=sr, hop_length=160)
    assert ax.get_xlim()[1] == pytest.approx(26 * 160 / sr)
    assert ax.get_ylim()[1] == pytest.approx(sr / 2)
    plotting.plot_spectrogram(S[:80][None], y_axis="mel", title="log-mel")  # (1, F, T) is squeezed
    plotting.plot_filterbank(np.abs(S[:40]), sr)
    fig = plotting.plot_features({"waveform": x, "spectrogram": S, "log-mel": S[:80], "MFCC": S[:13]})
    assert len(fig.axes) >= 4


def test_plot_spectrogram_rejects_1d_and_unknown_axis():
    with pytest.raises(ValueError):
        plotting.plot_spectrogram(np.zeros(10))
    with pytest.raises(ValueError):
        plotting.plot_spectrogram(np.zeros((4, 4)), y_axis="log")


def test_liveplot_runs_headless_records_history_and_closes_once(capsys):
    plot = plotting.LivePlot(metrics=(("train_loss", "val_loss"), "wer"), every=5)
    assert plot.live is False                               # no kernel here: final figure only
    for step in range(50):
        plot.update(step, train_loss=torch.tensor(1.0 / (step + 1)), val_loss=1.1 / (step + 1),
                    wer=None if step % 10 else 0.5 - step / 100)
    plot.close()
    plot.close()
    assert len(plot.history["train_loss"][0]) == 50 and len(plot.history["wer"][0]) == 5
    assert plot.last("wer") == pytest.approx(0.1)
    assert plot.fig is not None and len(plot.fig.axes) == 2
    assert plot.to_png()[:4] == b"\x89PNG"
    assert capsys.readouterr().out == ""                    # nothing printed headless


def test_liveplot_needs_a_metric():
    with pytest.raises(ValueError):
        plotting.LivePlot(metrics=())


# ----------------------------------------------------------------------------- widgets
@pytest.mark.parametrize("make", [
    lambda: widgets.aliasing_explorer(sr=8000),
    lambda: widgets.bit_depth_explorer(),
    lambda: widgets.stft_explorer(),
])
def test_widget_constructors_build_headless(make):
    import ipywidgets

    w = make()
    assert isinstance(w, ipywidgets.VBox)


def test_aliasing_explorer_redraws_past_nyquist_and_in_chirp_mode():
    w = widgets.aliasing_explorer(sr=8000)
    slider = next(c for c in w.children[1].children if hasattr(c, "max"))
    toggle = next(c for c in w.children[1].children if hasattr(c, "options"))
    slider.value = 6000                                     # past Nyquist: redraw must not fail
    toggle.value = "chirp"
    fig, x, text = widgets.aliasing_figure(6000, 8000, "sine")
    assert "2000 Hz" in text and len(x) == 8000


# ----------------------------------------------------------------------------- exercises
def _alias_right(f, sr):
    r = abs(f) % sr
    return min(r, sr - r)


def _alias_wrong(f, sr):
    return f


def _not_done(f, sr):
    ...


def _raises_not_implemented(f, sr):
    raise NotImplementedError


def test_check_unattempted_prints_and_does_not_raise(capsys):
    check("01.alias_frequency", ...)
    check("01.alias_frequency", _not_done)
    check("01.alias_frequency", _raises_not_implemented)
    out = capsys.readouterr().out
    assert out.count("not attempted yet") == 3 and 'hint("01.alias_frequency")' in out


def test_check_correct_answer_says_so(capsys):
    check("01.alias_frequency", _alias_right)
    assert "✅" in capsys.readouterr().out


def test_check_wrong_answer_raises_assertion_with_reason(capsys):
    with pytest.raises(AssertionError, match="alias_frequency\\(5000, 8000\\)"):
        check("01.alias_frequency", _alias_wrong)
    assert "❌" in capsys.readouterr().out


def test_check_crashing_answer_is_wrong_not_unattempted():
    with pytest.raises(AssertionError, match="ZeroDivisionError"):
        check("01.alias_frequency", lambda f, sr: 1 / 0)


def test_check_unknown_exercise_lists_known_names():
    with pytest.raises(KeyError, match="01.alias_frequency"):
        check("99.nope", 1)


def test_registered_reference_solutions_pass(capsys):
    check("00.tone", lambda f, sr, d: 0.5 * np.sin(2 * np.pi * f * np.arange(int(d * sr)) / sr))
    check("01.num_frames", lambda n, n_fft, hop: 1 + n // hop)
    check("01.hz_to_mel_htk", lambda f: 2595 * np.log10(1 + f / 700))

    def mix(clean, noise, snr):
        g = np.sqrt(np.mean(clean ** 2) / (np.mean(noise ** 2) * 10 ** (snr / 10)))
        return clean + g * noise

    check("01.mix_at_snr", mix)
    assert capsys.readouterr().out.count("✅") == 4


def test_new_exercises_register_with_expect_helpers(capsys):
    @register("99.double", hint="multiply by two")
    def _check(fn):
        expect_shape(fn(np.ones(3)), (3,), "double(ones(3))")
        expect_close(fn(np.arange(3.0)), [0.0, 2.0, 4.0], "double(arange(3))")

    try:
        check("99.double", lambda x: 2 * x)
        with pytest.raises(AssertionError, match="shape"):
            check("99.double", lambda x: np.stack([x, x]))
        assert "99.double" in exercises.list_exercises()
        assert exercises.hint("99.double") == "multiply by two"
    finally:
        exercises.EXERCISES.pop("99.double")


def test_expect_close_messages_name_shape_and_value():
    with pytest.raises(Wrong, match=r"shape \(3,\)"):
        expect_close(np.zeros((3, 1)), np.zeros(3), "x")
    with pytest.raises(Wrong, match="≈ 2"):
        expect_close(1.0, 2.0, "x")
