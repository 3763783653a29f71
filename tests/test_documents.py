"""Many documents: the same footnote number means different references in different papers, and no answer,
citation or OpenAI-compatible reply ever cites a footnote of another document than the sentence's own.

The corpus here is the bundled paper plus two fixture papers (a markdown brief with bracketed markers and a
text report with superscripts) whose footnotes 1-6 are different references."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import CORPUS, answering_footnotes, make_settings
from qa_service.answer import eligible
from qa_service.corpus import add_document
from qa_service.decide import SIGNAL_NAMES, signals
from qa_service.embed import Embedder
from qa_service.engine import Engine, run_ingest
from qa_service.errors import NotFound
from qa_service.models import Message
from qa_service.schemas import to_chat

PAPERS = Path(__file__).parent / "fixtures" / "papers"
DOCS = {"mekong-2024": "mekong-drought-brief.md", "sahel-2023": "sahel-cold-chain-report.txt"}


@pytest.fixture(scope="module")
def engine3(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Engine:
    import shutil

    corpus = tmp_path_factory.mktemp("corpus3") / "corpus"
    shutil.copytree(CORPUS, corpus, ignore=shutil.ignore_patterns("sources"))
    for doc, name in DOCS.items():
        add_document(corpus, PAPERS / name, doc)
    s = make_settings(tmp_path_factory.mktemp("data3"), corpus)
    run_ingest(s, embedder=embedder)
    e = Engine(s, embedder=embedder)
    e.load()
    return e


@pytest.fixture(scope="module")
def client3(engine3: Engine) -> Iterator[object]:
    from fastapi.testclient import TestClient

    from api.app import create_app

    with TestClient(create_app(engine3.settings, engine=engine3)) as c:
        yield c


def questions_from(engine: Engine, doc: str) -> list[str]:
    """A reader's question about each body sentence of a document: its content words, reworded."""
    out = []
    for sec, _b, s in engine.document(doc).sentences():
        if sec.kind != "body" or len(s.text.split()) < 8:
            continue
        words = [w for w in re.findall(r"[A-Za-z][A-Za-z-]+", s.text) if len(w) > 3][:7]
        out.append(f"What does the paper say about {' '.join(words)}?")
    return out


def test_the_same_number_is_a_different_footnote_in_each_document(engine3: Engine) -> None:
    ones = {d: engine3.reference(1, d).text for d in ("tookhy-2025", *DOCS)}
    assert len(set(ones.values())) == 3
    assert all(engine3.reference(1, d).document == d for d in ones)
    assert engine3.reference(1).document == "tookhy-2025"  # the primary document is the manifest's first
    with pytest.raises(NotFound, match="no document 'nope'"):
        engine3.reference(1, "nope")


def test_every_answer_cites_only_its_sentences_own_footnotes(engine3: Engine) -> None:
    """The property, over every body sentence of both fixture papers asked about in other words."""
    asked = answered = 0
    for doc in DOCS:
        for question in questions_from(engine3, doc):
            asked += 1
            a = engine3.ask([Message(role="user", content=question)])
            if a.abstained:
                assert a.footnotes == []
                continue
            answered += 1
            for s in a.sentences:
                chunk = a.passages[s.marker - 1].chunk
                own = next(x for x in chunk.sentences if x.id == s.sentence_id)
                assert s.document == chunk.doc_id and s.footnote_doc == chunk.notes_doc
                assert set(s.footnotes) == set(own.covered_by)
            assert {(f.document, f.number) for f in a.footnotes} == answering_footnotes(a)
            resp = to_chat(a, engine3)
            for f in resp.footnotes:  # the reference shown is that document's, not another's same number
                assert f.text == engine3.reference(f.number, f.document).text
    assert asked >= 20 and answered >= asked // 2


def test_the_documents_filter_keeps_answers_and_passages_inside(engine3: Engine) -> None:
    a = engine3.ask(
        [Message(role="user", content="What happened to the vaccines?")], documents=["sahel-2023"]
    )
    assert a.passages and {h.chunk.doc_id for h in a.passages} == {"sahel-2023"}
    assert all(f.document == "sahel-2023" for f in a.footnotes)
    hits = engine3.search("water levels and dams", 5, documents=["mekong-2024"])
    assert hits and {h.chunk.doc_id for h in hits} == {"mekong-2024"}
    with pytest.raises(NotFound, match="nope"):
        engine3.search("water", 5, documents=["nope"])


