"""How the history of contracts and their versions reads (see procure/history.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ..documents.history import KIND_LABELS as DOCUMENT_KINDS
from ..history import (
    Choice,
    Date,
    DateTime,
    Enum,
    Field,
    Money,
    Number,
    Pairs,
    Records,
    Ref,
    Renderer,
    describe_actions,
    describe_object,
)
from ..jobs.history import KIND_LABELS as JOB_KINDS
from ..jobs.history import PARAM_FIELDS as JOB_PARAMS
from ..signing import SigningCredential
from ..tenders.bidding import BREAKDOWN_CATEGORIES
from .models import Contract, ContractState, ContractVersion, Party, Release, VersionState


class Ordinal(Number):
    """A 0-based position shown as the reader counts: 1, 2, 3 …"""

    def __call__(self, value, names):
        try:
            return super().__call__(int(value) + 1, names)
        except (TypeError, ValueError):
            return super().__call__(value, names)


#: Allocation id → amount (what a signing committed, an ending released): each
#: allocation by its name (project · appropriation), the amount as money.
PER_ALLOCATION: Renderer = Pairs(Ref("allocations"), Money())

MILESTONE_FIELDS = {
    "title": Field(_l("Title")), "due_on": Field(_l("Due on"), Date()),
    "deliverables": Field(_l("Deliverables")),
}
SCHEDULE_FIELDS = {
    "position": Field(_l("Installment"), Ordinal()), "share": Field(_l("Share (%)"), Number()),
    "amount": Field(_l("Amount"), Money()), "releases_on": Field(_l("Released when"), Enum(Release)),
    "milestone": Field(_l("Milestone"), Records(MILESTONE_FIELDS)),
}
JOB_KINDS.update({"contract_pdf": _l("Contract PDF"), "contract_sign": _l("Contract signature"),
                  "contract_pdf_batch": _l("Contract PDFs rendered again"),
                  "contract_pdf_chunk": _l("Contract PDFs rendered again (part)")})
#: What the contract jobs are about (a signing: the contract, version and party; a batch:
#: how many versions; a chunk of it: its batch job).
JOB_PARAMS.update({
    "contract_id": Field(_l("Contract"), Ref("contracts")),
    "version_id": Field(_l("Contract version"), Ref("contract_versions")),
    "party": Field(_l("Party"), Enum(Party)), "count": Field(_l("Number"), Number()),
    "parent": Field(_l("Part of"), Ref("jobs")),
})
DOCUMENT_KINDS.update({"contract_pdf": _l("Contract PDF"), "contract_signed": _l("Signed contract PDF")})

describe_object("contracts", _l("Contract"), model=Contract, name=lambda c: c.number,
                endpoint=("contracts.detail", "contract_id"), permission="contract.view",
                fields={
                    "number": Field(_l("Contract number")), "title": Field(_l("Title")),
                    "project_id": Field(_l("Project"), Ref("projects")),
                    "tender_id": Field(_l("Call for bids"), Ref("tenders")),
                    "organization_id": Field(_l("Organization"), Ref("organizations")),
                    "department_id": Field(_l("Department"), Ref("departments")),
                    "amount": Field(_l("Contract amount"), Money()),
                    "period_start": Field(_l("Service period starts"), Date()),
                    "period_end": Field(_l("Service period ends"), Date()),
                    "is_continuous": Field(_l("Continuous service")),
                    "sign_due_on": Field(_l("Sign by"), Date()),
                    "state": Field(_l("State"), Enum(ContractState)),
                    "schedule": Field(_l("Payment schedule"), Records(SCHEDULE_FIELDS)),
                    "version": Field(_l("Version"), Number()), "party": Field(_l("Party"), Enum(Party)),
                    "certificate_serial": Field(_l("Certificate serial number")),
                    "document_sha256": Field(_l("SHA-256 of the signed PDF")),
                    "committed": Field(_l("Funds committed"), PER_ALLOCATION),
                    "activated_at": Field(_l("In force since"), hidden=True),
                    "published_at": Field(_l("Published on the portal"), hidden=True),
                    "service_content": Field(_l("Service content")),
                    "settlement": Field(_l("Settlement amount"), Money()),
                    "end_reason": Field(_l("Reason"), hidden=True),
                    "ended_at": Field(_l("Ended at"), hidden=True),
                    "released": Field(_l("Funds released"), PER_ALLOCATION),
                    # Recorded on the contract by the delivery module (budget_line.fill):
                    # the approved breakdown, category → amount.
                    "budget": Field(_l("Approved budget breakdown"), Pairs(Choice(BREAKDOWN_CATEGORIES), Money())),
                })
describe_object("contract_versions", _l("Contract version"), model=ContractVersion,
                name=lambda v: f"{v.contract.number} v{v.number}", permission=None,
                options=(joinedload(ContractVersion.contract),),
                fields={"contract_id": Field(_l("Contract"), Ref("contracts")),
                        "number": Field(_l("Version"), Number()),
                        "reason": Field(_l("Reason")), "amount": Field(_l("Contract amount"), Money()),
                        "period_start": Field(_l("Service period starts"), Date()),
                        "period_end": Field(_l("Service period ends"), Date()),
                        "state": Field(_l("State"), Enum(VersionState)),
                        "pdf_document_id": Field(_l("PDF"), hidden=True),
                        "pdf_sha256": Field(_l("SHA-256 of the PDF")),
                        "content_sha256": Field(_l("SHA-256 of the content")),
                        "rendered_at": Field(_l("Rendered at"), hidden=True),
                        "signed_at": Field(_l("Signed at"), hidden=True)})

describe_object("signing_credentials", _l("Signing credential"), model=SigningCredential,
                name=lambda c: c.person_name or c.organization or c.serial, permission=None,
                fields={"user_id": Field(_l("User"), Ref("users")),
                        "person_name": Field(_l("Holder")), "organization": Field(_l("Organization")),
                        "serial": Field(_l("Certificate serial number")),
                        "source": Field(_l("Source"), Choice({
                            "issued": _l("Issued by this system's certificate authority"),
                            "imported": _l("Imported")})),
                        "revoked": Field(_l("Revoked")),
                        "not_after": Field(_l("Valid until"), DateTime())})

describe_actions({
    "contract.create": _l("Contract drafted"), "contract.sign": _l("Contract signed by one party"),
    "contract.sign_request": _l("Signature requested (the PDF signature is being added)"),
    "contract_version.create": _l("Contract version created"),
    "contract.amend": _l("Contract amended (new version)"),
    "contract.amendment_signed": _l("Amendment signed by both parties"),
    # The signing foundation's credentials (issued when a party first signs).
    "signing_credential.issue": _l("Signing credential issued"),
    "signing_credential.import": _l("Signing credential imported"),
})
