"""BM25 over the same chunks as the vector index (bm25s), persisted beside it."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np

from qa_service.text import STOPWORDS, fold, words

try:  # the Snowball stemmer is optional: without it BM25 matches whole words only
    import Stemmer

    _STEM = Stemmer.Stemmer("english")
except ImportError:  # pragma: no cover
    _STEM = None


def tokenize(text: str) -> list[str]:
    toks = [w for w in words(text) if w not in STOPWORDS]
    if not text.isascii():
        toks = [fold(w) for w in toks]
    return list(_STEM.stemWords(toks)) if _STEM else toks


class LexicalIndex:
    """search(query, k) -> [(row, score)] over the texts it was built from, in the same order."""

    def __init__(self, retriever: object, size: int) -> None:
        self._bm25 = retriever
        self.size = size

    @classmethod
    def build(cls, texts: list[str], k1: float = 1.5, b: float = 0.75) -> LexicalIndex:
        import bm25s

        bm = bm25s.BM25(k1=k1, b=b, method="lucene")
        corpus = [tokenize(t) or ["\x00"] for t in texts]
        bm.index(corpus, show_progress=False)
        return cls(bm, len(texts))

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self._bm25.save(str(directory))  # type: ignore[attr-defined]

    @classmethod
    def load(cls, directory: Path, size: int) -> LexicalIndex:
        import bm25s

        return cls(bm25s.BM25.load(str(directory), mmap=False), size)

    def scores(self, query: str, extra_terms: Iterable[str] = ()) -> np.ndarray:
        """BM25 score of every row; `extra_terms`: stemmed terms added to the query's own."""
        # each query term counts once: repeating a word in a question does not double its weight
        toks = list(
            dict.fromkeys(t for t in [*tokenize(query), *extra_terms] if t in self._bm25.vocab_dict)  # type: ignore[attr-defined]
        )
        if not toks:
            return np.zeros(self.size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(toks), dtype=np.float32)  # type: ignore[attr-defined]

    def search(
        self, query: str, k: int, allowed: np.ndarray | None = None, extra_terms: Iterable[str] = ()
    ) -> list[tuple[int, float]]:
        """Best k rows with a positive score; `allowed`: a boolean mask of the rows that may be returned."""
        s = self.scores(query, extra_terms)
        if allowed is not None:
            s = np.where(allowed, s, 0.0)
        if not s.any():
            return []
        k = min(k, int((s > 0).sum()))
        top = np.argpartition(-s, k - 1)[:k]
        top = top[np.argsort(-s[top], kind="stable")]
        return [(int(i), float(s[i])) for i in top]


def feedback_terms(query: str, texts: list[str], stats: TermStats, n: int) -> list[str]:
    """Pseudo-relevance feedback: the `n` terms that weigh most (term frequency x idf) in the texts of the
    best passages and that the query does not use already."""
    from collections import Counter

    asked = set(tokenize(query))
    tf: Counter[str] = Counter(t for text in texts for t in tokenize(text) if t not in asked)
    ranked = sorted(tf, key=lambda t: (-tf[t] * stats.idf(t), t))
    return ranked[:n]


# web and e-mail addresses, domains and hashtags write names in lower case too
_URL_RE = re.compile(r"\S+://\S+|\S+@\S+|#\w+|\b[\w-]+(?:\.[\w-]+)+(?:/\S*)?")
_LOWER_WORD_RE = re.compile(r"(?<![\w'’@#.-])[a-z][a-z'’]+(?![\w'’-]|\.\w)")


