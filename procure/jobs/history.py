"""How the history of background jobs reads (see procure/history.py). Modules that
define a job kind add its label to ``KIND_LABELS``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..auth.history import LOCALES
from ..documents.history import KIND_LABELS as DOCUMENT_KINDS
from ..history import Choice, Enum, Field, Records, Ref, Text, describe_actions, describe_object
from .exports import EXPORT_JOB
from .models import Job, JobState

#: Job kind → label; each module adds its kinds.
KIND_LABELS: dict[str, object] = {EXPORT_JOB: _l("List export (xlsx)")}
DOCUMENT_KINDS["list_export"] = _l("List export")

PARAM_FIELDS = {
    "year": Field(_l("Year"), Text()), "from": Field(_l("From"), Text()), "to": Field(_l("To"), Text()),
    "source": Field(_l("Funding source"), Ref("funding_sources")),
    "department": Field(_l("Department"), Ref("departments")),
    "locale": Field(_l("Language"), Choice(LOCALES)),
    "list": Field(_l("Exported list"), Text()),
}

describe_object("jobs", _l("Background job"), model=Job, name=lambda j: str(KIND_LABELS.get(j.kind, j.kind)),
                fields={
                    "kind": Field(_l("Kind"), Choice(KIND_LABELS)),
                    "params": Field(_l("Settings"), Records(PARAM_FIELDS)),
                    "state": Field(_l("State"), Enum(JobState)),
                    "result_document_id": Field(_l("Result"), Ref("documents")),
                })

describe_actions({
    "job.create": _l("Job requested"), "job.start": _l("Job started"), "job.done": _l("Job finished"),
    "job.fail": _l("Job failed"),
})
