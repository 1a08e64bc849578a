"""How the evaluation's own audit actions read in histories (the machines' moves are
labelled with the machines in models.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..history import describe_actions

describe_actions({
    "committee.seat": _l("Committee seat given"), "committee.backup": _l("Backup called to the committee"),
    "score.save": _l("Scores saved (draft)"), "evaluation.rank": _l("Bids ranked"),
    "award.pass_over": _l("Bid passed over for the award"), "tender.publicity_end": _l("Award publicity ended"),
    "tender.challenge_window_closed": _l("Challenge window closed with challenges open"),
    "evaluator.fields": _l("Evaluator fields set"),
})
