"""Real parts: a Celery worker consuming from Redis and an SMTP server on loopback."""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest
from aiosmtpd.controller import Controller
from celery.contrib.testing.worker import start_worker

from procure import create_app

from ..conftest import IsolatedClient, _redis_url, app_config, free_port


class Inbox:
    """An aiosmtpd handler that keeps every message it accepts."""

    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        import email
        import email.policy

        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@contextmanager
def smtp_server(port: int):
    inbox = Inbox()
    # Controller(port=0) fails its own readiness check; and its default host is ::1.
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def wait_for(predicate, timeout: float = 15.0, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def live_app(mail_port: int):
    """An app whose tasks go through Redis (not eager) and whose mail goes to ``mail_port``."""
    redis_url = _redis_url()
    app = create_app("testing", **app_config(
        MAIL_SUPPRESS_SEND=False, MAIL_PORT=mail_port, MAIL_SERVER="127.0.0.1",
        CELERY={"broker_url": redis_url, "result_backend": redis_url, "task_ignore_result": True,
                "broker_connection_retry_on_startup": True, "task_acks_late": True,
                "worker_prefetch_multiplier": 1}))
    app.test_client_class = IsolatedClient
    return app


@contextmanager
def running_worker(app):
    celery = app.extensions["celery"]
    celery.control.purge()  # nothing left over from an earlier run
    with start_worker(celery, pool="solo", concurrency=1, perform_ping_check=False,
                      loglevel="WARNING", shutdown_timeout=10):
        yield


@pytest.fixture()
def mail_port():
    return free_port()
