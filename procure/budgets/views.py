"""Finance pages: appropriations, adjustments, the dashboard; ``flask budgets …``."""

from __future__ import annotations

import sys

import click
from flask import Blueprint

from ..extensions import db

bp = Blueprint("budgets", __name__, url_prefix="/budgets", cli_group="budgets")


@bp.cli.command("reconcile")
def reconcile_command():
    """Compare the running totals with the ledger's sums; exit 1 on any difference."""
    from .services import reconcile

    problems = reconcile()
    if problems:
        for line in problems:
            click.echo(line, err=True)
        sys.exit(1)
    click.echo("budgets reconcile OK")


@bp.cli.command("seed")
def seed_command():
    """Create the four funding sources if they are missing."""
    from .services import ensure_funding_sources

    ensure_funding_sources()
    db.session.commit()
    click.echo("funding sources ready")
