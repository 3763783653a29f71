"""Synthetic papers for scale benchmarks: seeded, distinct text, shaped like a real paper.

Each paper is generated sentence by sentence over a vocabulary of pronounceable made-up words (nouns, verbs,
adjectives, names), drawn with Zipf-like frequencies from a per-paper topic so that term statistics look like
a real corpus and no two papers share their text. A paper has a title page, a table of contents, sections of
paragraphs whose sentences carry superscript footnote markers, and a numbered reference list at the end: it
goes through the real parser and chunker like any paper. Nothing here copies or names the bundled paper.

Topical papers (`write_corpus(..., topical=True)`) are the other kind: copies of the corpus's own papers whose
names, acronyms, years and numbers are swapped among the paper's own (seeded, consistently within a copy), so
they share the paper's subject, wording and structure and compete with it for every question, while stating
other facts. They go through the same parser; reference-list and contents numbering, footnote markers and
URLs are left as they are, so every marker still resolves.
"""

from __future__ import annotations

import random
import re
import shutil
import tomllib
from pathlib import Path

from qa_service.text import STOPWORDS, SUPERSCRIPT_DIGITS

_ONSETS = ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z", "br", "dr", "kr", "st", "tr"]
_VOWELS = ["a", "e", "i", "o", "u", "ai", "eo", "ou"]
_CODAS = ["", "", "n", "r", "s", "l", "m", "k", "nd", "st"]
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
_PREPOSITIONS = [
    "in",
    "across",
    "within",
    "beyond",
    "after",
    "before",
    "around",
    "against",
    "among",
    "despite",
]
_LINKS = ["Moreover", "However", "In contrast", "At the same time", "As a result", "Meanwhile", "Still"]
_SECTION_WORDS = ["Context", "Dynamics", "Prospects", "Constraints", "Patterns", "Outcomes", "Trends"]


