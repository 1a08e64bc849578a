"""The floor of the page benchmark: a bare Flask app doing one indexed query (an
organization by primary key) and rendering a small template. It runs under gunicorn
next to the app, in the same run, against the same database.

    DATABASE_URL=postgresql+psycopg://... gunicorn -w 2 bench.floor_app:app
"""

from __future__ import annotations

import os
import random

import sqlalchemy as sa
from flask import Flask, render_template_string

app = Flask(__name__)
engine = sa.create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)
TEMPLATE = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8"><title>{{ name }}</title></head>
<body><main><h1>{{ name }}</h1><p>{{ kind }}</p></main></body></html>"""
ORG = sa.text("SELECT name, kind FROM organizations WHERE id = :id")


@app.route("/floor")
def floor():
    with engine.connect() as conn:
        row = conn.execute(ORG, {"id": random.randint(1, 17000)}).first()
    return render_template_string(TEMPLATE, name=row.name if row else "", kind=row.kind if row else "")
