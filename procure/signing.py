"""The deployment's certificate authority, the signing certificates it issues to the
people who sign for an organization or a department, and the content hash that a signed
document's footer carries. The PDF signatures themselves are made and checked in
:mod:`procure.pades` (pyHanko); this module needs only the ``cryptography`` package.

Certificate authority
    ``flask signing init-ca`` creates a key (RSA 3072 by default, EC P-256 with
    ``SIGNING_KEY_ALGORITHM = "ec-p256"``) and a self-signed CA certificate
    (20 years) in ``SIGNING_CA_DIR`` (default ``instance/signing-ca``): ``ca.key``
    (PKCS#8 PEM, mode 0600, encrypted when ``SIGNING_CA_PASSPHRASE`` is set) and
    ``ca.pem``. It is idempotent: an existing CA is kept (``--force`` replaces it and
    keeps the old certificate under ``retired/``, still a trust root for what it signed,
    :func:`trust_roots`). A deployment with its own CA
    names its files instead (``SIGNING_CA_CERT_FILE``, ``SIGNING_CA_KEY_FILE``, the
    passphrase as above); the CA certificate is then also the trust root that
    :func:`procure.pades.validate_pdf` uses by default (:func:`trust_roots`).

Signing certificates (:class:`SigningCredential`, table ``signing_credentials``)
    One per person *on behalf of* an organization or department: subject
    ``CN=<person>, O=<organization or department>``, a fresh key (same algorithm), valid
    ``SIGNING_CERT_DAYS`` (730), key usage digital signature + non-repudiation (what
    PDF validators ask of a signer). :func:`credential_for` reuses a stored one while it
    is valid for at least 30 more days and was issued by the current CA, else issues a
    new one. Why a table and not files: the web workers and the Celery workers that sign
    may run on different machines and share only the database. The private key is never
    stored in clear: it is sealed exactly like bid contents (:mod:`procure.sealing`) — a
    random data key per credential, wrapped by the master key, and the PKCS#8 DER key
    sealed under it (AES-GCM) with the credential's serial number as associated data, so
    the database and its backups hold ciphertext only, and a key copied to another row
    does not open. A deployment that hands each party a certificate of its own stores it
    with :func:`import_credential` (same sealing).

Content hash (what the footer prints)
    A document cannot print the SHA-256 of its own PDF bytes, and signing adds bytes
    anyway. The footer therefore carries the **content hash**: the SHA-256 of the
    document's rendered HTML (UTF-8) in which every place that prints the hash holds
    :data:`CONTENT_HASH_SLOT` instead. :func:`stamp_content_hash` computes it and puts it
    into those places; :func:`check_content_hash` recomputes it from the final HTML (put
    the slot back where the hash stands, hash again), so a stored HTML can always be
    proven to be the content a footer names. A hash *typed in* on the verification page
    is looked up among the stored content hashes of document versions.

    A PDF *uploaded* there is recognized by bytes: each stored version keeps the SHA-256
    of its unsigned PDF and of each signed state. Because every signature is an
    incremental update (:mod:`procure.pades`), the unsigned PDF is an exact prefix of
    every signed one: :func:`procure.pades.revision_hashes` lists the SHA-256 of every
    revision prefix of an upload, so a copy signed once, twice, or signed and then
    altered is still traced to its version, and its signatures then say whether what
    was added after that version is genuine.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, ForeignKey, Index, LargeBinary, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from . import audit, sealing
from .errors import SigningUnavailable, ValidationError
from .extensions import db
from .timeutil import utcnow

#: Validity of the CA certificate that ``init-ca`` creates.
CA_DAYS = 20 * 365
#: Default validity of an issued signing certificate (``SIGNING_CERT_DAYS``).
CERT_DAYS = 730
#: A stored certificate is reused only while it stays valid this much longer.
REUSE_MARGIN = timedelta(days=30)
#: Longest person or organization name put in a certificate (X.520 ub-name is 32768,
#: but 200 keeps certificates readable and matches the table).
NAME_MAX = 200

#: Stands where the content hash will be printed while the hash is computed (64
#: characters, as long as the hash, so the layout does not move).
CONTENT_HASH_SLOT = "#" * 64


#: Key algorithms (``SIGNING_KEY_ALGORITHM``). RSA 3072 is the default: every PDF reader
#: that checks signatures knows it, and the file stays PDF 1.7 (pyHanko marks a file
#: signed with an EC key as using the ISO 32002 extension of PDF 2.0). EC P-256 signs and
#: makes keys faster. Either way SHA-256.
KEY_ALGORITHMS = ("rsa3072", "ec-p256")

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


def new_key() -> PrivateKey:
    """A fresh private key of the configured algorithm."""
    algorithm = current_app.config.get("SIGNING_KEY_ALGORITHM") or "rsa3072"
    if algorithm == "ec-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "rsa3072":
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    raise _unavailable(f"SIGNING_KEY_ALGORITHM must be one of {', '.join(KEY_ALGORITHMS)}")


# -- the certificate authority -------------------------------------------------------------
def ca_paths() -> tuple[Path, Path]:
    """(certificate, key) files of the CA: the configured ones, else ``SIGNING_CA_DIR``'s
    ``ca.pem`` and ``ca.key`` (default directory ``instance/signing-ca``)."""
    conf = current_app.config
    folder = Path(conf.get("SIGNING_CA_DIR") or Path(current_app.instance_path) / "signing-ca")
    cert = conf.get("SIGNING_CA_CERT_FILE") or folder / "ca.pem"
    key = conf.get("SIGNING_CA_KEY_FILE") or folder / "ca.key"
    return Path(cert), Path(key)


def _passphrase() -> bytes | None:
    value = current_app.config.get("SIGNING_CA_PASSPHRASE")
    if not value:
        return None
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def _write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with mode 0600 from the first byte on (temp file + rename)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def init_ca(*, force: bool = False, common_name: str | None = None) -> bool:
    """Create the CA key and self-signed certificate unless both exist (then False and
    nothing is touched; ``force`` replaces them — every certificate issued before then
    no longer chains to the new CA). A half-made CA (one file only) is refused."""
    cert_path, key_path = ca_paths()
    if not force and (cert_path.exists() or key_path.exists()):
        if cert_path.exists() and key_path.exists():
            return False
        raise SigningUnavailable(_l("The signing certificate authority is incomplete: one of its files is "
                                    "missing (%(path)s). Ask the system administrator to restore it.",
                                    path=str(key_path if cert_path.exists() else cert_path)))
    name = common_name or current_app.config.get("SIGNING_CA_NAME") or "Procure Signing CA"
    key = new_key()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name[:64]),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Procure")])
    now = datetime.now(UTC)
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(ski, critical=False)
            .sign(key, hashes.SHA256()))
    passphrase = _passphrase()
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    key_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    cert_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    _retire(cert_path)
    _write_private(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               encryption))
    tmp = cert_path.with_name(cert_path.name + ".tmp")
    tmp.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(tmp, cert_path)
    return True


def _retired_dir(cert_path: Path) -> Path:
    return cert_path.parent / "retired"


def _retire(cert_path: Path) -> None:
    """Keep the certificate of a CA being replaced (``--force``) under ``retired/``: what it
    signed stays verifiable (:func:`trust_roots`), while it issues nothing more."""
    try:
        old = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError):
        return
    folder = _retired_dir(cert_path)
    folder.mkdir(mode=0o700, exist_ok=True)
    fingerprint = old.fingerprint(hashes.SHA256()).hex()
    (folder / f"ca-{fingerprint[:16]}.pem").write_bytes(old.public_bytes(serialization.Encoding.PEM))


@dataclass(frozen=True)
class CertificateAuthority:
    certificate: x509.Certificate
    key: PrivateKey

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the CA certificate (DER): which CA issued a stored credential."""
        return self.certificate.fingerprint(hashes.SHA256()).hex()

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)