class Vocabulary:
    """The words sentences are made of, seeded: drawn from `words` (e.g. the embedding model's own word-piece
    vocabulary, so texts cost the model about as many tokens as English prose does), else made-up words."""

    def __init__(
        self,
        rng: random.Random,
        words: list[str] | None = None,
        nouns: int = 4000,
        verbs: int = 900,
        adjectives: int = 900,
    ) -> None:
        if words:
            pool = sorted({w for w in words if w.isalpha() and w.islower() and len(w) >= 4} - STOPWORDS)
            rng.shuffle(pool)
            self.nouns = pool[:nouns]
            self.verbs = pool[nouns : nouns + verbs]
            self.adjectives = pool[nouns + verbs : nouns + verbs + adjectives]
            self.names = [w.capitalize() for w in pool[nouns + verbs + adjectives :][: nouns // 2]]
            if len(self.names) >= 200:
                return
        seen: set[str] = set()

        def word(syllables: int) -> str:
            while True:
                w = "".join(
                    rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS) for _ in range(syllables)
                )
                if w not in seen and len(w) >= 4:
                    seen.add(w)
                    return w

        self.nouns = [word(rng.choice((2, 2, 3))) for _ in range(nouns)]
        self.verbs = [word(2) for _ in range(verbs)]
        self.adjectives = [
            word(rng.choice((2, 3))) + rng.choice(("al", "ic", "ive", "ous")) for _ in range(adjectives)
        ]
        self.names = [word(rng.choice((2, 3))).capitalize() for _ in range(nouns // 2)]


class _Topic:
    """A paper's own slice of the vocabulary, drawn with Zipf-like weights."""

    def __init__(self, vocab: Vocabulary, rng: random.Random) -> None:
        self.rng = rng
        self.nouns = rng.sample(vocab.nouns, 600)
        self.verbs = rng.sample(vocab.verbs, 150)
        self.adjectives = rng.sample(vocab.adjectives, 150)
        self.names = rng.sample(vocab.names, 120)

    def pick(self, words: list[str]) -> str:
        # rank r drawn with probability ~ 1/r: a few words recur, most are rare
        r = int(len(words) ** self.rng.random()) - 1
        return words[max(0, min(r, len(words) - 1))]

    def noun(self) -> str:
        return self.pick(self.nouns)

    def name(self) -> str:
        return self.pick(self.names)

    def verb(self) -> str:
        v = self.pick(self.verbs)
        return v + ("es" if v.endswith(("s", "z")) else "s")

    def adj(self) -> str:
        return self.pick(self.adjectives)

    def date(self) -> str:
        return f"{self.rng.choice(_MONTHS)} {self.rng.randint(1990, 2024)}"


def _sentence(t: _Topic) -> str:
    rng = t.rng
    forms = [
        lambda: (
            f"The {t.adj()} {t.noun()} of {t.name()} {t.verb()} the {t.noun()} {rng.choice(_PREPOSITIONS)} {t.name()}"
        ),
        lambda: f"In {t.date()}, {t.name()} {t.verb()} a {t.adj()} {t.noun()} with {t.name()} and {t.name()}",
        lambda: (
            f"{rng.choice(_LINKS)}, the {t.noun()} {t.verb()} {rng.randint(2, 90)} {t.noun()}s of the {t.adj()} {t.noun()}"
        ),
        lambda: (
            f"{t.name()} {t.verb()} that the {t.noun()} {t.verb()} the {t.adj()} {t.noun()} of {t.name()}"
        ),
        lambda: (
            f"Its {t.noun()} {t.verb()} the {t.noun()} and the {t.adj()} {t.noun()} {rng.choice(_PREPOSITIONS)} the {t.noun()} of {t.name()}"
        ),
        lambda: (
            f"The {t.noun()} {t.verb()} {t.adj()} {t.noun()}s, {t.adj()} {t.noun()}s and the {t.noun()} of {t.name()} since {rng.randint(1990, 2024)}"
        ),
        lambda: (
            f"According to {t.name()}, the {t.adj()} {t.noun()} {t.verb()} {rng.randint(2, 40)} percent of the {t.noun()}"
        ),
    ]
    s = rng.choice(forms)()
    while rng.random() < 0.55:  # longer sentences: a clause more
        s += f", while the {t.noun()} of {t.name()} {t.verb()} the {t.adj()} {t.noun()}"
    return s[0].upper() + s[1:] + "."


def _superscript(n: int) -> str:
    return "".join(SUPERSCRIPT_DIGITS[int(d)] for d in str(n))


def synthetic_paper(vocab: Vocabulary, seed: int, words: int = 5000) -> str:
    """The text of one synthetic paper of about the bundled paper's size: some 270 sentences in 160 passages, with body text of about `words` words."""
    rng = random.Random(seed)
    t = _Topic(vocab, rng)
    institute = f"{t.name()} {rng.choice(('Institute', 'Centre', 'Foundation', 'Council'))}".upper()
    title = f"The {t.adj().capitalize()} {t.noun().capitalize()} of {t.name()}"
    subtitle = (
        f"{t.noun().capitalize()}, {t.noun().capitalize()} and {t.adj().capitalize()} {t.noun().capitalize()}"
    )
    author = f"{t.name()[0]}. {t.name()}"
    n_sections = rng.randint(5, 8)
    titles: list[str] = ["Objective"]
    while len(titles) < n_sections - 1:
        cand = f"{t.adj().capitalize()} {rng.choice(_SECTION_WORDS)} of {t.name()}"
        if cand not in titles:
            titles.append(cand)
    titles.append("Conclusion")
    body_words = 0
    per_section = words // n_sections
    note = 0
    refs: list[str] = []
    sections: list[str] = []
    for title_ in titles:
        paragraphs: list[str] = []
        written = 0
        while written < per_section:
            sents = []
            for _ in range(rng.randint(2, 6)):
                s = _sentence(t)
                if rng.random() < 0.2:  # a footnote marker after the full stop, as printed papers have them
                    note += 1
                    s += _superscript(note)
                    refs.append(
                        f"{note} {t.name()} {t.name()}, “The {t.adj().capitalize()} {t.noun().capitalize()},” "
                        f"{t.name()} Review, {t.date()}, https://example.org/{t.noun()}/{seed}-{note}."
                    )
                sents.append(s)
                written += len(s.split())
            paragraphs.append(" ".join(sents))
        body_words += written
        sections.append(title_ + "\n\n" + "\n\n".join(paragraphs))
    toc = "\n".join(f"{2 * i + 1}\t{x}" for i, x in enumerate(titles))
    front = (
        f"{institute}\n\n{title}\n\n{subtitle}\n\n{author}\n\n\n\n"
        f"{institute}\n\n{title}: {subtitle}\n\n{author}\n\n"
        f"The authors are responsible for the content of this report, as they reflect their personal views "
        f"and not those of the {institute.title()}.\n\n"
        f"{rng.choice(_MONTHS)} {rng.randint(2015, 2025)}\n\n"
        f"Table of Contents\n\n{toc}"
    )
    back = (
        f"{institute}\n\nThe {institute.title()} is an independent research organization that studies the "
        f"{t.noun()} and the {t.noun()} of {t.name()}."
    )
    return "\n\n".join([front, *sections, "\n\n".join(refs), back]) + "\n"


# A line that starts with its number (a reference-list entry, a contents line), a URL, a bracketed marker: kept.
_KEPT = re.compile(r"^\d+(?=[\t .)])|<?https?://\S+|www\.\S+|\[\d[\d,\s\u2013-]*\]", re.MULTILINE)
_NAME = re.compile(r"\b[A-Z][a-z]+(?:-[A-Z][a-z]+)*\b")
_ACRONYM = re.compile(r"\b[A-Z]{2,}\b")
_NUMBER = re.compile(r"\b\d+\b")
_TOKEN = re.compile(r"\b(?:[A-Z][a-z]+(?:-[A-Z][a-z]+)*|[A-Z]{2,}|\d+)\b")


def _is_year(n: str) -> bool:
    return len(n) == 4 and n[:2] in ("19", "20")


def topical_swaps(text: str, seed: int) -> dict[str, str]:
    """A seeded permutation of the paper's own names (words it capitalises inside sentences and never writes in
    lower case), months, acronyms, years and other numbers (each among those of its kind and, for numbers, of
    its length)."""
    rng = random.Random(seed)
    prose = _KEPT.sub(" ", text)  # not the words of URLs
    lower = set(re.findall(r"\b[a-z]+\b", prose))
    # a name is written capitalised inside a sentence (not only at its start, where any word is) and never
    # in lower case; months are swapped among months
    inside = set(re.findall(r"(?<=[a-z,;:] )" + _NAME.pattern, prose))
    names = sorted(w for w in inside if w.lower() not in lower | STOPWORDS and w not in _MONTHS)
    numbers = sorted(set(_NUMBER.findall(prose)))
    months = [m for m in _MONTHS if m in inside]
    groups = [names, months, sorted(set(_ACRONYM.findall(prose))), [n for n in numbers if _is_year(n)]]
    for length in sorted({len(n) for n in numbers}):
        groups.append([n for n in numbers if len(n) == length and not _is_year(n)])
    swaps: dict[str, str] = {}
    for group in groups:
        shuffled = list(group)
        rng.shuffle(shuffled)
        swaps.update(zip(group, shuffled, strict=True))
    return swaps


def topical_paper(text: str, seed: int) -> str:
    """The paper with its names, acronyms, years and numbers swapped (topical_swaps), everything else as is."""
    swaps = topical_swaps(text, seed)
    out, last = [], 0
    for m in _KEPT.finditer(text):
        out += [_swap(text[last : m.start()], swaps), m.group(0)]
        last = m.end()
    return "".join([*out, _swap(text[last:], swaps)])


def _swap(segment: str, swaps: dict[str, str]) -> str:
    return _TOKEN.sub(lambda m: swaps.get(m.group(0), m.group(0)), segment)


def write_corpus(
    directory: Path,
    papers: int,
    seed: int = 0,
    base: Path | None = None,
    words: list[str] | None = None,
    topical: bool = False,
) -> Path:
    """A corpus folder with `papers` documents: the documents of the `base` corpus first (copied), then
    synthetic papers (or, with `topical`, topical copies of the base's papers, in turn) up to the count.
    Papers are seeded by position, so a corpus of 10 is the first 10 of a corpus of 50 (an ingest that grows
    the corpus embeds only the new papers). `words`: see Vocabulary."""
    (directory / "papers").mkdir(parents=True, exist_ok=True)
    entries: list[str] = []
    originals: list[tuple[dict[str, object], str]] = []
    if base is not None:
        manifest = tomllib.loads((base / "manifest.toml").read_text(encoding="utf-8"))
        for doc in manifest.get("documents", []):
            if doc.get("kind", "paper") == "paper":
                originals.append((doc, (base / doc["path"]).read_text(encoding="utf-8")))
        for doc in manifest.get("documents", [])[:papers]:
            src = base / doc["path"]
            dst = directory / "papers" / Path(doc["path"]).name
            shutil.copyfile(src, dst)
            fields = {**doc, "path": f"papers/{dst.name}"}
            entries.append("[[documents]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in fields.items()))
        if (base / "vocabulary.toml").exists():
            shutil.copyfile(base / "vocabulary.toml", directory / "vocabulary.toml")
    if topical:
        if not originals:
            raise ValueError("topical papers are derived from the base corpus's papers: give `base`")
        for i in range(len(entries), papers):
            doc, text = originals[i % len(originals)]
            suffix = Path(str(doc["path"])).suffix
            path = directory / "papers" / f"topical-{i:04d}{suffix}"
            paper_seed = seed * 100_003 + i
            if not path.exists():
                path.write_text(topical_paper(text, paper_seed), encoding="utf-8")
            swaps = topical_swaps(text, paper_seed)
            entry: dict[str, object] = {
                "id": f"topical-{i:04d}",
                "path": f"papers/{path.name}",
                "kind": "paper",
            }
            for key in ("format", "title", "subtitle", "author", "publisher", "date"):
                if key in doc:
                    value = str(doc[key])
                    entry[key] = value if key == "format" else _swap(value, swaps)
            entries.append("[[documents]]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in entry.items()))
        (directory / "manifest.toml").write_text("\n".join(entries), encoding="utf-8")
        return directory
    vocab = Vocabulary(random.Random(seed), words)
    for i in range(len(entries), papers):
        path = directory / "papers" / f"synthetic-{i:04d}.txt"
        if not path.exists():
            path.write_text(synthetic_paper(vocab, seed * 100_003 + i), encoding="utf-8")
        entries.append(
            f'[[documents]]\nid = "synthetic-{i:04d}"\npath = "papers/{path.name}"\nkind = "paper"\n'
        )
    (directory / "manifest.toml").write_text("\n".join(entries), encoding="utf-8")
    return directory


def _toml(value: object) -> str:
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value).lower() if isinstance(value, bool) else str(value)
