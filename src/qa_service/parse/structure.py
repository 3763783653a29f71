"""parse_paper(text) -> Paper: sections, paragraphs, sentences, markers, captions, references.

Every repair of the PDF text extraction lives here and nowhere else: page breaks inside sentences,
photo captions printed between the halves of a sentence, pull quotes, markdown emphasis, references
that continue across a page and URLs split or wrapped in markdown or angle brackets.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from qa_service.errors import ParseError
from qa_service.models import Block, BlockKind, Metadata, Paper, Reference, Repair, Section, Sentence
from qa_service.text import MARKER_RE, collapse_ws, marker_number, normalize, strip_emphasis, strip_markers

_REF_START_RE = re.compile(r"^(?:\[(\d{1,3})\]|(\d{1,3})\.?)\s+(?=\S)")
_TOC_LINE_RE = re.compile(r"^(?:(\d{1,3})\s+(.+?)|(.+?)\s*\.{0,}\s+(\d{1,3}))$")
_CAPTION_CREDIT_RE = re.compile(r"\(([^()]{2,100})\)\s*$")
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE_RE = re.compile(rf"\b(?:(?:{_MONTHS})\s+\d{{1,2}},\s+\d{{4}}|(?:{_MONTHS})\s+\d{{4}}|\d{{4}})\b")
_FULL_DATE_RE = re.compile(rf"\b(?:{_MONTHS})(?:\s+\d{{1,2}},)?\s+\d{{4}}\b")
_TERMINAL_RE = re.compile(r"[.!?…][”’\"')\]]*$|[”\"]$")
_ABBREVIATIONS = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "sgt",
        "gen",
        "col",
        "lt",
        "st",
        "no",
        "nos",
        "vol",
        "pp",
        "p",
        "e.g",
        "i.e",
        "etc",
        "vs",
        "cf",
        "jr",
        "sr",
        "inc",
        "ltd",
        "co",
        "fig",
        "ed",
        "eds",
        "rep",
        "sen",
        "gov",
        "approx",
        "dept",
        "est",
    ]
)
_SENT_END_RE = re.compile(r"[.!?…]+[”’\"')\]]*(?=\s+[“‘\"'A-Z0-9À-Ý])")


@dataclass
class _Raw:
    """A block of the extraction: text between blank lines."""

    text: str
    lines: list[str]
    kind: BlockKind = "paragraph"
    section: int = -1
    repairs: list[Repair] = field(default_factory=list)


def parse_file(path: Path, doc_id: str | None = None, overrides: dict[str, str] | None = None) -> Paper:
    """Read and parse one paper; errors name the file and the problem."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ParseError(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ParseError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    try:
        return parse_paper(text, doc_id=doc_id or path.stem, path=str(path), overrides=overrides)
    except ParseError as exc:
        raise ParseError(f"{path}: {exc.message}") from exc


def parse_paper(
    text: str, doc_id: str = "paper", path: str = "", overrides: dict[str, str] | None = None
) -> Paper:
    if not text.strip():
        raise ParseError("the document is empty")
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    blocks = _split_blocks(text)
    repairs: list[Repair] = []
    problems: list[str] = []

    ref_start, ref_end = _find_references(blocks)
    has_markers = any(MARKER_RE.search(b.text) for b in blocks)
    if ref_start is None:
        if any(re.search(r"[¹²³⁴⁵⁶⁷⁸⁹]", b.text) for b in blocks):
            raise ParseError("footnote markers found but no numbered reference list at the end")
        ref_start = ref_end = len(blocks)
    references = _parse_references(blocks[ref_start:ref_end], repairs)
    for r in references:
        r.document = doc_id
    front_end, headings = _find_body_start(blocks[:ref_start])
    metadata = _metadata(blocks[:front_end], overrides or {})

    sections: list[tuple[str, str, list[_Raw]]] = _front_sections(blocks[:front_end])
    body = _body_sections(blocks[front_end:ref_start], headings)
    body = [
        (title, kind, _repair_body(raws, repairs, blocks[front_end:ref_start])) for title, kind, raws in body
    ]
    sections += body
    if references:
        sections.append(("Notes", "references", []))
    back = blocks[ref_end:]
    if back:
        for b in back:
            b.kind = "back"
        sections.append(("About the publisher", "back", back))

    paper = _assemble(doc_id, path, sha, metadata, sections, references, repairs, problems)
    if has_markers or references:
        _check_markers(paper)
    return paper


