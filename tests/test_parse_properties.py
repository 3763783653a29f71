"""Property tests on generated papers: sentences reassemble their paragraph, every marker resolves to the
sentence it was written after, offsets point at the right text."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa_service.parse import parse_paper
from qa_service.text import SUPERSCRIPT_DIGITS

WORDS = [
    "state",
    "region",
    "council",
    "policy",
    "border",
    "treaty",
    "envoy",
    "security",
    "trade",
    "power",
    "rival",
    "forum",
    "report",
    "talks",
    "summit",
    "accord",
    "agency",
    "budget",
    "corridor",
    "sanction",
]


def sup(n: int) -> str:
    return "".join(SUPERSCRIPT_DIGITS[int(d)] for d in str(n))


@st.composite
def papers(draw: st.DrawFn) -> tuple[str, list[list[tuple[str, list[int]]]]]:
    """(text, expected) where expected holds, per paragraph, (sentence, markers it carries)."""
    n_sections = draw(st.integers(1, 3))
    counter = 0
    lines = ["Generated Paper", ""]
    expected: list[list[tuple[str, list[int]]]] = []
    for si in range(n_sections):
        lines += [f"Section {'ABC'[si]} Heading", ""]
        for _ in range(draw(st.integers(1, 3))):
            para_raw: list[str] = []
            sentences: list[tuple[str, list[int]]] = []
            for k in range(draw(st.integers(1, 4))):
                words = draw(st.lists(st.sampled_from(WORDS), min_size=4, max_size=10))
                words[0] = words[0].capitalize()
                if k == 0:
                    words.append(
                        f"item{len(expected)}"
                    )  # paragraphs are distinct (no accidental pull quotes)
                carried: list[int] = []
                raw_words = list(words)
                if draw(st.booleans()):  # a marker after a word inside the sentence
                    counter += 1
                    at = draw(st.integers(0, len(words) - 2))
                    raw_words[at] = raw_words[at] + sup(counter)
                    carried.append(counter)
                raw = " ".join(raw_words) + "."
                clean = " ".join(words) + "."
                if draw(st.booleans()):  # a marker after the full stop
                    counter += 1
                    raw += sup(counter)
                    carried.append(counter)
                para_raw.append(raw)
                sentences.append((clean, carried))
            lines += [" ".join(para_raw), ""]
            expected.append(sentences)
    for n in range(1, counter + 1):
        lines += [f"{n} Author {n}, “Title {n},” 2020.", ""]
    return "\n".join(lines), expected


@given(papers())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_generated_papers(case: tuple[str, list[list[tuple[str, list[int]]]]]) -> None:
    text, expected = case
    paper = parse_paper(text)
    paragraphs = [b for s in paper.sections if s.kind == "body" for b in s.blocks if b.kind == "paragraph"]
    assert len(paragraphs) == len(expected)
    for block, sentences in zip(paragraphs, expected, strict=True):
        assert " ".join(s.text for s in block.sentences) == block.text  # sentences reassemble the paragraph
        assert [(s.text, s.footnotes) for s in block.sentences] == sentences
        for s in block.sentences:
            assert paper.text[s.start : s.end] == s.text  # offsets point at the right text
    n_markers = sum(len(c) for p in expected for _, c in p)
    assert [r.number for r in paper.references] == list(range(1, n_markers + 1))
    assert paper.problems == []  # every marker resolves, every reference is cited
