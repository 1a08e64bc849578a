"""How the history of stored files reads (see procure/history.py). Modules that store
a kind of document add its label to ``KIND_LABELS``."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from ..history import Choice, Field, Number, Ref, describe_actions, describe_object
from .models import Document

#: Document kind → label; each module adds its kinds.
KIND_LABELS: dict[str, object] = {"bid_attachment": _l("Bid attachment")}

describe_object("documents", _l("Document"), model=Document, name=lambda d: d.filename,
                fields={
                    "kind": Field(_l("Kind"), Choice(KIND_LABELS)), "filename": Field(_l("File")),
                    "size": Field(_l("Size (bytes)"), Number()), "owner_id": Field(_l("Owner"), Ref("users")),
                    # where the file belongs and who may read it: for the chain, not for reading
                    "content_type": Field(_l("Type"), hidden=True), "sha256": Field("SHA-256", hidden=True),
                    "object_type": Field(_l("Object"), hidden=True), "object_id": Field(_l("Object"), hidden=True),
                    "permission_action": Field(_l("Permission"), hidden=True),
                })

describe_actions({"document.create": _l("File stored")})
