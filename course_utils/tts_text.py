"""The text front end of a TTS system: written English -> spoken words -> phonemes -> ids.

- ``normalize(text)``        expand what is written but not said as written: numbers, ordinals,
                             money, dates, times, percentages, units, abbreviations, symbols
                             ("Dr. Smith paid $3.50" -> "Doctor Smith paid three dollars and fifty cents")
- ``phonemize(text)``        grapheme-to-phoneme with espeak-ng's letter-to-sound rules and
                             exception lists: IPA with stress marks, word spaces, punctuation kept
- ``dictionary_phonemize``   the other way to do G2P: look words up in a pronunciation dictionary
                             (CMUdict, which ships with pocketsphinx); returns the unknown words too
- ``text_to_ids(text)``      normalise, phonemise and map to the integer ids a TTS model reads
                             (one id per IPA character, like piper/VITS voices)

Bad input raises :class:`TextError` with a message that says what was wrong.
"""

from __future__ import annotations

import ctypes
import os
import re
import unicodedata
from functools import lru_cache

__all__ = ["TextError", "normalize", "number_to_words", "ordinal", "year_to_words", "phonemize",
           "dictionary_phonemize", "cmudict", "arpabet_to_ipa", "SYMBOLS", "PAD", "BOS", "EOS",
           "phonemes_to_ids", "ids_to_phonemes", "text_to_ids", "check_pronounceable"]


class TextError(ValueError):
    """Raised for text a TTS voice cannot read (empty, or nothing pronounceable in it)."""


# ============================================================================== numbers as words
_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = [(10 ** 12, "trillion"), (10 ** 9, "billion"), (10 ** 6, "million"), (1000, "thousand")]
_ORDINAL_IRREGULAR = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
                      "nine": "ninth", "twelve": "twelfth"}


