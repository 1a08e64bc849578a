"""The notices page: what the user was told in the app, read and unread, and the mutes."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from .. import nav
from ..extensions import db
from ..nav import NavItem
from ..permissions import visible
from ..queues import Queue
from ..queues import register as register_queue
from ..web import ServiceFailed, perform, require_view
from . import services
from .models import Mute, Notice, Notification, NotificationState

bp = Blueprint("notices", __name__, url_prefix="/notices")

nav.register(NavItem(_l("Notices"), "notices.index", "notice.view", order=80))


UNREAD = Queue("notices.unread", "notice.own", _l("Unread notices"), Notice,
               lambda u: url_for("notices.index", show="unread"), where=lambda u: Notice.read_at.is_(None))
register_queue(UNREAD)
register_queue(Queue(
    "outbox.failed", "outbox.view", _l("Emails that failed"), Notification,
    lambda u: url_for("admin.outbox_list", state="failed"),
    where=lambda u: Notification.state == NotificationState.FAILED, tone="danger"))
register_queue(Queue(
    "outbox.queued", "outbox.view", _l("Emails waiting to be sent"), Notification,
    lambda u: url_for("admin.outbox_list", state="queued"),
    where=lambda u: Notification.state == NotificationState.QUEUED))


@bp.before_request
@login_required
def _signed_in():
    """Every notices page needs a signed-in user."""


@bp.route("/")
def index():
    require_view("notice.view")
    show = request.args.get("show", "all")
    stmt = visible(current_user, "notice.own", Notice)
    if show == "unread":
        stmt = stmt.where(Notice.read_at.is_(None))
    page = db.paginate(stmt.order_by(Notice.created_at.desc(), Notice.id.desc()), per_page=50, error_out=False)
    muted = set(db.session.scalars(select(Mute.rule).where(Mute.user_id == current_user.id)))
    return render_template("notifications/notices.html", page=page, show=show, topics=services.topics_for(current_user),
                           muted=muted, unread=UNREAD.count(current_user))


@bp.route("/<int:notice_id>/open", methods=["POST"])
def open_notice(notice_id: int):
    notice = db.get_or_404(Notice, notice_id)
    require_view("notice.own", notice)
    perform(services.mark_read, current_user, notice)
    return redirect(notice.link or url_for("notices.index"))


@bp.route("/read-all", methods=["POST"])
def read_all():
    require_view("notice.view")
    perform(services.mark_all_read, current_user)
    return redirect(url_for("notices.index"))


@bp.route("/mute", methods=["POST"])
def mute():
    require_view("notice.view")
    try:
        perform(services.set_mute, current_user, request.form.get("rule", ""), request.form.get("muted") == "1")
    except ServiceFailed:
        pass
    return redirect(url_for("notices.index"))
