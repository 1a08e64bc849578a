"""A contract from a final award to the public verification of its signed PDF, through the
real browser, each person in their own browser session: the officer drafts the contract
and its payment schedule on the page; the PDF job waits in Redis (its progress shows on
the contract page) until a real Celery worker, started then, renders it and the page
reloads with the PDF; the organization's staff and the officer each sign, re-entering
their passwords (the signature's job shows its progress until the worker adds the PAdES
signature with a certificate of the deployment's CA, and the page reloads); the
contract is active with its money committed; the public portal lists it; the signed PDF,
downloaded, is uploaded to the verification page, which names it the current signed
version.

Screenshots of the key steps go to test-artifacts/contract-journey/."""

from __future__ import annotations

from decimal import Decimal

import pytest
from celery.contrib.testing.worker import start_worker
from playwright.sync_api import Page, expect

from procure import create_app, signing
from procure.contracts import services as cs
from procure.contracts.models import Contract, ContractState, VersionState

from ..conftest import _redis_url, app_config
from ..factories import Factory
from .conftest import serving
from .journey import Journey

pytestmark = pytest.mark.browser

#: English words, raw keys and enum values that must not show on these Chinese pages.
RAW = ("pending_signature", "acceptance", "milestone", "contract.", "None", "_id", "Contract", "Signed",
       "Version", "Party", "version", "signed", "queued", "running")


class People(Journey):
    timeout = 20000

    def chinese(self, pg: Page) -> None:
        body = pg.locator("main, .container").first.inner_text()
        for raw in RAW:
            assert raw not in body, (pg.url, raw)


