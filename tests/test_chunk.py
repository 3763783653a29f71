from __future__ import annotations

from qa_service.chunk import chunk_document
from qa_service.models import Paper


def test_chunks_follow_the_paper_model(paper: Paper) -> None:
    chunks = chunk_document(paper)
    assert len({c.id for c in chunks}) == len(chunks)
    by_block = {b.id: (s, b) for s in paper.sections for b in s.blocks}
    for c in chunks:
        section, block = by_block[c.block_id]
        assert c.section == section.title  # never crosses a section
        if c.kind in ("paragraph", "caption", "reference"):
            assert paper.text[c.start : c.end] == c.text
            assert block.start <= c.start and c.end <= block.end  # never crosses a paragraph
            assert [s.text for s in c.sentences] == [
                s.text for s in block.sentences if c.start <= s.start and s.end <= c.end
            ]
        if c.kind == "paragraph":
            assert len(c.sentences) <= 3 and (len(c.text.split()) <= 120 or len(c.sentences) == 1)


def test_ids_are_content_derived_and_stable(paper: Paper) -> None:
    assert [c.id for c in chunk_document(paper)] == [c.id for c in chunk_document(paper)]


def test_footnotes_of_each_sentence_travel_with_the_chunk(paper: Paper) -> None:
    chunks = chunk_document(paper)
    c = next(c for c in chunks if "in crisis management mode" in c.text)
    s = next(s for s in c.sentences if "crisis management" in s.text)
    assert s.footnotes == [1] and c.footnotes == [1]
    ref = next(c for c in chunks if c.kind == "reference" and c.text.startswith("17."))
    assert ref.footnotes == [17] and ref.section == "Notes"
    back = [c for c in chunks if c.section_kind == "back"]
    assert sum("ANDIANA FOUNDATION" in c.text for c in back) == 1  # repeated back-page lines kept once


def test_title_page_passage_says_what_the_document_is(paper: Paper) -> None:
    title = chunk_document(paper)[0]
    assert title.section == "Title page"
    assert title.sentences[0].text.startswith("“International Cooperation on Afghanistan: Geopolitics")
    assert "A. Farid Tookhy" in title.sentences[0].text and "January 2025" in title.sentences[0].text