class TermStats:
    """Term statistics over the passages, computed once per index: document frequency of stemmed terms (for
    weighting a question's words), the surface words the corpus uses (is a name in the documents at all?),
    and the terms only reference-list entries use (a name cited in a footnote alone)."""

    def __init__(self, texts: list[str], is_reference: list[bool] | None = None) -> None:
        from collections import Counter

        df: Counter[str] = Counter()
        in_refs: set[str] = set()
        elsewhere: set[str] = set()
        surface: set[str] = set()
        lower: set[str] = set()
        for i, t in enumerate(texts):
            lower.update(w.lower() for w in _LOWER_WORD_RE.findall(_URL_RE.sub(" ", t)))
            ts = terms(t)
            df.update(ts)
            if is_reference and is_reference[i]:  # an address's pieces ('sg', 'report.pdf') name nothing
                in_refs.update(terms(_URL_RE.sub(" ", t)))
            else:
                elsewhere.update(ts)
            for w in words(t):
                surface.add(w)
                if w.endswith("'s"):
                    surface.add(w[:-2])
        self.n = max(len(texts), 1)
        self.df = df
        self.surface = frozenset(surface)
        self._folded = frozenset(fold(w) for w in surface)
        self.lower = frozenset(lower)
        self.reference_only = frozenset(in_refs - elsewhere)
        self.initialisms = _initialisms(texts)
        # those of the prose, not of a reference list's authors and publishers ('PM': 'Pan Macmillan')
        prose = [t for i, t in enumerate(texts) if not (is_reference and is_reference[i])]
        self.prose_initialisms = _initialisms(prose)
        # every run of words within the prose's capitalised names, lower case: is "Foreign Minister" written as
        # well as "Foreign Ministers"? (a set, read once a name: no scan of the prose per question)
        self._prose_names = frozenset(
            " ".join(ws[i:j])
            for t in prose
            for m in _CAPITALISED_RUN_RE.finditer(t)
            for ws in [m.group(0).lower().split()]
            for i in range(len(ws))
            for j in range(i + 1, len(ws) + 1)
        )
        self.defined = defined_acronyms(texts)
        self._name_starts = _name_starts(prose, self.defined, self.lower)
        self._by_length: dict[int, list[str]] = {}
        for w in self.surface:
            self._by_length.setdefault(len(w), []).append(w)

    def idf(self, term: str) -> float:
        """BM25's idf (always positive): rare terms weigh more."""
        import math

        d = self.df.get(term, 0)
        return math.log(1 + (self.n - d + 0.5) / (d + 0.5))

    def uses(self, name: str) -> bool:
        """The corpus uses every word of `name` (case-insensitive, accents optional: `fold`; stop words
        ignored)."""
        ws = [w for w in words(name) if w not in STOPWORDS] or words(name)
        # the surface holds a possessive's bare word too, and folding leaves ASCII alone: one lookup covers all
        return bool(ws) and all(fold(w.removesuffix("'s")) in self._folded for w in ws)

    def common(self, word: str) -> bool:
        """The corpus writes the word in lower case somewhere (outside web addresses): a capital on it at the
        start of a sentence makes no name ("Need the date..."); a name the corpus only capitalises is one."""
        return word.lower() in self.lower

    def same_as(self, name: str) -> list[str]:
        """The other half of an acronym the corpus defines, whichever half is given ("the International
        Monetary Fund (IMF)": 'IMF' -> 'International Monetary Fund' and back). An acronym is matched as it is
        written ("Sapt" is a name, not 'SAPT'), and one the corpus also writes as a lower-case word ('HERE',
        'AID') is never given: mentions are read in lower case."""
        if name.replace("-", "").isupper():
            return list(self.defined.get(name, []))
        key = _name_key(name)
        return self._unlike_words(self.defined.get(key) or self._shortened(key))

    def _unlike_words(self, acronyms: list[str]) -> list[str]:
        """The acronyms the corpus never also writes as a lower-case word."""
        return [a for a in acronyms if a.split("-")[0].lower() not in self.lower]

    def _shortened(self, key: str) -> list[str]:
        """The acronym of the one defined long form a reader's shorter name (`_name_key`) stands for: the
        long form's first words ("the Strelsau group" for the Strelsau Cooperation Council (SCC)), or, for two
        words or more, forms of them ("East Zenda" for the Eastern Zenda Liberation Movement: 'east',
        'eastern'; 'organisation', 'organization'); never a word the corpus also writes in lower case alone,
        nor a name the prose writes outside the long forms, alone or as the start of another name
        (`_name_starts`: there it names something of its own, as 'Zenda' in "Zenda and Ruritania signed").
        [] unless exactly one acronym is found."""
        ws = key.split()
        if not ws or key in self._name_starts or (len(ws) == 1 and ws[0] in self.lower):
            return []
        forms = len(ws) > 1  # one word only as written: 'East' is no Eastern Zenda Liberation Movement
        found: set[str] = set()
        for long, acronyms in self.defined.items():
            if long.replace("-", "").isupper():
                continue  # (the acronym's own key, to its long forms)
            parts = long.split()
            if len(parts) >= len(ws) and all(
                w == p or (forms and _same_word(w, p)) for w, p in zip(ws, parts, strict=False)
            ):
                found.update(acronyms)
        return sorted(found) if len(found) == 1 else []

    def other_names(self, name: str) -> list[str]:
        """How the corpus writes a name it does not write as given: the spelled-out form of initials
        ('IMF' -> 'International Monetary Fund'), or a spelling one letter away in each unknown word; and the
        acronym of a long form a name it writes only there begins (`same_as`)."""
        if self.uses(name):
            # the start of a long form it defines, which the prose writes only there ("the Strelsau group"):
            # the acronym it writes instead, which finds what the reader's words find only in the definition
            key = _name_key(name)
            if name.replace("-", "").isupper() or key in self.defined:
                return []
            return self._unlike_words(self._shortened(key))
        key = name.replace(".", "").replace("-", "").strip()
        if key.isupper() and key in self.initialisms:
            return self._numbers_of(self.initialisms[key])
        # initials among other words, or in the plural ("the ZL SG", "Zenda FMs"): each spelled out
        spelled = " ".join(self._spelled(t) for t in name.split())
        fixed = []
        for w in words(spelled):
            if w in self.surface or w in STOPWORDS:
                fixed.append(w)
                continue
            near = self._one_letter_away(w) if len(w) >= 4 else None
            if near is None:
                return []
            fixed.append(near)
        return [" ".join(fixed)]

    def _spelled(self, token: str) -> str:
        """A word of initials the corpus does not use, spelled out as its prose writes the name ("SG" ->
        "Secretary General"), in the number the reader wrote where the prose writes it ("FMs" -> "Foreign
        Ministers"); else as given."""
        m = re.fullmatch(r"([A-Z]{2,})(s?)", token)
        long = self.prose_initialisms.get(m.group(1)) if m is not None else None
        if m is None or long is None or token.lower() in self.surface:
            return token
        forms = self._numbers_of(long)
        return forms[-1] if m.group(2) else forms[0]  # the reader's number, where the prose writes it

    def _numbers_of(self, name: str) -> list[str]:
        """A name spelled out from initials as the corpus first wrote it, with the same name in the other
        number where the prose writes that too, the singular first: initials say neither ("FM": 'Foreign Minister',
        'Foreign Ministers'); never a form the prose does not write ("United States" is no plural of a 'United
        State'). Whole initials are read from the reference list too, where an acronym may be a publisher's;
        initials among other words from the prose only (`_spelled`)."""
        plural = name.endswith("s") and not name.endswith("ss")
        other = name[:-1] if plural else name + "s"
        if " ".join(other.lower().split()) not in self._prose_names:
            return [name]
        return [other, name] if plural else [name, other]

    def _one_letter_away(self, word: str) -> str | None:
        from rapidfuzz.distance import Levenshtein

        for n in (len(word), len(word) - 1, len(word) + 1):
            for w in sorted(self._by_length.get(n, [])):
                if Levenshtein.distance(word, w, score_cutoff=1) <= 1:
                    return w
        return None

    def names_a_reference(self, text: str) -> bool:
        """The text names something only the reference list has: a capitalised word ("Who is Roza Zenda?",
        "the RAND commentary"); at the start of a sentence, only what is plainly a name there: an acronym, a
        possessive, or the first of a run of capitalised words ("RAND says what?", "Zenda's report",
        "Roza Zenda: who is she?"; not "Review the troop levels"). The reference list's plain words ("review",
        "troops", "session" in its titles) are every reader's words too, and name no source."""
        named = [
            m.group(0)
            for m in _CAPITALISED_WORD_RE.finditer(text)
            if not opens_sentence(text, m.start()) or _NAME_AT_START_RE.match(text, m.start())
        ]
        return bool(terms(" ".join(named)) & self.reference_only)


