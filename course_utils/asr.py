"""Command line for the course's digit recognisers: train one, or score one on a manifest.

    python -m course_utils.asr evaluate --arch ctc --manifest DIR/manifest.jsonl
    python -m course_utils.asr train --arch ctc --minutes 55 --threads 1

``evaluate`` reads a manifest (one JSON object a line: "path" to an audio file relative to the
manifest's folder, any format, rate or channel count; "text": digit words, e.g. "three one oh"),
transcribes every file with the course's checkpoint ``data/models/<arch>_digits.pt`` (trained
first if it is missing) and prints ``WER 0.123 CER 0.045 (n=57)`` as its last line. Bad input
stops it with one line, ``error: <file> line <n>: <what is wrong>``, and exit status 2.

``train`` builds the synthetic corpus (espeak-ng, flite, piper and hibari voices, held-out voices
for testing) plus strings joined from single spoken digits with pauses between them, trains the
model for a time budget, scores it on held-out voices and on real human digit strings, and writes
the checkpoint with a record of how it was made.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

from course_utils import CACHE_DIR, DATA_DIR
from course_utils.text import DIGIT_VOCAB

#: The voices the course's digit models never train on (whole espeak variants are held out with them).
HELD_OUT_VOICES = ("en-us+m3", "en-us+f4", "en-gb+m6", "en-gb-x-rp+f2", "en-029+Andy", "en-gb-scotland+klatt3",
                   "en-us-nyc+john", "en-gb+belinda", "en-us+announcer", "en-gb-x-rp+Gene", "flite:awb")
#: The shipped recipe: the defaults of ``train``.
DEFAULT_ENGINES = ("espeak", "flite", "piper", "hibari")
DEFAULT_CORPUS_SIZE = 4000
DEFAULT_WORD_CORPUS_SIZE = 2000
DEFAULT_JOINED = 3000
DEFAULT_MINUTES = 55.0
#: Pauses between joined words (seconds): half short, half long; silence before and after.
JOIN_GAP_S, JOIN_EDGE_S = ((0.0, 0.08), (0.08, 0.4)), (0.05, 0.4)


class CLIError(Exception):
    """A problem with the command's input: printed as one ``error:`` line, no traceback."""


def log(msg: str) -> None:
    """Print progress to stderr (the last line of stdout is kept for the result)."""
    print(msg, file=sys.stderr, flush=True)


def default_checkpoint(arch: str) -> Path:
    """Return where the course keeps the trained ``arch`` digit model (``data/models/<arch>_digits.pt``)."""
    return Path(DATA_DIR) / "models" / f"{arch}_digits.pt"


def _model_class(arch: str):
    """Return the model class for ``arch``, or raise CLIError naming the available ones."""
    from course_utils.models import get_model_class

    try:
        return get_model_class(arch)
    except ValueError as e:
        raise CLIError(str(e)) from None


# ----------------------------------------------------------------------------- manifest
def read_digit_manifest(path: str | os.PathLike) -> list[dict]:
    """Return the manifest's rows ({"line", "audio_path", "text"}); raise CLIError naming the line of any bad row."""
    name = str(path)
    path = Path(path)
    if not path.is_file():
        raise CLIError(f"{name}: manifest not found" if not path.is_dir() else f"{name}: is a directory, not a manifest")
    base = path.resolve().parent
    rows = []
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise CLIError(f"{name}: not a text file (expected JSON lines)") from None
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        where = f"{name} line {lineno}"
        try:
            row = json.loads(line)
        except json.JSONDecodeError as e:
            raise CLIError(f"{where}: invalid JSON ({e.msg} at column {e.colno})") from None
        if not isinstance(row, dict):
            raise CLIError(f"{where}: expected a JSON object with \"path\" and \"text\", got {type(row).__name__}")
        for key in ("path", "text"):
            if key not in row:
                raise CLIError(f"{where}: the row has no \"{key}\"")
            if not isinstance(row[key], str):
                raise CLIError(f"{where}: \"{key}\" must be a string, got {type(row[key]).__name__}")
        words = row["text"].lower().split()
        if not words:
            raise CLIError(f"{where}: \"text\" is empty")
        for w in words:
            if w not in DIGIT_VOCAB:
                raise CLIError(f"{where}: \"text\" contains \"{w}\", which is not a digit word (zero..nine, oh)")
        audio = Path(row["path"])
        audio = audio if audio.is_absolute() else base / audio
        if not audio.is_file():
            raise CLIError(f"{where}: audio file \"{row['path']}\" not found")
        rows.append({"line": lineno, "where": where, "audio_path": str(audio), "path": row["path"],
                     "text": " ".join(words)})
    if not rows:
        raise CLIError(f"{name}: the manifest has no rows")
    return rows


