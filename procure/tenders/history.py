"""How the history of tenders, bids, committees and challenges reads (see procure/history.py).
Bid contents are sealed in the trail (only their hash): nothing here shows them."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..documents.history import KIND_LABELS as DOCUMENT_KINDS
from ..history import DateTime, Enum, Field, Money, Number, Records, Ref, describe_actions, describe_object
from ..jobs.history import KIND_LABELS as JOB_KINDS
from ..projects.models import ProcurementMethod
from .models import (
    Bid,
    BidState,
    Challenge,
    ChallengeState,
    CommitteeMember,
    MemberState,
    Tender,
    TenderEvent,
    TenderState,
)

CRITERION_FIELDS = {
    "name": Field(_l("Criterion")), "weight": Field(_l("Weight"), Number()),
    "max_score": Field(_l("Maximum score"), Number()), "is_price": Field(_l("Price score")),
}

describe_object("tenders", _l("Call for bids"), model=Tender, name=lambda t: t.title, permission="tender.view",
                fields={
                    "project_id": Field(_l("Project"), Ref("projects")), "title": Field(_l("Title")),
                    "method": Field(_l("Procurement method"), Enum(ProcurementMethod)),
                    "state": Field(_l("State"), Enum(TenderState)),
                    "published_at": Field(_l("Published at"), DateTime()),
                    "deadline_at": Field(_l("Bid deadline"), DateTime()),
                    "opening_at": Field(_l("Opening time"), DateTime()),
                    "min_rating": Field(_l("Minimum rating"), Number()),
                    "min_years_registered": Field(_l("Minimum years registered"), Number()),
                    "require_annual_report": Field(_l("Annual report required")),
                    "require_good_credit": Field(_l("Good credit standing required")),
                    "bar_failed_grade": Field(_l("Failed performance grade bars")),
                    "admit_filed": Field(_l("Filed community organizations admitted")),
                    "price_weight": Field(_l("Price weight (%)"), Number()),
                    "single_source_organization_id": Field(_l("Single source organization"), Ref("organizations")),
                    "criteria": Field(_l("Scoring criteria"), Records(CRITERION_FIELDS)),
                    "description": Field(_l("The call's text")),
                    "opened_at": Field(_l("Opened at"), DateTime()),
                    "reason": Field(_l("Reason")),
                    "next_event": Field(_l("Next time event"), Enum(TenderEvent)),
                    "next_event_at": Field(_l("Next time event at"), DateTime()),
                    "document": Field(_l("Document")),
                    # shown as the opening record's table on the call's page
                    "opening_record": Field(_l("Opening record"), hidden=True),
                    "text": Field(_l("Clarification")), "affects_bids": Field(_l("May affect how bids are written")),
                    "old_deadline_at": Field(_l("Former bid deadline"), DateTime()),
                    "new_deadline_at": Field(_l("New bid deadline"), DateTime()),
                })
describe_object("bids", _l("Bid"), model=Bid, name=lambda b: b.receipt_no or f"#{b.id}", permission="bid.view",
                fields={
                    "tender_id": Field(_l("Call for bids"), Ref("tenders")),
                    "organization_id": Field(_l("Organization"), Ref("organizations")),
                    "state": Field(_l("State"), Enum(BidState)),
                    "sealed_sha256": Field(_l("Receipt hash (SHA-256)")), "receipt_no": Field(_l("Receipt number")),
                    "submitted_at": Field(_l("Submitted at"), DateTime()), "price": Field(_l("Price"), Money()),
                    "content": Field(_l("Bid content (sealed)"), hidden=True),
                    "opened_at": Field(_l("Opened at"), DateTime()),
                    "open_error": Field(_l("Why the bid could not be opened")),
                    "needs_reconfirmation": Field(_l("To be confirmed again")),
                    "eligibility_failures": Field(_l("Eligibility failures"), hidden=True),
                })
describe_object("committee_members", _l("Committee member"), model=CommitteeMember,
                name=lambda m: m.user.name if m.user is not None else f"#{m.id}",
                permission="committee.view",
                fields={"tender_id": Field(_l("Call for bids"), Ref("tenders")),
                        "user_id": Field(_l("Evaluator"), Ref("users")), "state": Field(_l("State"), Enum(MemberState)),
                        "position": Field(_l("Rank in the draw"), Number()), "is_backup": Field(_l("Backup")),
                        "is_expert": Field(_l("Expert"))})
describe_object("challenges", _l("Challenge"), model=Challenge, name=lambda c: f"#{c.id}",
                permission="challenge.view",
                fields={"tender_id": Field(_l("Call for bids"), Ref("tenders")),
                        "organization_id": Field(_l("Organization"), Ref("organizations")),
                        "state": Field(_l("State"), Enum(ChallengeState)), "reason": Field(_l("Reason")),
                        "answer_due_at": Field(_l("Answer due"), DateTime()), "answer": Field(_l("Answer"))})

describe_actions({
    "tender.create": _l("Call drafted"), "tender.update": _l("Call changed"),
    "tender.clarify": _l("Clarification published"), "bid.create": _l("Bid started"),
    "bid.save": _l("Bid draft saved (sealed)"), "committee.draw": _l("Committee drawn"),
    "challenge.lodge": _l("Challenge lodged"), "score.submit": _l("Scores submitted"),
    "tender.add_document": _l("Document added to the call"), "tender.opening_record": _l("Opening record written"),
    "bid.confirm": _l("Bid confirmed again"),
})

JOB_KINDS["tender.opening_record"] = _l("Opening record (PDF)")
DOCUMENT_KINDS.update({"opening_record": _l("Opening record"), "tender_document": _l("Document of a call")})
