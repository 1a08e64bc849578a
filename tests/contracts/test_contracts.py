"""Contracts: drafting from a final award, the PDF, signing, the money, verification, access."""

from __future__ import annotations

import shutil
import subprocess
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from procure import pades
from procure.audit import AuditEvent
from procure.budgets.models import Allocation, ContractFunding, LedgerEntry
from procure.contracts import services as cs
from procure.contracts import verification
from procure.contracts.models import (
    Contract,
    ContractState,
    ContractVersion,
    Installment,
    Milestone,
    Signature,
    VersionState,
)
from procure.documents.services import read_document
from procure.errors import Conflict, InvalidTransition, NotPermitted, ValidationError
from procure.projects.models import ProjectState
from procure.roles import Role

from ..conftest import login
from .conftest import draft_data, drafted, final_award, schedule

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"


def _counts(db):
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Contract, ContractVersion, Installment, Milestone, Signature, ContractFunding))


def _pdftext(data: bytes, tmp_path) -> str:
    path = tmp_path / "c.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True,
                          check=True).stdout


# --- drafting ----------------------------------------------------------------------

def test_draft_from_the_final_award(make, db):
    award = final_award(make, db, price="100000.05")
    contract = cs.draft_contract(award.officer, award.tender, draft_data(shares=("30", "40", "30")))
    assert contract.state == ContractState.DRAFT
    assert contract.current_version.state == VersionState.RENDERING
    db.session.commit()  # the PDF job is sent after the commit (eager here: the worker ran it)
    contract = db.session.get(Contract, contract.id)
    assert contract.state == ContractState.PENDING_SIGNATURE
    assert contract.amount == Decimal("100000.05") and contract.organization_id == award.org.id
    amounts = [i.amount for i in contract.installments]
    assert amounts == [Decimal("30000.02"), Decimal("40000.02"), Decimal("30000.01")]
    assert sum(amounts) == contract.amount
    assert [i.releases_on.value for i in contract.installments] == ["milestone", "milestone", "acceptance"]
    assert contract.installments[0].milestone.deliverables == "服务记录、进度报告"
    # 30 calendar days after the award notice's date.
    from procure.timeutil import to_local

    assert (contract.sign_due_on - to_local(award.tender.award_notice_at).date()).days == 30
    v = contract.current_version
    assert v.number == 1 and v.state == VersionState.READY and v.job_id and v.pdf_sha256
    assert v.content["targets"][0]["indicator"] == "服务对象人数"
    assert db.session.scalar(select(AuditEvent.id).where(AuditEvent.action == "contract.create"))


@pytest.mark.parametrize("case, message", [
    ("shares_99", "合计为 99%，必须恰好等于 100%"),
    ("shares_101", "合计为 101%，必须恰好等于 100%"),
    ("final_milestone", "尾款须在验收合格后支付"),
    ("middle_acceptance", "请将第 1 期与履约节点挂钩"),
    ("term_13_months", "合同期限最长 1 年，最迟至 2027年2月28日"),
    ("continuous_4_years", "合同期限最长 3 年，最迟至 2029年2月28日"),
    ("no_deliverables", "交付成果"),
    ("due_outside", "不在合同期限内"),
    ("share_nul", "百分数"),
    ("content_nul", "控制字符"),
])
def test_refusals_write_nothing(make, db, case, message):
    award = final_award(make, db)
    start = date(2026, 3, 1)
    data = {
        "shares_99": lambda: draft_data(shares=("30", "40", "29")),
        "shares_101": lambda: draft_data(shares=("30", "40", "31")),
        "final_milestone": lambda: draft_data(installments=schedule(start, "50", "50", last="milestone")),
        "middle_acceptance": lambda: draft_data(installments=[
            cs.InstallmentData("50", "acceptance"), cs.InstallmentData("50", "acceptance")]),
        "term_13_months": lambda: draft_data(end=date(2027, 3, 31)),
        "continuous_4_years": lambda: draft_data(end=date(2030, 3, 1), is_continuous=True),
        "no_deliverables": lambda: draft_data(installments=[
            cs.InstallmentData("50", "milestone", "第一阶段", date(2026, 6, 1), ""),
            cs.InstallmentData("50", "acceptance")]),
        "due_outside": lambda: draft_data(installments=[
            cs.InstallmentData("50", "milestone", "第一阶段", date(2027, 6, 1), "报告"),
            cs.InstallmentData("50", "acceptance")]),
        "share_nul": lambda: draft_data(installments=[cs.InstallmentData("5\x000", "milestone", "a", start, "b"),
                                                      cs.InstallmentData("50", "acceptance")]),
        "content_nul": lambda: draft_data(service_content="服务\x00内容"),
    }[case]()
    db.session.commit()
    before = _counts(db)
    with pytest.raises(ValidationError) as err:
        cs.draft_contract(award.officer, award.tender, data)
    db.session.rollback()
    assert message in str(err.value.message)
    assert _counts(db) == before


