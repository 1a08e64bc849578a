"""Hostile input never reaches a 500, on PostgreSQL and on SQLite: a crawler signs in
as every demo role, follows the links of the demo from the start page, and then

- asks for every route of ``app.url_map`` with each id beyond the columns' range (404);
- sends every query parameter a page reads (found by recording what the view reads, so
  a new parameter is covered without editing this file) with a NUL byte, a number
  beyond 64 bits and a 400-digit number (a clear 400 for the NUL byte, never a 500);
- posts every form it finds on the pages with a NUL byte in each text field and a
  400-digit number in each number field: a clear message on the page, nothing written.

The forms and parameters come from the pages themselves, so whatever a later module
adds is crawled too. A test also checks that every form class of the project derives
from ``procure.forms`` (where the text and number guard lives).
"""

from __future__ import annotations

import re
from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import urlencode, urlsplit

import pytest
import sqlalchemy as sa
from flask import Request
from flask_migrate import upgrade
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import RequestRedirect

from procure import create_app
from procure.demo import DEMO_PASSWORD, load_demo
from procure.extensions import db as _db
from procure.extensions import limiter

from .conftest import IsolatedClient, app_config, restore_demo, truncate_all

#: One demo account per role; None is the visitor who is not signed in.
ROLES = [None, "admin", "officer", "finance", "expert", "tongxin"]
NUL = "a\x00b"
BEYOND_64 = str(2**64)
DIGITS_400 = "9" * 400
#: In the Chinese catalog: the message of the text guard (procure.parsing).
CONTROL_MESSAGE = "控制字符"
#: Any error shown on the page: a field's message, a flashed one, the error page.
ANY_ERROR = ('class="invalid-feedback"', "alert-danger", 'id="error-reason"')
#: Fields a view reads from request.form itself (no WTForms form), with what a NUL byte
#: gives there: the parser refuses it with a message of its own, or the value only
#: selects between two cases and anything but "1" is the other one.
RAW_FIELDS = {
    ("reports.budget_execution_pdf", "year"): ANY_ERROR, ("reports.budget_execution_pdf", "source"): ANY_ERROR,
    ("reports.budget_execution_pdf", "department"): ANY_ERROR,
    ("reports.program_summary_pdf", "from"): ANY_ERROR, ("reports.program_summary_pdf", "to"): ANY_ERROR,
    ("notices.mute", "rule"): ANY_ERROR, ("notices.mute", "muted"): None,
    ("admin.user_status", "status"): ANY_ERROR,
}
#: Not typed by anyone: the CSRF token (refused by CSRFProtect outside the tests).
SKIP_FIELDS = {"csrf_token"}
#: Text fields that hold a number (parsed by the services) get the 400-digit number too.
NUMBER_NAMES = {"fiscal_year", "budget_ceiling", "amount", "delta", "target_value", "beneficiaries_served",
                "year", "from", "to", "area_sqm", "level"}
#: Posting these would end the crawler's session or change its language.
SKIP_ACTIONS = ("/logout", "/language/")
#: Links the crawler does not follow (files served as they are).
SKIP_LINKS = ("/static/", "/bootstrap/")
PER_ENDPOINT = 2


# --- the world: the demo on either database -----------------------------------------

