"""The CLI as a user runs it: the installed console script in a subprocess, against a real index."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from qa_service.cli.common import edge
from qa_service.engine import Engine
from qa_service.errors import InvalidInput

CLI = str(Path(sys.executable).with_name("qa-service"))


def run(engine: Engine | None, *args: str, data_dir: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QA_PROGRESS="false")
    if engine is not None or data_dir is not None:
        env["QA_DATA_DIR"] = str(data_dir or engine.settings.data_dir)  # type: ignore[union-attr]
    return subprocess.run([CLI, *args], capture_output=True, text=True, env=env, timeout=300)


def test_corpus_inspect_json() -> None:
    r = run(None, "corpus", "inspect", "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)[0]
    refs = doc["references"]
    assert len(refs) == 46 and {"number", "text", "urls"} <= refs[0].keys()
    assert refs[30]["urls"] == ["https://home.treasury.gov/policy-issues/financial-sanctions/faqs/951"]
    assert doc["problems"] == [] and doc["metadata"]["author"] == "A. Farid Tookhy"


def test_corpus_inspect_table() -> None:
    r = run(None, "corpus", "inspect")
    assert r.returncode == 0 and "Regional Institutional Deficit" in r.stdout and "problems: none" in r.stdout


@pytest.mark.parametrize(("content", "message"), [(b"", "empty"), (b"\xff\xfe\xfa", "not UTF-8")])
def test_bad_file_exit_2_without_traceback(tmp_path: Path, content: bytes, message: str) -> None:
    f = tmp_path / "bad.txt"
    f.write_bytes(content)
    r = run(None, "corpus", "inspect", "--path", str(f))
    assert r.returncode == 2 and message in r.stderr and str(f) in r.stderr.replace("\n", "")
    assert "Traceback" not in r.stderr


def test_search_ask_cite_json(engine: Engine) -> None:
    r = run(engine, "search", "Afghanistan Contact Group", "--k", "3", "--json")
    hits = json.loads(r.stdout)
    assert len(hits) == 3 and {"id", "text", "section", "footnotes"} <= hits[0].keys()
    a = json.loads(run(engine, "ask", "When did India reopen its embassy in Kabul?", "--json").stdout)
    assert "July 2022" in a["answer"] and {"answer", "abstained", "passages", "footnotes"} <= a.keys()
    c = json.loads(run(engine, "cite", "17", "--json").stdout)
    assert c["number"] == 17 and "rand.org" in c["url"] and c["cited_by"]


def test_errors_are_messages_with_exit_2(engine: Engine, tmp_path: Path) -> None:
    r = run(engine, "cite", "99")
    assert r.returncode == 2 and "footnote 99 does not exist" in r.stderr and "Traceback" not in r.stderr
    r = run(engine, "search", "   ")
    assert r.returncode == 2 and "empty" in r.stderr
    r = run(engine, "search", "x", "--k", "500")
    assert r.returncode == 2 and "k must be" in r.stderr
    r = run(None, "ask", "anything", data_dir=tmp_path / "none")
    assert r.returncode == 2 and "qa-service ingest" in r.stderr


def test_an_error_message_keeps_its_square_brackets(capsys: pytest.CaptureFixture[str]) -> None:
    @edge
    def fails() -> None:
        raise InvalidInput("thresholds.toml: no [writer.zenda.min] or [writer.zenda.max] for the writer 'zenda'")

    with pytest.raises(typer.Exit) as exited:
        fails()
    said = capsys.readouterr().err
    assert exited.value.exit_code == 2 and "no [writer.zenda.min] or [writer.zenda.max] for" in said, said


def test_the_documents_text_is_printed_as_written(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A document's brackets are its own, not Rich markup: "[t]he" and "[sic]" stay, "[/i]" is no error."""
    from types import SimpleNamespace

    from qa_service.cli import query

    said = SimpleNamespace(section="[Zenda] 2", text="Sapt said “[t]he treaty [sic] is a sham [/i]”. [1]")
    note = SimpleNamespace(number=7, text="Sapt, “[t]he Treaty” [/i], 1921.", cited_by=[said], source=None)
    monkeypatch.setattr(query, "open_engine", lambda: SimpleNamespace(cite=lambda n, document: note))
    query.cite(7, None, False)
    shown = capsys.readouterr().out
    assert "Footnote 7: Sapt, “[t]he Treaty” [/i], 1921." in shown, shown
    assert "• [[Zenda] 2] Sapt said “[t]he treaty [sic] is a sham [/i]”. [1]" in shown, shown
    # and a table's cells too (a fetched source's title, a section's)
    from rich.table import Table

    from qa_service.cli.common import out

    table = Table("title")
    table.add_row("The [/i] Review of [t]he Treaty")
    out.print(table)
    assert "The [/i] Review of [t]he Treaty" in capsys.readouterr().out


