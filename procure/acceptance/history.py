"""How the history of acceptances and their evaluators reads (see procure/history.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ..documents.history import KIND_LABELS as DOCUMENT_KINDS
from ..history import Choice as _Choice
from ..history import (
    Date,
    Enum,
    Field,
    Number,
    Pairs,
    Ref,
    Text,
    describe_actions,
    describe_object,
)
from ..jobs.history import KIND_LABELS as JOB_KINDS
from .models import Acceptance, AcceptanceEvaluator, AcceptanceState, EvaluatorState, Grade
from .services import CERT_JOB, GROUP_LABELS

_GROUP = _Choice(GROUP_LABELS)
SCORE_FIELDS = {g: Field(label, Number()) for g, label in GROUP_LABELS.items()}

describe_object("acceptances", _l("Acceptance record"), model=Acceptance,
                name=lambda a: a.contract.number, options=(joinedload(Acceptance.contract),),
                endpoint=("acceptance.detail", "acceptance_id"),
                permission="acceptance.view",
                fields={
                    "contract_id": Field(_l("Contract"), Ref("contracts")),
                    "state": Field(_l("State"), Enum(AcceptanceState)),
                    "round": Field(_l("Round"), Number()),
                    "score": Field(_l("Score"), Number()),
                    "grade": Field(_l("Grade"), Enum(Grade)),
                    "final_report": Field(_l("Final report"), Text()),
                    "actuals": Field(_l("Indicator actuals"), hidden=True),
                    "opinion_text": Field(_l("Beneficiaries' opinion"), Text()),
                    "opinion_document_id": Field(_l("Scan of the opinion"), hidden=True),
                    "third_party_name": Field(_l("Third-party evaluator")),
                    "evaluated_by": Field(_l("Evaluated by"), _Choice({
                        "committee": _l("Evaluators"), "third_party": _l("Third-party evaluator")})),
                    "evaluators": Field(_l("Evaluators"), hidden=True),
                    "groups": Field(_l("Scores by group"), Pairs(_GROUP, Number())),
                    "scorers": Field(_l("Scored by"), hidden=True),
                    "rectify_by": Field(_l("Rectify by"), Date()),
                    "decision_note": Field(_l("Note")), "note": Field(_l("Note")),
                    "decided_at": Field(_l("Decided at"), hidden=True),
                    "decided_by_id": Field(_l("Decided by"), hidden=True),
                    "published_at": Field(_l("Published at"), hidden=True),
                    "submitted_at": Field(_l("Submitted at"), hidden=True),
                    **SCORE_FIELDS,
                })
describe_object("acceptance_evaluators", _l("Acceptance evaluator"), model=AcceptanceEvaluator,
                name=lambda e: e.user.name, options=(joinedload(AcceptanceEvaluator.user),), permission=None,
                fields={
                    "acceptance_id": Field(_l("Acceptance"), Ref("acceptances")),
                    "round": Field(_l("Round"), Number()),
                    "user_id": Field(_l("Evaluator"), Ref("users")),
                    "state": Field(_l("State"), Enum(EvaluatorState)),
                    "note": Field(_l("Conflict of interest")), "conflict_note": Field(_l("Conflict of interest")),
                    "declared_at": Field(_l("Declared at"), hidden=True),
                    "scored_at": Field(_l("Scored at"), hidden=True),
                    "scores": Field(_l("Scores by group"), Pairs(_GROUP, Number())),
                })

describe_actions({
    "acceptance.create": _l("Final report started"),
    "acceptance.save": _l("Final report saved"),
    "acceptance.third_party_scores": _l("Third-party scores entered"),
    "acceptance_evaluator.assign": _l("Acceptance evaluator assigned"),
})
JOB_KINDS.update({CERT_JOB: _l("Acceptance certificate (PDF)")})
DOCUMENT_KINDS.update({"acceptance_opinion": _l("Beneficiaries' opinion (scan)"),
                       "acceptance_certificate": _l("Acceptance certificate")})

# The contract completed by a passed acceptance records it and its grade.
describe_object("contracts", _l("Contract"), fields={
    "acceptance": Field(_l("Acceptance record"), Ref("acceptances")),
    "grade": Field(_l("Grade"), Enum(Grade)),
})
