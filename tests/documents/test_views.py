"""GET /documents/<id>: permission per role, content type, RFC 5987 file name."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from procure.documents.services import store_document
from procure.roles import Role

from ..conftest import login


@pytest.fixture()
def org_document(db, make, documents_dir):
    """A document of an organization, visible to admins and that organization's users."""
    org = make.organization()
    doc = store_document(make.admin(), b"%PDF-1.7 org file", "年度报告 2026.pdf", "application/pdf",
                         "annual_report", obj=org, permission="organization.users.view")
    make.commit()
    return org, doc


@pytest.mark.parametrize("who, status", [
    ("admin", 200), ("own_org", 200), ("other_org", 403), (Role.OFFICER, 403), (Role.FINANCE, 403),
    (Role.EVALUATOR, 403),
])
def test_access_per_role(client, make, org_document, who, status):
    org, doc = org_document
    if who == "admin":
        user = make.admin()
    elif who == "own_org":
        user = make.user(Role.ORG, organization=org)
    elif who == "other_org":
        user = make.user(Role.ORG)
    else:
        user = make.user(who)
    make.commit()
    login(client, user.username)
    resp = client.get(f"/documents/{doc.id}")
    assert resp.status_code == status
    if status == 200:
        assert resp.data == b"%PDF-1.7 org file"


def test_anonymous_is_sent_to_sign_in(client, org_document):
    _org, doc = org_document
    resp = client.get(f"/documents/{doc.id}")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def test_headers_content_type_and_chinese_file_name(client, make, org_document):
    _org, doc = org_document
    login(client, make.admin().username)
    resp = client.get(f"/documents/{doc.id}")
    assert resp.mimetype == "application/pdf"
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''" + quote("年度报告 2026.pdf") in disposition
    assert resp.headers["ETag"].strip('"') == doc.sha256
    assert "private" in resp.headers["Cache-Control"]
    inline = client.get(f"/documents/{doc.id}?inline=1")
    assert inline.headers["Content-Disposition"].startswith("inline;")


def test_own_documents_are_for_their_owner_and_admins(client, make, documents_dir):
    owner, other = make.user(Role.FINANCE), make.user(Role.FINANCE)
    doc = store_document(owner, b"a,b\n", "导出.csv", "text/csv", "export")
    make.commit()
    login(client, other.username)
    assert client.get(f"/documents/{doc.id}").status_code == 403
    client.post("/logout")
    login(client, owner.username)
    resp = client.get(f"/documents/{doc.id}")
    assert resp.status_code == 200 and resp.mimetype == "text/csv" and resp.data == b"a,b\n"


def test_missing_document_or_file_is_404(client, make, documents_dir):
    user = make.user(Role.FINANCE)
    doc = store_document(user, b"gone", "x.txt", "text/plain", "note")
    make.commit()
    login(client, user.username)
    assert client.get("/documents/999999").status_code == 404
    for path in documents_dir.rglob("*"):
        if path.is_file():
            path.unlink()
    assert client.get(f"/documents/{doc.id}").status_code == 404
