"""PDF signing foundation: the deployment CA (procure/signing.py), signers' certificates
with sealed keys, PAdES signatures and their validation (procure/pades.py, also checked
by the ``pyhanko sign validate`` command), QR codes (procure/qr.py) and the content hash
that a document's footer prints."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from procure import pades, signing
from procure.audit import AuditEvent
from procure.errors import SealTampered, SigningUnavailable, ValidationError
from procure.pdf import PdfFetcher, render_pdf_hashed
from procure.qr import qr_svg

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
PYHANKO = Path(sys.executable).parent / "pyhanko"
ORG = "同心社会工作服务中心"
DEPT = "上海市某区民政局"
PARAGRAPHS = ["甲方委托乙方提供社区养老助餐服务，服务期限十二个月。",
              "合同金额：人民币壹拾万元零伍分（¥100,000.05）。",
              "履约验收合格后支付尾款；绩效评价结果作为续约依据。"]


@pytest.fixture()
def ca_dir(app, tmp_path, monkeypatch):
    """A CA folder of this test's own (created by the test that needs one)."""
    folder = tmp_path / "ca"
    monkeypatch.setitem(app.config, "SIGNING_CA_DIR", str(folder))
    monkeypatch.setitem(app.config, "SIGNING_CA_CERT_FILE", None)
    monkeypatch.setitem(app.config, "SIGNING_CA_KEY_FILE", None)
    monkeypatch.setitem(app.config, "SIGNING_CA_PASSPHRASE", None)
    monkeypatch.setitem(app.config, "SIGNING_TSA_URL", None)
    return folder


@pytest.fixture()
def ca(app, ca_dir, db, request, monkeypatch):
    """The CA, of the algorithm a test names (``indirect`` parameter); else EC P-256, whose
    keys are made in microseconds (the tests that sign run with both)."""
    monkeypatch.setitem(app.config, "SIGNING_KEY_ALGORITHM", getattr(request, "param", "ec-p256"))
    assert signing.init_ca()
    return ca_dir


BOTH_ALGORITHMS = pytest.mark.parametrize("ca", ["rsa3072", "ec-p256"], indirect=True)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# -- the certificate authority ----------------------------------------------------------------
def test_init_ca_by_the_command_is_idempotent_and_the_key_is_private(app, ca_dir):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["signing", "init-ca"])
    assert first.exit_code == 0 and "written" in first.output, first.output
    cert, key = ca_dir / "ca.pem", ca_dir / "ca.key"
    assert _mode(key) == 0o600 and _mode(ca_dir) == 0o700
    before = (cert.read_bytes(), key.read_bytes())
    second = runner.invoke(args=["signing", "init-ca"])
    assert second.exit_code == 0 and "kept" in second.output
    assert (cert.read_bytes(), key.read_bytes()) == before  # nothing touched
    with app.app_context():
        loaded = signing.load_ca()
    ca_cert = loaded.certificate
    assert ca_cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    ca_cert.verify_directly_issued_by(ca_cert)  # self-signed
    assert b"PRIVATE KEY" in key.read_bytes() and b"ENCRYPTED" not in key.read_bytes()
    # --force makes a new CA.
    third = runner.invoke(args=["signing", "init-ca", "--force"])
    assert third.exit_code == 0 and cert.read_bytes() != before[0] and _mode(key) == 0o600
    assert [p.read_bytes() for p in (ca_dir / "retired").iterdir()] == [before[0]]


