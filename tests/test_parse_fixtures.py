"""Three fixture papers in different styles, each pinned with exact expectations (metadata, sections, every
body sentence with its markers and page, every reference with its text, URLs and the note a short form
repeats); the reference-list and marker rules one by one; and malformed input, each error naming the
file, the line and the problem.

  mekong-drought-brief.md      markdown; [1], [1, 3], [2–4] markers; "References", one `[n]` entry per line
  sahel-cold-chain-report.txt  text with form feeds; superscripts; "Endnotes", `n.` entries between blank
                               lines, wrapped, one across a page break; running header and page numbers;
                               Ibid., a repeated title, op. cit.; two markers side by side (⁸ ⁹)
  grid resilience (PDF)        generated with reportlab (tests/fixture_pdfs.py): real superscripts, a
                               running header, page numbers, a paragraph across a page break, "Notes"
The first two share footnote numbers 1-6 with different references (a two-document corpus).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from fixture_pdfs import (
    NOTES,
    bomb_pdf,
    damaged_pdf,
    encrypted_pdf,
    footnoted_pdf,
    grid_resilience_pdf,
    image_only_pdf,
    many_pages_pdf,
)
from qa_service.config import PaperLimits
from qa_service.errors import ParseError, TooLarge
from qa_service.models import Paper
from qa_service.parse import parse_bytes, parse_file, parse_paper

PAPERS = Path(__file__).parent / "fixtures" / "papers"
MALFORMED = PAPERS / "malformed"


@pytest.fixture(scope="module")
def mekong() -> Paper:
    return parse_file(PAPERS / "mekong-drought-brief.md", doc_id="mekong-2024")


@pytest.fixture(scope="module")
def sahel() -> Paper:
    return parse_file(PAPERS / "sahel-cold-chain-report.txt", doc_id="sahel-2023")


@pytest.fixture(scope="module")
def grid(tmp_path_factory: pytest.TempPathFactory) -> Paper:
    path = tmp_path_factory.mktemp("pdf") / "grid-resilience.pdf"
    path.write_bytes(grid_resilience_pdf())
    return parse_file(path, doc_id="grid-2023")


def body(paper: Paper) -> list[tuple[str, list[int], int | None]]:
    return [(s.text, s.footnotes, s.page) for sec, _, s in paper.sentences() if sec.kind == "body"]


def sections(paper: Paper) -> list[tuple[str, str]]:
    return [(s.title, s.kind) for s in paper.sections]


def meta(paper: Paper) -> tuple[str, ...]:
    m = paper.metadata
    return (m.title, m.subtitle, m.author, m.publisher, m.date)


def refs(paper: Paper) -> dict[int, tuple[str, list[str], int | None]]:
    assert all(r.document == paper.doc_id for r in paper.references)
    return {r.number: (r.text, r.urls, r.same_as) for r in paper.references}


def every_marker_resolved(paper: Paper) -> None:
    numbers = [r.number for r in paper.references]
    assert numbers == list(range(1, len(numbers) + 1))
    assert {n for _, _, s in paper.sentences() for n in s.footnotes} == set(numbers)
    assert paper.problems == []
    for _, block, s in paper.sentences():
        assert paper.text[s.start : s.end] == s.text and block.start <= s.start <= s.end <= block.end


# ---------------------------------------------------------------- the markdown brief


def test_markdown_brief(mekong: Paper) -> None:
    assert meta(mekong) == (
        "Rivers Without Borders",
        "Drought Diplomacy in the Lower Mekong",
        "Linh Tran and Samuel Okafor",
        "Mekong Water Futures Institute",
        "April 2024",
    )
    assert sections(mekong) == [
        ("Title page", "front"),
        ("Summary", "body"),
        ("Background", "body"),
        ("The 2019–2020 Drought", "body"),
        ("Data Sharing", "body"),
        ("Recommendations", "body"),
        ("References", "references"),
    ]
    assert body(mekong) == [
        (
            "The Lower Mekong basin supports more than sixty million people, most of whom depend on the river "
            "for food, water and income.",
            [1],
            None,
        ),
        (
            "Upstream dams now store enough water to change the timing of the flood pulse that fishing and rice "
            "farming rely on.",
            [1, 3],
            None,
        ),
        (
            "This brief argues that drought diplomacy works best when data is shared before a crisis, not "
            "during it.",
            [],
            None,
        ),
        (
            "The Mekong River Commission was created in 1995 by Cambodia, Laos, Thailand and Vietnam to "
            "coordinate the use of the river.",
            [2],
            None,
        ),
        (
            "China and Myanmar are dialogue partners rather than members, which limits what the Commission can "
            "ask of upstream operators.",
            [],
            None,
        ),
        (
            "Since 2020, China has shared year-round water level data from two of its stations on the Lancang, "
            "as the upper Mekong is known there.",
            [4],
            None,
        ),
        (
            "Water levels at Chiang Saen fell to the lowest ever recorded for the rainy season in July 2019.",
            [5],
            None,
        ),
        (
            "Farmers in the Mekong Delta reported saltwater reaching more than 90 kilometres inland, and "
            "several provinces declared emergencies.",
            [2, 3, 4],
            None,
        ),
        ("Studies disagree on how much upstream reservoirs contributed to the low flows.", [6], None),
        ("Shared data only helps if downstream agencies can act on it in time.", [], None),
        (
            "The Mekong Dam Monitor publishes weekly estimates of reservoir storage from satellite imagery.",
            [7],
            None,
        ),
        (
            "Local officials interviewed for this brief said that warnings arrive by email, in English, "
            "through the Commission's data portal, and are rarely passed on to districts.",
            [],
            None,
        ),
        (
            "Governments should agree a drought protocol that sets thresholds for releases from upstream "
            "reservoirs.",
            [8],
            None,
        ),
        ("Donors should fund provincial staff to turn river data into advice for farmers.", [], None),
        (
            "Without both, the next drought will again be managed as an emergency rather than as a "
            "foreseeable event.",
            [],
            None,
        ),
    ]
    assert refs(mekong) == {
        1: (
            "Mekong River Commission, “State of the Basin Report 2023,” Vientiane, 2023, "
            "https://reports.mekongwater.example/state-of-the-basin-2023.pdf.",
            ["https://reports.mekongwater.example/state-of-the-basin-2023.pdf"],
            None,
        ),
        2: (
            "“Agreement on the Cooperation for the Sustainable Development of the Mekong River Basin,” April 5, "
            "1995, https://treaties.mekongwater.example/1995-agreement.",
            ["https://treaties.mekongwater.example/1995-agreement"],
            None,
        ),
        3: ("Brian Eyler, Last Days of the Mighty Mekong (London: Zed Books, 2019).", [], None),
        4: (
            "“Upstream Partner Agrees to Share Year-Round Hydrological Data,” press release, October 22, 2020, "
            "https://news.mekongwater.example/2020/10/22/data-sharing; also available at "
            "https://archive.mekongwater.example/press/2020-10-22.",
            [
                "https://news.mekongwater.example/2020/10/22/data-sharing",
                "https://archive.mekongwater.example/press/2020-10-22",
            ],
            None,
        ),
        5: (
            "Mekong River Commission, “Situation Report on Hydrological Conditions in January–July 2019,” "
            "August 2019, https://reports.mekongwater.example/situation-2019.pdf.",
            ["https://reports.mekongwater.example/situation-2019.pdf"],
            None,
        ),
        6: (
            "Alan Basist and Claude Williams, “Monitoring the Quantity of Water Flowing Through the Upper "
            "Mekong Basin Under Natural Conditions,” April 2020.",
            [],
            None,
        ),
        7: (
            "“Mekong Dam Monitor,” accessed March 1, 2024, https://monitor.damwatch.example/mekong.",
            ["https://monitor.damwatch.example/mekong"],
            None,
        ),
        8: ("Eyler, op. cit., 211–14.", [], 3),  # op. cit.: the latest full note by Eyler
    }
    r3, r5 = mekong.reference(3), mekong.reference(5)
    assert r3 and (r3.title, r3.author, r3.date) == ("Last Days of the Mighty Mekong", "Brian Eyler", "2019")
    assert r5 and r5.date == "August 2019"  # the note's date, not the month inside its title
    assert sorted({r.kind for r in mekong.repairs}) == ["emphasis", "markdown_link"]
    every_marker_resolved(mekong)


# ---------------------------------------------------------------- the text report


def test_text_report(sahel: Paper) -> None:
    assert meta(sahel) == (
        "Keeping Vaccines Cold",
        "Last-Mile Logistics and Solar Refrigeration in the Sahel",
        "Amina Diallo and Peter Hollis",
        "Harbourline Institute",
        "March 2023",
    )
    assert sections(sahel) == [
        ("Title page", "front"),
        ("Key Findings", "body"),
        ("The Last Mile", "body"),
        ("Financing Maintenance", "body"),
        ("Endnotes", "references"),
    ]
    assert body(sahel) == [
        (
            "Routine immunisation in the Sahel depends on a chain of refrigerators that begins at national "
            "stores and ends in rural health posts, many of them without grid power.",
            [1],
            1,
        ),
        (
            "In 2022, fewer than half of the health posts surveyed in three regions had a working refrigerator "
            "on the day of the visit.",
            [2],
            1,
        ),
        (
            "Where solar direct-drive units had been installed, the share of vaccine doses discarded because of "
            "heat exposure fell by about a third.",
            [3],
            1,
        ),
        (
            "Most failures were not caused by broken equipment but by the lack of anyone paid to repair it.",
            [],
            1,
        ),
        (  # continues across the page break: the page number, the break and the running header are gone
            "Health posts waited a median of five months for a technician after a compressor failed, and during "
            "that time vaccines were carried from the district store in cool boxes that hold their temperature "
            "for two days at most.",
            [4, 5],
            1,
        ),
        ("Motorcycle outreach teams now cover villages more than ten kilometres from a health post.", [], 2),
        (
            "Their cool boxes are packed with ice made at district stores, which themselves lose power for "
            "several hours a day.",
            [6],
            2,
        ),
        (
            "Temperature loggers sent with the boxes in 2022 recorded freezing on one trip in eight, which "
            "damages some vaccines as surely as heat.",
            [7],
            2,
        ),
        (
            "Donors have paid for most of the refrigerators installed since 2017, but maintenance budgets "
            "remain a national responsibility that ministries rarely meet.",
            [8, 9],
            2,
        ),
        ("A maintenance contract costs less each year than the vaccines lost to a single failure.", [10], 2),
    ]
    assert refs(sahel) == {
        1: (
            "World Health Organization Regional Office for Africa, “Effective Vaccine Management Assessment: "
            "Sahel Summary,” Brazzaville, 2021, https://evm.afrohealth.example/sahel-2021.pdf.",
            ["https://evm.afrohealth.example/sahel-2021.pdf"],
            None,
        ),
        2: (
            "Amina Diallo, “Cold Chain Equipment Survey in Tillabéri, Mopti and Sahel Regions,” Harbourline "
            "Working Paper 12, November 2022, https://harbourline.example/papers/wp12.",
            ["https://harbourline.example/papers/wp12"],
            None,
        ),
        3: ("Ibid., 14–16.", [], 2),
        4: (
            "Peter Hollis, “Who Fixes the Fridge? Maintenance Contracts for Health Facility Equipment,” Journal "
            "of Health Logistics 9, no. 2 (2021): 45–61.",
            [],
            None,
        ),
        5: ("Diallo, “Cold Chain Equipment Survey in Tillabéri, Mopti and Sahel Regions,” 22.", [], 2),
        6: (  # wrapped across the page break
            "Gavi, the Vaccine Alliance, “Cold Chain Equipment Optimisation Platform: Progress Report,” Geneva, "
            "June 2022, https://coldchain.vaccinealliance.example/ccep-2022.",
            ["https://coldchain.vaccinealliance.example/ccep-2022"],
            None,
        ),
        7: (
            "Sahel Immunisation Partners, “Freeze Exposure in Outreach Cool Boxes,” field note, September 14, "
            "2022.",
            [],
            None,
        ),
        8: ("Hollis, op. cit., 52.", [], 4),
        9: (
            "Ministry of Public Health of Niger, “Plan Pluriannuel Complet de Vaccination 2021–2025,” Niamey, "
            "2021.",
            [],
            None,
        ),
        10: (
            "Harbourline Institute, “The Cost of a Broken Refrigerator,” dataset, 2023, "
            "https://data.harbourline.example/fridge-costs.csv; mirror at "
            "https://mirror.harbourline.example/fridge-costs.csv.",
            [
                "https://data.harbourline.example/fridge-costs.csv",
                "https://mirror.harbourline.example/fridge-costs.csv",
            ],
            None,
        ),
    }
    assert [(r.kind, r.detail) for r in sahel.repairs] == [
        ("page_number", "p. 1: — 1 —"),
        ("running_header", "p. 2: Harbourline Institute | Keeping Vaccines Cold"),
        ("page_number", "p. 2: — 2 —"),
        ("running_header", "p. 3: Harbourline Institute | Keeping Vaccines Cold"),
        ("page_number", "p. 3: — 3 —"),
        ("reference_join", "footnote 6 continues: Report,” Geneva, June 2022, https://cold"),
        ("page_break_join", "… failed,⁴ and during that time | vaccines were carried from the…"),
    ]
    assert "Harbourline Institute |" not in sahel.text and "— 2 —" not in sahel.text
    every_marker_resolved(sahel)


# ---------------------------------------------------------------- the PDF brief


def test_pdf_brief(grid: Paper) -> None:
    assert meta(grid) == (
        "Grid Resilience After Storms",
        "Lessons from Caribbean Utilities",
        "Marisol Vega and Daniel Ochieng",
        "Caribbean Energy Resilience Network",
        "September 2023",
    )
    assert sections(grid) == [
        ("Title page", "front"),
        ("Summary", "body"),
        ("What Failed in 2017", "body"),
        ("Underground Lines and Microgrids", "body"),
        ("Paying for Resilience", "body"),
        ("Notes", "references"),
    ]
    assert body(grid) == [
        (
            "When a hurricane crosses a small island, the electricity grid usually fails first and recovers "
            "last.",
            [],
            2,
        ),
        (
            "After the 2017 season, some customers on the worst-hit islands waited more than four months for "
            "power to return.",
            [1],
            2,
        ),
        (
            "This brief compares how three utilities rebuilt and asks which choices shortened the next outage.",
            [],
            2,
        ),
        ("Most damage was to distribution lines rather than to power stations.", [], 2),
        (
            "Wooden poles snapped in winds above 200 kilometres per hour, and crews had to clear roads before "
            "they could replace them.",
            [2],
            2,
        ),
        (
            "Spare transformers ran out within weeks because utilities held stocks sized for ordinary storms.",
            [3],
            2,
        ),
        (
            "Mutual aid crews from neighbouring utilities arrived quickly, but their equipment did not always "
            "fit local connectors.",
            [4],
            2,
        ),
        (
            "Utilities that had agreed common specifications in advance restored customers about twice as fast.",
            [2, 4],
            2,
        ),
        (
            "Burying feeders near hospitals and water plants costs several times more per kilometre than "
            "overhead lines, but buried feeders on two islands came through the 2022 season intact.",
            [5],
            2,
        ),
        ("Solar microgrids with batteries kept clinics open for days after the main grid failed.", [], 2),
        ("They are cheapest where diesel is expensive and roads are easily blocked.", [5, 6], 2),
        (  # runs over the page break; the next sentence starts on page 3
            "The same reasoning applies to water pumping stations, which need only a few hours of stored energy "
            "each day to keep pressure in the network, and to telecommunications masts, whose failure slows "
            "every other part of the recovery because crews and dispatchers can no longer reach each other.",
            [],
            2,
        ),
        (
            "Several utilities now rank feeders by the services they supply before deciding which to bury, and "
            "publish the ranking so that municipalities can plan shelters near protected lines.",
            [],
            3,
        ),
        (
            "Regulators rarely allow utilities to recover the cost of hardening the grid through tariffs before "
            "a disaster, only the cost of repairs after it.",
            [7],
            3,
        ),
        (
            "Parametric insurance, which pays out when wind speed passes a threshold, can fund the first weeks "
            "of repair without waiting for loss assessments.",
            [8],
            3,
        ),
    ]
    expected = {int(n.split(".")[0]): n.split(". ", 1)[1] for n in NOTES}
    assert {n: t for n, (t, _, _) in refs(grid).items()} == expected
    assert {n: (u, s) for n, (_, u, s) in refs(grid).items()} == {
        1: (["https://reports.carilec.example/restoration-2017.pdf"], None),
        2: (["https://journals.energysystems.example/esr/14/3/vega"], None),
        3: ([], None),
        4: (
            ["https://cern.example/wp/mutual-aid.pdf", "https://mirror.cern.example/wp/mutual-aid.pdf"],
            None,
        ),
        5: (["https://docs.renewables.example/microgrids-islands-2021.pdf"], None),
        6: ([], 5),  # Ibid.
        7: ([], None),
        8: (["https://www.ccrif.example/utilities"], None),
    }
    pages = {int(s.text.split(".")[0]): s.page for sec, _, s in grid.sentences() if sec.kind == "references"}
    assert pages == {1: 3, 2: 3, 3: 3, 4: 3, 5: 3, 6: 4, 7: 4, 8: 4}
    kinds = [r.kind for r in grid.repairs]
    assert kinds.count("running_header") == 4 and kinds.count("page_number") == 4
    assert kinds.count("page_break_join") == 1
    assert "Policy Brief No. 7" not in grid.text  # the running header, on every page
    every_marker_resolved(grid)


def test_pdf_digits_are_markers_only_when_set_as_superscripts(grid: Paper) -> None:
    """'200 kilometres', '2017', '2022' are body-size digits on the baseline: never markers."""
    s = next(s for _, _, s in grid.sentences() if "200 kilometres" in s.text)
    assert s.footnotes == [2]
    assert all(s.footnotes == [] for _, _, s in grid.sentences() if s.text.startswith("When a hurricane"))


def test_two_fixture_papers_share_footnote_numbers_with_different_references(
    mekong: Paper, sahel: Paper
) -> None:
    for n in range(1, 7):
        a, b = mekong.reference(n), sahel.reference(n)
        assert a and b and a.text != b.text and (a.document, b.document) == ("mekong-2024", "sahel-2023")


# ---------------------------------------------------------------- the rules one by one


def _paper_with_list(entries: list[str], heading: str | None, separator: str) -> str:
    head = f"{heading}\n\n" if heading else ""
    return (
        "Water Tariffs\n\nOverview\n\nTariffs rose in every district.¹ Arrears fell.² Subsidies stayed flat.³\n\n"
        + head
        + separator.join(entries)
        + "\n"
    )


ENTRIES = [
    "Ana Lima, “Tariff Reform in Secondary Cities,” 2020,\nhttps://water.example/tariffs.",
    "“Arrears and Disconnections,” utility report,\nMay 2021.",
    "Bruno Sato, *Pricing Water* (Lisbon: Ponte Press, 2019).",
]


@pytest.mark.parametrize(
    "numbering",
    [
        lambda n: f"{n}. ",
        lambda n: f"{n}) ",
        lambda n: f"[{n}] ",
        lambda n: f"{n} ",
        lambda n: "¹²³"[n - 1] + " ",
    ],
    ids=["1.", "1)", "[1]", "1", "superscript"],
)
@pytest.mark.parametrize("separator", ["\n", "\n\n"], ids=["one-per-line", "blank-lines"])
@pytest.mark.parametrize(
    "heading",
    [None, "Notes", "ENDNOTES", "References", "Bibliography", "Sources", "Works cited", "WORKS CITED:"],
)
def test_reference_list_styles(numbering, separator: str, heading: str | None) -> None:  # type: ignore[no-untyped-def]
    text = _paper_with_list([numbering(i + 1) + e for i, e in enumerate(ENTRIES)], heading, separator)
    paper = parse_paper(text)
    assert [(r.number, r.text) for r in paper.references] == [
        (1, "Ana Lima, “Tariff Reform in Secondary Cities,” 2020, https://water.example/tariffs."),
        (2, "“Arrears and Disconnections,” utility report, May 2021."),
        (3, "Bruno Sato, Pricing Water (Lisbon: Ponte Press, 2019)."),
    ]
    assert paper.reference(1).urls == ["https://water.example/tariffs"]  # type: ignore[union-attr]
    assert paper.problems == []
    refs_section = next(s for s in paper.sections if s.kind == "references")
    assert refs_section.title == (heading.rstrip(":") if heading else "Notes")


@pytest.mark.parametrize(
    ("marked", "numbers"),
    [
        ("Rates rose [1].", [1]),
        ("Rates rose [1, 3].", [1, 3]),
        ("Rates rose [2–4].", [2, 3, 4]),
        ("Rates rose [2-4].", [2, 3, 4]),
        ("Rates rose [1; 3-4].", [1, 3, 4]),
        ("Rates rose [1][3].", [1, 3]),
        ("Rates rose.¹", [1]),
        ("Rates rose.¹,³", [1, 3]),
        ("Rates rose.²⁻⁴", [2, 3, 4]),
        ("Rates rose.²–⁴", [2, 3, 4]),
        ("Rates rose.¹ ³", [1, 3]),
        ("Rates¹ rose.", [1]),
    ],
)
def test_marker_forms(marked: str, numbers: list[int]) -> None:
    notes = "\n".join(f"{n}. Source {n}, “Report {n},” 2020." for n in range(1, 5))
    paper = parse_paper(f"Title\n\nOverview\n\n{marked} Costs fell in most towns.\n\nNotes\n\n{notes}\n")
    s = next(s for _, _, s in paper.sentences() if s.text.startswith("Rates"))
    assert (s.text, s.footnotes) == ("Rates rose.", numbers)


def test_wrapped_lines_and_hyphenation_in_markdown() -> None:
    paper = parse_paper(
        "# Ports\n\n## Findings\n\nDredging the approach chan-\nnel cut waiting times by a third [1]. "
        "Larger ships\nfollowed within a year.\n\n## References\n\n1. Port Authority, “Annual Report,” 2022, "
        "https://ports.example/annual-\nreport-2022.pdf.\n",
        markdown=True,
    )
    assert [s.text for sec, _, s in paper.sentences() if sec.kind == "body"] == [
        "Dredging the approach chan-nel cut waiting times by a third.",
        "Larger ships followed within a year.",
    ]
    assert paper.reference(1).urls == ["https://ports.example/annual-report-2022.pdf"]  # type: ignore[union-attr]


def test_title_page_fields_are_read_generically() -> None:
    paper = parse_paper(
        "POLICY BRIEF NO. 3\n\nSoil Carbon Markets\n\nWhat Smallholders Gain\n\nWritten by Ana Lima, Tomás "
        "Ruiz & Mei Chen\n\nPublished by the Andes Soil Observatory\n\n12 March 2024\n\nSummary\n\nCarbon "
        "payments reached few smallholders in the first three years.¹\n\nNotes\n\n1. “Payments Review,” 2023.\n"
    )
    m = paper.metadata
    assert (m.title, m.subtitle, m.author, m.publisher, m.date) == (
        "Soil Carbon Markets",
        "What Smallholders Gain",
        "Ana Lima, Tomás Ruiz & Mei Chen",
        "Andes Soil Observatory",
        "12 March 2024",
    )


# ---------------------------------------------------------------- malformed input


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("markers-without-list.md", "line 7: footnote marker '[1]' but no numbered reference list"),
        ("numbering-gap.txt", "line 14: the reference list jumps from 2 to 4"),
        ("repeated-number.md", "line 12: reference 2 appears twice"),
        ("list-starts-at-two.txt", "line 9: the list under 'Endnotes' starts at 2, not 1"),
        ("not-utf8.txt", "line 1: not UTF-8 text (byte 2)"),
        ("empty.txt", "the document is empty"),
        ("not-a-pdf.pdf", "not a PDF file"),
    ],
)
def test_malformed_papers_are_rejected_naming_file_line_and_problem(name: str, problem: str) -> None:
    path = MALFORMED / name
    with pytest.raises(ParseError) as err:
        parse_file(path)
    assert err.value.message.startswith(f"{path}: ") and problem in err.value.message


@pytest.mark.parametrize(
    ("make", "problem"),
    [
        (encrypted_pdf, "the PDF is encrypted (it needs a password)"),
        (image_only_pdf, "no text in any of its 2 page(s): an image-only (scanned) PDF"),
        (damaged_pdf, "unreadable PDF"),
        (lambda: b"", "the document is empty"),
    ],
    ids=["encrypted", "image-only", "damaged", "empty"],
)
def test_bad_pdfs(tmp_path: Path, make, problem: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "paper.pdf"
    path.write_bytes(make())
    with pytest.raises(ParseError) as err:
        parse_file(path)
    assert err.value.message.startswith(f"{path}: ") and problem in err.value.message


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ParseError, match="cannot read file"):
        parse_file(tmp_path / "missing.pdf")


def test_pdf_notes_at_the_foot_of_each_page(tmp_path: Path) -> None:
    path = tmp_path / "forecasts.pdf"
    path.write_bytes(footnoted_pdf())
    paper = parse_file(path, doc_id="forecasts")
    assert body(paper) == [
        (
            "Seasonal forecasts now reach most district agriculture offices a month before planting.",
            [1],
            1,
        ),
        (
            "Few offices turn them into advice for a particular crop or valley, and farmers say the bulletins "
            "arrive too late to change what they plant.",
            [2],
            1,
        ),
        (
            "Radio call-in programmes reached three times as many farmers as text messages in the pilot "
            "districts.",
            [3],
            2,
        ),
        (
            "Extension officers who co-hosted the programmes were trusted more than the forecasts themselves.",
            [],
            2,
        ),
    ]
    assert refs(paper) == {
        1: ("Regional Climate Centre, “Forecast Distribution Survey,” 2022.", [], None),
        2: ("Ibid., 9.", [], 1),
        3: (  # the URL wrapped after a slash is whole again
            "Tomás Ruiz, “Listening to the Forecast: Radio and Climate Services,” working paper, 2023, "
            "https://climate-services.example/radio.pdf.",
            ["https://climate-services.example/radio.pdf"],
            None,
        ),
    }
    assert [r.detail for r in paper.repairs if r.kind == "page_footnotes"] == [
        "p. 1: 2 note(s) moved to the end",
        "p. 2: 1 note(s) moved to the end",
    ]
    every_marker_resolved(paper)


def test_markdown_footnotes_and_back_matter_after_the_list() -> None:
    paper = parse_paper(
        "# Ports\n\n## Findings\n\nDredging cut waiting times by a third.[^1] Larger ships followed.[^2]\n\n"
        "[^1]: Port Authority, “Annual Report,” 2022.\n[^2]: “Fleet Survey,” 2023.\n\n## About the Authors\n\n"
        "Jane Roe is a fellow of the port institute.\n",
        markdown=True,
    )
    assert [(r.number, r.text) for r in paper.references] == [
        (1, "Port Authority, “Annual Report,” 2022."),
        (2, "“Fleet Survey,” 2023."),
    ]
    assert sections(paper)[-2:] == [("Notes", "references"), ("About the Authors", "back")]
    every_marker_resolved(paper)


def test_a_numbered_run_shorter_than_the_markers_is_not_taken_for_the_list() -> None:
    text = (
        "Title\n\nOverview\n\nPrices rose.¹ Wages did not.² Rents fell.³\n\n1 in 5 households now rent.\n\n"
        "Closing remarks without notes.\n"
    )
    with pytest.raises(ParseError, match=r"line 5: marker 2 but the numbered list found at line 7 ends at 1"):
        parse_paper(text)


def test_pdf_limits_are_checked_before_the_pdf_is_read() -> None:
    limits = PaperLimits()
    for make, words in [
        (bomb_pdf, "decompression bomb"),
        (lambda: many_pages_pdf(5000), "5,000 pages; the limit is 500"),
    ]:
        with pytest.raises(TooLarge) as err:
            parse_bytes(make(), ".pdf", "x", limits=limits)
        assert words in err.value.message
    # Under pypdf's limit for one stream, over ours for the whole file.
    small_cap = PaperLimits(max_stream_bytes=2_000_000)
    with pytest.raises(TooLarge, match="expand past 2,000,000 bytes in all"):
        parse_bytes(bomb_pdf(5_000_000), ".pdf", "x", limits=small_cap)
    with pytest.raises(TooLarge, match="the limit is 3 "):
        parse_bytes(many_pages_pdf(4), ".pdf", "x", limits=PaperLimits(max_pages=3))
    with pytest.raises(TooLarge, match="runs past 1,000 characters by page 2"):
        parse_bytes(grid_resilience_pdf(), ".pdf", "x", limits=PaperLimits(max_chars=1000))
    paper = parse_bytes(grid_resilience_pdf(), ".pdf", "grid", limits=limits)  # within them: read as ever
    assert paper.metadata.title == "Grid Resilience After Storms" and len(paper.references) == 8
    with pytest.raises(ParseError, match="encrypted"):  # the other checks say what they said
        parse_bytes(encrypted_pdf(), ".pdf", "x", limits=limits)
    with pytest.raises(TooLarge, match=r"the limit is 1,000 \(QA_PAPERS__MAX_CHARS\)"):
        parse_bytes(b"word " * 300, ".txt", "x", limits=PaperLimits(max_chars=1000))
