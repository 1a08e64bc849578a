"""Delivering one outbox row through SMTP (Flask-Mail), exactly once.

The row is locked (``SELECT … FOR UPDATE``) for the whole attempt: a second task for the
same row waits, then finds it sent and does nothing. The state is committed right after
the SMTP server accepts the message. (If the worker dies between the two, the row is
still queued and will be sent again: the Message-ID stays the same, so a receiving
server or client can drop the copy.)

Each process keeps one SMTP connection open across messages (``SMTPLink``): opening one
per message (Flask-Mail's ``mail.send``) cost more than everything else an email costs.
A connection found dead when a message goes out (the server dropped it while idle) is
closed and opened again, and that message sent once on the new one; any other failure
closes the connection and counts as a failed attempt, retried with backoff, as before.
The worker closes the connection when its process ends (``workers/mail.py``).
"""

from __future__ import annotations

import base64
import logging
import os
import secrets
import smtplib
import threading
import time
from datetime import timedelta
from email.header import Header
from email.utils import formatdate, parseaddr
from functools import lru_cache

from flask import current_app
from flask_mail import BadHeaderError, Connection, Message, email_dispatched, sanitize_address
from sqlalchemy import select, update

from ..extensions import db, mail
from ..timeutil import utcnow
from .models import MACHINE, Notification, NotificationState
from .services import mark_sent, record_failure

log = logging.getLogger(__name__)

#: A task arriving this much before the row's next attempt is due is a duplicate
#: (the sweep and a retry both hold the id): it leaves the row alone.
EARLY_TOLERANCE = timedelta(seconds=2)


