"""Procure: government purchase of services, from budget to acceptance."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, flash, has_request_context, jsonify, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .extensions import babel, bootstrap, csrf, db, limiter, login_manager, mail, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: object | str | None = None, **overrides) -> Flask:
    """The application factory. ``config`` is a config class, its name
    ("development", "testing", "production") or None for PROCURE_CONFIG / development."""
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                instance_path=os.environ.get("PROCURE_INSTANCE", str(ROOT / "instance")))
    _configure(app, config, overrides)
    from .sessioncookie import SessionInterface

    app.session_interface = SessionInterface()
    _configure_extensions(app)
    _configure_input(app)
    _configure_i18n(app)
    _configure_blueprints(app)
    _configure_errors(app)
    _configure_cli(app)
    _configure_celery(app)
    return app


def _configure(app: Flask, config, overrides: dict) -> None:
    from config import CONFIGS

    if config is None or isinstance(config, str):
        config = CONFIGS[config or os.environ.get("PROCURE_CONFIG", "development")]
    app.config.from_object(config)
    app.config.update(overrides)
    # Celery settings follow REDIS_URL when a test or caller overrides it.
    if "REDIS_URL" in overrides and "CELERY" not in overrides:
        from config import celery_config

        app.config["CELERY"] = celery_config(overrides["REDIS_URL"])
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)


def _configure_extensions(app: Flask) -> None:
    # Models must be imported before migrate/metadata is used.
    from . import models  # noqa: F401

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    mail.init_app(app)
    bootstrap.init_app(app)
    limiter.init_app(app)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"

    # The user loader is auth's (procure/auth/views.py), registered when its views load.

    @login_manager.unauthorized_handler
    def unauthorized():
        if _wants_json():
            return jsonify(error="unauthorized", reason=_("Please sign in.")), 401
        flash(_("Please sign in to see this page."), "info")
        return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))


def _configure_input(app: Flask) -> None:
    """Hostile input is handled in one place for each kind (procure.parsing): ids in
    paths, text in query strings and paths, pages (db.paginate), form fields
    (procure.forms); SQLite gets WAL and a busy timeout (procure.sqlite)."""
    from .parsing import IdConverter, check_request_text
    from .sqlite import configure_sqlite

    app.url_map.converters["int"] = IdConverter  # before any blueprint adds a rule
    app.before_request(check_request_text)
    with app.app_context():
        configure_sqlite(app, list(db.engines.values()))
        from . import pagecache

        pagecache.init_app(app, db.engine)


def _select_locale() -> str:
    """The session's language (set at sign-in from the account, and by the switch),
    else the default. It never loads the user: that could recurse through Flask-Login."""
    from flask import current_app

    langs = current_app.config["LANGUAGES"]
    if has_request_context() and session.get("lang") in langs:
        return session["lang"]
    return current_app.config["BABEL_DEFAULT_LOCALE"]


_LOCALES: dict = {}


def _babel_locale():
    """The request's Locale for Flask-Babel, parsed once per process: parsing a locale name
    reads babel's list of locales (about half a millisecond), and Flask-Babel would do it
    on every request."""
    name = _select_locale()
    locale = _LOCALES.get(name)
    if locale is None:
        from babel import Locale

        locale = _LOCALES[name] = Locale.parse(name)
    return locale


def _configure_i18n(app: Flask) -> None:
    from . import babelctx
    from .money import format_money

    babelctx.install()
    babel.init_app(app, locale_selector=_babel_locale)

    from .money import format_large_amount, format_wan, rmb_upper

    app.jinja_env.filters["money"] = format_money
    app.jinja_env.filters["rmb_upper"] = rmb_upper
    app.jinja_env.filters["large_amount"] = format_large_amount
    from .timeutil import local_datetime, long_day, long_time

    app.jinja_env.filters["dt"] = local_datetime
    app.jinja_env.filters["wan"] = format_wan

    app.jinja_env.filters["day"] = long_day
    #: Day and minute (a due time on a work list): 2026年12月5日 00:00, no seconds.
    app.jinja_env.filters["long_time"] = long_time
    from .badges import state_badge

    app.jinja_env.globals["state_badge"] = state_badge
    from .web import id_url

    app.jinja_env.globals["id_url"] = id_url
    app.jinja_env.add_extension("jinja2.ext.i18n")

    @app.context_processor
    def inject():
        from .nav import items_for
        from .permissions import can

        user = current_user._get_current_object()  # once, not through the proxy at every use
        return {"can": lambda action, *obj: can(user, action, *obj),
                "nav_items": lambda: items_for(user) if user.is_authenticated else [],
                "current_locale": _select_locale(), "languages": app.config["LANGUAGES"]}


def _configure_blueprints(app: Flask) -> None:
    from .modules import submodules, view_modules

    for views in view_modules():
        app.register_blueprint(views.bp)
    # Each module's reminder rules register with the engine on import.
    submodules("reminders")
    # Each module's dashboard work lists and queues that have no page of their own.
    submodules("worklists")

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


def _wants_json() -> bool:
    return request.is_json or (request.accept_mimetypes.best == "application/json")


def _configure_errors(app: Flask) -> None:
    from flask_wtf.csrf import CSRFError

    from .errors import DomainError

    messages = {
        400: lambda: _("The request could not be understood."),
        403: lambda: _("You are not allowed to see this page."),
        404: lambda: _("This page does not exist."),
        405: lambda: _("This action is not allowed here."),
        413: lambda: _("The upload is too large."),
        429: lambda: _("Too many attempts. Please wait a minute and try again."),
        500: lambda: _("Something went wrong on our side. Nothing was saved; please try again."),
    }

    def render_error(code: int, reason: str | None = None):
        reason = reason or messages.get(code, messages[500])()
        if code >= 500:
            db.session.rollback()
        if _wants_json():
            return jsonify(error=code, reason=reason), code
        return render_template("errors/error.html", code=code, reason=reason), code

    for code in messages:
        app.register_error_handler(code, lambda e, code=code: render_error(code))

    @app.errorhandler(CSRFError)
    def csrf_error(e):
        return render_error(400, _("The form expired or was sent from elsewhere. Please try again."))

    @app.errorhandler(DomainError)
    def domain_error(e: DomainError):
        db.session.rollback()
        return render_error(e.status_code, str(e.message))


def _configure_cli(app: Flask) -> None:
    from .cli import register

    register(app)


def _configure_celery(app: Flask) -> None:
    from workers import celery_init_app

    celery_init_app(app)