def load_manifest_audio(rows: list[dict]) -> None:
    """Add each row's 16 kHz mono samples as "wave"; raise CLIError naming the line of unreadable or empty audio."""
    import numpy as np

    from course_utils.audio import AudioError, load_audio

    for row in rows:
        try:
            x, _ = load_audio(row["audio_path"], sr=16000)
        except AudioError as e:
            reason = str(e).split(": ", 1)[-1]
            raise CLIError(f"{row['where']}: cannot use audio \"{row['path']}\": {reason}") from None
        except Exception as e:  # a decoder failing in an unexpected way
            raise CLIError(f"{row['where']}: cannot read audio \"{row['path']}\" ({type(e).__name__})") from None
        if len(x) < 160:
            raise CLIError(f"{row['where']}: audio \"{row['path']}\" is too short ({len(x) / 16000:.3f} s)")
        if not np.any(x):
            raise CLIError(f"{row['where']}: audio \"{row['path']}\" is silent (every sample is 0)")
        row["wave"] = x


# ----------------------------------------------------------------------------- training data
def light_augment(x, sr: int, rng):
    """Return ``x`` with background noise (probability 0.3, 8-30 dB SNR) and a phone channel (0.15) added.

    Cheap, and real recordings have both; the heavier chain (reverb, speed, pitch) cost more per step
    than it gave back at our budgets (FINDINGS.md).
    """
    import numpy as np

    from course_utils.augment import add_noise, telephone

    if rng.random() < 0.3 and np.any(x):
        x = add_noise(x, float(rng.uniform(8.0, 30.0)), rng, color=str(rng.choice(["white", "pink", "brown"])))
    if rng.random() < 0.15:
        x = telephone(x, sr, rng)
    return x


def join_digit_words(word_rows: list[dict], n: int, seed: int, out_dir: str | os.PathLike) -> list[dict]:
    """Return ``n`` rows of digit strings made by joining single-word recordings with pauses (cached in ``out_dir``).

    TTS speaks a digit string fluently; people often pause between digits and say each one as a
    word on its own. Joining one-word recordings (same voice when it said that word, else the
    same engine) with 0-0.4 s pauses teaches the model that a pause is a word boundary too.
    """
    import numpy as np

    from course_utils.audio import load_audio
    from course_utils.data import read_manifest, write_manifest
    from course_utils.data.corpus import random_digit_text, write_wav16
    from course_utils.data.synth import trim_silence

    out_dir = Path(out_dir)
    manifest = out_dir / "manifest.jsonl"
    if manifest.is_file():
        return read_manifest(manifest)
    clips: dict[tuple[str, str], list] = {}
    for row in word_rows:
        x = trim_silence(load_audio(row["audio_path"], sr=16000)[0], 16000)
        for key in ((row["speaker"], row["text"]), (row["engine"], row["text"]), ("*", row["text"])):
            clips.setdefault(key, []).append(x)
    rng = np.random.default_rng(seed)
    tmp = out_dir.with_name(f".{out_dir.name}.partial-{os.getpid()}")
    (tmp / "wav").mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(n):
        anchor = word_rows[int(rng.integers(len(word_rows)))]
        words = random_digit_text(rng).split()
        pieces = [np.zeros(int(rng.uniform(*JOIN_EDGE_S) * 16000), np.float32)]
        for k, w in enumerate(words):
            if k:
                gap = JOIN_GAP_S[int(rng.integers(2))]
                pieces.append(np.zeros(int(rng.uniform(*gap) * 16000), np.float32))
            pool = (clips.get((anchor["speaker"], w)) or clips.get((anchor["engine"], w)) or clips.get(("*", w)))
            if not pool:
                raise ValueError(f"join_digit_words: no recording of {w!r} among the word rows")
            pieces.append(pool[int(rng.integers(len(pool)))])
        pieces.append(np.zeros(int(rng.uniform(*JOIN_EDGE_S) * 16000), np.float32))
        x = np.concatenate(pieces)
        x = x * (rng.uniform(0.3, 0.95) / max(float(np.abs(x).max()), 1e-9))
        write_wav16(tmp / "wav" / f"{i:06d}.wav", x, 16000)
        rows.append({"path": f"wav/{i:06d}.wav", "text": " ".join(words), "speaker": f"joined:{anchor['speaker']}",
                     "engine": anchor["engine"], "split": "train", "duration": round(len(x) / 16000, 3)})
    write_manifest(tmp / "manifest.jsonl", rows)
    if out_dir.exists():
        import shutil

        shutil.rmtree(out_dir)
    os.replace(tmp, out_dir)
    return read_manifest(manifest)