def test_a_passphrase_encrypts_the_ca_key_and_a_wrong_one_is_refused(app, ca_dir, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNING_CA_PASSPHRASE", "长口令 correct horse")
    with app.app_context():
        assert signing.init_ca()
        assert b"ENCRYPTED PRIVATE KEY" in (ca_dir / "ca.key").read_bytes()
        assert signing.load_ca().sha256 == signing.load_ca().certificate.fingerprint(hashes.SHA256()).hex()
        monkeypatch.setitem(app.config, "SIGNING_CA_PASSPHRASE", "wrong")
        with pytest.raises(SigningUnavailable, match="ca.key"):
            signing.load_ca()
        monkeypatch.setitem(app.config, "SIGNING_CA_PASSPHRASE", None)
        with pytest.raises(SigningUnavailable):
            signing.load_ca()


def test_a_missing_or_half_made_ca_is_a_clear_refusal(app, ca_dir):
    with app.app_context():
        with pytest.raises(SigningUnavailable, match="init-ca"):
            signing.load_ca()
        ca_dir.mkdir()
        (ca_dir / "ca.pem").write_text("not a certificate")
        with pytest.raises(SigningUnavailable, match="ca.key"):
            signing.init_ca()
        assert not (ca_dir / "ca.key").exists()
    refused = app.test_cli_runner().invoke(args=["signing", "init-ca"])
    assert refused.exit_code == 1 and "ca.key" in refused.output and "Traceback" not in refused.output


def _own_ca(folder: Path) -> tuple[Path, Path]:
    """A CA made outside Procure (what a deployment would configure)."""
    key = ec.generate_private_key(ec.SECP384R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "某市政府采购电子认证中心")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA384()))
    folder.mkdir(parents=True)
    cert_path, key_path = folder / "own-ca.crt", folder / "own-ca.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.BestAvailableEncryption(b"own-pass")))
    return cert_path, key_path


def test_a_configured_ca_of_the_deployment_issues_and_is_trusted(app, ca_dir, db, make, tmp_path, monkeypatch):
    cert_path, key_path = _own_ca(tmp_path / "own")
    monkeypatch.setitem(app.config, "SIGNING_CA_CERT_FILE", str(cert_path))
    monkeypatch.setitem(app.config, "SIGNING_CA_KEY_FILE", str(key_path))
    monkeypatch.setitem(app.config, "SIGNING_CA_PASSPHRASE", "own-pass")
    assert signing.init_ca() is False  # the configured CA exists: init-ca keeps it
    assert not ca_dir.exists()
    user = make.user()
    cred = signing.issue_credential(user, user.id, user.name, ORG)
    own = x509.load_pem_x509_certificate(cert_path.read_bytes())
    cred.certificate.verify_directly_issued_by(own)
    pdf = pades.sign_pdf(_plain_pdf(app), signing.signer_key(cred), field_name="Sig1")
    [result] = pades.validate_pdf(pdf)
    assert result.ok and result.trusted


# -- signers' certificates ------------------------------------------------------------------
def test_a_certificate_is_issued_for_a_person_on_behalf_of_an_organization(ca, db, make):
    user = make.user()
    cred = signing.issue_credential(user, user.id, "  王  小明 ", ORG)
    db.session.commit()
    cert = cred.certificate
    cert.verify_directly_issued_by(signing.load_ca().certificate)
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "王 小明"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == ORG
    assert cert.subject.get_attributes_for_oid(NameOID.USER_ID)[0].value == str(user.id)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    days = (cert.not_valid_after_utc - cert.not_valid_before_utc).days
    assert 729 <= days <= 731
    # The key is stored sealed, never in clear; it opens to the certificate's key.
    key = signing.signer_key(cred).key
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    row = db.session.execute(sa.text("SELECT sealed_private_key, wrapped_data_key FROM signing_credentials")).one()
    assert der not in bytes(row[0]) and der[-32:] not in bytes(row[0])
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()
    # Moved to another row (another serial), the sealed key does not open.
    other = signing.issue_credential(user, user.id, "王小明", DEPT)
    other.sealed_private_key, other.wrapped_data_key = cred.sealed_private_key, cred.wrapped_data_key
    with pytest.raises(SealTampered):
        signing.signer_key(other)
    db.session.rollback()
    # Audited.
    assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditEvent).where(
        AuditEvent.action == "signing_credential.issue")) == 1


