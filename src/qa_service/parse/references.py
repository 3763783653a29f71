"""The reference list, by rule, for every input kind.

Where it is: after the last heading Notes, Endnotes, Footnotes, References, Bibliography, Sources or Works
cited (any case), else the longest run of entries numbered 1, 2, 3... Entries are numbered `1.`, `1)`,
`[1]`, `1` or `¹`, one per line or separated by blank lines, and may wrap across lines and page breaks.
The list ends at a paragraph that is not an entry once the last entry is complete. A list whose numbers do
not run 1..N is an error that names the line; nothing is merged silently.

What each entry says: its text and URLs (split and markdown-wrapped URLs repaired), title, author, date, and
for a short form ("Ibid.", "Author, op. cit.", "Author, 12.", a repeated title) the note it repeats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa_service.errors import ParseError
from qa_service.models import Reference, Repair
from qa_service.parse.lines import Line, Raw, line_joint, where
from qa_service.text import (
    FULL_DATE,
    SUPERSCRIPT_DIGITS,
    collapse_ws,
    marker_numbers,
    normalize,
    strip_emphasis,
)

HEADING_RE = re.compile(
    r"(?:end\s*notes|foot\s*notes|notes(?:\s+and\s+references)?|references|bibliography|sources|works\s+cited)"
    r"\s*:?",
    re.IGNORECASE,
)
# Entry numbering styles, tried in this order; "bare" (`12 Text`) is the only ambiguous one.
_STYLES: dict[str, re.Pattern[str]] = {
    "bracket": re.compile(r"^\[(\d{1,3})\]\s*(?=\S)"),
    "dot": re.compile(r"^(\d{1,3})\.\s+(?=\S)"),
    "paren": re.compile(r"^(\d{1,3})\)\s+(?=\S)"),
    "super": re.compile(rf"^([{SUPERSCRIPT_DIGITS}]{{1,3}})\s*(?=\S)"),
    "bare": re.compile(r"^(\d{1,3})\s+(?=\S)"),
}
_COMPLETE_RE = re.compile(r"[.!?][”’\"')\]]*$|https?://[^\s<>]*[^\s<>\-]>?$")
_FULL_DATE_RE = re.compile(rf"\b{FULL_DATE}\b")
_ORG_RE = re.compile(r"\(([^()]*?(?:Ministry|Office|Service|Institute|Council|Inspector|Department)[^(),]*)")


@dataclass
class Entry:
    number: int
    first: Line
    parts: list[str] = field(default_factory=list)


@dataclass
class ReferenceList:
    start: int  # first block of the list (its heading, when it has one)
    end: int  # first block after it (back matter), len(blocks) when the list ends the document
    heading: str | None
    entries: list[Entry]


def entry_number(text: str, style: str) -> tuple[int, int] | None:
    """(number, length of the numbering prefix) when `text` starts an entry in `style`."""
    m = _STYLES[style].match(text)
    if not m:
        return None
    return marker_numbers(m.group(1))[0], m.end()


def _style_of_first(text: str) -> str | None:
    for style in _STYLES:
        found = entry_number(text, style)
        if found and found[0] == 1:
            return style
    return None


def _complete(parts: list[str]) -> bool:
    return bool(_COMPLETE_RE.search(parts[-1].rstrip()))


def find_references(blocks: list[Raw], repairs: list[Repair]) -> ReferenceList | None:
    flat = [(bi, li) for bi, b in enumerate(blocks) for li in range(len(b.src))]
    headed = [
        bi
        for bi, b in enumerate(blocks)
        if b.src and HEADING_RE.fullmatch(strip_emphasis(b.text).strip()) and bi + 1 < len(blocks)
    ]
    for h in reversed(headed):
        k0 = flat.index((h + 1, 0))
        first = blocks[h + 1].src[0]
        style = _style_of_first(first.text)
        if style is None:
            other = next((s for s in _STYLES if entry_number(first.text, s)), None)
            if other is not None and other != "bare":
                n = entry_number(first.text, other)[0]  # type: ignore[index]
                raise ParseError(f"{where(first)}: the list under '{blocks[h].text}' starts at {n}, not 1")
            continue
        entries, end, error = _scan(blocks, flat, k0, style, repairs)
        if error:
            raise error
        return ReferenceList(
            start=h, end=end, heading=strip_emphasis(blocks[h].text).strip().rstrip(":"), entries=entries
        )
    # No heading: the longest run 1, 2, 3... (the later one on a tie: the list comes last).
    best: tuple[list[Entry], int, int, ParseError | None, list[Repair]] | None = None
    for k, (bi, li) in enumerate(flat):
        line = blocks[bi].src[li]
        style = _style_of_first(line.text)
        if style is None or (li and style == "bare"):
            continue
        found: list[Repair] = []
        entries, end, error = _scan(blocks, flat, k, style, found)
        if best is None or len(entries) >= len(best[0]):
            best = (entries, bi, end, error, found)
    if best is None:
        return None
    entries, start, end, error, found = best
    if error:
        raise error
    repairs += found
    return ReferenceList(start=start, end=end, heading=None, entries=entries)


def _scan(
    blocks: list[Raw], flat: list[tuple[int, int]], k0: int, style: str, repairs: list[Repair]
) -> tuple[list[Entry], int, ParseError | None]:
    """Entries from flat line k0 (entry 1) on: (entries, the block after the list, an error if the
    numbering breaks)."""
    bi0, li0 = flat[k0]
    first = blocks[bi0].src[li0]
    _, cut = entry_number(first.text, style)  # type: ignore[misc]
    entries = [Entry(number=1, first=first, parts=[first.text[cut:]])]
    for bi, li in flat[k0 + 1 :]:
        line = blocks[bi].src[li]
        starts_block = li == 0
        found = entry_number(line.text, style)
        last = entries[-1]
        if found and found[0] == last.number + 1:
            entries.append(Entry(number=found[0], first=line, parts=[line.text[found[1] :]]))
        elif found and (starts_block or style != "bare"):
            problem = (
                f"reference {found[0]} appears twice"
                if found[0] <= last.number
                else f"the reference list jumps from {last.number} to {found[0]}"
            )
            return entries, bi, ParseError(f"{where(line)}: {problem} (entries must be numbered 1..N)")
        elif starts_block and _complete(last.parts):
            return entries, bi, None
        else:
            if starts_block:
                repairs.append(
                    Repair(
                        kind="reference_join", detail=f"footnote {last.number} continues: {line.text[:40]}"
                    )
                )
            last.parts.append(line.text)
    return entries, len(blocks), None


# ---------------------------------------------------------------- what an entry says


def repair_reference_text(text: str) -> str:
    # [label](url) markdown links become the URL itself.
    text = re.sub(r"\[([^\]\s]*)\]\((https?://[^)\s]+)\)", r"<\2>", text)
    # <https://host/a- b/c> : whitespace inside angle brackets is a line wrap.
    text = re.sub(r"<(https?://[^<>]*?)>", lambda m: "<" + re.sub(r"\s+", "", m.group(1)) + ">", text)

    # <prefix-> <prefix-rest> : a fragment followed by the whole URL keeps the whole one.
    def _merge(m: re.Match[str]) -> str:
        a, b = m.group(1), m.group(2)
        return f"<{b}>" if b.startswith(a.rstrip("-/")) else m.group(0)

    return re.sub(r"<(https?://[^<>\s]+)>\s*<(https?://[^<>\s]+)>", _merge, text)


def extract_urls(text: str) -> list[str]:
    urls = []
    for m in re.finditer(r"<(https?://[^<>\s]+)>|(https?://[^\s<>]+)", text):
        u = m.group(1) or m.group(2).rstrip(".,;")
        if u.endswith(")") and u.count("(") < u.count(")"):
            u = u[:-1]
        urls.append(u)
    return list(dict.fromkeys(urls))


def build_references(entries: list[Entry], doc_id: str, repairs: list[Repair]) -> list[Reference]:
    refs = []
    for e in entries:
        body = ""
        for part in e.parts:
            body += line_joint(body, part) + part
        num = e.number
        fixed = repair_reference_text(body)
        if fixed != body:
            repairs.append(Repair(kind="url_repair", detail=f"footnote {num}"))
        urls = extract_urls(fixed)
        clean = collapse_ws(strip_emphasis(re.sub(r"<(https?://[^<>\s]+)>", r"\1", fixed)))
        title, author = _title_and_author(body)
        unquoted = re.sub(r"https?://\S+|“[^”]*”|\*[^*]*\*", "", body)
        date_m = (
            _FULL_DATE_RE.search(unquoted)
            or _FULL_DATE_RE.search(body)
            or re.search(r"\b(?:19|20)\d\d\b", unquoted)
        )
        refs.append(
            Reference(
                number=num,
                text=clean,
                document=doc_id,
                urls=urls,
                title=title,
                author=author,
                date=date_m.group(0) if date_m else None,
            )
        )
    resolve_short_forms(refs)
    return refs


# a citation signal before the author (Chicago 14.36): "See", "See also", "Cf.", "See, for example,", and a
# phrase that sets it up ("For background, see for example Jane Doe, *Title*")
_SIGNAL = (
    r"(?:(?:(?:For|On) [^,;:“”\"*\d]{1,40}?,\s+)?(?:[Ss]ee(?: also| generally)?|[Cc]f\.?|[Cc]ompare|[Qq]uoted in),?\s+"
    r"(?:(?:for example|for instance|e\.g\.),?\s+)?)?"
)


def _title_and_author(body: str) -> tuple[str | None, str | None]:
    # The first title in the note: “Quoted” or "quoted" (articles, documents) or *italic* (books); else,
    # author-date style, the sentence after "(2021)."
    found = [
        m
        for m in (
            re.search(r"“([^”]+?)[,.]?”", body),
            re.search(r'"([^"]+?)[,.]?"', body),
            re.search(r"\*([^*]+)\*", body),
        )
        if m
    ]
    title_m = min(found, key=lambda m: m.start()) if found else None
    title = title_m.group(1).strip().rstrip(",") if title_m else None
    apa = re.match(r"^([^()]{2,120}?)\s*\((\d{4})[a-z]?(?:,[^)]*)?\)\.\s+([^.]{3,200}?)\.(?:\s|$)", body)
    if title is None and apa:
        title = apa.group(3).strip()
    lead = re.match(rf"^{_SIGNAL}([A-Z][^“”\"*,]{{2,80}}?),\s*[“\"*]", body)
    author = None
    if lead and not re.search(r"\d", lead.group(1)):
        author = lead.group(1).strip()
    elif apa and not title_m:
        author = apa.group(1).strip().rstrip(".,")
    elif org := _ORG_RE.search(body):
        author = org.group(1).strip()
    return title, author


_ISSUER_WORDS = 8  # an issuer is a name ("U.S. Department of the Treasury"), not a sentence of the note


def issuer(ref: Reference) -> str | None:
    """The words between a reference's title and its date or address: who issued it, when they are a name."""
    at = ref.text.find(ref.title or "")
    if not ref.title or at < 0 or not _BEFORE_TITLE_RE.fullmatch(ref.text[:at]):  # someone named before the title
        return None
    after = ref.text[at + len(ref.title) :].lstrip(" ,.;:?!”\"'’")
    if after.startswith("("):  # "(Cambridge: Zenda Press, 1999)": a book's publisher, not its author
        return None
    name = re.split(r",|\baccessed\b|\bretrieved\b|\bavailable\b|https?:", after, maxsplit=1, flags=re.I)[0]
    name = name.strip(" .;:")
    if (
        not name
        or len(name.split()) > _ISSUER_WORDS
        or not name[:1].isupper()
        or any(ch.isdigit() or ch == ":" for ch in name)
        or _NOT_ISSUER_RE.search(name)
    ):
        return None
    return name