def test_term_limits_from_policy(make, db):
    award = final_award(make, db)
    ok = cs.draft_contract(award.officer, award.tender, draft_data(end=date(2027, 2, 28)))  # one year exactly
    assert ok.period_end == date(2027, 2, 28)
    award2 = final_award(make, db, officer=award.officer)
    ok2 = cs.draft_contract(award.officer, award2.tender,
                            draft_data(end=date(2029, 2, 28), is_continuous=True))  # three years
    assert ok2.is_continuous


def test_only_from_a_final_award_once_by_the_department(make, db):
    award = final_award(make, db)
    other_officer = make.user(Role.OFFICER)
    with pytest.raises(NotPermitted):
        cs.draft_contract(other_officer, award.tender, draft_data())
    with pytest.raises(NotPermitted):
        cs.draft_contract(award.org_user, award.tender, draft_data())
    cs.draft_contract(award.officer, award.tender, draft_data())
    with pytest.raises(Conflict):
        cs.draft_contract(award.officer, award.tender, draft_data())
    from procure.tenders.models import TenderState

    award2 = final_award(make, db, officer=award.officer)
    award2.tender.state = TenderState.AWARDED
    db.session.flush()
    with pytest.raises(InvalidTransition):
        cs.draft_contract(award.officer, award2.tender, draft_data())


# --- the PDF ---------------------------------------------------------------------------

TRICKY = {"100000.05": "壹拾万元零伍分", "1000010000.00": "壹拾亿零壹万元整", "0.50": "伍角整",
          "60036.00": "陆万零叁拾陆元整", "1409999.99": "壹佰肆拾万玖仟玖佰玖拾玖元玖角玖分"}


@pytest.mark.parametrize("price", sorted(TRICKY))
def test_pdf_shows_parties_amounts_and_upper_case(make, db, ca, tmp_path, price):
    award = final_award(make, db, price=price, allocated="80000.00")
    contract = drafted(make, db, award)
    version = contract.current_version
    assert version.state == VersionState.READY and contract.state == ContractState.PENDING_SIGNATURE
    data = read_document(version.pdf_document)
    assert version.pdf_sha256 == pades.signing.sha256_hex(data) if hasattr(pades, "signing") else True
    text = "".join(_pdftext(data, tmp_path).split())
    assert "人民币" + TRICKY[price] in text
    assert award.org.name in text and award.officer.department.name in text and award.org.credit_code in text
    assert version.content_sha256 in text and contract.number in text
    assert "服务对象人数" in text and "第1阶段服务" in text
    if shutil.which("pdffonts"):
        (tmp_path / "f.pdf").write_bytes(data)
        fonts = subprocess.run(["pdffonts", str(tmp_path / "f.pdf")], capture_output=True, text=True).stdout
        cjk = [line for line in fonts.splitlines() if "CJK" in line]
        assert cjk and all(" yes " in line for line in cjk), fonts
    if price == "100000.05":
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / "contract.pdf").write_bytes(data)
        subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(ARTIFACTS / "contract.pdf"),
                        str(ARTIFACTS / "contract-page")], check=True)


