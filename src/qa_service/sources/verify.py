"""Claim support for footnote N, once its source is present:
(a) each quotation of each sentence that carries marker N, searched in the source text: verbatim after the
    one normaliser (quotes, dashes, whitespace, line breaks, case), else approximately (rapidfuzz alignment);
(b) the source's passages ranked against the sentence (the index's sentence vectors), the best few kept."""

from __future__ import annotations

from typing import Any

import numpy as np

from qa_service.config import Settings
from qa_service.models import Reference
from qa_service.sources.fetch import read_pages, read_provenance
from qa_service.sources.manifest import entries_for
from qa_service.text import collapse_ws, normalize, normalize_map, quotations

APPROXIMATE = 85.0  # rapidfuzz partial ratio (0-100) from which a quotation counts as approximately present


def check_quote(quote: str, pages: list[str]) -> dict[str, Any]:
    q = collapse_ws(normalize(quote).replace('"', ""))
    best: dict[str, Any] = {
        "quote": quote,
        "status": "not_found",
        "page": None,
        "start": None,
        "end": None,
        "similarity": 0.0,
    }
    for pi, page in enumerate(pages, 1):
        norm, index = normalize_map(page, drop_quotes=True)
        pos = norm.find(q)
        if pos >= 0:
            return {
                **best,
                "status": "verbatim",
                "page": pi,
                "start": index[pos],
                "end": index[pos + len(q) - 1] + 1,
                "similarity": 100.0,
                "found": page[index[pos] : index[pos + len(q) - 1] + 1],
            }
        if not norm:
            continue
        from rapidfuzz import fuzz

        al = fuzz.partial_ratio_alignment(q, norm)
        if al is not None and al.score > best["similarity"]:
            end = max(al.dest_end - 1, al.dest_start)
            best = {
                **best,
                "similarity": round(al.score, 1),
                "page": pi,
                "start": index[al.dest_start],
                "end": index[end] + 1,
                "found": page[index[al.dest_start] : index[end] + 1],
            }
    if best["similarity"] >= APPROXIMATE:
        best["status"] = "approximate"
    elif best["status"] == "not_found":
        best.update(page=None, start=None, end=None, found=None)
    return best


def source_support(settings: Settings, engine: Any, ref: Reference, cited: list[Any]) -> dict[str, Any]:
    """The source's status, quotation checks and supporting passages for footnote `ref.number` of document
    `ref.document` (the primary document when empty). A short-form note reads the source of the note it
    repeats, in the same document."""
    n = ref.number
    paper = engine.document(ref.document or None)
    doc = paper.doc_id
    entry = entries_for(settings.corpus_dir, paper).get(n)
    target = entry.same_as if entry and entry.same_as else n
    prov = read_provenance(settings.corpus_dir, doc, target)
    info: dict[str, Any] = {
        "document": doc,
        "footnote": n,
        "source_footnote": target,
        "kind": entry.kind if entry else None,
        "fetchable": entry.fetchable if entry else bool(ref.urls),
    }
    if entry and entry.same_as:
        info["same_as"] = entry.same_as
    if prov is None or prov.status != "ok":
        if entry and not entry.fetchable and not entry.same_as:
            info["status"] = "not_online"
            info["reason"] = entry.reason
        else:
            info["status"] = "failed" if prov and prov.status == "failed" else "not_fetched"
            info["reason"] = (
                prov.reason if prov else f"run `qa-service sources fetch {target} --document {doc}`"
            )
        if prov and prov.attempts:
            info["attempts"] = [a.model_dump() for a in prov.attempts]
        return info
    pages = read_pages(settings.corpus_dir, doc, target) or []
    info.update(
        status="fetched",
        url=prov.url,
        final_url=prov.final_url,
        fetched_at=prov.fetched_at,
        sha256=prov.sha256,
        pages=prov.pages,
        extractor=prov.extractor,
        attempts=[a.model_dump() for a in prov.attempts],
    )
    info["quotes"] = [
        {"sentence_id": s.id, **check_quote(q, pages)} for s in cited for q in quotations(s.text)
    ]
    info["passages"] = _supporting(engine, doc, target, cited)
    if not engine.index.source_rows(f"footnote:{target}", doc).size:
        info["note"] = "the source is fetched but not indexed yet: run `qa-service ingest`"
    return info


def _supporting(
    engine: Any, doc: str, n: int, cited: list[Any], per_sentence: int = 3
) -> list[dict[str, Any]]:
    ix = engine.index
    rows = ix.source_rows(f"footnote:{n}", doc)  # looked up, not scanned: this runs per request
    if not rows.size or not cited:
        return []
    out = []
    matrix = ix.sentence_vectors[rows]
    for s in cited:
        qvec = engine.retriever.embed(s.text[:1000])
        sims = matrix @ qvec
        seen: set[str] = set()
        for j in np.argsort(-sims):
            chunk = ix.chunks[int(ix.sentence_chunk[rows[int(j)]])]
            if chunk.id in seen:
                continue
            seen.add(chunk.id)
            out.append(
                {
                    "for_sentence": s.id,
                    "id": chunk.id,
                    "text": chunk.text,
                    "page": chunk.page,
                    "score": round(float(sims[j]), 4),
                }
            )
            if len(seen) >= per_sentence:
                break
    return out