def test_credential_for_reuses_a_valid_one_and_renews_when_names_or_the_ca_change(ca, db, make, app):
    user = make.user()
    first = signing.credential_for(user, user.id, "王小明", ORG)
    assert signing.credential_for(user, user.id, "王小明", ORG).id == first.id
    assert signing.credential_for(user, user.id, "王小明", DEPT).id != first.id
    assert signing.credential_for(user, user.id, "王晓明", ORG).id != first.id
    first.not_after = datetime.now(UTC).replace(tzinfo=None) + timedelta(days=10)  # about to expire
    renewed = signing.credential_for(user, user.id, "王小明", ORG)
    assert renewed.id != first.id
    signed = pades.sign_pdf(_plain_pdf(app), signing.signer_key(renewed), field_name="Before")
    signing.init_ca(force=True)  # a new CA: certificates of the old one are not reused ...
    newest = signing.credential_for(user, user.id, "王小明", ORG)
    assert newest.id != renewed.id
    # ... but what the old CA's certificates signed stays trusted (its certificate is retired, not gone).
    assert len(signing.trust_roots()) == 2
    [before] = pades.validate_pdf(signed)
    assert before.ok and before.trusted
    both = pades.sign_pdf(signed, signing.signer_key(newest), field_name="After")
    assert [r.ok for r in pades.validate_pdf(both)] == [True, True]


@pytest.mark.parametrize("name", ["", "   ", "王\x00小明", "x" * 201, "a\x1b[31mb"])
def test_bad_names_are_refused_and_nothing_is_written(ca, db, make, name):
    user = make.user()
    with pytest.raises(ValidationError):
        signing.issue_credential(user, user.id, name, ORG)
    with pytest.raises(ValidationError):
        signing.issue_credential(user, user.id, "王小明", name)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(signing.SigningCredential)) == 0


def test_an_imported_certificate_must_match_its_key(ca, db, make, tmp_path):
    user = make.user()
    cert_path, key_path = _own_ca(tmp_path / "party")  # any certificate + key pair will do
    cred = signing.import_credential(user, user.id, "王小明", ORG, cert_path.read_bytes(), key_path.read_bytes(),
                                     b"own-pass")
    assert cred.source == "imported" and signing.signer_key(cred).chain == ()
    other_key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with pytest.raises(ValidationError):
        signing.import_credential(user, user.id, "王小明", ORG, cert_path.read_bytes(), other_key)
    with pytest.raises(ValidationError):
        signing.import_credential(user, user.id, "王小明", ORG, cert_path.read_bytes(), key_path.read_bytes(), b"no")


# -- signing and validating ------------------------------------------------------------------
def _plain_pdf(app) -> bytes:
    with app.test_request_context():
        return render_pdf_hashed("pdf/signed_example.html", locale="zh_CN", title="测试文件", version=1,
                                 paragraphs=PARAGRAPHS[:1], parties=[], verify_url="https://p.example/v/1",
                                 qr=qr_svg("https://p.example/v/1")).pdf


@pytest.fixture()
def contract(app, ca):
    """A WeasyPrint-rendered Chinese document with the footer hash and QR code."""
    url = "https://procure.example.cn/v/7Kq2xZ"
    fetcher = PdfFetcher(app.static_folder)
    with app.test_request_context():
        doc = render_pdf_hashed("pdf/signed_example.html", locale="zh_CN", fetcher=fetcher,
                                title="政府购买服务合同（测试）", version=2, paragraphs=PARAGRAPHS,
                                parties=[("甲方（采购人）", DEPT), ("乙方（承接主体）", ORG)],
                                verify_url=url, qr=qr_svg(url))
    assert fetcher.refused == []  # the QR code and everything else came from the page itself
    return doc


def _two_signatures(db, make, pdf: bytes, timestamper=None) -> tuple[bytes, bytes, list[float]]:
    org_user, dept_user = make.user(), make.user()
    org_cred = signing.credential_for(org_user, org_user.id, "李华", ORG)
    dept_cred = signing.credential_for(dept_user, dept_user.id, "张伟", DEPT)
    db.session.commit()
    timings = []
    start = time.perf_counter()
    once = pades.sign_pdf(pdf, signing.signer_key(org_cred), field_name="Sig_organization", reason="合同签署",
                          location="上海", name="李华", timestamper=timestamper)
    timings.append(time.perf_counter() - start)
    start = time.perf_counter()
    twice = pades.sign_pdf(once, signing.signer_key(dept_cred), field_name="Sig_department", reason="合同签署",
                           location="上海", box=(360, 60, 540, 110), timestamper=timestamper)
    timings.append(time.perf_counter() - start)
    return once, twice, timings


