"""The one text normaliser and the one place that knows the footnote-marker format."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"
_SUPER_TO_DIGIT = str.maketrans(SUPERSCRIPT_DIGITS + "⁻", "0123456789-")
_SUP = f"[{SUPERSCRIPT_DIGITS}]+"
_NUM = r"\d{1,3}"
# A footnote marker: a superscript run (¹, ¹⁰, ⁴⁶), a list or range of them (¹,³ ¹⁻³ ²–⁴ ⁸ ⁹), or a bracketed
# number, list or range ([12], [1, 3], [2–4], [1; 5-7]) that is not a markdown link label.
MARKER_RE = re.compile(rf"{_SUP}(?:(?:[,˒⁻–-] ?| ){_SUP})*|\[({_NUM}(?:\s*[,;–-]\s*{_NUM})*)\](?!\()")
MAX_RANGE = 50  # a range marker spanning more notes than this is a typo, not a range: its ends only

_QUOTES = str.maketrans(
    {
        "“": '"',
        "”": '"',
        "„": '"',
        "‟": '"',
        "‘": "'",
        "’": "'",
        "‚": "'",
        "`": "'",
        "«": '"',
        "»": '"',
        "′": "'",
        "″": '"',
    }
)
_DASHES_RE = re.compile(r"[\u2010-\u2015\u2212]")
_WS_RE = re.compile(r"\s+")
_EMPHASIS_RE = re.compile(r"(\*\*|__)(.+?)\1|(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
# a word; with a PDF's ligatures ("ﬁnance", "oﬃce": U+FB00-FB06), which `fold` spells out
_WORD_RE = re.compile(r"[A-Za-z0-9À-ɏﬀ-ﬆ]+(?:['’][A-Za-z]+)?")

# the months as the prose names them, and a date written in full with one: "July 3, 2023", "July 2023",
# "3 July 2023" (a pattern to build others from: the parsers' dates, `read`'s months)
MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip
_MONTH = "|".join(MONTH_NAMES)
FULL_DATE = rf"(?:(?:{_MONTH})(?:\s+\d{{1,2}},)?\s+\d{{4}}|\d{{1,2}}\s+(?:{_MONTH})\s+\d{{4}})"

STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves according paper document documents say says said tell told does mention
    mentioned author authors""".split()  # noqa: SIM905
)


def _function_words() -> frozenset[str]:
    """English function words: scikit-learn's stop-word list without its nouns and verbs ("bill", "fire",
    "system", "interest", "find"), which may be names or what a question counts."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    content = """bill mill fire front interest system top side mine de co con call cry detail fill find found full
    move name part put see serious sincere thick thin show take give get keep made empty bottom describe eg ie
    etc inc ltd re un amount hundred""".split()  # noqa: SIM905
    return frozenset(ENGLISH_STOP_WORDS) - set(content)


# words such as "per", "besides", "via", "towards": they name nothing and count nothing
FUNCTION_WORDS = _function_words()


def marker_numbers(marker: str) -> list[int]:
    """The footnote numbers of a marker as matched by MARKER_RE, ranges expanded: "[2–4]" -> [2, 3, 4],
    "¹,³" -> [1, 3]."""
    plain = _DASHES_RE.sub("-", marker.strip("[]").translate(_SUPER_TO_DIGIT)).replace("˒", ",")
    out: list[int] = []
    for part in re.split(r"\s*[,;]\s*|\s+", plain.strip()):
        a, _, b = part.partition("-")
        lo, hi = int(a), int(b or a)
        span = range(lo, hi + 1) if lo <= hi and hi - lo <= MAX_RANGE else (lo, hi)
        out += [n for n in span if n not in out]
    return out


def strip_emphasis(text: str) -> str:
    return _EMPHASIS_RE.sub(lambda m: m.group(2) if m.group(2) is not None else m.group(3), text)


def strip_markers(text: str) -> str:
    return MARKER_RE.sub("", text)


def collapse_ws(text: str) -> str:
    return _WS_RE.sub(" ", text).strip()


def normalize(text: str) -> str:
    """For matching text against text: NFKC, straight quotes, ASCII hyphens, one space, lower case,
    no markers, no emphasis. Used for pull quotes, quotation checks and evaluation alike."""
    text = strip_markers(strip_emphasis(text))
    text = unicodedata.normalize("NFKC", text).translate(_QUOTES)
    text = _DASHES_RE.sub("-", text).replace("…", "...")
    return collapse_ws(text).lower()


# letters without an accent or ligature of their own in ASCII, spelled as readers type them ("Waever" for
# "Wæver"); the rest lose their marks by decomposition ("Turkiye" for "Türkiye")
_UNLIGATE = str.maketrans(
    {"æ": "ae", "œ": "oe", "ø": "o", "ß": "ss", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)


def fold(word: str) -> str:
    """A lower-case word as it is typed on a keyboard without accents (a search engine's ASCII folding), so
    that a reader's "waever" matches the documents' "wæver"."""
    if word.isascii():
        return word
    decomposed = unicodedata.normalize("NFKD", word.translate(_UNLIGATE))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD_RE.findall(text)]


def content_words(text: str) -> list[str]:
    return [w for w in words(text) if w not in STOPWORDS and (len(w) > 1 or w.isdigit())]


def normalize_map(text: str, drop_quotes: bool = False) -> tuple[str, list[int]]:
    """normalize() for text without markers, with a map from each output character to its input offset,
    so a match in normalised text can be reported at its place in the original. `drop_quotes` also removes
    double quotes (a quotation of a text that itself quotes someone)."""
    out: list[str] = []
    index: list[int] = []
    space = True  # drop leading whitespace
    for i, ch in enumerate(text):
        if ch.isspace():
            if not space:
                out.append(" ")
                index.append(i)
                space = True
            continue
        space = False
        ch = unicodedata.normalize("NFKC", ch).translate(_QUOTES)
        ch = _DASHES_RE.sub("-", ch).replace("…", "...").lower()
        for c in ch:
            if drop_quotes and c == '"':
                continue
            out.append(c)
            index.append(i)
    if out and out[-1] == " ":
        out.pop()
        index.pop()
    return "".join(out), index


QUOTE_RE = re.compile(r"[“\"]([^”\"]{12,}?)[”\"]")


def quotations(sentence: str, min_words: int = 3) -> list[str]:
    """Quoted passages of a sentence (in double quotes, at least `min_words` words)."""
    return [
        m.group(1).strip(" ,.") for m in QUOTE_RE.finditer(sentence) if len(m.group(1).split()) >= min_words
    ]


NUMBER_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "hundred": 100,
    "dozen": 12,
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
}
_DIGITS_RE = re.compile(r"\d+(?:\.\d+)?")


@lru_cache(maxsize=16384)  # called on the same passage texts request after request
def numbers_in(text: str) -> frozenset[str]:
    """The numbers a text states, as digit strings: '3', '2023', '12' for 'twelve' or 'a dozen', '5' for
    'fifth'; thousands separators dropped."""
    found = set(_DIGITS_RE.findall(text.replace(",", "")))
    found |= {str(NUMBER_WORDS[w]) for w in words(text) if w in NUMBER_WORDS}
    return frozenset(found)
