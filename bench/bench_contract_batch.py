"""Benchmark: 200 contract PDFs rendered by real Celery workers, one pool process against two.

A fresh PostgreSQL database (BENCH_DATABASE_URL, dropped and re-created) with N contracts
drafted through ``contracts.services.draft_contract`` from final awards (the test factory's
``awarded``: a department, an organization, a funded project and a final tender each; a
three-installment schedule). Then ``celery -A workers.celery_app worker -P prefork -c C``
(started before the clock, as production runs it) for C = 1 and C = 2, two ways:

- **batch**: the regeneration job an administrator asks for after a template change
  (``services.request_regeneration`` → ``workers.contracts.regenerate``, which shares the
  versions out in chunk jobs of ``services.BATCH_CHUNK`` = 20, each a task the pool
  processes take side by side): the clock runs from the job's commit to the job done
  (the last chunk finishes it; its counts must show no failure);
- **per version**: one render job per version (``services.PDF_JOB``, as drafting queues
  them): the versions set back to rendering and their jobs to queued, the N tasks sent;
  the clock runs to the last version ready.

The first render of each pool process (fonts, templates) is inside the clock, as it is
after a deployment. Prints seconds, PDFs/s, the worker's CPU seconds (its own and its pool
processes', start-up included: steadier than the clock on a shared machine), the speed-up
of C = 2 over C = 1, and the load average before and after each run.

    BENCH_DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/bench_contract_batch \\
    BENCH_REDIS_URL=redis://127.0.0.1:6379/15 python bench/bench_contract_batch.py [N] [ROUNDS]

``BENCH_AGAIN=1``: the batch runs only, on the database a previous run left (its N
versions ready), without seeding again.
"""

from __future__ import annotations

import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from bench.bench_common import bench_app  # noqa: E402


