"""Corpus management: adding .txt, .md and .pdf papers (validated, copied, listed), removing them, every bad
input refused with the corpus untouched, the CLI commands, and the next ingest embedding only the new paper."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from conftest import make_settings
from fixture_pdfs import encrypted_pdf, grid_resilience_pdf, image_only_pdf
from qa_service.corpus import add_document, load_corpus, read_manifest, remove_document
from qa_service.embed import Embedder, text_key
from qa_service.engine import Engine, run_ingest
from qa_service.errors import DuplicateDocument, InvalidInput, NotFound, ParseError
from qa_service.index import build_chunks, embedding_texts

PAPERS = Path(__file__).parent / "fixtures" / "papers"
CLI = str(Path(sys.executable).with_name("qa-service"))


def snapshot(corpus: Path) -> dict[str, bytes]:
    """Every file of the corpus with its bytes: what 'untouched' means."""
    return {str(p.relative_to(corpus)): p.read_bytes() for p in sorted(corpus.rglob("*")) if p.is_file()}


@pytest.fixture()
def pdf_file(tmp_path: Path) -> Path:
    path = tmp_path / "Grid Resilience (final).pdf"
    path.write_bytes(grid_resilience_pdf())
    return path


def test_add_text_markdown_and_pdf(corpus_copy: Path, pdf_file: Path) -> None:
    spec, paper = add_document(corpus_copy, PAPERS / "mekong-drought-brief.md", "mekong-2024")
    assert (spec.path, spec.format, paper.doc_id, len(paper.references)) == (
        "papers/mekong-2024.md",
        "markdown",
        "mekong-2024",
        8,
    )
    add_document(corpus_copy, PAPERS / "sahel-cold-chain-report.txt", "sahel-2023", {"date": "March 2023"})
    spec, paper = add_document(corpus_copy, pdf_file)
    assert spec.id == "grid-resilience-final" and spec.path == "papers/grid-resilience-final.pdf"
    assert (corpus_copy / spec.path).read_bytes() == pdf_file.read_bytes()
    assert [s.id for s in read_manifest(corpus_copy)] == [
        "tookhy-2025",
        "mekong-2024",
        "sahel-2023",
        "grid-resilience-final",
    ]
    manifest = (corpus_copy / "manifest.toml").read_text(encoding="utf-8")
    assert manifest.startswith("# Documents served by qa-service;")  # the comments survive
    assert tomllib.loads(manifest)["documents"][2] == {
        "id": "sahel-2023",
        "path": "papers/sahel-2023.txt",
        "kind": "paper",
        "date": "March 2023",
        "format": "text",
    }
    papers = load_corpus(corpus_copy)
    assert [p.metadata.title for p in papers[1:]] == [
        "Rivers Without Borders",
        "Keeping Vaccines Cold",
        "Grid Resilience After Storms",
    ]
    assert all(p.problems == [] for p in papers)


def test_remove(corpus_copy: Path) -> None:
    before = snapshot(corpus_copy)
    add_document(corpus_copy, PAPERS / "mekong-drought-brief.md", "mekong-2024")
    (corpus_copy / "sources" / "mekong-2024" / "1").mkdir(parents=True)
    (corpus_copy / "sources" / "mekong-2024" / "1" / "text.txt").write_text("a fetched source")
    spec = remove_document(corpus_copy, "mekong-2024")
    assert spec.id == "mekong-2024"
    assert not (corpus_copy / "papers" / "mekong-2024.md").exists()
    assert not (corpus_copy / "sources" / "mekong-2024").exists()
    assert snapshot(corpus_copy) == before  # the manifest is byte for byte what it was
    with pytest.raises(NotFound, match="no document 'mekong-2024'"):
        remove_document(corpus_copy, "mekong-2024")
    with pytest.raises(InvalidInput, match="only document"):
        remove_document(corpus_copy, "tookhy-2025")
    assert snapshot(corpus_copy) == before


@pytest.mark.parametrize(
    ("name", "content", "doc_id", "error", "message"),
    [
        ("missing.pdf", None, None, ParseError, "missing.pdf: cannot read file"),
        ("empty.txt", b"", None, ParseError, "empty.txt: the document is empty"),
        ("locked.pdf", "encrypted", None, ParseError, "locked.pdf: the PDF is encrypted"),
        ("scan.pdf", "image-only", None, ParseError, "scan.pdf: no text in any of its 2 page(s)"),
        ("latin1.txt", "Pr\xe9cis.\n".encode("latin-1"), None, ParseError, "latin1.txt: line 1: not UTF-8"),
        ("brief.docx", b"PK\x03\x04", None, InvalidInput, "unsupported file type '.docx'"),
        (
            "gap.txt",
            "numbering-gap",
            None,
            ParseError,
            "gap.txt: line 14: the reference list jumps from 2 to 4",
        ),
        ("fine.md", "mekong", "tookhy-2025", DuplicateDocument, "document id 'tookhy-2025' is already in"),
        ("fine.md", "mekong", "bad id!", InvalidInput, "document id 'bad id!' is not valid"),
        ("copy.txt", "tookhy", "tookhy-copy", DuplicateDocument, "the same file is already in the corpus as"),
    ],
)
def test_bad_input_changes_nothing(
    corpus_copy: Path,
    tmp_path: Path,
    name: str,
    content: bytes | str | None,
    doc_id: str | None,
    error: type[Exception],
    message: str,
) -> None:
    sources = {
        "encrypted": encrypted_pdf,
        "image-only": image_only_pdf,
        "numbering-gap": lambda: (PAPERS / "malformed" / "numbering-gap.txt").read_bytes(),
        "mekong": lambda: (PAPERS / "mekong-drought-brief.md").read_bytes(),
        "tookhy": lambda: next((corpus_copy / "papers").iterdir()).read_bytes(),
    }
    file = tmp_path / name
    if content is not None:
        file.write_bytes(sources[content]() if isinstance(content, str) else content)
    before = snapshot(corpus_copy)
    with pytest.raises(error) as err:
        add_document(corpus_copy, file, doc_id)
    assert message in err.value.message  # type: ignore[attr-defined]
    assert snapshot(corpus_copy) == before


def run_cli(corpus: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QA_CORPUS_DIR=str(corpus), QA_PROGRESS="false")
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=env, timeout=120)


def test_cli_add_inspect_list_remove(corpus_copy: Path, pdf_file: Path) -> None:
    r = run_cli(corpus_copy, "corpus", "add", str(pdf_file), "--id", "grid-2023")
    assert r.returncode == 0, r.stderr
    assert "added 'grid-2023' (papers/grid-2023.pdf)" in r.stdout
    assert "Grid Resilience After Storms: Lessons from Caribbean Utilities" in r.stdout
    assert "running_header ×4" in r.stdout and "page_number ×4" in r.stdout and "problems: none" in r.stdout
    assert "short forms: 6→5" in r.stdout
    r = run_cli(corpus_copy, "corpus", "inspect", "--json")
    docs = {d["doc_id"]: d for d in json.loads(r.stdout)}
    assert docs["grid-2023"]["sections"][1] == {
        "title": "Summary",
        "kind": "body",
        "paragraphs": 1,
        "captions": 0,
        "sentences": 3,
        "pages": [2],
    }
    r = run_cli(corpus_copy, "corpus", "add", str(pdf_file), "--id", "grid-2023")
    assert (
        r.returncode == 2
        and "document id 'grid-2023' is already in" in r.stderr
        and "Traceback" not in r.stderr
    )
    bad = pdf_file.with_name("locked.pdf")
    bad.write_bytes(encrypted_pdf())
    r = run_cli(corpus_copy, "corpus", "add", str(bad))
    assert r.returncode == 2 and str(bad) in r.stderr.replace("\n", "") and "encrypted" in r.stderr
    assert [d["id"] for d in json.loads(run_cli(corpus_copy, "corpus", "list", "--json").stdout)] == [
        "tookhy-2025",
        "grid-2023",
    ]
    r = run_cli(corpus_copy, "corpus", "remove", "grid-2023")
    assert r.returncode == 0 and "removed 'grid-2023'" in r.stdout
    r = run_cli(corpus_copy, "corpus", "remove", "grid-2023")
    assert r.returncode == 2 and "no document 'grid-2023'" in r.stderr


def test_next_ingest_embeds_only_the_new_document(
    tmp_path: Path, corpus_copy: Path, embedder: Embedder, engine: Engine
) -> None:
    s = make_settings(tmp_path / "data", corpus_copy)
    shutil.copytree(engine.settings.data_dir, s.data_dir)  # the served index of the bundled paper
    _, paper = add_document(corpus_copy, PAPERS / "sahel-cold-chain-report.txt", "sahel-2023")
    old = {text_key(embedder.name, t) for t in _texts(load_corpus(engine.settings.corpus_dir), s)}
    new = {text_key(embedder.name, t) for t in _texts([paper], s)}
    report = run_ingest(s, embedder=embedder)
    assert report.documents == 2 and not report.unchanged
    assert report.embedded == len(new - old) > 0  # the new paper's texts, and nothing else
    assert report.reused == len(old | new) - report.embedded
    again = run_ingest(s, embedder=embedder)
    assert again.unchanged and again.embedded == 0
    e = Engine(s, embedder=embedder)
    e.load()
    assert [d.id for d in e.documents()] == ["tookhy-2025", "sahel-2023"]
    hit = e.search("How long did health posts wait for a technician?", k=1, documents=["sahel-2023"])[0]
    assert hit.chunk.doc_id == "sahel-2023" and hit.chunk.page == 1 and hit.chunk.sentences[0].page == 1


def _texts(papers, settings) -> list[str]:  # type: ignore[no-untyped-def]
    """What an ingest embeds for these papers: passages, sentences and the corpus words (index.py's list)."""
    chunks = build_chunks(papers, settings)
    _, sentences, words = embedding_texts(chunks, settings, "")
    return [c.embed_text() for c in chunks] + list(sentences.values()) + list(words.values())


def test_a_pdf_goes_from_corpus_add_to_cited_answers_with_pages(
    tmp_path: Path, corpus_copy: Path, pdf_file: Path, embedder: Embedder, engine: Engine
) -> None:
    from qa_service.chunk import chunk_document
    from qa_service.models import FootnoteRef, Message

    s = make_settings(tmp_path / "data", corpus_copy)
    shutil.copytree(engine.settings.data_dir, s.data_dir)
    _, paper = add_document(corpus_copy, pdf_file, "grid-2023")
    for c in chunk_document(paper):  # a chunk's page is its first sentence's
        assert c.page == (c.sentences[0].page if c.kind != "front" else 1)
    run_ingest(s, embedder=embedder)
    e = Engine(s, embedder=embedder)
    e.load()
    a = e.ask(
        [Message(role="user", content="What can parametric insurance pay for after a storm?")],
        documents=["grid-2023"],
    )
    assert not a.abstained and FootnoteRef(document="grid-2023", number=8) in a.footnotes
    assert any(h.chunk.page == 3 and h.chunk.doc_id == "grid-2023" for h in a.passages)
    c = e.cite(4, "grid-2023")
    assert c.urls == [
        "https://cern.example/wp/mutual-aid.pdf",
        "https://mirror.cern.example/wp/mutual-aid.pdf",
    ]
    assert [x.text[:20] for x in c.cited_by] == ["Mutual aid crews fro", "Utilities that had a"]
