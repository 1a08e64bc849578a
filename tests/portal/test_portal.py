"""The public portal: calls, clarifications and documents without signing in; nothing of
a bid before the opening (no price, proposal, bidder or count), the opening record after
it; award windows in Beijing time; a constant number of queries; bad query strings."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

import procure.tenders.services  # noqa: F401  (the tender rules, for the documents' permission)
from procure.documents.services import store_document
from procure.projects.models import ProcurementMethod
from procure.roles import Role
from procure.tenders.models import BidState, Clarification, Tender, TenderDocument, TenderState
from procure.timeutil import utcnow
from tests.querycount import page_statements

from ..conftest import login

PRICE = "87654.32"
PROPOSAL = "我们的秘密服务方案ZQ9"
CONTENT = {"price": PRICE, "proposal": PROPOSAL, "breakdown": [], "attachments": []}


def _org(make, name):
    return make.organization(name, contact_name="联系人王五", contact_phone="13900001111",
                             contact_email="wangwu@example.org")


@pytest.fixture()
def world(make, db):
    officer = make.user(Role.OFFICER)
    tender = make.tender(officer, state=TenderState.PUBLISHED, title="社区养老服务采购公告",
                         description="服务范围：渝中区高龄独居老人")
    doc = store_document(officer, b"%PDF-1.4 call", "采购文件.pdf", "application/pdf", "tender_document",
                         obj=tender, permission="tender.view")
    db.session.add(TenderDocument(tender_id=tender.id, document_id=doc.id, title="采购文件", position=0))
    db.session.add(Clarification(tender_id=tender.id, text="澄清：服务期限为十二个月", published_by_id=officer.id))
    orgs = [_org(make, "同心养老服务中心甲"), _org(make, "阳光社工协会乙"), _org(make, "康乐残障中心丙")]
    bids = [make.bid(tender, orgs[0], state=BidState.SUBMITTED, content=CONTENT),
            make.bid(tender, orgs[1], state=BidState.SUBMITTED,
                     content=dict(CONTENT, price="76543.21", proposal="另一份方案")),
            make.bid(tender, orgs[2], content=dict(CONTENT, price="65432.10"))]  # a draft
    make.commit()
    return {"officer": officer, "tender": tender, "orgs": orgs, "bids": bids, "doc": doc}


def _sealed_absent(html: str, world) -> None:
    for secret in (PRICE, "87,654.32", "76,543.21", "76543.21", "65,432.10", PROPOSAL, "另一份方案"):
        assert secret not in html
    for org in world["orgs"]:
        assert org.name not in html
    for personal in ("联系人王五", "13900001111", "wangwu@example.org", world["officer"].email,
                     world["officer"].name):
        assert personal not in html
    # no count of bids or bidders, in either language
    for word in ("投标人数", "份投标", "bids received", "bidders: "):
        assert word not in html


def test_open_call_is_public_and_shows_nothing_of_the_bids(client, world):
    tender = world["tender"]
    for path in ("/portal/", f"/portal/calls/{tender.id}", "/portal/?section=opened", "/portal/?section=awards",
                 "/portal/?section=ended", "/portal/?q=养老"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        _sealed_absent(resp.get_data(as_text=True), world)
    html = client.get(f"/portal/calls/{tender.id}").get_data(as_text=True)
    assert "社区养老服务采购公告" in html and "服务范围：渝中区高龄独居老人" in html
    assert "澄清：服务期限为十二个月" in html and "采购文件" in html
    assert "¥100,000.00" in html  # the project's ceiling
    assert 'id="record-sealed"' in html and 'id="opening-record"' not in html
    listing = client.get("/portal/").get_data(as_text=True)
    assert "社区养老服务采购公告" in listing and "采购公告" in listing


def test_signed_in_users_see_the_same_and_the_portal_is_linked(client, world, make):
    org_user = make.user(Role.ORG, organization=world["orgs"][0])
    make.commit()
    sign_in = client.get("/login").get_data(as_text=True)
    assert 'id="login-portal"' in sign_in and 'id="nav-portal"' in sign_in  # the page and the top bar
    login(client, org_user.username)
    resp = client.get(f"/portal/calls/{world['tender'].id}")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    # even the bidding organization's own staff see nothing of any bid on the public page
    assert PROPOSAL not in html and "87,654.32" not in html and "阳光社工协会乙" not in html
    assert "社区养老服务采购公告" in html


def test_documents_download_only_for_public_calls(client, world, make, db):
    tender = world["tender"]
    line = db.session.query(TenderDocument).filter_by(tender_id=tender.id).one()
    resp = client.get(f"/portal/calls/{tender.id}/documents/{line.id}")
    assert resp.status_code == 200 and resp.data == b"%PDF-1.4 call"
    assert "attachment" in resp.headers["Content-Disposition"]
    # a draft's documents and its page are not public; a line of another call neither
    draft = make.tender(world["officer"])
    doc = store_document(world["officer"], b"draft", "草稿.pdf", "application/pdf", "tender_document", obj=draft,
                         permission="tender.view")
    dline = TenderDocument(tender_id=draft.id, document_id=doc.id, title="草稿文件")
    db.session.add(dline)
    make.commit()
    assert client.get(f"/portal/calls/{draft.id}").status_code == 404
    assert client.get(f"/portal/calls/{draft.id}/documents/{dline.id}").status_code == 404
    assert client.get(f"/portal/calls/{tender.id}/documents/{dline.id}").status_code == 404
    assert "草稿文件" not in client.get("/portal/").get_data(as_text=True)


def test_a_call_published_for_later_is_not_shown_yet(client, make):
    officer = make.user(Role.OFFICER)
    later = make.tender(officer, state=TenderState.PUBLISHED, title="尚未发布的公告",
                        opening_at=utcnow() + timedelta(days=40), published_at=utcnow() + timedelta(days=2))
    make.commit()
    assert client.get(f"/portal/calls/{later.id}").status_code == 404
    assert "尚未发布的公告" not in client.get("/portal/").get_data(as_text=True)


def _open(db, tender, bids, *, state=TenderState.CLOSED):
    now = utcnow()
    tender.opening_at = tender.deadline_at = now - timedelta(hours=1)
    tender.published_at = now - timedelta(days=25)
    for bid in bids:
        bid.state, bid.opened_at = BidState.OPENED, now
    bids[0].price, bids[1].price = Decimal(PRICE), Decimal("76543.21")
    tender.state, tender.opened_at = state, now


def test_the_opening_record_appears_after_the_opening_only(client, world, db):
    tender, bids = world["tender"], world["bids"]
    # the opening time passed but the bids are not opened yet (opened_at unset): still sealed
    tender.opening_at = tender.deadline_at = utcnow() - timedelta(minutes=5)
    tender.published_at = utcnow() - timedelta(days=25)
    db.session.commit()
    _sealed_absent(client.get(f"/portal/calls/{tender.id}").get_data(as_text=True), world)
    _open(db, tender, bids[:2])
    db.session.commit()
    html = client.get(f"/portal/calls/{tender.id}").get_data(as_text=True)
    assert 'id="opening-record"' in html
    assert "同心养老服务中心甲" in html and "¥87,654.32" in html
    assert "阳光社工协会乙" in html and "¥76,543.21" in html
    assert "康乐残障中心丙" not in html  # a draft never entered the opening
    assert PROPOSAL not in html and "联系人王五" not in html and "13900001111" not in html
    listing = client.get("/portal/?section=opened").get_data(as_text=True)
    assert tender.title in listing


def test_award_notice_shows_its_windows_in_beijing_time(client, world, db):
    tender, bids = world["tender"], world["bids"]
    _open(db, tender, bids[:2])
    db.session.flush()
    bids[1].state = BidState.AWARDED
    tender.state, tender.awarded_bid_id = TenderState.AWARDED, bids[1].id
    tender.award_notice_at = datetime(2026, 3, 2, 2, 0)
    tender.publicity_ends_at = datetime(2026, 3, 9, 16, 0)  # 3月10日 00:00 in Beijing
    tender.challenge_ends_at = datetime(2026, 3, 11, 9, 30)  # 17:30 in Beijing
    db.session.commit()
    html = client.get(f"/portal/calls/{tender.id}").get_data(as_text=True)
    assert 'id="award-notice"' in html and "阳光社工协会乙" in html
    notice = html.split('id="award-notice"')[1]
    assert "2026年3月10日 00:00:00" in notice and "2026年3月11日 17:30:00" in notice
    listing = client.get("/portal/?section=awards").get_data(as_text=True)
    assert tender.title in listing and "2026年3月11日 17:30:00" in listing


def test_failed_and_cancelled_calls_show_their_reason(client, make, db):
    officer = make.user(Role.OFFICER)
    failed = make.tender(officer, state=TenderState.FAILED, title="流标的公告")
    failed.reason = "有效投标不足三家"
    cancelled = make.tender(officer, state=TenderState.PUBLISHED, title="终止的公告")
    cancelled.state, cancelled.reason = TenderState.CANCELLED, "项目需求调整"
    never = make.tender(officer, state=TenderState.CANCELLED, title="从未发布的公告")  # cancelled as a draft
    make.commit()
    listing = client.get("/portal/?section=ended").get_data(as_text=True)
    assert "流标的公告" in listing and "有效投标不足三家" in listing
    assert "终止的公告" in listing and "项目需求调整" in listing
    assert "从未发布的公告" not in listing
    assert "有效投标不足三家" in client.get(f"/portal/calls/{failed.id}").get_data(as_text=True)
    assert client.get(f"/portal/calls/{never.id}").status_code == 404


def test_search_and_paging(client, make):
    officer = make.user(Role.OFFICER)
    for i in range(23):
        make.tender(officer, state=TenderState.PUBLISHED, title=f"居家养老服务{i:02d}号",
                    opening_at=utcnow() + timedelta(days=20, hours=i))
    make.tender(officer, state=TenderState.PUBLISHED, title="青少年心理辅导 100%_项目",
                opening_at=utcnow() + timedelta(days=30), published_at=utcnow() - timedelta(days=1))
    make.commit()
    first = client.get("/portal/").get_data(as_text=True)
    assert "居家养老服务00号" in first and "居家养老服务19号" in first and "居家养老服务20号" not in first
    second = client.get("/portal/?page=2").get_data(as_text=True)
    assert "居家养老服务20号" in second and "居家养老服务00号" not in second
    found = client.get("/portal/?q=心理").get_data(as_text=True)
    assert "青少年心理辅导" in found and "居家养老服务" not in found
    # one, two (indexed substrings) and more characters (trigrams) alike; any case
    assert "青少年心理辅导" in client.get("/portal/?q=辅").get_data(as_text=True)
    assert "青少年心理辅导" in client.get("/portal/?q=心理辅导").get_data(as_text=True)
    assert "居家养老服务07号" in client.get("/portal/?q=07号").get_data(as_text=True)
    assert "心理辅导" not in client.get("/portal/?q=辅X").get_data(as_text=True)
    # LIKE's wildcards are searched as themselves
    assert "居家养老服务" not in client.get("/portal/?q=%25_").get_data(as_text=True)
    assert "青少年心理辅导" in client.get("/portal/?q=100%25_").get_data(as_text=True)


@pytest.mark.parametrize("query", ["page=99999999999999999999999", "page=-1", "page=abc", "page=1000000",
                                   "section=nope", "q=" + "长" * 5000, "q=%E5%85", "section=open&page=0"])
def test_bad_query_strings_never_fail(client, world, query):
    resp = client.get(f"/portal/?{query}")
    assert resp.status_code == 200, query


@pytest.mark.parametrize("path", ["/portal/?q=a%00b", "/portal/?section=open%00", "/portal/?page=1%00"])
def test_a_nul_byte_is_a_clear_400(client, world, path):
    resp = client.get(path)
    assert resp.status_code == 400
    assert "控制字符" in resp.get_data(as_text=True)


def test_huge_ids_are_not_found(client, world):
    assert client.get("/portal/calls/99999999999999999999").status_code == 404
    assert client.get(f"/portal/calls/{world['tender'].id}/documents/99999999999").status_code == 404


# --- the number of queries does not grow with the data -----------------------------------


def _fill(make, db, n: int):
    officer = make.user(Role.OFFICER)
    orgs = [make.organization() for _ in range(3)]
    made = []
    for i in range(n):
        open_ = make.tender(officer, state=TenderState.PUBLISHED, title=f"公开招标{i}")
        officer_doc = store_document(officer, f"file {i}".encode(), f"文件{i}.pdf", "application/pdf",
                                     "tender_document", obj=open_, permission="tender.view")
        db.session.add(TenderDocument(tender_id=open_.id, document_id=officer_doc.id, title=f"文件{i}"))
        db.session.add(Clarification(tender_id=open_.id, text=f"澄清{i}", published_by_id=officer.id))
        closed = make.tender(officer, state=TenderState.PUBLISHED, title=f"已开标{i}")
        bids = [make.bid(closed, org, state=BidState.SUBMITTED) for org in orgs]
        _open(db, closed, bids)
        awarded = make.tender(officer, state=TenderState.PUBLISHED, title=f"已中标{i}")
        abids = [make.bid(awarded, org, state=BidState.SUBMITTED) for org in orgs]
        _open(db, awarded, abids)
        db.session.flush()
        awarded.state, awarded.awarded_bid_id, awarded.award_notice_at = TenderState.AWARDED, abids[0].id, utcnow()
        failed = make.tender(officer, state=TenderState.FAILED, title=f"流标{i}")
        make.tender(officer, state=TenderState.PUBLISHED, method=ProcurementMethod.INVITED_TENDER, title=f"邀请{i}")
        made.append((open_, closed, awarded, failed))
    make.commit()
    return made[0]


_count = page_statements


def test_query_counts_do_not_grow_with_the_data(app, make, db, client):
    open_, closed, awarded, failed = _fill(make, db, 1)
    urls = ["/portal/", "/portal/?section=opened", "/portal/?section=awards", "/portal/?section=ended",
            "/portal/?section=invited", "/portal/?q=公开", f"/portal/calls/{open_.id}", f"/portal/calls/{closed.id}",
            f"/portal/calls/{awarded.id}", f"/portal/calls/{failed.id}"]
    small = {url: _count(app, client, url) for url in urls}
    _fill(make, db, 12)  # twelve times the calls, bids, documents and clarifications
    # the same first pages now show more rows and other tenders: the count stays
    large = {url: _count(app, client, url) for url in urls}
    assert small == large
    for url in urls[:6]:
        assert small[url] <= 2, (url, small[url])  # the count and the rows
    assert small[f"/portal/calls/{closed.id}"] <= 4  # the call, documents, clarifications, record


@pytest.mark.parametrize("at", [datetime(2026, 3, 9, 16, 0), datetime(2026, 12, 31, 15, 59, 59),
                                datetime(2027, 1, 1, 1, 2, 3)])
def test_the_portals_fast_time_format_is_the_apps(app, at):
    from flask_babel import force_locale

    with app.test_request_context():
        env = app.jinja_env
        assert env.filters["bj"](at) == env.filters["dt"](at)
        with force_locale("en"):
            assert env.filters["bj"](at) == env.filters["dt"](at)
        assert env.filters["bj"](None) == ""


def test_the_portal_sets_no_cookie_for_its_visitors(client, world):
    for path in ("/portal/", f"/portal/calls/{world['tender'].id}"):
        resp = client.get(path)
        assert resp.status_code == 200 and "Set-Cookie" not in resp.headers, path


def test_a_section_of_two_states_pages_in_one_order(client, make, db):
    officer = make.user(Role.OFFICER)
    made = []
    for i in range(25):
        t = make.tender(officer, state=TenderState.FAILED if i % 3 else TenderState.CANCELLED, title=f"终结{i:02d}号")
        if t.state == TenderState.CANCELLED:  # cancelled after publication
            t.published_at, t.deadline_at, t.opening_at = utcnow() - timedelta(days=30), utcnow(), utcnow()
            from procure.tenders.content import ensure_data_key

            ensure_data_key(t)
        made.append(t)
    db.session.flush()
    base = datetime(2026, 1, 1)
    for i, t in enumerate(made):
        db.session.execute(sa.update(Tender).where(Tender.id == t.id).values(updated_at=base + timedelta(hours=i)))
    db.session.commit()
    pages = [client.get(f"/portal/?section=ended&page={n}").get_data(as_text=True) for n in (1, 2)]
    found = [re.findall(r"终结(\d\d)号", html) for html in pages]
    assert found[0] == [f"{i:02d}" for i in range(24, 4, -1)]  # the latest first, across both states
    assert found[1] == [f"{i:02d}" for i in range(4, -1, -1)]


# --- calls by invitation (invited tender, single source) -------------------------------------


def _rows(html: str, section_id: str = "portal-calls") -> str:
    return html.split(f'id="{section_id}"', 1)[1].split("</table>", 1)[0] if f'id="{section_id}"' in html else ""


@pytest.fixture()
def invited_world(make, db):
    """A public call, an invited tender with its list and a single source, all open for
    bids; and an organization invited to none of them."""
    from procure.tenders.models import TenderInvitation

    officer = make.user(Role.OFFICER)
    invited_org, named_org = _org(make, "受邀服务中心甲"), _org(make, "单一来源社工站乙")
    outsider = _org(make, "未受邀协会丙")
    public = make.tender(officer, state=TenderState.PUBLISHED, title="公开招标的助老服务")
    invited = make.tender(officer, state=TenderState.PUBLISHED, method=ProcurementMethod.INVITED_TENDER,
                          title="邀请招标的心理辅导服务")
    db.session.add(TenderInvitation(tender_id=invited.id, organization_id=invited_org.id, invited_by_id=officer.id,
                                    invited_at=utcnow()))
    single = make.tender(officer, state=TenderState.PUBLISHED, method=ProcurementMethod.SINGLE_SOURCE,
                         title="单一来源的社区矫正服务", single_source_organization_id=named_org.id)
    for t in (public, invited, single):
        t.published_at = utcnow() - timedelta(days=1)
    users = {name: make.user(Role.ORG, organization=org)
             for name, org in (("invited", invited_org), ("named", named_org), ("outsider", outsider))}
    make.commit()
    return {"public": public, "invited": invited, "single": single, "users": users,
            "orgs": (invited_org, named_org, outsider)}


def test_calls_by_invitation_are_published_in_their_own_section(client, invited_world):
    """The open calls list only what any eligible organization may answer; the calls by
    invitation are published apart, marked as such, never with who is invited."""
    w = invited_world
    open_rows = _rows(client.get("/portal/").get_data(as_text=True))
    assert w["public"].title in open_rows
    assert w["invited"].title not in open_rows and w["single"].title not in open_rows
    html = client.get("/portal/?section=invited").get_data(as_text=True)
    rows = _rows(html)
    assert w["invited"].title in rows and w["single"].title in rows and w["public"].title not in rows
    assert rows.count("by-invitation") == 2 and "邀请招标" in rows and "单一来源" in rows
    assert "仅限受邀" in html  # the section's explanation, in Chinese by default
    # The section is in the portal's menu, and a search in the open calls does not find them.
    assert 'href="/portal/?section=invited"' in client.get("/portal/").get_data(as_text=True)
    assert w["invited"].title not in _rows(client.get("/portal/?q=心理辅导").get_data(as_text=True))
    assert w["invited"].title in _rows(client.get("/portal/?section=invited&q=心理辅导").get_data(as_text=True))
    for key in ("invited", "single"):
        page = client.get(f"/portal/calls/{w[key].id}").get_data(as_text=True)
        assert 'id="call-by-invitation"' in page and "by-invitation" in page
        assert 'class="nav-link active" href="/portal/?section=invited"' in page
        for org in w["orgs"]:  # who is invited (or named) is not published
            assert org.name not in page and org.name not in html
    public_page = client.get(f"/portal/calls/{w['public'].id}").get_data(as_text=True)
    assert 'id="call-by-invitation"' not in public_page
    assert 'class="nav-link active" href="/portal/?section=open"' in public_page


def test_after_the_opening_a_call_by_invitation_is_listed_with_the_others(client, invited_world, db):
    invited = invited_world["invited"]
    now = utcnow()
    invited.deadline_at = invited.opening_at = now - timedelta(hours=1)
    invited.state, invited.opened_at = TenderState.CLOSED, now
    db.session.commit()
    assert invited.title in _rows(client.get("/portal/?section=opened").get_data(as_text=True))
    assert invited.title not in _rows(client.get("/portal/?section=invited").get_data(as_text=True))


def test_an_uninvited_organization_is_not_offered_calls_by_invitation(client, invited_world):
    """Signed in, an organization invited to nothing finds only the public call among the
    calls it may bid on (its dashboard, its list of calls) and is refused the others'
    pages; the invited and the named organization find theirs."""
    from procure.extensions import limiter

    w = invited_world

    def as_(user):
        limiter.reset()
        c = client.application.test_client()
        assert login(c, user.username).status_code == 302
        return c

    def offered(c) -> tuple[str, str]:
        dashboard = c.get("/dashboard").get_data(as_text=True)
        worklist = dashboard.split('data-worklist="tender.open_calls"', 1)[1].split("</section>", 1)[0]
        calls = c.get("/tenders/calls")
        assert calls.status_code == 200
        return worklist, calls.get_data(as_text=True)

    outsider = as_(w["users"]["outsider"])
    for listing in offered(outsider):
        assert w["public"].title in listing
        assert w["invited"].title not in listing and w["single"].title not in listing
    assert outsider.get(f"/tenders/calls/{w['invited'].id}").status_code == 403
    assert outsider.get(f"/tenders/calls/{w['single'].id}/bid").status_code == 403
    # The portal shows them to everyone, signed in or not, without a way to bid.
    page = outsider.get(f"/portal/calls/{w['invited'].id}").get_data(as_text=True)
    assert 'id="call-by-invitation"' in page and "/bid" not in page
    for who, key in (("invited", "invited"), ("named", "single")):
        for listing in offered(as_(w["users"][who])):
            assert w[key].title in listing and w["public"].title in listing
