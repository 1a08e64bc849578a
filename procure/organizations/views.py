"""Organization pages (the registry issue adds the rest)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import login_required

from ..extensions import db
from ..web import require_view
from .models import Organization

bp = Blueprint("organizations", __name__, url_prefix="/organizations")


@bp.route("/<int:org_id>/users")
@login_required
def users(org_id: int):
    org = db.get_or_404(Organization, org_id)
    require_view("organization.users.view", org)
    return render_template("organizations/users.html", org=org, users=org.users)
