"""A list's export above EXPORT_INLINE_MAX_ROWS in a real Celery worker through Redis:
the request answers with the job's progress page, the worker writes the spreadsheet in
the user's language with the same rows as the inline export (an organization's only its
own contract), and the JSON endpoint offers the download."""

from __future__ import annotations

import re

import pytest

from tests.listhelp import export_table
from tests.test_lists import lists_world

from ..conftest import login
from .conftest import live_app, running_worker, wait_for

pytestmark = pytest.mark.integration


def test_worker_writes_the_list_export(db, make, tmp_path):
    world = lists_world(make, db)
    world["fin"].locale = "en"
    make.commit()
    app = live_app(mail_port=1)
    app.config["DOCUMENTS_DIR"] = str(tmp_path / "documents")
    cases = [(world["fin"], "/contracts/?sort=amount&dir=desc", 2),
             (world["b"].org_user, "/contracts/", 1)]
    clients, inline = [], []
    for user, url, _rows in cases:
        client = app.test_client()
        login(client, user.username)
        resp = client.get(url + "&export=xlsx" if "?" in url else url + "?export=xlsx")
        assert resp.status_code == 200  # below the threshold: written in the request
        clients.append(client)
        inline.append(export_table(resp.data))
    app.config["EXPORT_INLINE_MAX_ROWS"] = 0
    with running_worker(app):
        for client, (_user, url, rows), (header, body, totals, above) in zip(clients, cases, inline, strict=True):
            resp = client.get(url + "&export=xlsx" if "?" in url else url + "?export=xlsx")
            assert resp.status_code == 302, resp.data[:300]
            job_id = int(re.search(r"/jobs/(\d+)/progress", resp.location).group(1))

            def final(client=client, job_id=job_id):
                body = client.get(f"/jobs/{job_id}", headers={"Accept": "application/json"}).json
                return body if body["is_final"] else None

            status = wait_for(final, timeout=60)
            assert status["state"] == "done" and status["done"] == status["total"] == rows, status
            data = client.get(status["download_url"])
            assert data.status_code == 200 and data.mimetype.endswith("spreadsheetml.sheet")
            j_header, j_body, j_totals, j_above = export_table(data.data)
            assert (j_header, j_body, j_totals, j_above[:3]) == (header, body, totals, above[:3])
            assert len(j_body) == rows
    assert inline[0][0][0] == "Contract number"  # the finance user reads English, in the worker too
    assert str(inline[1][1][0][0]) == world["b"].contract.number
