"""WSGI entry point: ``gunicorn wsgi:app``. Refuses to start on an un-migrated database."""

import sys

from procure import create_app
from procure.schema import SchemaOutOfDate, check_schema

app = create_app()
if app.config.get("CHECK_SCHEMA", True):
    try:
        check_schema(app)
    except SchemaOutOfDate as exc:
        print(f"Procure will not start: {exc}", file=sys.stderr)
        sys.exit(3)
