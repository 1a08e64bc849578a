"""Acceptance test helpers: a contract in force with its final report submitted, an
evaluation organized (committee or third party), scores that add up to a chosen total."""

from __future__ import annotations

from decimal import Decimal
from types import SimpleNamespace

from procure.acceptance import services as svc
from procure.roles import Role

REPORT = "全年完成助餐服务与探访服务，服务对象满意度较高。"
OPINION = "服务对象代表座谈意见：服务及时、态度好，希望继续开展。"


def scores_for(total) -> dict:
    """Group scores (within the default weights 10/50/30/10) adding up to ``total``."""
    total = Decimal(str(total))
    weights = {"budget_execution": Decimal(10), "outputs": Decimal(50), "outcomes": Decimal(30),
               "satisfaction": Decimal(10)}
    lost = Decimal(100) - total
    out = {}
    for g, w in sorted(weights.items(), key=lambda kv: -kv[1]):
        take = min(w, lost)
        out[g] = str(w - take)
        lost -= take
    return out


def submitted(make, db, *, org=None, commit=True) -> SimpleNamespace:
    """An active contract whose organization submitted its final report (typed opinion)."""
    aw = make.active_contract(org=org)
    acc = svc.open_final_report(aw.org_user, aw.contract)
    svc.save_final_report(aw.org_user, acc, svc.ReportData(REPORT, ["310", "1250.5"], OPINION), submit=True)
    if commit:
        db.session.commit()
    aw.acc = acc
    return aw


def evaluating(make, db, n: int = 3, **kw) -> SimpleNamespace:
    """``submitted`` with ``n`` evaluators assigned."""
    aw = submitted(make, db, **kw)
    aw.evaluators = [make.user(Role.EVALUATOR) for _ in range(n)]
    svc.organize_evaluation(aw.officer, aw.acc, evaluator_ids=[str(e.id) for e in aw.evaluators])
    db.session.commit()
    return aw


def score_all(db, aw, total, evaluators=None) -> None:
    for e in evaluators or aw.evaluators:
        svc.declare(e, aw.acc, False)
        svc.submit_scores(e, aw.acc, scores_for(total))
    db.session.commit()


def third_party(make, db, total, **kw) -> SimpleNamespace:
    """``submitted``, evaluated by a third party whose scores add up to ``total``."""
    aw = submitted(make, db, **kw)
    svc.organize_evaluation(aw.officer, aw.acc, third_party_name="重庆某绩效评价事务所")
    svc.enter_third_party_scores(aw.officer, aw.acc, scores_for(total))
    db.session.commit()
    return aw