_CAPITALISED_WORD_RE = re.compile(r"\b[A-Z][\w'’-]*")
# at the start of a sentence, a word that is a name by its form: an acronym, a possessive, or one of a run
_NAME_AT_START_RE = re.compile(r"[A-Z]{2,}\b|[A-Z][\w-]*['’]s\b|[A-Z][\w'’-]*\s+[A-Z]")
# the small words names hold between their capitalised ones ("Bank of Zenda", "Trade and Transit Authority")
_NAME_SMALL_WORDS = frozenset({"of", "for", "and", "the", "on", "in"})
# a whole run of capitalised words, one or more, with those small words between them
_WHOLE_RUN_RE = re.compile(
    r"\b[A-Z][\w'’-]*(?:[ \t]+(?:(?:" + "|".join(sorted(_NAME_SMALL_WORDS)) + r")[ \t]+)?[A-Z][\w'’-]*)*"
)


def _name_starts(
    prose: Iterable[str], defined: dict[str, list[str]], lower: frozenset[str]
) -> frozenset[str]:
    """Every start (its first word, its first two, ...) of every name the prose writes outside the long forms
    it defines, as `_name_key` keys it: the runs of capitalised words once each defined long form is put back
    to its acronym, each run also cut at a possessive and at "and" ("Zenda's envoy", "Zenda and Ruritania"),
    and also without the words before a name that may be no part of it: a sentence's first word, a word the
    corpus also writes in lower case, a small word ("In Zenda, ...", "Talks in Zenda"). Built once per index; a
    set, so that `_shortened` looks a name up."""
    longs = {
        long: acronym for acronym, ls in defined.items() if acronym.replace("-", "").isupper() for long in ls
    }
    defining = (
        re.compile("|".join(re.escape(x) for x in sorted(longs, key=len, reverse=True))) if longs else None
    )
    out: set[str] = set()
    for t in prose:
        if defining is not None:
            t = defining.sub(lambda m: longs[m.group(0)], t)
        for m in _WHOLE_RUN_RE.finditer(t):
            for i, piece in enumerate(re.split(r"['’]s\b\s*|\s+and\s+", m.group(0))):
                ws = _name_key(piece).split()
                out.update(" ".join(ws[:k]) for k in range(1, len(ws) + 1))
                # "Talks in Zenda", "In Zenda": a sentence's first word has a capital whatever it is
                first = i == 0 and opens_sentence(t, m.start())
                while len(ws) > 1 and (first or ws[0] in lower or ws[0] in _NAME_SMALL_WORDS):
                    ws, first = ws[1:], False
                    out.update(" ".join(ws[:k]) for k in range(1, len(ws) + 1))
    return frozenset(out)