# ---------------------------------------------------------------- blocks


def _split_blocks(text: str) -> list[_Raw]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    out = []
    for chunk in re.split(r"\n\s*\n", text):
        lines = [ln.strip() for ln in chunk.split("\n") if ln.strip()]
        if lines:
            out.append(_Raw(text=collapse_ws(" ".join(lines)), lines=lines))
    return out


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


# ---------------------------------------------------------------- references


def _ref_number(raw: _Raw) -> int | None:
    m = _REF_START_RE.match(raw.text)
    if not m:
        return None
    return int(m.group(1) or m.group(2))


def _find_references(blocks: list[_Raw]) -> tuple[int | None, int]:
    """The numbered list at the end: the start of the longest run 1, 2, 3... (continuation blocks allowed
    where a reference does not end with a period)."""
    best: tuple[int, int, int] | None = None  # (count, start, end)
    for i, b in enumerate(blocks):
        if _ref_number(b) != 1:
            continue
        expected, j, last_text = 2, i + 1, b.text
        while j < len(blocks):
            n = _ref_number(blocks[j])
            if n == expected:
                expected, last_text = expected + 1, blocks[j].text
            elif not last_text.rstrip().endswith("."):
                last_text = blocks[j].text  # a reference continued across a page break
            else:
                break
            j += 1
        count = expected - 1
        if count >= 1 and (best is None or count >= best[0]):
            best = (count, i, j)
    return (best[1], best[2]) if best else (None, len(blocks))


def _repair_reference_text(text: str) -> str:
    # [label](url) markdown links become the URL itself.
    text = re.sub(r"\[([^\]\s]*)\]\((https?://[^)\s]+)\)", r"<\2>", text)
    # <https://host/a- b/c> : whitespace inside angle brackets is a line wrap.
    text = re.sub(r"<(https?://[^<>]*?)>", lambda m: "<" + re.sub(r"\s+", "", m.group(1)) + ">", text)

    # <prefix-> <prefix-rest> : a fragment followed by the whole URL keeps the whole one.
    def _merge(m: re.Match[str]) -> str:
        a, b = m.group(1), m.group(2)
        return f"<{b}>" if b.startswith(a.rstrip("-/")) else m.group(0)

    text = re.sub(r"<(https?://[^<>\s]+)>\s*<(https?://[^<>\s]+)>", _merge, text)
    return text


def _extract_urls(text: str) -> list[str]:
    urls = []
    for m in re.finditer(r"<(https?://[^<>\s]+)>|(https?://[^\s<>]+)", text):
        u = m.group(1) or m.group(2).rstrip(".,;")
        if u.endswith(")") and u.count("(") < u.count(")"):
            u = u[:-1]
        urls.append(u)
    seen: list[str] = []
    for u in urls:
        if u not in seen:
            seen.append(u)
    return seen


def _parse_references(blocks: list[_Raw], repairs: list[Repair]) -> list[Reference]:
    merged: list[tuple[int, str]] = []
    for b in blocks:
        n = _ref_number(b)
        if n is not None and n == len(merged) + 1:
            merged.append((n, b.text[_REF_START_RE.match(b.text).end() :]))  # type: ignore[union-attr]
        elif merged:
            repairs.append(
                Repair(kind="reference_join", detail=f"footnote {merged[-1][0]} continues: {b.text[:40]}")
            )
            num, prev = merged[-1]
            merged[-1] = (num, prev + " " + b.text)
    refs = []
    for num, body in merged:
        fixed = _repair_reference_text(body)
        if fixed != body:
            repairs.append(Repair(kind="url_repair", detail=f"footnote {num}"))
        urls = _extract_urls(fixed)
        clean = collapse_ws(strip_emphasis(re.sub(r"<(https?://[^<>\s]+)>", r"\1", fixed)))
        # the first title in the note: “Quoted” (articles, documents) or *italic* (books)
        found = [m for m in (re.search(r"“([^”]+?)[,.]?”", body), re.search(r"\*([^*]+)\*", body)) if m]
        title_m = min(found, key=lambda m: m.start()) if found else None
        title = title_m.group(1).strip().rstrip(",") if title_m else None
        author = None
        lead = re.match(r"^(?:See,? (?:for example,? )?)?([A-Z][^“”*,]{2,80}?),\s*[“*]", body)
        if lead and not re.search(r"\d", lead.group(1)):
            author = lead.group(1).strip()
        else:
            org = re.search(
                r"\(([^()]*?(?:Ministry|Office|Service|Institute|Council|Inspector|Department)[^(),]*)", body
            )
            if org:
                author = org.group(1).strip()
        unquoted = re.sub(r"https?://\S+|“[^”]*”|\*[^*]*\*", "", body)
        date_m = _FULL_DATE_RE.search(body) or re.search(r"\b(?:19|20)\d\d\b", unquoted)
        refs.append(
            Reference(
                number=num,
                text=clean,
                urls=urls,
                title=title,
                author=author,
                date=date_m.group(0) if date_m else None,
            )
        )
    return refs


