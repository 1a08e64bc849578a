"""How the evaluation's audit events read in histories: its own actions, the fields it
records on tenders, bids, committee members and challenges, the draw (pool, seed,
result), the evaluators' access grants, and its jobs and documents. The machines' moves
are labelled with the machines in models.py."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from markupsafe import escape

from ..documents.history import KIND_LABELS as DOCUMENT_KINDS
from ..history import (
    EMPTY,
    Choice,
    DateTime,
    Enum,
    Field,
    Money,
    Number,
    Records,
    Ref,
    Renderer,
    describe_actions,
    describe_object,
    join,
)
from ..jobs.history import KIND_LABELS as JOB_KINDS
from .models import ChallengeRemedy, TenderEvent


class RefList(Renderer):
    """A list of ids of rows of ``object_type``, each its linked name."""

    def __init__(self, object_type: str):
        self.ref = Ref(object_type)

    def refs(self, value):
        for v in value or ():
            yield from self.ref.refs(v)

    def __call__(self, value, names):
        if not value:
            return escape(EMPTY)
        return join(self.ref(v, names) for v in value)


ALGORITHMS = {"py-random-shuffle/v1": _l("The pool sorted by user id, shuffled with the seed (version 1)")}

DRAW_FIELDS = {
    "draw_id": Field(_l("Draw"), hidden=True),
    "tender_id": Field(_l("Call for bids"), Ref("tenders")),
    "algorithm": Field(_l("Draw algorithm"), Choice(ALGORITHMS)),
    "seed": Field(_l("Random seed")),
    "size": Field(_l("Committee size"), Number()),
    "pool": Field(_l("Evaluator pool"), Records({"user_id": Field(_l("Evaluator"), Ref("users")),
                                                 "is_expert": Field(_l("Expert"))})),
    "result": Field(_l("Result of the draw"), Records({
        "members": Field(_l("Members"), RefList("users")), "backups": Field(_l("Ranked backups"), RefList("users")),
        "min_experts": Field(_l("Experts required"), Number())})),
}
RANKING_FIELDS = {
    "rank": Field(_l("Rank"), Number()), "bid_id": Field(_l("Bid"), Ref("bids")),
    "organization_id": Field(_l("Organization"), Ref("organizations")), "price": Field(_l("Price"), Money()),
    "technical": Field(_l("Technical score"), Number()), "price_score": Field(_l("Price score"), Number()),
    "total": Field(_l("Total"), Number()),
}

describe_object("tenders", _l("Call for bids"), fields={
    **DRAW_FIELDS,
    "awarded_bid_id": Field(_l("Awarded bid"), Ref("bids")),
    "organization_id": Field(_l("Organization"), Ref("organizations")),
    "bid_id": Field(_l("Bid"), Ref("bids")), "rank": Field(_l("Rank"), Number()),
    "award_notice_at": Field(_l("Award notice"), DateTime()),
    "publicity_ends_at": Field(_l("End of the award publicity"), DateTime()),
    "challenge_ends_at": Field(_l("End of the challenge window"), DateTime()),
    "next_event": Field(_l("Next time event"), Enum(TenderEvent)),
    "next_event_at": Field(_l("Next time event at"), DateTime()),
    "open_challenges": Field(_l("Open challenges"), Number()),
    "ranking": Field(_l("Ranking"), Records(RANKING_FIELDS)),
    "replaces": Field(_l("Replaces"), Ref("committee_members")),
    "challenge_id": Field(_l("Challenge"), Ref("challenges")),
    "remedy": Field(_l("Remedy"), Enum(ChallengeRemedy)),
    "decisions": Field(_l("Award decisions"), Records({
        "bid_id": Field(_l("Bid"), Ref("bids")), "decision": Field(_l("Decision")),
        "reason": Field(_l("Reason"))})),
})
describe_object("bids", _l("Bid"), fields={
    "total_score": Field(_l("Total score"), Number()), "rank": Field(_l("Rank"), Number()),
    "technical": Field(_l("Technical score"), Number()), "price_score": Field(_l("Price score"), Number()),
    "disqualification_reason": Field(_l("Reason for the disqualification")),
})
describe_object("committee_members", _l("Committee member"), fields={
    "declared_at": Field(_l("Declared at"), DateTime()), "conflict_note": Field(_l("What the conflict is")),
    "replaces": Field(_l("Replaces"), Ref("committee_members")), "count": Field(_l("Scores saved"), Number()),
    "scores": Field(_l("Scores"), Records({"bid_id": Field(_l("Bid"), Ref("bids")),
                                           "criterion": Field(_l("Criterion")),
                                           "score": Field(_l("Score"), Number())})),
})
describe_object("challenges", _l("Challenge"), fields={
    "answered_at": Field(_l("Answered at"), DateTime()), "answered_by_id": Field(_l("Answered by"), Ref("users")),
    "remedy": Field(_l("Remedy"), Enum(ChallengeRemedy)),
    "upheld_challenge_id": Field(_l("The upheld challenge that withdrew the award"), Ref("challenges")),
})
describe_object("grants", _l("Access grant"), fields={
    "user_id": Field(_l("User"), Ref("users")),
    "object_type": Field(_l("Object"), Choice({"tenders": _l("Call for bids")})),
    "object_id": Field(_l("Number")),
    "kind": Field(_l("Kind"), Choice({"evaluator": _l("Evaluator of the call")})),
    "has_conflict": Field(_l("Conflict of interest")), "revoked": Field(_l("Revoked")),
})
describe_object("users", _l("User"), fields={
    "fields": Field(_l("Evaluator fields"), Records({
        "category_id": Field(_l("Service category"), Ref("service_categories")),
        "is_expert": Field(_l("Expert"))})),
})

JOB_KINDS.update({"tender.evaluation_report": _l("Evaluation report (PDF)"),
                  "tender.award_notice": _l("Notice of award (PDF)")})
DOCUMENT_KINDS.update({"evaluation_report": _l("Evaluation report"), "award_notice": _l("Notice of award"),
                       "challenge_file": _l("Challenge file")})

describe_actions({
    "committee.seat": _l("Committee seat given"), "committee.backup": _l("Backup called to the committee"),
    "score.save": _l("Scores saved (draft)"), "evaluation.rank": _l("Bids ranked"),
    "award.pass_over": _l("Bid passed over for the award"), "tender.publicity_end": _l("Award publicity ended"),
    "tender.challenge_window_closed": _l("Challenge window closed with challenges open"),
    "evaluator.fields": _l("Evaluator fields set"),
    "committee.redraw": _l("Committee seat drawn again (backups ran out)"),
    "award.set_aside": _l("Award set aside after an upheld challenge"),
    "tender.invite": _l("Organization invited to the call"),
    "tender.uninvite": _l("Invitation withdrawn"),
})
