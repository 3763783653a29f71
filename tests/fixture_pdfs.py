"""PDF fixture papers, generated with reportlab: a policy brief with real superscript markers, a running
header, page numbers and a Notes list; and the malformed PDFs (encrypted, image-only, damaged, empty)."""

from __future__ import annotations

import io
from pathlib import Path

from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

HEADER = "Caribbean Energy Resilience Network | Policy Brief No. 7"

TITLE_PAGE = [
    ("title", "Grid Resilience After Storms"),
    ("subtitle", "Lessons from Caribbean Utilities"),
    ("body", "Marisol Vega and Daniel Ochieng"),
    ("body", "Caribbean Energy Resilience Network"),
    ("body", "September 2023"),
]

# (heading, [paragraphs]); <super>n</super> is a real superscript in the PDF.
BODY = [
    (
        "Summary",
        [
            "When a hurricane crosses a small island, the electricity grid usually fails first and recovers "
            "last. After the 2017 season, some customers on the worst-hit islands waited more than four months "
            "for power to return.<super>1</super> This brief compares how three utilities rebuilt and asks "
            "which choices shortened the next outage.",
        ],
    ),
    (
        "What Failed in 2017",
        [
            "Most damage was to distribution lines rather than to power stations. Wooden poles snapped in "
            "winds above 200 kilometres per hour, and crews had to clear roads before they could replace "
            "them.<super>2</super> Spare transformers ran out within weeks because utilities held stocks "
            "sized for ordinary storms.<super>3</super>",
            "Mutual aid crews from neighbouring utilities arrived quickly, but their equipment did not "
            "always fit local connectors.<super>4</super> Utilities that had agreed common specifications "
            "in advance restored customers about twice as fast.<super>2,4</super>",
        ],
    ),
    (
        "Underground Lines and Microgrids",
        [
            "Burying feeders near hospitals and water plants costs several times more per kilometre than "
            "overhead lines, but buried feeders on two islands came through the 2022 season "
            "intact.<super>5</super> Solar microgrids with batteries kept clinics open for days after the "
            "main grid failed. They are cheapest where diesel is expensive and roads are easily "
            "blocked.<super>5-6</super> The same reasoning applies to water pumping stations, which need "
            "only a few hours of stored energy each day to keep pressure in the network, and to "
            "telecommunications masts, whose failure slows every other part of the recovery because crews "
            "and dispatchers can no longer reach each other. Several utilities now rank feeders by the "
            "services they supply before deciding which to bury, and publish the ranking so that "
            "municipalities can plan shelters near protected lines.",
        ],
    ),
    (
        "Paying for Resilience",
        [
            "Regulators rarely allow utilities to recover the cost of hardening the grid through tariffs "
            "before a disaster, only the cost of repairs after it.<super>7</super> Parametric insurance, which "
            "pays out when wind speed passes a threshold, can fund the first weeks of repair without waiting "
            "for loss assessments.<super>8</super>",
        ],
    ),
]

NOTES = [
    "1. Caribbean Electric Utility Services Corporation, “Post-Hurricane Restoration Review 2017,” "
    "Castries, 2018, https://reports.carilec.example/restoration-2017.pdf.",
    "2. Marisol Vega, “Pole Failures in Category 5 Winds,” Energy Systems Review 14, no. 3 (2019): "
    "211–29, https://journals.energysystems.example/esr/14/3/vega.",
    "3. “Transformer Stockpiles and Storm Recovery,” technical note, March 2019.",
    "4. Daniel Ochieng, “Mutual Aid Without Common Standards,” working paper, June 2020, "
    "https://cern.example/wp/mutual-aid.pdf; also at https://mirror.cern.example/wp/mutual-aid.pdf.",
    "5. National Renewable Energy Laboratory, “Microgrids for Critical Facilities in Island Grids,” "
    "Golden, 2021, https://docs.renewables.example/microgrids-islands-2021.pdf.",
    "6. Ibid., 17–19.",
    "7. Eastern Caribbean Energy Regulatory Authority, “Tariff Principles for Resilience Investment,” "
    "consultation paper, February 2022.",
    "8. Caribbean Catastrophe Risk Insurance Facility, “Parametric Cover for Utilities,” product note, "
    "2023, https://www.ccrif.example/utilities.",
]


