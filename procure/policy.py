"""Every numeric rule of the domain (DOMAIN.md §5, §6) with its source.

A deployment overrides a value with ``POLICY_OVERRIDES = {"key": value}`` in its
configuration, or with an environment variable ``PROCURE_POLICY_<KEY>`` where the key's
dots become underscores (``PROCURE_POLICY_TENDER_MIN_DAYS_PUBLIC=25``). Code reads
values only through :func:`value`; nothing else holds a copy of these numbers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l

LAW_87 = "财政部令第87号《政府采购货物和服务招标投标管理办法》"
LAW_102 = "财政部令第102号《政府购买服务管理办法》"
PROC_LAW = "《中华人民共和国政府采购法》"
PROC_REG = "《中华人民共和国政府采购法实施条例》"
GUIDE_54 = "财综〔2016〕54号"
CQ_GUIDE = "《重庆市社会组织承接政府购买服务项目管理指引》(2018)"
MCA_60 = "民政部令第60号《社会组织信用信息管理办法》"
PERF = "财预〔2020〕10号《项目支出绩效评价管理办法》"
SME_PAY = "《保障中小企业款项支付条例》"
ARCHIVE = "《会计档案管理办法》"
DOMAIN6 = "Procure 提醒规则（业务规则第6节）"
INTERNAL_CONTROL = "财会〔2012〕21号《行政事业单位内部控制规范（试行）》"


LAW_74 = "财政部令第74号《政府采购非招标采购方式管理办法》"
LAW_94 = "财政部令第94号《政府采购质疑和投诉办法》"
CONSULT = "财库〔2014〕214号《政府采购竞争性磋商采购方式管理暂行办法》"
CALL = "Procure 项目申报规则（参照民政部中央财政支持社会组织参与社会服务项目申报指南）"


@dataclass(frozen=True)
class Rule:
    key: str
    default: Any
    unit: Any
    source: str
    description: Any


# --- procurement methods as data ------------------------------------------------------

#: Units of a method's periods (:class:`MethodPolicy`): calendar days, where a period whose
#: last day is a rest day ends on the next working day, or working days.
CALENDAR_DAYS = "calendar_days"
WORKING_DAYS = "working_days"

#: The seven ProcurementMethod values (procure/projects/models.py) and the short name of
#: each in the policy keys (the core does not import the projects module).
METHOD_KEYS = {
    "public_tender": "public", "invited_tender": "invited", "consultation": "consultation",
    "negotiation": "negotiation", "inquiry": "inquiry", "single_source": "single_source",
    "application": "application",
}
_METHOD_NAMES = {
    "public": _l("Public tender"), "invited": _l("Invited tender"), "consultation": _l("Competitive consultation"),
    "negotiation": _l("Competitive negotiation"), "inquiry": _l("Inquiry"), "single_source": _l("Single source"),
    "application": _l("Call for project applications"),
}
_SHARE_2_3 = Decimal("0.6667")

#: Per method: (period, its unit, its source), (min bids, source), (committee members,
#: source), (expert share, source), (late-clarification threshold, unit, source),
#: (min price weight, source), (publicity working days, source).
_METHODS = {
    "public": ((20, CALENDAR_DAYS, f"{LAW_87} 第十六条"), (3, f"{PROC_LAW} 第三十六条"),
               (5, f"{LAW_87} 第四十七条"), (_SHARE_2_3, f"{LAW_87} 第四十七条"),
               (15, CALENDAR_DAYS, f"{LAW_87} 第二十七条"), (Decimal("0.10"), f"{LAW_87} 第五十五条"),
               (1, f"{LAW_87} 第六十九条")),
    "invited": ((20, CALENDAR_DAYS, f"{LAW_87} 第十六条"), (3, f"{PROC_LAW} 第三十六条"),
                (5, f"{LAW_87} 第四十七条"), (_SHARE_2_3, f"{LAW_87} 第四十七条"),
                (15, CALENDAR_DAYS, f"{LAW_87} 第二十七条"), (Decimal("0.10"), f"{LAW_87} 第五十五条"),
                (1, f"{LAW_87} 第六十九条")),
    "consultation": ((10, CALENDAR_DAYS, f"{CONSULT} 第十条"), (3, f"{CONSULT} 第三条、第二十一条"),
                     (3, f"{CONSULT} 第十四条"), (_SHARE_2_3, f"{CONSULT} 第十四条"),
                     (5, CALENDAR_DAYS, f"{CONSULT} 第十条"), (Decimal("0.10"), f"{CONSULT} 第二十四条"),
                     (1, f"{LAW_87} 第六十九条")),
    "negotiation": ((3, WORKING_DAYS, f"{LAW_74} 第二十九条; {PROC_REG} 第三十八条"), (3, f"{LAW_74} 第二十七条"),
                    (3, f"{LAW_74} 第七条"), (_SHARE_2_3, f"{LAW_74} 第七条"),
                    (3, WORKING_DAYS, f"{LAW_74} 第二十九条"), (Decimal("0.10"), f"{LAW_87} 第五十五条"),
                    (1, f"{LAW_74} 第十八条")),
    "inquiry": ((3, WORKING_DAYS, f"{LAW_74} 第四十五条"), (3, f"{LAW_74} 第四十条"),
                (3, f"{LAW_74} 第七条"), (_SHARE_2_3, f"{LAW_74} 第七条"),
                (3, WORKING_DAYS, f"{LAW_74} 第四十五条"), (Decimal("0.10"), f"{LAW_87} 第五十五条"),
                (1, f"{LAW_74} 第十八条")),
    "single_source": ((5, WORKING_DAYS, f"{LAW_74} 第三十八条"), (1, f"{PROC_LAW} 第三十一条"),
                      (3, f"{LAW_74} 第四十一条"), (_SHARE_2_3, f"{LAW_74} 第七条"),
                      (3, WORKING_DAYS, f"{LAW_74} 第二十九条"), (Decimal("0.10"), f"{LAW_87} 第五十五条"),
                      (1, f"{LAW_74} 第十八条")),
    "application": ((20, CALENDAR_DAYS, CALL), (1, CALL),
                    (5, CALL), (_SHARE_2_3, f"{CALL}; {LAW_87} 第四十七条"),
                    (15, CALENDAR_DAYS, CALL), (Decimal("0.00"), CALL),
                    (5, CALL)),
}


def _period_key(kind: str, unit: str, short: str) -> str:
    return f"tender.{kind}_{'working_days' if unit == WORKING_DAYS else 'days'}.{short}"


def _method_rules() -> list[Rule]:
    rules = []
    for short, (period, bids, members, experts, clar, weight, publicity) in _METHODS.items():
        name = _METHOD_NAMES[short]
        unit = {CALENDAR_DAYS: _l("calendar days"), WORKING_DAYS: _l("working days")}
        rules += [
            Rule(_period_key("min", period[1], short), period[0], unit[period[1]], period[2],
                 _l("%(method)s: minimum period from publication to bid deadline", method=name)),
            Rule(f"tender.min_bids.{short}", bids[0], _l("bids"), bids[1],
                 _l("%(method)s: fewer qualified bids than this fails the tender", method=name)),
            Rule(f"evaluation.min_members.{short}", members[0], _l("members"), members[1],
                 _l("%(method)s: minimum (odd) size of the evaluation committee", method=name)),
            Rule(f"evaluation.min_expert_share.{short}", experts[0], _l("share"), experts[1],
                 _l("%(method)s: minimum share of experts on the evaluation committee", method=name)),
            Rule(_period_key("clarification", clar[1], short), clar[0], unit[clar[1]], clar[2],
                 _l("%(method)s: a clarification that may affect the bids and comes later than this before "
                    "the deadline pushes the deadline out", method=name)),
            Rule(f"evaluation.min_price_weight.{short}", weight[0], _l("share"), weight[1],
                 _l("%(method)s: comprehensive scoring, minimum weight of the price score", method=name)),
            Rule(f"award.publicity_working_days.{short}", publicity[0], _l("working days"), publicity[1],
                 _l("%(method)s: publication period of the award result", method=name)),
        ]
    return rules


_METHOD_RULES = _method_rules()

RULES: tuple[Rule, ...] = (
    *_METHOD_RULES,
    Rule("contract.sign_within_days", 30, _l("calendar days"), f"{PROC_LAW} 第四十六条",
         _l("Contract signed within this many days of the award notice")),
    Rule("contract.publish_within_working_days", 2, _l("working days"), f"{PROC_REG} 第五十条",
         _l("Contract published within this many working days of signing")),
    Rule("contract.max_term_years", 1, _l("years"), f"{LAW_102} 第二十二条",
         _l("Normal maximum contract term")),
    Rule("contract.max_term_years.continuous", 3, _l("years"), f"{LAW_102} 第二十二条",
         _l("Maximum term for continuous, stably funded services")),
    Rule("contract.max_supplement_share", Decimal("0.10"), _l("share"), f"{PROC_LAW} 第四十九条",
         _l("Supplementary contracts: at most this share of the original amount in total")),
    Rule("contract.max_bond_share", Decimal("0.10"), _l("share"), f"{PROC_REG} 第四十八条",
         _l("Performance bond: at most this share of the contract amount")),
    Rule("budget.max_admin_cost_share", Decimal("0.10"), _l("share"), CQ_GUIDE,
         _l("Administrative costs: at most this share of the organization's budget")),
    Rule("challenge.file_within_working_days", 7, _l("working days"),
         f"{PROC_LAW} 第五十二条; {PROC_REG} 第五十三条; {LAW_94} 第十条",
         _l("A challenge to an award is filed within this many working days of the notice")),
    Rule("challenge.answer_within_working_days", 7, _l("working days"), f"{PROC_LAW} 第五十三条; {LAW_94} 第十三条",
         _l("A challenge is answered within this many working days")),
    Rule("payment.after_acceptance_days", 30, _l("calendar days"), f"{SME_PAY} 第九条",
         _l("Payment follows acceptance within this many days")),
    Rule("payment.officer_confirms", True, _l("yes/no"), f"{INTERNAL_CONTROL} 第二十九条、第四十条",
         _l("Payment approval chain: the department's officer confirms a requested payment first")),
    Rule("payment.finance_approvals", 1, _l("approvals"), f"{INTERNAL_CONTROL} 第二十九条、第四十条",
         _l("Payment approval chain: finance approvals every payment needs (each by another person)")),
    Rule("payment.second_approval_above", Decimal("100000.00"), _l("yuan"), f"{INTERNAL_CONTROL} 第四十条",
         _l("Payment approval chain: a payment above this amount needs one more finance approval")),
    Rule("eligibility.min_registered_years", 1, _l("years"), f"{GUIDE_54}; {CQ_GUIDE}",
         _l("An organization must have been registered at least this long")),
    Rule("standing.abnormal_to_serious_years", 2, _l("years"), f"{MCA_60} 第十九条",
         _l("Years on the abnormal-activity list before the serious dishonesty list")),
    Rule("rating.valid_years", 5, _l("years"), "民政部令第39号《社会组织评估管理办法》 第十八条",
         _l("Validity of an organization rating (1A–5A)")),
    Rule("performance.weight.budget_execution", 10, _l("points"), PERF,
         _l("Performance evaluation: weight of budget execution")),
    Rule("performance.weight.outputs", 50, _l("points"), PERF,
         _l("Performance evaluation: weight of outputs")),
    Rule("performance.weight.outcomes", 30, _l("points"), PERF,
         _l("Performance evaluation: weight of outcomes")),
    Rule("performance.weight.satisfaction", 10, _l("points"), PERF,
         _l("Performance evaluation: weight of satisfaction")),
    Rule("performance.grade.excellent", 90, _l("points"), PERF, _l("Lowest score graded 优")),
    Rule("performance.grade.good", 80, _l("points"), PERF, _l("Lowest score graded 良")),
    Rule("performance.grade.pass", 60, _l("points"), PERF, _l("Lowest score graded 中 (below: 差, fail)")),
    Rule("performance.fail_bar_years", 1, _l("years"), f"{LAW_102} 第二十条",
         _l("A failed evaluation bars the organization from tenders for this many years")),
    Rule("performance.fail_bars_next_year", True, _l("yes/no"), f"{LAW_102} 第二十条",
         _l("A failed acceptance (for good) bars the organization from the following year's tenders")),
    Rule("acceptance.min_evaluators", 3, _l("evaluators"), f"{PROC_REG} 第四十五条",
         _l("Acceptance: evaluators without a conflict of interest who must score")),
    Rule("acceptance.rectification_days", 30, _l("calendar days"), f"{PROC_REG} 第四十五条",
         _l("Acceptance failed: the rectification period before the one re-evaluation")),
    Rule("reminder.rectification_days", (7, 1), _l("days before"), DOMAIN6,
         _l("Rectification period ending: reminders to the organization and the officer")),
    Rule("records.retention_years", 15, _l("years"), f"{PROC_LAW} 第四十二条; {ARCHIVE}",
         _l("Minimum retention of procurement records")),
    Rule("reminder.milestone_due_days", (7, 3, 1), _l("days before"), DOMAIN6,
         _l("Milestone due reminders to the organization")),
    Rule("reminder.milestone_overdue_daily", 3, _l("days"), DOMAIN6,
         _l("Daily overdue reminders to the organization before escalation to the officer")),
    Rule("reminder.bid_deadline_days", 3, _l("days before"), DOMAIN6,
         _l("Bid deadline reminder to organizations holding a draft bid")),
    Rule("reminder.evaluation_waiting_days", 2, _l("days"), DOMAIN6,
         _l("Evaluation waiting for an evaluator's scores")),
    Rule("reminder.challenge_answer_days", (3, 1), _l("days before"), f"{DOMAIN6}; {LAW_94} 第十三条",
         _l("Challenge waiting for the officer's answer: reminders before the answer is due")),
    Rule("reminder.report_review_working_days", 5, _l("working days"), DOMAIN6,
         _l("Milestone report waiting for the officer's review")),
    Rule("reminder.payment_unpaid_days", 10, _l("days"), DOMAIN6,
         _l("Approved payment still unpaid, reminder to finance")),
    Rule("reminder.payment_due_days", (7, 1), _l("days before"), f"{DOMAIN6}; {SME_PAY} 第九条",
         _l("Final payment due after acceptance: reminders to finance before the last day")),
    Rule("reminder.contract_ending_days", 30, _l("days before"), DOMAIN6,
         _l("Contract ending soon")),
    Rule("reminder.contract_unsigned_days", (7, 3, 1), _l("days before"), f"{DOMAIN6}; {PROC_LAW} 第四十六条",
         _l("Contract not yet signed: reminders to the officer and the organization before the signing period ends")),
    Rule("reminder.rating_expiring_days", 60, _l("days before"), DOMAIN6,
         _l("Organization rating expiring")),
    Rule("annual_report.due_month_day", (5, 31), _l("month, day"), f"{MCA_60}; 《社会组织年度报告办法》",
         _l("An annual report for year Y is due by this month and day of year Y+1")),
    Rule("standing.auto_abnormal", False, _l("yes/no"), f"{MCA_60} 第十一条",
         _l("A missing annual report puts the organization on the abnormal-activity list at once "
            "(otherwise the listing is proposed to the officer)")),
    Rule("reminder.annual_report_due_days", (30, 7, 1), _l("days before"), DOMAIN6,
         _l("Annual report due reminders to the organization")),
    Rule("reminder.annual_report_overdue_days", 1, _l("days after"), DOMAIN6,
         _l("Annual report not filed: escalation to the officer this many days after the due date")),
    Rule("reminder.rating_expiring_days_list", (60, 7), _l("days before"), DOMAIN6,
         _l("Organization rating expiring: reminders to the organization")),
    Rule("reminder.serious_list_days", (30,), _l("days before"), f"{DOMAIN6}; {MCA_60} 第十九条",
         _l("Organization about to move to the serious dishonesty list: reminders")),
    Rule("reminder.holiday_calendar_days", (31, 14, 7, 1), _l("days before 1 January"),
         f"{DOMAIN6}; 国务院办公厅关于部分节假日安排的通知（每年年底发布）",
         _l("Next year's holiday calendar not complete: warnings to officers and administrators in December")),
)

_BY_KEY = {rule.key: rule for rule in RULES}


def _coerce(rule: Rule, raw: Any) -> Any:
    """Bring an override (often a string from the environment) to the default's type."""
    if isinstance(rule.default, bool):
        return str(raw).lower() in {"1", "true", "yes"} if isinstance(raw, str) else bool(raw)
    if isinstance(rule.default, int):
        return int(raw)
    if isinstance(rule.default, Decimal):
        return Decimal(str(raw))
    if isinstance(rule.default, tuple):
        if isinstance(raw, str):
            return tuple(int(x) for x in raw.split(",") if x.strip())
        return tuple(raw)
    return raw


