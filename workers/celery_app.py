"""Entry point for ``celery -A workers.celery_app worker`` and ``… beat``."""

from procure import create_app
from procure.schema import check_schema

flask_app = create_app()
if flask_app.config.get("CHECK_SCHEMA", True):
    check_schema(flask_app)
celery = flask_app.extensions["celery"]
