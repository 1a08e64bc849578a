"""Configuration, read from the environment.

Config is the base; DevelopmentConfig is the one-machine trial (SQLite in instance/,
embedded Redis, local SMTP sink); TestingConfig is used by the test-suite;
ProductionConfig expects PostgreSQL, a real Redis and real SMTP.
The whole Celery beat schedule lives here, in one place.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = Path(os.environ.get("PROCURE_INSTANCE", BASE_DIR / "instance"))


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres://"):  # the Heroku-style spelling
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url or f"sqlite:///{INSTANCE_DIR / 'procure.sqlite'}"


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-change-me")
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    #: SQLite only (the embedded default): how long a writer waits for another writer's
    #: lock before "database is locked" (procure/sqlite.py; every connection is in WAL mode).
    SQLITE_BUSY_TIMEOUT_MS = int(os.environ.get("SQLITE_BUSY_TIMEOUT_MS", "15000"))

    #: Base of the links in emails and other text produced outside a request.
    BASE_URL = os.environ.get("BASE_URL", "http://127.0.0.1:5000")

    REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    #: The key read pages served again while no write has committed since they were built
    #: (procure/pagecache.py), for at most PAGE_CACHE_SECONDS.
    PAGE_CACHE = _bool("PAGE_CACHE", True)
    PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", "60"))

    # Sessions: HTTP-only, SameSite, short-lived; Secure in production (HTTPS).
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_DURATION = timedelta(days=7)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    WTF_CSRF_TIME_LIMIT = 8 * 3600

    # Login throttling (Flask-Limiter); storage is Redis so all workers share counts.
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or REDIS_URL
    RATELIMIT_HEADERS_ENABLED = True

    #: Lifetime of a password-reset link.
    PASSWORD_RESET_TTL = timedelta(hours=1)
    #: The welcome email's set-password link (single use).
    WELCOME_LINK_TTL = timedelta(hours=72)

    # Mail (Flask-Mail): every email leaves through the outbox and these settings.
    MAIL_SERVER = os.environ.get("MAIL_SERVER", "127.0.0.1")
    MAIL_PORT = int(os.environ.get("MAIL_PORT", "1025"))
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)
    MAIL_USE_SSL = _bool("MAIL_USE_SSL", False)
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME")
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD")
    MAIL_DEFAULT_SENDER = os.environ.get("MAIL_DEFAULT_SENDER", "Procure <noreply@example.org>")
    #: Who signs emails that no department sends (welcome, password reset …); unset: the
    #: system, named in the recipient's language.
    ISSUER_NAME = os.environ.get("ISSUER_NAME") or None
    MAIL_TIMEOUT = 10
    #: Outbox retries: attempt n waits MAIL_RETRY_BASE_SECONDS * 2**(n-1), capped.
    MAIL_MAX_ATTEMPTS = int(os.environ.get("MAIL_MAX_ATTEMPTS", "8"))
    MAIL_RETRY_BASE_SECONDS = float(os.environ.get("MAIL_RETRY_BASE_SECONDS", "30"))
    MAIL_RETRY_MAX_SECONDS = 3600.0

    # i18n
    LANGUAGES = {"zh_CN": "简体中文", "en": "English"}
    BABEL_DEFAULT_LOCALE = "zh_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")

    BOOTSTRAP_SERVE_LOCAL = True
    #: How often a job's progress bar asks for its state (ms); a failed poll waits twice
    #: as long each time, up to 15 times this (templates/macros/jobs.html).
    JOB_POLL_MS = 1000
    #: A list's spreadsheet of more rows than this is written by a worker (a job with a
    #: progress page), not in the request (procure/listing.py, procure/jobs/exports.py).
    EXPORT_INLINE_MAX_ROWS = int(os.environ.get("EXPORT_INLINE_MAX_ROWS", "2000"))
    BOOTSTRAP_BOOTSWATCH_THEME = None

    #: The reminder scan also looks at this many earlier days, so a day the beat missed
    #: is caught up while the due date has not passed (unique keys prevent repeats).
    REMINDER_CATCH_UP_DAYS = int(os.environ.get("REMINDER_CATCH_UP_DAYS", "2"))

    #: The master key that wraps each tender's data key (procure/sealing.py): base64 of 32
    #: bytes from the environment, else the key file (created by ``flask sealing init-key``,
    #: mode 0600). Keep it outside the database and its backups; without it no sealed bid opens.
    MASTER_KEY = os.environ.get("PROCURE_MASTER_KEY") or None
    MASTER_KEY_FILE = os.environ.get("PROCURE_MASTER_KEY_FILE") or str(INSTANCE_DIR / "master.key")

    #: PDF signatures (procure/signing.py, procure/pades.py). The deployment's certificate
    #: authority: its folder (``flask signing init-ca`` creates ca.pem and ca.key, mode 0600),
    #: or the files of a CA of the deployment's own; the passphrase of its key, if any.
    SIGNING_CA_DIR = os.environ.get("PROCURE_SIGNING_CA_DIR") or str(INSTANCE_DIR / "signing-ca")
    SIGNING_CA_CERT_FILE = os.environ.get("PROCURE_SIGNING_CA_CERT_FILE") or None
    SIGNING_CA_KEY_FILE = os.environ.get("PROCURE_SIGNING_CA_KEY_FILE") or None
    SIGNING_CA_PASSPHRASE = os.environ.get("PROCURE_SIGNING_CA_PASSPHRASE") or None
    SIGNING_CA_NAME = os.environ.get("PROCURE_SIGNING_CA_NAME", "Procure Signing CA")
    #: Key algorithm of the CA and of signers' certificates: "rsa3072" or "ec-p256".
    SIGNING_KEY_ALGORITHM = os.environ.get("PROCURE_SIGNING_KEY_ALGORITHM", "rsa3072")
    #: Validity of a signer's certificate (days).
    SIGNING_CERT_DAYS = int(os.environ.get("PROCURE_SIGNING_CERT_DAYS", "730"))
    #: An RFC 3161 time-stamping authority: signatures are then PAdES B-T (else B-B).
    SIGNING_TSA_URL = os.environ.get("PROCURE_SIGNING_TSA_URL") or None
    SIGNING_TSA_TIMEOUT = int(os.environ.get("PROCURE_SIGNING_TSA_TIMEOUT", "10"))

    #: Overrides of policy values (procure/policy.py), e.g. {"tender.min_days.public": 25}.
    POLICY_OVERRIDES: dict = {}

    #: Refuse to serve when the database is behind the migrations.
    CHECK_SCHEMA = True

    CELERY = {
        "broker_url": REDIS_URL,
        "result_backend": REDIS_URL,
        "task_ignore_result": True,
        "broker_connection_retry_on_startup": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "timezone": "Asia/Shanghai",
        "beat_schedule": {
            # Picks up outbox rows whose after-commit dispatch was lost (broker down).
            "outbox-sweep": {"task": "workers.mail.sweep_outbox", "schedule": 60.0},
            # Sends again the background jobs whose enqueue was lost (broker down).
            "jobs-sweep": {"task": "workers.jobs.sweep", "schedule": 120.0},
            # Registry standing rules (abnormal/serious lists, rating expiry), then the
            # reminder scan; both idempotent, daily in Asia/Shanghai time.
            "registry-standing": {"task": "workers.registry.apply_standing_rules",
                                  "schedule": crontab(hour=1, minute=0)},
            "reminder-scan": {"task": "workers.reminders.scan", "schedule": crontab(hour=8, minute=0)},
            # Tender time events (bid deadline, opening of the bids, later the ends of the
            # publicity and challenge windows): due ones applied once, whatever the workers.
            "tender-events": {"task": "workers.tenders.apply_due_events", "schedule": 60.0},
            # Acceptances whose rectification period ended without a resubmission: terminated.
            "acceptance-lapse": {"task": "workers.acceptance.lapse_rectifications",
                                 "schedule": crontab(hour=1, minute=30)},
        },
    }


class DevelopmentConfig(Config):
    DEBUG = False


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "test-secret"
    WTF_CSRF_ENABLED = False
    RATELIMIT_STORAGE_URI = "memory://"
    MAIL_RETRY_BASE_SECONDS = 0.5
    MAIL_RETRY_MAX_SECONDS = 2.0
    #: Cheap hashing in tests only; production keeps Werkzeug's scrypt.
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"
    #: Browser tests wait for progress bars: poll five times as often as in production.
    JOB_POLL_MS = 200
    BASE_URL = "http://testserver.local"
    CHECK_SCHEMA = False
    #: Each test sees the page built (tests/test_pagecache.py switches it on).
    PAGE_CACHE = False


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True


CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def celery_config(redis_url: str) -> dict:
    """The Celery settings with broker and result backend pointing at ``redis_url``."""
    conf = dict(Config.CELERY)
    conf["broker_url"] = redis_url
    conf["result_backend"] = redis_url
    return conf