def _env_name(key: str) -> str:
    return "PROCURE_POLICY_" + key.upper().replace(".", "_")


def value_and_origin(key: str) -> tuple[Any, str]:
    """The value in force for ``key`` and where it came from: default, config or env."""
    rule = _BY_KEY[key]
    env = os.environ.get(_env_name(key))
    if env is not None:
        return _coerce(rule, env), "env"
    overrides = current_app.config.get("POLICY_OVERRIDES") or {}
    if key in overrides:
        return _coerce(rule, overrides[key]), "config"
    return rule.default, "default"


def value(key: str) -> Any:
    """The value in force for the policy ``key`` (KeyError for an unknown key)."""
    return value_and_origin(key)[0]


def display(value: Any, unit: Any) -> str:
    """A value as the admin page shows it: shares as percentages, lists joined."""
    from babel.numbers import format_percent
    from flask_babel import get_locale
    from flask_babel import gettext as _

    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, Decimal):
        return format_percent(value, format="#,##0.##%", locale=str(get_locale() or "zh_CN"))
    if isinstance(value, tuple):
        return f"{', '.join(str(v) for v in value)} {unit}"
    return f"{value} {unit}"


def in_force() -> list[dict]:
    """Every rule with its value in force, default, origin and source, for the admin page."""
    rows = []
    for rule in RULES:
        current, origin = value_and_origin(rule.key)
        rows.append({"rule": rule, "value": current, "origin": origin, "env": _env_name(rule.key),
                     "shown": display(current, rule.unit), "default_shown": display(rule.default, rule.unit)})
    return rows


