"""Organization pages (the registry issue adds the rest)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from .. import nav
from ..extensions import db
from ..nav import NavItem
from ..web import require_view
from .models import Organization

bp = Blueprint("organizations", __name__, url_prefix="/organizations")

nav.register(NavItem(
    _l("My organization"), "organizations.users", "organization.users.view", order=50,
    values=lambda u: {"org_id": u.organization_id, "_obj": u.organization} if u.organization_id else None))


@bp.route("/<int:org_id>/users")
@login_required
def users(org_id: int):
    org = db.get_or_404(Organization, org_id)
    require_view("organization.users.view", org)
    return render_template("organizations/users.html", org=org, users=org.users)
