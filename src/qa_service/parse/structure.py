"""The paper model from lines, for every input kind: blocks, reference list, front matter and metadata,
sections, the repairs of the extraction, sentences with their markers, pages and coverage.

Every repair of an extraction lives in this package and nowhere else: page breaks inside sentences (and
the running headers, footers and page numbers around them), photo captions printed between the halves of
a sentence, pull quotes, markdown emphasis and links, words hyphenated across lines, references that
continue across a page and URLs split or wrapped in markdown or angle brackets.
"""

from __future__ import annotations

import re

from qa_service.errors import ParseError
from qa_service.models import Block, BlockKind, Metadata, Paper, Reference, Repair, Section, Sentence
from qa_service.parse.lines import Line, Raw, blocks_from_lines, where
from qa_service.parse.markers import clean_with_markers, raw_offset
from qa_service.parse.metadata import classify_line, read_metadata
from qa_service.parse.references import ReferenceList, build_references, find_references
from qa_service.parse.sentences import TextBuilder, split_sentences
from qa_service.text import MARKER_RE, collapse_ws, marker_numbers, normalize, strip_emphasis, strip_markers

_TOC_LINE_RE = re.compile(r"^(?:(\d{1,3})\s+(.+?)|(.+?)\s*\.{0,}\s+(\d{1,3}))$")
_CAPTION_CREDIT_RE = re.compile(r"\(([^()]{2,100})\)\s*$")
_TERMINAL_RE = re.compile(r"[.!?…][”’\"')\]]*$|[”\"]$")
_MD_LINK_RE = re.compile(r"\[([^\]]+)\]\((?:https?://|mailto:|/|#)[^)\s]*\)")
_NOT_HEADINGS = frozenset({"date", "byline", "publisher", "series"})
LIST_HEADINGS = "Notes, Endnotes, Footnotes, References, Bibliography, Sources or Works cited"

Parts = list[tuple[str, str, list[Raw]]]  # (section title, section kind, its blocks)


def build_paper(
    lines: list[Line],
    doc_id: str,
    path: str,
    sha: str,
    overrides: dict[str, str] | None = None,
    repairs: list[Repair] | None = None,
    info: dict[str, str] | None = None,
) -> Paper:
    """The paper model from an input parser's lines; ParseError (naming the line) when it cannot be read."""
    blocks = blocks_from_lines(lines)
    if not blocks:
        raise ParseError("the document is empty")
    repairs = repairs if repairs is not None else []
    found = find_references(blocks, repairs)
    start, end = (found.start, found.end) if found else (len(blocks), len(blocks))
    marker = _first_marker(blocks[:start])
    if found is None and marker is not None:
        line, text = marker
        raise ParseError(
            f"{where(line)}: footnote marker '{text}' but no numbered reference list (a list numbered 1..N, "
            f"at the end or under a heading {LIST_HEADINGS})"
        )
    if found is not None and found.heading is None:
        _check_run_covers_markers(blocks[: found.start], found)
    references = build_references(found.entries, doc_id, repairs) if found else []
    ref_pages = {e.number: e.first.page for e in found.entries} if found else {}
    front_end, headings = _find_body_start(blocks[:start])
    metadata = read_metadata(blocks[:front_end], overrides or {}, info)

    sections: Parts = _front_sections(blocks[:front_end])
    body_blocks = blocks[front_end:start]
    sections += [
        (title, kind, _repair_body(raws, repairs, body_blocks))
        for title, kind, raws in _body_sections(body_blocks, headings)
    ]
    if references:
        sections.append((found.heading if found and found.heading else "Notes", "references", []))
    back = blocks[end:]
    if back:
        for b in back:
            b.kind = "back"
        sections.append((_back_title(back[0]), "back", back))

    paper = _assemble(doc_id, path, sha, metadata, sections, references, ref_pages, repairs)
    if marker is not None or references:
        _check_markers(paper)
    return paper


def _check_run_covers_markers(blocks: list[Raw], found: ReferenceList) -> None:
    """A list found without a heading must hold every marker's number: a shorter run is not the reference
    list (notes printed at the foot of each page, a numbered list in the body), and guessing would merge
    text into the wrong place."""
    last = len(found.entries)
    for b in blocks:
        for ln in b.src:
            for m in MARKER_RE.finditer(ln.text):
                beyond = [n for n in marker_numbers(m.group(0)) if n > last]
                if beyond:
                    raise ParseError(
                        f"{where(ln)}: marker {beyond[0]} but the numbered list found at "
                        f"{where(found.entries[0].first)} ends at {last} (notes at the foot of each page are "
                        f"not read; a reference list needs entries 1..N, best under a heading such as Notes)"
                    )


def _back_title(first: Raw) -> str:
    """What follows the reference list: titled by its heading ("About the Authors"), else the publisher's."""
    if (first.hinted_heading or _looks_like_heading(first.text)) and classify_line(first.text)[0] == "other":
        return strip_emphasis(first.text)
    return "About the publisher"


