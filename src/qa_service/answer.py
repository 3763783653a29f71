"""choose() and compose(): the answer built from the documents' own sentences, with its citations.

No language model. `choose` takes the sentences the reader scored best: the best one for each part of the
question, then further sentences in order of score while they score at least `relative_keep` of the best
(or, next to a chosen sentence in the same paragraph, `adjacent_keep` of it) and fit the word budget. With
the context rules on, a lead-in ("X was more direct:") brings what it announces, a sentence that opens with a
pronoun brings the one before it, a why-question's best sentence that gives no reason brings the one after
it, and a sentence of a caption brings the rest of the caption. `compose` writes them in passage order, each
ending with the marker [n] of its passage, and cites the footnotes that carry or cover the sentences that answer,
each scoped to its document: a sentence taken only for context (the one a pronoun points back to, a
neighbour kept under `relative_keep`) keeps its own footnotes in its citation, but the answer does not cite
them on its account. When the decision (decide.py) is to abstain, the answer says why and `passages` holds
the nearest passages.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from pydantic import BaseModel, Field

from qa_service.decide import Decision
from qa_service.models import FootnoteRef, Hit
from qa_service.question import NO_FOOTNOTE, Question
from qa_service.read import (
    Candidate,
    announced,
    asks_for_a_person,
    asks_for_a_writer,
    dates_in,
    gives_reason,
    is_anaphoric,
    is_lead_in,
    new_names,
    offers,
    personal_names,
    place_in_series,
)
from qa_service.text import normalize

ABSTAIN_MESSAGE = "The documents don't say."
INSTRUCTION_MESSAGE = (
    "I only answer questions about the documents, from what they say; I can't follow instructions given "
    "in a question."
)


class AnswerSentence(BaseModel):
    text: str
    marker: int = Field(description="1-based index of the passage this sentence comes from.")
    passage_id: str
    sentence_id: str
    document: str = Field("", description="The document the sentence is in.")
    footnote_doc: str = Field("", description="The document whose footnotes `footnotes` are.")
    footnotes: list[int]
    page: int | None = Field(None, description="The page the sentence is on (PDF papers and sources).")
    score: float
    context: bool = Field(
        False,
        description="Taken only for context (what a pronoun points back to, a weaker neighbour): the answer's "
        "footnotes are not cited on its account.",
    )


class Answer(BaseModel):
    question: str
    standalone_question: str
    answer: str
    abstained: bool
    reason: str | None = Field(None, description="Why it abstained, in a sentence; None when it answered.")
    confidence: float
    sentences: list[AnswerSentence]
    passages: list[Hit]
    footnotes: list[FootnoteRef]
    evidence: list[AnswerSentence] = Field(
        default_factory=list,
        description="The best candidate sentences considered, best first (a superset of `sentences`).",
    )
    kind: str = Field("", description="The question's kind as analysed (when, who, why, ...).")


@dataclass(frozen=True)
class Choice:
    """The answer's sentences, best first, and those among them taken only for context (by `id`)."""

    sentences: list[Candidate]
    for_context: frozenset[int] = frozenset()
    # the claim a reference entry is asked the source of, taken to show it: the decision does not read it
    # (`judged`), since it was chosen for not being an entry, not for answering the question
    for_claim: frozenset[int] = frozenset()

    @property
    def judged(self) -> list[Candidate]:
        """The sentences the decision reads: all but the claim taken beside a reference entry."""
        return [c for c in self.sentences if id(c) not in self.for_claim]


@dataclass(frozen=True)
class Composition:
    """How many sentences an answer takes (see AnswerSettings for each)."""

    max_words: int
    max_sentences: int
    relative_keep: float
    adjacent_keep: float
    context: bool
    reasons: bool = False  # a best sentence for a why-part that gives no reason brings the one after it
    elaborate: int = 0  # a best sentence shorter than this (words) brings the one after it


def eligible(
    q: Question, cands: list[Candidate], pinned: frozenset[str] = frozenset(), behind: frozenset[str] = frozenset()
) -> list[Candidate]:
    """The candidates that may answer: what the question names outright (footnote N, the title page), alone;
    else any sentence but a question of the document's own (`asks`; unless the reader asks what was asked) and a
    reference-list entry, which answers only a question about sources, or a follow-up about what the last answer
    said when the entry is one its footnotes cite (`behind`); and a table of contents, which states nothing
    but a document's headings and pages, only a question about the document or how it is laid out
    (`Question.about_layout`)."""
    if pinned:
        return [c for c in cands if c.chunk.id in pinned]
    counted = {normalize(t) for t in q.counted}
    about_asking = bool(_ABOUT_ASKING_RE.search(q.standalone))
    about_layout = q.about_document or q.about_layout
    return [
        c
        for c in cands
        if (q.about_sources or c.chunk.kind != "reference" or c.chunk.id in behind)
        and (about_layout or c.chunk.kind != "toc")
        and (not counted or normalize(c.text) not in counted)
        and (about_asking or c.chunk.kind == "reference" or not asks(c.text))
    ]


