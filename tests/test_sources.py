"""Primary sources against a real local HTTP server (never the footnotes' real URLs): fetch outcomes, safety
policy, extraction, ingestion as footnote-linked documents, and the quotation checks."""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from conftest import make_pdf, make_settings
from qa_service.config import SourcesSettings
from qa_service.embed import Embedder
from qa_service.engine import Engine, run_ingest
from qa_service.errors import SourceError
from qa_service.models import Message
from qa_service.sources.fetch import add_file, check_address, fetch_sources, read_pages, read_provenance
from qa_service.sources.manifest import entries_for, manifest_path, write_manifest
from qa_service.sources.verify import check_quote

PAGE1 = (
    "Security Council, 9733rd meeting, 18 September 2024. The representative of Pakistan said: we have hard "
    "evidence that at least some of the TTP's cross-border infiltration and attacks are being facilitated by "
    "elements of the Afghan interim Government."
)
PAGE2 = "He further stated that the TTP also obtains sponsorship from Pakistan's main adversary, and other matters."
HTML = (
    "<!doctype html><html><head><title>China and Pakistan</title></head><body><nav>Menu Home About</nav>"
    "<article><h1>China and Pakistan See Eye to Eye on the Taliban</h1>"
    "<p>Beijing could rely on the cooperation of its ally, Pakistan, to protect its interests in Afghanistan. "
    "Islamabad has long hosted Chinese engineers working on the economic corridor.</p>"
    "<p>Analysts expect the partnership to continue despite repeated attacks on Chinese citizens.</p>"
    "</article><footer>Copyright</footer></body></html>"
)


