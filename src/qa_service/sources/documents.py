"""Fetched sources as corpus documents: one Paper per source (doc id `source-<doc>-<n>`, kind "source",
cites_document <doc>, cites_footnote n), one section per page, every sentence covered by footnote n, so an
answer from a source cites the footnote of the paper that points to it."""

from __future__ import annotations

import hashlib
import re

from qa_service.config import Settings
from qa_service.models import Block, Metadata, Paper, Section, Sentence
from qa_service.parse import TextBuilder, split_sentences
from qa_service.sources.fetch import read_pages, read_provenance
from qa_service.text import collapse_ws


def _pieces(text: str, a: int, b: int, max_words: int = 60) -> list[tuple[int, int]]:
    """A "sentence" of a PDF table or list can run for pages: cut it into pieces the model sees whole."""
    words = list(re.finditer(r"\S+", text[a:b]))
    if len(words) <= max_words:
        return [(a, b)]
    return [
        (a + words[i].start(), a + words[min(i + max_words, len(words)) - 1].end())
        for i in range(0, len(words), max_words)
    ]


def source_doc_id(doc: str, n: int) -> str:
    return f"source-{doc}-{n}"


def source_paper(n: int, pages: list[str], title: str, multi_page: bool, cites_document: str) -> Paper:
    doc_id = source_doc_id(cites_document, n)
    builder = TextBuilder()
    sections = []
    for pi, page in enumerate(pages, 1):
        sec = Section(
            id=f"{doc_id}:s{pi}",
            index=pi - 1,
            title=f"{title} — p. {pi}" if multi_page else title,
            kind="source",
            page=pi if multi_page else None,
        )
        for bi, para in enumerate(p for p in re.split(r"\n\s*\n", page) if p.strip()):
            text = collapse_ws(para)
            start, end = builder.add(text)
            block = Block(id=f"{doc_id}:s{pi}:b{bi}", kind="paragraph", text=text, start=start, end=end)
            spans = [piece for a, b in split_sentences(text) for piece in _pieces(text, a, b)]
            block.sentences = [
                Sentence(
                    id=f"{block.id}:x{xi}",
                    text=text[a:b],
                    start=start + a,
                    end=start + b,
                    footnotes=[],
                    covered_by=[n],
                    page=sec.page,
                )
                for xi, (a, b) in enumerate(spans)
            ]
            sec.blocks.append(block)
        sections.append(sec)
    full = builder.text
    return Paper(
        doc_id=doc_id,
        kind="source",
        cites_document=cites_document,
        cites_footnote=n,
        path="",
        sha256=hashlib.sha256(full.encode()).hexdigest(),
        metadata=Metadata(title=title),
        text=full,
        sections=sections,
        references=[],
    )


def source_papers(settings: Settings, papers: list[Paper]) -> list[Paper]:
    """Every fetched source of the corpus papers' footnotes, ready to ingest (a short-form note shares the
    source of the note it repeats: that note's source is ingested once)."""
    out = []
    for paper in papers:
        if paper.kind != "paper":
            continue
        for ref in paper.references:
            if ref.same_as is not None:
                continue
            prov = read_provenance(settings.corpus_dir, paper.doc_id, ref.number)
            pages = (
                read_pages(settings.corpus_dir, paper.doc_id, ref.number)
                if prov and prov.status == "ok"
                else None
            )
            if pages:
                title = ref.title or f"Source of footnote {ref.number}"
                out.append(
                    source_paper(
                        ref.number,
                        pages,
                        title,
                        multi_page=prov is not None and prov.kind == "pdf",
                        cites_document=paper.doc_id,
                    )
                )
    return out