def _is_permanent(exc: Exception) -> bool:
    """5xx answers about the recipient or the message will not get better by waiting."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPServerDisconnected)
    return False


class _Connection(Connection):
    """Flask-Mail's connection whose socket gives up after ``MAIL_TIMEOUT`` seconds
    (also when Flask-Mail itself reconnects after ``MAIL_MAX_EMAILS``): a kept connection
    to a hung server must not hold the row lock for ever."""

    def configure_host(self):
        host = super().configure_host()
        if host.sock is not None:
            host.sock.settimeout(current_app.config.get("MAIL_TIMEOUT") or None)
        return host

    def send(self, message: Message, envelope_from=None) -> None:
        """Flask-Mail's ``send`` (checks, ``email_dispatched`` signal, reconnection after
        ``MAIL_MAX_EMAILS``), the addresses sanitized once per value (:func:`_address`)."""
        assert message.send_to, "No recipients have been added"
        assert message.sender, "The message does not specify a sender and no default sender is configured"
        if message.has_bad_headers():
            raise BadHeaderError
        if message.date is None:
            message.date = time.time()
        if self.host is not None:
            self.host.sendmail(_address(envelope_from or message.sender), [_address(a) for a in message.send_to],
                               message.as_bytes(), message.mail_options, message.rcpt_options)
        email_dispatched.send(current_app._get_current_object(), message=message)
        self.num_emails += 1
        if self.num_emails == self.mail.max_emails:
            self.num_emails = 0
            if self.host:
                self.host.quit()
                self.host = self.configure_host()


class SMTPLink:
    """One SMTP connection kept open by this process (and thread) for the messages it
    sends. Opened on first use; opened again when the mail settings change (a test app
    on another port) or in a forked child (never the parent's socket)."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _current(self) -> tuple[Connection | None, tuple | None]:
        return getattr(self._local, "conn", None), getattr(self._local, "key", None)

    def send(self, msg: Message) -> None:
        state = current_app.extensions["mail"]
        if state.suppress:  # tests: nothing goes out, the dispatch signal still fires
            mail.send(msg)
            return
        key = (os.getpid(), state.server, state.port, state.username, state.use_ssl, state.use_tls)
        conn, held = self._current()
        if conn is not None and held != key:
            self.close(quit=held[0] == os.getpid())
            conn = None
        if conn is not None:
            try:
                conn.send(msg)
                return
            except (smtplib.SMTPServerDisconnected, ConnectionError) as exc:
                # Most likely closed by the server while idle, before this message's
                # MAIL FROM. (Had it dropped after accepting the data, the copy carries
                # the same Message-ID, as after any retry.)
                log.info("SMTP connection lost (%s): opening another", exc)
                self.close(quit=False)
            except BaseException:
                self.close()
                raise
        conn = self._open(state, key)
        try:
            conn.send(msg)
        except BaseException:
            self.close()
            raise

    def _open(self, state, key: tuple) -> Connection:
        conn = _Connection(state)
        conn.host = conn.configure_host()
        self._local.conn, self._local.key = conn, key
        return conn

    def close(self, quit: bool = True) -> None:
        """Close this thread's connection (QUIT first when ``quit``; errors ignored)."""
        conn, _key = self._current()
        self._local.conn = self._local.key = None
        if conn is None or conn.host is None:
            return
        try:
            if quit:
                conn.host.quit()
            else:
                conn.host.close()
        except (smtplib.SMTPException, OSError):
            conn.host.close()


#: This process's SMTP connection.
link = SMTPLink()


def deliver(note_id: int) -> float | None:
    """Try to send the row. Returns the delay before a retry, or None when there is
    nothing more to do (sent, failed for good, not found, or not yet due). Commits."""
    note = db.session.scalar(select(Notification).where(Notification.id == note_id).with_for_update())
    if note is None:  # never committed, or rolled back: nothing to send
        log.warning("notification %s not found", note_id)
        db.session.rollback()
        return None
    if note.state != NotificationState.QUEUED:
        db.session.rollback()
        return None
    if note.next_attempt_at and note.next_attempt_at - EARLY_TOLERANCE > utcnow():
        db.session.rollback()
        return None
    try:
        link.send(_message(note))
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        delay = record_failure(note, f"{type(exc).__name__}: {exc}", permanent=_is_permanent(exc))
        # Delivery is the task's unit of work: the attempt is counted whatever comes next.
        db.session.commit()
        return delay
    mark_sent(note)
    # Right after the SMTP server accepted it, so the row lock is released and a retry
    # of the task finds the email sent.
    db.session.commit()
    return None


@lru_cache(maxsize=256)
def _header(value: str) -> str:
    """A header value as sent: ASCII as it is, anything else as RFC 2047 encoded words
    (UTF-8), folded. (Cached: a day's reminders share a few subjects.)"""
    if value.isascii() and len(value) <= 900:
        return value
    return Header(value, "utf-8", header_name="Subject").encode(linesep="\r\n")


def _base64(text: str) -> bytes:
    """A text body in canonical form (CRLF line ends, RFC 2045), UTF-8, base64 in lines."""
    canonical = text.replace("\r\n", "\n").replace("\n", "\r\n")
    return base64.encodebytes(canonical.encode("utf-8")).replace(b"\n", b"\r\n")


_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_+@")


def _address(address) -> str:
    """An address as Flask-Mail sanitizes it; a plain ``name@domain`` as it is."""
    if isinstance(address, str) and address.count("@") == 1 and _PLAIN.issuperset(address):
        return address
    return _sanitized(address)


@lru_cache(maxsize=64)
def _sanitized(address) -> str:
    return sanitize_address(address, "utf-8")


class OutboxMessage(Message):
    """An outbox email: Flask-Mail's message whose bytes are built directly — the same
    headers (From, To, Subject, Date, Message-ID, MIME-Version, extras) and a
    ``multipart/alternative`` of the text and HTML bodies, each UTF-8 in base64 — rather
    than through the ``email`` package's generator with the SMTP policy, which cost
    about 1.4 ms a message, more than the SMTP exchange itself."""

    def as_bytes(self) -> bytes:
        boundary = f"=_procure_{secrets.token_hex(12)}"
        headers = [f'Content-Type: multipart/alternative; boundary="{boundary}"', "MIME-Version: 1.0",
                   f"Subject: {_header(self.subject or '')}", f"From: {_address(self.sender)}",
                   f"To: {', '.join(_address(r) for r in self.recipients)}",
                   f"Date: {formatdate(self.date, localtime=True)}", f"Message-ID: {self.msgId}"]
        headers += [f"{k}: {_header(str(v))}" for k, v in (self.extra_headers or {}).items()]
        out = ["\r\n".join(headers).encode("utf-8"), b"\r\n\r\n"]
        for subtype, content in (("plain", self.body or ""), ("html", self.html or "")):
            out += [f'--{boundary}\r\nContent-Type: text/{subtype}; charset="utf-8"\r\n'
                    "Content-Transfer-Encoding: base64\r\n\r\n".encode(), _base64(content)]
        out.append(f"--{boundary}--\r\n".encode())
        return b"".join(out)

    def as_string(self) -> str:
        return self.as_bytes().decode("ascii")


@lru_cache(maxsize=8)
def _no_reply_address(default_sender: str) -> str:
    return parseaddr(default_sender)[1] or default_sender


def _message(note: Notification) -> Message:
    sender = None  # Flask-Mail's MAIL_DEFAULT_SENDER
    if note.sender_name:
        sender = (note.sender_name, _no_reply_address(current_app.config["MAIL_DEFAULT_SENDER"]))
    msg = OutboxMessage(subject=note.subject, recipients=[note.to_email], body=note.body_text, sender=sender,
                        html=note.body_html, extra_headers={"X-Procure-Rule": note.rule})
    msg.msgId = note.message_id
    return msg


def deliver_batch(note_ids: list[int]) -> dict[float, list[int]]:
    """Send many outbox rows over this process's one SMTP connection, each exactly once.

    The rows still queued and due are locked in one statement (``SELECT … FOR UPDATE
    SKIP LOCKED``, in id order): a row another task holds is that task's to send (it
    sends it or schedules its retry), so two workers given the same ids never both send
    one; a row already sent, failed or not yet due is left alone, as by :func:`deliver`.
    Each message is sent; those the server accepted are marked sent in ONE
    compare-and-set statement (each audited, as one by one) and the batch commits once,
    releasing the locks. A message the server refused counts a failed attempt of its
    own (backoff per message; a 5xx fails it for good). When the connection itself fails
    (server down, timeout) the rest of the batch is not tried: each counts the same
    failed attempt, as each would have failed alike.

    Returns {delay in seconds: [ids]} of the messages to try again. Commits. (A worker
    that dies after sending and before the commit leaves its rows queued: they are sent
    again with the same Message-ID, as after :func:`deliver`; a batch bounds how many.)"""
    if not note_ids:
        return {}
    soon = utcnow() + EARLY_TOLERANCE
    notes = list(db.session.scalars(
        select(Notification).where(Notification.id.in_(sorted(set(note_ids))),
                                   Notification.state == NotificationState.QUEUED,
                                   (Notification.next_attempt_at.is_(None)) | (Notification.next_attempt_at <= soon))
        .order_by(Notification.id).with_for_update(skip_locked=True)))
    sent: list[Notification] = []
    retry: dict[float, list[int]] = {}
    broken: str | None = None
    for note in notes:
        if broken is None:
            try:
                link.send(_message(note))
                sent.append(note)
                continue
            except (TimeoutError, smtplib.SMTPException, OSError) as exc:
                error, permanent = f"{type(exc).__name__}: {exc}", _is_permanent(exc)
                if not isinstance(exc, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused):
                    broken = error  # the connection, not this message: the rest would fail alike
        else:
            error, permanent = f"not tried, the SMTP connection failed: {broken}", False
        delay = record_failure(note, error, permanent=permanent)
        if delay is not None:
            retry.setdefault(delay, []).append(note.id)
    if sent:
        ids = [n.id for n in sent]
        moved = MACHINE.transition_many(
            Notification, ids, NotificationState.QUEUED, NotificationState.SENT, None,
            values={"attempts": Notification.attempts + 1, "sent_at": utcnow(), "next_attempt_at": None},
            extra_by_id={n.id: {"attempts": n.attempts + 1} for n in sent})
        if len(moved) != len(ids):  # pragma: no cover - the rows are locked by this transaction
            log.error("outbox rows %s changed under their lock", sorted(set(ids) - set(moved)))
    # The batch is the task's unit of work: sent and failed attempts are counted together.
    db.session.commit()
    return retry


def claim_overdue(grace: timedelta = timedelta(seconds=60), limit: int = 5000) -> list[int]:
    """Queued rows whose attempt is overdue by more than ``grace`` (their dispatch after
    commit was lost, e.g. the broker was down). Each claimed row's next attempt is set to
    now, so the next sweep leaves it alone for another ``grace`` while its task waits in
    the queue (a duplicate would be harmless, only wasteful). Commits.

    In the normal case every row was handed to the worker at its commit and this finds
    nothing."""
    now = utcnow()
    overdue = (select(Notification.id).where(Notification.state == NotificationState.QUEUED,
                                             Notification.next_attempt_at <= now - grace)
               .order_by(Notification.id).limit(limit))
    ids = list(db.session.scalars(
        update(Notification).where(Notification.id.in_(overdue.scalar_subquery()))
        .values(next_attempt_at=now).returning(Notification.id)))
    # The claim must be visible before the ids go to the broker (the sweep task's unit of work).
    db.session.commit()
    return sorted(ids)
