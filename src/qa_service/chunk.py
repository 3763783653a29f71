"""chunk_document(paper) -> list[Chunk]: small passages that follow the paper model.

A chunk is a window of consecutive sentences of one paragraph (never crossing a paragraph or section),
a caption, a reference, or a block of front or back matter. Ids are derived from content, so re-ingesting
the same text gives the same ids.
"""

from __future__ import annotations

import hashlib

from qa_service.models import Block, Chunk, ChunkSentence, Paper, Section, Sentence


def content_id(*parts: str, length: int = 16) -> str:
    h = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return h[:length]


def _windows(sentences: list[Sentence], max_sentences: int, max_words: int) -> list[list[Sentence]]:
    """Split a paragraph's sentences into balanced consecutive windows within both caps."""
    if not sentences:
        return []
    total_words = sum(len(s.text.split()) for s in sentences)
    n = max(-(-len(sentences) // max_sentences), -(-total_words // max_words), 1)
    n = min(n, len(sentences))
    target = total_words / n
    out: list[list[Sentence]] = [[]]
    acc = 0
    for s in sentences:
        w = len(s.text.split())
        cur = out[-1]
        if cur and len(out) < n and (len(cur) >= max_sentences or acc + w / 2 > target * len(out)):
            out.append([])
        out[-1].append(s)
        acc += w
    return out


def _chunk_sents(paper: Paper, section: Section, block: Block, sents: list[Sentence], source: str) -> Chunk:
    """A chunk of sentences that need not be contiguous: its text is the sentences joined."""
    return _chunk(paper, section, block, sents, source, text=" ".join(s.text for s in sents))


def _chunk(
    paper: Paper, section: Section, block: Block, sents: list[Sentence], source: str, text: str | None = None
) -> Chunk:
    start, end = sents[0].start, sents[-1].end
    text = text if text is not None else paper.text[start:end]
    return Chunk(
        id=f"{paper.doc_id}:{content_id(paper.doc_id, section.title, text)}",
        doc_id=paper.doc_id,
        source=source,
        section=section.title,
        section_kind=section.kind,
        block_id=block.id,
        kind=block.kind,
        text=text,
        start=start,
        end=end,
        sentences=[
            ChunkSentence(id=s.id, text=s.text, footnotes=s.footnotes, covered_by=s.covered_by, page=s.page)
            for s in sents
        ],
        page=section.page if section.page is not None else sents[0].page,
        footnote=int(source.split(":")[1]) if source.startswith("footnote:") else None,
        footnote_doc=paper.cites_document,
    )


def chunk_document(
    paper: Paper, max_sentences: int = 3, max_words: int = 70, source: str = "paper"
) -> list[Chunk]:
    chunks: list[Chunk] = []
    for section in paper.sections:
        if section.kind == "back":
            # Back matter repeats the publisher's name and address on every page: keep each text once.
            seen_text: set[str] = set()
            sents = []
            for b in section.blocks:
                for s in b.sentences:
                    if s.text.lower() not in seen_text:
                        seen_text.add(s.text.lower())
                        sents.append(s)
            for window in _windows(sents, max_sentences, max_words):
                chunks.append(_chunk_sents(paper, section, section.blocks[0], window, source))
            continue
        if section.kind == "front":
            # Title page, credits and contents are each one passage: they answer "who published it" questions.
            sents = [s for b in section.blocks for s in (b.sentences or [_whole(b)])]
            if sents:
                chunk = _chunk(paper, section, section.blocks[0], sents, source)
                if section.index == 0:  # the title page also says, in one sentence, what the document is
                    meta = describe_paper(paper)
                    chunk.text = f"{meta}\n\n{chunk.text}"
                    chunk.sentences.insert(0, ChunkSentence(id=f"{paper.doc_id}:meta", text=meta))
                chunks.append(chunk)
            continue
        previous = ""  # the last sentence before the chunk in this section: context for embedding and BM25
        for block in section.blocks:
            if block.kind == "heading" or not block.sentences:
                continue
            if block.kind in ("caption", "reference"):
                chunks.append(_chunk(paper, section, block, block.sentences, source))
                continue
            for window in _windows(block.sentences, max_sentences, max_words):
                chunk = _chunk(paper, section, block, window, source)
                chunk.context = previous
                chunks.append(chunk)
                previous = window[-1].text
    seen: dict[str, int] = {}
    for c in chunks:  # identical text twice in one section still gets two distinct, stable ids
        k = seen.get(c.id, 0)
        seen[c.id] = k + 1
        if k:
            c.id = f"{c.id}-{k}"
    return chunks


def describe_paper(paper: Paper) -> str:
    m = paper.metadata
    title = f"{m.title}: {m.subtitle}" if m.subtitle else m.title
    by = f" by {m.author}" if m.author else ""
    pub = ", ".join(x for x in (m.publisher, m.date) if x)
    return f"“{title}” is a paper{by}" + (f", published by {pub}." if pub else ".")


def _whole(block: Block) -> Sentence:
    return Sentence(id=f"{block.id}:x0", text=block.text, start=block.start, end=block.end)
