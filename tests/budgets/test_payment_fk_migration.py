"""Migration 0012_ledger_payment_fk on PostgreSQL: ledger entries whose payment id names no
payment, or a payment of another contract or project, stop the upgrade with the offending
entries listed (nothing changed); entries of their own contract's payments upgrade, and the
foreign key then refuses a made-up id."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command
from flask_migrate import upgrade

from procure import create_app
from procure.auth.models import User
from procure.budgets import services as bs
from procure.extensions import db as _db
from procure.roles import Role

from ..conftest import app_config, session_database_url
from ..factories import Factory

BEFORE, AFTER = "0011_tenders_more", "0012_ledger_payment_fk"


@pytest.fixture()
def before_fk(services_ready):
    """An app on a database of its own, migrated up to the revision before the key."""
    url = sa.engine.make_url(session_database_url())
    url = url.set(database=f"{url.database}_payfk")
    server = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{url.database}"'))
    app = create_app("testing", **app_config(SQLALCHEMY_DATABASE_URI=url.render_as_string(hide_password=False)))
    try:
        with app.app_context():
            upgrade(revision=BEFORE)
            yield app
            _db.session.remove()
            _db.engine.dispose()
    finally:
        with server.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
        server.dispose()


def _alembic(app, revision: str, step=command.upgrade) -> None:
    """Upgrade (or ``step``) by Alembic itself: ``flask db upgrade`` turns the error into
    exit 1 and a log line."""
    step(app.extensions["migrate"].migrate.get_config(), revision)


def _version() -> str:
    with _db.engine.connect() as conn:
        return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()


def _foreign_keys() -> list[str]:
    return [fk["name"] for fk in sa.inspect(_db.engine).get_foreign_keys("ledger_entries")
            if fk["referred_table"] == "payments"]


def _world(make):
    """A contract with its money committed and one entry paid under its own payment; a
    second contract of the same project with a payment; a contract of another project."""
    officer = make.user(Role.OFFICER)
    appr = make.appropriation(officer.department, "1000.00")
    project = make.approved_project(officer, appr, "500.00", ceiling="600.00")
    alloc, fin = project.allocations[0], make.finance()
    mine, sibling = make.contract(project), make.contract(project)
    elsewhere = make.contract(make.project(officer))
    bs.commit_funds(fin, alloc.id, "300.00", contract_id=mine.id)
    good = bs.pay(fin, alloc.id, "10.00", contract_id=mine.id, payment_id=make.payment(mine).id)
    return fin, alloc, mine, make.payment(sibling), make.payment(elsewhere), good


def test_the_upgrade_refuses_payments_of_other_contracts(before_fk):
    make = Factory(_db)
    fin, alloc, mine, sibling_payment, elsewhere_payment, _good = _world(make)
    other = bs.pay(fin, alloc.id, "11.00", contract_id=mine.id, payment_id=sibling_payment.id)
    ghost = bs.pay(fin, alloc.id, "12.00", contract_id=mine.id, payment_id=987654)  # no key yet: accepted
    _db.session.commit()
    # the entry's contract is its payment's, but that contract is another project's (a
    # row written by hand: the ledger's services take the contract of the allocation's project)
    moved = _db.session.execute(sa.text(
        "INSERT INTO ledger_entries (kind, amount, appropriation_id, project_id, allocation_id, contract_id,"
        " payment_id, actor_id, created_at) VALUES ('pay', 1.00, :appr, :project, :alloc, :contract, :payment,"
        " :actor, now()) RETURNING id"),
        {"appr": alloc.appropriation_id, "project": alloc.project_id, "alloc": alloc.id,
         "contract": elsewhere_payment.contract_id, "payment": elsewhere_payment.id, "actor": fin.id}).scalar()
    _db.session.commit()
    other, ghost = other.id, ghost.id
    sibling, mine = (sibling_payment.id, sibling_payment.contract_id), mine.id
    elsewhere = elsewhere_payment.id
    _db.session.remove()

    with pytest.raises(RuntimeError) as exc:
        _alembic(before_fk, "head")
    message = str(exc.value)
    assert "ledger_entries has 3 row(s)" in message
    assert f"entry {other}: payment {sibling[0]} is of contract {sibling[1]}, the entry's contract is {mine}" \
        in message
    assert f"entry {ghost}: payment 987654 does not exist" in message
    assert f"entry {moved}: payment {elsewhere} is of project " in message
    assert message.index(f"entry {other}:") < message.index(f"entry {ghost}:") < message.index(f"entry {moved}:")
    # nothing changed: still the revision before, no key, every entry kept as it was
    assert _version() == BEFORE and _foreign_keys() == []
    with _db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM ledger_entries WHERE kind = 'pay'")).scalar() == 4
    # ``flask db upgrade`` says no too (exit 1)
    result = before_fk.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 1 and _version() == BEFORE


def test_entries_of_their_own_contracts_payments_upgrade(before_fk):
    make = Factory(_db)
    fin, alloc, mine, _sibling, _elsewhere, good = _world(make)
    _db.session.commit()
    fin, alloc, mine, good = fin.id, alloc.id, mine.id, good.payment_id
    _db.session.remove()
    _alembic(before_fk, "head")
    assert _version() == AFTER and _foreign_keys() == ["fk_ledger_entries_payment_id_payments"]
    assert bs.reconcile() == []
    with pytest.raises(sa.exc.IntegrityError, match="fk_ledger_entries_payment_id_payments"):
        bs.pay(_db.session.get(User, fin), alloc, "1.00", contract_id=mine, payment_id=987654)
    _db.session.rollback()
    # and back down: the key goes, the entries stay
    _alembic(before_fk, BEFORE, command.downgrade)
    assert _version() == BEFORE and _foreign_keys() == []
    with _db.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT payment_id FROM ledger_entries WHERE kind = 'pay'")).scalars().all() \
            == [good]