def one_document(allowed: list[Candidate]) -> list[Candidate]:
    """The candidates of one document (a paper with its fetched sources, `Chunk.notes_doc`), read after the
    reader scored them: an answer quotes one paper, whose footnotes its markers cite, the paper of its best
    sentence. A follow-up is no exception: the last answer's passages compete among its candidates, so it stays
    with the paper the conversation is about unless another paper answers it better ("And what about the
    harbour fees?", which only another paper tells of)."""
    if len({c.chunk.notes_doc for c in allowed}) < 2:
        return allowed
    doc = max(allowed, key=lambda c: c.score).chunk.notes_doc  # the first of the best, in allowed's order
    return [c for c in allowed if c.chunk.notes_doc == doc]


def asks(text: str) -> bool:
    """A sentence that is itself a question ("What are the prospects for ...?"): what a paper asks before it
    answers, never the answer, unless the reader asks what was asked (`_ABOUT_ASKING_RE`)."""
    return text.rstrip(" \"”’')").endswith("?")


# the reader asks what someone asked: "What did Sapt ask the council?", "Which questions does the paper raise?"
_ABOUT_ASKING_RE = re.compile(
    r"\b(?:ask|asks|asked|asking|questions?|wonder|wonders|wondered|pose|poses|posed|raise|raises|raised)\b", re.I
)