def _same_word(a: str, b: str) -> bool:
    """Two forms of one word, as readers and writers vary it: the same, one the other's start ('east',
    'eastern'; 'Zenda', 'Zendan'), or spelt alike but for a letter past the fifth ('organisation',
    'organization'). Words shorter than four letters only the same."""
    if a == b:
        return True
    short, long = sorted((a, b), key=len)
    if len(short) < 4:
        return False
    if long.startswith(short):
        return True
    return len(a) == len(b) and a[:5] == b[:5] and sum(x != y for x, y in zip(a, b, strict=True)) == 1


def opens_sentence(text: str, start: int) -> bool:
    """What stands at `start` opens the text, a sentence or a clause set off by a colon, a semicolon, a dash, a
    bracket or a quotation mark: a capital there is as often a common word as a name."""
    before = text[:start].rstrip()
    return not before or before.endswith((".", "?", "!", ":", ";", "—", "–", "(", '"', "“"))


# a capitalised word may join capitalised parts with hyphens ("Validated End-User", "Non-Proliferation Treaty"),
# each part an initial of its own
_CAPITALISED_RUN_RE = re.compile(
    r"\b[A-Z][a-zà-ÿ]+(?:-[A-Z][a-zà-ÿ]+)*(?:[ \t]+(?:(?:of|for|and|the|on|in)[ \t]+)?[A-Z][a-zà-ÿ]+(?:-[A-Z][a-zà-ÿ]+)*)+"
)


# "the International Monetary Fund (IMF)": a run of capitalised words (with the small words names hold) and the
# acronym in brackets right after it
_DEFINITION_RE = re.compile(
    r"((?:[A-Z][\w'’-]*|of|the|and|for|on|in|de|e|al)(?:[ \t]+(?:[A-Z][\w'’-]*|of|the|and|for|on|in|de|e|al)){0,9})"
    r"[ \t]+\(([A-Z][A-Za-z]{1,9}(?:-[A-Z])?)\)"
)


def _name_key(name: str) -> str:
    """A name as `defined_acronyms` keys it: lower case, a hyphen a space ("Zenda-Strelsau Line")."""
    return " ".join(name.lower().replace("-", " ").split())