# ---------------------------------------------------------------- front matter, headings, metadata


def _find_body_start(blocks: list[_Raw]) -> tuple[int, list[str]]:
    """Index of the first body heading and the body headings, from the table of contents when there is one."""
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
    # No table of contents: the first short title-like block after a long paragraph.
    for j, b in enumerate(blocks):
        nxt = blocks[j + 1].text if j + 1 < len(blocks) else ""
        if _looks_like_heading(b.text) and len(nxt.split()) >= 5 and _ends_sentence(nxt):
            return j, [b.text for b in blocks[j:] if _looks_like_heading(b.text)]
    return 0, []


def _looks_like_heading(text: str) -> bool:
    w = text.split()
    return 0 < len(w) <= 12 and not _ends_sentence(text) and text[:1].isupper() and not MARKER_RE.search(text)


def _front_sections(blocks: list[_Raw]) -> list[tuple[str, str, list[_Raw]]]:
    title_page: list[_Raw] = []
    rights: list[_Raw] = []
    toc: list[_Raw] = []
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


def _titlecase_caps(s: str) -> str:
    return s.title() if s.isupper() else s


def _metadata(front: list[_Raw], overrides: dict[str, str]) -> Metadata:
    meta = Metadata()
    texts = [b.text for b in front if b.kind != "toc"]
    for t in texts:
        if ":" in t and len(t.split()) <= 20 and not meta.title and not t.startswith("©"):
            meta.title, meta.subtitle = (s.strip() for s in t.split(":", 1))
    if not meta.title and texts:
        short = [t for t in texts if len(t.split()) <= 12]
        meta.title = short[1] if len(short) > 1 and short[0].isupper() else (short[0] if short else "")
    for t in texts:
        m = re.search(r"©\s*\d{4}\s+by\s+(?:the\s+)?(.+)$", t)
        if m:
            meta.publisher = m.group(1).strip()
        if re.fullmatch(rf"(?:{_MONTHS})\s+\d{{4}}", t):
            meta.date = t
        if (
            not meta.author
            and re.fullmatch(r"(?:[A-Z]\.\s*)?(?:[A-Z][a-zà-ÿ'-]+\s*){1,4}", t)
            and t not in (meta.title, meta.subtitle)
            and not t.isupper()
        ):
            meta.author = t
    if not meta.publisher:
        caps = [t for t in texts if t.isupper() and len(t.split()) <= 6]
        meta.publisher = _titlecase_caps(caps[0]) if caps else ""
    for key, value in overrides.items():
        if hasattr(meta, key) and value:
            setattr(meta, key, value)
    return meta


def _body_sections(blocks: list[_Raw], headings: list[str]) -> list[tuple[str, str, list[_Raw]]]:
    wanted = [normalize(h) for h in headings]
    out: list[tuple[str, str, list[_Raw]]] = []
    for b in blocks:
        if wanted and normalize(b.text) == wanted[0]:
            wanted.pop(0)
            b.kind = "heading"
            out.append((b.text, "body", [b]))
        elif out:
            out[-1][2].append(b)
        else:
            out.append(("Body", "body", [b]))
    return out


# ---------------------------------------------------------------- body repairs