def test_http_documents_footnotes_and_citations_per_document(client3) -> None:  # type: ignore[no-untyped-def]
    docs = client3.get("/documents").json()
    papers = [d for d in docs if d["kind"] == "paper"]
    assert [d["id"] for d in papers] == ["tookhy-2025", "mekong-2024", "sahel-2023"]
    assert papers[0]["primary"] and not papers[1]["primary"]
    mekong = next(d for d in papers if d["id"] == "mekong-2024")
    assert mekong["title"].startswith("Rivers Without Borders") and mekong["footnotes"] >= 6
    n1 = client3.get("/documents/mekong-2024/citations/1").json()
    assert n1["document"] == "mekong-2024" and n1["cited_by"]
    assert all("[1" not in s["text"] for s in n1["cited_by"])  # markers are stripped from sentences
    assert n1["text"] != client3.get("/citations/1").json()["text"]
    assert client3.get("/documents/mekong-2024/footnotes").json()[0]["document"] == "mekong-2024"
    assert client3.get("/documents/nope/footnotes").status_code == 404
    r = client3.post("/chat", json={"messages": [{"role": "user", "content": "Why?"}], "documents": ["nope"]})
    assert r.status_code == 404 and "nope" in r.json()["detail"]
    chat = client3.post(
        "/chat",
        json={
            "messages": [{"role": "user", "content": "When was the river commission created?"}],
            "documents": ["mekong-2024"],
        },
    ).json()
    assert not chat["abstained"] and all(f["document"] == "mekong-2024" for f in chat["footnotes"])
    assert all(c["document"] == "mekong-2024" for c in chat["citations"])


def test_openai_compatible_reply_names_the_document_of_each_footnote(client3) -> None:  # type: ignore[no-untyped-def]
    r = client3.post(
        "/v1/chat/completions",
        json={
            "model": "qa-service",
            "messages": [{"role": "user", "content": "When was the Mekong River Commission created?"}],
        },
    )
    content = r.json()["choices"][0]["message"]["content"]
    assert "1995" in content and "of *Rivers Without Borders*" in content
    assert "[^mekong-2024-" in content


def _engine_over(
    tmp_path: Path, embedder: Embedder, papers: dict[str, str], search_depth: int | None = None
) -> Engine:
    """An engine over a corpus of these Markdown papers (id -> text), ingested in tmp_path; `search_depth`: the
    passages the search returns, for the answer and for /search, when not the default."""
    corpus = tmp_path / "corpus"
    (corpus / "papers").mkdir(parents=True)
    manifest = ""
    for doc, text in papers.items():
        (corpus / "papers" / f"{doc}.md").write_text(text, encoding="utf-8")
        manifest += f'[[documents]]\nid = "{doc}"\npath = "papers/{doc}.md"\nformat = "markdown"\n\n'
    (corpus / "manifest.toml").write_text(manifest, encoding="utf-8")
    s = make_settings(tmp_path / "data", corpus)
    if search_depth is not None:
        s.answer.candidate_passages = s.retrieval.final_k = search_depth
    run_ingest(s, embedder=embedder)
    e = Engine(s, embedder=embedder)
    e.load()
    return e


SHARED = "The harbour fees doubled between 1919 and 1921"


def _brief(title: str, author: str, source: str) -> str:
    """A short invented paper whose footnote 1 backs a sentence another paper also has, word for word."""
    return (
        f"# {title}\n\nBy {author}\n\nRuritanian Ports Institute\n\nMay 2022\n\n## Summary\n\n"
        "Ruritania's river ports handle most of the kingdom's grain exports. "
        f"{SHARED} [1]. Merchants in the capital complained to the council that summer [2].\n\n"
        "## Outlook\n\nThe council will review the fees again after the next harvest.\n\n## References\n\n"
        f"[1] {source}\n[2] Council minutes, Strelsau, August 1921.\n"
    )


def test_a_sentence_two_papers_share_is_sourced_from_the_paper_asked_about(
    tmp_path: Path, embedder: Embedder
) -> None:
    """Two papers say the same sentence on the authority of different sources: "what's the source for that?",
    asked of one paper, names that paper's footnote, never the other's (invented papers)."""
    sources = {
        "zenda-2022": "Zenda Gazette, Harbour Accounts, 1921.",
        "hentzau-2022": "Hentzau Ledger, 1922.",
    }
    briefs = {doc: _brief(f"Ports of {doc[:6].title()}", "R. Rassendyll", source) for doc, source in sources.items()}
    e = _engine_over(tmp_path, embedder, briefs)
    for doc, source in sources.items():
        refs = e._sources_of([f"{SHARED}."], [doc])
        assert [(c.doc_id, c.kind) for c in refs] == [(doc, "reference")] and source in refs[0].text
        first = [Message(role="user", content="What happened to the harbour fees after 1919?")]
        said = e.ask(first, documents=[doc])
        # the answer may go on to the next sentence (footnote 2): every footnote is this paper's
        other = next(s for d, s in sources.items() if d != doc)
        assert SHARED in said.answer and (doc, 1) in {(f.document, f.number) for f in said.footnotes}
        assert {f.document for f in said.footnotes} == {doc}
        follow = [*first, Message(role="assistant", content=said.answer)]
        a = e.ask([*follow, Message(role="user", content="What's the source for that?")], documents=[doc])
        assert source.rstrip(".") in a.answer and other.rstrip(".") not in a.answer
        assert (doc, 1) in {(f.document, f.number) for f in a.footnotes} and {f.document for f in a.footnotes} == {doc}
        # a follow-up about what the last answer said may be answered by the record its footnote cites
        p = e.prepare([*follow, Message(role="user", content="Where was that reported?")], documents=[doc])
        assert {c.chunk.doc_id for c in p.candidates if c.chunk.id in p.behind} == {doc}
        may_answer = eligible(p.question, p.candidates, p.pinned, p.behind)
        assert any(c.chunk.kind == "reference" and source in c.text for c in may_answer)
    # asked of both papers, the conversation does not say which one the answer quoted: both papers' sources
    refs = e._sources_of([f"{SHARED}."])
    assert sorted((c.doc_id, c.kind) for c in refs) == sorted((doc, "reference") for doc in sources)
    assert {c.doc_id for c in e._answered_from([*follow, Message(role="user", content="Why?")])} == set(sources)


