"""Session 02 (CTC): the scratch loss, the decoders, forced alignment, the model and its checkpoints."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils.decoding import (FlashlightDecoder, ctc_collapse, ctc_greedy, ctc_prefix_beam_search,
                                   forced_align_words, write_arpa)
from course_utils.losses import ctc_loss_scratch
from course_utils.models import available_archs, build_model, get_model_class
from course_utils.text import DIGIT_VOCAB, CharTokenizer
from course_utils.train import load_checkpoint, prepare_audio, save_checkpoint

TOK = CharTokenizer.for_words(DIGIT_VOCAB)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Run these small-tensor tests on one thread: as fast, repeatable, and immune to busy shared CPUs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _random_ctc_problem(seed: int = 0, dtype=torch.float64):
    """Return (logits, targets, input_lengths, target_lengths) with repeats and an empty target."""
    g = torch.Generator().manual_seed(seed)
    T, B, V, L = 25, 4, 6, 7
    logits = torch.randn(T, B, V, generator=g, dtype=dtype, requires_grad=True)
    targets = torch.randint(1, V, (B, L), generator=g)
    targets[0, 1] = targets[0, 0]  # a repeated label needs a blank between
    return logits, targets, torch.tensor([25, 22, 15, 9]), torch.tensor([7, 5, 3, 0])


@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_scratch_ctc_loss_matches_torch_values_and_gradients(reduction):
    logits, targets, il, tl = _random_ctc_problem()
    ours = ctc_loss_scratch(logits.log_softmax(-1), targets, il, tl, reduction=reduction)
    (g_ours,) = torch.autograd.grad(ours.sum(), logits)
    ref = F.ctc_loss(logits.log_softmax(-1), targets, il, tl, reduction=reduction)
    (g_ref,) = torch.autograd.grad(ref.sum(), logits)
    torch.testing.assert_close(ours, ref, atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(g_ours, g_ref, atol=1e-6, rtol=1e-6)


def test_scratch_ctc_loss_accepts_batch_first_and_concatenated_targets():
    logits, targets, il, tl = _random_ctc_problem(seed=1)
    lp = logits.log_softmax(-1)
    flat = torch.cat([targets[b, : tl[b]] for b in range(len(tl))])
    ref = F.ctc_loss(lp, targets, il, tl, reduction="none")
    torch.testing.assert_close(ctc_loss_scratch(lp.transpose(0, 1), targets, il, tl, reduction="none",
                                                batch_first=True), ref)
    torch.testing.assert_close(ctc_loss_scratch(lp, flat, il, tl, reduction="none"), ref)


def test_scratch_ctc_loss_counts_every_alignment_of_a_tiny_example():
    # Two frames, label "a": the paths a a, a _, _ a collapse to "a"; p = 1 - p(_ _).
    p_blank = torch.tensor([0.6, 0.3])
    lp = torch.stack([p_blank, 1 - p_blank], dim=-1).log().unsqueeze(1)  # (T=2, B=1, V=2)
    loss = ctc_loss_scratch(lp, torch.tensor([[1]]), torch.tensor([2]), torch.tensor([1]), reduction="sum")
    assert loss.item() == pytest.approx(-np.log(1 - 0.6 * 0.3), rel=1e-6)


def test_greedy_merges_repeats_and_drops_blanks():
    assert ctc_collapse([0, 3, 3, 0, 3, 5, 5, 0, 0]) == [3, 3, 5]
    assert ctc_collapse([0, 0, 0]) == []
    # "o n n _ n e": the blank keeps the two n's apart
    path = [TOK.encode(c)[0] if c != "_" else 0 for c in "oo_nn_nee"]
    lp = F.one_hot(torch.tensor(path), len(TOK)).float().add(1e-4).log().unsqueeze(0)
    assert ctc_greedy(lp, torch.tensor([len(path)]), TOK) == ["onne"]
    assert ctc_greedy(lp, torch.tensor([3]), TOK) == ["o"]  # frames past the length are ignored


def test_prefix_beam_search_beats_greedy_when_the_best_path_is_not_the_best_labelling():
    # Per frame: blank 0.6, "a" 0.4. Best path "_ _" -> "" (p 0.36); labelling "a" has p 0.64.
    tok = CharTokenizer("a")
    lp = torch.tensor([[0.6, 0.4], [0.6, 0.4]]).log()
    assert ctc_greedy(lp.unsqueeze(0), None, tok) == [""]
    assert ctc_prefix_beam_search(lp, tok, beam=4) == "a"


def test_prefix_beam_search_agrees_with_greedy_on_peaky_outputs():
    g = torch.Generator().manual_seed(0)
    lp = (torch.randn(40, len(TOK), generator=g) * 8).log_softmax(-1)  # nearly one-hot frames
    assert ctc_prefix_beam_search(lp, TOK, beam=8) == ctc_greedy(lp.unsqueeze(0), None, TOK)[0]


def _emissions_for(text: str, positions: list[int], T: int) -> torch.Tensor:
    """Return (T, V) log-probs that emit each character of ``text`` at the given frames, blank elsewhere."""
    lp = torch.full((T, len(TOK)), -12.0)
    lp[:, 0] = 0.0
    for i, t in zip(TOK.encode(text), positions):
        lp[t, i], lp[t, 0] = 0.0, -12.0
    return lp.log_softmax(-1)


def test_flashlight_decoder_with_lexicon_and_bigram_lm_reads_digit_words(tmp_path):
    lp = _emissions_for("one two", [2, 5, 8, 12, 16, 18, 21], T=30)
    arpa = write_arpa(["one two", "two three"], tmp_path / "lm.arpa", vocab=DIGIT_VOCAB)
    assert "\\2-grams:" in arpa.read_text()
    decoder = FlashlightDecoder(TOK, DIGIT_VOCAB, lm_texts=["one two", "two three"], workdir=tmp_path)
    assert decoder(lp.unsqueeze(0)) == ["one two"]


def test_forced_alignment_is_monotone_and_inside_the_utterance():
    frame_s = 0.04
    lp = _emissions_for("one two", [2, 5, 8, 12, 16, 18, 21], T=30)
    words = forced_align_words(lp, "one two", TOK, frame_s)
    assert [w for w, _, _ in words] == ["one", "two"]
    times = [t for _, s, e in words for t in (s, e)]
    assert times == sorted(times) and times[0] >= 0 and times[-1] <= 30 * frame_s
    assert words[0][1] == pytest.approx(2 * frame_s) and words[1][2] == pytest.approx(22 * frame_s)
    with pytest.raises(ValueError, match="too few"):
        forced_align_words(lp[:5], "one two", TOK, frame_s)


def test_model_registry_names_known_archs_and_rejects_unknown_ones():
    assert "ctc" in available_archs()
    with pytest.raises(ValueError, match="unknown model architecture 'nope'"):
        get_model_class("nope")


def test_ctc_model_shapes_and_size():
    model = build_model("ctc")
    n_params = sum(p.numel() for p in model.parameters())
    assert 0.5e6 <= n_params <= 1.0e6
    wave = torch.randn(3, 16000) * 0.1
    lengths = torch.tensor([16000, 12000, 4000])
    wave[1, 12000:], wave[2, 4000:] = 0.0, 0.0  # padding, as collate_speech makes it
    log_probs, out_lengths = model.eval()(wave, lengths)
    assert log_probs.shape == (3, 26, len(TOK))  # 101 frames of 10 ms -> 26 of 40 ms
    assert out_lengths.tolist() == [26, 19, 7]
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(3, 26))
    assert model.frame_seconds == pytest.approx(0.04)
    # an utterance's output does not depend on the padding around it
    alone, _ = model(wave[2:, :4000], lengths[2:])
    torch.testing.assert_close(alone[0], log_probs[2, :7], atol=1e-4, rtol=1e-4)


def _tone_batch():
    """Return a batch of two 'utterances' made of tone sequences, labelled with digit words."""
    sr = 16000

    def tones(*freqs):
        t = np.arange(int(0.25 * sr)) / sr
        return np.concatenate([0.3 * np.sin(2 * np.pi * f * t) for f in freqs]).astype(np.float32)

    a, b = tones(300, 900), tones(1500, 2500, 600)
    wave = torch.zeros(2, len(b))
    wave[0, : len(a)], wave[1] = torch.from_numpy(a), torch.from_numpy(b)
    return {"wave": wave, "lengths": torch.tensor([len(a), len(b)]), "text": ["oh six", "two"]}


def test_ctc_model_overfits_two_utterances_in_a_few_steps():
    torch.manual_seed(0)
    model = build_model("ctc", conv_channels=64, rnn_hidden=64, rnn_layers=1, spec_augment=False, dropout=0.0)
    batch = _tone_batch()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = None
    for _ in range(30):
        loss = model.loss(batch)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.25 * first
    assert model.transcribe(batch["wave"], batch["lengths"]) == ["oh six", "two"]


def test_checkpoint_round_trip_keeps_config_and_outputs(tmp_path):
    model = build_model("ctc", rnn_hidden=96).eval()
    path = save_checkpoint(model, tmp_path / "m.pt", meta={"note": "test"})
    loaded = load_checkpoint(path)
    assert loaded.config == model.config and loaded.meta == {"note": "test"}
    wave, lengths = torch.randn(2, 8000) * 0.1, torch.tensor([8000, 6000])
    torch.testing.assert_close(loaded(wave, lengths)[0], model(wave, lengths)[0])
    assert path.stat().st_size < 10e6


def test_load_checkpoint_rejects_missing_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "missing.pt")
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a course_utils ASR checkpoint"):
        load_checkpoint(tmp_path / "other.pt")


def test_prepare_audio_trims_silence_and_sets_the_level():
    sr = 16000
    speech = 0.01 * np.sin(2 * np.pi * 440 * np.arange(sr) / sr).astype(np.float32)
    x = np.concatenate([np.zeros(2 * sr, np.float32), speech, np.zeros(sr, np.float32)]) + 0.05  # DC too
    y = prepare_audio(x, sr)
    assert len(y) == pytest.approx(sr + 2 * 0.15 * sr, abs=0.03 * sr)
    assert 20 * np.log10(np.sqrt(np.mean(y ** 2))) == pytest.approx(-20, abs=0.5)
    assert abs(float(y.mean())) < 1e-3


def test_transcribe_with_the_lexicon_decoder_only_writes_digit_words():
    torch.manual_seed(0)
    model = build_model("ctc").eval()
    wave, lengths = torch.randn(2, 16000) * 0.1, torch.tensor([16000, 9000])
    for text in model.transcribe(wave, lengths):  # config.decoder == "lexicon"
        assert set(text.split()) <= set(DIGIT_VOCAB)
    assert len(model.transcribe(wave, lengths, decoder="greedy")) == 2
    with pytest.raises(ValueError, match="decoder must be"):
        model.transcribe(wave, lengths, decoder="viterbi")


def test_pocketsphinx_baseline_only_answers_in_digit_words():
    pytest.importorskip("pocketsphinx")
    from course_utils.baselines import PocketsphinxDigits

    try:
        from course_utils.data import asterisk_digit_path

        path = asterisk_digit_path("seven")
    except (ImportError, FileNotFoundError) as e:
        pytest.skip(str(e))
    sphinx = PocketsphinxDigits()
    assert sphinx.transcribe(path) == "seven"
    noise = np.random.default_rng(0).normal(0, 0.05, 8000).astype(np.float32)
    assert set(sphinx.transcribe(noise, 8000).split()) <= set(DIGIT_VOCAB)
    with pytest.raises(ValueError, match="sr="):
        sphinx.transcribe(noise)