def defined_acronyms(texts: Iterable[str]) -> dict[str, list[str]]:
    """The acronyms the texts define and their long forms, each way: "the Zenda Harbour Authority (ZHA)" gives
    'ZHA' (as written) -> ['Zenda Harbour Authority'] and 'zenda harbour authority' (`_name_key`) -> ['ZHA'].
    The long form is the shortest run of words before the brackets whose capitals (hyphenated words count each
    part) spell the acronym, after Schwartz and Hearst's algorithm (which also matches inner letters and the
    reverse order; these are left out); a suffix after a hyphen ("ISIL-K") need not be spelled."""
    out: dict[str, list[str]] = {}
    for t in texts:
        for m in _DEFINITION_RE.finditer(t):
            acronym = m.group(2)
            letters = acronym.split("-")[0].upper()
            ws = m.group(1).split()
            for k in range(1, len(ws) + 1):
                tail = ws[-k:]
                if not tail[0][:1].isupper():
                    continue
                caps = "".join(p[0] for w in tail for p in w.split("-") if p[:1].isupper())
                if caps.upper() == letters:
                    long = " ".join(tail)
                    for key, other in ((acronym, long), (_name_key(long), acronym)):
                        if other not in out.setdefault(key, []):
                            out[key].append(other)
                    break
    return out


def _initialisms(texts: Iterable[str]) -> dict[str, str]:
    """Initials of the capitalised names in the texts: 'IMF' -> 'International Monetary Fund'."""
    out: dict[str, str] = {}
    for t in texts:
        for m in _CAPITALISED_RUN_RE.finditer(t):
            caps = [w for w in re.split(r"[\s-]+", m.group(0)) if w[0].isupper()]
            if len(caps) >= 2:
                out.setdefault("".join(w[0] for w in caps), m.group(0))
    return out


@lru_cache(maxsize=65536)
def terms(text: str) -> frozenset[str]:
    """The set of stemmed, stop-word-free terms of a text (cached: sentences are scored again and again)."""
    return frozenset(tokenize(text))


class Truecaser:
    """A reader's lower-case words given the capitals the corpus writes them with: "what did sapt say about
    the zlf" reads as "what did Sapt say about the ZLF", so that the question's names are found as names.
    A word changes alone where the prose never writes it in lower case and writes it alone, capitalised,
    inside a sentence somewhere (not where one opens, not as a word of a longer name: 'World' of "World Bank",
    nor before a number: 'Article' of "Article 1"). A name of several words changes only as the whole name
    the prose writes ("security council": 'Security Council', though both words are also written in lower
    case), where the prose never writes the phrase itself in lower case. A message whose writer capitalised a
    name inside a sentence is left as written: its lower-case words are meant so ("Which article of the
    ZLF's charter ...?")."""

    def __init__(
        self,
        prose: Iterable[str],
        lower: frozenset[str],
        unchanged: frozenset[str] = frozenset(),
        longest: int = 8,
    ) -> None:
        from collections import Counter

        singles: dict[str, Counter[str]] = {}
        phrases: dict[tuple[str, ...], Counter[tuple[str, ...]]] = {}
        texts = [_URL_RE.sub(" ", t) for t in prose]
        written = lower | {m.group(0) for t in texts for m in _TOKEN_RE.finditer(t) if m.group(0).islower()}
        for t in texts:
            for run, alone in _capitalised_runs(t):
                if len(run) == 1 and alone and len(run[0]) > 1:
                    singles.setdefault(run[0].lower(), Counter())[run[0]] += 1
                elif 1 < len(run) <= longest:
                    phrases.setdefault(tuple(w.lower() for w in run), Counter())[tuple(run)] += 1
        # a phrase the prose also writes in lower case ("foreign minister") is no name of its own
        firsts = {k[0] for k in phrases}
        written_lower: set[tuple[str, ...]] = set()
        for t in texts:
            toks = [m.group(0) for m in _TOKEN_RE.finditer(t)]
            for i, w in enumerate(toks):
                if w in firsts:
                    for j in range(i + 2, min(i + longest, len(toks)) + 1):
                        if tuple(toks[i:j]) in phrases:
                            written_lower.add(tuple(toks[i:j]))
        self.words = {
            w: forms.most_common(1)[0][0]
            for w, forms in singles.items()
            if w not in written and w not in STOPWORDS and w not in unchanged
        }
        self.phrases = {
            k: forms.most_common(1)[0][0] for k, forms in phrases.items() if k not in written_lower
        }
        # a name typed without its accents ("waever") is the name as the prose writes it ("Wæver")
        for w, cased in list(self.words.items()):
            self.words.setdefault(fold(w), cased)
        for k, name in list(self.phrases.items()):
            self.phrases.setdefault(tuple(fold(x) for x in k), name)
        self.longest = longest

    def __call__(self, text: str) -> str:
        toks = list(_TOKEN_RE.finditer(text))
        if any(_titled(m.group(0)) and not _opens(text, toks, i) for i, m in enumerate(toks)):
            return text
        out: list[str] = []
        last = 0
        i = 0
        while i < len(toks):
            m = toks[i]
            w = m.group(0)
            if not w.islower():
                i += 1
                continue
            for n in range(min(self.longest, len(toks) - i), 1, -1):
                span = toks[i : i + n]
                key = tuple(x.group(0) for x in span)
                spaced = all(not text[a.end() : b.start()].strip() for a, b in itertools.pairwise(span))
                if spaced and key in self.phrases:
                    out += [text[last : m.start()], " ".join(self.phrases[key])]
                    last, i = span[-1].end(), i + n
                    break
            else:
                cased = self.words.get(w)
                # 'us' is the one pronoun STOPWORDS lacks that is also a common acronym: after "the" only
                if cased is not None and (w != "us" or (i and toks[i - 1].group(0).lower() == "the")):
                    out += [text[last : m.start()], cased]
                    last = m.end()
                i += 1
        return "".join(out) + text[last:]


