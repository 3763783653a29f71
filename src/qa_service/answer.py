"""compose_answer(question, hits) -> Answer: an extractive answer built from the paper's own sentences.

No language model: the sentences of the retrieved passages compete on meaning (cosine to the question)
and on the question's rare words (IDF-weighted overlap); the best few, within a word budget, form the
answer, each followed by the marker [n] of the passage it comes from. The footnotes cited are exactly
those that carry or cover the sentences used. When even the best sentence scores below the calibrated
threshold, or the question tries to give instructions, the composer abstains.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from functools import lru_cache

import numpy as np
from pydantic import BaseModel, Field

from qa_service.config import AnswerSettings
from qa_service.converse import proper_names
from qa_service.index import LoadedIndex
from qa_service.lexical import tokenize
from qa_service.models import Chunk, Hit
from qa_service.text import content_words

ABSTAIN_MESSAGE = (
    "The documents don't say: I found no passage in the paper or its fetched sources that answers this."
)
INSTRUCTION_MESSAGE = (
    "I only answer questions about the documents, from what they say; I can't follow instructions given "
    "in a question."
)
_INJECTION_RE = re.compile(
    r"\b(ignor(?:e|es|ing)|disregard(?:ing)?|forget(?:ting)?|override|bypass)\b.{0,40}\b(instructions?|prompts?|rules|guidelines|context|"
    r"everything|above|previous)\b|\bsystem prompt\b|\byou are now\b|\bpretend (to be|you)\b|\bjailbreak\b|"
    r"\bdeveloper mode\b|\bnew instructions\b|\bact as\b|\breveal (your|the) (prompt|instructions)\b",
    re.I,
)
_SOURCES_RE = re.compile(
    r"\b(sources?|cites?|cited|citing|citations?|footnotes?|references?|bibliograph\w*|wrote|written|authored|"
    r"authors?|publications?|published by|which (?:report|document|article|book|brief|statement|study)|"
    r"evidence for|backs?|backed|supports? the claim|support for the claim)\b|\bnote \d",
    re.I,
)
# A sentence that continues the previous one's statement ("He added that...") or opens a list ("Two major
# factors explain..." then "The first..."): the next sentence belongs in the answer with it.
PIN_BONUS = 1.0  # passages the question names (footnote N, the title page, the conclusion) come first
_CONTINUES_RE = re.compile(
    r"^(?:(?:He|She|They|It)\s+(?:also\s+)?(?:added|went on|said|claimed|argued|called|reiterated|stated|warned|"
    r"declared|noted|accused|insisted|asked)|The (?:first|second|third)|First,|Second,|Third,|Finally,)\b"
)
_OPENER_RE = re.compile(
    r"(?:\b(?:two|three|four|five|several|following)\b[^.]{0,60}\b(?:factors|reasons|mechanisms|ways|pillars|"
    r"goals|steps|elements)\b.*|:)\s*$",
    re.I,
)


class AnswerSentence(BaseModel):
    text: str
    marker: int = Field(description="1-based index of the passage this sentence comes from.")
    passage_id: str
    sentence_id: str
    footnotes: list[int]
    score: float


Candidate = tuple[float, int, AnswerSentence, int]  # (score, passage rank, sentence, position in passage)


class Answer(BaseModel):
    question: str
    standalone_question: str
    answer: str
    abstained: bool
    reason: str | None = None
    confidence: float
    sentences: list[AnswerSentence]
    passages: list[Hit]
    footnotes: list[int]


@lru_cache(maxsize=16384)
def terms(text: str) -> frozenset[str]:
    return frozenset(tokenize(text))


class IDF:
    """Inverse document frequency of stemmed terms over the chunks, for weighting query terms; and the terms
    that only the reference list uses (a name such as "Otunbayeva" appears in a footnote alone)."""

    def __init__(self, texts: list[str], is_reference: list[bool] | None = None) -> None:
        df: Counter[str] = Counter()
        in_refs: set[str] = set()
        elsewhere: set[str] = set()
        for i, t in enumerate(texts):
            ts = terms(t)
            df.update(ts)
            (in_refs if is_reference and is_reference[i] else elsewhere).update(ts)
        self.n = max(len(texts), 1)
        self.df = df
        self.reference_only = frozenset(in_refs - elsewhere)

    def names_a_reference(self, question: str) -> bool:
        """The question uses a term that only the reference list has."""
        return bool(terms(question) & self.reference_only)

    def __call__(self, term: str) -> float:
        return math.log(1 + (self.n - self.df.get(term, 0) + 0.5) / (self.df.get(term, 0) + 0.5))


def looks_like_injection(question: str) -> bool:
    return bool(_INJECTION_RE.search(question))


_ABOUT_PAPER_RE = re.compile(r"\b(?:this|the) (?:paper|report|study|publication|analysis)\b", re.I)
_AUTHORSHIP = {"wrote", "written", "authored", "author", "authors", "published by"}


_PAPER_META_RE = re.compile(
    r"\b(?:wrote|written|authors?|authored|published|publisher|publish|released|title|titled|called|date[ds]?|"
    r"when was|who is behind|layout|design(?:ed)?|cover)\b",
    re.I,
)


def asks_about_paper(question: str) -> bool:
    """The question is about the document itself (its author, title, publisher, date), not its content."""
    return bool(
        _ABOUT_PAPER_RE.search(question)
        and _PAPER_META_RE.search(question)
        and not re.search(r"\b(?:cites?|cited|citing|footnotes?|sources?)\b", question, re.I)
    )


_CONCLUSION_RE = re.compile(
    r"\b(?:main|central|key|overall|principal)\s+(?:argument|conclusions?|findings?|points?|thesis|claims?|message)\b|"
    r"\bconclu(?:de|des|sion|sions)\b|\bsummar(?:y|ize|ise)\b|\bbottom line\b",
    re.I,
)
_PURPOSE_RE = re.compile(
    r"\b(?:purpose|objective|aim|goal|scope)\s+of\s+(?:the|this)\s+(?:paper|report|study|analysis)\b|"
    r"\bwhat (?:is|does) (?:the|this) (?:paper|report|study)(?: (?:about|examine|ask|set out to do))?\b",
    re.I,
)
_OVERVIEW_WORDS = frozenset(
    [
        "main",
        "central",
        "key",
        "overall",
        "principal",
        "argument",
        "arguments",
        "conclusion",
        "conclusions",
        "conclude",
        "concludes",
        "finding",
        "findings",
        "point",
        "points",
        "thesis",
        "claim",
        "claims",
        "message",
        "summary",
        "summarize",
        "summarise",
        "purpose",
        "objective",
        "aim",
        "goal",
        "scope",
        "paper",
        "paper's",
        "report",
        "study",
        "analysis",
        "bottom",
        "line",
        "set",
        "out",
        "examine",
        "ask",
        "asks",
        "do",
    ]
)
OVERVIEW_SECTIONS = {
    "conclusion": ("conclusion", "conclusions", "summary", "final remarks", "abstract"),
    "purpose": ("objective", "objectives", "introduction", "abstract", "purpose", "overview"),
}


def asks_for_overview(question: str) -> str | None:
    """'What is the paper's main conclusion?' -> "conclusion"; 'What is the purpose of this paper?' -> "purpose".
    Only for questions about the whole paper: "What does it conclude about the SCO?" has a subject of its own."""
    if [w for w in content_words(question) if w not in _OVERVIEW_WORDS]:
        return None
    if _CONCLUSION_RE.search(question):
        return "conclusion"
    if _PURPOSE_RE.search(question):
        return "purpose"
    return None


def asks_about_sources(question: str) -> bool:
    """The question is about what the paper cites (sources, footnotes, authors of cited works), not about
    the paper itself ("Who wrote the paper?")."""
    triggers = {m.group(0).lower() for m in _SOURCES_RE.finditer(question)}
    if _ABOUT_PAPER_RE.search(question):
        triggers -= _AUTHORSHIP
    return bool(triggers)


def compose_answer(
    question: str,
    standalone: str,
    qvec: np.ndarray,
    hits: list[Hit],
    index: LoadedIndex,
    idf: IDF,
    cfg: AnswerSettings,
    pinned: frozenset[str] = frozenset(),
    describe: dict[int, str] | None = None,
    about_sources: bool = False,
) -> Answer:
    """`pinned`: passages the question names explicitly (footnote N), always used. `describe`: for questions
    about sources, footnote number -> short description appended to the answer."""

    def result(
        abstained: bool, reason: str | None, text: str, chosen: list[AnswerSentence], conf: float
    ) -> Answer:
        notes = sorted({n for s in chosen for n in s.footnotes})
        return Answer(
            question=question,
            standalone_question=standalone,
            answer=text,
            abstained=abstained,
            reason=reason,
            confidence=round(conf, 4),
            sentences=chosen,
            passages=hits,
            footnotes=notes,
        )

    if looks_like_injection(question):
        return result(True, "instruction", INSTRUCTION_MESSAGE, [], 0.0)
    q_terms = set(terms(standalone))
    # Names the corpus never mentions ("Germany", "GDP") make an answer from these documents unlikely.
    unknown = [n for n in proper_names(question) if not any(idf.df.get(t) for t in tokenize(n))]
    penalty = cfg.unknown_name_penalty * min(len(unknown), 2)
    q_weight = sum(idf(t) for t in q_terms) or 1.0
    scored: list[Candidate] = []
    for rank, hit in enumerate(hits[: cfg.candidate_passages], 1):
        for pos, s in enumerate(hit.chunk.sentences):
            row = index.sentence_row.get(s.id)
            if row is None:
                continue
            dense = float(index.sentence_vectors[row] @ qvec)
            # a sentence also "says" its section's title ("What is the paper's conclusion?")
            lex = sum(idf(t) for t in q_terms & (terms(s.text) | terms(hit.chunk.section or ""))) / q_weight
            score = 0.65 * dense + 0.35 * lex + 0.02 / rank - penalty
            if len(s.text.split()) < 4:  # "ANDIANA FOUNDATION": a label, rarely an answer
                score -= 0.05
            if hit.chunk.id in pinned:
                score += PIN_BONUS
            elif hit.chunk.kind == "reference" and not about_sources:
                score -= cfg.reference_penalty
            scored.append(_candidate(score, rank, hit.chunk, pos))
    if not scored:
        return result(True, "no_passage", ABSTAIN_MESSAGE, [], 0.0)
    scored.sort(key=lambda x: -x[0])
    best = scored[0][0]

    def unpinned(c: Candidate) -> float:  # the score without the pin bonus
        return c[0] - (PIN_BONUS if c[2].passage_id in pinned else 0.0)

    if best < cfg.abstain_threshold:
        return result(True, "low_confidence", ABSTAIN_MESSAGE, [], best)

    chosen = [scored[0]]
    words = len(scored[0][2].text.split())
    # A sentence that goes on about the same subject ("He added that...") follows its predecessor.
    follow = _neighbour(scored[0], hits, +1)
    # One that starts "Its role in creating the Taliban..." needs the sentence before it to say whose.
    antecedent = _neighbour(scored[0], hits, -1)
    for cand in [c for c in (antecedent, follow) if c] + scored[1:]:
        if len(chosen) >= cfg.max_sentences:
            break
        if any(
            c[2].sentence_id == cand[2].sentence_id or c[2].text.lower() == cand[2].text.lower()
            for c in chosen
        ):
            continue
        if cand not in (follow, antecedent) and unpinned(cand) < cfg.relative_keep * unpinned(scored[0]):
            continue
        if pinned and cand[2].passage_id not in pinned:  # the passages the question names answer it alone
            continue
        w = len(cand[2].text.split())
        if words + w > cfg.max_words:
            continue
        chosen.append(cand)
        words += w
    chosen.sort(key=lambda c: (c[1], c[3]))  # passage order, then reading order inside a passage
    sentences = [c[2] for c in chosen]
    text = " ".join(f"{s.text} [{s.marker}]" for s in sentences)
    if about_sources and describe:
        quoted = {n for s in sentences if hits[s.marker - 1].chunk.kind == "reference" for n in s.footnotes}
        cited = sorted(
            {n for s in sentences for n in s.footnotes} - quoted
        )  # notes not already in the answer
        extra = [f"Footnote {n}: {describe[n]}" for n in cited if n in describe]
        if extra:
            text += " " + " ".join(extra)
    return result(False, None, text, sentences, min(best, 1.0))


def _candidate(score: float, rank: int, chunk: Chunk, pos: int) -> Candidate:
    s = chunk.sentences[pos]
    sentence = AnswerSentence(
        text=s.text,
        marker=rank,
        passage_id=chunk.id,
        sentence_id=s.id,
        footnotes=s.covered_by,
        score=round(score, 4),
    )
    return (score, rank, sentence, pos)


_ANAPHORIC_START_RE = re.compile(r"^(?:It|Its|They|Their|This|These|He|His|She|Her|The latter|The former)\b")


def _neighbour(top: Candidate, hits: list[Hit], step: int) -> Candidate | None:
    """The sentence after the best one when it goes on with it (step +1), or the one before when the best
    sentence opens with a pronoun that needs it (step -1); from the same passage only."""
    score, rank, sent, pos = top
    chunk = hits[rank - 1].chunk
    other = pos + step
    if not 0 <= other < len(chunk.sentences):
        return None
    if step > 0 and not (_CONTINUES_RE.match(chunk.sentences[other].text) or _OPENER_RE.search(sent.text)):
        return None
    if step < 0 and not _ANAPHORIC_START_RE.match(sent.text):
        return None
    return _candidate(score * 0.6, rank, chunk, other)
