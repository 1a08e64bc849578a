"""Sealing (a): before the opening, every GET route of the URL map, as every role (the
bidders' competitors included), shows no price, no proposal text, no bidder name and no
bid count — the pages are byte-for-byte the same (tokens aside) with and without bids."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import url_for

from procure.roles import Role
from procure.tenders import bidding

from ..conftest import login
from .helpers import eligible_org, published_tender, submitted_bid, world

PRICES = ("61234.56", "59876.54")
SECRET = "封存方案内容 SEALED-PROPOSAL-4471"
NOISE = re.compile(r'(csrf_token" value="[^"]*"|name="csrf-token" content="[^"]*"|nonce="[^"]*"|'
                   r'\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?|'
                   r'\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}(:\d{2})?|\d+ (seconds?|minutes?) ago|秒前|分钟前)')


def _routes(app, ids: dict) -> list[str]:
    out = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static" or "logout" in rule.endpoint:
                continue
            args = sorted(rule.arguments)
            if not args:
                out.append(url_for(rule.endpoint))
            elif all(a in ids for a in args):
                combos = [{}]
                for a in args:
                    combos = [dict(c, **{a: v}) for c in combos for v in ids[a]]
                out += [url_for(rule.endpoint, **c) for c in combos]
    return out


def _crawl(app, users, paths) -> dict:
    pages = {}
    for role, user in users.items():
        client = app.test_client()
        assert login(client, user.username).status_code == 302
        for path in paths:
            resp = client.get(path)
            assert resp.status_code < 500, (role, path, resp.status_code)
            body = resp.get_data(as_text=True) if resp.mimetype in ("text/html", "application/json", "text/plain",
                                                                      "text/csv") else f"<{resp.mimetype}>"
            pages[(role, path)] = (resp.status_code, NOISE.sub("", body))
    return pages


def test_no_page_tells_anything_of_the_bids_before_the_opening(app, client, db, make):
    officer, project, bidders = world(make, orgs=("同心养老服务中心", "阳光社工事务所"))
    tender = published_tender(make, officer, project)
    outsider_org, outsider = eligible_org(make, "旁观社会组织")
    users = {"admin": make.admin(), "officer": officer, "finance": make.finance(),
             "evaluator": make.user(Role.EVALUATOR), "outsider": outsider}
    ids = {"tender_id": [str(tender.id)], "project_id": [str(project.id)], "org_id": [str(outsider_org.id)],
           "user_id": [str(officer.id)], "bid_id": ["1", "2"], "doc_id": ["1", "2", "3"], "job_id": ["1"],
           "note_id": ["1"], "document_id": ["1"]}
    db.session.commit()
    paths = _routes(app, ids)
    assert any("/tenders/" in p for p in paths) and len(paths) > 40
    before = _crawl(app, users, paths)
    for (_o, user), price in zip(bidders, PRICES, strict=True):
        submitted_bid(tender, user, price, SECRET)
    db.session.commit()
    after = _crawl(app, users, paths)
    names = [o.name for o, _u in bidders]
    leaks = []
    for key, (status, body) in after.items():
        for secret in (*PRICES, "61,234.56", "59,876.54", SECRET, "SEALED-PROPOSAL"):
            if secret in body:
                leaks.append((key, secret))
        # a name already shown before any bid (the registry, the accounts) tells nothing
        leaks += [(key, n) for n in names if n in body and n not in before[key][1]]
        if before[key] != (status, body):
            import difflib
            diff = [d for d in difflib.unified_diff(before[key][1].splitlines(), body.splitlines(), lineterm="", n=0)
                    if d.startswith(("+", "-"))][:6]
            leaks.append((key, "the page changed when bids were submitted", before[key][0], status, diff))
    assert leaks == [], "\n".join(map(str, leaks))
    assert tender.opening_at > bidding.utcnow() + timedelta(days=1)