def choose(
    cands: list[Candidate],
    allowed: list[Candidate],
    per_part: Sequence[np.ndarray] | np.ndarray,
    how: Composition,
    asked: frozenset[str] = frozenset(),
    why: Sequence[bool] = (),
    dated: Sequence[bool] = (),
    sources: bool = False,
) -> Choice:
    """The answer's sentences, best first: one per question part (`per_part`: each part's score of every
    candidate), then what completes them, then further sentences nearly as good, within the budget.
    `asked`: the question's terms (lexical.terms), which tell a reason given from one the question states;
    `why`: for each part, whether it asks for a reason; `dated`: whether it asks for a date; `sources`:
    whether the question asks for sources (an answer of reference entries alone then takes the claim they are
    asked of)."""
    if not allowed:
        return Choice([])
    index_of = {id(c): i for i, c in enumerate(cands)}
    rows = np.array([index_of[id(c)] for c in allowed])
    chosen: list[Candidate] = []
    unexplained: set[int] = set()  # the best sentences of parts that ask why, where they give no reason
    dates_for: dict[int, int] = {}  # a chosen sentence's id -> how many parts asking for a date it answers
    claimed: set[int] = set()  # the claim taken beside a reference entry asked for
    for i, scores in enumerate(per_part):
        part = np.asarray(scores)[rows]
        top = allowed[int(np.argmax(part))]  # the first of the best, in allowed's order
        if chosen and i < len(dated) and dated[i] and _wants_another_date(top.text, dates_for.get(id(top), 0)):
            # two parts ask when ("When was it commissioned, and when delivered?") and the later one's best
            # states no date, or only those it gave the parts before: it takes its best sentence that states
            # a date the answer does not yet give, if one is nearly as good (as a further sentence must be)
            given_years = frozenset().union(*(dates_in(c.text)[0] for c in chosen))
            given_months = frozenset().union(*(dates_in(c.text)[1] for c in chosen))
            for j in np.argsort(-part, kind="stable"):
                if part[j] < how.adjacent_keep * part.max():
                    break
                c = allowed[int(j)]
                years, months = dates_in(c.text)
                if (years or months) and not (years <= given_years and months <= given_months):
                    top = c
                    break
        if i < len(dated) and dated[i]:
            dates_for[id(top)] = dates_for.get(id(top), 0) + 1
        if all(c is not top for c in chosen):
            chosen.append(top)
        if i < len(why) and why[i] and not gives_reason(top.text, asked):
            unexplained.add(id(top))
    if (
        sources
        and chosen
        and all(c.chunk.kind == "reference" for c in chosen)
        and (body := [c for c in allowed if c.chunk.kind != "reference"])
    ):
        # asked for the source of a claim and answered by a reference entry: the best sentence that is no
        # entry (the claim itself) comes with it, so that the answer says what the entry is the source of and
        # cites the claim's own footnote, where the entry's title matched the question better than the right
        # one's did
        claim = max(body, key=lambda c: c.score)
        chosen.append(claim)
        claimed.add(id(claim))
    keep = len(chosen)
    context: set[int] = set()
    by_place = {(c.chunk.id, c.pos): c for c in cands}
    may = {id(c) for c in allowed}
    if how.context:
        for c in list(chosen):
            extra = _announced(c, by_place, cands) if is_lead_in(c.text) else []
            if is_anaphoric(c.text) and (prev := by_place.get((c.chunk.id, c.pos - 1))) is not None:
                extra.append(prev)
                if all(prev is not y for y in chosen) and prev.score < how.relative_keep * chosen[0].score:
                    context.add(id(prev))  # what the pronoun points back to, not an answer of its own
            # c is the best for a why-part and gives no reason: papers give the why in the next sentence; or c is
            # short, a topic sentence ("Within the council there is rivalry between Zenda and Strelsau."): papers
            # say what it is in the next
            caption = c.chunk.kind == "caption"
            unexplained_why = how.reasons and id(c) in unexplained
            if unexplained_why or (len(c.text.split()) < how.elaborate and not extra and not caption):
                extra += _following(c, by_place, cands)
                # a topic sentence and a short one after it ("Fifth, prepare for counter-leverage. The measures
                # are a warning.") have still said little: the next goes on, up to the length that says something
                while extra and id(extra[-1]) in may and sum(len(x.text.split()) for x in (c, *extra)) < how.elaborate:
                    if not (more := _following(extra[-1], by_place, cands)) or any(more[0] is x for x in extra):
                        break
                    extra += more
            if caption:  # a caption is one unit: who or what is shown, where, when, credit
                rest = [x for x in cands if x.chunk.id == c.chunk.id and x is not c]
                extra += sorted(rest, key=lambda x: x.pos)
            # each once, and only what may answer (never a question of the paper's own, nor a reference entry
            # for a question that is not about sources)
            for x in extra:
                if id(x) in may and all(x is not y for y in chosen):
                    chosen.append(x)
                    if id(c) in claimed:  # what the claim brings is there to show it too
                        claimed.add(id(x))
    lead = chosen[0].score
    words = sum(len(c.text.split()) for c in chosen)
    for c in sorted(allowed, key=lambda c: -c.score):
        if len(chosen) >= how.max_sentences or c.score < how.adjacent_keep * lead:
            break
        if any(c is x or c.text.lower() == x.text.lower() for x in chosen):
            continue
        next_to = any(x.chunk.block_id == c.chunk.block_id and abs(x.row - c.row) == 1 for x in chosen)
        if c.score < how.relative_keep * lead:
            if not next_to:
                continue
            context.add(id(c))
        if words + len(c.text.split()) > how.max_words:
            continue
        if how.context and announced(c.text):
            # a lead-in that counts ("Three disagreements proved irreducible.") says nothing alone: it joins
            # with the first of what it announces, and as many more as the word budget holds (they count as one
            # sentence of the answer, as a lead-in's series does for a part's best), or not at all
            series = [x for x in _announced(c, by_place, cands) if id(x) in may and all(x is not y for y in chosen)]
            if not series or words + len(c.text.split()) + len(series[0].text.split()) > how.max_words:
                continue
            chosen.append(c)
            words += len(c.text.split())
            for x in series:
                if words + len(x.text.split()) <= how.max_words:
                    chosen.append(x)
                    words += len(x.text.split())
            continue
        chosen.append(c)
        words += len(c.text.split())
    kept = _trim(chosen, how.max_words, keep)
    return Choice(
        kept,
        frozenset(id(c) for c in kept if id(c) in context),
        frozenset(id(c) for c in kept if id(c) in claimed),
    )


def _wants_another_date(text: str, answers: int) -> bool:
    """A part asking for a date is not answered by its best sentence when that states no date at all (not even
    "two weeks later"), or no more years or months than the parts asking for a date it already answers."""
    if not answers:
        return not offers(text, "date")
    years, months = dates_in(text)
    return answers >= max(len(years), len(months))


def _following(
    c: Candidate, by_place: dict[tuple[str, int], Candidate], cands: list[Candidate]
) -> list[Candidate]:
    """The sentence after a lead-in: the next one of its passage, or the first of the next passage of the
    same paragraph when that is among the candidates (the very next sentence of the document, not the first of
    a later passage that the search ranked higher)."""
    nxt = by_place.get((c.chunk.id, c.pos + 1)) or next(
        (x for x in cands if x.chunk.block_id == c.chunk.block_id and x.row == c.row + 1 and x.pos == 0),
        None,
    )
    return [nxt] if nxt is not None else []