def _unavailable(detail: str) -> SigningUnavailable:
    return SigningUnavailable(_l("Documents cannot be signed now: the signing certificate authority is not "
                                 "available (%(detail)s). Ask the system administrator to set it up "
                                 "(flask signing init-ca) or to check its configuration.", detail=detail))


def ca_certificate() -> x509.Certificate:
    """The CA certificate (the first certificate of the CA file)."""
    cert_path, _key = ca_paths()
    try:
        return x509.load_pem_x509_certificate(cert_path.read_bytes())
    except OSError:
        raise _unavailable(f"no certificate at {cert_path}") from None
    except ValueError:
        raise _unavailable(f"{cert_path} is not a PEM certificate") from None


def load_ca() -> CertificateAuthority:
    """The CA's certificate and private key (decrypted with ``SIGNING_CA_PASSPHRASE``).
    SigningUnavailable when a file is missing, malformed, the passphrase is wrong, or the
    key does not belong to the certificate."""
    cert = ca_certificate()
    _cert, key_path = ca_paths()
    try:
        data = key_path.read_bytes()
    except OSError:
        raise _unavailable(f"no key at {key_path}") from None
    try:
        key = serialization.load_pem_private_key(data, password=_passphrase())
    except (ValueError, TypeError):
        raise _unavailable(f"the key at {key_path} cannot be read (wrong passphrase?)") from None
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    if (key.public_key().public_bytes(serialization.Encoding.DER, pub)
            != cert.public_key().public_bytes(serialization.Encoding.DER, pub)):
        raise _unavailable("the key does not belong to the certificate")
    return CertificateAuthority(cert, key)


