"""Settings read from the environment (prefix QA_, nested groups with __)."""

from __future__ import annotations

import pytest

from qa_service.config import PROJECT_ROOT, RetrievalSettings, Settings


def test_an_empty_variable_is_an_unset_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """`QA_DATA_DIR=` must not put the index in the working directory, nor an empty nested value replace its
    default; a variable with a value still counts."""
    monkeypatch.setenv("QA_DATA_DIR", "")
    monkeypatch.setenv("QA_SERVER__HOST", "")
    monkeypatch.setenv("QA_RETRIEVAL__FINAL_K", "")
    s = Settings()
    assert s.data_dir == PROJECT_ROOT / ".data"
    assert s.server.host == "127.0.0.1"
    assert s.retrieval.final_k == RetrievalSettings().final_k
    monkeypatch.setenv("QA_RETRIEVAL__FINAL_K", "7")
    assert Settings().retrieval.final_k == 7
