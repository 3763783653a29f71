"""compose_answer(question, hits) -> Answer: an extractive answer built from the documents' own sentences.

No language model. The sentences of the retrieved passages, and the sentences just before and after the best
of them, compete under a learned model (selection.py) that reads the question analysis: does the sentence
use the question's rare words and name its entities, does it hold the kind of answer asked for (a date for
"when"), is it a lead-in whose content follows. Passages are re-ranked by their best sentence. Each part of
a two-part question gets its own sentence; a lead-in brings its continuation, a sentence opening with a
pronoun brings the one before. Every answer sentence ends with the marker [n] of its passage, and the
footnotes cited are exactly those that carry or cover the sentences used, each scoped to its document.

The composer answers only when the evidence suffices: a year or number the question names must be in the
evidence, a name the documents never use cannot be answered from them, and a calibrated model of
answerability must clear its threshold. Otherwise it abstains, with the reason and the nearest passages.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pydantic import BaseModel, Field

from qa_service.config import AnswerSettings
from qa_service.index import LoadedIndex
from qa_service.lexical import Expander, TermStats, terms
from qa_service.models import FootnoteRef, Hit
from qa_service.question import Question
from qa_service.selection import (
    FEATURE_NAMES,
    Candidate,
    Focus,
    Selector,
    featurize,
    mentions,
    numbers_share,
    offers,
    surface,
)
from qa_service.text import content_words

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


def compose_answer(
    q: Question,
    qvec: np.ndarray,
    hits: list[Hit],
    index: LoadedIndex,
    stats: TermStats,
    selector: Selector,
    cfg: AnswerSettings,
    k: int,
    pinned: frozenset[str] = frozenset(),
    describe: Callable[[FootnoteRef], str | None] | None = None,
    expander: Expander | None = None,
) -> Answer:
    """`hits`: fused retrieval, deepest first (the composer re-ranks them); `k`: passages to return;
    `pinned`: ids of passages the question names (footnote N), which alone answer it; `describe`: a short
    description of a footnote, named in answers to questions about sources."""
    if q.injection:
        return _answer(q, True, INSTRUCTION_MESSAGE, "The question gives instructions.", [], [], 0.0)
    pool, cands, part_features = candidates(q, qvec, hits, index, stats, cfg, expander)
    if not cands:
        return _answer(q, True, ABSTAIN_MESSAGE, "No passage matches the question.", [], hits[:k], 0.0)
    per_part = [selector.sentence(x) for x in part_features]
    scores = np.max(np.vstack(per_part), axis=0)
    for c, sc, f in zip(cands, scores, part_features[0], strict=True):
        c.score, c.features = float(sc), f

    # Passages ranked by their best sentence; passages the question names come first.
    best_of: dict[str, float] = {}
    for c in cands:
        best_of[c.chunk.id] = max(best_of.get(c.chunk.id, 0.0), c.score)
    ranked = sorted(
        range(len(pool)),
        key=lambda i: (pool[i].chunk.id not in pinned, -best_of.get(pool[i].chunk.id, 0.0), i),
    )
    order = [pool[i] for i in ranked]

    chosen = choose(cands, eligible(q, cands, pinned), per_part, cfg)
    best = chosen[0] if chosen else max(cands, key=lambda c: c.score)
    confidence, reason = _sufficiency(q, chosen or [best], cands, selector, cfg)
    if pinned and chosen:
        confidence, reason = max(confidence, 1.0), None  # the question named the passage: it answers
    passages = order[:k]
    if reason is not None or not chosen:
        return _answer(
            q,
            True,
            ABSTAIN_MESSAGE,
            reason or "No sentence answers it.",
            [],
            passages,
            confidence,
            evidence=_evidence(cands, passages, cfg),
        )
    for c in chosen:  # a passage the answer uses is always shown
        if all(h.chunk.id != c.chunk.id for h in passages):
            passages.append(next(h for h in order if h.chunk.id == c.chunk.id))
    marker = {h.chunk.id: i for i, h in enumerate(passages, 1)}
    chosen.sort(key=lambda c: (marker[c.chunk.id], c.pos))
    while True:  # the sources named (for a question about sources) count against the answer's length too
        sentences = [_sentence(c, marker[c.chunk.id]) for c in chosen]
        text = " ".join(f"{s.text} [{s.marker}]" for s in sentences)
        notes = _footnotes(sentences)
        if q.about_sources and describe:
            named = [f"footnote {n.number} ({d})" for n in notes if (d := describe(n))]
            quoted = {c.chunk.id for c in chosen if c.chunk.kind == "reference"}
            if named and not quoted:
                text += " Source: " + "; ".join(named) + "."
        if len(text.split()) <= cfg.longest_answer_words or len(chosen) <= 1:
            break
        chosen.remove(min(chosen, key=lambda c: c.score))  # the weakest sentence goes first
    return _answer(
        q, False, text, None, sentences, passages, confidence, notes, _evidence(cands, passages, cfg)
    )


# ---------------------------------------------------------------- candidates


def candidates(
    q: Question,
    qvec: np.ndarray,
    hits: list[Hit],
    index: LoadedIndex,
    stats: TermStats,
    cfg: AnswerSettings,
    expander: Expander | None = None,
) -> tuple[list[Hit], list[Candidate], list[np.ndarray]]:
    """The passages whose sentences compete (the hits, then neighbours of the best), the candidate sentences,
    and their feature matrix for each part of the question (one part for most questions)."""
    pool = _pool(hits, index, cfg.neighbour_passages)
    sims = {}  # sentence row -> cosine with the question, for the candidates and their neighbours
    cands = []
    for i, h in enumerate(pool):
        for p, s in enumerate(h.chunk.sentences):
            row = index.sentence_row.get(s.id)
            if row is None:
                continue
            window = [r for r in (row - 1, row, row + 1) if _same_block(index, row, r)]
            vec = index.sentence_vectors[window].sum(axis=0)
            for r in window:
                if r not in sims:
                    sims[r] = float(index.sentence_vectors[r] @ qvec)
            cands.append(
                Candidate(
                    hit=i,
                    chunk=h.chunk,
                    pos=p,
                    dense=sims[row],
                    row=row,
                    dense_window=float(vec @ qvec) / max(float(np.linalg.norm(vec)), 1e-9),
                    dense_rank=h.dense_rank,
                    lexical_rank=h.lexical_rank,
                )
            )
    if not cands:
        return pool, [], []
    parts: list[int | None] = list(range(len(q.parts))) if len(q.parts) > 1 else [None]
    matrices = []
    for part in parts:
        featurize(Focus.of(q, stats, part, expander), cands, len(hits))
        matrices.append(np.vstack([c.features for c in cands]))
    return pool, cands, matrices


def _same_block(index: LoadedIndex, row: int, other: int) -> bool:
    """Rows `row` and `other` are sentences of the same paragraph (block)."""
    if not 0 <= other < len(index.sentence_ids):
        return False
    a, b = int(index.sentence_chunk[row]), int(index.sentence_chunk[other])
    return a == b or index.chunks[a].block_id == index.chunks[b].block_id


def _pool(hits: list[Hit], index: LoadedIndex, neighbours: int) -> list[Hit]:
    """The hits, then the passages just before and after the best `neighbours` of them in the same paragraph:
    a reply, a list or the views a lead-in announces often continue in the next passage."""
    pool = list(hits)
    seen = {h.chunk.id for h in hits}
    for h in hits[:neighbours]:
        ci = index.by_id.get(h.chunk.id)
        if ci is None:
            continue
        for cj in (ci - 1, ci + 1):
            if 0 <= cj < len(index.chunks):
                other = index.chunks[cj]
                if other.block_id == h.chunk.block_id and other.id not in seen:
                    pool.append(Hit(chunk=other, score=0.0))
                    seen.add(other.id)
    return pool


def eligible(q: Question, cands: list[Candidate], pinned: frozenset[str] = frozenset()) -> list[Candidate]:
    """The candidates that may answer: what the question names outright, alone; else any sentence but a
    reference-list entry, which answers only a question about sources."""
    if pinned:
        return [c for c in cands if c.chunk.id in pinned]
    return [c for c in cands if q.about_sources or c.chunk.kind != "reference"]


def choose(
    cands: list[Candidate],
    eligible: list[Candidate],
    per_part: list[np.ndarray],
    cfg: AnswerSettings,
) -> list[Candidate]:
    if not eligible:
        return []
    index_of = {id(c): i for i, c in enumerate(cands)}
    chosen: list[Candidate] = []
    for part_scores in per_part:  # each part of the question gets its best sentence
        top = max(eligible, key=lambda c: part_scores[index_of[id(c)]])
        if all(c is not top for c in chosen):
            chosen.append(top)
    lead = chosen[0]
    by_place = {(c.chunk.id, c.pos): c for c in cands}
    extra: list[Candidate] = []
    for c in list(chosen):
        f = dict(zip(FEATURE_NAMES, c.features, strict=True))
        if f["lead_in"]:  # "X was more direct in his views." : the views follow
            extra += _following(c, by_place, cands, cfg.lead_in_sentences)
        if f["anaphoric"]:  # "Its role in ..." needs the sentence that says whose
            extra += _preceding(c, by_place)
    for c in extra:
        if all(c is not x for x in chosen):
            chosen.append(c)
    words = sum(len(c.text.split()) for c in chosen)
    for c in sorted(eligible, key=lambda c: -c.score):  # further sentences nearly as good as the best,
        if len(chosen) >= cfg.max_sentences:  # or good enough and next to one already chosen
            break
        if any(c is x or c.text.lower() == x.text.lower() for x in chosen):
            continue
        if c.score < cfg.adjacent_keep * lead.score:
            break
        next_to = any(x.chunk.block_id == c.chunk.block_id and abs(x.row - c.row) == 1 for x in chosen)
        if not next_to and (c.score < cfg.relative_keep * lead.score or c.score < cfg.min_keep_probability):
            continue
        w = len(c.text.split())
        if words + w > cfg.max_words:
            continue
        chosen.append(c)
        words += w
    return _trim(chosen, cfg.max_words, keep=len(per_part))


def _following(
    c: Candidate, by_place: dict[tuple[str, int], Candidate], cands: list[Candidate], n: int
) -> list[Candidate]:
    out = []
    chunk, pos = c.chunk, c.pos
    for _ in range(n):
        nxt = by_place.get((chunk.id, pos + 1))
        if nxt is None:  # the next passage of the same paragraph, when it is in the pool
            nxt = next(
                (
                    x
                    for x in cands
                    if x.chunk.block_id == chunk.block_id and x.chunk.start > chunk.start and x.pos == 0
                ),
                None,
            )
        if nxt is None:
            break
        out.append(nxt)
        chunk, pos = nxt.chunk, nxt.pos
    return out


def _preceding(c: Candidate, by_place: dict[tuple[str, int], Candidate]) -> list[Candidate]:
    prev = by_place.get((c.chunk.id, c.pos - 1))
    return [prev] if prev is not None else []


def _trim(chosen: list[Candidate], max_words: int, keep: int) -> list[Candidate]:
    """Within the word budget: the first `keep` (one per question part) always stay."""
    out, words = [], 0
    for i, c in enumerate(chosen):
        w = len(c.text.split())
        if i >= keep and words + w > max_words:
            continue
        out.append(c)
        words += w
    return out


# ---------------------------------------------------------------- sufficiency


def answerable_features(q: Question, chosen: list[Candidate], cands: list[Candidate]) -> np.ndarray:
    """What the answerability model reads of the answer found (selection.ANSWERABLE_FEATURES): the best
    sentence's features, and what the chosen sentences hold together."""
    best = chosen[0]
    f = dict(zip(FEATURE_NAMES, best.features, strict=True))
    unknown = [e for e in q.entities if e.known is False]
    others = [c.score for c in cands if c.chunk.id != best.chunk.id]
    around = frozenset().union(*(surface(_context(c)) for c in chosen))
    asked = [e for e in q.entities if e.asked]
    text = " ".join(c.text for c in chosen)
    return np.array(
        [
            best.score,
            best.dense,
            f["lex"],
            f["lex_context"],
            f["missing_rare"],
            f["entities_context"],
            f["numbers_context"],
            f["offers"],
            float(min(len(unknown), 2)),
            sum(mentions(around, e) for e in asked) / len(asked) if asked else 1.0,
            offers(text, q.answer_type, q.standalone),
            best.score - (max(others) if others else 0.0),
        ]
    )