def trust_roots() -> list[x509.Certificate]:
    """The certificates a signature made here must chain to: the CA's, and those of the
    CAs it replaced (``retired/`` beside it), so documents signed before stay trusted."""
    roots = [ca_certificate()]
    cert_path, _key = ca_paths()
    for path in sorted(_retired_dir(cert_path).glob("ca-*.pem")):
        try:
            roots.append(x509.load_pem_x509_certificate(path.read_bytes()))
        except (OSError, ValueError):
            continue
    return roots


# -- signing credentials ---------------------------------------------------------------------
class SigningCredential(db.Model):
    """A person's signing certificate on behalf of an organization or department, with its
    private key sealed under the master key (module docstring)."""

    __tablename__ = "signing_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), nullable=False)
    #: The subject: CN (person) and O (organization or department), as issued.
    person_name: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False)
    organization: Mapped[str] = mapped_column(String(NAME_MAX), nullable=False)
    #: Certificate serial number (hex) and the certificate itself (PEM).
    serial: Mapped[str] = mapped_column(String(48), nullable=False, unique=True)
    certificate_pem: Mapped[str] = mapped_column(Text, nullable=False)
    #: The key's data key wrapped by the master key, and the PKCS#8 DER key sealed by it.
    wrapped_data_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    sealed_private_key: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)
    #: Hex SHA-256 of the issuing CA's certificate; "issued" here or "imported".
    ca_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False, default="issued")
    not_before: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    not_after: Mapped[datetime] = mapped_column(DateTime, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (Index("ix_signing_credentials_user_org", "user_id", "organization"),)

    def snapshot(self) -> dict:
        return {"user_id": self.user_id, "person_name": self.person_name, "organization": self.organization,
                "serial": self.serial, "source": self.source, "not_after": self.not_after.isoformat(),
                "revoked": self.revoked_at is not None}

    @property
    def certificate(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.certificate_pem.encode("ascii"))


def _aad(serial: str) -> bytes:
    return b"signing-key:" + serial.encode("ascii")


def _clean_name(value: str, field: str) -> str:
    text = " ".join(str(value or "").split())
    if not text or len(text) > NAME_MAX or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ValidationError(_l("A signer's name and organization must be given, in plain text of at most "
                                 "%(n)s characters.", n=NAME_MAX), field=field)
    return text


def _naive(dt: datetime) -> datetime:
    return dt.astimezone(UTC).replace(tzinfo=None) if dt.tzinfo else dt


def _store(actor, user_id: int, person: str, organization: str, cert: x509.Certificate, key,
           *, ca_sha256: str, source: str) -> SigningCredential:
    serial = format(cert.serial_number, "x")
    der = key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    data_key = sealing.new_data_key()
    row = SigningCredential(
        user_id=user_id, person_name=person, organization=organization, serial=serial,
        certificate_pem=cert.public_bytes(serialization.Encoding.PEM).decode("ascii"),
        wrapped_data_key=sealing.wrap(data_key), sealed_private_key=sealing.seal(data_key, der, _aad(serial)),
        ca_sha256=ca_sha256, source=source, not_before=_naive(cert.not_valid_before_utc),
        not_after=_naive(cert.not_valid_after_utc))
    db.session.add(row)
    db.session.flush()
    audit.record(actor, "signing_credential.issue" if source == "issued" else "signing_credential.import",
                 row, after=row.snapshot())
    return row


def new_certificate(ca: CertificateAuthority, person: str, organization: str, uid: str, *,
                    days: int | None = None) -> tuple[x509.Certificate, PrivateKey]:
    """A fresh key and its certificate ``CN=person, O=organization, UID=uid`` signed by
    ``ca`` (names already checked; nothing stored)."""
    key = new_key()
    now = datetime.now(UTC)
    days = int(days or current_app.config.get("SIGNING_CERT_DAYS") or CERT_DAYS)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, person),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
                         x509.NameAttribute(NameOID.USER_ID, uid)])
    not_after = min(now + timedelta(days=days), ca.certificate.not_valid_after_utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(ca.certificate.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(not_after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.certificate.public_key()),
                           critical=False)
            .sign(ca.key, hashes.SHA256()))
    return cert, key


