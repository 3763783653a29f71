"""The web page in a real browser: Playwright drives Debian's chromium against the real app, served by uvicorn on
loopback, over a real index of the paper plus a second paper full of markup and a fetched source for footnote
15. Every step is asserted on what the page shows; screenshots are kept in tests/artifacts/."""

from __future__ import annotations

import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
import uvicorn

from api.app import create_app
from conftest import CORPUS, free_port, make_pdf, make_settings, until_ready
from fixture_pdfs import grid_resilience_pdf
from qa_service.embed import Embedder
from qa_service.engine import Engine, run_ingest
from qa_service.sources.fetch import add_file

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # a dev dependency: missing only outside `scripts/dev.sh test`
    if os.environ.get("CI"):
        raise
    pytest.skip("playwright is not installed: pip install -e '.[dev]'", allow_module_level=True)

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).parent / "artifacts"
# Playwright starts the browser headless; these keep it from reaching anything but the app under test.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
]
# Waiting on content, not on time: these only bound the wait for the page, and for an answer on a loaded 2-core
# machine.
expect.set_options(timeout=20_000)
ANSWER_WAIT_MS = 120_000

PRIMARY_TITLE = "International Cooperation on Afghanistan"
MARKUP_TITLE = "Harbour Notes"
# A second paper whose text, section title and references hold markup: the page must show it as text.
MARKUP_PAPER = """Harbour Notes

Tide Tables and <b>Bold</b> Claims

R. Example

March 2024

Table of Contents

1	Introduction
2	Harbour <script>window.__xss = 2</script> Works

Introduction

The harbour commission rebuilt the <img src=x onerror="window.__xss=1"> breakwater in 1998 after two storms.¹ Engineers said the <b>tide gauge</b> readings rose by 40 centimetres.² The repairs cost less than planned.

Harbour <script>window.__xss = 2</script> Works

The lighthouse keeper recorded fog on 112 days of the year, a record for the coast.³ Ferries were cancelled on most of those days.

1 Commission report, "Breakwater <i>repairs</i>", 1999, https://example.org/report.

2 Gauge log & <em>notes</em>, 1998.

3 Keeper's diary, 1997.
"""
# The source of footnote 15, as a two-page PDF: one quotation verbatim (p. 1), one approximately (p. 2).
SOURCE_PAGES = [
    "Security Council, 9733rd meeting, 18 September 2024. The representative of Pakistan said: we have hard "
    "evidence that at least some of the TTP's cross-border infiltration and attacks are being facilitated by "
    "elements of the Afghan interim Government.",
    "He further stated that the TTP also obtains sponsorship from Pakistan's main adversary, and other matters.",
]
UN_RECORD = "https://digitallibrary.un.org/record/4063066?ln=en&v=pdf"
REVIVED = (
    "Although the contact group was revived in 2017 and held annual meetings afterwards, it failed to produce "
    "any action plan in response to the situation in Afghanistan."
)


@pytest.fixture(scope="module")
def web_engine(tmp_path_factory: pytest.TempPathFactory, engine: Engine, embedder: Embedder) -> Engine:
    """The paper, the markup paper and the fetched source of footnote 15; only the new texts are embedded."""
    tmp = tmp_path_factory.mktemp("web")
    corpus = tmp / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("sources"))
    (corpus / "papers" / "harbour-notes.txt").write_text(MARKUP_PAPER, encoding="utf-8")
    with (corpus / "manifest.toml").open("a", encoding="utf-8") as f:
        f.write('\n[[documents]]\nid = "harbour-notes"\npath = "papers/harbour-notes.txt"\nkind = "paper"\n')
    pdf = tmp / "S_PV_9733.pdf"
    pdf.write_bytes(make_pdf(SOURCE_PAGES))
    add_file(corpus, "tookhy-2025", 15, pdf, url=UN_RECORD)
    settings = make_settings(tmp / "data", corpus)
    shutil.copytree(engine.settings.data_dir, settings.data_dir)
    run_ingest(settings, embedder=embedder)
    e = Engine(settings, embedder=embedder)
    e.load()
    return e