def _context(c: Candidate) -> str:
    """A sentence with what surrounds it: its section title, the text before its passage, its passage."""
    return f"{c.chunk.section or ''} {c.chunk.context} {c.chunk.text}"


def _sufficiency(
    q: Question, chosen: list[Candidate], cands: list[Candidate], selector: Selector, cfg: AnswerSettings
) -> tuple[float, str | None]:
    """(confidence, reason to abstain or None)."""
    best = chosen[0]
    confidence = float(selector.answerable(answerable_features(q, chosen, cands)[None, :])[0])
    threshold = cfg.abstain_threshold if cfg.abstain_threshold is not None else selector.threshold
    unknown = [e.text for e in q.entities if e.known is False]
    if unknown and cfg.abstain_on_unknown_names:
        return confidence, f"The documents never mention {_join(unknown)}."
    if q.required and not any(_has_all(c, q.required) for c in cands):
        topic = _topic(q, best) or "this"
        if q.years:
            return confidence, f"The documents discuss {topic}, but say nothing about it in {_join(q.years)}."
        return confidence, f"The documents discuss {topic}, but give no figure of {_join(q.numbers)}."
    answer_text = " ".join(c.text for c in chosen)
    if len(q.parts) == 1 and q.answer_type in ("date", "number") and not offers(answer_text, q.answer_type):
        what = "date" if q.answer_type == "date" else "figure"
        topic = _topic(q, best)
        return confidence, (
            f"The documents discuss {topic}, but give no {what} for what you ask."
            if topic
            else f"The documents give no {what} for what you ask."
        )
    if confidence < threshold:
        return confidence, _missing(q, best)
    return confidence, None