def test_ingest_unchanged_is_fast_and_says_so(engine: Engine) -> None:
    r = run(engine, "ingest", "--json")
    report = json.loads(r.stdout)
    assert report["unchanged"] is True and report["embedded"] == 0 and report["seconds"] < 2


def test_serve_keeps_an_idle_connection_open_past_uvicorns_default(tmp_path: Path, engine: Engine) -> None:
    """A client that reuses a kept-alive connection after a pause must not find it closed under it (that lost
    requests under load): serve keeps idle connections server.keep_alive_s (75 s), not uvicorn's 5 s."""
    import http.client
    import shutil
    import time

    import httpx

    from conftest import free_port, until_ready

    shutil.copytree(engine.settings.data_dir, tmp_path / "data", ignore=shutil.ignore_patterns("jobs"))
    port = free_port()
    env = dict(os.environ, QA_DATA_DIR=str(tmp_path / "data"), QA_PROGRESS="false")
    proc = subprocess.Popen(
        [CLI, "serve", "--port", str(port), "--no-ingest"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            until_ready(client, proc)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", "/health")
        assert conn.getresponse().read() == b'{"status":"ok"}'
        first = conn.sock
        time.sleep(6)  # idle for longer than uvicorn's default keep-alive (5 s)
        conn.request("GET", "/health")  # on a connection the server had closed: RemoteDisconnected
        assert conn.getresponse().read() == b'{"status":"ok"}'
        assert conn.sock is first  # the same connection served both
        conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def test_eval_judges_the_change_against_a_previous_report(engine: Engine, tmp_path: Path) -> None:
    team = Path(__file__).parents[1] / "eval" / "sets" / "team.jsonl"
    items = [line for line in team.read_text().splitlines() if '"question"' in line][:3]
    small = tmp_path / "small.jsonl"
    small.write_text("\n".join(items) + "\n")
    quick = ("eval", "--set", str(small), "--no-held-out", "--no-baselines", "--no-ablations")
    first = run(engine, *quick, "--out", str(tmp_path / "one"))
    assert first.returncode == 0, first.stderr
    again = run(engine, *quick, "--out", str(tmp_path / "two"), "--previous", str(tmp_path / "one" / "report.json"))
    assert again.returncode == 0, again.stderr
    change = json.loads((tmp_path / "two" / "report.json").read_text())["change"]
    # no held-out run on either side: both are judged by the shipped weights' answers, item by item
    assert change["judged"] == "the shipped weights on every writer" and change["matched"] == 3
    assert change["metrics"]["fact_coverage"]["delta"] == 0.0  # the same code answers the same
    assert change["writers"]["team"] == {"items": 3, "now_right": 0, "now_wrong": 0}
    shown = (tmp_path / "two" / "latest.md").read_text()
    assert "## Change against the previous report (the shipped weights on every writer, macro over writers)" in shown
    assert "change (macro, shipped weights)" in again.stdout
    previous = str(tmp_path / "one" / "report.json")
    lower = run(engine, *quick, "--lowercase", "--out", str(tmp_path / "lower"), "--previous", previous)
    assert lower.returncode == 0, lower.stderr
    report = json.loads((tmp_path / "lower" / "report.json").read_text())
    assert report["meta"]["asked"] == "in lower case" and len(report["rows"]) == 3
    # judged against a run asked as written, the change says so
    assert report["change"]["judged"].endswith("asked in lower case, the previous run's as written)")
    assert "questions asked in lower case" in (tmp_path / "lower" / "latest.md").read_text()
    bad = tmp_path / "notes.json"
    bad.write_text("not a report")
    r = run(engine, "eval", "--previous", str(bad))  # refused before anything is run
    assert r.returncode == 2 and "--previous" in r.stderr and "not a readable report.json" in r.stderr
