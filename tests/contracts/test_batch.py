"""The batch regeneration shared out in chunks: the batch job's task creates one child
job per chunk; each chunk renders its versions (one that fails is counted, the others
stand) and adds its counts to the batch job in one UPDATE; the last chunk finishes it.
Two chunks run at once (threads, as two pool processes) and the counts add up."""

from __future__ import annotations

from sqlalchemy import select

from procure.contracts import rendering
from procure.contracts import services as cs
from procure.contracts.models import ContractVersion, VersionState
from procure.errors import DomainError
from procure.jobs.models import Job, JobState
from procure.jobs.services import run_child, start_chunks

from ..factories import Factory
from ..threads import race
from .conftest import drafted, final_award


def _versions(make, db, n):
    first = final_award(make, db)
    awards = [first] + [final_award(make, db, officer=first.officer) for _ in range(n - 1)]
    return [drafted(make, db, a).current_version.id for a in awards], awards


def _children(db, parent_id):
    db.session.expire_all()
    return list(db.session.scalars(select(Job).where(
        Job.kind == cs.BATCH_CHUNK_JOB, Job.params["parent"].as_integer() == parent_id).order_by(Job.id)))


def test_chunks_count_a_failure_and_finish_the_batch(make, db, ca, monkeypatch):
    ids, awards = _versions(make, db, 4)
    cs.sign_contract(awards[3].org_user, db.session.get(ContractVersion, ids[3]).contract, Factory.PASSWORD)
    db.session.commit()  # one party signed the fourth: never rendered again
    monkeypatch.setattr(cs, "BATCH_CHUNK", 2)
    before = {i: db.session.get(ContractVersion, i).pdf_document_id for i in ids}
    real = rendering.render_version

    def render(version, *args, **kwargs):
        if version.id == ids[1]:
            raise RuntimeError("the template broke on this one")
        return real(version, *args, **kwargs)

    monkeypatch.setattr(rendering, "render_version", render)
    job = cs.request_regeneration(make.admin())
    assert job.params == {"count": 3}
    db.session.commit()  # eager: the batch task, then its chunks, ran
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.state == JobState.DONE and (job.progress_done, job.progress_total) == (3, 3)
    assert job.result == {"rendered": 2, "failed": 1, "skipped": 0}
    assert "1" in job.message and "3" in job.message
    children = _children(db, job.id)
    assert [c.params["items"] for c in children] == [ids[:2], ids[2:3]]
    assert all(c.state == JobState.DONE for c in children)
    after = {i: db.session.get(ContractVersion, i) for i in ids}
    assert after[ids[0]].pdf_document_id != before[ids[0]] and after[ids[2]].pdf_document_id != before[ids[2]]
    # the one that failed is as it was (its savepoint rolled back), ready to be signed
    assert after[ids[1]].pdf_document_id == before[ids[1]] and after[ids[1]].state == VersionState.READY
    assert after[ids[3]].pdf_document_id == before[ids[3]]


def test_two_chunks_at_once_add_up(app, make, db, ca, held, monkeypatch):
    ids, _ = _versions(make, db, 2)
    monkeypatch.setattr(cs, "BATCH_CHUNK", 1)
    job = cs.request_regeneration(make.admin())
    db.session.commit()  # held: no worker has taken it yet
    assert start_chunks(job.id, rendering.plan_regeneration, cs.BATCH_CHUNK_JOB, cs.BATCH_CHUNK) == "started"
    assert start_chunks(job.id, rendering.plan_regeneration, cs.BATCH_CHUNK_JOB, 1) == "skipped"  # a duplicate
    children = [c.id for c in _children(db, job.id)]
    assert len(children) == 2 and [t for t in held if t[0] == cs.BATCH_CHUNK_TASK] == [
        (cs.BATCH_CHUNK_TASK, (c,)) for c in children]
    assert db.session.get(Job, job.id).state == JobState.RUNNING

    def chunk(d, child):
        if run_child(child, rendering.regenerate_chunk) != "done":
            raise DomainError(d.session.get(Job, child).message)

    ok, refused = race(app, [lambda d, c=children[0]: chunk(d, c), lambda d, c=children[1]: chunk(d, c)])
    assert sorted(ok) == [0, 1] and refused == []
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.state == JobState.DONE and job.progress_done == 2 and job.message is None
    assert job.result == {"rendered": 2, "failed": 0, "skipped": 0}


def test_a_chunk_that_fails_as_a_whole_still_counts(make, db, ca, held, monkeypatch):
    ids, _ = _versions(make, db, 1)
    job = cs.request_regeneration(make.admin())
    db.session.commit()
    start_chunks(job.id, rendering.plan_regeneration, cs.BATCH_CHUNK_JOB, cs.BATCH_CHUNK)
    [child] = _children(db, job.id)

    def broken(job):
        raise RuntimeError("database went away")

    assert run_child(child.id, broken) == "failed"
    db.session.expire_all()
    job = db.session.get(Job, job.id)
    assert job.state == JobState.DONE and job.result == {"failed": 1} and job.progress_done == 1