# a word, hyphens within it ("ZLF-K", "Zenda-Strelsau"), never from inside another ("st" of "21st"); a
# possessive's 's is a token of its own
_TOKEN_RE = re.compile(r"(?<!\w)[^\W\d_]\w*(?:-\w+)*")
# the small words a name holds between two capitalised words ("Council of the Isles and the Marches")
_RUN_JOINERS = frozenset({"of", "for", "and", "the"})
_SENTENCE_BREAK_RE = re.compile(r"[.!?:;\"“(\[]")
_POSSESSIVE_GAP_RE = re.compile(r"['’]s?\s+")  # "Ministers' Dialogue", "Sapt’s Opening Remarks"
_NUMBER_NEXT_RE = re.compile(r"\s*\d")


def _titled(word: str) -> bool:
    """A word written with a capital and then small letters ("Zenda"; not "ZLF", "ZLF-K" or "I")."""
    return word[0].isupper() and any(ch.islower() for ch in word)


def _opens(text: str, toks: list[re.Match[str]], i: int) -> bool:
    """The i-th token opens a sentence (or a quotation, or what follows a colon or a bracket). Read from the
    gap since the last word, not `opens_sentence`'s last character: prose carries footnote numbers after a
    full stop ("... the council.3 In March")."""
    return not i or bool(_SENTENCE_BREAK_RE.search(text[toks[i - 1].end() : toks[i].start()]))


def _capitalised_runs(text: str) -> list[tuple[list[str], bool]]:
    """The runs of capitalised words in the text, as written, each with whether it is a word alone inside a
    sentence: not one that opens a sentence, nor the rest of a run that does ("Security Council members
    met": 'Council' is not alone), nor one before a number ("Article 1"), nor one joined to another by a
    possessive ("Ministers' Dialogue"). A run holds the small words names hold between two capitalised ones;
    a run that opens a sentence is given without its first word."""
    runs: list[tuple[list[str], bool]] = []
    toks = list(_TOKEN_RE.finditer(text))
    run: list[str] = []
    pending: list[str] = []  # joiners after the run, kept only where a capitalised word follows them
    opened = False
    for i, m in enumerate(toks):
        w = m.group(0)
        gap = text[toks[i - 1].end() : m.start()] if i else ""
        adjacent = bool(run) and (not gap.strip() or bool(_POSSESSIVE_GAP_RE.fullmatch(gap)))
        if w[0].isupper():
            if run and adjacent:
                run += [*pending, w]
            else:
                if run:
                    runs.append(_finished(run, opened, text, toks[i - 1 - len(pending)].end()))
                run, opened = [w], _opens(text, toks, i)
            pending = []
        elif run and adjacent and w in _RUN_JOINERS:
            pending.append(w)
        elif run:
            runs.append(_finished(run, opened, text, toks[i - 1 - len(pending)].end()))
            run, pending = [], []
    if run:
        runs.append(_finished(run, opened, text, toks[-1 - len(pending)].end()))
    return [r for r in runs if r[0]]


