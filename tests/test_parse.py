"""The paper model, pinned on the real paper with exact expectations, and bad input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from qa_service.errors import ParseError
from qa_service.models import Paper
from qa_service.parse import parse_file, parse_paper
from qa_service.text import normalize

GOLDEN = Path(__file__).parent / "golden" / "paper-structure.txt"
BODY = [
    "Objective",
    "Recent Historical Context: The Search for a Common International Approach",
    "The Security Constellation",
    "Engagement Amid Rivalry",
    "Regional Institutional Deficit",
    "Global Geopolitical Rivalries",
    "Conclusion",
]


def sentence(paper: Paper, fragment: str):  # type: ignore[no-untyped-def]
    found = [s for _, _, s in paper.sentences() if fragment in s.text]
    assert len(found) == 1, f"{fragment!r} found {len(found)} times"
    return found[0]


def structure(paper: Paper) -> str:
    lines = []
    for sec in paper.sections:
        lines.append(f"## {sec.title} [{sec.kind}]")
        for b in sec.blocks:
            lines.append(f"  {b.kind}:" + ("" if b.sentences else f" {b.text[:70]}"))
            for s in b.sentences:
                notes = f" carries={s.footnotes}" if s.footnotes else ""
                notes += f" covered_by={s.covered_by}" if s.covered_by else ""
                lines.append(f"    - {s.text[:70]}{notes}")
    return "\n".join(lines) + "\n"


def test_structure_matches_golden_file(paper: Paper) -> None:
    text = structure(paper)
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8"), (
        "parser output changed: review with UPDATE_GOLDEN=1 + git diff"
    )


def test_metadata(paper: Paper) -> None:
    m = paper.metadata
    assert (m.title, m.subtitle, m.author, m.publisher, m.date) == (
        "International Cooperation on Afghanistan",
        "Geopolitics and the Limits of Diplomacy",
        "A. Farid Tookhy",
        "Andiana Foundation",
        "January 2025",
    )


def test_sections_in_order_with_front_and_back_matter(paper: Paper) -> None:
    assert [s.title for s in paper.sections if s.kind == "body"] == BODY
    kinds = [(s.title, s.kind) for s in paper.sections if s.kind != "body"]
    assert kinds == [
        ("Title page", "front"),
        ("Copyright and credits", "front"),
        ("Table of contents", "front"),
        ("Notes", "references"),
        ("About the publisher", "back"),
    ]
    back = " ".join(b.text for s in paper.sections if s.kind == "back" for b in s.blocks)
    assert "founded in 2022" in back
    body = " ".join(b.text for s in paper.sections if s.kind == "body" for b in s.blocks)
    assert "Natalia Kopytnik" not in body and "501(c)(3)" not in body


def test_all_46_references_cited_and_every_marker_resolved(paper: Paper) -> None:
    assert [r.number for r in paper.references] == list(range(1, 47))
    cited = {n for _, _, s in paper.sentences() for n in s.footnotes}
    assert cited == set(range(1, 47))
    assert paper.problems == []


def test_marker_after_closing_quote(paper: Paper) -> None:
    s = sentence(paper, "in crisis management mode")
    assert s.footnotes == [1]
    assert s.text.endswith("mode.”")


def test_marker_inside_a_sentence(paper: Paper) -> None:
    s = sentence(paper, "has issued exceptions to the sanctions")
    assert s.footnotes == [32]
    assert "exceptions to the sanctions" in s.text and "³" not in s.text


def test_marker_separated_from_its_sentence_by_a_caption(paper: Paper) -> None:
    s = sentence(paper, "instantly lift unilateral sanctions")
    assert s.footnotes == [36]
    assert s.text.endswith("return its overseas assets.”")
    sec = next(x for x in paper.sections if x.title == "Global Geopolitical Rivalries")
    i = next(i for i, b in enumerate(sec.blocks) if "overseas assets" in b.text)
    assert sec.blocks[i + 1].kind == "caption" and sec.blocks[i + 1].text.startswith(
        "On September 29, 2023 Kazan"
    )


def test_page_breaks_joined_and_captions_kept_apart(paper: Paper) -> None:
    s = sentence(paper, "which the Secretary General presented to the Security Council in November 2023")
    assert s.footnotes == [] and s.covered_by == [3]
    captions = [b for sec in paper.sections for b in sec.blocks if b.kind == "caption"]
    assert len(captions) == 4
    paragraphs = " ".join(b.text for sec in paper.sections for b in sec.blocks if b.kind == "paragraph")
    for credit in ("UN Photo/Manuel Elias", "UN Photo/Ariana Lindquist", "Isalah Campbell", "india.mid.ru"):
        assert credit not in paragraphs
    assert "Foreign Ministers on Afghanistan." in paragraphs


def test_pull_quotes_not_duplicated(paper: Paper) -> None:
    body = normalize(" ".join(b.text for sec in paper.sections if sec.kind == "body" for b in sec.blocks))
    for quote in (
        "Iran considers the Taliban—a Sunni extremist group—a potential security threat",
        "The high degree of trust deficit between the regional heavyweights",
        "have been increasingly irritated by what they claim",
        "the region lacks the institutional capacity to facilitate",
        "Geopolitical rivalries between major powers in the region and the United States is another",
    ):
        assert body.count(normalize(quote)) == 1, quote
    assert sum(r.kind == "pull_quote" for r in paper.repairs) == 7


def test_emphasis_removed(paper: Paper) -> None:
    assert "**" not in paper.text
    assert sentence(paper, "At the domestic level, despite").text.startswith("At the domestic level")


def test_coverage_runs_back_to_the_previous_marker(paper: Paper) -> None:
    first = sentence(paper, "The United Nations is the nexus of efforts")
    assert first.footnotes == [] and first.covered_by == [1]
    after = sentence(paper, "These include Al-Qaida, Tehrik-e Taliban Pakistan")
    assert after.covered_by == []  # after the last marker of its paragraph: the author's own words


def test_offsets_point_at_the_text(paper: Paper) -> None:
    for _, block, s in paper.sentences():
        assert paper.text[s.start : s.end] == s.text
        assert block.start <= s.start and s.end <= block.end


def test_references_are_whole(paper: Paper) -> None:
    r31 = paper.reference(31)
    assert r31 and r31.urls == ["https://home.treasury.gov/policy-issues/financial-sanctions/faqs/951"]
    assert "](" not in r31.text and "<" not in r31.text
    r13 = paper.reference(13)
    assert r13 and "The characterization, by Buzan and Wæver" in r13.text and "246–312" in r13.text
    r21 = paper.reference(21)
    assert (
        r21
        and "Russian Federation, March 31, 2022" in r21.text
        and r21.urls == ["https://mid.ru/en/maps/af/1807302/"]
    )
    r7 = paper.reference(7)
    assert (
        r7
        and r7.urls == ["https://digitallibrary.un.org/record/4053880?ln=en&v=pdf"]
        and r7.date == "July 8, 2024"
    )
    r17 = paper.reference(17)
    assert (
        r17
        and r17.author == "Derek Grossman"
        and r17.title == "China and Pakistan See Eye to Eye on the Taliban—Almost"
    )
    assert len(paper.reference(37).urls) == 5 - 1  # type: ignore[union-attr]
    assert paper.reference(14).urls == []  # type: ignore[union-attr]  # books
    # the author after "For background, see for example"
    assert paper.reference(14).author == "Ahmed Rashid"  # type: ignore[union-attr]


def test_a_citation_signal_is_not_the_author() -> None:
    from qa_service.parse.references import _title_and_author

    assert _title_and_author("See also Rudolf Rassendyll, *Zenda Days* (Strelsau, 2001).") == (
        "Zenda Days",
        "Rudolf Rassendyll",
    )
    assert _title_and_author("For background, see for example Fritz Tarlenheim, “The Crown,” 2019.") == (
        "The Crown",
        "Fritz Tarlenheim",
    )
    assert _title_and_author("Cf. Colonel Sapt, *Guards*.")[1] == "Colonel Sapt"
    assert _title_and_author("Ministry of Ruritania, “Statement,” 2024.")[1] == "Ministry of Ruritania"
    assert _title_and_author("See generally Rudolf Rassendyll, *Zenda Days*.")[1] == "Rudolf Rassendyll"
    # a phrase before the note's first words is a signal's set-up only before "see": a date is not an author
    assert _title_and_author("On 3 March the Ministry of Ruritania said, “We will stay.”")[1] is None


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"   \n\n ", "empty"),
        (b"\xff\xfe\x00bad", "not UTF-8"),
        ("Title\n\nA claim.\u00b9 Another.\u00b2\n".encode(), "no numbered reference list"),
    ],
)
def test_bad_files_name_the_file_and_the_problem(tmp_path: Path, content: bytes, message: str) -> None:
    f = tmp_path / "paper.txt"
    f.write_bytes(content)
    with pytest.raises(ParseError) as err:
        parse_file(f)
    assert str(f) in err.value.message and message in err.value.message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="cannot read"):
        parse_file(tmp_path / "nope.txt")


def test_bracketed_markers_and_references() -> None:
    text = (
        "My Paper\n\nIntroduction\n\nStates disagree [1]. They say “no” [2]. Nothing else.\n\n"
        "1. A. Author, “First,” 2020, https://example.org/a.\n\n2. B. Author, “Second,” 2021.\n"
    )
    p = parse_paper(text)
    assert [r.number for r in p.references] == [1, 2]
    sents = [s for _, _, s in p.sentences() if s.footnotes]
    assert [(s.text, s.footnotes) for s in sents] == [("States disagree.", [1]), ("They say “no”.", [2])]
    assert p.reference(1).urls == ["https://example.org/a"]  # type: ignore[union-attr]
