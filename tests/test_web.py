"""The web page in headless Chromium (Debian's chromium), served by the real app on loopback; a screenshot is
kept in tests/artifacts/."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
import uvicorn

from api.app import create_app
from conftest import free_port
from qa_service.engine import Engine

ARTIFACTS = Path(__file__).parent / "artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1280,900",
    "--virtual-time-budget=20000",
]


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed (scripts/dev.sh test installs it)")
        pytest.skip("chromium is not installed: apt-get install chromium")
    return path


@pytest.fixture(scope="module")
def base_url(engine: Engine) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(engine.settings, engine=engine), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def browse(chromium: str, url: str, tmp: Path, screenshot: Path | None = None) -> str:
    args = [chromium, *FLAGS, f"--user-data-dir={tmp}"]
    if screenshot:
        subprocess.run(
            [*args, f"--screenshot={screenshot}", url], capture_output=True, timeout=120, check=False
        )
    r = subprocess.run([*args, "--dump-dom", url], capture_output=True, text=True, timeout=120, check=False)
    return r.stdout


@pytest.mark.browser
def test_chat_page_answers_with_clickable_markers(chromium: str, base_url: str, tmp_path: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "web-chat.png"
    url = f"{base_url}/?q={quote('When did the SCO create a contact group?')}"
    dom = browse(chromium, url, tmp_path / "profile", screenshot=shot)
    assert "In 2005, the Afghanistan Contact Group was created inside the SCO" in dom
    assert 'class="marker" data-passage="1"' in dom  # [1] became a clickable marker
    assert (
        len(re.findall(r'<div class="fn" data-n="\d+">', dom)) == 46
    )  # the citation browser lists every footnote
    assert "Regional Institutional Deficit" in dom  # the passage panel shows where the sentence comes from
    assert shot.exists() and shot.stat().st_size > 10_000


@pytest.mark.browser
def test_citation_browser_shows_citing_sentences(chromium: str, base_url: str, tmp_path: Path) -> None:
    shot = ARTIFACTS / "web-citations.png"
    dom = browse(chromium, f"{base_url}/?cite=15", tmp_path / "profile", screenshot=shot)
    assert "hard evidence that at least some of the TTP" in dom
    assert (
        '<a href="https://digitallibrary.un.org/record/4063066?ln=en&amp;v=pdf"' in dom
    )  # links to the source