def _below_1000(n: int) -> str:
    words = []
    if n >= 100:
        words.append(_ONES[n // 100] + " hundred")
        n %= 100
    if n >= 20:
        words.append(_TENS[n // 10] + (f"-{_ONES[n % 10]}" if n % 10 else ""))
    elif n or not words:
        words.append(_ONES[n])
    return " ".join(words)


def number_to_words(n: int) -> str:
    """Return the US English words for the integer ``n``: 1234 -> "one thousand two hundred thirty-four"."""
    n = int(n)
    if n < 0:
        return "minus " + number_to_words(-n)
    if n >= 10 ** 15:
        return " ".join(_ONES[int(d)] for d in str(n))  # too big to say as a number: digit by digit
    words = []
    for value, name in _SCALES:
        if n >= value:
            words.append(f"{_below_1000(n // value)} {name}")
            n %= value
    if n or not words:
        words.append(_below_1000(n))
    return " ".join(words)


def ordinal(n: int) -> str:
    """Return the ordinal words for ``n``: 21 -> "twenty-first", 12 -> "twelfth"."""
    words = number_to_words(n)
    head, sep, last = max(words.rpartition(" "), words.rpartition("-"), key=lambda p: len(p[0]))
    if last in _ORDINAL_IRREGULAR:
        last = _ORDINAL_IRREGULAR[last]
    elif last.endswith("y"):
        last = last[:-1] + "ieth"
    else:
        last += "th"
    return head + sep + last


def year_to_words(y: int) -> str:
    """Return a year as it is said: 1984 -> "nineteen eighty-four", 2005 -> "two thousand five", 2024 -> "twenty twenty-four"."""
    if not 1000 <= y <= 9999 or 2000 <= y <= 2009 or y % 1000 == 0:
        return number_to_words(y)
    hi, lo = divmod(y, 100)
    if lo == 0:
        return f"{number_to_words(hi)} hundred"
    return f"{number_to_words(hi)} {'oh ' + _ONES[lo] if lo < 10 else number_to_words(lo)}"


def _digits(s: str) -> str:
    return " ".join(_ONES[int(c)] for c in s)


# ============================================================================== the normaliser
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]
_MONTH_ABBR = {m[:3].lower(): m for m in _MONTHS} | {"sept": "September"}
_MONTH_RE = r"(?:" + "|".join(_MONTHS) + r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)"

#: Abbreviations that are always expanded the same way (matched case-sensitively, with their dot).
_ABBREVIATIONS = {
    "Mr.": "Mister", "Mrs.": "Missus", "Ms.": "Miz", "Prof.": "Professor", "Jr.": "Junior", "Sr.": "Senior",
    "Gen.": "General", "Capt.": "Captain", "Lt.": "Lieutenant", "Col.": "Colonel", "Sgt.": "Sergeant",
    "Rev.": "Reverend", "Gov.": "Governor", "Sen.": "Senator", "Rep.": "Representative", "Mt.": "Mount",
    "Ave.": "Avenue", "Blvd.": "Boulevard", "Rd.": "Road", "Dept.": "Department", "Univ.": "University",
    "Co.": "Company", "Corp.": "Corporation", "Inc.": "Incorporated", "Ltd.": "Limited", "vs.": "versus",
    "etc.": "et cetera", "e.g.": "for example", "i.e.": "that is", "approx.": "approximately", "min.": "minutes",
    "max.": "maximum", "fig.": "figure", "Fig.": "Figure", "est.": "established",
}
#: Units said after a number: (singular, plural).
_UNITS = {
    "km": ("kilometer", "kilometers"), "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"), "kg": ("kilogram", "kilograms"),
    "mg": ("milligram", "milligrams"), "lb": ("pound", "pounds"), "lbs": ("pound", "pounds"),
    "oz": ("ounce", "ounces"), "mph": ("mile per hour", "miles per hour"), "km/h": ("kilometer per hour",
    "kilometers per hour"), "kHz": ("kilohertz", "kilohertz"), "Hz": ("hertz", "hertz"),
    "ms": ("millisecond", "milliseconds"), "ml": ("milliliter", "milliliters"),
    "GB": ("gigabyte", "gigabytes"), "MB": ("megabyte", "megabytes"), "kB": ("kilobyte", "kilobytes"),
    "°C": ("degree Celsius", "degrees Celsius"), "°F": ("degree Fahrenheit", "degrees Fahrenheit"),
    "°": ("degree", "degrees"), "ft": ("foot", "feet"),
}
#: Short units that are also words or letters ("5 in the box"): expanded only when written on the number ("5m").
_ATTACHED_UNITS = {"m": ("meter", "meters"), "s": ("second", "seconds"), "h": ("hour", "hours"),
                   "g": ("gram", "grams"), "l": ("liter", "liters"), "min": ("minute", "minutes")}
_CURRENCY = {"$": ("dollar", "dollars", "cent", "cents"), "£": ("pound", "pounds", "penny", "pence"),
             "€": ("euro", "euros", "cent", "cents"), "¥": ("yen", "yen", "sen", "sen")}
_SCALE_WORDS = {"thousand": "thousand", "million": "million", "billion": "billion", "trillion": "trillion",
                "k": "thousand", "K": "thousand", "m": "million", "M": "million", "bn": "billion", "B": "billion"}
_SYMBOLS = {"&": " and ", "+": " plus ", "=": " equals ", "@": " at ", "×": " times ", "%": " percent "}


def _plural(n_text: str, one: str, many: str) -> str:
    return one if n_text in ("1", "1.0", "one") else many


def _number(s: str) -> str:
    """Say a written number (digits, maybe with thousands commas and a decimal part)."""
    grouped = "," in s
    whole, _, frac = s.replace(",", "").partition(".")
    if whole.startswith("0") and len(whole) > 1 or len(whole) >= 7 and not grouped and not frac:
        head = _digits(whole)  # codes, phone numbers, "007": digit by digit
    else:
        head = number_to_words(int(whole or 0))
    return head + (" point " + _digits(frac) if frac else "")


def _money(m: re.Match) -> str:
    sym, amount, scale = m.group("sym"), m.group("amount"), m.group("scale")
    one, many, sub_one, sub_many = _CURRENCY[sym]
    if scale:  # $1.5 million -> one point five million dollars
        return f"{_number(amount)} {_SCALE_WORDS[scale]} {many}"
    whole, _, frac = amount.replace(",", "").partition(".")
    whole_n = int(whole or 0)
    cents = int((frac + "00")[:2]) if frac else 0
    parts = []
    if whole_n or not cents:
        parts.append(f"{number_to_words(whole_n)} {one if whole_n == 1 else many}")
    if cents:
        parts.append(f"{number_to_words(cents)} {sub_one if cents == 1 else sub_many}")
    return " and ".join(parts)


def _time(m: re.Match) -> str:
    h, mnt, ampm = int(m.group("h")), int(m.group("m")), m.group("ampm")
    if ampm:
        suffix = " a m" if ampm.lower().startswith("a") else " p m"
    else:
        suffix = ""
    if mnt == 0:
        said = number_to_words(h) + ("" if ampm else " o'clock")
    elif mnt < 10:
        said = f"{number_to_words(h)} oh {_ONES[mnt]}"
    else:
        said = f"{number_to_words(h)} {number_to_words(mnt)}"
    return said + suffix


def _month(name: str) -> str:
    return _MONTH_ABBR.get(name.rstrip(".").lower()[:4] if name.lower().startswith("sept") else
                           name.rstrip(".").lower()[:3], name)


def _day_month_year(m: re.Match) -> str:
    the = (m.group("the") or "the ").rstrip() + " "
    out = f"{the}{ordinal(int(m.group('d')))} of {_month(m.group('mon'))}"
    return out + (f" {year_to_words(int(m.group('y')))}" if m.group("y") else "")


def _month_day_year(m: re.Match) -> str:
    out = f"{_month(m.group('mon'))} {ordinal(int(m.group('d')))}"
    return out + (f", {year_to_words(int(m.group('y')))}" if m.group("y") else "")


def _iso_date(m: re.Match) -> str:
    y, mo, d = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return m.group(0).replace("-", " ")
    return f"{_MONTHS[mo - 1]} {ordinal(d)}, {year_to_words(y)}"


def _slash_date(m: re.Match) -> str:  # US order: month/day/year
    mo, d, y = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if not (1 <= mo <= 12 and 1 <= d <= 31):
        return f"{_number(m.group(1))} slash {_number(m.group(2))} slash {_number(m.group(3))}"
    y = y + 2000 if y < 100 else y
    return f"{_MONTHS[mo - 1]} {ordinal(d)}, {year_to_words(y)}"


def _with_unit(m: re.Match) -> str:
    num, unit = m.group("num"), m.group("unit")
    one, many = _UNITS.get(unit) or _ATTACHED_UNITS[unit]
    return f"{_number(num)} {_plural(num, one, many)}"


def _plain_number(m: re.Match) -> str:
    s = m.group(0)
    plain = s.replace(",", "")
    if re.fullmatch(r"1[1-9]\d\d|20\d\d", plain) and "," not in s:
        return year_to_words(int(plain))  # a bare four-digit number from 1100 to 2099 is read as a year
    return _number(s)


_UNIT_RE = "|".join(re.escape(u) for u in sorted(_UNITS, key=len, reverse=True))
_RULES: list[tuple[re.Pattern, object]] = [
    # money: $3.50, $1,200, £5, €2.5 million, $3bn
    (re.compile(r"(?P<sym>[$£€¥])\s?(?P<amount>\d[\d,]*(?:\.\d+)?)(?:\s?(?P<scale>thousand|million|billion|trillion|bn|[kKmMB])\b)?"),
     _money),
    # dates: 12 March 2024, 12th of March, March 12, 2024, 2024-03-12, 3/12/2024
    (re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), _iso_date),
    (re.compile(r"\b(\d{1,2})/(\d{1,2})/(\d{4}|\d{2})\b"), _slash_date),
    (re.compile(r"\b(?P<the>[Tt]he\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:\s+of)?\s+(?P<mon>" + _MONTH_RE + r")(?:,?\s+(?P<y>\d{4}))?\b"),
     _day_month_year),
    (re.compile(r"\b(?P<mon>" + _MONTH_RE + r")\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?:,?\s+(?P<y>\d{4})\b)?"),
     _month_day_year),
    # times: 10:30, 7:05 pm, 9:00 a.m.
    (re.compile(r"\b(?P<h>[01]?\d|2[0-3]):(?P<m>[0-5]\d)(?:\s*(?P<ampm>[aApP]\.?[mM]\.?))?(?=\W|$)"), _time),
    (re.compile(r"\b(?P<h>1[0-2]|[1-9])\s*(?P<ampm>[aApP]\.?[mM]\.?)(?=\W|$)"),
     lambda m: f"{number_to_words(int(m.group('h')))} {'a m' if m.group('ampm')[0] in 'aA' else 'p m'}"),
    # ordinals: 1st, 22nd, 103rd
    (re.compile(r"\b(\d+)(?:st|nd|rd|th)\b"), lambda m: ordinal(int(m.group(1)))),
    # percentages and units after a number: 50%, 3.5 km, 20°C
    (re.compile(r"(?P<num>\d[\d,]*(?:\.\d+)?)\s?%"), lambda m: f"{_number(m.group('num'))} percent"),
    (re.compile(r"(?P<num>\d[\d,]*(?:\.\d+)?)\s?(?P<unit>" + _UNIT_RE + r")(?=[\s.,;:!?)]|$)"), _with_unit),
    (re.compile(r"(?P<num>\d[\d,]*(?:\.\d+)?)(?P<unit>" + "|".join(sorted(_ATTACHED_UNITS, key=len, reverse=True))
                + r")(?=[\s.,;:!?)]|$)"), _with_unit),
    # "No. 5", "#5"
    (re.compile(r"\b[Nn]o\.\s?(?=\d)"), lambda m: "number "),
    (re.compile(r"#\s?(?=\d)"), lambda m: "number "),
    # negative numbers, decimals, numbers with thousands commas, plain numbers
    (re.compile(r"(?<![\w.])-(?=\d)"), lambda m: "minus "),
    (re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"), _plain_number),
]


def _expand_abbreviations(text: str) -> str:
    # "Dr." and "St." depend on what follows: a name (Doctor Smith, Saint Louis) or not (Elm Drive, Main Street)
    text = re.sub(r"\bDr\.(?=\s+[A-Z])", "Doctor", text)
    text = re.sub(r"\bDr\.", "Drive.", text)
    text = re.sub(r"\bSt\.(?=\s+[A-Z])", "Saint", text)
    text = re.sub(r"\bSt\.", "Street.", text)
    for abbr, full in _ABBREVIATIONS.items():
        # keep the sentence-final full stop when the abbreviation ends the sentence ("... etc.")
        text = re.sub(r"(?<![\w.])" + re.escape(abbr) + r"(?=\s*$)", full + ".", text)
        text = re.sub(r"(?<![\w.])" + re.escape(abbr) + r"(?!\w)", full, text)
    return text


def normalize(text: str) -> str:
    """Return ``text`` with numbers, money, dates, times, units, abbreviations and symbols written out as words.

    >>> normalize("Dr. Smith paid $3.50 on 12 March 2024 at 10:30.")
    'Doctor Smith paid three dollars and fifty cents on the twelfth of March twenty twenty-four at ten thirty.'
    """
    if not isinstance(text, str):
        raise TextError(f"expected a string, got {type(text).__name__}")
    t = unicodedata.normalize("NFKC", text)
    t = (t.replace("\u2019", "'").replace("\u2018", "'").replace("\u201c", '"').replace("\u201d", '"')
         .replace("\u2026", "...").replace("\u2013", " - ").replace("\u2014", " - "))
    t = _expand_abbreviations(t)
    for pattern, repl in _RULES:
        t = pattern.sub(repl, t)
    for sym, word in _SYMBOLS.items():
        t = t.replace(sym, word)
    t = re.sub(r"(?<=\w)/(?=\w)", " ", t)                  # and/or -> and or
    t = re.sub(r"\s+([,.;:!?])", r"\1", t)                 # no space before punctuation
    return " ".join(t.split())


# ============================================================================== phonemes
#: The symbols a TTS model reads: padding, sentence start/end, word space, punctuation (pauses and
#: intonation), then the IPA characters espeak-ng writes for English (stress and length marks included).
PAD, BOS, EOS = "_", "^", "$"
_PUNCT = " !',-.:;?"
_IPA = ("abdefhijklmnoprstuvwxzæçðŋɐɑɒɔəɚɛɜɡɪɬɹɾʃʊʌʒʔθᵻɫʲ" "ˈˌːˑ̩̃" "ɔɕɣɲʁʎœøɨʏʋχβ")
SYMBOLS: list[str] = [PAD, BOS, EOS] + list(_PUNCT) + sorted(set(_IPA) - set(_PUNCT))
_SYMBOL_ID = {s: i for i, s in enumerate(SYMBOLS)}


@lru_cache(maxsize=1)
def _espeak_phonemizer():
    """Return (espeak instance, TextToPhonemes function) from the course's espeak-ng binding."""
    from course_utils.data.synth import _espeak

    es = _espeak()
    fn = es.lib.espeak_TextToPhonemes
    fn.restype = ctypes.c_char_p
    fn.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int, ctypes.c_int]
    return es, fn