def _has_all(c: Candidate, required: list[str]) -> bool:
    return numbers_share(required, f"{c.chunk.section or ''} {c.chunk.context} {c.chunk.text}") == 1.0


def _topic(q: Question, best: Candidate) -> str:
    ctx = surface(f"{best.chunk.section or ''} {best.chunk.text}")
    named = [e.text for e in q.entities if mentions(ctx, e)]
    if named:
        return _join(named)
    focus = [w for w in q.focus if w in ctx]
    return _join([f"“{w}”" for w in focus[:3]])


def _missing(q: Question, best: Candidate) -> str:
    """What the nearest passage lacks of what the question asks."""
    ctx = surface(f"{best.chunk.section or ''} {best.chunk.context} {best.chunk.text}")
    ctx_terms = terms(" ".join(ctx))
    absent_entities = [e.text for e in q.entities if not mentions(ctx, e)]
    present_entities = [e.text for e in q.entities if mentions(ctx, e)]
    entity_words = {w for e in q.entities for w in content_words(e.text)}
    focus = [w for w in q.focus if w not in entity_words]
    absent = [w for w in focus if not (terms(w) & ctx_terms)]
    present = [w for w in focus if terms(w) & ctx_terms]
    if absent_entities and (present_entities or present):
        near = _join(present_entities or [f"“{w}”" for w in present[:3]])
        return (
            f"The closest passages speak of {near}, but not of {_join(absent_entities)} in that connection."
        )
    if absent and (present or present_entities):
        near = _join(present_entities + [f"“{w}”" for w in present[:3]])
        return f"The closest passages speak of {near}, but none says anything about {_join([f'“{w}”' for w in absent[:3]])}."
    return "No passage of the documents answers this; the closest ones are shown."