def _pyhanko_validate(pdf: bytes, ca_pem: Path, tmp_path: Path, name: str) -> subprocess.CompletedProcess:
    path = tmp_path / name
    path.write_bytes(pdf)
    return subprocess.run([str(PYHANKO), "sign", "validate", "--trust", str(ca_pem), str(path)],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})


@BOTH_ALGORITHMS
def test_two_parties_sign_one_after_the_other_and_both_signatures_validate(app, db, make, ca, contract, tmp_path,
                                                                          request):
    once, twice, timings = _two_signatures(db, make, contract.pdf)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "signed-once.pdf").write_bytes(once)
    (ARTIFACTS / "signed-two-parties.pdf").write_bytes(twice)
    assert twice.startswith(contract.pdf) and twice.startswith(once)  # incremental updates only
    results = pades.validate_pdf(twice)
    assert [r.field_name for r in results] == ["Sig_organization", "Sig_department"]
    first, second = results
    assert (first.signer_name, first.organization) == ("李华", ORG)
    assert (second.signer_name, second.organization) == ("张伟", DEPT)
    for r in results:
        assert r.intact and r.valid and r.trusted and r.later_changes_ok and r.ok, r.summary
        assert r.signing_time is not None and abs(datetime.now(UTC) - r.signing_time) < timedelta(minutes=5)
        assert not r.timestamped
        assert r.revisions == 3
    assert not first.whole_document and second.whole_document  # the department signed after
    assert (first.revision, second.revision) == (1, 2)
    assert first.signed_version_sha256 == signing.sha256_hex(once)
    assert second.signed_version_sha256 == signing.sha256_hex(twice)
    # Every signed version traces back to the rendered PDF and its content hash.
    hashes_ = pades.revision_hashes(twice)
    assert signing.sha256_hex(contract.pdf) in hashes_[:2] and hashes_[-1] == signing.sha256_hex(twice)
    assert signing.sha256_hex(once) in hashes_
    assert signing.check_content_hash(contract.html, contract.content_sha256)
    assert not signing.check_content_hash(contract.html.replace("十二个月", "十三个月"), contract.content_sha256)
    # Untrusted: another CA's roots.
    stranger = x509.load_pem_x509_certificate(_own_ca(tmp_path / "stranger")[0].read_bytes())
    assert [r.trusted for r in pades.validate_pdf(twice, trust_roots=[stranger])] == [False, False]
    # A field already signed cannot be signed again.
    cred = signing.credential_for(make.user(), make.user().id, "赵六", ORG)
    with pytest.raises(ValidationError):
        pades.sign_pdf(twice, signing.signer_key(cred), field_name="Sig_organization")
    key = signing.load_ca().key
    assert isinstance(key, rsa.RSAPrivateKey if request.node.callspec.params["ca"] == "rsa3072"
                      else ec.EllipticCurvePrivateKey)
    print(f"\nsigning time per signature: {', '.join(f'{t * 1000:.0f} ms' for t in timings)}")