# --- signing and money -----------------------------------------------------------------

def _sign_both(db, contract, award):
    cs.sign_contract(award.org_user, contract, make_password())
    db.session.commit()
    cs.sign_contract(award.officer, db.session.get(Contract, contract.id), make_password())
    db.session.commit()
    return db.session.get(Contract, contract.id)


def make_password():
    from tests.factories import Factory

    return Factory.PASSWORD


def test_both_sign_then_active_money_committed_project_contracted(make, db, ca, app):
    finance = make.finance()
    dept_officer = make.user(Role.OFFICER)
    appr1 = make.appropriation(dept_officer.department, "50000.00")
    appr2 = make.appropriation(dept_officer.department, "50000.00", source="lottery")
    project = make.project(dept_officer)
    from procure.projects.services import approve_project, submit_project

    submit_project(dept_officer, project)
    approve_project(finance, project, [(appr1.id, "40000.00"), (appr2.id, "40000.00")])
    award = final_award(make, db, price="60036.00", officer=dept_officer, project=project)
    contract = drafted(make, db, award)
    version = contract.current_version
    cs.sign_contract(award.org_user, contract, make_password())
    db.session.commit()
    contract = db.session.get(Contract, contract.id)
    assert contract.state == ContractState.PENDING_SIGNATURE
    assert db.session.scalar(select(func.count()).select_from(ContractFunding)) == 0
    # the same person cannot sign twice; an officer signs for the department
    with pytest.raises(Conflict):
        cs.sign_contract(award.org_user, contract, make_password())
    db.session.rollback()
    with pytest.raises(ValidationError, match=""):
        cs.sign_contract(award.officer, contract, "wrong")
    db.session.rollback()
    cs.sign_contract(award.officer, contract, make_password())
    db.session.commit()
    contract = db.session.get(Contract, contract.id)
    assert contract.state == ContractState.ACTIVE and contract.activated_at
    assert db.session.get(ContractVersion, version.id).state == VersionState.SIGNED
    allocs = {a.appropriation_id: a for a in db.session.scalars(select(Allocation))}
    assert allocs[appr1.id].committed == Decimal("40000.00")
    assert allocs[appr2.id].committed == Decimal("20036.00")
    fund = {f.allocation_id: f.committed for f in cs.fundings(contract)}
    assert fund == {allocs[appr1.id].id: Decimal("40000.00"), allocs[appr2.id].id: Decimal("20036.00")}
    assert db.session.get(type(project), project.id).state == ProjectState.CONTRACTED
    # the signed PDF: two valid signatures by the right people; one changed byte breaks them
    signed = read_document(db.session.get(ContractVersion, version.id).signed_document)
    results = pades.validate_pdf(signed)
    assert [r.ok for r in results] == [True, True]
    assert {r.organization for r in results} == {award.org.name, dept_officer.department.name}
    broken = bytearray(signed)
    broken[len(broken) // 3] ^= 0x01
    assert not any(r.ok for r in pades.validate_pdf(bytes(broken)))
    # pyHanko's own command line agrees (both signatures), and not after the changed byte.
    import os
    import sys

    ca_pem = ca / "ca.pem"
    pyhanko = Path(sys.executable).parent / "pyhanko"
    for data, expect in ((signed, 0), (bytes(broken), 1)):
        path = ca / "check.pdf"
        path.write_bytes(data)
        out = subprocess.run([str(pyhanko), "sign", "validate", "--trust", str(ca_pem), str(path)],
                             capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
        assert (out.returncode != 0) == bool(expect), out.stdout + out.stderr
    # the ledger reconciles
    runner = app.test_cli_runner()
    out = runner.invoke(args=["budgets", "reconcile"])
    assert out.exit_code == 0, out.output
    assert db.session.scalar(select(func.count()).select_from(LedgerEntry)
                             .where(LedgerEntry.contract_id == contract.id)) == 2


def test_signing_by_another_organization_is_refused(make, db, ca):
    award = final_award(make, db)
    contract = drafted(make, db, award)
    stranger = make.user(Role.ORG)
    other_officer = make.user(Role.OFFICER)
    before = _counts(db)
    for user in (stranger, other_officer, make.finance()):
        with pytest.raises(NotPermitted) as err:
            cs.sign_contract(user, contract, make_password())
        db.session.rollback()
        assert "可以签署本合同" in str(err.value.message)
    assert _counts(db) == before


def test_not_enough_money_refuses_the_last_signature(make, db, ca):
    award = final_award(make, db, price="90000.00", allocated="80000.00")
    contract = drafted(make, db, award)
    cs.sign_contract(award.org_user, contract, make_password())
    db.session.commit()
    before = _counts(db)
    from procure.errors import BudgetExceeded

    with pytest.raises(BudgetExceeded) as err:
        cs.sign_contract(award.officer, db.session.get(Contract, contract.id), make_password())
    db.session.rollback()
    assert "80,000.00" in str(err.value.message) or "80000" in str(err.value.message)
    assert _counts(db) == before
    assert db.session.get(Contract, contract.id).state == ContractState.PENDING_SIGNATURE


# --- verification ------------------------------------------------------------------------

def test_verification_of_current_old_partial_and_foreign(make, db, ca):
    award = final_award(make, db)
    contract = drafted(make, db, award)
    version = contract.current_version
    unsigned = read_document(version.pdf_document)
    contract = _sign_both(db, contract, award)
    version = db.session.get(ContractVersion, version.id)
    signed = read_document(version.signed_document)
    first = db.session.scalars(select(Signature).where(Signature.version_id == version.id)
                               .order_by(Signature.id)).first()
    partial = read_document(db.session.get(type(version.signed_document), first.document_id))

    v = verification.verify_pdf(signed)
    assert v.found and v.best.is_current_signed and v.best.kind == verification.SIGNED
    assert [s.ok for s in v.signatures] == [True, True]
    v = verification.verify_pdf(unsigned)
    assert v.found and not v.best.is_current_signed and v.best.kind == verification.UNSIGNED
    v = verification.verify_pdf(partial)
    assert v.best.kind == verification.PARTLY_SIGNED and not v.best.is_current_signed
    v = verification.verify_pdf(signed + b"\n% appended\n")
    assert v.found and not v.best.whole_file and not v.best.is_current_signed
    from procure.pdf import render_pdf

    foreign = render_pdf("pdf/example.html", title="x")
    assert not verification.verify_pdf(foreign).found
    assert verification.verify_hash(version.content_sha256).best.kind == verification.CONTENT
    assert verification.verify_hash(version.signed_sha256).best.is_current_signed
    with pytest.raises(ValidationError):
        verification.verify_hash("not a hash\x00")


def test_verification_page_is_public(make, db, ca, client):
    award = final_award(make, db)
    contract = drafted(make, db, award)
    contract = _sign_both(db, contract, award)
    version = contract.current_version
    signed = read_document(version.signed_document)
    db.session.commit()
    r = client.get(f"/verify/{version.verify_code}")
    assert r.status_code == 200 and contract.number in r.get_data(as_text=True)
    import io

    r = client.post("/verify", data={"pdf": (io.BytesIO(signed), "c.pdf")}, content_type="multipart/form-data")
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and 'id="current"' in html, html
    r = client.post("/verify", data={"sha256": version.pdf_sha256})
    assert 'id="not-current"' in r.get_data(as_text=True)
    r = client.post("/verify", data={"sha256": "0" * 64})
    assert 'id="not-found"' in r.get_data(as_text=True)
    r = client.post("/verify", data={"sha256": "xyz"})
    assert r.status_code == 400


# --- access ------------------------------------------------------------------------------

def test_an_organization_cannot_read_another_ones_contract(make, db, ca, client):
    award = final_award(make, db)
    contract = drafted(make, db, award)
    contract = _sign_both(db, contract, award)
    version = contract.current_version
    stranger = make.user(Role.ORG)
    db.session.commit()
    routes = [f"/contracts/{contract.id}", f"/documents/{version.pdf_document_id}",
              f"/documents/{version.signed_document_id}"]
    login(client, award.org_user.username)
    for url in routes:
        assert client.get(url).status_code == 200, url
    assert contract.number in client.get("/contracts/").get_data(as_text=True)
    client.get("/logout")
    client.post("/logout")
    login(client, stranger.username)
    for url in routes:
        assert client.get(url).status_code == 403, url
    assert contract.number not in client.get("/contracts/").get_data(as_text=True)
    assert client.post(f"/contracts/{contract.id}/sign", data={"password": make_password()}).status_code == 403
    for url in (f"/contracts/{contract.id}/amend", f"/contracts/new/{award.tender.id}"):
        assert client.get(url).status_code == 403, url
    for url in (f"/contracts/{contract.id}/amend", f"/contracts/{contract.id}/terminate"):
        assert client.post(url, data={"reason": "x", "end-reason": "x", "end-settlement": "0"}).status_code == 403
    assert db.session.get(Contract, contract.id).state == ContractState.ACTIVE


def test_officer_drafts_over_http_and_the_project_page_shows_it(make, db, ca, client):
    award = final_award(make, db)
    db.session.commit()
    login(client, award.officer.username)
    page = client.get(f"/projects/{award.project.id}").get_data(as_text=True)
    assert f"/contracts/new/{award.tender.id}" in page
    assert client.get(f"/contracts/new/{award.tender.id}").status_code == 200
    form = {"service_content": "助餐服务", "period_start": "2026-03-01", "period_end": "2026-12-31",
            "installments-0-share": "30", "installments-0-releases_on": "milestone",
            "installments-0-title": "第一阶段", "installments-0-due_on": "2026-06-30",
            "installments-0-deliverables": "服务记录", "installments-1-share": "69",
            "installments-1-releases_on": "acceptance"}
    r = client.post(f"/contracts/new/{award.tender.id}", data=form)
    assert r.status_code == 400 and "必须恰好等于 100%" in r.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Contract)) == 0
    form["installments-1-share"] = "70"
    r = client.post(f"/contracts/new/{award.tender.id}", data=form)
    assert r.status_code == 302, r.get_data(as_text=True)
    contract = db.session.scalar(select(Contract))
    assert contract.state == ContractState.PENDING_SIGNATURE
    page = client.get(f"/projects/{award.project.id}").get_data(as_text=True)
    assert contract.number in page
    html = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert 'id="sign"' in html and contract.current_version.pdf_sha256 in html
    r = client.post(f"/contracts/{contract.id}/sign", data={"password": "wrong"})
    assert r.status_code == 400 and "密码不正确" in r.get_data(as_text=True)
    r = client.post(f"/contracts/{contract.id}/sign", data={"password": make_password()})
    assert r.status_code == 302
    html = client.get(f"/contracts/{contract.id}").get_data(as_text=True)
    assert 'id="sign"' not in html and award.officer.name in html


def test_batch_regeneration_renders_unsigned_versions_only(make, db, ca):
    from procure.jobs.models import Job, JobState

    a1 = final_award(make, db)
    c1 = drafted(make, db, a1)
    a2 = final_award(make, db, officer=a1.officer)
    c2 = drafted(make, db, a2)
    cs.sign_contract(a2.org_user, c2, make_password())
    db.session.commit()
    old1, old2 = c1.current_version.pdf_document_id, db.session.get(Contract, c2.id).current_version.pdf_document_id
    with pytest.raises(NotPermitted):
        cs.request_regeneration(a1.officer)
    job = cs.request_regeneration(make.admin())
    db.session.commit()  # eager: the worker ran it
    job = db.session.get(Job, job.id)
    assert job.state == JobState.DONE and job.result == {"rendered": 1}
    db.session.expire_all()
    v1 = db.session.get(Contract, c1.id).current_version
    v2 = db.session.get(Contract, c2.id).current_version
    assert v1.pdf_document_id != old1 and v1.state == VersionState.READY  # rendered again
    assert v2.pdf_document_id == old2  # one party signed it: never replaced
