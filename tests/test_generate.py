"""Generate mode against a scripted OpenAI-compatible server on loopback (a real HTTP server): each failure
kind is dropped or falls back to the extractive answer, never a 5xx; the checks themselves as unit tests."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from llm_server import Reply, ScriptedLLM, evidence, find
from qa_service.config import LLMSettings
from qa_service.engine import Engine
from qa_service.generate import (
    EvidenceSentence,
    GeneratedSentence,
    Generator,
    UnsupportedSentence,
    check_sentence,
    read_sentences,
)

DAB = "Where did the US move half of the DAB assets?"
MOVED = "half of the DAB assets to a fund in Switzerland"  # words of the evidence sentence with footnote 32
DONOR = "largest donor to humanitarian efforts"  # ... and of the one with footnote 33


@pytest.fixture(scope="module")
def llm() -> Iterator[ScriptedLLM]:
    with ScriptedLLM().running() as server:
        yield server


def app_client(engine: Engine, cfg: LLMSettings) -> Any:
    from fastapi.testclient import TestClient

    from api.app import create_app

    return TestClient(create_app(engine.settings, engine=engine, generator=Generator(cfg)))


@pytest.fixture(scope="module")
def gen_client(engine: Engine, llm: ScriptedLLM) -> Iterator[Any]:
    with app_client(engine, LLMSettings(base_url=llm.url, model="scripted", timeout_s=60)) as c:
        yield c


def ask(client: Any, question: str = DAB, **extra: Any) -> dict[str, Any]:
    r = client.post(
        "/chat", json={"messages": [{"role": "user", "content": question}], "mode": "generate", **extra}
    )
    assert r.status_code == 200, r.text
    return dict(r.json())


def used(body: dict[str, Any]) -> list[str]:
    return [c["sentence_id"] for c in body["citations"]]


def evidence_id(body: dict[str, Any], words: str) -> str:
    return next(e["sentence_id"] for e in body["evidence"] if words in e["text"])


def test_well_cited_answer_is_shown_with_exactly_its_evidence_footnotes(
    gen_client: Any, llm: ScriptedLLM
) -> None:
    llm.script = lambda req: Reply(
        text=f"The US moved half of the DAB assets to a fund in Switzerland [{find(req, MOVED)}]. "
        f"The United States also remains the largest donor to humanitarian efforts. [{find(req, DONOR)}]"
    )
    body = ask(gen_client)
    assert body["mode"] == "generate" and body["abstained"] is False and body["unsupported"] == []
    assert body["answer"].startswith("The US moved half of the DAB assets to a fund in Switzerland. [")
    assert [g["text"] for g in body["generated"]][1] == (
        "The United States also remains the largest donor to humanitarian efforts."
    )
    assert used(body) == [evidence_id(body, MOVED), evidence_id(body, DONOR)]
    assert [f["number"] for f in body["footnotes"]] == [32, 33]  # the evidence used, not all evidence given
    given = {n for e in body["evidence"] for n in e["footnotes"]}
    assert given > {32, 33}
    assert body["reason"] is None


@pytest.mark.parametrize(
    ("bad", "check", "why"),
    [
        ("It also froze Afghan assets held in Germany [12].", "citation", "cites [12]"),
        ("The US moved $3.5 billion of the DAB assets to Switzerland [{n}].", "facts", "3.5"),
        (
            "The US returned half of the DAB assets to the Afghan central bank [{n}].",
            "support",
            "content words",
        ),
        ("The US never moved the DAB assets to a fund in Switzerland [{n}].", "facts", "never"),
        ("The US moved half of the DAB assets to Switzerland.", "citation", "cites no evidence"),
    ],
    ids=["evidence-not-given", "invented-number", "right-sentence-wrong-claim", "negated", "uncited"],
)
def test_a_failing_sentence_is_dropped_and_listed(
    gen_client: Any, llm: ScriptedLLM, bad: str, check: str, why: str
) -> None:
    good = "The US moved half of the DAB assets to a fund in Switzerland [{n}]."
    llm.script = lambda req: Reply(text=f"{good} {bad}".replace("{n}", str(find(req, MOVED))))
    body = ask(gen_client)
    assert body["mode"] == "generate"
    [dropped] = body["unsupported"]
    assert dropped["check"] == check and why in dropped["why"]
    assert dropped["text"].split(" [")[0].rstrip(".") not in body["answer"]
    assert [g["text"] for g in body["generated"]] == [
        "The US moved half of the DAB assets to a fund in Switzerland."
    ]
    assert [f["number"] for f in body["footnotes"]] == [32]
    # nothing of the dropped sentence is streamed either
    with gen_client.stream(
        "POST",
        "/chat",
        json={"messages": [{"role": "user", "content": DAB}], "mode": "generate", "stream": True},
    ) as r:
        events = [e for e in r.read().decode().split("\n\n") if e.strip()]
    deltas = "".join(json.loads(e.split("data: ", 1)[1])["text"] for e in events if "event: delta" in e)
    assert deltas.startswith("The US moved half of the DAB assets to a fund in Switzerland. [")
    assert dropped["text"].split(" [")[0].rstrip(".") not in deltas


def test_nothing_survives_gives_the_extractive_answer_with_a_reason(
    gen_client: Any, llm: ScriptedLLM, client: Any
) -> None:
    llm.script = lambda req: Reply(text=f"The US moved $7 billion to Switzerland [{find(req, MOVED)}].")
    body = ask(gen_client)
    extractive = client.post("/chat", json={"messages": [{"role": "user", "content": DAB}]}).json()
    assert body["mode"] == "extractive" and body["answer"] == extractive["answer"]
    assert body["footnotes"] == extractive["footnotes"] and body["citations"] == extractive["citations"]
    assert "none of the 1 sentences" in body["reason"] and body["unsupported"][0]["check"] == "facts"


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        (Reply(status=500), "failed (InternalServerError 500)"),
        (Reply(raw=b"{this is not json"), "failed"),
        (Reply(raw=b'{"choices": []}'), "failed"),
        (Reply(text="   "), "no text"),
        (Reply(text="Sure! Happy to help with that question."), "passed the citation checks"),
    ],
    ids=["http-500", "not-json", "no-choices", "empty", "uncited-prose"],
)
def test_llm_trouble_is_never_a_5xx(
    gen_client: Any, llm: ScriptedLLM, client: Any, reply: Reply, reason: str
) -> None:
    llm.script = lambda req: reply
    body = ask(gen_client)
    assert body["mode"] == "extractive" and reason in body["reason"]
    assert "Switzerland" in body["answer"] and body["footnotes"][0]["number"] == 32


def test_a_slow_llm_times_out_into_the_extractive_answer(engine: Engine, llm: ScriptedLLM) -> None:
    llm.script = lambda req: Reply(hang=True)
    with app_client(engine, LLMSettings(base_url=llm.url, model="scripted", timeout_s=1)) as c:
        body = ask(c)
    assert body["mode"] == "extractive" and "did not answer within 1 s" in body["reason"]
    assert "Switzerland" in body["answer"]


def test_the_llm_gets_history_and_numbered_evidence(gen_client: Any, llm: ScriptedLLM) -> None:
    llm.script = lambda req: Reply(text="The documents don't say.")
    r = gen_client.post(
        "/chat",
        json={
            "mode": "generate",
            "messages": [
                {"role": "user", "content": "What is the DAB?"},
                {"role": "assistant", "content": "Afghanistan's central bank."},
                {"role": "user", "content": "Where did the US move half of its assets?"},
            ],
        },
    )
    body = r.json()
    req = llm.requests[-1]
    roles = [m["role"] for m in req["messages"]]
    assert roles == ["system", "user", "assistant", "user"] and "cite" in req["messages"][0]["content"]
    assert req["model"] == "scripted" and req["messages"][2]["content"] == "Afghanistan's central bank."
    given = evidence(req)
    assert list(given) == [e["n"] for e in body["evidence"]] and given[1] == body["evidence"][0]["text"]
    assert body["mode"] == "extractive" and body["unsupported"][0]["why"] == "it cites no evidence"


def test_openai_route_and_no_llm_configured(gen_client: Any, llm: ScriptedLLM, client: Any) -> None:
    from openai import OpenAI

    llm.script = lambda req: Reply(
        text=f"Half of the DAB assets went to a fund in Switzerland [{find(req, MOVED)}]."
    )
    oai = OpenAI(base_url="http://testserver/v1", api_key="unused", http_client=gen_client)
    resp = oai.chat.completions.create(
        model="qa-service", messages=[{"role": "user", "content": DAB}], extra_body={"mode": "generate"}
    )
    content = resp.choices[0].message.content or ""
    assert (
        content.startswith("Half of the DAB assets went to a fund in Switzerland. [1]") and "[^32]" in content
    )
    # the default app has no LLM: generate mode says so and answers extractively; without a mode, no change
    body = ask(client)
    assert (
        body["mode"] == "extractive"
        and "QA_LLM__BASE_URL" in body["reason"]
        and "Switzerland" in body["answer"]
    )
    plain = client.post("/chat", json={"messages": [{"role": "user", "content": DAB}]}).json()
    assert plain["mode"] == "extractive" and plain["reason"] is None and plain["unsupported"] == []


def test_cli_ask_generate(engine: Engine, llm: ScriptedLLM) -> None:
    llm.script = lambda req: Reply(
        text=f"The US moved half of the DAB assets to Switzerland [{find(req, MOVED)}]."
    )
    env = dict(
        os.environ,
        QA_PROGRESS="false",
        QA_DATA_DIR=str(engine.settings.data_dir),
        QA_LLM__BASE_URL=llm.url,
        QA_LLM__MODEL="scripted",
    )
    cli = str(Path(sys.executable).with_name("qa-service"))
    r = subprocess.run(
        [cli, "ask", DAB, "--mode", "generate", "--json"], capture_output=True, text=True, env=env
    )
    body = json.loads(r.stdout)
    assert body["mode"] == "generate" and body["answer"].startswith("The US moved half of the DAB assets")
    r = subprocess.run([cli, "ask", DAB, "--mode", "poetry"], capture_output=True, text=True, env=env)
    assert r.returncode == 2 and "mode must be" in r.stderr


# ---------------------------------------------------------------- the checks, unit by unit

EV = [
    EvidenceSentence(
        n=1,
        text="In 2005, the Afghanistan Contact Group was created inside the SCO, but its activity was "
        "suspended four years later.",
        marker=1,
        passage_id="p",
        sentence_id="s1",
        document="d",
        footnote_document="d",
        footnotes=[3],
    ),
    EvidenceSentence(
        n=2,
        text="In March 2022, Russian Foreign Minister Sergey Lavrov stated that “the new Kabul government does "
        "not fully represent all sections of Afghan society.”",
        marker=2,
        passage_id="q",
        sentence_id="s2",
        document="d",
        footnote_document="d",
        footnotes=[22],
    ),
]


@pytest.mark.parametrize(
    ("text", "cites", "check"),
    [
        ("The SCO created the Afghanistan Contact Group in 2005", [1], None),
        ("Its activity was suspended after 4 years", [1], None),  # "four" and "4" are one number
        ("Lavrov said the Kabul government does not fully represent Afghan society", [2], None),
        ("Russia's foreign minister said it does not represent all of Afghan society", [2], None),
        ("The SCO created the Afghanistan Contact Group in 2006", [1], "facts"),
        ("The Afghanistan Contact Group met in Moscow", [1], "facts"),
        ("In April 2022, Lavrov criticised the Kabul government", [2], "facts"),
        ("Lavrov called it “a model government”", [2], "facts"),
        (
            "The SCO created the Afghanistan Contact Group in 2005",
            [2],
            "facts",
        ),  # right claim, wrong evidence
        ("The SCO was praised for its decisive leadership", [1], "support"),
        ("The SCO created it", [3], "citation"),
        ("The SCO created it", [], "citation"),
        ("Yes [1]", [1], "form"),
    ],
)
def test_check_sentence(text: str, cites: list[int], check: str | None) -> None:
    result = check_sentence(text, cites, EV, LLMSettings())
    if check is None:
        assert isinstance(result, GeneratedSentence), result
    else:
        assert isinstance(result, UnsupportedSentence) and result.check == check, result


def test_read_sentences() -> None:
    assert read_sentences("In 2005, the U.S. agreed [1]. It was suspended. [1][2] Then [3, 4] it ended.") == [
        ("In 2005, the U.S. agreed.", [1]),
        ("It was suspended.", [1, 2]),
        ("Then it ended.", [3, 4]),
    ]
    assert read_sentences("**The documents don't say.**") == [("The documents don't say.", [])]
