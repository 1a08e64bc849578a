"""Tendering services. For now: the permission rules of the module (every view and
service asks these; the list filters and the one-object checks come from one definition)."""

from __future__ import annotations

from .. import permissions
from ..permissions import ADMIN, Scope, granted, own_department, own_organization, owned_by, related, role_in
from ..roles import Role
from .models import Bid, BidState, Challenge, CommitteeMember, Score, Tender

_STAFF_READ = role_in(Role.ADMIN, Role.FINANCE)
_OFFICER_DEPT = role_in(Role.OFFICER) & own_department()
_EVALUATOR = role_in(Role.EVALUATOR)

#: Bids that were entered (submitted at some point and not withdrawn): drafts and
#: withdrawn bids never show to anyone but their organization.
_HIDDEN = (BidState.DRAFT, BidState.WITHDRAWN)
ENTERED = Scope(lambda u, o: o is not None and o.state not in _HIDDEN,
                lambda u, m: m.state.not_in(list(_HIDDEN)), "[bid entered]")

# Tenders: officers of the department manage them; admin and finance read them; an
# evaluator reads the tenders they are assigned to (to see the bidder names and declare).
permissions.define("tender.view", {Role.ADMIN, Role.OFFICER, Role.FINANCE, Role.EVALUATOR},
                   _STAFF_READ | _OFFICER_DEPT | (_EVALUATOR & granted("evaluator", without_conflict=False)),
                   model=Tender)
permissions.define("tender.create", {Role.OFFICER})
permissions.define("tender.manage", {Role.OFFICER}, own_department(), model=Tender)
#: Evaluating (reading bid contents, scoring): assigned, declared no conflict, and opened.
permissions.define("tender.evaluate", {Role.EVALUATOR}, _EVALUATOR & granted("evaluator"), model=Tender,
                   sealed_until="opening_at")

# Bids: the organization's own staff, always (no admin bypass before the opening).
permissions.define("bid.create", {Role.ORG})
permissions.define("bid.view_own", {Role.ORG}, own_organization(), model=Bid)
permissions.define("bid.edit", {Role.ORG}, own_organization(), model=Bid)
#: Everyone else sees entered bids only after the opening time: officers of the
#: department, admin and finance, evaluators of the tender who declared no conflict.
permissions.define("bid.view", {Role.ADMIN, Role.OFFICER, Role.FINANCE, Role.EVALUATOR},
                   ENTERED & (_STAFF_READ | (role_in(Role.OFFICER) & related("tender", own_department()))
                              | (_EVALUATOR & related("tender", granted("evaluator")))),
                   model=Bid, sealed_until="opening_at")

# The committee: officers of the department and admin see the roster; a member their row.
permissions.define("committee.view", {Role.ADMIN, Role.OFFICER, Role.EVALUATOR},
                   ADMIN | (role_in(Role.OFFICER) & related("tender", own_department()))
                   | (_EVALUATOR & owned_by("user_id")), model=CommitteeMember)
#: Scores: the member's own; officers of the department and admin.
permissions.define("score.view", {Role.ADMIN, Role.OFFICER, Role.EVALUATOR},
                   ADMIN | (role_in(Role.OFFICER) & related("member", related("tender", own_department())))
                   | (_EVALUATOR & related("member", owned_by("user_id"))), model=Score)

# Challenges: lodged by the organization, answered by the officers of the department.
permissions.define("challenge.lodge", {Role.ORG})
permissions.define("challenge.view", {Role.ADMIN, Role.OFFICER, Role.FINANCE, Role.ORG},
                   _STAFF_READ | (role_in(Role.OFFICER) & related("tender", own_department()))
                   | (role_in(Role.ORG) & own_organization()), model=Challenge)
permissions.define("challenge.answer", {Role.OFFICER}, related("tender", own_department()), model=Challenge)

# The actions (calls and bids; committee, scoring, award and challenges) and the time
# events; imported here so that the rules they define are registered whenever the
# module's services are, and the award's time events reach the beat's dispatcher.
from . import award, bidding, evaluation, events  # noqa: E402,F401
