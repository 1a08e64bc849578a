"""Contracts test fixtures: a CA of the test's own, and a final award to draft from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import update

from procure import signing
from procure.contracts import services as cs
from procure.contracts.models import Contract, ContractVersion
from procure.contracts.rendering import build_version_pdf
from procure.jobs.services import run_job
from procure.projects.models import Project, ProjectState
from procure.roles import Role
from procure.tenders.models import BidState, TenderState
from procure.timeutil import utcnow


@pytest.fixture()
def ca(app, tmp_path, monkeypatch, db):
    folder = tmp_path / "ca"
    monkeypatch.setitem(app.config, "SIGNING_CA_DIR", str(folder))
    monkeypatch.setitem(app.config, "SIGNING_CA_CERT_FILE", None)
    monkeypatch.setitem(app.config, "SIGNING_CA_KEY_FILE", None)
    monkeypatch.setitem(app.config, "SIGNING_CA_PASSPHRASE", None)
    monkeypatch.setitem(app.config, "SIGNING_TSA_URL", None)
    monkeypatch.setitem(app.config, "SIGNING_KEY_ALGORITHM", "ec-p256")
    assert signing.init_ca()
    return folder


@dataclass
class Award:
    officer: object
    org_user: object
    org: object
    project: object
    tender: object
    bid: object
    appropriation: object


def final_award(make, db, *, price="60036.00", officer=None, project=None, appropriation=None,
                allocated="80000.00", org=None) -> Award:
    """A project with funds, its tender final and awarded to an organization at ``price``."""
    if officer is None:
        officer = make.user(Role.OFFICER)
    if appropriation is None and project is None:
        from sqlalchemy import select

        from procure.budgets.models import Appropriation

        appropriation = db.session.scalar(select(Appropriation).where(
            Appropriation.department_id == officer.department_id)) or make.appropriation(officer.department)
    if project is None:
        project = make.approved_project(officer, appropriation, allocated)
    org = org or make.organization("重庆市渝中区同心养老服务中心", with_code=True, legal_representative="张三",
                                   address="重庆市渝中区解放碑1号")
    org_user = make.user(Role.ORG, organization=org)
    tender = make.tender(officer, project, state=TenderState.EVALUATING)
    bid = make.bid(tender, org, org_user, state=BidState.AWARDED,
                   content={"price": price, "proposal": "方案", "breakdown": [], "attachments": []})
    tender.awarded_bid_id = bid.id
    tender.award_notice_at = utcnow() - timedelta(days=2)
    tender.state = TenderState.FINAL
    db.session.flush()
    db.session.execute(update(Project).where(Project.id == project.id).values(state=ProjectState.AWARDED))
    db.session.refresh(project)
    return Award(officer, org_user, org, project, tender, bid, appropriation)


def schedule(start: date, *shares, last="acceptance"):
    rows = []
    for i, share in enumerate(shares):
        final = i == len(shares) - 1
        rows.append(cs.InstallmentData(
            share=share, releases_on=last if final else "milestone",
            title="" if final and last == "acceptance" else f"第{i + 1}阶段服务",
            due_on=None if final and last == "acceptance" else start + timedelta(days=60 * (i + 1)),
            deliverables="" if final and last == "acceptance" else "服务记录、进度报告"))
    return rows


def draft_data(start=date(2026, 3, 1), end=date(2026, 12, 31), shares=("30", "40", "30"), **kw) -> cs.DraftData:
    kw.setdefault("service_content", "为辖区高龄独居老人提供助餐、探访服务。\n每月探访不少于两次。")
    return cs.DraftData(period_start=start, period_end=end,
                        installments=kw.pop("installments", None) or schedule(start, *shares), **kw)


def render(contract: Contract) -> ContractVersion:
    """Run the PDF job of the contract's current version (as the worker does)."""
    version = contract.current_version
    if version.pdf_document_id is None:
        assert run_job(version.job_id, build_version_pdf) == "done"
    from procure.extensions import db

    db.session.expire_all()
    return db.session.get(ContractVersion, version.id)


def drafted(make, db, award: Award, data=None) -> Contract:
    contract = cs.draft_contract(award.officer, award.tender, data or draft_data())
    db.session.commit()
    render(contract)
    return db.session.get(Contract, contract.id)


__all__ = ["Award", "Decimal", "final_award", "schedule", "draft_data", "render", "drafted"]


@pytest.fixture()
def held(monkeypatch):
    """Tasks are not run at the commit, as if no worker had taken them yet: their
    (name, args) are kept here; the test runs the work itself (``run_job``)."""
    from procure import dispatch

    out: list[tuple[str, tuple]] = []
    monkeypatch.setattr(dispatch, "send", lambda name, *args: out.append((name, args)) or True)
    return out