def test_a_contract_from_the_award_to_the_verified_signed_pdf(app, db, make, browser, artifacts, tmp_path):
    shots = artifacts / "contract-journey"
    shots.mkdir(exist_ok=True)
    aw = make.awarded(price="60036.00")
    start, end = aw.project.period_start, aw.project.period_end
    make.commit()
    officer, org_user, tender_id = aw.officer, aw.org_user, aw.tender.id

    redis_url = _redis_url()
    live = create_app("testing", **app_config(
        WTF_CSRF_ENABLED=True, DOCUMENTS_DIR=str(tmp_path / "documents"),
        # The deployment's CA (the set-up creates it): its own folder, EC keys (fast), no TSA.
        SIGNING_CA_DIR=str(tmp_path / "ca"), SIGNING_CA_CERT_FILE=None, SIGNING_CA_KEY_FILE=None,
        SIGNING_CA_PASSPHRASE=None, SIGNING_TSA_URL=None, SIGNING_KEY_ALGORITHM="ec-p256",
        CELERY={"broker_url": redis_url, "result_backend": redis_url, "task_ignore_result": True,
                "broker_connection_retry_on_startup": True, "task_acks_late": True,
                "worker_prefetch_multiplier": 1}))
    with live.app_context():
        assert signing.init_ca()
    celery = live.extensions["celery"]
    celery.control.purge()  # nothing left over from an earlier run

    with serving(app, live) as base:
        p = People(browser, base, shots)

        # The officer drafts the contract and its schedule from the final award.
        off = p.page(officer)
        p.go(off, f"/tenders/calls/{tender_id}")
        off.locator("#followups a, a").filter(has_text="起草合同").first.click()
        off.wait_for_url(f"{base}/contracts/new/{tender_id}")
        off.fill("#service_content", "为辖区高龄独居老人提供助餐、探访服务。\n每月探访不少于两次。")
        expect(off.locator("#period_start")).to_have_value(start.isoformat())
        rows = [("30", "milestone", "第一阶段服务", start.replace(day=28) if start.day < 28 else start,
                 "服务记录、进度报告"),
                ("40", "milestone", "第二阶段服务", end.replace(day=1), "服务记录、满意度调查"),
                ("30", "acceptance", "", None, "")]
        for i, (share, release, title, due, deliverables) in enumerate(rows):
            off.fill(f"#installments-{i}-share", share)
            off.select_option(f"#installments-{i}-releases_on", release)
            if title:
                off.fill(f"#installments-{i}-title", title)
                off.fill(f"#installments-{i}-due_on", due.isoformat())
                off.fill(f"#installments-{i}-deliverables", deliverables)
        p.shot(off, "01-draft")
        p.chinese(off)
        off.click("#draft-contract #submit")
        off.wait_for_url(f"{base}/contracts/*")
        contract_id = int(off.url.rsplit("/", 1)[1])

        # No worker yet: the job waits in Redis and the page shows its progress.
        box = off.locator(".job-progress")
        expect(box).to_be_visible()
        expect(box).to_have_attribute("data-state", "queued")
        expect(off.locator("#contract-state")).to_have_text("草稿")
        expect(off.locator("#schedule tbody tr")).to_have_count(3)
        p.shot(off, "02-pdf-queued")
        p.chinese(off)

        # A real Celery worker renders it; the page polls and reloads with the PDF.
        with start_worker(celery, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING",
                          shutdown_timeout=10):
            expect(off.locator("#contract-state")).to_have_text("待签署", timeout=60000)
        expect(off.locator("#versions a").filter(has_text="未签署")).to_be_visible()
        expect(off.locator("#sign")).to_be_visible()
        p.shot(off, "03-pdf-ready")
        p.chinese(off)

        # The organization signs first, then the officer; each re-enters the password.
        org = p.page(org_user)
        p.go(org, f"/contracts/{contract_id}")
        org.fill("#sign #password", "wrong password")
        org.click("#sign #submit")
        expect(org.locator("#sign .invalid-feedback")).to_contain_text("密码")
        org.fill("#sign #password", Factory.PASSWORD)
        org.click("#sign #submit")
        # No worker now: the signature's job waits in Redis and the page shows its progress.
        expect(org.locator("#signing .job-progress")).to_have_attribute("data-state", "queued")
        expect(org.locator('#signatures [data-signing="organization"]')).to_be_visible()
        expect(org.locator("#sign")).to_have_count(0)
        p.shot(org, "04-organization-signing")
        p.chinese(org)

        # The worker adds the signature; the page polls and reloads with it.
        with start_worker(celery, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING",
                          shutdown_timeout=10):
            expect(org.locator("#signatures")).to_contain_text(org_user.name, timeout=60000)
            expect(org.locator("#signing")).to_have_count(0)
            expect(org.locator("#sign")).to_have_count(0)
            p.shot(org, "04-organization-signed")
            p.chinese(org)

            p.go(off, f"/contracts/{contract_id}")
            off.fill("#sign #password", Factory.PASSWORD)
            off.click("#sign #submit")
            expect(off.locator("#contract-state")).to_have_text("有效", timeout=60000)
        expect(off.locator("#fundings")).to_contain_text("60,036.00")
        signed_link = off.locator("#versions a").filter(has_text="已签署")
        expect(signed_link).to_be_visible()
        p.shot(off, "05-active")
        p.chinese(off)
        signed_pdf = off.context.request.get(base + signed_link.get_attribute("href")).body()
        assert signed_pdf[:4] == b"%PDF"

        # The public portal shows it; anyone verifies the downloaded signed PDF.
        public = p.page()
        p.go(public, "/portal/contracts/")
        row = public.locator(f'#portal-contracts tr[data-contract="{contract_id}"]')
        expect(row).to_contain_text("60,036.00")
        p.shot(public, "06-portal-contracts")
        p.chinese(public)
        row.locator("a").first.click()
        expect(public.locator("body")).to_contain_text("陆万零叁拾陆元整")
        p.shot(public, "07-portal-contract")
        p.chinese(public)

        p.go(public, "/verify")
        public.set_input_files("#pdf", files=[{"name": "contract-signed.pdf", "mimeType": "application/pdf",
                                               "buffer": signed_pdf}])
        public.click("#verify-form #submit")
        expect(public.locator("#current")).to_be_visible()
        expect(public.locator("#file-signatures li")).to_have_count(2)
        expect(public.locator("#file-signatures")).not_to_contain_text("无效")
        p.shot(public, "08-verified")
        p.chinese(public)

    db.session.expire_all()
    contract = db.session.get(Contract, contract_id)
    assert contract.state == ContractState.ACTIVE
    assert contract.current_version.state == VersionState.SIGNED
    assert sum((f.committed for f in cs.fundings(contract)), Decimal("0")) == Decimal("60036.00")