def wait_for(predicate, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise SystemExit(f"not done within {timeout} s")


def load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def seed(app, n: int) -> tuple[int, list[int]]:
    """N drafted contracts (their render jobs left queued, nothing sent); returns an
    administrator's id and the version ids."""
    from procure.contracts import services as cs
    from procure.contracts.models import ContractVersion
    from procure.extensions import db
    from tests.factories import Factory

    make = Factory(db)
    start, end = date(2026, 3, 1), date(2026, 12, 31)
    rows = [cs.InstallmentData("30", "milestone", "第一阶段服务", date(2026, 5, 1), "服务记录、进度报告"),
            cs.InstallmentData("40", "milestone", "第二阶段服务", date(2026, 9, 1), "服务记录、满意度调查"),
            cs.InstallmentData("30", "acceptance", "", None, "")]
    content = "\n".join(["为辖区高龄独居老人提供助餐、探访、助洁、健康监测等居家养老服务。" * 3] * 6)
    with app.app_context():
        celery = app.extensions["celery"]
        celery.conf.task_always_eager = False
        for i in range(n):
            aw = make.awarded(price=f"{60000 + i}.36")  # a department each: one appropriation per project
            cs.draft_contract(aw.officer, aw.tender, cs.DraftData(period_start=start, period_end=end,
                                                                  service_content=content, installments=rows))
            if i % 20 == 19:
                db.session.commit()
        db.session.commit()
        admin_id = make.admin().id
        db.session.commit()
        ids = list(db.session.scalars(sa.select(ContractVersion.id).order_by(ContractVersion.id)))
    return admin_id, ids


class Worker:
    def __init__(self, env: dict, concurrency: int, log: Path):
        self.log = log
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(
                [str(Path(sys.executable).parent / "celery"), "-A", "workers.celery_app", "worker", "-P", "prefork",
                 "-c", str(concurrency), "--loglevel=WARNING", "-n", f"bench{os.getpid()}-{concurrency}@%h",
                 "--without-gossip", "--without-mingle", "--without-heartbeat"],
                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)

    def stop(self) -> float:
        """Stop the worker; returns the CPU seconds it and its pool processes used
        (``wait4``: the worker reaps its pool, so their time is in its usage)."""
        self.proc.send_signal(signal.SIGTERM)
        _, _, usage = os.wait4(self.proc.pid, 0)
        self.proc.returncode = 0
        return usage.ru_utime + usage.ru_stime


def main(n: int = 200, rounds: int = 1) -> None:
    os.environ.setdefault("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench_contract_batch")
    redis_url = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
    again = bool(os.environ.get("BENCH_AGAIN"))
    if again:
        from procure import create_app

        app = create_app("testing", SQLALCHEMY_DATABASE_URI=os.environ["BENCH_DATABASE_URL"],
                         MAIL_SUPPRESS_SEND=True, CELERY={"broker_url": "memory://", "task_ignore_result": True})
    else:
        app = bench_app()
    db_url = app.config["SQLALCHEMY_DATABASE_URI"]
    app.config["REDIS_URL"] = redis_url
    from tests.conftest import TEST_MASTER_KEY

    app.config["MASTER_KEY"] = TEST_MASTER_KEY  # the factory seals each tender's data key
    celery = app.extensions["celery"]
    celery.conf.update(broker_url=redis_url, result_backend=None, task_always_eager=False,
                       broker_connection_retry_on_startup=True)
    t = time.perf_counter()
    if again:
        from procure.auth.models import User as _User
        from procure.extensions import db as _db
        from procure.roles import Role

        with app.app_context():
            admin_id = _db.session.scalar(sa.select(_User.id).where(_User.role == Role.ADMIN).order_by(_User.id))
            _db.session.rollback()
    else:
        admin_id, version_ids = seed(app, n)
        print(f"seeded {n} drafted contracts in {time.perf_counter() - t:.1f} s")
    celery.control.purge()

    from procure.auth.models import User
    from procure.contracts import services as cs
    from procure.contracts.models import ContractVersion, VersionState
    from procure.extensions import db
    from procure.jobs.models import Job, JobState

    folder = Path(tempfile.mkdtemp(prefix="bench-contract-batch-"))
    env = dict(os.environ, PROCURE_CONFIG="development", DATABASE_URL=db_url, REDIS_URL=redis_url,
               BASE_URL="http://bench.local", PROCURE_INSTANCE=str(folder / "instance"), PYTHONUNBUFFERED="1",
               MAIL_SUPPRESS_SEND="1", PROCURE_MASTER_KEY=TEST_MASTER_KEY)

    def ready_count() -> int:
        with app.app_context():
            count = db.session.scalar(sa.select(sa.func.count()).select_from(ContractVersion).where(
                ContractVersion.state == VersionState.READY))
            db.session.rollback()
            return count

    def per_version() -> None:
        """Versions back to rendering, their jobs back to queued, N tasks sent."""
        with app.app_context():
            db.session.execute(sa.update(ContractVersion).values(state=VersionState.RENDERING))
            job_ids = list(db.session.scalars(sa.select(ContractVersion.job_id)))
            db.session.execute(sa.update(Job).where(Job.id.in_(job_ids)).values(
                state=JobState.QUEUED, started_at=None, finished_at=None, progress_done=0, progress_total=None))
            db.session.commit()
            for job_id in job_ids:
                celery.send_task(cs.PDF_TASK, args=[job_id])
        wait_for(lambda: ready_count() == n, timeout=3600, interval=0.5)

    def batch() -> None:
        with app.app_context():
            job = cs.request_regeneration(db.session.get(User, admin_id))
            assert job.params["count"] == n, job.params
            db.session.commit()  # the task is sent after this commit
            job_id = job.id

        def done() -> bool:
            with app.app_context():
                state = db.session.get(Job, job_id).state
                db.session.rollback()
            if state == JobState.FAILED:
                raise SystemExit("the batch job failed: see the worker log")
            return state == JobState.DONE

        wait_for(done, timeout=3600, interval=0.5)
        with app.app_context():
            result = db.session.get(Job, job_id).result
            db.session.rollback()
        assert result == {"rendered": n, "failed": 0, "skipped": 0}, result

    results: dict[tuple[str, int], list[float]] = {}
    log = folder / "worker.log"
    # The per-version run comes first: it renders the drafted versions (they are not
    # ready before), which the batch then renders again.
    for _ in range(rounds):
        for kind, run in ((("per version", per_version),) if not again else ()) + (("batch", batch),):
            for concurrency in (1, 2):
                celery.control.purge()
                worker = Worker(env, concurrency, log)
                try:
                    wait_for(lambda w=worker: w.proc.poll() is not None or bool(celery.control.ping(timeout=0.5)),
                             timeout=120, interval=0.2)
                    assert worker.proc.poll() is None, log.read_text(errors="replace")
                    before = load()
                    t0 = time.perf_counter()
                    run()
                    elapsed = time.perf_counter() - t0
                finally:
                    cpu = worker.stop()
                results.setdefault((kind, concurrency), []).append(elapsed)
                print(f"{kind:12s} -c {concurrency}: {elapsed:7.1f} s  {n / elapsed:5.2f} PDFs/s  "
                      f"worker CPU {cpu:6.1f} s ({cpu / n * 1000:4.0f} ms/PDF, start-up included)  "
                      f"(load average before {before}, after {load()})", flush=True)
    print(f"\nN={n}, rounds={rounds}, {os.cpu_count()} CPUs; medians:")
    for kind in ("per version", "batch") if not again else ("batch",):
        one, two = (statistics.median(results[(kind, c)]) for c in (1, 2))
        print(f"  {kind:12s} one process {one:7.1f} s ({one / n * 1000:5.0f} ms/PDF)   two {two:7.1f} s "
              f"({two / n * 1000:5.0f} ms/PDF)   speed-up {one / two:.2f}x")
    celery.control.purge()


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
