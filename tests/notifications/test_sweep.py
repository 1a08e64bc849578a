"""The outbox sweep: only for a lost dispatch. It claims the overdue queued rows (any
number, not 500 a minute), and a claimed row waits a grace period before it is claimed
again, so a long queue is not sent twice."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from procure import dispatch
from procure.notifications import delivery
from procure.notifications.models import Notification, NotificationState
from procure.timeutil import utcnow


def _rows(db, n: int, *, age: timedelta, state=NotificationState.QUEUED) -> list[int]:
    at = utcnow() - age
    notes = [Notification(dedupe_key=f"sweep:{state}:{age}:{i}", rule="test", to_email=f"s{i}@example.org",
                          locale="zh_CN", subject="s", body_text="t", body_html="<p>t</p>", state=state,
                          next_attempt_at=at if state == NotificationState.QUEUED else None,
                          sent_at=at if state == NotificationState.SENT else None)
             for i in range(n)]
    db.session.add_all(notes)
    db.session.commit()
    return [n.id for n in notes]


def test_the_sweep_claims_every_overdue_row_once(db, monkeypatch):
    lost = _rows(db, 600, age=timedelta(minutes=5))
    _rows(db, 3, age=timedelta(seconds=5))  # just dispatched: not the sweep's business
    _rows(db, 2, age=timedelta(minutes=5), state=NotificationState.SENT)
    sent = []
    monkeypatch.setattr(dispatch, "send", lambda name, *args: sent.append((name, args[0])) or True)
    from workers.mail import sweep_outbox  # .run(): this app, not the last one bound to Celery

    assert sweep_outbox.run() == 600
    # In batches (one task sends many over one SMTP connection), each id once.
    assert {name for name, _ids in sent} == {"workers.mail.send_batch"}
    assert all(len(ids) <= 100 for _name, ids in sent) and len(sent) == 6
    assert sorted(i for _name, ids in sent for i in ids) == lost
    assert sweep_outbox.run() == 0  # claimed: left alone while their tasks wait in the queue
    later = db.session.scalar(sa.select(sa.func.min(Notification.next_attempt_at))
                              .where(Notification.id.in_(lost)))
    assert later >= utcnow() - timedelta(seconds=30)
    assert delivery.claim_overdue(grace=timedelta(seconds=-1)) != []  # after the grace, again
