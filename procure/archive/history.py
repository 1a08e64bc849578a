"""How the history of closing reads (see procure/history.py): the project's move to
closed records the basis and the retention date."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..history import Date, Enum, Field, describe_object
from .models import Basis

describe_object("projects", _l("Project"), fields={
    "basis": Field(_l("Closing basis"), Enum(Basis)),
    "retain_until": Field(_l("Kept until"), Date()),
})
