"""Command-line tools: ``flask audit verify``, ``flask demo``, and each module's group
from its ``cli.py`` (``flask budgets …``, ``flask orgs …``, ``flask reports …``)."""

from __future__ import annotations

import sys

import click
from flask import Flask
from flask.cli import AppGroup

from .extensions import db
from .modules import submodules

audit_cli = AppGroup("audit", help="The audit trail.")


@audit_cli.command("verify")
def audit_verify():
    """Check the audit hash chain; exit 1 naming the first broken link."""
    from .audit import verify_chain

    report = verify_chain()
    if report.ok:
        click.echo(f"audit chain OK: {report.checked} events")
        return
    click.echo(f"audit chain BROKEN at event #{report.broken_seq} (id {report.broken_id}): "
               f"{report.reason}; {report.checked} events before it are intact", err=True)
    sys.exit(1)


sealing_cli = AppGroup("sealing", help="The master key of sealed bids.")


@sealing_cli.command("init-key")
@click.option("--force", is_flag=True, help="Replace an existing key (sealed bids then no longer open).")
def sealing_init_key(force: bool):
    """Create the master key file (MASTER_KEY_FILE, mode 0600) unless it exists."""
    from flask import current_app

    from .sealing import init_key_file, key_file_path

    if current_app.config.get("MASTER_KEY") and not force:
        click.echo("PROCURE_MASTER_KEY is set: the key comes from the environment; no file written.")
        return
    path = key_file_path()
    if init_key_file(path, force=force):
        click.echo(f"master key written to {path} (mode 0600); back it up apart from the database")
    else:
        click.echo(f"master key file {path} exists; kept")


signing_cli = AppGroup("signing", help="The certificate authority of PDF signatures.")


@signing_cli.command("init-ca")
@click.option("--force", is_flag=True, help="Replace an existing CA (certificates issued by it no longer chain).")
def signing_init_ca(force: bool):
    """Create the signing CA (key mode 0600 + self-signed certificate) unless it exists."""
    from .errors import DomainError
    from .signing import ca_paths, init_ca

    cert_path, key_path = ca_paths()
    try:
        created = init_ca(force=force)
    except DomainError as exc:
        click.echo(str(exc.message), err=True)
        sys.exit(1)
    if created:
        click.echo(f"signing CA written: certificate {cert_path}, key {key_path} (mode 0600); back the key up")
    else:
        click.echo(f"signing CA {cert_path} exists; kept")


@click.command("demo")
@click.option("--force", is_flag=True, help="Fill even when the database already holds users.")
def demo_command(force: bool):
    """Fill a fresh database with realistic demo data and print the logins."""
    from .demo import load_demo

    logins = load_demo(force=force)
    if logins is None:
        click.echo("The database already holds data; demo not loaded (use --force).")
        return
    click.echo("Demo data loaded. Logins (password for all: {}):".format(logins["password"]))
    for row in logins["users"]:
        click.echo(f"  {row['role']:<10} {row['username']:<14} {row['name']}  {row['where']}")


def register(app: Flask) -> None:
    app.cli.add_command(audit_cli)
    app.cli.add_command(sealing_cli)
    app.cli.add_command(signing_cli)
    app.cli.add_command(demo_command)
    # Each module's commands: procure/<module>/cli.py defines ``cli``, a click group.
    for module in submodules("cli"):
        app.cli.add_command(module.cli)

    @app.shell_context_processor
    def ctx():
        return {"db": db}