def _repair_body(raws: list[_Raw], repairs: list[Repair], all_body: list[_Raw]) -> list[_Raw]:
    for b in raws:
        if b.kind == "paragraph" and _is_caption(b.text):
            b.kind = "caption"
    # Pull quotes: a standalone paragraph repeated inside other body text (a page-break fragment never is one).
    prose = {id(b): normalize(b.text) for b in all_body if b.kind == "paragraph"}
    dropped: set[int] = set()
    out: list[_Raw] = []
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
    joined: list[_Raw] = []
    pending: list[_Raw] = []
    open_para: _Raw | None = None
    for b in out:
        if b.kind == "caption" and open_para is not None:
            pending.append(b)
            continue
        if b.kind == "paragraph" and open_para is not None:
            repairs.append(Repair(kind="page_break_join", detail=f"…{open_para.text[-30:]} | {b.text[:30]}…"))
            open_para.text = open_para.text + " " + b.text
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
        plain = strip_emphasis(b.text)
        if plain != b.text:
            repairs.append(Repair(kind="emphasis", detail=b.text[:60]))
            b.text = plain
    return joined


# ---------------------------------------------------------------- sentences and assembly


class TextBuilder:
    """The one normalised text of a document: blocks joined by blank lines; add() gives a block's span."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._offset = 0

    def add(self, text: str) -> tuple[int, int]:
        if self._parts:
            self._parts.append("\n\n")
            self._offset += 2
        start = self._offset
        self._parts.append(text)
        self._offset += len(text)
        return start, self._offset

    @property
    def text(self) -> str:
        return "".join(self._parts)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of clean text (markers already removed)."""
    spans = []
    start = 0
    for m in _SENT_END_RE.finditer(text):
        end = m.end()
        before = text[start : m.start() + 1]
        word = re.search(r"(\S+)$", before)
        token = word.group(1).lower().lstrip("(“\"'‘[").rstrip(".") if word else ""
        if m.group(0).startswith(".") and (
            token in _ABBREVIATIONS
            or (re.fullmatch(r"(?:[a-z]\.)*[a-z]", token) and len(token.replace(".", "")) <= 2)
        ):
            continue
        spans.append((start, end))
        start = end
        while start < len(text) and text[start].isspace():
            start += 1
    if start < len(text):
        spans.append((start, len(text.rstrip())))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _clean_with_markers(text: str) -> tuple[str, list[tuple[int, int]]]:
    """Remove markers; return clean text and (footnote, offset-in-clean-text) pairs."""
    out, markers, pos = [], [], 0
    for m in MARKER_RE.finditer(text):
        piece = text[pos : m.start()]
        if m.group(0).startswith("[") and piece.endswith(" "):
            piece = piece[:-1]  # "disagree [1]." -> "disagree."
        out.append(piece)
        offset = sum(len(s) for s in out)
        markers.append((marker_number(m.group(0)), offset))
        pos = m.end()
    out.append(text[pos:])
    clean = "".join(out)
    # a marker removed between two words leaves no space issue ("exceptions³² to" -> "exceptions to")
    return clean, markers


def _assemble(
    doc_id: str,
    path: str,
    sha: str,
    metadata: Metadata,
    sections: list[tuple[str, str, list[_Raw]]],
    references: list[Reference],
    repairs: list[Repair],
    problems: list[str],
) -> Paper:
    builder = TextBuilder()
    add = builder.add
    out_sections: list[Section] = []

    for si, (title, kind, raws) in enumerate(sections):
        sec = Section(id=f"{doc_id}:s{si}", index=si, title=title, kind=kind, blocks=[])
        items: list[tuple[BlockKind, str]] = [(b.kind, b.text) for b in raws]
        if kind == "references":
            items = [("reference", f"{r.number}. {r.text}") for r in references]
        for bi, (bkind, raw_text) in enumerate(items):
            block_id = f"{doc_id}:s{si}:b{bi}"
            if bkind in ("paragraph",):
                clean, markers = _clean_with_markers(raw_text)
            else:
                clean, markers = raw_text, []
            start, end = add(clean)
            block = Block(id=block_id, kind=bkind, text=clean, start=start, end=end)
            if bkind in ("paragraph", "caption", "back", "front", "reference"):
                spans = (
                    split_sentences(clean) if bkind in ("paragraph", "caption", "back") else [(0, len(clean))]
                )
                for xi, (a, b) in enumerate(spans):
                    carried = sorted({n for n, off in markers if a < off <= b or (xi == 0 and off == a == 0)})
                    block.sentences.append(
                        Sentence(
                            id=f"{block_id}:x{xi}",
                            text=clean[a:b],
                            start=start + a,
                            end=start + b,
                            footnotes=carried,
                        )
                    )
                _assign_coverage(
                    block.sentences, reference=int(raw_text.split(".")[0]) if bkind == "reference" else None
                )
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
        problems=problems,
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