def _council(doc: str, did: list[str]) -> str:
    """An invented brief whose council did three things, one a year, each sentence with its footnote. Each
    sentence is as long as a paper's usually are: a very short one is read as a topic sentence, which brings
    the sentences after it (`Composition.elaborate`, a trained length)."""
    said = " ".join(
        f"In {1921 + i} the council {d}, after a debate in the old town hall that ran over three "
        f"sittings and ended in a narrow vote [{i + 1}]."
        for i, d in enumerate(did)
    )
    refs = "\n".join(f"[{i + 1}] Minutes of the council, {doc}, book {i + 1}." for i in range(len(did)))
    return (
        f"# The council of {doc}\n\nBy R. Rassendyll\n\nRuritanian Institute\n\nMay 2022\n\n## The record\n\n"
        f"{said}\n\n## References\n\n{refs}\n"
    )


def test_an_unscoped_answer_quotes_one_paper_and_its_follow_up_stays_with_it(
    tmp_path: Path, embedder: Embedder
) -> None:
    """Two papers tell of a council's decisions year by year; a question scoped to neither is answered from one
    of them, every footnote that paper's; "And in 1922?" from the same paper, "And what about <what only the other
    paper tells of>?" from the other; asked of both, from each (invented papers)."""
    briefs = {
        "ports-2022": ["doubled the harbour fees", "closed the north quay", "sold the old ferry"],
        "mines-2023": ["taxed the silver mines", "banned night shifts", "opened a miners' school"],
    }
    e = _engine_over(tmp_path, embedder, {doc: _council(doc, did) for doc, did in briefs.items()})
    first = [Message(role="user", content="What did the council do in 1921?")]
    said = e.ask(first)
    docs = {f.document for f in said.footnotes}
    assert len(docs) == 1 and said.sentences and {x.document for x in said.sentences} == docs
    (doc,) = docs
    assert briefs[doc][0] in said.answer and not any(d in said.answer for o in briefs if o != doc for d in briefs[o])
    follow = [*first, Message(role="assistant", content=said.answer), Message(role="user", content="And in 1922?")]
    a = e.ask(follow)
    assert {f.document for f in a.footnotes} == {doc} and briefs[doc][1] in a.answer
    # a follow-up about what only the other paper tells of moves to it: the conversation's paper has no say
    (other,) = set(briefs) - {doc}
    topic = {"ports-2022": "the harbour fees", "mines-2023": "the silver mines"}[other]
    elsewhere = e.ask([*follow[:2], Message(role="user", content=f"And what about {topic}?")])
    assert {f.document for f in elsewhere.footnotes} == {other} and briefs[other][0] in elsewhere.answer
    # a request that names both papers (to compare them) may be answered from each
    both = e.ask(first, documents=sorted(briefs))
    assert {f.document for f in both.footnotes} == set(briefs)


