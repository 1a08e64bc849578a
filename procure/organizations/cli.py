"""``flask orgs import`` (found by ``procure.cli`` like views)."""

from __future__ import annotations

import os
import sys

import click
from flask.cli import AppGroup
from sqlalchemy import select

from ..auth.models import User
from ..errors import NotPermitted
from ..extensions import db
from . import importer

cli = AppGroup("orgs", help="The registry of social organizations.")


@cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--only-good", is_flag=True, help="Import the good rows even when some rows are bad.")
@click.option("--user", "user_email", default=None,
              help="E-mail of the account the import is recorded under in the audit trail "
                   "(it needs the import permission); without it the events carry no actor.")
def import_command(path: str, only_good: bool, user_email: str | None):
    """Import a registry export (.csv or .xlsx). Bad rows are printed one a line,
    starting with their line number; nothing is imported when any row is bad unless
    --only-good is given."""
    actor = None
    if user_email:
        actor = db.session.scalar(select(User).where(User.email == user_email))
        if actor is None:
            click.echo(f"no user with e-mail {user_email}", err=True)
            sys.exit(2)
    try:
        result = importer.import_file(actor, path, only_good=only_good, filename=os.path.basename(path))
        db.session.commit()
    except (importer.FileRejected, NotPermitted) as exc:
        db.session.rollback()
        click.echo(f"rejected: {exc.message}", err=True)
        sys.exit(2)
    for err in result.errors:
        click.echo(f"{err.line}: {err.message}")
    if result.more_errors:
        click.echo(f"... {result.more_errors} more bad row(s) not listed")
    for code, changes in result.updated.items():
        text = "; ".join(f"{k}: {old} → {new}" for k, (old, new) in changes.items())
        click.echo(f"updated {code}: {text}")
    if not result.applied:
        click.echo(f"nothing imported: {result.error_count} bad row(s) of {result.total}", err=True)
        sys.exit(1)
    click.echo(f"imported {result.total - result.error_count} row(s): {len(result.created)} new, "
               f"{len(result.updated)} updated, {result.unchanged} unchanged; {result.error_count} bad row(s) skipped")
