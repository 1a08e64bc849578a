"""Every page of the demo, as every role and anonymously, in Chinese: no raw keys
(snake.case or dotted actions, state codes), no Python dicts or lists, no "None", and no
untranslated English words in the visible text. In English (one page per endpoint and
role): the same raw keys, dicts and "None", and no interface text left in Chinese (a
text node that equals a translation of the zh catalog).

The pages are found from the URL map (path ids filled with the demo's rows) and by
following the links of each page within the site.
"""

from __future__ import annotations

import re
import time
from collections import Counter, deque
from functools import cache
from html.parser import HTMLParser
from itertools import zip_longest
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import sqlalchemy as sa
from babel.messages.pofile import read_po

from procure.demo import DEMO_PASSWORD

from .conftest import IsolatedClient, login, restore_demo, truncate_all

ROLES = ["anon", "admin", "officer", "finance", "expert", "tongxin"]
#: Pages per role, and per endpoint (query-string variants of one list).
MAX_PAGES = 220
#: Rows per path id to start from (every project: each state shows other parts).
MAX_IDS = {"project_id": 50}
MAX_PER_PATH = 6
#: Not pages: files, JSON, assets.
SKIP_ENDPOINTS = {"static", "bootstrap.static", "documents.download", "jobs.status", "jobs.progress",
                  "organizations.import_job_json", "reports.budget_execution_xlsx_download",
                  "reports.program_summary_xlsx_download", "tenders.attachment"}
#: English words allowed in Chinese pages: names of the product, formats, the
#: language switch, standard abbreviations.
ALLOWED_WORDS = {"procure", "pdf", "xlsx", "csv", "excel", "utf", "bom", "english", "gb", "sha", "id",
                 "cny", "rmb", "url", "http", "https", "www", "smtp", "gbk", "json", "mb", "kb", "word", "png", "jpeg",
                 "ht"}  # HT-: the contract numbers (合同), data shown since the demo signs contracts
#: Elements whose text is shown as code on purpose (policy keys, commands): not words.
CODE_TAGS = ("code", "kbd", "samp")

#: Identifiers shown on purpose (the time zone of every page's footer).
ALLOWED_PHRASES = ["Asia/Shanghai"]

RAW_KEY = re.compile(r"(?<![\w@/.-])[a-z][a-z0-9]*(?:[._][a-z0-9]+)+(?![\w@/-])")
WORD = re.compile(r"(?<![\w])[A-Za-z]{2,}(?![\w])")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
URL = re.compile(r"(?:https?://|/)[\w./?=&%#-]+")
FILENAME = re.compile(r"[\w.-]+\.(?:csv|xlsx|pdf)\b")
PY_REPR = re.compile(r"\{'|\['|\bNone\b|\bTrue\b|\bFalse\b")
#: The language menu names each language in itself.
LANGUAGE_NAMES = {"简体中文", "English"}
CJK = re.compile(r"[\u3400-\u9fff]")
ZH_CATALOG = Path(__file__).resolve().parent.parent / "translations/zh_Hans_CN/LC_MESSAGES/messages.po"


@cache
def en_texts() -> frozenset[str]:
    """The interface's own English phrases (the catalog's msgids), "None." among them."""
    with open(ZH_CATALOG, "rb") as fh:
        catalog = read_po(fh)
    return frozenset(" ".join(i.split()) for msg in catalog if msg.id
                     for i in (msg.id if isinstance(msg.id, tuple) else (msg.id,)))


@cache
def zh_texts() -> frozenset[str]:
    """The zh catalog's translations (both plural forms) with Chinese in them, of two
    characters or more, placeholders left out: interface text, which an English page
    must not show as a text node of its own."""
    with open(ZH_CATALOG, "rb") as fh:
        catalog = read_po(fh)
    texts = set()
    for msg in catalog:
        if not msg.id:
            continue
        for string in msg.string if isinstance(msg.string, tuple) else (msg.string,):
            string = " ".join(string.split())
            if len(string) >= 2 and CJK.search(string) and "%(" not in string and "{" not in string:
                texts.add(string)
    return frozenset(texts)


