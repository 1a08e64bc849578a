"""Policy values: defaults with their sources, overrides by configuration and environment."""

from __future__ import annotations

from decimal import Decimal

from procure import create_app, policy
from procure.roles import Role

from .conftest import app_config, login


def test_every_rule_has_a_source_and_description():
    keys = [r.key for r in policy.RULES]
    assert len(keys) == len(set(keys))
    for rule in policy.RULES:
        assert rule.source.strip() and str(rule.description).strip()


def test_domain_values_by_default(app):
    with app.app_context():
        assert policy.value("tender.min_days.public") == 20
        assert policy.value("tender.min_bids.public") == 3
        assert policy.value("budget.max_admin_cost_share") == Decimal("0.10")
        assert policy.value("reminder.milestone_due_days") == (7, 3, 1)
        assert policy.value_and_origin("records.retention_years") == (15, "default")


def test_config_and_environment_override(services_ready, monkeypatch):
    app = create_app("testing", **app_config(POLICY_OVERRIDES={"tender.min_days.public": "25"}))
    monkeypatch.setenv("PROCURE_POLICY_BUDGET_MAX_ADMIN_COST_SHARE", "0.08")
    monkeypatch.setenv("PROCURE_POLICY_REMINDER_MILESTONE_DUE_DAYS", "5,2")
    with app.app_context():
        assert policy.value_and_origin("tender.min_days.public") == (25, "config")
        assert policy.value_and_origin("budget.max_admin_cost_share") == (Decimal("0.08"), "env")
        assert policy.value("reminder.milestone_due_days") == (5, 2)


def test_admin_page_shows_value_and_origin(client, make, monkeypatch):
    monkeypatch.setenv("PROCURE_POLICY_TENDER_MIN_BIDS_PUBLIC", "4")
    make.admin()
    make.commit()
    login(client, make.admin().username)
    page = client.get("/admin/policy").get_data(as_text=True)
    row = page[page.index('data-key="tender.min_bids.public"'):]
    row = row[: row.index("</tr>")]
    assert "<strong>4 份</strong>" in row and "PROCURE_POLICY_TENDER_MIN_BIDS_PUBLIC" in row
    assert "第三十六条" in row
    assert "财政部令第87号" in page
    row = page[page.index('data-key="tender.clarification_days.public"'):]
    row = row[: row.index("</tr>")]
    assert "公开招标：可能影响投标文件编制的澄清" in row and "第二十七条" in row and "15" in row


def test_non_admin_cannot_see_policy_page(client, make):
    user = make.user(Role.FINANCE)
    make.commit()
    login(client, user.username)
    assert client.get("/admin/policy").status_code == 403
