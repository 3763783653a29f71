"""The HTTP API through a real client against a real index of the paper."""

from __future__ import annotations

import json
from typing import Any

import pytest


def chat(client: Any, *turns: str, **extra: Any) -> Any:
    msgs = []
    for t in turns[:-1]:
        msgs += [{"role": "user", "content": t}, {"role": "assistant", "content": "..."}]
    return client.post("/chat", json={"messages": [*msgs, {"role": "user", "content": turns[-1]}], **extra})


def test_chat_contract(client: Any) -> None:
    r = chat(client, "What did Lavrov say in March 2022 about the new Kabul government?")
    assert r.status_code == 200
    body = r.json()
    assert {"answer", "abstained", "passages", "footnotes"} <= body.keys()
    assert body["abstained"] is False and "does not fully represent" in body["answer"]
    p = body["passages"][0]
    assert {"id", "text", "section", "source", "footnotes"} <= p.keys() and p["source"] == "paper"
    assert body["footnotes"][0]["number"] == 22 and body["footnotes"][0]["url"] is None  # ibid. note, no URL
    assert "[1]" in body["answer"] or "[2]" in body["answer"]
    cited_passages = {c["passage_id"] for c in body["citations"]}
    assert cited_passages <= {p["id"] for p in body["passages"]}
    # the answer's footnotes are those of the sentences that answer, not of those shown for context
    answering = [c for c in body["citations"] if not c["context"]]
    assert answering and {f["number"] for f in body["footnotes"]} == {n for c in answering for n in c["footnotes"]}


def test_chat_marks_a_sentence_shown_only_for_context(client: Any) -> None:
    body = chat(client, "What did India do in July 2022?").json()
    answering = [c for c in body["citations"] if not c["context"]]
    context = [c for c in body["citations"] if c["context"]]
    assert any("reopened its embassy" in c["text"] for c in answering)
    assert context and all(c["passage_id"] in {p["id"] for p in body["passages"]} for c in context)
    assert {f["number"] for f in body["footnotes"]} == {n for c in answering for n in c["footnotes"]}


def test_chat_follow_up_and_abstention(client: Any) -> None:
    body = chat(client, "What is the SCO?", "When did it create a contact group?").json()
    assert "2005" in body["answer"]
    off = chat(client, "Who won the 2022 FIFA World Cup?").json()
    assert off["abstained"] is True and off["footnotes"] == []


def test_chat_stream_ends_with_the_final_object(client: Any) -> None:
    q = "When did India reopen its embassy in Kabul?"
    plain = chat(client, q).json()
    with client.stream(
        "POST", "/chat", json={"messages": [{"role": "user", "content": q}], "stream": True}
    ) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
        events = [e for e in r.read().decode().split("\n\n") if e.strip()]
    last = events[-1].splitlines()
    assert last[0] == "event: final"
    assert json.loads(last[1][len("data: ") :]) == plain
    assert any(e.startswith("event: delta") for e in events)


def test_citation_lookup(client: Any) -> None:
    body = client.get("/citations/15").json()
    assert body["number"] == 15 and body["url"] == "https://digitallibrary.un.org/record/4063066?ln=en&v=pdf"
    assert any("hard evidence" in s["text"] for s in body["cited_by"])
    assert all({"id", "text", "section"} <= s.keys() for s in body["cited_by"])
    assert body["source"]["status"] in ("not_fetched", "failed", "fetched")
    book = client.get("/citations/14").json()
    assert book["source"]["status"] == "not_online" and "book" in book["source"]["reason"]


@pytest.mark.parametrize("path", ["/citations/47", "/citations/999"])
def test_unknown_footnote_is_404_json(client: Any, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404 and "footnote" in r.json()["detail"]


@pytest.mark.parametrize("path", ["/citations/0", "/citations/-3", "/citations/abc"])
def test_bad_footnote_number_is_422_json(client: Any, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 422 and r.json()["detail"]


def test_footnotes_passages_search_health_ready(client: Any) -> None:
    notes = client.get("/footnotes").json()
    assert (
        len(notes) == 46
        and notes[30]["url"] == "https://home.treasury.gov/policy-issues/financial-sanctions/faqs/951"
    )
    hits = client.post("/search", json={"query": "Afghanistan Contact Group", "k": 3}).json()
    assert len(hits) == 3 and any("Contact Group" in h["text"] for h in hits)
    one = client.get(f"/passages/{hits[0]['id']}").json()
    assert one["id"] == hits[0]["id"] and one["sentences"]
    assert client.get("/passages/nope").status_code == 404
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["ready"] is True


@pytest.mark.parametrize(
    ("payload", "status", "word"),
    [
        ({"messages": []}, 422, "messages"),
        ({"messages": [{"role": "assistant", "content": "hi"}]}, 422, "user"),
        ({"messages": [{"role": "user", "content": ""}]}, 422, "at least 1 character"),
        ({"messages": [{"role": "user", "content": "   "}]}, 422, "pattern"),
        ({"messages": [{"role": "robot", "content": "hi"}]}, 422, "role"),
        ({"messages": [{"role": "user", "content": 5}]}, 422, "content"),
        ({"messages": "hello"}, 422, "messages"),
        ({"messages": [{"role": "user", "content": "x" * 2000}]}, 422, "limit"),
        ({"messages": [{"role": "user", "content": "hi"}] * 60}, 422, "limit"),
    ],
)
def test_bad_chat_requests_are_4xx_json(client: Any, payload: dict[str, Any], status: int, word: str) -> None:
    r = client.post("/chat", json=payload)
    assert r.status_code == status
    assert word in json.dumps(r.json()["detail"])


def test_non_json_and_oversized_bodies(client: Any) -> None:
    r = client.post("/chat", content=b"not json", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["detail"]
    r = client.post(
        "/chat", content=b"{" + b" " * 70_000 + b"}", headers={"content-type": "application/json"}
    )
    assert r.status_code == 413 and "limit" in r.json()["detail"]
    assert client.post("/search", json={"query": "   "}).status_code == 422
    assert client.post("/search", json={"query": "ok", "k": 0}).status_code == 422


def test_openai_compatible_endpoint_with_the_openai_client(client: Any) -> None:
    from openai import OpenAI

    oai = OpenAI(base_url="http://testserver/v1", api_key="unused", http_client=client)
    resp = oai.chat.completions.create(
        model="qa-service",
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "Where did the US move half of the DAB assets?"},
        ],
    )
    content = resp.choices[0].message.content or ""
    assert "Switzerland" in content and "**Passages**" in content and "[^32]" in content
    stream = oai.chat.completions.create(
        model="qa-service",
        stream=True,
        messages=[{"role": "user", "content": "Where did the US move half of the DAB assets?"}],
    )
    streamed = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert streamed == content
    assert [m.id for m in oai.models.list()] == ["qa-service"]


def test_docs_and_web_page(client: Any) -> None:
    assert client.get("/docs").status_code == 200
    assert "/chat" in client.get("/openapi.json").json()["paths"]
    page = client.get("/")
    assert page.status_code == 200 and "qa-service" in page.text
