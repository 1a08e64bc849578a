"""The menu is grouped by task: each role sees the groups of its work, a group with a
single page it may open shows as that page, and nothing it may not open."""

from __future__ import annotations

from procure import nav
from procure.roles import Role


def _labels(entries):
    return [(str(e["label"]), [str(c["label"]) for c in e.get("children", [])]) for e in entries]


def test_finance_sees_budget_group_in_order(app, make, db):
    finance = make.user(Role.FINANCE)
    db.session.commit()
    with app.test_request_context():
        entries = dict(_labels(nav.items_for(finance)))
    assert entries[str(nav.FUNDS_GROUP)][:4] == ["预算", "预算指标", "预算执行", "项目汇总"]
    assert str(nav.ADMIN_GROUP) not in entries


def test_single_page_group_collapses_and_order_kept(app, make, db):
    org_user = make.user(Role.ORG)
    admin = make.admin()
    db.session.commit()
    with app.test_request_context():
        org = nav.items_for(org_user)
        adm = nav.items_for(admin)
    assert all("children" not in e or len(e["children"]) > 1 for e in org + adm)
    # Admin: the administration group exists and holds the user list.
    groups = {str(e["label"]): e for e in adm if "children" in e}
    assert "/admin/users" in [c["url"] for c in groups[str(nav.ADMIN_GROUP)]["children"]]
