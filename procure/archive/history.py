"""How closing reads in a project's history (see procure/history.py): the closing event's
details — its basis and how long the file is kept — by their labels, not their keys."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..history import Date, Enum, Field, describe_object
from ..projects import history as _projects  # noqa: F401 - describes the projects first
from .models import Basis

describe_object("projects", _l("Project"), fields={
    "basis": Field(_l("Closing basis"), Enum(Basis)),
    "retain_until": Field(_l("Kept until"), Date()),
})