def _announced(
    c: Candidate, by_place: dict[tuple[str, int], Candidate], cands: list[Candidate]
) -> list[Candidate]:
    """What a lead-in announces: when it counts ("Three factors explain..."), the sentences after it in its
    paragraph that take their place in the series ("First, ...", "The second—..."), as many as it counts, or,
    for a lead-in that ends its paragraph ("Five recommendations follow."), those in the next n paragraphs of its
    section, the first of them the very next sentence (the paragraphs that follow are the series); else, or when
    none does, the sentence after it."""
    n = announced(c.text)
    if n:
        after = sorted(
            (
                x
                for x in cands
                if x.chunk.block_id == c.chunk.block_id
                and (x.pos > c.pos if x.chunk.id == c.chunk.id else x.chunk.start > c.chunk.start)
            ),
            key=lambda x: (x.chunk.start, x.pos),
        )
        series = _series(after, n, c.text)
        if not series:  # the lead-in ends its paragraph: the next n paragraphs of its section, the first at once
            later: list[Candidate] = []
            blocks: list[str] = []
            for x in sorted((x for x in cands if x.chunk.doc_id == c.chunk.doc_id and x.row > c.row), key=lambda x: x.row):
                if x.chunk.section != c.chunk.section or x.chunk.block_id == c.chunk.block_id:
                    break
                if x.chunk.block_id not in blocks:
                    if len(blocks) == n:
                        break
                    blocks.append(x.chunk.block_id)
                later.append(x)
            series = _series(later, n, c.text)
            if series and series[0].row != c.row + 1:
                series = []
        if series:
            return series
    return _following(c, by_place, cands)


def _series(after: list[Candidate], n: int, lead: str) -> list[Candidate]:
    """The members of a counted series among `after` (in document order), first to n-th ("Finally" ends it);
    passages may overlap, so a sentence seen once is not read again."""
    seen = {lead}
    series: list[Candidate] = []
    for x in after:
        place = place_in_series(x.text) if x.text not in seen else 0
        if place == len(series) + 1 or (place == -1 and series):
            series.append(x)
            if place == -1 or len(series) == n:
                break
        seen.add(x.text)
    return series


def _trim(chosen: list[Candidate], max_words: int, keep: int) -> list[Candidate]:
    """Within the word budget: the first `keep` (one per question part, and the claim beside a reference entry
    a question of sources is answered by) always stay."""
    out, words = [], 0
    for i, c in enumerate(chosen):
        w = len(c.text.split())
        if i >= keep and words + w > max_words:
            continue
        out.append(c)
        words += w
    return out


def compose(
    q: Question,
    cands: list[Candidate],
    choice: Choice,
    decision: Decision,
    passages: list[Hit],
    k: int,
    longest: int,
    evidence_sentences: int,
    pinned: frozenset[str] = frozenset(),
    describe: Callable[[FootnoteRef], str | None] | None = None,
) -> Answer:
    """The answer: the chosen sentences written with markers and footnotes, or the abstention with its
    reason. `passages`: the pool (retrieval order, then neighbours); `k`: passages to return; `longest`: no
    answer is longer (in words, with the sources it names); `describe`: a short description of a footnote, named in answers about
    sources and in answers to a who-question that name no one the question does not."""
    best_of: dict[str, float] = {}
    for c in cands:
        best_of[c.chunk.id] = max(best_of.get(c.chunk.id, 0.0), c.score)
    order = sorted(  # passages ranked by their best sentence; those the question names come first
        range(len(passages)),
        key=lambda i: (passages[i].chunk.id not in pinned, -best_of.get(passages[i].chunk.id, 0.0), i),
    )
    ranked = [passages[i] for i in order]
    shown = ranked[:k]
    if decision.abstain or not choice.sentences:
        return _answer(
            q,
            True,
            ABSTAIN_MESSAGE,
            decision.reason or "No sentence answers it.",
            [],
            shown,
            decision.confidence,
            evidence=_evidence(cands, shown, evidence_sentences),
        )
    chosen = list(choice.sentences)
    for c in chosen:  # a passage the answer uses is always shown
        if all(h.chunk.id != c.chunk.id for h in shown):
            shown.append(next(h for h in ranked if h.chunk.id == c.chunk.id))
    marker = {h.chunk.id: i for i, h in enumerate(shown, 1)}
    chosen.sort(key=lambda c: (marker[c.chunk.id], c.pos))
    while True:  # the sources named count against the answer's length too
        sentences = [_sentence(c, marker[c.chunk.id], id(c) in choice.for_context) for c in chosen]
        text = " ".join(f"{s.text} [{s.marker}]" for s in sentences)
        notes = _footnotes([s for s in sentences if not s.context])  # a part's best is never context
        # a question about sources, or for the writer of what a sentence cites ("which author does it point
        # to?"), or for a person the answer does not name, is answered by the references the footnotes cite
        writer = q.answer_type == "person" and asks_for_a_writer(q.standalone)
        if describe and (q.about_sources or writer or _unnamed_person(q, text)):
            named = [f"footnote {n.number} ({d.rstrip('. ')})" for n in notes if (d := describe(n))]
            if named and not any(c.chunk.kind == "reference" for c in chosen):
                text += " Source: " + "; ".join(named) + "."
        if len(text.split()) <= longest or len(chosen) <= 1:
            break
        # what is there only for context goes first, then the weakest sentence
        chosen.remove(min(chosen, key=lambda c: (id(c) not in choice.for_context, c.score)))
    # asked for the source of a claim the paper makes without a footnote, the answer says so, where it fits
    # (of the body's paragraphs only: a caption's credit or the title page is no claim a footnote would back);
    # not for a question that only names what the reference list has, which the engine reads as about sources
    own_claims = all(
        c.chunk.kind == "paragraph" and c.chunk.section_kind == "body" and c.chunk.source == "paper"
        for c in chosen
    )
    if q.asks_for_sources and not notes and own_claims and len(f"{text} {NO_FOOTNOTE}".split()) <= longest:
        text += f" {NO_FOOTNOTE}"
    return _answer(
        q,
        False,
        text,
        None,
        sentences,
        shown,
        decision.confidence,
        notes,
        _evidence(cands, shown, evidence_sentences),
    )