class Handler(BaseHTTPRequestHandler):
    calls: ClassVar[dict[str, int]] = {}
    pdf = b""

    def log_message(self, *args: object) -> None:
        pass

    def send(self, status: int, body: bytes, ctype: str, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        n = Handler.calls[self.path] = Handler.calls.get(self.path, 0) + 1
        if self.path == "/report.pdf":
            self.send(200, Handler.pdf, "application/pdf")
        elif self.path == "/wrong-type":  # a PDF whose server says it is HTML
            self.send(200, Handler.pdf, "text/html")
        elif self.path == "/page.html":
            self.send(200, HTML.encode(), "text/html; charset=utf-8")
        elif self.path == "/redirect":
            self.send(302, b"", "text/plain", {"Location": "/page.html"})
        elif self.path == "/to-private":
            self.send(302, b"", "text/plain", {"Location": "http://10.255.255.1/secret"})
        elif self.path == "/flaky":
            self.send(500, b"oops", "text/plain") if n == 1 else self.send(200, HTML.encode(), "text/html")
        elif self.path == "/slow":
            time.sleep(2)
            self.send(200, HTML.encode(), "text/html")
        elif self.path == "/big":
            self.send(200, b"%PDF-" + b"0" * 300_000, "application/pdf")
        elif self.path == "/image":
            self.send(200, b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, "image/png")
        else:
            self.send(404, b"not here", "text/plain")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    Handler.pdf = make_pdf([PAGE1, PAGE2])
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.handle_error = lambda *a: None  # type: ignore[method-assign]  # clients that time out hang up
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def cfg(**kw: object) -> SourcesSettings:
    return SourcesSettings(
        timeout_s=0.5, retries=1, backoff_s=0.05, max_bytes=200_000, allowed_hosts=["127.0.0.1"], **kw
    )  # type: ignore[arg-type]


DOC = "tookhy-2025"


def point_at(corpus: Path, paper, urls: dict[int, str | list[str]]) -> None:  # type: ignore[no-untyped-def]
    write_manifest(corpus, paper)
    data = json.loads(manifest_path(corpus, paper.doc_id).read_text())
    for e in data["sources"]:
        if e["number"] in urls:
            u = urls[e["number"]]
            e["manual"] = {"urls": u if isinstance(u, list) else [u], "fetchable": True}
    manifest_path(corpus, paper.doc_id).write_text(json.dumps(data))


def test_manifest_kinds_books_and_manual_fields_survive(corpus_copy: Path, paper) -> None:  # type: ignore[no-untyped-def]
    entries = {e.number: e for e in write_manifest(corpus_copy, paper)}
    assert len(entries) == 46
    assert entries[14].kind == "book" and not entries[14].fetchable and "book" in entries[14].reason
    assert entries[15].kind == "un_record" and entries[15].fetchable
    assert entries[16].kind == "ministry_statement" and entries[17].kind == "think_tank_brief"
    assert entries[28].kind == "news_article" and entries[33].kind == "government_report"
    assert entries[22].same_as == 21 and not entries[22].fetchable
    point_at(corpus_copy, paper, {15: "http://example.test/x.pdf"})
    write_manifest(corpus_copy, paper)  # regenerate: the hand-filled field stays and wins
    assert entries_for(corpus_copy, paper)[15].urls == ["http://example.test/x.pdf"]


def test_fetch_outcomes_each_recorded_none_stopping_the_others(corpus_copy: Path, paper, server: str) -> None:  # type: ignore[no-untyped-def]
    urls = {
        15: "/report.pdf",
        17: "/redirect",
        18: "/flaky",
        19: "/missing",
        20: "/slow",
        23: "/big",
        24: "/image",
        25: "/wrong-type",
        26: "/to-private",
    }
    point_at(corpus_copy, paper, {n: server + p for n, p in urls.items()})
    entries = entries_for(corpus_copy, paper)
    results = {p.number: p for p in fetch_sources(corpus_copy, DOC, [entries[n] for n in [14, *urls]], cfg())}
    assert results[15].status == "ok" and results[15].kind == "pdf" and results[15].pages == 2
    assert read_pages(corpus_copy, DOC, 15)[1].startswith("He further stated")  # type: ignore[index]
    assert results[17].status == "ok" and results[17].final_url == server + "/page.html"
    assert (
        results[17].extractor.startswith("trafilatura")
        and "Menu Home" not in read_pages(corpus_copy, DOC, 17)[0]
    )  # type: ignore[index]
    assert results[18].status == "ok" and Handler.calls["/flaky"] == 2  # a 500, then success on retry
    assert results[19].status == "failed" and "404" in results[19].reason
    assert results[20].status == "failed" and "tries" in results[20].reason  # timed out twice
    assert results[23].status == "failed" and "too large" in results[23].reason
    assert results[24].status == "failed" and "neither PDF nor HTML" in results[24].reason
    assert results[25].status == "ok" and results[25].kind == "pdf"  # sniffed, whatever the header said
    assert (
        results[26].status == "failed" and "non-public" in results[26].reason
    )  # redirect to a private address
    assert results[14].status == "skipped" and "book" in results[14].reason
    prov = read_provenance(corpus_copy, DOC, 15)
    assert prov and len(prov.sha256) == 64 and prov.extractor.startswith("pypdf") and prov.fetched_at
    again = fetch_sources(
        corpus_copy, DOC, [entries[15]], cfg()
    )  # resumable: already fetched, not fetched again
    assert again[0].status == "ok" and Handler.calls["/report.pdf"] == 1


def test_real_policy_refuses_loopback_and_private(server: str) -> None:
    strict = SourcesSettings()
    for url in (server + "/page.html", "http://10.1.2.3/x", "http://[::1]/x", "ftp://example.org/x"):
        with pytest.raises(SourceError):
            check_address(url, strict)


def test_add_file_by_hand(corpus_copy: Path, tmp_path: Path) -> None:
    f = tmp_path / "page.html"
    f.write_text(HTML)
    prov = add_file(corpus_copy, DOC, 17, f)
    assert prov.origin == "added" and prov.kind == "html"
    bad = tmp_path / "x.bin"
    bad.write_bytes(b"\x00\x01")
    with pytest.raises(SourceError, match="neither PDF nor HTML"):
        add_file(corpus_copy, DOC, 17, bad)


def test_quote_checks() -> None:
    pages = ["Intro.", "They said the TTP \u201calso obtains sponsorship\u201d from its  main\nadversary."]
    v = check_quote("the TTP also obtains sponsorship", pages)
    assert (
        v["status"] == "verbatim" and v["page"] == 2 and pages[1][v["start"] : v["end"]].startswith("the TTP")
    )
    a = check_quote("obtains sponsorship from its major adversary", pages)
    assert a["status"] == "approximate" and a["page"] == 2
    assert check_quote("a sentence that is nowhere at all", pages)["status"] == "not_found"


def test_sources_ingested_linked_to_their_footnote(
    tmp_path: Path,
    corpus_copy: Path,
    paper,
    server: str,  # type: ignore[no-untyped-def]
    embedder: Embedder,
    engine: Engine,
) -> None:
    point_at(corpus_copy, paper, {15: server + "/report.pdf", 17: server + "/page.html"})
    entries = entries_for(corpus_copy, paper)
    fetch_sources(corpus_copy, DOC, [entries[15], entries[17]], cfg())
    s = make_settings(tmp_path / "data", corpus_copy)
    shutil.copytree(engine.settings.data_dir, s.data_dir)
    report = run_ingest(s, embedder=embedder)
    assert report.documents == 3
    e = Engine(s, embedder=embedder)
    e.load()
    src = [c for c in e.index.chunks if c.source == "footnote:15"]
    assert src and {c.page for c in src} == {1, 2} and all(c.footnote == 15 for c in src)
    cite = e.cite(15).source
    assert cite and cite["status"] == "fetched" and cite["pages"] == 2
    by_quote = {q["quote"].split()[2]: q for q in cite["quotes"]}
    assert (
        by_quote["that"]["status"] == "verbatim" and by_quote["that"]["page"] == 1
    )  # "hard evidence that..."
    assert by_quote["also"]["status"] == "approximate"  # "major adversary" in the paper, "main" in the source
    assert by_quote["also"]["page"] == 2 and "main adversary" in by_quote["also"]["found"]
    assert cite["passages"] and cite["passages"][0]["page"] in (1, 2)
    a = e.ask(
        [
            Message(
                role="user",
                content="What did Pakistan's representative say about evidence of TTP infiltration?",
            )
        ]
    )
    assert ("tookhy-2025", 15) in [(f.document, f.number) for f in a.footnotes] and any(
        h.chunk.source == "footnote:15" for h in a.passages
    )
    assert e.cite(17).source["status"] == "fetched"  # type: ignore[index]
    assert e.cite(16).source["status"] == "not_fetched"  # type: ignore[index]


def test_a_note_with_several_urls_tries_them_in_order(corpus_copy: Path, paper, server: str) -> None:  # type: ignore[no-untyped-def]
    point_at(
        corpus_copy,
        paper,
        {
            15: [server + "/missing", server + "/image", server + "/report.pdf", server + "/page.html"],
            16: [server + "/missing", server + "/to-private"],
        },
    )
    entries = entries_for(corpus_copy, paper)
    page_calls = Handler.calls.get("/page.html", 0)
    results = {p.number: p for p in fetch_sources(corpus_copy, DOC, [entries[15], entries[16]], cfg())}
    ok = results[15]
    assert ok.status == "ok" and ok.url == server + "/report.pdf" and ok.kind == "pdf"
    assert [(a.url, a.status, a.http_status) for a in ok.attempts] == [
        (server + "/missing", "failed", 404),
        (server + "/image", "failed", 200),
        (server + "/report.pdf", "ok", 200),
    ]  # the fourth URL is never tried
    assert "neither PDF nor HTML" in ok.attempts[1].reason
    assert Handler.calls.get("/page.html", 0) == page_calls
    failed = results[16]
    assert failed.status == "failed" and failed.reason.startswith("all 2 URLs failed; last: refused")
    assert failed.attempts[0].reason == "HTTP 404"
    assert read_provenance(corpus_copy, DOC, 16).attempts == failed.attempts  # type: ignore[union-attr]


def test_short_form_note_attaches_to_the_note_it_repeats(
    tmp_path: Path,
    corpus_copy: Path,
    paper,
    engine: Engine,  # type: ignore[no-untyped-def]
) -> None:
    from typer.testing import CliRunner

    from qa_service.cli import app
    from qa_service.sources.verify import source_support

    f = tmp_path / "lavrov.html"
    f.write_text(HTML)
    env = {"QA_CORPUS_DIR": str(corpus_copy), "QA_DATA_DIR": str(engine.settings.data_dir)}
    r = CliRunner().invoke(app, ["sources", "add", "22", str(f)], env=env)
    assert r.exit_code == 0, r.output
    assert "footnote 22 is a short form of footnote 21: attached HTML to footnote 21" in r.output
    assert read_provenance(corpus_copy, DOC, 21) and read_provenance(corpus_copy, DOC, 22) is None
    s = make_settings(engine.settings.data_dir, corpus_copy)
    for n in (21, 22, 41, 44):  # the full note and its three short forms all read the one source
        support = source_support(s, engine, engine.reference(n), [])
        assert (support["status"], support["source_footnote"], support["document"]) == ("fetched", 21, DOC)
    r = CliRunner().invoke(app, ["sources", "add", "99", str(f)], env=env)
    assert r.exit_code == 2 and "no footnote 99 in tookhy-2025" in r.output


def test_the_one_paper_layout_is_read_as_before_and_migrated(
    corpus_copy: Path, paper, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    from qa_service.sources.layout import migrate, source_dir

    f = tmp_path / "page.html"
    f.write_text(HTML)
    add_file(corpus_copy, DOC, 17, f)
    root = corpus_copy / "sources"
    (root / DOC / "17").rename(root / "17")  # what an earlier version wrote
    write_manifest(corpus_copy, paper)
    (root / DOC / "manifest.json").rename(root / "manifest.json")
    shutil.rmtree(root / DOC)
    assert read_provenance(corpus_copy, DOC, 17).kind == "html"  # type: ignore[union-attr]
    assert read_pages(corpus_copy, "another-paper", 17) is None  # the old layout belongs to its paper only
    assert entries_for(corpus_copy, paper)[22].same_as == 21
    assert migrate(corpus_copy) == [
        f"sources/17/ -> sources/{DOC}/17/",
        f"sources/manifest.json -> sources/{DOC}/manifest.json",
    ]
    assert source_dir(corpus_copy, DOC, 17).is_dir() and not (root / "17").exists()
    assert read_provenance(corpus_copy, DOC, 17).kind == "html"  # type: ignore[union-attr]
    assert migrate(corpus_copy) == []


def test_two_documents_same_footnote_number_each_its_own_source(
    tmp_path: Path, corpus_copy: Path, embedder: Embedder
) -> None:
    """Footnote 1 of the Mekong brief and footnote 1 of the Sahel report are different sources, stored,
    indexed and cited apart."""
    from qa_service.corpus import add_document

    papers = Path(__file__).parent / "fixtures" / "papers"
    add_document(corpus_copy, papers / "mekong-drought-brief.md", "mekong-2024")
    add_document(corpus_copy, papers / "sahel-cold-chain-report.txt", "sahel-2023")
    pages = {
        "mekong-2024": "<html><body><article><p>The basin report counts sixty-five million people living "
        "within fifteen kilometres of the river and its tributaries.</p></article></body></html>",
        "sahel-2023": "<html><body><article><p>The assessment found that two in five health posts had no "
        "functioning refrigerator on the day of the visit.</p></article></body></html>",
    }
    for doc, html in pages.items():
        f = tmp_path / f"{doc}.html"
        f.write_text(html)
        add_file(corpus_copy, doc, 1, f)
    s = make_settings(tmp_path / "data", corpus_copy)
    report = run_ingest(s, embedder=embedder)
    assert report.documents == 5
    e = Engine(s, embedder=embedder)
    e.load()
    sources = {c.doc_id: (c.source, c.notes_doc) for c in e.index.chunks if c.source != "paper"}
    assert sources == {
        "source-mekong-2024-1": ("footnote:1", "mekong-2024"),
        "source-sahel-2023-1": ("footnote:1", "sahel-2023"),
    }
    info = {d.id: (d.kind, d.cites_document) for d in e.documents()}
    assert info["source-sahel-2023-1"] == ("source", "sahel-2023")
    for doc, word in (("mekong-2024", "sixty-five million"), ("sahel-2023", "two in five")):
        src = e.cite(1, doc).source
        assert src and src["status"] == "fetched" and src["document"] == doc
        assert src["passages"] and all(word in p["text"] for p in src["passages"])
    assert e.cite(1).source["status"] == "not_fetched"  # type: ignore[index]  # the primary paper's own note 1
