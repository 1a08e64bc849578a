"""How the history of organizations, their ratings, annual reports, credit-list entries,
registry imports and incubation bases reads (see procure/history.py)."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..documents.history import KIND_LABELS as DOCUMENT_KINDS
from ..history import Choice, Date, Enum, Field, Number, Ref, Text, describe_actions, describe_object
from ..jobs.history import KIND_LABELS as JOB_KINDS
from .importer import IMPORT_JOB
from .models import (
    AnnualReport,
    CreditEntry,
    CreditList,
    EntryState,
    IncubationBase,
    Organization,
    OrgKind,
    Rating,
    RatingState,
    RegStatus,
    ReportStatus,
    Residency,
)

ORG = Field(_l("Organization"), Ref("organizations"))
LEVELS = Choice({str(level): f"{level}A" for level in range(1, 6)})

describe_object("organizations", _l("Organization"), model=Organization, name=lambda o: o.name,
                endpoint=("organizations.detail", "org_id"), permission="organization.view", state_field="status",
                fields={
                    "name": Field(_l("Name")), "credit_code": Field(_l("Unified social credit code")),
                    "kind": Field(_l("Kind"), Enum(OrgKind)),
                    "registration_date": Field(_l("Registration date"), Date()),
                    "registration_authority": Field(_l("Registration authority")),
                    "supervisor": Field(_l("Supervising unit")),
                    "legal_representative": Field(_l("Legal representative")),
                    "address": Field(_l("Address")), "status": Field(_l("Registration status"), Enum(RegStatus)),
                    "contact_name": Field(_l("Contact person")), "contact_phone": Field(_l("Contact phone")),
                    "contact_email": Field(_l("Contact email")), "website": Field(_l("Website")),
                    "description": Field(_l("Description")),
                })
describe_object("org_ratings", _l("Rating"), model=Rating, name=lambda r: r.label,
                fields={
                    "organization_id": ORG, "level": Field(_l("Level"), LEVELS),
                    "rated_on": Field(_l("Rated on"), Date()), "expires_on": Field(_l("Valid until"), Date()),
                    "state": Field(_l("State"), Enum(RatingState)),
                    "reason": Field(_l("Reason"), Choice({"superseded": _l("Replaced by a newer rating"),
                                                          "expired": _l("Expired")})),
                })
describe_object("org_annual_reports", _l("Annual report"), model=AnnualReport,
                name=lambda r: _("Annual report %(year)s", year=r.year), state_field="status",
                fields={
                    "organization_id": ORG, "year": Field(_l("Year"), Text()),
                    "status": Field(_l("Status"), Enum(ReportStatus)), "filed_on": Field(_l("Filed on"), Date()),
                })
describe_object("org_credit_entries", _l("Credit list entry"), model=CreditEntry, name=lambda e: e.list.label,
                fields={
                    "organization_id": ORG, "list": Field(_l("List"), Enum(CreditList)),
                    "state": Field(_l("State"), Enum(EntryState)), "listed_on": Field(_l("Listed on"), Date()),
                    "removed_on": Field(_l("Removed on"), Date()),
                    # the standing rule's key (e.g. "annual_report:2025") is for the machine
                    "rule": Field(_l("Rule"), hidden=True),
                })
describe_object("imports", _l("Registry import"), fields={
    "filename": Field(_l("File")), "rows": Field(_l("Rows"), Number()),
    "created": Field(_l("New organizations"), Number()), "updated": Field(_l("Changed organizations"), Number()),
    "unchanged": Field(_l("Unchanged organizations"), Number()),
    "skipped_bad_rows": Field(_l("Bad rows skipped"), Number()),
})
describe_object("incubation_bases", _l("Incubation base"), model=IncubationBase, name=lambda b: b.name,
                endpoint=("organizations.base_detail", "base_id"), permission="base.view",
                fields={
                    "name": Field(_l("Name")), "operator_id": Field(_l("Operator"), Ref("organizations")),
                    "address": Field(_l("Address")), "area_sqm": Field(_l("Area (m²)"), Number()),
                    "facilities": Field(_l("Facilities")), "opened_on": Field(_l("Opened on"), Date()),
                })
describe_object("incubation_residencies", _l("Residency"), model=Residency, name=lambda r: r.organization.name,
                fields={
                    "base_id": Field(_l("Incubation base"), Ref("incubation_bases")), "organization_id": ORG,
                    "moved_in_on": Field(_l("Moved in on"), Date()),
                    "graduated_on": Field(_l("Graduated on"), Date()),
                })

describe_actions({
    "organization.create": _l("Organization registered"), "organization.update": _l("Registration data changed"),
    "organization.profile": _l("Profile changed"), "organization.import": _l("Registry imported"),
    "rating.create": _l("Rating recorded"), "rating.lapse": _l("Rating lapsed"),
    "annual_report.create": _l("Annual report recorded"), "annual_report.file": _l("Annual report filed"),
    "credit_entry.create": _l("Credit list entry recorded"), "credit_entry.list": _l("Put on the list"),
    "credit_entry.confirm": _l("Put on the list"),
    "credit_entry.reject": _l("Proposal rejected"), "credit_entry.remove": _l("Removed from the list"),
    "import_job.create": _l("Registry import requested"), "import_job.start": _l("Registry import started"),
    "import_job.done": _l("Registry import finished"), "import_job.reject": _l("Registry import rejected"),
    "import_job.fail": _l("Registry import failed"),
    "base.create": _l("Incubation base recorded"), "base.update": _l("Incubation base changed"),
    "residency.create": _l("Moved into the base"), "residency.graduate": _l("Graduated from the base"),
})

JOB_KINDS.update({IMPORT_JOB: _l("Registry import")})
DOCUMENT_KINDS.update({"registry_import": _l("Registry import file")})