def _unnamed_person(q: Question, text: str) -> bool:
    """The question asks who, and the answer names no one the question does not already name: in a paper, the
    person is then most often the author its footnote cites ("one analyst has reported..."), or the one the
    cited record's title names ("Which minister told the summit?" of "the Foreign Minister told the summit",
    citing "Rupert Hentzau Attends the Summit"). Where the question asks for a person by name
    (`asks_for_a_person`: "which minister", "who led", "who was appointed"), only a person's name counts
    (`personal_names`: two capitalised words or more, or one after a title), not an office, a country or a
    meeting's name; a surname alone ("Hentzau led it") does not count either, and the answer then names the
    cited record too, which costs words and no fact."""
    if q.answer_type != "person":
        return False
    if asks_for_a_person(q.standalone):
        return not personal_names(text, q.standalone)
    return not new_names(text, q.standalone, adjectives=False)


def refuse(q: Question) -> Answer:
    """The answer to a question that gives instructions."""
    return _answer(q, True, INSTRUCTION_MESSAGE, "The question gives instructions.", [], [], 0.0)


def _sentence(c: Candidate, marker: int, context: bool = False) -> AnswerSentence:
    s = c.sentence
    return AnswerSentence(
        text=s.text,
        marker=marker,
        passage_id=c.chunk.id,
        sentence_id=s.id,
        document=c.chunk.doc_id,
        footnote_doc=c.chunk.notes_doc,
        footnotes=list(s.covered_by),
        page=s.page if s.page is not None else c.chunk.page,
        score=round(c.score, 4),
        context=context,
    )


def _footnotes(sentences: list[AnswerSentence]) -> list[FootnoteRef]:
    refs = {FootnoteRef(document=s.footnote_doc, number=n) for s in sentences for n in s.footnotes}
    return sorted(refs, key=lambda r: (r.document, r.number))


def _evidence(cands: list[Candidate], passages: list[Hit], n: int) -> list[AnswerSentence]:
    marker = {h.chunk.id: i for i, h in enumerate(passages, 1)}
    best = sorted((c for c in cands if c.chunk.id in marker), key=lambda c: -c.score)
    return [_sentence(c, marker[c.chunk.id]) for c in best[:n]]


def _answer(
    q: Question,
    abstained: bool,
    text: str,
    reason: str | None,
    sentences: list[AnswerSentence],
    passages: list[Hit],
    confidence: float,
    footnotes: list[FootnoteRef] | None = None,
    evidence: list[AnswerSentence] | None = None,
) -> Answer:
    if abstained and reason and text != INSTRUCTION_MESSAGE:
        text = f"{text} {reason}"
    return Answer(
        question=q.written or q.text,
        standalone_question=q.standalone,
        answer=text,
        abstained=abstained,
        reason=reason,
        confidence=round(confidence, 4),
        sentences=sentences,
        passages=passages,
        footnotes=footnotes or [],
        evidence=evidence or [],
        kind=q.kind,
    )