@pytest.fixture(scope="module", params=["postgresql", "sqlite"])
def demo_app(request, tmp_path_factory):
    """The demo data, loaded once per database for all the crawls of this module."""
    snapshot = None
    if request.param == "postgresql":
        app = request.getfixturevalue("app")
        snapshot = request.getfixturevalue("demo_snapshot")  # the session's one load, copied back
        with app.app_context():
            _db.session.remove()
            truncate_all(_db.engine)
    else:
        request.getfixturevalue("services_ready")
        path = tmp_path_factory.mktemp("hostile") / "trial.sqlite"
        app = create_app("testing", **app_config(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}"))
        with app.app_context():
            upgrade()
    app.test_client_class = IsolatedClient
    old_limit, old_documents = app.config["LOGIN_RATE_LIMIT"], app.config["DOCUMENTS_DIR"]
    app.config["LOGIN_RATE_LIMIT"] = "10000 per minute"
    with app.app_context():
        if snapshot is not None:
            app.config["DOCUMENTS_DIR"] = snapshot.documents_dir
            restore_demo(_db.engine, snapshot)
        else:
            load_demo()
            _db.session.commit()
        _db.session.remove()
    yield app
    app.config["LOGIN_RATE_LIMIT"], app.config["DOCUMENTS_DIR"] = old_limit, old_documents
    with app.app_context():
        _db.session.remove()
        if request.param == "postgresql":
            truncate_all(_db.engine)
        else:
            _db.engine.dispose()


def _client(app, role):
    client = app.test_client()
    if role is not None:
        resp = client.post("/login", data={"username": role, "password": DEMO_PASSWORD})
        assert resp.status_code == 302, role
    return client


@pytest.fixture(scope="module")
def clients(demo_app):
    limiter.reset()
    return {role: _client(demo_app, role) for role in ROLES}


def snapshot(app) -> dict:
    """Rows per table: a write of any kind (services audit every change) shows here."""
    with app.app_context():
        tables = [t.name for t in _db.metadata.sorted_tables]
        query = " UNION ALL ".join(f"SELECT '{t}', COUNT(*) FROM {t}" for t in tables)
        with _db.engine.connect() as conn:
            counts = dict(conn.execute(sa.text(query)).all())
        _db.session.remove()
    return counts


# --- recording which query parameters a view reads ------------------------------------

READ_KEYS: set[str] = set()


class RecordingArgs(ImmutableMultiDict):
    def get(self, key, default=None, type=None):  # noqa: A002 - werkzeug's signature
        READ_KEYS.add(key)
        return super().get(key, default, type)

    def __getitem__(self, key):
        READ_KEYS.add(key)
        return super().__getitem__(key)

    def __contains__(self, key):
        READ_KEYS.add(key)
        return super().__contains__(key)

    def getlist(self, key, type=None):  # noqa: A002
        READ_KEYS.add(key)
        return super().getlist(key, type)


class RecordingRequest(Request):
    parameter_storage_class = RecordingArgs


# --- pages, links and forms ------------------------------------------------------------

class PageParser(HTMLParser):
    """The links and the POST forms of a page (fields with the values the page gives)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form" and (a.get("method") or "get").lower() == "post":
            self._form = {"action": a.get("action") or "", "fields": {}, "kinds": {}}
            self.forms.append(self._form)
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in {"submit", "button", "file", "image", "reset"}:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in a:
                    self._form["fields"][a["name"]] = a.get("value", "y")
                return
            self._form["fields"][a["name"]] = a.get("value") or ""
            self._form["kinds"][a["name"]] = kind
        elif tag == "textarea":
            self._textarea = a["name"]
            self._form["fields"][a["name"]] = ""
            self._form["kinds"][a["name"]] = "textarea"
        elif tag == "select":
            self._select = a["name"]
            self._form["fields"].setdefault(a["name"], "")
            self._form["kinds"][a["name"]] = "select"
        elif tag == "option" and self._select:
            fields = self._form["fields"]
            if "selected" in a or fields[self._select] == "":
                fields[self._select] = a.get("value", "")

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def _endpoint(app, path: str, method: str = "GET") -> str | None:
    adapter = app.url_map.bind("localhost")
    try:
        return adapter.match(urlsplit(path).path, method=method)[0]
    except (NotFound, MethodNotAllowed, RequestRedirect):
        return None


@pytest.fixture(scope="module")
def seeds(demo_app) -> dict:
    """Where each role's crawl starts: the start page, and pages no link leads a
    crawler to (a reset link from an email; the projects waiting for finance first)."""
    from procure.auth.models import User
    from procure.auth.services import request_password_reset

    with demo_app.test_request_context():
        email = _db.session.scalar(sa.select(User.email).where(User.username == "tongxin"))
        token = request_password_reset(email) or ""
        _db.session.commit()
        _db.session.remove()
    assert token
    starts = {role: ["/dashboard"] for role in ROLES}
    starts[None] = ["/login", "/password/forgot", f"/password/reset/{token}"]
    starts["finance"] = ["/projects/?state=submitted", "/dashboard"]
    starts["officer"] = ["/dashboard", "/tenders/", "/tenders/new"]
    starts["tongxin"] = ["/dashboard", "/tenders/calls", "/tenders/bids"]
    return starts


@pytest.fixture(scope="module")
def crawl(demo_app, clients, seeds):
    """Follow the links of every role from the start page: {role: [(endpoint, url, page
    html, keys read)]}, at most PER_ENDPOINT urls per endpoint and role."""
    app = demo_app
    seen: dict = {}
    old_request_class = app.request_class
    app.request_class = RecordingRequest
    try:
        for role in ROLES:
            client, per_endpoint, pages = clients[role], defaultdict(int), []
            queue, visited = list(seeds[role]), set()
            while queue:
                url = queue.pop(0)
                if url in visited:
                    continue
                visited.add(url)
                endpoint = _endpoint(app, url)
                if endpoint is None or per_endpoint[endpoint] >= PER_ENDPOINT:
                    continue
                per_endpoint[endpoint] += 1
                READ_KEYS.clear()
                resp = client.get(url)
                assert resp.status_code < 500, (role, url)
                if resp.status_code != 200:
                    continue
                keys = set(READ_KEYS)
                html = resp.get_data(as_text=True) if resp.mimetype == "text/html" else ""
                pages.append((endpoint, url, html, keys))
                parser = PageParser()
                parser.feed(html)
                for link in parser.links:
                    parts = urlsplit(link)
                    if parts.netloc or not parts.path.startswith("/") or parts.path.startswith(SKIP_LINKS):
                        continue
                    queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
            seen[role] = pages
    finally:
        app.request_class = old_request_class
    return seen


# --- the tests -------------------------------------------------------------------------

def test_crawl_reaches_the_pages(demo_app, crawl):
    """The crawler is not blind: it reaches the main pages of each role."""
    reached = {endpoint for pages in crawl.values() for endpoint, *_ in pages}
    expected = {"auth.login", "auth.forgot_password", "auth.reset_password", "dashboard.index", "organizations.index",
                "organizations.detail", "organizations.bases", "organizations.base_detail",
                "organizations.profile", "projects.index", "projects.detail", "projects.new",
                "projects.catalogue", "budgets.dashboard", "budgets.appropriations", "budgets.appropriation",
                "admin.users", "admin.user_edit", "admin.audit_log", "admin.outbox_list",
                "calendar.index", "reports.budget_execution", "reports.program_summary_page", "notices.index"}
    assert expected <= reached, sorted(expected - reached)


def _sample_args(rule, value: int) -> dict:
    args = {}
    for name, conv in rule._converters.items():
        cname = type(conv).__name__
        if "Integer" in cname or "IdConverter" in cname:
            args[name] = value
        elif cname == "AnyConverter":
            args[name] = sorted(conv.items)[0] if hasattr(conv, "items") else "x"
        else:
            args[name] = "x"
    return args


def test_every_int_in_a_route_is_the_bounded_converter(demo_app):
    from procure.parsing import IdConverter

    int_rules = [(r.rule, name) for r in demo_app.url_map.iter_rules() for name, conv in r._converters.items()
                 if isinstance(conv, IdConverter)]
    assert len(int_rules) >= 30
    assert not [r.rule for r in demo_app.url_map.iter_rules()
                if "<int:" in r.rule and not all(isinstance(c, IdConverter) for n, c in r._converters.items()
                                                 if f"<int:{n}>" in r.rule)]


@pytest.mark.parametrize("value", [2**63, 10**30])
def test_path_ids_beyond_64_bits_are_not_found(demo_app, clients, value):
    """Every route with an id, GET and POST, as every role: 404."""
    rules = [r for r in demo_app.url_map.iter_rules() if "<int:" in r.rule]
    assert rules
    failures = []
    for rule in rules:
        path = rule.rule
        for name, sample in _sample_args(rule, value).items():
            path = re.sub(rf"<[^>]*\b{name}>", str(sample), path)
        for role in ROLES:
            for method in sorted(rule.methods & {"GET", "POST"}):
                resp = clients[role].open(path, method=method)
                if resp.status_code != 404:
                    failures.append((role, method, path, resp.status_code))
    assert not failures, "\n".join(map(repr, failures[:40]))


def test_path_ids_beyond_the_integer_columns_are_no_error(demo_app, clients):
    """Between 2**31 and 2**63 the route matches; the row is simply not there."""
    failures = []
    for rule in demo_app.url_map.iter_rules():
        if "<int:" not in rule.rule or "GET" not in rule.methods:
            continue
        path = rule.rule
        for name, sample in _sample_args(rule, 2**31).items():
            path = re.sub(rf"<[^>]*\b{name}>", str(sample), path)
        for role in ROLES:
            resp = clients[role].get(path)
            if resp.status_code >= 500:
                failures.append((role, path, resp.status_code))
    assert not failures, "\n".join(map(repr, failures))


def test_text_in_a_path_with_a_nul_byte(demo_app, clients):
    """A path segment that is text (a reset token, a language code): a clear 400."""
    rules = [r for r in demo_app.url_map.iter_rules()
             if any(type(c).__name__ == "UnicodeConverter" for c in r._converters.values())]
    assert rules
    for rule in rules:
        path = rule.rule
        for name, conv in rule._converters.items():
            value = "a%00b" if type(conv).__name__ == "UnicodeConverter" else "1"
            path = re.sub(rf"<[^>]*\b{name}>", value, path)
        for role in ROLES:
            for method in sorted(rule.methods & {"GET", "POST"}):
                resp = clients[role].open(path, method=method)
                assert resp.status_code == 400, (role, method, path, resp.status_code)
                assert CONTROL_MESSAGE in resp.get_data(as_text=True)


def _with_query(url: str, params: dict) -> str:
    parts = urlsplit(url)
    query = dict(p.split("=", 1) if "=" in p else (p, "") for p in parts.query.split("&") if p)
    query.update(params)
    return parts.path + "?" + urlencode(query)


def test_query_parameters(demo_app, clients, crawl):
    """Every parameter each page reads: a NUL byte is refused with a clear 400 (as every
    role that sees the page), a number beyond 64 bits or of 400 digits is no error (as
    the first role that sees it: what a view does with a number does not depend on who
    asks)."""
    failures, tried, numbers_done = [], 0, set()
    for role, pages in crawl.items():
        done = set()
        for endpoint, url, _html, keys in pages:
            if endpoint in done:
                continue
            done.add(endpoint)
            resp = clients[role].get(_with_query(url, {k: NUL for k in keys | {"q"}}))
            tried += 1
            if resp.status_code != 400 or CONTROL_MESSAGE not in resp.get_data(as_text=True):
                failures.append((role, url, "NUL", resp.status_code))
            if endpoint in numbers_done:
                continue
            numbers_done.add(endpoint)
            for key in sorted(keys):
                for value in (BEYOND_64, DIGITS_400):
                    resp = clients[role].get(_with_query(url, {key: value}))
                    tried += 1
                    if resp.status_code >= 500:
                        failures.append((role, url, key, value[:5], resp.status_code))
    assert tried > 60
    assert not failures, "\n".join(map(repr, failures[:40]))


def _forms(demo_app, crawl):
    """Each POST form once per role and action, with the page it is on."""
    out, seen = [], set()
    for role, pages in crawl.items():
        for _endpoint_name, url, html, _keys in pages:
            parser = PageParser()
            parser.feed(html)
            for form in parser.forms:
                action = form["action"] or urlsplit(url).path
                action_endpoint = _endpoint(demo_app, action, "POST")
                key = (role, action_endpoint, tuple(sorted(form["fields"])))
                if action.startswith(SKIP_ACTIONS) or action_endpoint is None or key in seen:
                    continue
                seen.add(key)
                out.append((role, action, action_endpoint, form))
    return out


def _message_shown(client, resp, expected) -> bool:
    for _ in range(3):
        body = resp.get_data(as_text=True)
        if any(text in body for text in expected):
            return True
        if resp.status_code not in (301, 302, 303):
            return False
        resp = client.get(resp.location)
    return False


def test_forms(demo_app, clients, crawl):
    """Every form on every page, as the role that sees it: a NUL byte in each text
    field and a 400-digit number in each number field give a clear message on the page
    (or after its redirect), and nothing is written."""
    forms = _forms(demo_app, crawl)
    posted = {endpoint for _r, _a, endpoint, _f in forms}
    assert {"auth.login", "auth.forgot_password", "auth.reset_password", "auth.change_password",
            "projects.approve", "projects.return_", "organizations.new",
            "organizations.edit", "organizations.annual_report", "organizations.add_credit",
            "organizations.base_new", "organizations.base_edit", "projects.new", "projects.catalogue",
            "calendar.index", "admin.user_new", "admin.user_edit", "admin.department_form",
            "budgets.appropriation_new"} <= posted, sorted(posted)
    before = snapshot(demo_app)
    failures, tried = [], 0
    for role, action, endpoint, form in forms:
        client = clients[role]
        for name, kind in form["kinds"].items():
            if name in SKIP_FIELDS:
                continue
            cases = []
            if kind in {"text", "textarea", "email", "password", "hidden", "search", "tel", "url", "number"}:
                cases.append((NUL, RAW_FIELDS.get((endpoint, name), (CONTROL_MESSAGE,))))
            if kind == "number" or name.rsplit("-", 1)[-1] in NUMBER_NAMES:
                cases.append((DIGITS_400, ANY_ERROR))
            for value, expected in cases:
                data = dict(form["fields"], **{name: value})
                resp = client.post(action, data=data)
                tried += 1
                if resp.status_code >= 500 or (expected and not _message_shown(client, resp, expected)):
                    failures.append((role, endpoint, name, value[:3], resp.status_code))
    assert tried > 50
    assert not failures, "\n".join(map(repr, failures))
    assert snapshot(demo_app) == before


def test_upload_with_a_control_character_in_its_name(demo_app, clients):
    """The file's name is typed text too (it is stored and audited)."""
    import io

    from .organizations.test_import import SAMPLE

    before = snapshot(demo_app)
    resp = clients["officer"].post("/organizations/import",
                                   data={"file": (io.BytesIO(SAMPLE.read_bytes()), "x\x00y.csv")})
    assert resp.status_code == 400 and CONTROL_MESSAGE in resp.get_data(as_text=True)
    assert snapshot(demo_app) == before


def test_json_bodies_are_read_as_text(demo_app, clients):
    """A JSON body is form data too (Flask-WTF): a number, list or object where a form
    expects text gives a message, not a TypeError."""
    before = snapshot(demo_app)
    hostile = [{"name": {"a": 1}, "code": [1, 2]}, {"name": 5, "code": None}, {"name": "a\x00b", "code": "X"}]
    for body in hostile:
        resp = clients["admin"].post("/admin/departments/new", json=body)
        assert resp.status_code in (200, 400), body
        assert 'class="invalid-feedback"' in resp.get_data(as_text=True) or resp.status_code == 400
    for body in ([1, 2], "text", 5):
        assert clients["admin"].post("/admin/departments/new", json=body).status_code == 400
    for year in ({}, [1], 10**30, "9" * 400, True):
        resp = clients["officer"].post("/organizations/bases/new", json={"name": "x", "operator": "x",
                                                                       "area_sqm": year})
        assert resp.status_code in (200, 400), year
    assert snapshot(demo_app) == before


def test_every_form_class_has_the_input_guard(demo_app):
    """Every WTForms form defined in procure derives from procure.forms (the guard)."""
    import wtforms

    from procure import forms as guarded

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = {c for c in subclasses(wtforms.Form) if c.__module__.startswith("procure.")
            and c.__module__ != "procure.forms"}
    assert len(ours) >= 15
    unguarded = [f"{c.__module__}.{c.__name__}" for c in ours
                 if not issubclass(c, guarded.FlaskForm | guarded.Form)]
    assert not unguarded
