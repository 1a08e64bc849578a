"""How the history of emails reads (see procure/history.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..history import Enum, Field, Number, describe_actions, describe_object
from .models import Notification, NotificationState

describe_object("notifications", _l("Email"), model=Notification, name=lambda n: n.subject,
                endpoint=("admin.outbox_detail", "note_id"), permission="outbox.view",
                fields={"state": Field(_l("State"), Enum(NotificationState)),
                        "attempts": Field(_l("Attempts"), Number())})

describe_actions({
    "notification.send": _l("Email sent"), "notification.fail": _l("Email failed"),
    "notification.requeue": _l("Email queued again"),
})
