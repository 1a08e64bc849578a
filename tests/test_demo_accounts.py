"""The demo's accounts are usable: their addresses pass the e-mail validator the forms
use, the admin can edit and save every demo user, and a demo user can reset a password
end to end (request → email in the outbox with the link → new password → sign in)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from email_validator import validate_email

from procure.auth.models import User
from procure.demo import DEMO_PASSWORD, USERS
from procure.notifications.models import Notification

from .conftest import login


class FormValues(HTMLParser):
    """The values a browser would submit for the first form with a ``username`` field:
    text inputs as filled in, the selected option of each select."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self._select: str | None = None
        self._first_option: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "input" and a.get("name") and a.get("type") not in ("submit", "password", "checkbox"):
            self.values.setdefault(a["name"], a.get("value") or "")
        elif tag == "select":
            self._select = a.get("name")
        elif tag == "option" and self._select:
            self._first_option.setdefault(self._select, a.get("value") or "")
            if "selected" in a:
                self.values[self._select] = a.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "select" and self._select:
            self.values.setdefault(self._select, self._first_option.get(self._select, ""))
            self._select = None


@pytest.fixture()
def demo(db, demo_loaded):
    assert demo_loaded.exit_code == 0, demo_loaded.output
    return db.session.scalars(sa.select(User).order_by(User.id)).all()


def test_demo_addresses_pass_the_forms_validator(demo):
    assert {u.username for u in demo} >= {row[0] for row in USERS}
    for user in demo:
        validate_email(user.email, check_deliverability=False)  # as the forms' Email() does


def test_the_admin_edits_and_saves_every_demo_user(demo, client, db):
    assert login(client, "admin", DEMO_PASSWORD).status_code == 302
    for user in demo:
        page = client.get(f"/admin/users/{user.id}")
        assert page.status_code == 200
        parser = FormValues()
        parser.feed(page.get_data(as_text=True))
        data = parser.values
        assert data["email"] == user.email and data["username"] == user.username
        data["name"] = user.name + "（已核对）"
        resp = client.post(f"/admin/users/{user.id}", data=data)
        assert resp.status_code == 302, (user.username, re.findall(r'invalid-feedback[^>]*>([^<]*)', resp.get_data(
            as_text=True)))
    db.session.expire_all()
    assert all(u.name.endswith("（已核对）") for u in db.session.scalars(sa.select(User)))


@pytest.mark.parametrize("username", ["officer", "kangle"])
def test_a_demo_user_resets_the_password_end_to_end(demo, client, db, username):
    user = next(u for u in demo if u.username == username)
    assert client.post("/password/forgot", data={"email": user.email}).status_code == 302
    note = db.session.scalar(sa.select(Notification).where(Notification.rule == "password_reset"))
    assert note is not None and note.to_email == user.email
    path = re.search(r"https?://[^/\s]+(/password/reset/[\w\-.]+)", note.body_text).group(1)
    assert client.get(path).status_code == 200
    assert client.post(path, data={"password": "brandnew2027", "confirm": "brandnew2027"}).status_code == 302
    assert login(client, username, DEMO_PASSWORD).status_code != 302
    assert login(client, username, "brandnew2027").status_code == 302
