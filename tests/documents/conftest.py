"""Each documents test stores its files in its own temporary folder."""

from __future__ import annotations

import pytest


@pytest.fixture()
def documents_dir(app, tmp_path, monkeypatch):
    path = tmp_path / "documents"
    monkeypatch.setitem(app.config, "DOCUMENTS_DIR", str(path))
    return path
