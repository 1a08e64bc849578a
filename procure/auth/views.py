"""Login, logout, password change and reset, language switch."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user

from ..errors import ValidationError
from ..extensions import db, limiter, login_manager
from ..parsing import parse_id
from ..queues import Queue
from ..queues import register as register_queue
from ..web import ServiceFailed, perform, safe_next
from . import services
from .forms import ChangePasswordForm, ForgotPasswordForm, LoginForm, ResetPasswordForm
from .models import User, UserStatus

bp = Blueprint("auth", __name__)


@login_manager.user_loader
def load_user(identity: str):
    """The signed-in user from the session's "<id>:<session token>", or None when the
    token changed (signed out everywhere) or the account is not active."""
    raw_id, _sep, token = identity.partition(":")
    user_id = parse_id(raw_id)
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or user.session_token != token or not user.is_active:
        return None
    return user

register_queue(Queue(
    "users.disabled", "user.manage", _l("Disabled accounts"), User,
    lambda u: url_for("admin.users"), where=lambda u: User.status == UserStatus.DISABLED))


def _login_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("dashboard.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        user = perform(services.authenticate, form.username.data, form.password.data)
        if user is None:
            form.password.errors = list(form.password.errors) + [_("Wrong user name or password.")]
        else:
            session.clear()  # a fresh session: no fixation
            login_user(user, remember=form.remember.data)
            session.permanent = True
            session["lang"] = user.locale
            return redirect(safe_next(url_for("dashboard.index")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    lang = session.get("lang")
    logout_user()
    session.clear()
    if lang:  # the language choice outlives the sign-in
        session["lang"] = lang
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            perform(services.change_password, current_user, current_user,
                    form.current_password.data, form.new_password.data, form=form)
        except ServiceFailed:
            pass
        else:
            login_user(current_user)  # the session token changed: keep this session
            flash(_("Your password has been changed. Other sessions were signed out."), "success")
            return redirect(url_for("dashboard.index"))
    return render_template("auth/change_password.html", form=form)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        perform(services.request_password_reset, form.email.data)
        # The same answer whether or not the address exists.
        flash(_("If the address belongs to an account, a reset link is on its way. It is valid for %(m)d minutes.",
                m=services.reset_link_minutes()), "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot_password.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    try:
        services.check_reset_token(token)
    except ValidationError as exc:
        db.session.rollback()
        flash(str(exc.message), "danger")
        return redirect(url_for("auth.forgot_password"))
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            perform(services.reset_password, token, form.password.data, form=form)
        except ServiceFailed:
            pass
        else:
            logout_user()
            flash(_("Your password has been set. Please sign in."), "success")
            return redirect(url_for("auth.login"))
    db.session.rollback()
    return render_template("auth/reset_password.html", form=form, token=token)


@bp.route("/language/<code>", methods=["POST"])
def set_language(code: str):
    if code not in current_app.config["LANGUAGES"]:
        flash(_("Unknown language."), "danger")
        return redirect(safe_next(url_for("dashboard.index")))
    session["lang"] = code
    if current_user.is_authenticated:
        perform(services.set_locale, current_user, code)
    return redirect(safe_next(url_for("dashboard.index")))