def _espeak_ipa(chunk: str, voice: str = "en-us") -> str:
    """Return espeak-ng's IPA for one clause of plain words (no punctuation)."""
    es, fn = _espeak_phonemizer()
    buf = ctypes.create_string_buffer(chunk.encode("utf-8"))
    ptr = ctypes.c_char_p(ctypes.addressof(buf))
    out = []
    with es.lock:
        if es.lib.espeak_SetVoiceByName(es.accents[voice].encode()) != 0:
            raise RuntimeError(f"espeak-ng could not select voice {voice!r}")
        while ptr.value:
            res = fn(ctypes.byref(ptr), 1, 0x02)  # 1 = UTF-8 text, 0x02 = IPA output
            if res:
                out.append(res.decode("utf-8"))
    return " ".join(p.strip() for p in out if p.strip())


_CLAUSE_SPLIT = re.compile(r"([.,!?;:]+|\s-\s|[()\[\]\"])")


def _clauses(text: str) -> list[tuple[str, str]]:
    """Return (words, punctuation after them) pairs; brackets, quotes and dashes become commas."""
    parts = _CLAUSE_SPLIT.split(text)
    out = []
    for i in range(0, len(parts), 2):
        words = parts[i].strip()
        punct = parts[i + 1] if i + 1 < len(parts) else ""
        punct = punct.strip()
        if punct in ("(", ")", "[", "]", '"', "-"):
            punct = "," if words else ""
        punct = {"...": ",", "..": ","}.get(punct, punct[:1])
        if words:
            out.append((words, punct))
        elif punct and out and not out[-1][1]:
            out[-1] = (out[-1][0], punct)
    return out


