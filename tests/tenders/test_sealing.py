"""Sealing (procure/sealing.py): round trip, a wrong or missing master key refused with a
clear message, any change to the ciphertext, the wrapped key or the bound data refused."""

from __future__ import annotations

import base64
import os
import stat

import pytest
from flask_babel import force_locale

from procure import create_app, sealing
from procure.errors import SealingKeyUnavailable, SealTampered
from procure.projects.models import ProcurementMethod
from procure.roles import Role
from procure.tenders import content
from procure.tenders.models import BidState, TenderState

from ..conftest import app_config


def _other_key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


def test_round_trip_and_tamper(app):
    with app.app_context():
        key = sealing.new_data_key()
        wrapped = sealing.wrap(key)
        assert key not in wrapped and len(key) == 32
        assert sealing.unwrap(wrapped) == key
        assert sealing.wrapped_key_id(wrapped) == sealing.master_key_id()
        plain = "报价 80000.00 元".encode()
        sealed = sealing.seal(key, plain, b"bid:1:2")
        assert plain not in sealed
        assert sealing.open_sealed(key, sealed, b"bid:1:2") == plain
        assert sealing.seal(key, plain, b"bid:1:2") != sealed  # a fresh nonce each time
        flipped = bytearray(sealed)
        flipped[-1] ^= 1
        with pytest.raises(SealTampered):
            sealing.open_sealed(key, bytes(flipped), b"bid:1:2")
        with pytest.raises(SealTampered):
            sealing.open_sealed(key, sealed, b"bid:1:3")  # moved to another bid
        with pytest.raises(SealTampered):
            sealing.open_sealed(sealing.new_data_key(), sealed, b"bid:1:2")
        with pytest.raises(SealTampered):
            sealing.open_sealed(key, sealed[:10], b"bid:1:2")
        bad_wrap = bytearray(wrapped)
        bad_wrap[-3] ^= 0x40
        with pytest.raises(SealTampered):
            sealing.unwrap(bytes(bad_wrap))


def test_wrong_master_key_is_told_apart_from_damage(app, services_ready):
    with app.app_context():
        wrapped = sealing.wrap(sealing.new_data_key())
    other = create_app("testing", **app_config(MASTER_KEY=_other_key()))
    with other.test_request_context(), force_locale("zh_CN"):
        with pytest.raises(SealingKeyUnavailable) as exc:
            sealing.unwrap(wrapped)
        assert "主密钥" in str(exc.value.message)


def test_missing_or_malformed_master_key(services_ready, tmp_path):
    missing = create_app("testing", **app_config(MASTER_KEY=None, MASTER_KEY_FILE=str(tmp_path / "none.key")))
    with missing.test_request_context(), force_locale("zh_CN"):
        with pytest.raises(SealingKeyUnavailable) as exc:
            sealing.wrap(sealing.new_data_key())
        assert "缺少投标密封主密钥" in str(exc.value.message)
    bad = create_app("testing", **app_config(MASTER_KEY="c2hvcnQ="))
    with bad.test_request_context(), force_locale("en"):
        with pytest.raises(SealingKeyUnavailable) as exc:
            sealing.master_key()
        assert "not valid" in str(exc.value.message)


def test_key_file_created_0600_and_used(services_ready, tmp_path):
    path = tmp_path / "keys" / "master.key"
    assert sealing.init_key_file(path) is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    first = path.read_text()
    assert sealing.init_key_file(path) is False and path.read_text() == first  # kept
    app = create_app("testing", **app_config(MASTER_KEY=None, MASTER_KEY_FILE=str(path)))
    with app.app_context():
        key = sealing.new_data_key()
        assert sealing.master_key() == base64.b64decode(first)
        assert sealing.unwrap(sealing.wrap(key)) == key
    runner = app.test_cli_runner()
    result = runner.invoke(args=["sealing", "init-key"])
    assert "exists; kept" in result.output and path.read_text() == first


def test_bid_bundle_sealed_in_the_database_with_its_receipt(app, db, make):
    officer = make.user(Role.OFFICER)
    org = make.organization()
    tender = make.tender(officer, state=TenderState.PUBLISHED)
    bundle = {"price": "81234.56", "proposal": "为高龄独居老人提供上门服务", "breakdown": [], "attachments": []}
    bid = make.bid(tender, org, state=BidState.SUBMITTED, content=bundle)
    make.commit()
    raw = db.session.execute(db.text("SELECT sealed_content, price FROM bids WHERE id = :id"), {"id": bid.id}).one()
    assert raw.price is None and b"81234.56" not in bytes(raw.sealed_content)
    assert "高龄".encode() not in bytes(raw.sealed_content)
    assert bid.sealed_sha256 == sealing.sha256_hex(content.canonical_bundle(bundle))
    assert content.open_bundle(tender, bid) == bundle
    bid.sealed_sha256 = "0" * 64  # the receipt no longer matches
    with pytest.raises(SealTampered):
        content.open_bundle(tender, bid)
    other = make.organization()
    bid.organization_id = other.id  # ciphertext moved to another organization's bid
    with pytest.raises(SealTampered):
        content.open_bundle(tender, bid, verify=False)
    db.session.rollback()
    assert tender.method == ProcurementMethod.PUBLIC_TENDER


def test_attachment_sealed_with_its_plaintext_hash(app, db, make):
    tender = make.tender(make.user(Role.OFFICER), state=TenderState.PUBLISHED)
    data = b"%PDF-1.4 proposal"
    sealed, digest = content.seal_attachment(tender, 7, data)
    assert data not in sealed and digest == sealing.sha256_hex(data)
    assert content.open_attachment(tender, 7, sealed, digest) == data
    with pytest.raises(SealTampered):
        content.open_attachment(tender, 8, sealed, digest)
