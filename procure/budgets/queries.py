"""Reads that decide what the finance pages show (the fiscal years on offer)."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import db
from ..timeutil import utcnow
from .models import Appropriation


def fiscal_years() -> list[int]:
    """Years that have appropriations, newest first."""
    return list(db.session.scalars(select(Appropriation.fiscal_year).distinct()
                                   .order_by(Appropriation.fiscal_year.desc())))


def default_year() -> int:
    years = fiscal_years()
    this = utcnow().year
    return this if this in years or not years else years[0]
