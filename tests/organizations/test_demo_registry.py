"""The demo registry: organizations of all kinds, standing, bases, and reminders."""

from __future__ import annotations

import sqlalchemy as sa

from procure.notifications.models import Notice, Notification
from procure.organizations.models import CreditEntry, EntryState, IncubationBase, Organization, OrgKind, Residency


def test_demo_registry(app, db, demo_loaded):
    result = demo_loaded  # `flask demo` as run once for the session
    assert result.exit_code == 0, result.output
    kinds = dict(db.session.execute(sa.select(Organization.kind, sa.func.count()).group_by(Organization.kind)).all())
    assert set(kinds) == set(OrgKind) and sum(kinds.values()) >= 300
    assert db.session.scalar(sa.select(sa.func.count()).where(Organization.rating_level.is_not(None))) >= 20
    states = dict(db.session.execute(sa.select(CreditEntry.state, sa.func.count()).group_by(CreditEntry.state)).all())
    assert states[EntryState.LISTED] >= 5 and states[EntryState.PROPOSED] >= 5  # overdue annual reports
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IncubationBase)) == 2
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Residency)) >= 8
    reminders = {(n.rule, n.to_email) for n in db.session.scalars(
        sa.select(Notification).where(Notification.rule != "welcome"))}
    assert ("rating.expiring", "tongxin@example.org") in reminders
    assert ("rating.expiring", "kangle@example.org") in reminders
    assert ("standing.serious_soon", "yangguang@example.org") in reminders
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Notice)) >= 3
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