class _Page(HTMLParser):
    """Visible text (no scripts, styles or attribute values) and the links of a page."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.links: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template", *CODE_TAGS):
            self._hidden += 1
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template", *CODE_TAGS) and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.text.append(data)


@pytest.fixture(scope="module")
def demo(app, demo_snapshot):
    """The demo (the session's one load, copied back), once for every role of this module."""
    from procure.extensions import db

    assert demo_snapshot.exit_code == 0, demo_snapshot.output
    kept = app.config["DOCUMENTS_DIR"]
    app.config["DOCUMENTS_DIR"] = demo_snapshot.documents_dir
    with app.app_context():
        db.session.remove()
        truncate_all(db.engine)
        restore_demo(db.engine, demo_snapshot)
        data = _demo_facts(db)
    yield data
    app.config["DOCUMENTS_DIR"] = kept
    with app.app_context():
        db.session.remove()
        truncate_all(db.engine)


def _demo_facts(db) -> dict:
    """Ids to fill the URL map with, and the demo's own strings (names, codes, emails),
    which are data, not interface words."""
    from procure.auth.models import Department, User
    from procure.budgets.models import Appropriation
    from procure.documents.models import Document
    from procure.jobs.models import Job
    from procure.notifications.models import Notification
    from procure.organizations.models import IncubationBase, Organization
    from procure.projects.models import Project, ServiceCategory
    from procure.tenders.models import Bid, Tender

    ids = {name: [str(i) for i in db.session.scalars(sa.select(model.id).order_by(model.id))]
           for name, model in [("user_id", User), ("dep_id", Department), ("org_id", Organization),
                               ("base_id", IncubationBase), ("project_id", Project), ("cat_id", ServiceCategory),
                               ("appr_id", Appropriation), ("job_id", Job), ("note_id", Notification),
                               ("doc_id", Document), ("tender_id", Tender), ("bid_id", Bid)]}
    ids["token"] = ["not-a-token"]
    data = set()
    for row in db.session.execute(sa.select(User.name, User.email)):
        data.update(row)
    for row in db.session.execute(sa.select(Department.name, Department.code)):
        data.update(row)
    for row in db.session.execute(sa.select(Organization.name, Organization.credit_code,
                                            Organization.contact_email, Organization.website)):
        data.update(v for v in row if v)
    data.update(db.session.scalars(sa.select(Document.filename)))
    # an email is written in its recipient's language (one demo user reads English)
    for row in db.session.execute(sa.select(Notification.subject, Notification.body_text)):
        data.update(" ".join(v.split()) for v in row)
    # user names are shown on the account pages only (elsewhere "admin" or "finance"
    # would be a role code left raw)
    usernames = sorted(db.session.scalars(sa.select(User.username)), key=len, reverse=True)
    # text the demo's people wrote that is also a phrase of the interface (a criterion named
    # 报价, a budget check noted 预算审核通过): data on an English page, not untranslated text
    from procure.budgets.models import LedgerEntry
    from procure.tenders.models import TenderCriterion

    written = {*db.session.scalars(sa.select(TenderCriterion.name)),
               *db.session.scalars(sa.select(LedgerEntry.reason).where(LedgerEntry.reason.is_not(None)))}
    return {"ids": ids, "data": sorted((d for d in data if d), key=len, reverse=True), "usernames": usernames,
            "written": frozenset(" ".join(w.split()) for w in written)}


def _seeds(app, ids: dict) -> list[str]:
    """Every GET page of the URL map, its path ids filled with demo rows; one page of
    each endpoint first, so the page limit never leaves an endpoint out."""
    per_rule = []
    with app.test_request_context():
        from flask import url_for

        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint in SKIP_ENDPOINTS:
                continue
            args = sorted(rule.arguments)
            if not args:
                per_rule.append([url_for(rule.endpoint)])
            elif len(args) == 1 and args[0] in ids:
                per_rule.append([url_for(rule.endpoint, **{args[0]: i})
                                 for i in ids[args[0]][:MAX_IDS.get(args[0], 8)]])
    seeds = []
    for round_ in zip_longest(*per_rule):
        seeds += [url for url in round_ if url and url not in seeds]
    return seeds


def _findings(url: str, html: str, data: list[str], lang: str = "zh",
              written: frozenset[str] = frozenset()) -> tuple[list[str], list[str]]:
    """Findings of one page in ``lang`` ("zh" or "en"), and its links. ``data`` is shown
    as stored (names, codes); ``written`` (English only) is free text of the demo."""
    parser = _Page()
    parser.feed(html)
    found, nodes = [], parser.text
    if lang == "en":
        known, chinese, english = {*data, *written, *LANGUAGE_NAMES}, zh_texts(), en_texts()
        nodes = []
        for node in (" ".join(t.split()) for t in parser.text):
            if node in chinese and node not in known:
                found.append(f"{url}: Chinese text {node!r} in …{node}…")
            if node not in english:  # the interface's own phrases ("None.") are not values
                nodes.append(node)
    text = " ".join(" ".join(nodes).split())
    for value in [*ALLOWED_PHRASES, *data]:  # the demo's names and codes are data
        text = text.replace(value, " ")
    text = FILENAME.sub(" ", URL.sub(" ", EMAIL.sub(" ", text)))

    def around(m):
        return text[max(0, m.start() - 30):m.end() + 30]

    for m in PY_REPR.finditer(text):
        found.append(f"{url}: Python value {m.group()!r} in …{around(m)}…")
    for m in RAW_KEY.finditer(text):
        found.append(f"{url}: raw key {m.group()!r} in …{around(m)}…")
    for m in WORD.finditer(text) if lang == "zh" else ():
        if m.group().lower() not in ALLOWED_WORDS:
            found.append(f"{url}: English word {m.group()!r} in …{around(m)}…")
    return found, parser.links


def _crawl(app, client, demo) -> tuple[list[str], int]:
    queue = deque(_seeds(app, demo["ids"]))

    seen, per_path, findings, pages = set(queue), Counter(), [], 0
    skip_prefixes = ("/static/", "/bootstrap/", "/documents/", "/logout", "/language/")
    while queue and pages < MAX_PAGES:
        url = queue.popleft()
        resp = client.get(url)
        assert resp.status_code < 500, f"{url} answered {resp.status_code}"
        if resp.status_code != 200 or not resp.mimetype == "text/html":
            continue
        pages += 1
        shows_users = any(part in url for part in ("/users", "/notices", "/admin/audit"))
        data = demo["data"] + (demo["usernames"] if shows_users else [])
        found, links = _findings(url, resp.get_data(as_text=True), data)
        findings += found
        for href in links:
            parts = urlsplit(urljoin(url, href))
            if parts.netloc not in ("", "localhost") or parts.path.startswith(skip_prefixes):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target in seen or per_path[parts.path] >= MAX_PER_PATH:
                continue
            if parts.path.endswith((".xlsx", ".json", ".pdf")):
                continue
            seen.add(target)
            per_path[parts.path] += 1
            queue.append(target)
    return findings, pages


@pytest.mark.parametrize("role", ROLES)
def test_every_page_reads_in_chinese(app, demo, role):
    from procure.extensions import limiter

    app.test_client_class = IsolatedClient
    client = app.test_client()
    with app.app_context():
        limiter.reset()
    if role != "anon":
        assert login(client, role, DEMO_PASSWORD).status_code == 302
    findings, pages = _crawl(app, client, demo)
    assert pages >= (2 if role == "anon" else 4), pages
    _assert_none(findings, role)


def _assert_none(findings: list[str], role: str) -> None:
    unique = sorted(set(findings))
    # one line per distinct word or key, with the first page it was seen on
    first = {}
    for line in unique:
        first.setdefault(line.split(" in …")[0].split(": ", 1)[1], line)
    assert not unique, f"{len(unique)} findings as {role}:\n" + "\n".join(list(first.values())[:80])


def test_every_page_reads_in_english(app, demo):
    """Each role's pages (one per endpoint, as representative_pages finds them) with the
    session's language English: no raw keys, dicts or "None", no interface text in Chinese."""
    from procure.extensions import limiter

    app.test_client_class = IsolatedClient
    started, failures, counts = time.monotonic(), [], {}
    for role in ROLES:
        client = app.test_client()
        with app.app_context():
            limiter.reset()
        if role != "anon":
            assert login(client, role, DEMO_PASSWORD).status_code == 302
        with client.session_transaction() as session:  # the switch, without saving the account's choice
            session["lang"] = "en"
        shown = client.get("/login" if role == "anon" else "/dashboard").get_data(as_text=True)
        assert '<html lang="en' in shown, "the session's language did not switch the page to English"
        findings: list[str] = []

        def check(url, html, findings=findings):
            shows_users = any(part in url for part in ("/users", "/notices", "/admin/audit"))
            data = demo["data"] + (demo["usernames"] if shows_users else [])
            findings.extend(_findings(url, html, data, lang="en", written=demo["written"])[0])

        counts[role] = len(representative_pages(app, client, demo["ids"], on_page=check))
        assert counts[role] >= (2 if role == "anon" else 4), counts
        try:
            _assert_none(findings, role)
        except AssertionError as err:
            failures.append(str(err))
    print(f"\nEnglish pages per role {counts} read in {time.monotonic() - started:.1f} s")
    assert not failures, "\n\n".join(failures)


def representative_pages(app, client, ids: dict, *, per_endpoint: int = 3, limit: int = 400,
                         on_page=None) -> dict[str, str]:
    """One page per endpoint that ``client`` (signed in as a role, or not) may read: the
    first URL of the endpoint that answers 200 with HTML, tried from the URL map (each
    endpoint once, with the first demo row) and the links of the pages read (at most
    ``per_endpoint`` tries of an endpoint: a role's own rows are linked from its pages).
    Returns {endpoint: url}, in the order found (the dashboard first for a signed-in user).
    ``on_page(url, html)``, if given, is called with each page found."""
    adapter = app.url_map.bind("localhost")
    found: dict[str, str] = {}
    tries: Counter = Counter()
    first = {name: values[:1] for name, values in ids.items()}
    queue = deque(["/dashboard", *_seeds(app, first)])
    seen = set(queue)
    skip_prefixes = ("/static/", "/bootstrap/", "/documents/", "/logout", "/language/")
    fetched = 0
    while queue and fetched < limit:
        url = queue.popleft()
        try:
            endpoint, _args = adapter.match(urlsplit(url).path, method="GET")
        except Exception:  # noqa: BLE001 - a redirect rule or an unknown path: not a page
            continue
        if endpoint in found or endpoint in SKIP_ENDPOINTS or tries[endpoint] >= per_endpoint:
            continue
        tries[endpoint] += 1
        fetched += 1
        resp = client.get(url)
        assert resp.status_code < 500, f"{url} answered {resp.status_code}"
        if resp.status_code != 200 or resp.mimetype != "text/html":
            continue
        found[endpoint] = url
        html = resp.get_data(as_text=True)
        if on_page is not None:
            on_page(url, html)
        parser = _Page()
        parser.feed(html)
        for href in parser.links:
            parts = urlsplit(urljoin(url, href))
            if parts.netloc not in ("", "localhost") or parts.path.startswith(skip_prefixes):
                continue
            if parts.path.endswith((".xlsx", ".json", ".pdf", ".csv")):
                continue
            target = parts.path + (f"?{parts.query}" if parts.query else "")
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return found