# --- a method's rules together ---------------------------------------------------------


@dataclass(frozen=True)
class MethodPolicy:
    """The rules in force for one procurement method (values as :func:`value` reads them).

    Shares (``min_expert_share``, ``min_price_weight``) are fractions (0.10 = 10%);
    periods come with their unit, :data:`CALENDAR_DAYS` or :data:`WORKING_DAYS`.
    ``keys`` names the policy key of each field (for messages citing the rule and source)."""

    method: str
    min_period: int
    period_unit: str
    min_bids: int
    committee_size: int
    min_expert_share: Decimal
    clarification_min: int
    clarification_unit: str
    min_price_weight: Decimal
    publicity_working_days: int
    challenge_working_days: int
    answer_working_days: int
    keys: dict

    def min_experts(self) -> int:
        """Experts the committee needs: the share of its size, rounded up."""
        import math

        return math.ceil(self.min_expert_share * self.committee_size - Decimal("0.0001"))

    def source(self, field: str) -> str:
        """The source of the rule behind ``field`` (e.g. "min_period")."""
        return rule(self.keys[field]).source


def rule(key: str) -> Rule:
    """The :class:`Rule` of ``key`` (KeyError for an unknown key)."""
    return _BY_KEY[key]


def method_policy(method: str) -> MethodPolicy:
    """Every rule of ``method`` (a ProcurementMethod or its value) in force now.

    The committee size is made odd (an even override is rounded up to the next odd)."""
    short = METHOD_KEYS[str(getattr(method, "value", method))]
    period_unit = _METHODS[short][0][1]
    clar_unit = _METHODS[short][4][1]
    keys = {
        "min_period": _period_key("min", period_unit, short),
        "min_bids": f"tender.min_bids.{short}",
        "committee_size": f"evaluation.min_members.{short}",
        "min_expert_share": f"evaluation.min_expert_share.{short}",
        "clarification_min": _period_key("clarification", clar_unit, short),
        "min_price_weight": f"evaluation.min_price_weight.{short}",
        "publicity_working_days": f"award.publicity_working_days.{short}",
        "challenge_working_days": "challenge.file_within_working_days",
        "answer_working_days": "challenge.answer_within_working_days",
    }
    v = {field: value(key) for field, key in keys.items()}
    size = max(1, int(v["committee_size"]))
    v["committee_size"] = size if size % 2 else size + 1
    return MethodPolicy(method=str(getattr(method, "value", method)), period_unit=period_unit,
                        clarification_unit=clar_unit, keys=keys, **v)
