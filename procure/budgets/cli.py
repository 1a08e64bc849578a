"""``flask budgets reconcile|seed`` (found by ``procure.cli`` like views)."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from ..extensions import db
from . import services

cli = AppGroup("budgets", help="Budgets: appropriations and the ledger.")


@cli.command("reconcile")
def reconcile_command():
    """Compare the running totals with the ledger's sums and check that each entry's
    payment is one of its contract; exit 1 on any difference."""
    problems = services.reconcile()
    if problems:
        for line in problems:
            click.echo(line, err=True)
        sys.exit(1)
    click.echo("budgets reconcile OK")


@cli.command("seed")
def seed_command():
    """Create the four funding sources if they are missing."""
    services.ensure_funding_sources()
    db.session.commit()
    click.echo("funding sources ready")