def test_a_year_the_paragraph_opens_with_is_the_time_of_the_sentences_after_it(
    tmp_path: Path, embedder: Embedder
) -> None:
    """ "The council's 1921 package had four parts. First, ... Fourth, ...": the paragraph is longer than a passage,
    so the fourth part's passage never states the year; asked about the 1921 package's fourth part, the decider
    still finds the year around the answer (the paragraph before its passage), and does not count it missing
    (an invented paper)."""
    paper = (
        "# Harbour fees\n\nBy R. Rassendyll\n\nMay 2022\n\n## The package\n\n"
        "The council's 1921 package for the port of Zenda had four parts, each argued over for months [1]. "
        "First, it doubled the harbour fees on every ship above two hundred tons. "
        "Second, it closed the north quay to foreign ships during the winter storms. "
        "Third, it sold the old ferry to the boatmen's guild for a symbolic sum. "
        "Fourth, it barred the grain merchants of Strelsau from the wharves without a licence.\n\n"
        "## References\n\n[1] Minutes of the council, book 1.\n"
    )
    e = _engine_over(tmp_path, embedder, {"ports-2022": paper})
    missing = SIGNAL_NAMES.index("numbers_missing")
    p = e.prepare([Message(role="user", content="Whom did the fourth part of the 1921 package bar from the wharves?")])
    fourth = [c for c in p.candidates if c.text.startswith("Fourth")]
    assert fourth and all("1921" not in c.context for c in fourth)  # the passage and what precedes it say nothing
    assert "1921" in fourth[0].earlier
    assert float(signals(p.question, fourth[:1], e.stats)[missing]) == 0.0
    p = e.prepare([Message(role="user", content="Whom did the fourth part of the 1924 package bar from the wharves?")])
    fourth = [c for c in p.candidates if c.text.startswith("Fourth")]
    assert float(signals(p.question, fourth[:1], e.stats)[missing]) == 1.0  # a year it never gives


def test_a_footnote_number_of_no_paper_in_particular_is_answered_for_each_paper_that_has_it(
    tmp_path: Path, embedder: Embedder
) -> None:
    """Two papers each have a footnote 2: "What does footnote 2 cite?", scoped to neither, names both entries (a
    reader of several papers may mean either); scoped, the paper's own; a follow-up in a conversation about one
    paper, that paper's (invented papers)."""
    briefs = {
        "ports-2022": ["doubled the harbour fees", "closed the north quay"],
        "mines-2023": ["taxed the silver mines", "banned night shifts"],
    }
    e = _engine_over(tmp_path, embedder, {doc: _council(doc, did) for doc, did in briefs.items()})
    ask = [Message(role="user", content="What does footnote 2 cite?")]
    a = e.ask(ask)
    assert {(f.document, f.number) for f in a.footnotes} == {("ports-2022", 2), ("mines-2023", 2)}
    assert all(f"Minutes of the council, {doc}, book 2" in a.answer for doc in briefs)
    # the footnote asked for alone: not the entries the passages found for the question's other words cite
    topical = e.ask([Message(role="user", content="Which source does footnote 1 cite for the harbour fees?")])
    assert {(f.document, f.number) for f in topical.footnotes} == {("ports-2022", 1), ("mines-2023", 1)}
    for doc in briefs:
        one = e.ask(ask, documents=[doc])
        assert {(f.document, f.number) for f in one.footnotes} == {(doc, 2)}
    first = [Message(role="user", content="What did the council do about the silver mines?")]
    said = e.ask(first)
    assert {f.document for f in said.footnotes} == {"mines-2023"}
    follow = [*first, Message(role="assistant", content=said.answer), Message(role="user", content="And footnote 2?")]
    b = e.ask(follow)
    assert {(f.document, f.number) for f in b.footnotes} == {("mines-2023", 2)}


def test_a_lead_in_that_ends_its_paragraph_brings_the_paragraphs_it_counts(
    tmp_path: Path, embedder: Embedder
) -> None:
    """ "Three measures would revive the harbour." ends its paragraph and the paragraphs after it are the series
    ("First, ...", "Second, ...", "Third, ..."): asked what would revive the harbour, the answer gives the lead-in
    with all three, and "the third one" then means the third of them (an invented paper)."""
    measures = [
        "First, publish the harbour accounts every quarter.",
        "Second, let the guilds elect two members of the harbour board.",
        "Third, cap the fees at their level of 1919.",
    ]
    said = [f"{m} The council would need the king's assent for it [{i + 1}]." for i, m in enumerate(measures)]
    refs = "\n".join(f"[{i + 1}] Harbour board minutes, book {i + 1}." for i in range(3))
    paper = (
        "# Ports and trade in Ruritania\n\nBy R. Rassendyll\n\nMay 2022\n\n## What should be done\n\n"
        "The harbour of Zenda has lost half of its traffic since 1919, and the council has done little about it. "
        "Three measures would revive the harbour.\n\n" + "\n\n".join(said) + f"\n\n## References\n\n{refs}\n"
    )
    # the search brings one passage, the pool the series
    e = _engine_over(tmp_path, embedder, {"harbour-2022": paper}, search_depth=1)
    first = [Message(role="user", content="What would revive the harbour of Zenda?")]
    a = e.ask(first)
    assert "Three measures would revive the harbour." in a.answer and all(m in a.answer for m in measures)
    third = Message(role="user", content="Why the third one?")
    assert "cap the fees" in e.prepare([*first, Message(role="assistant", content=a.answer), third]).question.standalone
