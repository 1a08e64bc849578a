"""WSGI entry point: ``gunicorn wsgi:app``. Refuses to start on an un-migrated database."""

from procure import create_app
from procure.schema import check_schema_or_exit

app = create_app()
check_schema_or_exit(app)