# ----------------------------------------------------------------------------- commands
def parse_overrides(arch: str, items: list[str]) -> dict:
    """Return ``{field: value}`` for ``KEY=VALUE`` strings naming fields of ``arch``'s config (values typed as the field's default)."""
    import dataclasses

    cls = _model_class(arch).config_class
    fields = {f.name: f for f in dataclasses.fields(cls)}
    defaults = cls()
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip().replace("-", "_")
        settable = [k for k in fields if k != "arch" and isinstance(getattr(defaults, k), (bool, int, float, str))]
        if not sep or key not in fields or key == "arch":
            raise CLIError(f"--set {item!r}: expected KEY=VALUE with KEY one of {', '.join(settable)}")
        default = getattr(defaults, key)
        try:
            if isinstance(default, bool):
                if value.lower() not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError(value)
                out[key] = value.lower() in ("true", "1", "yes")
            elif isinstance(default, (int, float, str)):
                out[key] = type(default)(value)
            else:
                raise CLIError(f"--set {key}: this field ({type(default).__name__}) cannot be set from the command line")
        except ValueError:
            raise CLIError(f"--set {item!r}: {value!r} is not a valid {type(default).__name__}") from None
    return out


def train_command(args) -> Path:
    """Train ``args.arch`` on the synthetic digit corpus, score it, save the checkpoint; return its path."""
    import torch

    from course_utils.data import available_engines, load_split, make_corpus, read_manifest, real_digit_set
    from course_utils.models import build_model
    from course_utils.train import evaluate_asr, save_checkpoint, train_asr

    _model_class(args.arch)
    engines = tuple(e.strip() for e in args.engines.split(",") if e.strip())
    missing = [e for e in engines if e not in available_engines()]
    if missing:
        raise CLIError(f"TTS engine(s) {', '.join(missing)} not available here (see course_utils.data.synth); "
                       f"install them or pass --engines {','.join(e for e in engines if e not in missing) or 'espeak'}")
    torch.set_num_threads(args.threads)
    out = Path(args.out or default_checkpoint(args.arch))
    log(f"corpus: {args.corpus_size} digit strings from {', '.join(engines)} (seed {args.seed}; cached after the first run)")
    t0 = time.time()
    manifest = make_corpus("digits", n=args.corpus_size, seed=args.seed, engines=engines,
                           test_voices=list(HELD_OUT_VOICES))
    train_rows, valid_rows, test_rows = (load_split(manifest, s) for s in ("train", "valid", "test"))
    log(f"corpus ready in {time.time() - t0:.0f} s: {len(train_rows)} train, {len(valid_rows)} valid, "
        f"{len(test_rows)} test utterances ({manifest.parent.name})")
    if args.joined:
        log(f"single words: {args.word_corpus_size} one-digit recordings, joined into {args.joined} strings with pauses")
        words = make_corpus("digits", n=args.word_corpus_size, seed=args.seed + 1, engines=engines,
                            test_voices=list(HELD_OUT_VOICES), min_digits=1, max_digits=1)
        joined = join_digit_words(load_split(words, "train"), args.joined, args.seed,
                                  words.parent / f"joined-{args.joined}-{args.seed}")
        train_rows = train_rows + joined
    init_meta = None
    if args.init:
        from course_utils.train import load_checkpoint

        try:
            model = load_checkpoint(args.init).train()
        except (ValueError, FileNotFoundError) as e:
            raise CLIError(str(e)) from None
        if model.config.arch != args.arch:
            raise CLIError(f"{args.init}: a {model.config.arch} checkpoint, not {args.arch}")
        init_meta = getattr(model, "meta", {})
        log(f"continuing from {args.init} ({init_meta.get('steps', '?')} steps so far)")
    else:
        model = build_model(args.arch, **parse_overrides(args.arch, getattr(args, "overrides", [])))
    n_params = sum(p.numel() for p in model.parameters())
    log(f"training {args.arch} ({n_params / 1e6:.2f} M parameters) for "
        + (f"{args.minutes:g} min" if args.minutes else "") + (" / " if args.minutes and args.steps else "")
        + (f"{args.steps} steps" if args.steps else "") + f" on {torch.get_num_threads()} thread(s)")
    history = train_asr(model, train_rows, valid_rows[:100], minutes=args.minutes, steps=args.steps,
                        batch_size=args.batch_size, lr=args.lr, seed=args.seed, device=args.device,
                        augment=light_augment if args.augment == "light" else None,
                        live_plot=False, progress=False, evals=6, log=log)
    model.cpu()
    test = evaluate_asr(model, test_rows)
    real = evaluate_asr(model, read_manifest(real_digit_set(n=100, seed=0)))
    log(f"held-out synthetic voices: WER {test['wer']:.3f} CER {test['cer']:.3f} (n={test['n']})")
    log(f"real human digit strings:  WER {real['wer']:.3f} CER {real['cer']:.3f} (n={real['n']})")
    argv = getattr(args, "argv", None) or sys.argv[1:]
    command = shlex.join(argv) if argv[:1] == ["train"] else f"train --arch {args.arch}"
    meta = {"command": f"python -m course_utils.asr {command}",
            "engines": list(engines), "corpus_size": args.corpus_size, "seed": args.seed,
            "word_corpus_size": args.word_corpus_size, "joined": args.joined, "train_utterances": len(train_rows),
            "augment": args.augment,
            "held_out_voices": list(HELD_OUT_VOICES), "steps": history["steps"],
            "minutes": round(history["seconds"] / 60, 1), "threads": torch.get_num_threads(),
            "device": history["device"], "parameters": n_params, "torch": str(torch.__version__),
            "test_wer": round(test["wer"], 4), "real_wer": round(real["wer"], 4),
            "decoder": getattr(model.config, "decoder", "default"),
            "init": None if init_meta is None else {k: init_meta.get(k) for k in ("command", "steps", "minutes",
                                                                                   "test_wer", "real_wer")},
            "date": time.strftime("%Y-%m-%d")}
    save_checkpoint(model, out, meta=meta)
    log(f"saved {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return out


def evaluate_command(args) -> str:
    """Score the arch's checkpoint on the manifest; return the result line."""
    import torch

    from course_utils.train import evaluate_asr, load_checkpoint

    _model_class(args.arch)
    torch.set_num_threads(args.threads)
    rows = read_digit_manifest(args.manifest)
    load_manifest_audio(rows)
    ckpt = Path(args.checkpoint) if args.checkpoint else default_checkpoint(args.arch)
    if not ckpt.is_file():
        if args.checkpoint:
            raise CLIError(f"{ckpt}: checkpoint not found")
        fallback = Path(CACHE_DIR) / "models" / ckpt.name
        if fallback.is_file():
            ckpt = fallback
        else:
            log(f"{ckpt} not found: training one first with the course's recipe "
                f"(about {DEFAULT_MINUTES:g} minutes; `python -m course_utils.asr train --arch {args.arch}`)")
            target = ckpt if os.access(ckpt.parent if ckpt.parent.exists() else Path(DATA_DIR), os.W_OK) else fallback
            ckpt = train_command(_train_parser().parse_args(["--arch", args.arch, "--out", str(target)]))
    try:
        model = load_checkpoint(ckpt)
    except (ValueError, FileNotFoundError) as e:
        raise CLIError(str(e)) from None
    log(f"{args.arch} model from {ckpt}; transcribing {len(rows)} recordings")
    result = evaluate_asr(model, rows, batch_size=args.batch_size)
    if args.verbose:
        for row, ref, hyp in zip(rows, result["refs"], result["hyps"]):
            if ref != hyp:
                log(f"  line {row['line']}: ref {ref!r} hyp {hyp!r}")
    log(f"decoding speed: {result['seconds_per_audio_second']:.4f} s per second of audio")
    return f"WER {result['wer']:.3f} CER {result['cer']:.3f} (n={result['n']})"


# ----------------------------------------------------------------------------- arguments
def _add_train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--arch", default="ctc", help="model architecture (ctc; rnnt and las when installed)")
    p.add_argument("--minutes", type=float, default=DEFAULT_MINUTES, help="wall-clock training budget")
    p.add_argument("--steps", type=int, default=None, help="stop after this many steps (if sooner)")
    p.add_argument("--engines", default=",".join(DEFAULT_ENGINES), help="TTS engines of the training corpus")
    p.add_argument("--corpus-size", type=int, default=DEFAULT_CORPUS_SIZE, help="digit strings synthesized")
    p.add_argument("--word-corpus-size", type=int, default=DEFAULT_WORD_CORPUS_SIZE,
                   help="single digit words synthesized, to join into strings with pauses")
    p.add_argument("--joined", type=int, default=DEFAULT_JOINED, help="strings joined from single words (0: none)")
    p.add_argument("--augment", choices=("light", "none"), default="light",
                   help="waveform augmentation: light = noise and phone channel sometimes (SpecAugment always)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=3e-3, help="peak learning rate")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
    p.add_argument("--device", default=None, help="cuda, mps or cpu (default: the best available)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="checkpoint to write (default data/models/<arch>_digits.pt)")
    p.add_argument("--init", default=None,
                   help="continue training this checkpoint (e.g. on your own data or at a lower --lr) instead of a new model")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                   help="change a field of the new model's config, e.g. --set lookahead=4 (repeatable)")


def _train_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m course_utils.asr train")
    _add_train_args(p)
    return p


def build_parser() -> argparse.ArgumentParser:
    """Return the command-line parser (subcommands ``evaluate`` and ``train``)."""
    parser = argparse.ArgumentParser(prog="python -m course_utils.asr", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ev = sub.add_parser("evaluate", help="WER/CER of the course's model on a manifest of digit recordings")
    ev.add_argument("--arch", default="ctc", help="model architecture (ctc; rnnt and las when installed)")
    ev.add_argument("--manifest", required=True, help="JSON lines with \"path\" and \"text\"")
    ev.add_argument("--checkpoint", default=None, help="default: data/models/<arch>_digits.pt")
    ev.add_argument("--batch-size", type=int, default=16)
    ev.add_argument("--threads", type=int, default=1, help="CPU threads for torch (small model: 1 is enough)")
    ev.add_argument("--verbose", action="store_true", help="print every misrecognised utterance")
    tr = sub.add_parser("train", help="train the course's digit model and write its checkpoint")
    _add_train_args(tr)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 2 bad input, 1 unexpected failure)."""
    args = build_parser().parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)   # recorded in checkpoints as the command
    try:
        if args.command == "evaluate":
            print(evaluate_command(args), flush=True)
        else:
            train_command(args)
        return 0
    except CLIError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # one line, not a traceback: say what broke and where to look
        msg = " ".join(str(e).split())[:300]
        print(f"error: {type(e).__name__}: {msg}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
