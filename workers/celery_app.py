"""Entry point for ``celery -A workers.celery_app worker`` and ``… beat``. Refuses to
start on an un-migrated database."""

from procure import create_app
from procure.schema import check_schema_or_exit

flask_app = create_app()
check_schema_or_exit(flask_app)
celery = flask_app.extensions["celery"]