def check_pronounceable(text: str) -> str:
    """Return the normalised ``text``; raise TextError if it is empty or has nothing a voice could say."""
    if not isinstance(text, str) or not text.strip():
        raise TextError("the text is empty")
    norm = normalize(text)
    plain = unicodedata.normalize("NFKD", norm).encode("ascii", "ignore").decode()
    if not re.search(r"[A-Za-z]", plain):
        raise TextError(f"nothing pronounceable in {text.strip()[:40]!r} (no letters or numbers)")
    return norm


def phonemize(text: str, normalize_first: bool = True, voice: str = "en-us") -> str:
    """Return espeak-ng's IPA for ``text`` (normalised first): stress marks, spaces between words, punctuation kept.

    >>> phonemize("Hello, world!")
    'həlˈoʊ, wˈɜːld!'
    """
    norm = check_pronounceable(text) if normalize_first else text
    # letters espeak would read out by name or as "foreign": strip accents (café -> cafe)
    plain = unicodedata.normalize("NFKD", norm).encode("ascii", "ignore").decode()
    pieces = []
    for words, punct in _clauses(plain):
        ipa = _espeak_ipa(words, voice)
        if ipa:
            pieces.append(ipa + punct)
    out = " ".join(pieces)
    if not re.search(r"[^\s" + re.escape(_PUNCT) + "]", out):
        raise TextError(f"nothing pronounceable in {text.strip()[:40]!r}")
    return unicodedata.normalize("NFD", out)