def _finished(run: list[str], opened: bool, text: str, end: int) -> tuple[list[str], bool]:
    """A run as `_capitalised_runs` gives it: without a sentence's first word, and whether it is one word
    alone (a possessive joins two words into one run)."""
    words_ = run[1:] if opened else run
    while words_ and words_[0] in _RUN_JOINERS:
        words_ = words_[1:]
    alone = not opened and len(words_) == 1 and not _NUMBER_NEXT_RE.match(text, end)
    return words_, alone


class Expander:
    """A reader's word -> the corpus's own words nearest in meaning ("gatherings" -> "meetings"), by cosine
    between word embeddings. The corpus words (content words of 4+ letters) are embedded once per index; a
    question's words are embedded when asked, together in one batch, and remembered."""

    def __init__(
        self,
        vocabulary: list[str],
        vectors: np.ndarray,
        encode: Callable[[list[str]], np.ndarray],
        min_similarity: float,
        per_word: int,
        cache_words: int,
    ) -> None:
        import threading

        from cachetools import LRUCache

        self.vocabulary, self.vectors, self._encode = vocabulary, vectors, encode
        self.min_similarity, self.per_word = min_similarity, per_word
        self._known = {w: i for i, w in enumerate(vocabulary)}
        self._cache: LRUCache[str, np.ndarray] = LRUCache(maxsize=max(cache_words, 1))
        self._ids: LRUCache[str, np.ndarray] = LRUCache(maxsize=max(cache_words, 1))
        self._lock = threading.Lock()

    @staticmethod
    def corpus_words(texts: Iterable[str]) -> list[str]:
        return sorted(
            {w for t in texts for w in words(t) if w.isalpha() and len(w) >= 3 and w not in STOPWORDS}
        )

    def question_vectors(self, question_words: list[str]) -> tuple[list[str], np.ndarray]:
        """The question's words that have a vector (the corpus's, or one embedded for the question), and
        those vectors (rows). Their cosine with a text's words is `self.vectors[self.ids(text)] @ vectors.T`:
        only the words a candidate uses, not the whole vocabulary, which grows with the corpus."""
        with self._lock:
            have = [
                (w, self.vectors[i] if (i := self._known.get(w)) is not None else self._cache.get(w))
                for w in dict.fromkeys(question_words)
            ]
        kept = [(w, v) for w, v in have if v is not None]
        if not kept or not self.vocabulary:
            return [], np.zeros((0, self.vectors.shape[1] if self.vectors.ndim == 2 else 0), dtype=np.float32)
        return [w for w, _ in kept], np.vstack([v for _, v in kept])

    def ids(self, text: str) -> np.ndarray:
        """The vocabulary rows of a text's words (remembered per text: passages are read again and again)."""
        with self._lock:
            found = self._ids.get(text)
        if found is None:
            rows = (self._known.get(w.removesuffix("'s")) for w in words(text))
            found = np.fromiter(dict.fromkeys(i for i in rows if i is not None), dtype=np.intp)
            with self._lock:
                self._ids[text] = found
        return found

    def unknown(self, question_words: list[str]) -> list[str]:
        """The words the corpus does not use whose vectors are not remembered yet (to embed)."""
        asked = [w for w in dict.fromkeys(question_words) if w.isalpha() and w not in self._known]
        with self._lock:
            return [w for w in asked if w not in self._cache]

    def remember(self, vectors: dict[str, np.ndarray]) -> None:
        with self._lock:
            self._cache.update(vectors)

    def expand(self, question_words: list[str]) -> dict[str, list[str]]:
        """For each word the corpus does not use, its nearest corpus words above the similarity floor. Words
        not embedded yet are embedded here (callers that embed a query anyway pass them through `remember`
        first, in the same batch)."""
        todo = self.unknown(question_words)
        if todo:
            self.remember(dict(zip(todo, self._encode(todo), strict=True)))
        asked = [w for w in dict.fromkeys(question_words) if w.isalpha() and w not in self._known]
        with self._lock:
            vecs = {w: v for w in asked if (v := self._cache.get(w)) is not None}
        out: dict[str, list[str]] = {}
        if not self.vocabulary or not vecs:
            return out
        words_ = [w for w in asked if w in vecs]
        sims = np.vstack([vecs[w] for w in words_]) @ self.vectors.T
        for w, row in zip(words_, sims, strict=True):
            top = np.argpartition(-row, min(self.per_word, len(row) - 1))[: self.per_word]
            top = top[np.argsort(-row[top])]
            near = [self.vocabulary[i] for i in top if row[i] >= self.min_similarity]
            if near:
                out[w] = near
        return out