@pytest.fixture(scope="module")
def base_url(web_engine: Engine) -> Iterator[str]:
    # The socket listens before the server thread starts, so the first request simply waits in its backlog.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    port = sock.getsockname()[1]
    app = create_app(web_engine.settings, engine=web_engine)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (scripts/dev.sh test installs it)")
        pytest.skip("chromium is not installed: apt-get install chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=FLAGS)
        yield b
        b.close()


class Page:
    """A fresh browser context (its own localStorage) that records every request and every page error."""

    def __init__(self, browser: Any, base_url: str, width: int = 1280, height: int = 900) -> None:
        self.base = base_url
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def check(self) -> None:
        outside = [u for u in self.requests if not (u.startswith(self.base + "/") or u.startswith("data:"))]
        assert outside == [], f"the page made requests elsewhere: {outside}"
        assert self.errors == [], f"script errors: {self.errors}"
        self.context.close()


@pytest.fixture()
def web(browser: Any, base_url: str) -> Iterator[Page]:
    w = Page(browser, base_url)
    yield w
    w.check()


def ask(page: Any, question: str) -> Any:
    """Type the question and press Enter; return the new turn once it is no longer pending."""
    turns = page.locator("#thread .turn")
    before = turns.count()
    page.locator("#question").fill(question)
    page.locator("#question").press("Enter")
    turn = turns.nth(before)
    expect(turn.locator(".q-text")).to_have_text(question)
    expect(turn).not_to_have_class("turn pending", timeout=ANSWER_WAIT_MS)
    return turn


def marker_after(turn: Any, text: str) -> Any:
    """The marker button that follows the answer sentence holding `text`."""
    return turn.locator(".sent", has_text=text).locator("xpath=following-sibling::button[1]")


def sentences_with_marker(turn: Any, n: str) -> list[str]:
    """The answer's sentences followed by marker n: those the passage panel must mark."""
    return list(
        turn.locator(".answer").evaluate(
            "(p, n) => [...p.querySelectorAll('.sent')]"
            ".filter((s) => s.nextElementSibling && s.nextElementSibling.textContent === n)"
            ".map((s) => s.textContent)",
            n,
        )
    )


def shot(page: Any, name: str, full_page: bool = False) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=full_page)
    assert path.stat().st_size > 10_000


# ---------------------------------------------------------------------------------------------- the tests


def test_passage_context_endpoint(base_url: str) -> None:
    """GET /passages/{id}/context: the passage's paragraph among its neighbours, in reading order."""
    hit = httpx.post(f"{base_url}/search", json={"query": "SCO contact group 2005", "k": 1}).json()[0]
    passage = httpx.get(f"{base_url}/passages/{hit['id']}").json()
    ctx = httpx.get(f"{base_url}/passages/{hit['id']}/context", params={"before": 1, "after": 1}).json()
    assert ctx["passage_id"] == hit["id"] and ctx["document"] == "tookhy-2025"
    current = [p for p in ctx["paragraphs"] if p["current"]]
    assert len(current) == 1
    assert {s["id"] for s in passage["sentences"]} <= {s["id"] for s in current[0]["sentences"]}
    assert len(ctx["paragraphs"]) == 3 and ctx["paragraphs"][1]["current"]
    assert httpx.get(f"{base_url}/passages/nope/context").status_code == 404


