"""A list's export of more rows than EXPORT_INLINE_MAX_ROWS runs as a job
(procure.jobs.exports): the same rows, order and totals as the page and the inline
export; the same permission scoping in the worker; the list's permission checked in the
request (403) and again in the worker; progress after every batch; a reload does not
ask twice; below the threshold the export stays in the request."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from procure import listing
from procure.jobs import exports
from procure.jobs.models import Job, JobState
from procure.jobs.services import run_job
from procure.payments.lists import TABS
from procure.roles import Role
from tests.listhelp import assert_export_matches, export_table, job_export
from tests.test_lists import LISTS, lists_world

from ..conftest import login
from ..payments.conftest import world as payment_world


@pytest.fixture()
def world(make, db) -> dict:
    return lists_world(make, db)


@pytest.fixture(autouse=True)
def _documents_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "DOCUMENTS_DIR", str(tmp_path / "documents"))


def _threshold(app, monkeypatch, rows: int) -> None:
    monkeypatch.setitem(app.config, "EXPORT_INLINE_MAX_ROWS", rows)


def _jobs(db) -> list[Job]:
    db.session.expire_all()
    return db.session.scalars(sa.select(Job).where(Job.kind == exports.EXPORT_JOB).order_by(Job.id)).all()


def _same_sheet(inline: bytes, by_job: bytes) -> int:
    """The same header, rows, totals and heading lines (the export time aside); returns
    the number of rows."""
    a, b = export_table(inline), export_table(by_job)
    assert a[0] == b[0] and a[1] == b[1] and a[2] == b[2]
    assert a[3][:3] == b[3][:3]
    return len(b[1])


@pytest.fixture()
def held(monkeypatch) -> list:
    """Tasks sent after a commit are kept here instead of run (the test runs the job)."""
    from procure import dispatch

    sent: list = []
    monkeypatch.setattr(dispatch, "send", lambda name, *args: sent.append((name, args)))
    return sent


def _url(url: str, extra: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}{extra}"


@pytest.mark.parametrize("name", LISTS)
def test_job_export_equals_the_page_and_the_inline_export(app, client, db, world, monkeypatch, name):
    url, table, _attr, key, who = LISTS[name]
    login(client, world[who].username)
    url = _url(url, f"sort={key}&dir=desc&per_page=200")
    assert_export_matches(client, url, table)  # page == inline export
    inline = client.get(_url(url, "export=xlsx")).data
    assert not _jobs(db)
    _threshold(app, monkeypatch, 1)
    data, status = job_export(client, url)
    assert _same_sheet(inline, data) >= 2
    job = _jobs(db)[-1]
    assert job.requested_by_id == world[who].id and job.params["list"] == listing.SPECS[job.params["list"]].name
    assert job.params["args"]["sort"] == key and job.params["args"]["dir"] == "desc"
    assert status["total"] == status["done"] == len(export_table(data)[1])


def test_job_export_of_the_payments_tabs(app, client, db, make, monkeypatch):
    a = payment_world(make, db, approved=(0, 1), passed=True)
    payment_world(make, db, price="50000.00", approved=(0,))
    login(client, a.fin1.username)
    rows = {}
    for tab in TABS:
        url = f"/payments/?tab={tab}&sort=amount&dir=asc&per_page=200"
        _threshold(app, monkeypatch, 2000)
        assert_export_matches(client, url, "payments")
        inline = client.get(_url(url, "export=xlsx")).data
        _threshold(app, monkeypatch, -1)  # even an empty tab's export is a job
        data, _status = job_export(client, url)
        rows[tab] = _same_sheet(inline, data)
        assert _jobs(db)[-1].params["keep"] == {"tab": tab}
    # the tabs narrow the job's rows as they narrow the page's
    assert rows["all"] == 4 and min(rows.values()) == 0


@pytest.mark.parametrize(("name", "user", "sees"), [("contracts", "org_b", "b"), ("reports", "off1", "a"),
                                                    ("tenders", "off2", "b")])
def test_the_worker_scopes_like_the_page(app, world, monkeypatch, name, user, sees):
    url, _table, _attr, _key, _who = LISTS[name]
    people = {"off1": world["off1"], "off2": world["off2"], "org_b": world["b"].org_user}
    _threshold(app, monkeypatch, 0)
    c = app.test_client()
    login(c, people[user].username)
    data, _status = job_export(c, url)
    _h, rows, _t, _a = export_table(data)
    expected = {"contracts": lambda w: w.contract.number, "tenders": lambda w: w.tender.title,
                "reports": lambda w: w.contract.milestones[0].title}[name](world[sees])
    assert len(rows) == 1 and expected in [str(v) for v in rows[0]]


@pytest.mark.parametrize(("url", "user"), [("/budgets/appropriations", "off1"), ("/organizations/bases/", "org_a")])
def test_no_access_no_export(app, db, world, monkeypatch, url, user):
    _threshold(app, monkeypatch, 0)
    c = app.test_client()
    login(c, {"off1": world["off1"], "org_a": world["a"].org_user}[user].username)
    assert c.get(url + "?export=xlsx").status_code == 403
    assert c.get(url).status_code == 403
    assert not _jobs(db)


def test_the_worker_checks_the_permission_again(app, db, world, held):
    fin = world["fin"]
    with app.test_request_context("/budgets/appropriations"):
        export = listing.prepare_export(listing.SPECS["appropriations"], fin, {}, {"year": 2026})
        job = exports.request_list_export(fin, export)
    db.session.commit()
    assert held == [(exports.EXPORT_TASK, (job.id,))]
    fin.role = Role.OFFICER  # no budget.view any more by the time the worker runs
    db.session.commit()
    assert run_job(job.id, exports.build_list_export) == "failed"
    db.session.refresh(job)
    assert job.state == JobState.FAILED and job.result_document_id is None and job.message


def test_a_filter_gone_meanwhile_fails_the_job(app, db, world, held):
    fin, dep = world["fin"], world["b"].officer.department_id
    with app.test_request_context("/contracts/"):
        export = listing.prepare_export(listing.SPECS["contracts"], fin, {"department": str(dep)}, {})
        assert export.args["department"] == str(dep)
        job = exports.request_list_export(fin, export)
    db.session.commit()
    job.params = {**job.params, "args": {**job.params["args"], "department": "987654"}}  # no such choice
    db.session.commit()
    assert run_job(job.id, exports.build_list_export) == "failed"
    db.session.refresh(job)
    assert job.result_document_id is None


def test_progress_after_every_batch(app, client, db, world, monkeypatch):
    seen = []
    real = exports.job_progress

    def record(job_id, done, total=None, message=None):
        seen.append((done, total))
        real(job_id, done, total, message)

    monkeypatch.setattr(exports, "job_progress", record)
    monkeypatch.setattr(listing, "EXPORT_BATCH", 1)
    _threshold(app, monkeypatch, 0)
    login(client, world["fin"].username)
    data, status = job_export(client, "/contracts/")
    n = len(export_table(data)[1])
    assert n >= 2 and seen == [(i, n) for i in range(n + 1)]
    assert status["percent"] == 100


def test_a_reload_does_not_ask_twice(app, db, world, held):
    fin = world["fin"]
    spec = listing.SPECS["contracts"]
    with app.test_request_context("/contracts/"):
        first = exports.request_list_export(fin, listing.prepare_export(spec, fin, {"sort": "amount"}, {}))
        again = exports.request_list_export(fin, listing.prepare_export(spec, fin, {"sort": "amount"}, {}))
        other = exports.request_list_export(fin, listing.prepare_export(spec, fin, {"sort": "number"}, {}))
    assert first.id == again.id != other.id
    db.session.commit()
    assert run_job(first.id, exports.build_list_export) == "done"
    with app.test_request_context("/contracts/"):
        after = exports.request_list_export(fin, listing.prepare_export(spec, fin, {"sort": "amount"}, {}))
    assert after.id not in (first.id, other.id)  # a finished export is asked for anew


def test_below_the_threshold_the_export_stays_in_the_request(app, client, db, world, monkeypatch):
    login(client, world["fin"].username)
    _threshold(app, monkeypatch, 2)  # the contracts list holds exactly two rows
    resp = client.get("/contracts/?export=xlsx")
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    assert not _jobs(db)
    _threshold(app, monkeypatch, 1)
    assert client.get("/contracts/?export=xlsx").status_code == 302
    assert len(_jobs(db)) == 1


def test_the_jobs_history_names_the_export(app, client, db, world, monkeypatch):
    from flask_babel import force_locale

    from procure import history
    from procure.audit import AuditEvent

    _threshold(app, monkeypatch, 0)
    login(client, world["fin"].username)
    job_export(client, "/contracts/")
    job = _jobs(db)[-1]
    events = db.session.scalars(sa.select(AuditEvent).where(
        AuditEvent.object_type == "jobs", AuditEvent.object_id == str(job.id)).order_by(AuditEvent.seq)).all()
    with app.test_request_context(), force_locale("zh_CN"):
        rows = history.entries(events, world["admin"])
        assert str(rows[0].object_name) == "列表导出（xlsx）"
        assert any(str(c.new) and "contracts" in str(c.new) for c in rows[0].changes)
