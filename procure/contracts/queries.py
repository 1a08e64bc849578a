"""Reads that decide what a page shows about contracts."""

from __future__ import annotations

from flask import g
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from .models import Contract


def of_project(project) -> list[Contract]:
    """Every contract of ``project`` (with its organization), oldest first, read once per
    request: the project page's parts (contracts, milestones, payments, acceptance) each
    start from them, and the payments and acceptances they load find their contract in
    the session instead of reading it again. Not filtered: each part applies its own
    permission to what it shows."""
    memo = g.setdefault("_contracts_of_project", {})
    rows = memo.get(project.id)
    if rows is None:
        rows = memo[project.id] = db.session.scalars(
            select(Contract).where(Contract.project_id == project.id)
            .options(joinedload(Contract.organization)).order_by(Contract.id)).all()
    return rows
