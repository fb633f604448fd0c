"""Sessions 03 (RNN-T) and 04 (LAS): the scratch transducer loss, decoding, streaming, the models, checkpoints, CLI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torchaudio.functional as AF

from course_utils.models import build_model
from course_utils.models.las import EOS, PAD, SOS
from course_utils.models.rnnt import BLANK, StreamingDecoder, beam_search, greedy_decode, rnnt_loss_scratch, stream
from course_utils.train import load_checkpoint, save_checkpoint

REPO = Path(__file__).resolve().parents[1]
LAST_LINE = re.compile(r"^WER \d\.\d{3} CER \d\.\d{3} \(n=\d+\)$")


@pytest.fixture(autouse=True)
def _one_thread():
    """Small models run fastest on one thread (and a busy machine's other threads stay free)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _speechlike(seconds: float, seed: int) -> np.ndarray:
    """Return a deterministic buzz with moving formant-like tones, enough to drive a random model."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * 16000)) / 16000
    f = 200 + 150 * np.sin(2 * np.pi * rng.uniform(0.5, 2) * t)
    x = np.sin(2 * np.pi * np.cumsum(f) / 16000) + 0.5 * np.sin(2 * np.pi * np.cumsum(3 * f) / 16000)
    x *= 0.5 + 0.5 * np.sin(2 * np.pi * rng.uniform(1, 4) * t) ** 2
    return (0.1 * x + 0.01 * rng.standard_normal(t.size)).astype(np.float32)


def _batch(texts, seconds=(1.0, 0.7)):
    waves = [torch.from_numpy(_speechlike(s, i)) for i, s in enumerate(seconds)]
    lengths = torch.tensor([len(w) for w in waves])
    wave = torch.zeros(len(waves), int(lengths.max()))
    for i, w in enumerate(waves):
        wave[i, : len(w)] = w
    return {"wave": wave, "lengths": lengths, "text": list(texts)}


# ----------------------------------------------------------------------------- RNN-T loss
@pytest.mark.parametrize("reduction", ["none", "sum", "mean"])
def test_scratch_rnnt_loss_matches_torchaudio_values_and_gradients(reduction):
    g = torch.Generator().manual_seed(0)
    B, T, U, V = 3, 6, 4, 5
    logits = torch.randn(B, T, U + 1, V, generator=g, requires_grad=True)
    targets = torch.randint(1, V, (B, U), generator=g, dtype=torch.int32)
    ll, tl = torch.tensor([6, 4, 2], dtype=torch.int32), torch.tensor([4, 2, 0], dtype=torch.int32)
    ours = rnnt_loss_scratch(logits, targets, ll, tl, reduction=reduction)
    ref = AF.rnnt_loss(logits, targets, ll, tl, blank=0, reduction=reduction)
    (g_ours,) = torch.autograd.grad(ours.sum(), logits)
    (g_ref,) = torch.autograd.grad(ref.sum(), logits)
    torch.testing.assert_close(ours, ref, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(g_ours, g_ref, atol=1e-4, rtol=1e-4)


def test_scratch_rnnt_loss_sums_every_path_of_a_tiny_lattice():
    # T=2 frames, one label "a": paths (a, blank, blank) and (blank, a, blank); with p(blank)=q
    # everywhere and p(a)=1-q, p("a") = 2 q^2 (1 - q).
    q = 0.7
    probs = torch.tensor([q, 1 - q]).expand(1, 2, 2, 2)
    loss = rnnt_loss_scratch(probs.log(), torch.tensor([[1]]), torch.tensor([2]), torch.tensor([1]), reduction="sum")
    assert loss.item() == pytest.approx(-np.log(2 * q * q * (1 - q)), rel=1e-6)


def test_rnnt_joint_is_a_time_by_labels_lattice():
    model = build_model("rnnt")
    batch = _batch(["one two", "nine"])
    logits, targets, enc_lengths, target_lengths = model.joint(batch["wave"], batch["lengths"], batch["text"])
    assert target_lengths.tolist() == [2, 1]                      # word units: one label per digit word
    assert logits.shape == (2, int(enc_lengths.max()), 3, len(model.tokenizer)) and len(model.tokenizer) == 12
    chars = build_model("rnnt", units="chars")                      # spelling: one label per character
    assert chars.targets(["one two", "nine"])[1].tolist() == [7, 4] and len(chars.tokenizer) == 17
    assert enc_lengths.tolist() == [26, 18]       # 1 + N // 160 frames, then / 4
    assert 500_000 <= sum(p.numel() for p in model.parameters()) <= 1_000_000


# ----------------------------------------------------------------------------- RNN-T decoding
class _ScriptedTransducer:
    """A stand-in model whose joiner emits ``labels[u]`` while fewer than ``due[t]`` labels are out, else blank."""

    def __init__(self, labels, max_symbols=5):
        self.labels = labels
        self.config = SimpleNamespace(max_symbols_per_frame=max_symbols)

    def predict(self, tokens, state=None):
        u = 0 if state is None else int(state) + 1          # the predictor "state" counts labels read
        return torch.tensor([[[float(u)]]]), torch.tensor(u)

    def joiner(self, enc_t, pred):
        due, u = int(enc_t[0]), int(pred[0])
        logits = torch.full((6,), -5.0)
        logits[self.labels[u] if u < due else BLANK] = 5.0
        return logits


def test_greedy_decode_emits_several_labels_per_frame_and_moves_on_with_blank():
    model = _ScriptedTransducer([3, 1, 4, 1, 5])
    enc = torch.tensor([[0.0], [2.0], [2.0], [5.0]])       # 2 labels due at frame 1, all 5 at frame 3
    assert greedy_decode(model, enc) == [3, 1, 4, 1, 5]
    assert greedy_decode(_ScriptedTransducer([3, 1, 4, 1, 5], max_symbols=2), enc) == [3, 1, 4, 1]
    state: dict = {}
    greedy_decode(model, enc[:2], state)                    # two calls continue where the first stopped
    assert greedy_decode(model, enc[2:], state) == [3, 1, 4, 1, 5]


def test_rnnt_beam_search_finds_the_scripted_labels_and_ranks_its_hypotheses():
    model = _ScriptedTransducer([3, 1, 4, 1, 5])
    enc = torch.tensor([[0.0], [2.0], [2.0], [5.0]])
    found = beam_search(model, enc, beam=3)
    assert found[0][0] == [3, 1, 4, 1, 5] and found[0][1] > -0.1
    torch.manual_seed(0)
    rnnt = build_model("rnnt").eval()
    with torch.no_grad():
        enc, _ = rnnt.encode(torch.from_numpy(_speechlike(0.5, 0))[None], torch.tensor([8000]))
    found = beam_search(rnnt, enc[0], beam=3)
    assert 1 <= len(found) <= 3
    assert [s for _, s in found] == sorted((s for _, s in found), reverse=True)


@pytest.mark.parametrize("lookahead", [0, 2])
def test_streaming_chunk_by_chunk_equals_decoding_the_whole_utterance(lookahead):
    torch.manual_seed(1)
    model = build_model("rnnt", lookahead=lookahead).eval()
    x = _speechlike(1.3, 3)
    with torch.no_grad():
        enc, n = model.encode(torch.from_numpy(x)[None], torch.tensor([len(x)]))
    full = model.tokenizer.decode(greedy_decode(model, enc[0, : int(n[0])]))
    full = " ".join(full.split())
    assert model.transcribe(torch.from_numpy(x)[None])[0] == full
    for chunk_s in (0.03, 0.16, 0.5, 2.0):
        records = stream(model, x, chunk_seconds=chunk_s)
        assert records[-1]["final"] and records[-1]["text"] == full, chunk_s
        texts = [r["text"].replace(" ", "") for r in records]
        assert all(b.startswith(a) for a, b in zip(texts, texts[1:]))  # partial results only grow
    dec = StreamingDecoder(model)
    with pytest.raises(ValueError, match="no audio"):
        dec.finish()
    assert dec.lookahead_seconds == pytest.approx(0.0125 + 0.01 * lookahead)


def test_rnnt_rejects_a_lookahead_longer_than_its_convolution():
    with pytest.raises(ValueError, match="lookahead"):
        build_model("rnnt", lookahead=5)


# ----------------------------------------------------------------------------- LAS
def test_las_tokenizer_targets_and_teacher_forced_shapes():
    model = build_model("las").eval()
    assert model.tokenizer.vocab[:3] == ["<pad>", "<sos>", "<eos>"] and (PAD, SOS, EOS) == (0, 1, 2)
    batch = _batch(["one two", "nine"])
    inputs, outputs = model.targets(batch["text"])
    assert inputs[:, 0].tolist() == [SOS, SOS]
    assert outputs[0, 7].item() == EOS and outputs[1, 4].item() == EOS and outputs[1, 5:].eq(PAD).all()
    assert inputs[0, 1:].tolist() == outputs[0, :-1].tolist()    # shifted by one: teacher forcing
    with torch.no_grad():
        logits, attn = model(batch["wave"], batch["lengths"], inputs)
    assert logits.shape == (2, 8, len(model.tokenizer)) and attn.shape == (2, 8, 26)
    torch.testing.assert_close(attn.sum(-1), torch.ones(2, 8))
    assert attn[1, :, 18:].abs().max() == 0                      # no attention on padding
    assert 700_000 <= sum(p.numel() for p in model.parameters()) <= 1_500_000


def test_las_step_i_depends_only_on_earlier_characters():
    model = build_model("las").eval()
    batch = _batch(["one two"], (1.0,))
    inputs, _ = model.targets(batch["text"])
    changed = inputs.clone()
    changed[0, 4] = model.tokenizer.encode("z")[0]
    with torch.no_grad():
        a, _ = model(batch["wave"], batch["lengths"], inputs)
        b, _ = model(batch["wave"], batch["lengths"], changed)
    torch.testing.assert_close(a[:, :4], b[:, :4])
    assert not torch.allclose(a[:, 4:], b[:, 4:])


def test_las_decoding_stops_at_eos_and_at_the_length_cap():
    model = build_model("las").eval()
    wave = torch.from_numpy(_speechlike(1.0, 0))[None]
    with torch.no_grad():
        model.speller.out.bias.zero_()
        model.speller.out.bias[EOS] = 50.0                      # always ends at once
        assert model.transcribe(wave) == [""] and model.transcribe(wave, beam=3) == [""]
        model.speller.out.bias[EOS] = -50.0
        model.speller.out.bias[model.tokenizer.encode("o")[0]] = 50.0   # never ends: "ooo..." (a loop)
        cap = int(model.max_length(torch.tensor([26]))[0])
        assert model.transcribe(wave)[0] == "o" * cap
        assert model.transcribe(wave, beam=2)[0] == "o" * cap
        attn = model.attend(wave[0], "one")
    assert attn.shape == (4, 26)


def test_las_window_keeps_attention_near_the_previous_peak():
    model = build_model("las").eval()
    wave = torch.from_numpy(_speechlike(1.0, 0))[None]
    with torch.no_grad():
        enc, n = model.listener(wave, torch.tensor([wave.shape[1]]))
        _, attns = model.greedy(enc, n, window=(0, 3))
    peaks = attns[0].argmax(-1)
    assert (peaks[1:] - peaks[:-1]).ge(0).all() and (peaks[1:] - peaks[:-1]).le(3).all()


# ----------------------------------------------------------------------------- training and checkpoints
SMALL = {"rnnt": dict(conv_channels=32, enc_hidden=64, enc_layers=1, embed_dim=16, pred_hidden=32, joint_dim=64),
         "las": dict(conv_channels=32, listener_hidden=48, listener_layers=1, embed_dim=16, speller_hidden=64,
                     attention_dim=32)}


@pytest.mark.parametrize("arch,steps", [("rnnt", 400), ("las", 60)])
def test_a_few_steps_overfit_two_utterances(arch, steps):
    torch.manual_seed(0)
    model = build_model(arch, spec_augment=False, dropout=0.0, **SMALL[arch])
    batch = _batch(["one two", "nine"], (0.6, 0.4))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(steps):
        loss = model.loss(batch)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0], losses[::5]
    assert model.transcribe(batch["wave"], batch["lengths"]) == batch["text"]


@pytest.mark.parametrize("arch", ["rnnt", "las"])
def test_checkpoint_round_trip_keeps_config_and_transcripts(arch, tmp_path):
    torch.manual_seed(0)
    model = build_model(arch, enc_hidden=96) if arch == "rnnt" else build_model(arch, speller_hidden=96)
    path = save_checkpoint(model, tmp_path / f"{arch}.pt", meta={"train_minutes": 1.5})
    loaded = load_checkpoint(path)
    assert type(loaded) is type(model) and loaded.config == model.config and loaded.meta["train_minutes"] == 1.5
    batch = _batch(["x", "y"])
    assert loaded.transcribe(batch["wave"], batch["lengths"]) == model.eval().transcribe(batch["wave"], batch["lengths"])


# ----------------------------------------------------------------------------- the command line
@pytest.mark.parametrize("arch", ["rnnt", "las"])
def test_cli_evaluate_prints_wer_and_cer_on_a_tiny_manifest(arch, tmp_path):
    checkpoint = REPO / "data" / "models" / f"{arch}_digits.pt"
    if not checkpoint.is_file():
        pytest.skip(f"{checkpoint.name} not built yet (python -m course_utils.asr train --arch {arch})")
    from course_utils.audio import save_audio
    from course_utils.data.manifest import write_manifest

    rows = []
    for i, text in enumerate(["one two", "nine"]):
        save_audio(tmp_path / f"{i}.wav", _speechlike(1.0, i), 16000)
        rows.append({"path": f"{i}.wav", "text": text})
    manifest = write_manifest(tmp_path / "manifest.jsonl", rows)
    done = subprocess.run([sys.executable, "-m", "course_utils.asr", "evaluate", "--arch", arch,
                           "--manifest", str(manifest)], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    last = done.stdout.strip().splitlines()[-1]
    assert LAST_LINE.match(last), last
    assert last.endswith("(n=2)")


def test_word_tokenizer_round_trip_and_errors():
    from course_utils.text import DIGIT_VOCAB, WordTokenizer

    tok = WordTokenizer(DIGIT_VOCAB)
    assert tok.vocab[0] == "<blank>" and len(tok) == 12
    assert tok.decode(tok.encode(" three  oh four ")) == "three oh four"
    assert tok.decode([0, tok.encode("nine")[0], 0]) == "nine"        # the blank is skipped
    with pytest.raises(ValueError, match="hello"):
        tok.encode("three hello")
    with pytest.raises(ValueError):
        WordTokenizer(["one", "one"])


def test_checkpoint_saved_before_units_existed_loads_as_characters(tmp_path):
    from course_utils.train import load_checkpoint, save_checkpoint

    model = build_model("rnnt", units="chars", **SMALL["rnnt"])
    path = save_checkpoint(model, tmp_path / "old.pt")
    ckpt = torch.load(path, weights_only=True)
    del ckpt["config"]["units"]                      # as written before the option existed
    torch.save(ckpt, path)
    loaded = load_checkpoint(path)
    assert loaded.config.units == "chars" and len(loaded.tokenizer) == len(model.tokenizer)