def _first_marker(blocks: list[Raw]) -> tuple[Line, str] | None:
    for b in blocks:
        for ln in b.src:
            if m := MARKER_RE.search(ln.text):
                return ln, m.group(0)
    return None


def _ends_sentence(text: str) -> bool:
    return bool(_TERMINAL_RE.search(strip_markers(text).rstrip()))


def _is_caption(text: str) -> bool:
    m = _CAPTION_CREDIT_RE.search(text)
    if not m or MARKER_RE.search(text):
        return False
    credit = m.group(1)
    return bool(
        re.search(r"photo|credit|image|courtesy", credit, re.I) or re.search(r"\w\.[a-z]{2,}\b", credit)
    )


# ---------------------------------------------------------------- front matter, headings


def _find_body_start(blocks: list[Raw]) -> tuple[int, list[str]]:
    """Index of the first body heading and the body headings: from the table of contents when there is one,
    else from the headings the format marks (markdown, PDF fonts), else from the look of the blocks."""
    for i, b in enumerate(blocks):
        if re.fullmatch(r"(table of )?contents", b.text.strip(), re.I) and i + 1 < len(blocks):
            toc = blocks[i + 1]
            titles = []
            for line in toc.lines:
                m = _TOC_LINE_RE.match(line.strip())
                if m:
                    titles.append(collapse_ws(m.group(2) or m.group(3)))
            if titles:
                b.kind = toc.kind = "toc"
                first = normalize(titles[0])
                for j in range(i + 2, len(blocks)):
                    if normalize(blocks[j].text) == first:
                        return j, titles
    hinted = any(b.hinted_heading for b in blocks)
    # The first heading followed by a long paragraph: what comes before it is the title page.
    for j, b in enumerate(blocks):
        nxt = blocks[j + 1].text if j + 1 < len(blocks) else ""
        if _is_heading(b, hinted) and len(nxt.split()) >= 5 and _ends_sentence(nxt):
            return j, [x.text for x in blocks[j:] if _is_heading(x, hinted)]
    return 0, []


def _is_heading(b: Raw, hinted: bool) -> bool:
    if hinted:
        return b.hinted_heading
    return _looks_like_heading(b.text) and classify_line(b.text)[0] not in _NOT_HEADINGS


def _looks_like_heading(text: str) -> bool:
    w = text.split()
    return 0 < len(w) <= 12 and not _ends_sentence(text) and text[:1].isupper() and not MARKER_RE.search(text)


def _front_sections(blocks: list[Raw]) -> list[tuple[str, str, list[Raw]]]:
    title_page: list[Raw] = []
    rights: list[Raw] = []
    toc: list[Raw] = []
    for b in blocks:
        if b.kind == "toc":
            toc.append(b)
        elif rights or len(b.text.split()) >= 15:
            rights.append(b)
        else:
            title_page.append(b)
    out = []
    for title, raws in (
        ("Title page", title_page),
        ("Copyright and credits", rights),
        ("Table of contents", toc),
    ):
        if raws:
            for b in raws:
                b.kind = "toc" if b.kind == "toc" else "front"
            out.append((title, "front", raws))
    return out


def _body_sections(blocks: list[Raw], headings: list[str]) -> Parts:
    wanted = [normalize(h) for h in headings]
    out: Parts = []
    for b in blocks:
        if wanted and normalize(b.text) == wanted[0]:
            wanted.pop(0)
            b.kind = "heading"
            out.append((strip_emphasis(b.text), "body", [b]))
        elif out:
            out[-1][2].append(b)
        else:
            out.append(("Body", "body", [b]))
    return out


# ---------------------------------------------------------------- body repairs


