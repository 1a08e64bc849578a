"""Labels of the report jobs and documents in histories (see procure/history.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..documents.history import KIND_LABELS as DOCUMENT_KINDS
from ..jobs.history import KIND_LABELS as JOB_KINDS
from .services import EXECUTION_PDF, SUMMARY_PDF

JOB_KINDS.update({EXECUTION_PDF: _l("Budget execution report (PDF)"),
                  SUMMARY_PDF: _l("Program summary (PDF)")})
DOCUMENT_KINDS.update({"budget_execution_report": _l("Budget execution report"),
                       "program_summary_report": _l("Program summary")})