def test_conversation_streams_follows_up_and_survives_a_reload(web: Page) -> None:
    page = web.page
    page.goto(web.base + "/")
    expect(page.locator("#filter")).to_be_visible()  # two papers: the document filter is offered

    with page.expect_response(lambda r: r.url.endswith("/chat")) as first:
        turn1 = ask(page, "When did the SCO create a contact group?")
    assert first.value.request.post_data_json["stream"] is True
    assert first.value.headers["content-type"].startswith("text/event-stream")  # the answer arrived streamed
    expect(turn1.locator(".answer")).to_contain_text(
        "In 2005, the Afghanistan Contact Group was created inside the SCO"
    )

    with page.expect_request(lambda r: r.url.endswith("/chat")) as follow:
        turn2 = ask(page, "Why did it fail?")
    sent = follow.value.post_data_json["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[0]["content"] == "When did the SCO create a contact group?"
    expect(turn2.locator(".answer")).to_contain_text("revived in 2017")
    expect(page.locator("#thread .turn")).to_have_count(2)  # the first answer is still on the page

    # The marker after the sentence is a button labelled with its number; it opens the passage with the
    # sentences the answer takes from it marked.
    marker = marker_after(turn2, "revived in 2017")
    n = marker.inner_text()
    expect(marker).to_have_accessible_name(f"passage {n}")
    marker.click()
    expect(page.locator("#panel-title")).to_have_text("Regional Institutional Deficit")
    expect(page.locator("#panel .facts")).to_contain_text(f"Document{PRIMARY_TITLE}")
    marks = page.locator("#panel mark")
    expect(marks.filter(has_text="revived in 2017")).to_have_text(REVIVED)
    assert sorted(marks.all_text_contents()) == sorted(sentences_with_marker(turn2, n))
    expect(page.locator("#panel .passage")).to_contain_text("In 2005, the Afghanistan Contact Group")

    # "Open in paper": the surrounding paragraphs, the sentence marked and scrolled into view.
    page.get_by_role("button", name="Open in paper").click()
    expect(page.locator("#panel-title")).to_have_text("In the paper")
    expect(page.locator("#panel .ctx-para.current")).to_contain_text("For instance, the SCO was once thought")
    expect(
        page.locator("#panel .ctx-para").filter(has_text="These regional forums and platforms")
    ).to_have_count(1)
    expect(page.locator("#panel .ctx-section")).to_contain_text(
        ["Engagement Amid Rivalry", "Regional Institutional Deficit"]
    )
    expect(marks.filter(has_text="revived in 2017")).to_have_text(REVIVED)
    expect(marks.first).to_be_in_viewport()
    shot(page, "web-desktop-conversation.png")
    page.get_by_role("button", name="← Back").click()
    expect(page.locator("#panel-title")).to_have_text("Regional Institutional Deficit")

    # A reload keeps the conversation (localStorage) and its answers' markers still work.
    page.reload()
    expect(page.locator("#thread .turn")).to_have_count(2)
    expect(page.locator("#thread .turn").nth(0).locator(".answer")).to_contain_text("In 2005")
    expect(page.locator("#thread .turn").nth(1).locator(".answer")).to_contain_text("revived in 2017")

    # The link under a follow-up reproduces it on its own: it carries the resolved question.
    link = page.locator("#thread .turn").nth(1).get_by_role("link", name="Link")
    question = parse_qs(urlsplit(link.get_attribute("href") or "").query)["q"][0]
    assert question.startswith("Why did it fail?") and "SCO" in question
    link.click()
    expect(page.locator("#thread .turn")).to_have_count(1)
    expect(page.locator("#thread .turn .q-text")).to_have_text(question)
    expect(page.locator("#thread .turn .answer")).to_contain_text("revived in 2017", timeout=ANSWER_WAIT_MS)
    expect(page).to_have_url(web.base + "/")  # the parameter is dropped: a reload does not ask again

    page.get_by_role("button", name="New conversation").click()
    expect(page.locator("#thread .turn")).to_have_count(0)
    expect(page.locator("#question")).to_be_focused()
    page.reload()
    expect(page.locator("#empty")).to_be_visible()


def test_footnote_chip_opens_the_citation_with_the_source_checks(web: Page) -> None:
    page = web.page
    page.goto(web.base + "/")
    turn = ask(page, "What did Pakistan's representative claim about the TTP at the Security Council?")
    expect(turn.locator(".answer")).to_contain_text("hard evidence that at least some of the TTP")

    chip = turn.locator(".chip").filter(has=page.locator(".chip-n", has_text="15"))
    expect(chip.locator(".chip-t")).to_contain_text("United Nations Security Council Meeting")
    expect(chip.locator(".chip-d")).to_contain_text("International Cooperation")
    chip.hover()  # hovering shows the whole reference
    tip = turn.locator(".chip-wrap").filter(has=page.locator(".chip-n", has_text="15")).locator(".tip")
    expect(tip).to_be_visible()
    expect(tip).to_contain_text(f"September 18, 2024, {UN_RECORD}")
    shot(page, "web-desktop-footnote-hover.png")

    chip.click()
    panel = page.locator("#panel")
    expect(page.locator("#panel-title")).to_have_text("Footnote 15")
    expect(panel.locator(".reference")).to_contain_text("United Nations Security Council Meeting")
    expect(panel.locator(f'.reference a[href="{UN_RECORD}"]')).to_have_text(UN_RECORD)
    carries = panel.locator(".citing li.carries")
    expect(carries).to_contain_text("carries the marker")
    expect(carries).to_contain_text("He added that “the TTP also obtains sponsorship")
    covered = panel.locator(".citing li.covered").filter(has_text="In a September 2024")
    expect(covered).to_contain_text("covered by it")
    expect(covered.locator("mark")).to_contain_text("In a September 2024")  # the sentence this answer uses

    expect(panel.locator(".facts").last).to_contain_text("Statusfetched")
    expect(panel.locator(".facts").last).to_contain_text("Pages2")
    verbatim = panel.locator(".quotes li.verbatim")
    expect(verbatim.locator(".badge")).to_have_text("verbatim")
    expect(verbatim).to_contain_text("p. 1")
    expect(verbatim.locator(".found mark")).to_contain_text(
        "hard evidence that at least some of the TTP's cross-border infiltration"
    )
    expect(verbatim.locator(".found")).to_contain_text("The representative of Pakistan said")  # its context
    approximate = panel.locator(".quotes li.approximate")
    expect(approximate.locator(".badge")).to_have_text("approximate")
    expect(approximate).to_contain_text("p. 2")
    expect(approximate.locator(".found mark")).to_contain_text("main adversary")
    expect(panel.locator(".facts").last).to_contain_text(f"Fetched from{UN_RECORD} (a file added by hand)")
    shot(page, "web-desktop-citation.png")
    verbatim.scroll_into_view_if_needed()
    shot(page, "web-desktop-citation-source.png")

    # A supporting passage of the source opens at its page, in the source document.
    panel.locator(".support").first.get_by_role("button", name="p. 1").first.click()
    expect(page.locator("#panel .facts")).to_contain_text("Page1")
    expect(page.locator("#panel .facts")).to_contain_text(f"Source offootnote 15 of {PRIMARY_TITLE}")
    expect(page.locator("#panel .passage")).to_contain_text("Security Council, 9733rd meeting")
    page.get_by_role("button", name="Open in source").click()
    expect(page.locator("#panel-title")).to_have_text("In the source")
    expect(page.locator("#panel .ctx-para.current")).to_contain_text("9733rd meeting")
    page.get_by_role("button", name="← Back").click()
    page.get_by_role("button", name="← Back").click()
    expect(page.locator("#panel-title")).to_have_text("Footnote 15")


def test_abstention_shows_the_reason_and_the_nearest_passages(web: Page) -> None:
    question = "What is the population of Mars?"
    expected = httpx.post(
        f"{web.base}/chat", json={"messages": [{"role": "user", "content": question}]}, timeout=120
    ).json()
    assert expected["abstained"] and expected["passages"]
    page = web.page
    page.goto(web.base + "/")
    turn = ask(page, question)
    expect(turn.locator(".reason")).to_contain_text(expected["reason"] or expected["answer"])
    expect(turn.locator(".near-title")).to_contain_text("Nearest passages")
    expect(turn.locator(".near-title")).to_contain_text("not an answer")
    expect(turn.locator(".near li")).to_have_count(len(expected["passages"]))
    first = expected["passages"][0]
    expect(turn.locator(".near li").first.locator(".snippet")).to_contain_text(first["text"][:60])
    expect(turn.locator(".chip")).to_have_count(0)
    shot(page, "web-desktop-abstention.png")
    turn.locator(".near li").first.get_by_role("button").click()
    expect(page.locator("#panel .passage")).to_contain_text(first["text"][:60])
    expect(page.locator("#panel .passage mark")).to_have_count(0)  # nothing of it was used as an answer


def test_markup_in_questions_and_documents_is_shown_as_text(web: Page) -> None:
    page = web.page
    page.goto(web.base + "/")
    # Only the markup paper: the filter is sent with the question.
    filters = page.locator("#filter-docs label")
    expect(filters).to_have_count(2)
    filters.filter(has_text=PRIMARY_TITLE).locator("input").uncheck()
    question = 'What did the <b>tide gauge</b> readings show? <img src=x onerror="window.__xss=1">'
    with page.expect_request(lambda r: r.url.endswith("/chat")) as sent:
        turn = ask(page, question)
    assert sent.value.post_data_json["documents"] == ["harbour-notes"]
    expect(turn.locator(".q-meta")).to_contain_text(f"from {MARKUP_TITLE}")
    expect(turn.locator(".answer")).to_contain_text(
        "Engineers said the <b>tide gauge</b> readings rose by 40 centimetres."
    )
    chip = turn.locator(".chip").filter(has=page.locator(".chip-n", has_text="2"))
    expect(chip.locator(".chip-d")).to_have_text(MARKUP_TITLE)
    expect(turn.locator(".tip").filter(has_text="Gauge log")).to_have_text(
        "Gauge log & <em>notes</em>, 1998."
    )

    marker_after(turn, "tide gauge").click()
    expect(page.locator("#panel-title")).to_have_text("Introduction")
    expect(page.locator("#panel .facts")).to_contain_text(f"Document{MARKUP_TITLE}")
    expect(page.locator("#panel .passage")).to_contain_text(
        'the <img src=x onerror="window.__xss=1"> breakwater'
    )
    expect(page.locator("#panel mark").filter(has_text="tide gauge")).to_have_text(
        "Engineers said the <b>tide gauge</b> readings rose by 40 centimetres."
    )
    page.get_by_role("button", name="Open in paper").click()
    expect(page.locator("#panel .ctx-section").filter(has_text="Works")).to_have_text(
        "Harbour <script>window.__xss = 2</script> Works"
    )
    page.get_by_role("button", name="footnote 1", exact=True).first.click()
    expect(page.locator("#panel .reference")).to_have_text(
        'Commission report, "Breakwater <i>repairs</i>", 1999, https://example.org/report.'
    )

    # Nothing of it became an element or ran.
    for tag in ("b", "i", "em", "img", "script"):
        expect(page.locator(f"#thread {tag}, #panel {tag}")).to_have_count(0)
    assert page.evaluate("window.__xss") is None
    page.reload()  # stored and redrawn: still text
    expect(page.locator("#thread .q-text")).to_have_text(question)
    expect(page.locator("#thread img, #thread b")).to_have_count(0)
    expect(filters.filter(has_text=PRIMARY_TITLE).locator("input")).not_to_be_checked()  # the filter is kept
    assert page.evaluate("window.__xss") is None


def test_errors_are_readable_and_keep_the_conversation(web: Page) -> None:
    page = web.page
    page.goto(web.base + "/")
    ask(page, "When did the SCO create a contact group?")

    # A real server error: the server refuses a message over its length limit and says why.
    limit = 1000  # Settings().server.max_question_chars, the default the test app runs with
    long_turn = ask(page, "Why " + "very " * (limit // 5) + "long?")
    expect(long_turn.locator("[role=alert]")).to_contain_text("Server error 422")
    expect(long_turn.locator("[role=alert]")).to_contain_text(f"the limit is {limit}")

    # The network fails: a readable message, and the question can be asked again once it is back.
    page.route("**/chat", lambda route: route.abort("internetdisconnected"))
    offline = ask(page, "Why did it fail?")
    expect(offline.locator("[role=alert]")).to_contain_text("Could not reach the server")
    # A server that answers with a bare 500 page (not JSON).
    page.unroute("**/chat")
    page.route("**/chat", lambda route: route.fulfill(status=500, body="Internal Server Error"))
    broken = ask(page, "Who attends the Moscow Format?")
    expect(broken.locator("[role=alert] p")).to_have_text("Server error 500 (the server failed).")
    page.unroute("**/chat")

    turns = page.locator("#thread .turn")
    expect(turns).to_have_count(4)
    expect(turns.nth(0).locator(".answer")).to_contain_text("In 2005")  # the conversation is intact
    offline.get_by_role("button", name="Try again").click()
    # Asked again, as a follow-up of the first turn.
    expect(offline.locator(".answer")).to_contain_text("revived in 2017", timeout=ANSWER_WAIT_MS)
    page.reload()
    expect(turns).to_have_count(4)
    expect(turns.nth(2).locator(".answer")).to_contain_text("revived in 2017")
    expect(turns.nth(3).locator("[role=alert]")).to_contain_text("Server error 500")


def test_keyboard_only(web: Page) -> None:
    page = web.page
    page.goto(web.base + "/")
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.locator(".skip")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#question")).to_be_focused()
    page.keyboard.type("When did the SCO create a contact group?")
    page.keyboard.press("Enter")
    marker = marker_after(page.locator("#thread .turn").first, "In 2005")
    expect(marker).to_be_visible()
    expect(page.locator("#question")).to_be_focused()
    for _ in range(10):  # from the question box back through the answer's footnotes to its marker
        page.keyboard.press("Shift+Tab")
        if marker.evaluate("(el) => el === document.activeElement"):
            break
    expect(marker).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#panel-title")).to_be_focused()
    expect(page.locator("#panel mark").filter(has_text="In 2005")).to_have_count(1)
    page.keyboard.press("Escape")
    expect(page.locator("#panel")).to_be_hidden()
    expect(marker).to_be_focused()


def test_cite_parameter_opens_a_footnote(web: Page) -> None:
    page = web.page
    page.goto(web.base + "/?cite=15")
    expect(page.locator("#panel-title")).to_have_text("Footnote 15")
    expect(page.locator("#panel .citing")).to_contain_text("hard evidence that at least some of the TTP")
    page.get_by_role("button", name="Footnotes").click()
    expect(page.locator("#panel .all-notes > li")).to_have_count(46)


def test_phone_width(browser: Any, base_url: str) -> None:
    web = Page(browser, base_url, width=390, height=844)
    page = web.page
    page.goto(base_url + "/")
    turn = ask(page, "What did Pakistan's representative claim about the TTP at the Security Council?")
    chip = turn.locator(".chip").filter(has=page.locator(".chip-n", has_text="15"))
    expect(chip).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the screen
    shot(page, "web-phone-thread.png")
    chip.click()
    expect(page.locator("#panel-title")).to_have_text("Footnote 15")
    expect(page.get_by_role("button", name="Close the panel")).to_be_in_viewport()
    full_screen = {"x": 0, "y": 0, "width": 390, "height": 844}
    assert page.locator("#panel").bounding_box() == full_screen
    expect(page.locator("#conversation")).to_have_js_property("inert", True)  # out of the tab order meanwhile
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "web-phone-citation.png")
    page.get_by_role("button", name="Close the panel").click()
    expect(chip).to_be_focused()
    marker_after(turn, "In a September 2024").click()
    expect(
        page.locator("#panel mark").filter(has_text="In a September 2024 UN Security Council")
    ).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "web-phone-passage.png")
    web.check()


def test_a_server_with_api_keys_asks_the_reader_for_one_once(browser: Any, web_engine: Engine) -> None:
    settings = web_engine.settings.model_copy(
        update={"server": web_engine.settings.server.model_copy(update={"api_keys": ["reader-key"]})}
    )
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(create_app(settings, engine=web_engine), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    w = Page(browser, base)
    prompts: list[str] = []

    def answer_prompt(dialog: Any) -> None:
        prompts.append(dialog.message)
        dialog.accept("reader-key")

    try:
        page = w.page
        page.on("dialog", answer_prompt)
        page.goto(base + "/")
        turn = ask(page, "When did the SCO create the Afghanistan Contact Group?")
        expect(turn.locator(".answer")).to_contain_text("2005")
        ask(page, "When was it revived?")
        assert len(prompts) == 1 and "API key" in prompts[0]  # asked once, then kept
        assert page.evaluate("localStorage.getItem('qa-service.api-key')") == "reader-key"
        w.check()
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


# ---------------------------------------------------------------------------------------------- adding papers

CLI = str(Path(sys.executable).with_name("qa-service"))
GRID_TITLE = "Grid Resilience After Storms"
PARAMETRIC = "What can parametric insurance pay for after a storm?"  # one sentence of that paper answers it
MARKUP_OVERRIDE = '<b>Harbour</b> <img src=x onerror="window.__xss=3"> Notes'


@pytest.fixture()
def fresh_serve(tmp_path: Path, engine: Engine) -> Iterator[str]:
    """`qa-service serve` and nothing else, as on a fresh clone: the repository's corpus (the bundled paper
    only), its own data directory. (The data directory starts as a copy of the index the session built of
    that corpus, so serve's start-up ingest finds it unchanged instead of embedding the paper again.)"""
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("sources"))
    shutil.copytree(engine.settings.data_dir, tmp_path / "data", ignore=shutil.ignore_patterns("jobs"))
    port = free_port()
    env = dict(os.environ, QA_CORPUS_DIR=str(corpus), QA_DATA_DIR=str(tmp_path / "data"), QA_PROGRESS="false")
    proc = subprocess.Popen(
        [CLI, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=5) as http:
            until_ready(http, proc)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def last_answer(page: Any) -> dict[str, Any]:
    """The whole answer the page received last (the final event of its stream), as the page keeps it."""
    return dict(
        page.evaluate("JSON.parse(localStorage.getItem('qa-service.conversation.v1')).turns.at(-1).res")
    )


def test_a_reader_adds_a_paper_asks_about_it_and_removes_it(
    browser: Any, fresh_serve: str, tmp_path: Path
) -> None:
    pdf = tmp_path / f"{GRID_TITLE}.pdf"
    pdf.write_bytes(grid_resilience_pdf())
    web = Page(browser, fresh_serve)
    page = web.page
    page.goto(fresh_serve + "/")
    expect(page.locator("#doc-title")).to_have_text(PRIMARY_TITLE)
    expect(page.locator("#filter")).to_be_hidden()  # one paper: nothing to choose from

    # Add the PDF from the file picker; its progress shows above the conversation.
    page.get_by_role("button", name="Papers").click()
    expect(page.locator("#panel-title")).to_have_text("Papers")
    expect(page.locator("#panel .paper")).to_have_count(1)
    page.locator("#paper-file").set_input_files(str(pdf))
    job = page.locator("#jobs .job[data-kind=add]")
    expect(job.locator(".job-title")).to_contain_text(re.compile(r"^(Adding|Added) "))
    expect(job).to_have_class(re.compile(r"\bdone\b"), timeout=ANSWER_WAIT_MS)
    expect(job.locator(".job-title")).to_have_text(f"Added “{GRID_TITLE}”")  # the title it was read with
    steps = job.locator(".job-steps li")
    expect(steps.first).to_have_text("Parsed")
    expect(steps.filter(has_text=re.compile(r"^Embedded \d+ of \d+ texts$"))).to_have_count(1)
    expect(steps.last).to_have_text("Published")
    expect(job.locator(".job-status")).to_have_text(f"“{GRID_TITLE}” is published: ask about it.")
    # As soon as it is published: in the document filter and in the list of papers.
    expect(page.locator("#filter")).to_be_visible()
    expect(page.locator("#filter-docs label").filter(has_text=GRID_TITLE)).to_have_count(1)
    expect(page.locator("#panel .paper").filter(has_text=GRID_TITLE)).to_have_count(1)
    shot(page, "web-desktop-paper-added.png")
    page.get_by_role("button", name="Close the panel").click()

    # Ask about it: the answer cites that paper's own footnotes, with its pages.
    turn = ask(page, PARAMETRIC)
    answer = last_answer(page)
    grid = next(d["id"] for d in httpx.get(fresh_serve + "/documents").json() if d["title"] == GRID_TITLE)
    assert not answer["abstained"] and answer["footnotes"] and answer["citations"]
    assert {f["document"] for f in answer["footnotes"]} == {grid}
    assert all(c["document"] == grid and isinstance(c["page"], int) for c in answer["citations"])
    chips = turn.locator(".chip")
    expect(chips).to_have_count(len(answer["footnotes"]))
    for chip in chips.all():
        expect(chip.locator(".chip-d")).to_have_text("Grid Resilience After Storms")
    turn.locator(".marker").first.click()
    expect(page.locator("#panel .facts")).to_contain_text(f"Document{GRID_TITLE}")
    expect(page.locator("#panel .facts")).to_contain_text(f"Page{answer['citations'][0]['page']}")
    shot(page, "web-desktop-paper-answer.png")

    # Remove it, after saying yes: gone from the filter, from /documents and from answers.
    page.get_by_role("button", name="Papers").click()
    page.get_by_role("button", name=f"Remove {GRID_TITLE}").click()
    expect(page.locator("#panel .confirm")).to_contain_text(f"Remove “{GRID_TITLE}” and its fetched sources?")
    page.get_by_role("button", name="Remove it").click()
    removal = page.locator("#jobs .job[data-kind=remove]")
    expect(removal).to_have_class(re.compile(r"\bdone\b"), timeout=ANSWER_WAIT_MS)
    expect(removal.locator(".job-status")).to_have_text(
        f"“{GRID_TITLE}” is removed: answers no longer use it."
    )
    expect(page.locator("#filter")).to_be_hidden()
    expect(page.locator("#filter-docs label")).to_have_count(0)
    expect(page.locator("#panel .paper")).to_have_count(1)
    assert grid not in {d["id"] for d in httpx.get(fresh_serve + "/documents").json()}
    page.get_by_role("button", name="Close the panel").click()
    again = ask(page, PARAMETRIC)
    after = last_answer(page)
    assert all(f["document"] != grid for f in after["footnotes"])
    assert all(p["document"] != grid for p in after["passages"])
    expect(again.locator(".chip-d").filter(has_text="Grid")).to_have_count(0)
    web.check()


def test_a_paper_dropped_on_the_page_with_markup_in_its_title_is_shown_as_text(
    browser: Any, fresh_serve: str
) -> None:
    web = Page(browser, fresh_serve)
    page = web.page
    page.goto(fresh_serve + "/")
    page.get_by_role("button", name="Papers").click()
    page.get_by_text("Id and title page (optional)").click()
    page.get_by_label("Title").fill(MARKUP_OVERRIDE)
    data = page.evaluate_handle(
        """([name, b64]) => {
            const dt = new DataTransfer();
            const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
            dt.items.add(new File([bytes], name, { type: "text/plain" }));
            return dt;
        }""",
        ["harbour notes.txt", base64.b64encode(MARKUP_PAPER.encode()).decode()],
    )
    page.locator("#dropzone").dispatch_event("drop", {"dataTransfer": data})
    job = page.locator("#jobs .job[data-kind=add]")
    expect(job).to_have_class(re.compile(r"\bdone\b"), timeout=ANSWER_WAIT_MS)
    expect(job.locator(".job-title")).to_have_text(f"Added “{MARKUP_OVERRIDE}”")
    choice = page.locator("#filter-docs label").filter(has_text="Harbour")
    expect(choice).to_have_text("<b>Harbour</b> <img src=x…")  # clipped to 40 characters, as text
    expect(choice).to_have_attribute("title", re.compile("^" + re.escape(MARKUP_OVERRIDE + " · ")))
    expect(page.locator("#panel .paper-title").filter(has_text="Harbour")).to_have_text(MARKUP_OVERRIDE)
    for tag in ("b", "img"):
        expect(page.locator(f"#jobs {tag}, #panel {tag}, #filter {tag}")).to_have_count(0)
    assert page.evaluate("window.__xss") is None

    # A file the server refuses: its reason, and nothing else changes.
    page.locator("#paper-file").set_input_files(
        files=[{"name": "empty.md", "mimeType": "text/markdown", "buffer": b""}]
    )
    expect(page.locator("#panel .add-error [role=alert]")).to_have_text(
        "Server error 422 (not accepted): empty.md: the document is empty"
    )
    expect(page.locator("#jobs .job")).to_have_count(1)
    page.reload()  # a finished job is not shown again; the paper stays
    expect(page.locator("#jobs .job")).to_have_count(0)
    expect(page.locator("#filter-docs label")).to_have_count(2)
    web.check()
