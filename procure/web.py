"""What thin views share: run one service call and commit once, turning domain errors
into form errors or flashed messages in the user's language."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import abort, flash, request
from flask_login import current_user

from . import told
from .errors import DomainError, NotPermitted
from .extensions import db
from .permissions import NO_OBJECT, can


class ServiceFailed(Exception):
    """The service refused; the form (or a flash) already carries the reason."""


def perform(fn: Callable[..., Any], *args, form=None, **kwargs) -> Any:
    """Call one service and commit once. On a DomainError roll back, attach the message
    to the form field it names (or flash it), and raise ServiceFailed so the view can
    re-render the form with what the user typed."""
    told.reset()
    try:
        result = fn(*args, **kwargs)
        db.session.commit()
        return result
    except NotPermitted:
        db.session.rollback()
        told.reset()
        abort(403)
    except DomainError as exc:
        db.session.rollback()
        told.reset()
        if form is not None and exc.field and exc.field in form:
            form[exc.field].errors = list(form[exc.field].errors) + [str(exc.message)]
        else:
            flash(str(exc.message), "danger")
        raise ServiceFailed(str(exc.message)) from exc


def flash_done(message: str, category: str = "success") -> None:
    """Flash what the action did, followed by who was told of it (the people the
    service notified during :func:`perform`), e.g. "已提交。已通知：项目主管 李明。"."""
    message, sentence = str(message), told.told_sentence()
    if sentence:  # Chinese sentences follow each other without a space
        message += ("" if message.endswith(("。", "！", "；")) else " ") + sentence
    flash(message, category)


def require_view(action: str, obj=NO_OBJECT) -> None:
    """403 unless the current user may do ``action``; the service checks again."""
    if not can(current_user, action, obj):
        abort(403)


def safe_next(default: str) -> str:
    """The ``next`` parameter if it is a local path, else ``default``."""
    target = request.args.get("next") or request.form.get("next") or ""
    parts = urlsplit(target)
    # a backslash or a control character: browsers read "/\\evil.example" as "//evil.example"
    if (target.startswith("/") and not target.startswith("//") and not parts.netloc and not parts.scheme
            and "\\" not in target and not any(ord(ch) < 32 or ord(ch) == 127 for ch in target)):
        return target
    return default


_SENTINEL = 987654321


def id_url(endpoint: str, arg: str, **values):
    """A function ``id -> url_for(endpoint, arg=id, **values)`` that builds the URL once:
    a list page links every row, and each url_for costs tens of microseconds. The URL is
    built with a sentinel id and the row's id put in its place (falls back to url_for when
    the sentinel does not appear exactly once)."""
    from flask import url_for

    sample = url_for(endpoint, **{arg: _SENTINEL}, **values)
    if sample.count(str(_SENTINEL)) != 1:
        return lambda i: url_for(endpoint, **{arg: i}, **values)
    before, after = sample.split(str(_SENTINEL))
    return lambda i: f"{before}{int(i)}{after}"