def issue_credential(actor, user_id: int, person_name: str, organization: str, *,
                     days: int | None = None) -> SigningCredential:
    """Issue a new signing certificate ``CN=person_name, O=organization`` for ``user_id``
    from the CA and store it (key sealed). Flushes, audits; the caller commits."""
    person = _clean_name(person_name, "person_name")
    org = _clean_name(organization, "organization")
    ca = load_ca()
    cert, key = new_certificate(ca, person, org, str(user_id), days=days)
    return _store(actor, user_id, person, org, cert, key, ca_sha256=ca.sha256, source="issued")


def import_credential(actor, user_id: int, person_name: str, organization: str, certificate_pem: bytes,
                      key_pem: bytes, passphrase: bytes | None = None) -> SigningCredential:
    """Store a certificate and key that the deployment gives a party (PEM; the key may be
    encrypted with ``passphrase``). Refused when the key is not the certificate's."""
    person = _clean_name(person_name, "person_name")
    org = _clean_name(organization, "organization")
    try:
        cert = x509.load_pem_x509_certificate(bytes(certificate_pem))
        key = serialization.load_pem_private_key(bytes(key_pem), password=passphrase)
    except (ValueError, TypeError):
        raise ValidationError(_l("The certificate or its key cannot be read (PEM expected; is the passphrase "
                                 "right?).")) from None
    pub = serialization.PublicFormat.SubjectPublicKeyInfo
    if (key.public_key().public_bytes(serialization.Encoding.DER, pub)
            != cert.public_key().public_bytes(serialization.Encoding.DER, pub)):
        raise ValidationError(_l("The key does not belong to the certificate."))
    issuer = hashlib.sha256(cert.issuer.public_bytes()).hexdigest()
    return _store(actor, user_id, person, org, cert, key, ca_sha256=issuer, source="imported")


def credential_for(actor, user_id: int, person_name: str, organization: str) -> SigningCredential:
    """The credential ``user_id`` signs with for ``organization``: a stored one (not
    revoked, same names, valid for 30 more days, issued by the current CA or imported),
    else a newly issued one."""
    person = _clean_name(person_name, "person_name")
    org = _clean_name(organization, "organization")
    ca_sha = CertificateAuthority(ca_certificate(), None).sha256
    rows = db.session.scalars(select(SigningCredential).where(
        SigningCredential.user_id == user_id, SigningCredential.organization == org,
        SigningCredential.person_name == person, SigningCredential.revoked_at.is_(None),
        SigningCredential.not_after > utcnow() + REUSE_MARGIN).order_by(SigningCredential.id.desc()))
    for row in rows:
        if row.source == "imported" or row.ca_sha256 == ca_sha:
            return row
    return issue_credential(actor, user_id, person, org)


@dataclass(frozen=True)
class SignerKey:
    """What a signature needs: the signer's certificate and private key, and the chain
    up to (and including) the CA, as ``cryptography`` objects."""

    certificate: x509.Certificate
    key: object
    chain: tuple[x509.Certificate, ...] = ()


def signer_key(credential: SigningCredential) -> SignerKey:
    """The credential's key, unsealed (SealingKeyUnavailable / SealTampered as sealing
    raises them), with the CA certificate as its chain when the CA issued it."""
    der = sealing.open_sealed(sealing.unwrap(credential.wrapped_data_key), credential.sealed_private_key,
                              _aad(credential.serial))
    # The key was authenticated by AES-GCM on the way out of the table: the (slow, for RSA)
    # consistency check of a key from an unknown source is not needed.
    key = serialization.load_der_private_key(der, password=None, unsafe_skip_rsa_key_validation=True)
    chain: tuple[x509.Certificate, ...] = ()
    if credential.source == "issued":
        chain = (ca_certificate(),)
    return SignerKey(credential.certificate, key, chain)


# -- content hash ----------------------------------------------------------------------------
def content_sha256(html_with_slot: str) -> str:
    """The content hash of a rendered document whose hash places hold the slot."""
    return hashlib.sha256(html_with_slot.encode("utf-8")).hexdigest()


def stamp_content_hash(html_with_slot: str) -> tuple[str, str]:
    """(final HTML, content hash): the hash of ``html_with_slot`` put in place of every
    :data:`CONTENT_HASH_SLOT`. Render the template with ``content_sha256=CONTENT_HASH_SLOT``."""
    digest = content_sha256(html_with_slot)
    return html_with_slot.replace(CONTENT_HASH_SLOT, digest), digest


def check_content_hash(final_html: str, digest: str) -> bool:
    """Whether ``digest`` is the content hash that ``final_html`` carries."""
    digest = (digest or "").strip().lower()
    if len(digest) != 64 or digest not in final_html:
        return False
    return content_sha256(final_html.replace(digest, CONTENT_HASH_SLOT)) == digest


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of bytes (a PDF file as uploaded)."""
    return hashlib.sha256(bytes(data)).hexdigest()