def _repair_body(raws: list[Raw], repairs: list[Repair], all_body: list[Raw]) -> list[Raw]:
    for b in raws:
        if b.kind == "paragraph" and _is_caption(b.text):
            b.kind = "caption"
    # Pull quotes: a standalone paragraph repeated inside other body text (a page-break fragment never is one).
    prose = {id(b): normalize(b.text) for b in all_body if b.kind == "paragraph"}
    dropped: set[int] = set()
    out: list[Raw] = []
    prev_text = ""
    for b in raws:
        if b.kind == "paragraph":
            is_fragment = not _ends_sentence(prev_text) if prev_text else False
            key = normalize(b.text)
            if not is_fragment and len(key.split()) >= 6 and b.text[:1].isupper():
                others = " ".join(t for i, t in prose.items() if i != id(b) and i not in dropped)
                if key in others:
                    dropped.add(id(b))
                    repairs.append(Repair(kind="pull_quote", detail=b.text[:80]))
                    continue
            prev_text = b.text
        out.append(b)
    # Page breaks: a paragraph without terminal punctuation continues in the next paragraph; captions printed
    # in between stay blocks of their own, after the joined paragraph.
    joined: list[Raw] = []
    pending: list[Raw] = []
    open_para: Raw | None = None
    for b in out:
        if b.kind == "caption" and open_para is not None:
            pending.append(b)
            continue
        if b.kind == "paragraph" and open_para is not None:
            repairs.append(Repair(kind="page_break_join", detail=f"…{open_para.text[-30:]} | {b.text[:30]}…"))
            open_para.append(b)
        else:
            if open_para is not None:
                joined.append(open_para)
                joined.extend(pending)
                pending = []
            open_para = None
            if b.kind != "paragraph":
                joined.append(b)
                continue
            open_para = b
        if _ends_sentence(open_para.text):
            joined.append(open_para)
            joined.extend(pending)
            open_para, pending = None, []
    if open_para is not None:
        joined.append(open_para)
    joined.extend(pending)
    for b in joined:
        _rewrite(b, _MD_LINK_RE, "markdown_link", repairs)
        _rewrite(b, None, "emphasis", repairs)
    return joined


def _rewrite(b: Raw, pattern: re.Pattern[str] | None, kind: str, repairs: list[Repair]) -> None:
    """Replace markdown links by their label (pattern) or strip emphasis (None), keeping the page map."""

    def fix(text: str) -> str:
        return pattern.sub(lambda m: m.group(1), text) if pattern else strip_emphasis(text)

    plain = fix(b.text)
    if plain != b.text:
        repairs.append(Repair(kind=kind, detail=b.text[:60]))
        b.pages = [(len(fix(b.text[:o])), p) for o, p in b.pages]
        b.text = plain


# ---------------------------------------------------------------- sentences and assembly


def _assemble(
    doc_id: str,
    path: str,
    sha: str,
    metadata: Metadata,
    sections: Parts,
    references: list[Reference],
    ref_pages: dict[int, int | None],
    repairs: list[Repair],
) -> Paper:
    builder = TextBuilder()
    out_sections: list[Section] = []

    for si, (title, kind, raws) in enumerate(sections):
        sec = Section(id=f"{doc_id}:s{si}", index=si, title=title, kind=kind, blocks=[])
        items: list[tuple[BlockKind, str, Raw | None]] = [(b.kind, b.text, b) for b in raws]
        if kind == "references":
            items = [("reference", f"{r.number}. {r.text}", None) for r in references]
        for bi, (bkind, raw_text, raw) in enumerate(items):
            block_id = f"{doc_id}:s{si}:b{bi}"
            if bkind == "paragraph":
                clean, markers, removed = clean_with_markers(raw_text)
            else:
                clean, markers, removed = raw_text, [], []
            start, end = builder.add(clean)
            block = Block(id=block_id, kind=bkind, text=clean, start=start, end=end)
            if bkind in ("paragraph", "caption", "back", "front", "reference"):
                spans = (
                    split_sentences(clean) if bkind in ("paragraph", "caption", "back") else [(0, len(clean))]
                )
                number = int(raw_text.split(".")[0]) if bkind == "reference" else None
                for xi, (a, b) in enumerate(spans):
                    carried = sorted({n for n, off in markers if a < off <= b or (xi == 0 and off == a == 0)})
                    page = (
                        ref_pages.get(number)
                        if number is not None
                        else (raw.page_at(raw_offset(a, removed)) if raw is not None else None)
                    )
                    block.sentences.append(
                        Sentence(
                            id=f"{block_id}:x{xi}",
                            text=clean[a:b],
                            start=start + a,
                            end=start + b,
                            footnotes=carried,
                            page=page,
                        )
                    )
                _assign_coverage(block.sentences, reference=number)
            sec.blocks.append(block)
        out_sections.append(sec)
    return Paper(
        doc_id=doc_id,
        path=path,
        sha256=sha,
        metadata=metadata,
        text=builder.text,
        sections=out_sections,
        references=references,
        repairs=repairs,
        problems=[],
    )


def _assign_coverage(sentences: list[Sentence], reference: int | None = None) -> None:
    if reference is not None:
        for s in sentences:
            s.covered_by = [reference]
        return
    pending: list[Sentence] = []
    for s in sentences:
        if s.footnotes:
            s.covered_by = list(s.footnotes)
            for p in pending:
                p.covered_by = list(s.footnotes)
            pending = []
        else:
            pending.append(s)


def _check_markers(paper: Paper) -> None:
    numbers = {r.number for r in paper.references}
    cited: set[int] = set()
    for _, _, s in paper.sentences():
        for n in s.footnotes:
            cited.add(n)
            if n not in numbers:
                paper.problems.append(f"marker {n} has no reference (sentence {s.id})")
    for n in sorted(numbers - cited):
        paper.problems.append(f"reference {n} is cited by no sentence")
