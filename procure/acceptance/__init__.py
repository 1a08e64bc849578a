"""Acceptance (验收) and performance evaluation (绩效评价), issue 11: the organization's
final report with the beneficiaries' written opinion, evaluators' (or a third party's)
scores in the weighted groups, the grade, and what follows it (contract completed and
the final installment released, or rectification, one re-evaluation, termination)."""
