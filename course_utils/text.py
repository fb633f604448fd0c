"""Text for speech models: digit words, normalisation, and character and word tokenizers."""

from __future__ import annotations

import re

#: Digit words as the course's corpora and manifests spell them ("oh" is the TIDIGITS zero).
DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
DIGIT_VOCAB = DIGIT_WORDS + ["oh"]
#: The small command vocabulary (the ten core words of Speech Commands, Warden 2018).
COMMAND_WORDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]


def normalize_text(s: str) -> str:
    """Return ``s`` lower-cased, with punctuation removed and whitespace collapsed."""
    s = s.lower().replace("-", " ")
    s = re.sub(r"[^a-z0-9' ]+", " ", s)
    return " ".join(s.split())


def digits_to_words(digits: str, zero: str = "zero") -> str:
    """Return the spoken form of a digit string: ``"304"`` -> ``"three zero four"``."""
    if not digits or any(c not in "0123456789" for c in digits):
        raise ValueError(f"expected a string of digits, got {digits!r}")
    return " ".join(zero if c == "0" else DIGIT_WORDS[int(c)] for c in digits)


def words_to_digits(text: str) -> str:
    """Return the digit string for spoken digit words: ``"three oh four"`` -> ``"304"``."""
    out = []
    for w in text.split():
        if w == "oh":
            out.append("0")
        elif w in DIGIT_WORDS:
            out.append(str(DIGIT_WORDS.index(w)))
        else:
            raise ValueError(f"{w!r} is not a digit word")
    return "".join(out)


class CharTokenizer:
    """Maps text to integer ids, one per character; id 0 is reserved (CTC blank / padding).

    >>> tok = CharTokenizer.for_words(DIGIT_VOCAB)
    >>> tok.decode(tok.encode("one two"))
    'one two'
    """

    def __init__(self, chars: str, reserved: tuple[str, ...] = ("<blank>",)):
        if len(set(chars)) != len(chars):
            raise ValueError("characters must be unique")
        self.reserved = list(reserved)
        self.chars = chars
        self.vocab = self.reserved + list(chars)
        self._id = {c: i + len(self.reserved) for i, c in enumerate(chars)}

    @classmethod
    def for_words(cls, words, reserved: tuple[str, ...] = ("<blank>",)) -> "CharTokenizer":
        """Return a tokenizer over the characters of ``words`` plus the space."""
        chars = sorted(set("".join(words)) | {" "})
        return cls("".join(chars), reserved=reserved)

    def __len__(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> list[int]:
        """Return the ids of ``text``; raises ValueError naming any character outside the vocabulary."""
        bad = sorted({c for c in text if c not in self._id})
        if bad:
            raise ValueError(f"characters outside the vocabulary: {bad} in {text!r}")
        return [self._id[c] for c in text]

    def decode(self, ids) -> str:
        """Return the text for ``ids`` (reserved ids are skipped)."""
        n = len(self.reserved)
        return "".join(self.vocab[i] for i in (int(j) for j in ids) if i >= n)


class WordTokenizer:
    """Maps text to integer ids, one per word of a closed vocabulary; id 0 is reserved (the blank).

    For a small vocabulary (the eleven digit words) whole words make short label sequences, which a
    transducer learns to align much sooner than characters.

    >>> tok = WordTokenizer(DIGIT_VOCAB)
    >>> tok.encode("three oh four"), tok.decode(tok.encode("three oh four"))
    ([4, 11, 5], 'three oh four')
    """

    def __init__(self, words, reserved: tuple[str, ...] = ("<blank>",)):
        words = list(words)
        if len(set(words)) != len(words) or any(not w or " " in w for w in words):
            raise ValueError("words must be unique, non-empty and contain no spaces")
        self.reserved = list(reserved)
        self.words = words
        self.vocab = self.reserved + words
        self._id = {w: i + len(self.reserved) for i, w in enumerate(words)}

    def __len__(self) -> int:
        return len(self.vocab)

    def encode(self, text: str) -> list[int]:
        """Return the ids of the words of ``text``; raises ValueError naming any word outside the vocabulary."""
        bad = sorted({w for w in text.split() if w not in self._id})
        if bad:
            raise ValueError(f"words outside the vocabulary: {bad} in {text!r}")
        return [self._id[w] for w in text.split()]

    def decode(self, ids) -> str:
        """Return the words of ``ids`` joined by spaces (reserved ids are skipped)."""
        n = len(self.reserved)
        return " ".join(self.vocab[i] for i in (int(j) for j in ids) if i >= n)