# before a title with no author: the note's number, a citation signal and an opening quote
_BEFORE_TITLE_RE = re.compile(rf"\s*(?:\d+\.?\s*)?{_SIGNAL}[“\"‘'*_]?\s*")
# words of a note after its title that name a form, a place in a book or a contributor, not who issued it
_NOT_ISSUER_RE = re.compile(
    r"\b(?:ibid|op\.? cit|pdf|press release|policy brief|working paper|video|youtube|interview|translated|edited|"
    r"unpublished|manuscript|in|by|with|at|from|of the author)\b",
    re.I,
)


_IBID_RE = re.compile(r"^(?:ibid|ibidem|id)\b\.?", re.IGNORECASE)
_OP_CIT_RE = re.compile(r"^([^,“”\"*]{2,60}?),?\s+(?:op\.?\s*cit|loc\.?\s*cit)\b", re.IGNORECASE)
_SHORT_AUTHOR_RE = re.compile(r"^([^,“*\"]+),\s*[\d–-]+(?:;.*)?\.?$")  # "Smith and Jones, 483–88."


def resolve_short_forms(refs: list[Reference]) -> None:
    """Set `same_as` on short-form notes: the first note that cites the same source (a chain of short forms
    ends at the full note). "Ibid." repeats the note before it; "Author, op. cit." and "Author, 12." the
    latest full note by that author; a note without a URL that repeats an earlier note's title, that note."""
    by_number = {r.number: r for r in refs}
    by_title: dict[str, int] = {}
    for i, ref in enumerate(refs):
        earlier = refs[:i]
        same: int | None = None
        author_m = _OP_CIT_RE.match(ref.text) or (
            _SHORT_AUTHOR_RE.match(ref.text) if not ref.title and not ref.urls else None
        )
        if _IBID_RE.match(ref.text) and earlier:
            same = earlier[-1].number
        elif author_m:
            name = author_m.group(1).strip()
            same = next(
                (
                    e.number
                    for e in reversed(earlier)
                    if e.title and (e.text.startswith(name) or (e.author or "").endswith(name))
                ),
                None,
            )
        if ref.title:
            key = normalize(ref.title)
            if key in by_title and not ref.urls:
                same = by_title[key]
            by_title.setdefault(key, ref.number)
        while same is not None and by_number[same].same_as is not None:
            same = by_number[same].same_as  # the first note that cites the source
        ref.same_as = same