@BOTH_ALGORITHMS
def test_the_pyhanko_command_validates_both_signatures(app, db, make, ca, contract, tmp_path):
    _once, twice, _ = _two_signatures(db, make, contract.pdf)
    out = _pyhanko_validate(twice, ca / "ca.pem", tmp_path, "signed.pdf")
    assert out.returncode == 0, out.stdout + out.stderr
    # One line per signature: field:certificate SHA-256:INTACT:TRUSTED,<modifications>.
    lines = [line.split(":") for line in out.stdout.splitlines() if line.strip()]
    assert [parts[0] for parts in lines] == ["Sig_organization", "Sig_department"], out.stdout
    assert all(parts[2] == "INTACT" and parts[3].startswith("TRUSTED") for parts in lines), out.stdout
    # Poppler (the PDF engine of Evince, Okular and pdftoppm) checks them on its own (NSS):
    # both valid; the CA is not in its trust store, so it says nothing about trust.
    path = tmp_path / "signed.pdf"
    sig = subprocess.run(["pdfsig", str(path)], capture_output=True, text=True, timeout=60).stdout
    assert sig.count("Signature Validation: Signature is Valid.") == 2, sig
    assert "Signer full Distinguished Name: UID=" in sig and f"O={ORG}" in sig and f"O={DEPT}" in sig
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(_flip(twice, len(contract.pdf) // 2))
    sig = subprocess.run(["pdfsig", str(broken)], capture_output=True, text=True, timeout=60).stdout
    assert "Signature is Valid." not in sig and sig.count("Signature Validation:") == 2, sig
    # Without the CA among its roots the command refuses to call them trusted.
    other = _own_ca(tmp_path / "x")[0]
    assert _pyhanko_validate(twice, other, tmp_path, "untrusted.pdf").returncode != 0


def _flip(data: bytes, at: int) -> bytes:
    changed = bytearray(data)
    changed[at] ^= 0x01
    return bytes(changed)


@BOTH_ALGORITHMS
def test_one_changed_byte_breaks_the_signatures(app, db, make, ca, contract, tmp_path):
    once, twice, _ = _two_signatures(db, make, contract.pdf)
    # A byte of the rendered document (covered by both signatures) ...
    at = len(contract.pdf) // 2
    broken = _flip(twice, at)
    results = pades.validate_pdf(broken)
    assert len(results) == 2 and not any(r.intact for r in results) and not any(r.ok for r in results)
    assert _pyhanko_validate(broken, ca / "ca.pem", tmp_path, "broken.pdf").returncode != 0
    # ... a byte of the second signature's own signed part (its date): that one breaks, the first holds.
    at2 = twice.index(b"/M (D\\072", len(once)) + len(b"/M (D\\072") + 3  # a digit of the year
    broken2 = _flip(twice, at2)
    first, second = pades.validate_pdf(broken2)
    assert not second.intact and not second.ok
    assert first.ok  # a later broken signature does not change what the first one signed
    assert _pyhanko_validate(broken2, ca / "ca.pem", tmp_path, "broken2.pdf").returncode != 0
    # ... and a byte of the second signature value itself (outside the signed range): a finding, not a crash.
    contents_at = twice.index(b"/Contents <", len(once)) + len(b"/Contents <") + 40
    broken3 = _flip(twice, contents_at)
    assert [r.ok for r in pades.validate_pdf(broken3)] == [True, False]
    # The untouched file still passes (the test can tell the difference).
    assert all(r.ok for r in pades.validate_pdf(twice))


def test_a_file_that_is_not_a_pdf_is_a_clear_refusal(ca, contract):
    with pytest.raises(ValidationError):
        pades.validate_pdf(b"%PDF-1.7\n garbage \x00\x01")
    assert pades.validate_pdf(contract.pdf) == []  # unsigned: nothing to report
    with pytest.raises(ValidationError):
        pades.sign_pdf(b"not a pdf", None, field_name="Sig")
    with pytest.raises(ValidationError):
        pades.sign_pdf(contract.pdf, None, field_name="签名 1")


def test_damaged_and_hostile_files_are_findings_or_clear_refusals(app, db, make, ca, contract):
    _once, twice, _ = _two_signatures(db, make, contract.pdf)
    cases = {
        "truncated": twice[: len(twice) * 3 // 4],
        "random": os.urandom(200_000),
        "empty": b"",
        "garbage appended": twice + b"\n% appended after signing\n" + os.urandom(1000),
        "nul bytes": twice.replace(b"/Type /Sig", b"/Type /\x00ig", 1),
    }
    for name, data in cases.items():
        try:
            results = pades.validate_pdf(data)
        except ValidationError:
            continue  # refused with a message: fine
        assert not all(r.ok and r.whole_document for r in results) or not results, name
    assert [r.ok for r in pades.validate_pdf(twice)] == [True, True]


def _tsa(ca: signing.CertificateAuthority):
    """A local RFC 3161 time-stamping authority whose certificate the CA issued."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.timestamps import DummyTimeStamper

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)  # pyHanko's test TSA is RSA-only
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")]))
            .issuer_name(ca.certificate.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(hours=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
            .sign(ca.key, hashes.SHA256()))
    return DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(key.private_bytes(
            serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())),
        certs_to_embed=[asn1_x509.Certificate.load(ca.certificate.public_bytes(serialization.Encoding.DER))])


def test_with_a_timestamp_authority_signatures_are_b_t(app, db, make, ca, contract, tmp_path):
    _once, twice, _ = _two_signatures(db, make, contract.pdf, timestamper=_tsa(signing.load_ca()))
    results = pades.validate_pdf(twice)
    assert all(r.timestamped and r.ok for r in results), [r.summary for r in results]
    out = _pyhanko_validate(twice, ca / "ca.pem", tmp_path, "bt.pdf")
    assert out.returncode == 0 and out.stdout.count("TIMESTAMP_TOKEN<INTACT:TRUSTED>") == 2, out.stdout + out.stderr


def test_the_configured_tsa_url_is_used(app, ca, monkeypatch):
    monkeypatch.setitem(app.config, "SIGNING_TSA_URL", "http://tsa.invalid/tsr")
    with app.app_context():
        ts = pades.configured_timestamper()
    assert ts is not None and ts.url == "http://tsa.invalid/tsr"
    monkeypatch.setitem(app.config, "SIGNING_TSA_URL", None)
    with app.app_context():
        assert pades.configured_timestamper() is None


# -- QR code and footer hash in the rendered PDF -------------------------------------------
def test_the_qr_code_and_the_footer_hash_render_in_the_pdf(contract, tmp_path):
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(contract.pdf)
    text = "".join(subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], check=True,
                                  capture_output=True, text=True).stdout.split())
    assert "政府购买服务合同" in text and ORG in text and DEPT in text
    assert contract.content_sha256 in text  # footer and verification block
    assert signing.CONTENT_HASH_SLOT not in text
    assert "procure.example.cn/v/7Kq2xZ" in text
    ARTIFACTS.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "100", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
                   check=True)
    png = next(tmp_path.glob("page-*1.png"))
    shutil.copy(png, ARTIFACTS / "signed-example-1.png")
    # Non-blank where the QR code is: many dark pixels (pdftoppm -gray for a plain count).
    subprocess.run(["pdftoppm", "-gray", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "gray")],
                   check=True)
    pgm = next(tmp_path.glob("gray-*1.pgm")).read_bytes()
    pixels = pgm.split(b"\n", 3)[3]
    dark = sum(1 for b in pixels if b < 100)
    assert dark > 1500, dark  # text plus a 25 mm QR code (~half of its 49 × 49 px dark)


def test_qr_svg_is_self_contained_and_refuses_bad_text():
    svg = str(qr_svg("https://procure.example.cn/v/7Kq2xZ", size_mm=20))
    assert svg.startswith('<svg style="width:20mm;height:20mm"') and "viewBox" in svg
    assert "href" not in svg and "http" not in svg.split(">", 1)[1]  # no link or image inside
    for bad in ("", "x" * 201, "a\x00b"):
        with pytest.raises(ValidationError):
            qr_svg(bad)


def test_signing_and_validating_inside_a_running_event_loop(app, db, make, ca, contract):
    """pyHanko's synchronous calls start their own event loop; called from code that runs
    one (an async server, a browser-driving test session) they still sign and validate."""
    import asyncio

    user = make.user()
    key = signing.signer_key(signing.credential_for(user, user.id, "李华", ORG))
    db.session.commit()

    def sign_and_validate():
        signed = pades.sign_pdf(contract.pdf, key, field_name="Sig_organization", reason="合同签署")
        return pades.validate_pdf(signed, [signing.ca_certificate()])

    async def inside_a_loop():
        return sign_and_validate()

    try:  # a browser test's session may already run a loop in this thread: then we are inside one
        asyncio.get_running_loop()
    except RuntimeError:
        results = asyncio.run(inside_a_loop())
    else:
        results = sign_and_validate()
    assert [r.ok for r in results] == [True]