def grid_resilience_pdf() -> bytes:
    """The brief as a 3-page A4 PDF: title page, body with superscript markers, Notes at the end."""
    ss = getSampleStyleSheet()
    styles = {
        "title": ss["Title"],
        "subtitle": ParagraphStyle("subtitle", parent=ss["Title"], fontSize=14, leading=18),
        "body": ss["BodyText"],
        "heading": ss["Heading2"],
    }

    def furniture(canvas, doc) -> None:  # type: ignore[no-untyped-def]
        canvas.saveState()
        canvas.setFont("Helvetica", 8)
        canvas.drawString(72, A4[1] - 40, HEADER)
        canvas.drawCentredString(A4[0] / 2, 30, str(doc.page))
        canvas.restoreState()

    story: list[object] = []
    for style, text in TITLE_PAGE:
        story.append(Paragraph(text, styles[style]))
        story.append(Spacer(1, 12))
    story.append(PageBreak())
    for heading, paragraphs in BODY:
        story.append(Paragraph(heading, styles["heading"]))
        story += [Paragraph(p, styles["body"]) for p in paragraphs]
    story.append(Paragraph("Notes", styles["heading"]))
    story += [Paragraph(n, styles["body"]) for n in NOTES]
    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=A4,
        title="Grid Resilience After Storms",
        author="Marisol Vega and Daniel Ochieng",
        invariant=1,
        bottomMargin=460,  # short pages: the brief runs over four, one paragraph across a page break
    )
    doc.build(story, onFirstPage=furniture, onLaterPages=furniture)
    return buf.getvalue()


def encrypted_pdf() -> bytes:
    """A copy of the brief that needs a password to open."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    writer.append(PdfReader(io.BytesIO(grid_resilience_pdf())))
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_only_pdf() -> bytes:
    """A 'scan': two pages with drawings and no text layer."""
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1)
    for _ in range(2):
        c.setFillGray(0.3)
        for y in range(100, 700, 14):
            c.rect(72, y, 400, 8, fill=1, stroke=0)
        c.showPage()
    c.save()
    return buf.getvalue()


def damaged_pdf() -> bytes:
    """The first 400 bytes of a real PDF."""
    return grid_resilience_pdf()[:400]


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


FOOTNOTED = {  # page -> (body paragraphs with markers, the notes printed at its foot)
    1: (
        [
            "Seasonal forecasts now reach most district agriculture offices a month before planting."
            "<super>1</super> Few offices turn them into advice for a particular crop or valley, and farmers "
            "say the bulletins arrive too late to change what they plant.<super>2</super>",
        ],
        ["1 Regional Climate Centre, “Forecast Distribution Survey,” 2022.", "2 Ibid., 9."],
    ),
    2: (
        [
            "Radio call-in programmes reached three times as many farmers as text messages in the pilot "
            "districts.<super>3</super> Extension officers who co-hosted the programmes were trusted more "
            "than the forecasts themselves.",
        ],
        [
            "3 Tomás Ruiz, “Listening to the Forecast: Radio and Climate Services,” working paper, 2023, "
            "https://climate-services.example/radio.pdf."
        ],
    ),
}


def footnoted_pdf() -> bytes:
    """A two-page note with its footnotes at the foot of each page (8 pt under 10 pt body text)."""
    from reportlab.pdfgen.canvas import Canvas

    ss = getSampleStyleSheet()
    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1)
    width, height = A4
    for page, (paragraphs, notes) in FOOTNOTED.items():
        y = height - 90
        if page == 1:
            for text, style in (("Forecasts Farmers Can Use", "Title"), ("Summary", "Heading2")):
                para = Paragraph(text, ss[style])
                _, h = para.wrap(width - 144, 200)
                para.drawOn(c, 72, y - h)
                y -= h + 12
        for text in paragraphs:
            para = Paragraph(text, ss["BodyText"])
            _, h = para.wrap(width - 144, 400)
            para.drawOn(c, 72, y - h)
            y -= h + 10
        c.setFont("Helvetica", 8)
        y = 90
        for note in notes:
            cut = note.find("/radio.pdf")  # a long URL wraps after a slash
            for piece in (note[: cut + 1], note[cut + 1 :]) if cut > 0 else (note,):
                c.drawString(72, y, piece)
                y -= 10
        c.setFont("Helvetica", 9)
        c.drawCentredString(width / 2, 40, str(page))
        c.showPage()
    c.save()
    return buf.getvalue()


def _raw_pdf(content: bytes, extra: bytes = b"") -> bytes:
    """A one-page PDF written by hand around one content stream (`extra`: the stream's dictionary entries)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << >> >>",
        b"<< /Length %d %s>>\nstream\n" % (len(content), extra) + content + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def bomb_pdf(expands_to: int = 400_000_000) -> bytes:
    """A decompression bomb: a page whose content stream is a few hundred kilobytes of zlib that expand to
    `expands_to` bytes of blanks."""
    import zlib

    z = zlib.compressobj(9)
    block = b" " * 1_000_000
    data = b"".join(z.compress(block) for _ in range(expands_to // len(block))) + z.flush()
    return _raw_pdf(data, b"/Filter /FlateDecode ")


def many_pages_pdf(pages: int = 5000) -> bytes:
    """A PDF of `pages` pages, one short line of text on each."""
    from reportlab.pdfgen.canvas import Canvas

    buf = io.BytesIO()
    c = Canvas(buf, pagesize=A4, invariant=1)
    for n in range(1, pages + 1):
        c.drawString(72, 720, f"Page {n} of a very long report.")
        c.showPage()
    c.save()
    return buf.getvalue()


def zip_named_pdf() -> bytes:
    """A zip archive (what a .docx is), to be sent under a .pdf name."""
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("word/document.xml", "<w:document>Grid resilience</w:document>")
    return buf.getvalue()
