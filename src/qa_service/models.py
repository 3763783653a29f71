"""Typed models that every stage reads: the parsed paper, chunks, hits, answers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field, computed_field

BlockKind = Literal["heading", "paragraph", "caption", "front", "toc", "reference", "back"]
SectionKind = Literal["front", "body", "references", "back", "source"]


class Message(BaseModel):
    """One turn of a conversation; the history comes with each request (the server keeps no session)."""

    role: str
    content: str


class Sentence(BaseModel):
    id: str
    text: str = Field(description="Clean text: no markers, no emphasis.")
    start: int = Field(description="Offset into Paper.text.")
    end: int
    footnotes: list[int] = Field(default_factory=list, description="Markers this sentence carries.")
    covered_by: list[int] = Field(
        default_factory=list,
        description="Footnotes that cover it: its own markers, else those of the next marked sentence "
        "of the same paragraph.",
    )
    page: int | None = Field(
        None,
        description="The page it starts on (PDF papers, text with form feeds, paged sources); else None.",
    )


class Block(BaseModel):
    id: str
    kind: BlockKind
    text: str
    start: int
    end: int
    sentences: list[Sentence] = Field(default_factory=list)


class Section(BaseModel):
    id: str
    index: int
    title: str
    kind: SectionKind
    blocks: list[Block] = Field(default_factory=list)
    page: int | None = Field(None, description="Page number, for sources extracted page by page.")


class Reference(BaseModel):
    number: int
    text: str
    document: str = Field("", description="Id of the document whose reference list this entry belongs to.")
    urls: list[str] = Field(default_factory=list)
    title: str | None = None
    author: str | None = None
    date: str | None = None
    same_as: int | None = Field(
        None,
        description="For a short-form note (Ibid., op. cit., 'Author, 12.', a repeated title): the first note "
        "of the same document citing the same source.",
    )

    @computed_field  # type: ignore[prop-decorator]
    @property
    def url(self) -> str | None:
        """The first URL: where the source is."""
        return self.urls[0] if self.urls else None


class Metadata(BaseModel):
    title: str = ""
    subtitle: str = ""
    author: str = ""
    publisher: str = ""
    date: str = ""


class Repair(BaseModel):
    kind: Literal[
        "page_break_join",
        "pull_quote",
        "emphasis",
        "reference_join",
        "url_repair",
        "markdown_link",
        "hyphenation",
        "page_number",
        "running_header",
        "page_footnotes",
    ]
    detail: str


class FootnoteRef(BaseModel):
    """A footnote is identified by its document and its number: footnote 6 of one paper is not footnote 6
    of another."""

    model_config = {"frozen": True}
    document: str
    number: int


class Paper(BaseModel):
    doc_id: str
    kind: Literal["paper", "source"] = "paper"
    cites_document: str = Field(
        "",
        description="For a fetched source: the paper whose footnote points to it (its footnote numbers are "
        "that paper's). Empty for a paper.",
    )
    cites_footnote: int | None = Field(
        None, description="For a fetched source: the footnote of `cites_document` that points to it."
    )
    path: str
    sha256: str
    metadata: Metadata
    text: str = Field(description="The one normalised text that all offsets point into.")
    sections: list[Section]
    references: list[Reference]
    repairs: list[Repair] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list)

    def sentences(self) -> list[tuple[Section, Block, Sentence]]:
        return [(s, b, x) for s in self.sections for b in s.blocks for x in b.sentences]

    def reference(self, number: int) -> Reference | None:
        return next((r for r in self.references if r.number == number), None)


class ChunkSentence(BaseModel):
    id: str
    text: str
    footnotes: list[int] = Field(default_factory=list)
    covered_by: list[int] = Field(default_factory=list)
    page: int | None = Field(
        None, description="The page the sentence starts on, when the document has pages."
    )


class Chunk(BaseModel):
    id: str
    doc_id: str
    source: str = Field(
        description="'paper' for the paper itself, 'footnote:N' for the source of footnote N."
    )
    section: str | None
    section_kind: SectionKind
    block_id: str
    kind: BlockKind
    text: str
    start: int
    end: int
    sentences: list[ChunkSentence]
    page: int | None = Field(
        None, description="The page its first sentence is on, when the document has pages."
    )
    footnote: int | None = Field(None, description="For source chunks: the footnote whose source this is.")
    footnote_doc: str = Field(
        "",
        description="The document whose reference list this chunk's footnote numbers refer to: the chunk's own "
        "document for a paper, the citing paper for a fetched source. Empty means doc_id.",
    )
    context: str = Field(
        "", description="Text just before the chunk (not shown), which resolves 'These', 'It'..."
    )

    @property
    def notes_doc(self) -> str:
        """The document whose footnotes the numbers in `sentences` are."""
        return self.footnote_doc or self.doc_id

    @property
    def footnotes(self) -> list[int]:
        seen: set[int] = set()
        for s in self.sentences:
            seen.update(s.covered_by)
        return sorted(seen)

    def embed_text(self) -> str:
        """What the embedder sees: the section title gives a passage its context."""
        head = f"{self.section}: " if self.section else ""
        return f"{head}{self.context} {self.text}" if self.context else f"{head}{self.text}"


class Hit(BaseModel):
    chunk: Chunk
    score: float
    dense_rank: int | None = None
    lexical_rank: int | None = None
