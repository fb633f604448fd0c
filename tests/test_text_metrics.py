"""course_utils.text and course_utils.metrics."""

import pytest

from course_utils.metrics import cer, wer, word_confusions
from course_utils.text import (DIGIT_VOCAB, CharTokenizer, digits_to_words, normalize_text, words_to_digits)


def test_digits_round_trip_through_words():
    assert digits_to_words("3014") == "three zero one four"
    assert digits_to_words("30", zero="oh") == "three oh"
    assert words_to_digits("three oh one four") == "3014"


def test_digits_to_words_rejects_non_digits():
    with pytest.raises(ValueError, match="digits"):
        digits_to_words("3a")


def test_normalize_text_lowercases_and_strips_punctuation():
    assert normalize_text("  Hello, World!  It's-fine. ") == "hello world it's fine"


def test_char_tokenizer_round_trips_and_reserves_blank():
    tok = CharTokenizer.for_words(DIGIT_VOCAB)
    ids = tok.encode("nine oh")
    assert 0 not in ids and tok.decode(ids) == "nine oh"
    assert tok.decode([0] + ids + [0]) == "nine oh"
    assert tok.vocab[0] == "<blank>"


def test_char_tokenizer_names_unknown_characters():
    tok = CharTokenizer.for_words(DIGIT_VOCAB)
    with pytest.raises(ValueError, match=r"\['q'\]"):
        tok.encode("quit")


def test_wer_and_cer_match_hand_counts():
    # one substitution and one deletion in 5 reference words
    assert wer(["one two three", "four five"], ["one too three", "four"]) == pytest.approx(2 / 5)
    assert cer("abcd", "abxd") == pytest.approx(1 / 4)


def test_wer_rejects_mismatched_or_empty_input():
    with pytest.raises(ValueError, match="2 references but 1"):
        wer(["a", "b"], ["a"])
    with pytest.raises(ValueError, match="empty"):
        wer([" "], ["a"])


def test_word_confusions_counts_substitutions_deletions_insertions():
    c = word_confusions(["one two three"], ["one too three four"])
    assert c[("two", "too")] == 1 and c[("", "four")] == 1
    c = word_confusions(["five six"], ["five"])
    assert c[("six", "")] == 1