def phonemes_to_ids(phonemes: str, add_bos_eos: bool = True) -> list[int]:
    """Return the ids of ``phonemes`` (one per character; characters outside :data:`SYMBOLS` are dropped)."""
    ids = [_SYMBOL_ID[c] for c in unicodedata.normalize("NFD", phonemes) if c in _SYMBOL_ID]
    return [_SYMBOL_ID[BOS]] + ids + [_SYMBOL_ID[EOS]] if add_bos_eos else ids


def ids_to_phonemes(ids) -> str:
    """Return the symbols for ``ids`` joined into a string (the inverse of :func:`phonemes_to_ids`)."""
    return "".join(SYMBOLS[int(i)] for i in ids)


def text_to_ids(text: str) -> list[int]:
    """Return model input ids for English ``text``: normalise, phonemise, map to :data:`SYMBOLS` with ^ and $."""
    return phonemes_to_ids(phonemize(text))


# ============================================================================== a pronunciation dictionary
_ARPABET_IPA = {
    "AA": "ɑː", "AE": "æ", "AH": "ʌ", "AO": "ɔː", "AW": "aʊ", "AY": "aɪ", "EH": "ɛ", "ER": "ɜː", "EY": "eɪ",
    "IH": "ɪ", "IY": "iː", "OW": "oʊ", "OY": "ɔɪ", "UH": "ʊ", "UW": "uː", "B": "b", "CH": "tʃ", "D": "d",
    "DH": "ð", "F": "f", "G": "ɡ", "HH": "h", "JH": "dʒ", "K": "k", "L": "l", "M": "m", "N": "n", "NG": "ŋ",
    "P": "p", "R": "ɹ", "S": "s", "SH": "ʃ", "T": "t", "TH": "θ", "V": "v", "W": "w", "Y": "j", "Z": "z",
    "ZH": "ʒ",
}