def _join(xs: list[str]) -> str:
    """'a', 'a and b', 'a, b and c'; '' for nothing."""
    xs = list(dict.fromkeys(xs))
    return ", ".join(xs[:-1]) + " and " + xs[-1] if len(xs) > 1 else "".join(xs)


# ---------------------------------------------------------------- output


def _sentence(c: Candidate, marker: int) -> AnswerSentence:
    s = c.chunk.sentences[c.pos]
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
    )


def _footnotes(sentences: list[AnswerSentence]) -> list[FootnoteRef]:
    refs = {FootnoteRef(document=s.footnote_doc, number=n) for s in sentences for n in s.footnotes}
    return sorted(refs, key=lambda r: (r.document, r.number))


def _evidence(cands: list[Candidate], passages: list[Hit], cfg: AnswerSettings) -> list[AnswerSentence]:
    marker = {h.chunk.id: i for i, h in enumerate(passages, 1)}
    best = sorted((c for c in cands if c.chunk.id in marker), key=lambda c: -c.score)
    return [_sentence(c, marker[c.chunk.id]) for c in best[: cfg.evidence_sentences]]


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
    if abstained and reason:
        text = f"{text} {reason}" if text != INSTRUCTION_MESSAGE else text
    return Answer(
        question=q.text,
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
