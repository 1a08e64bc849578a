"""Download of stored documents, after the permission check of each document."""

from __future__ import annotations

import logging

from flask import Blueprint, abort, request, send_file
from flask_login import current_user, login_required

from ..extensions import db
from ..permissions import require
from .models import Document
from .services import document_path, permission_object

bp = Blueprint("documents", __name__, url_prefix="/documents")
log = logging.getLogger(__name__)

#: Types a browser may show inline (``?inline=1``); everything else is an attachment.
INLINE_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg"})


@bp.route("/<int:doc_id>")
@login_required
def download(doc_id: int):
    """The file, if the user holds the document's permission on its object (else 403).
    Content-Disposition carries the name as RFC 5987 UTF-8 (``filename*=UTF-8''…``)."""
    doc = db.get_or_404(Document, doc_id)
    require(current_user, doc.permission_action, permission_object(doc))
    path = document_path(doc)
    if not path.is_file():
        log.error("document %s: file %s is missing", doc.id, path)
        abort(404)
    inline = request.args.get("inline") == "1" and doc.content_type in INLINE_TYPES
    response = send_file(path, mimetype=doc.content_type, as_attachment=not inline,
                         download_name=doc.filename, etag=doc.sha256, conditional=True, max_age=0)
    response.headers["Cache-Control"] = "private, no-cache"
    return response
