"""The dashboard."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from .. import audit, history, pagecache
from ..audit import AuditEvent
from ..extensions import db
from ..permissions import can, define, owned_by, visible
from ..queues import lists_for, queues_for
from ..roles import Role
from ..web import require_view

bp = Blueprint("dashboard", __name__)

#: Everyone sees the events they caused ("your recent actions"); the whole trail is audit.view.
define("audit.view_own", frozenset(Role), owned_by("actor_id"), model=AuditEvent)


@bp.route("/")
def home():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    return redirect(url_for("auth.login"))


@bp.route("/dashboard")
@login_required
@pagecache.cached
def index():
    require_view("dashboard.view")
    recent = db.session.scalars(visible(current_user, "audit.view_own", AuditEvent)
                                .order_by(AuditEvent.seq.desc()).limit(8)).all()
    total_events = None
    if can(current_user, "audit.view"):  # the size of the whole trail is the admin's business
        # the chain numbers its events 1, 2, 3 … without gaps (audit verify checks it) and
        # never deletes one: the last number is the count, read from the index's end, less
        # the events a seal still hides (a bid's before its opening: not even their number shows)
        total_events = (db.session.scalar(select(func.max(AuditEvent.seq))) or 0) - audit.hidden_count()
    return render_template("dashboard/index.html", queues=queues_for(current_user), worklists=lists_for(current_user),
                           recent=history.entries(recent, current_user, changes=False),
                           total_events=total_events)