def arpabet_to_ipa(phones: list[str] | str) -> str:
    """Return IPA for ARPAbet phones (``"HH AH L OW"`` -> ``"hʌloʊ"``); stress digits become ˈ/ˌ before the vowel."""
    if isinstance(phones, str):
        phones = phones.split()
    out = []
    for p in phones:
        base, stress = p.rstrip("012"), p[len(p.rstrip("012")):]
        if base not in _ARPABET_IPA:
            raise ValueError(f"unknown ARPAbet phone {p!r}")
        out.append({"1": "ˈ", "2": "ˌ"}.get(stress, "") + _ARPABET_IPA[base])
    return "".join(out)


@lru_cache(maxsize=1)
def cmudict() -> dict[str, list[str]]:
    """Return CMUdict (as shipped with pocketsphinx) as {word: [ARPAbet pronunciation, ...]}."""
    try:
        import pocketsphinx
    except ImportError as e:  # pragma: no cover - pocketsphinx is a course dependency
        raise RuntimeError("the pronunciation dictionary comes with pocketsphinx: pip install pocketsphinx") from e
    path = os.path.join(pocketsphinx.get_model_path(), "en-us", "cmudict-en-us.dict")
    table: dict[str, list[str]] = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            word, _, pron = line.strip().partition(" ")
            table.setdefault(re.sub(r"\(\d+\)$", "", word), []).append(pron.strip())
    return table


def dictionary_phonemize(text: str) -> tuple[str, list[str]]:
    """Return (IPA by dictionary look-up, words not in the dictionary); unknown words are shown as ``<word>``."""
    table = cmudict()
    out, unknown = [], []
    for word in re.findall(r"[a-z']+", normalize(text).lower()):
        if word in table:
            out.append(arpabet_to_ipa(table[word][0]))
        else:
            out.append(f"<{word}>")
            unknown.append(word)
    return " ".join(out), unknown
