"""Email tasks: thin and idempotent; the rules are in procure.notifications."""

from __future__ import annotations

from celery import shared_task
from celery.signals import worker_process_shutdown, worker_shutdown

from procure.notifications import delivery
from procure.notifications.services import send_now


@shared_task(bind=True, name="workers.mail.send_notification", max_retries=None, acks_late=True)
def send_notification(self, notification_id: int) -> str:
    delay = delivery.deliver(notification_id)
    if delay is not None:
        raise self.retry(countdown=delay)
    return "done"


@shared_task(name="workers.mail.send_batch", acks_late=True)
def send_batch(notification_ids: list[int]) -> str:
    """Send many outbox rows over the process's one SMTP connection (the reminder scan
    and the sweep hand them over in batches); the messages to try again go back to the
    queue, each group after its own backoff."""
    retry = delivery.deliver_batch(notification_ids)
    for delay, ids in sorted(retry.items()):
        send_batch.apply_async((ids,), countdown=delay)
    return "done"


@shared_task(name="workers.mail.sweep_outbox")
def sweep_outbox() -> int:
    """Send again the queued emails whose dispatch after commit was lost."""
    return send_now(delivery.claim_overdue())


@worker_process_shutdown.connect
@worker_shutdown.connect
def _close_smtp(**_kwargs) -> None:
    """A pool process (or a solo worker) ending says QUIT on its SMTP connection."""
    delivery.link.close()
