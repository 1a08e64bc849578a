"""PDF signatures (PAdES, with pyHanko) and their validation.

:func:`sign_pdf` adds one signature to a PDF as an **incremental update**: the bytes
already there (the rendered document, earlier signatures) are kept as they are and the
new revision is appended, so two parties signing one after the other leave two valid
signatures, and the unsigned PDF stays an exact prefix of every signed version
(:func:`revision_hashes`). The signature is PAdES baseline B-B (CMS with the
signing-certificate-v2 attribute, subfilter ``ETSI.CAdES.detached``, SHA-256); with a
time-stamping authority configured (``SIGNING_TSA_URL``, RFC 3161 over HTTP) it is
B-T: the signature carries a trusted timestamp. Approval signatures, not certification:
a later signature is an allowed change for an earlier one.

:func:`validate_pdf` checks every signature of a PDF against the trust roots (by default
the deployment's CA, :func:`procure.signing.trust_roots`) without fetching anything
(the CA publishes no revocation lists; revocation is soft-fail) and answers, per
signature, who signed for whom, when, and whether the bytes are intact, the signature
valid and trusted, and what it covers. The same files pass
``pyhanko sign validate --trust ca.pem --trust-replace file.pdf`` and open as signed in
any PDF reader that is told to trust the CA.

Usage (in an app context)::

    cred = signing.credential_for(actor, user.id, user.name, org.name)
    pdf = pades.sign_pdf(pdf, signing.signer_key(cred), field_name="Sig_org",
                         reason="合同签署", location="上海")
    results = pades.validate_pdf(pdf)     # [SignatureResult, ...] in signing order
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from io import BytesIO

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import ECDSA, EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from flask import current_app
from flask_babel import lazy_gettext as _l
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.diff_analysis import ModificationLevel
from pyhanko.sign.fields import enumerate_sig_fields
from pyhanko.sign.general import SigningError, get_pyca_cryptography_hash
from pyhanko.sign.timestamps import HTTPTimeStamper, TimeStamper
from pyhanko.sign.validation import EmbeddedPdfSignature, validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from .errors import ValidationError
from .signing import SignerKey
from .signing import trust_roots as default_trust_roots

#: A signature field's name: what PDF readers show in their signature panel.
FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,63}$")


def _asn1_cert(cert: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


def _asn1_key(key) -> asn1_keys.PrivateKeyInfo:
    return asn1_keys.PrivateKeyInfo.load(key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


class _LoadedKeySigner(signers.SimpleSigner):
    """pyHanko's SimpleSigner with the key kept loaded: its own ``sign_raw`` parses the
    key again for every raw signature (twice per PDF signature: the size estimate and the
    signature), and parsing an RSA key checks it, ~150 ms for 3072 bits."""

    def __init__(self, key, **kw):
        super().__init__(**kw)
        self._key = key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        spec = self.get_signature_mechanism_for_digest(digest_algorithm)
        try:  # as pyHanko's own sign_raw reads it
            mechanism = spec.signature_algo
        except ValueError:
            mechanism = spec["algorithm"].native
        hash_algo = get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "rsassa_pkcs1v15" and isinstance(self._key, RSAPrivateKey):
            return self._key.sign(data, PKCS1v15(), hash_algo)
        if mechanism == "ecdsa" and isinstance(self._key, EllipticCurvePrivateKey):
            return self._key.sign(data, ECDSA(hash_algo))
        return super().sign_raw(data, digest_algorithm)


def _outside_event_loop(fn, *args, **kwargs):
    """``fn(*args, **kwargs)``, in a helper thread when this thread runs an asyncio event
    loop: pyHanko's synchronous calls use ``asyncio.run``, which refuses to start inside
    a running loop (an async server, or a test session driving a browser)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args, **kwargs).result()


def configured_timestamper() -> TimeStamper | None:
    """The RFC 3161 time-stamping authority of ``SIGNING_TSA_URL``, if one is configured."""
    url = current_app.config.get("SIGNING_TSA_URL")
    return HTTPTimeStamper(url, timeout=int(current_app.config.get("SIGNING_TSA_TIMEOUT", 10))) if url else None


def sign_pdf(pdf_bytes: bytes, signer_cert_key: SignerKey, *, field_name: str, reason: str | None = None,
             location: str | None = None, name: str | None = None, box: tuple[int, int, int, int] | None = None,
             page: int = 0, timestamper: TimeStamper | None = None) -> bytes:
    """``pdf_bytes`` with one more PAdES signature by ``signer_cert_key``, in a new field
    ``field_name`` (refused if that field is already signed).

    Invisible by default; with ``box`` (x1, y1, x2, y2 in PDF points from the bottom
    left of page ``page``, 0-based) the field is visible there with a small "Digitally
    signed / time" stamp (ASCII: the Chinese names belong in the document's own
    signature block, which the box may overlay). ``reason``, ``location`` and ``name``
    go into the signature dictionary (readers show them). ``timestamper`` overrides
    ``SIGNING_TSA_URL`` (tests pass a local one)."""
    if not FIELD_NAME.match(field_name or ""):
        raise ValidationError(_l("A signature field name must be a letter followed by at most 63 letters, "
                                 "digits, dots, dashes or underscores."))
    try:
        writer = IncrementalPdfFileWriter(BytesIO(bytes(pdf_bytes)))
    except (PdfError, ValueError) as exc:
        raise ValidationError(_l("The file is not a PDF that can be signed (%(error)s).", error=exc)) from None
    chain = SimpleCertificateStore.from_certs([_asn1_cert(c) for c in signer_cert_key.chain])
    signer = _LoadedKeySigner(signer_cert_key.key, signing_cert=_asn1_cert(signer_cert_key.certificate),
                              signing_key=_asn1_key(signer_cert_key.key), cert_registry=chain)
    meta = signers.PdfSignatureMetadata(
        field_name=field_name, reason=reason or None, location=location or None, name=name or None,
        md_algorithm="sha256", subfilter=fields.SigSeedSubFilter.PADES)
    spec = fields.SigFieldSpec(field_name, on_page=page, box=box) if box else fields.SigFieldSpec(field_name)
    ts = timestamper if timestamper is not None else configured_timestamper()
    pdf_signer = signers.PdfSigner(
        meta, signer, timestamper=ts, new_field_spec=spec,
        stamp_style=TextStampStyle(stamp_text="Digitally signed\n%(ts)s", border_width=1) if box else None)
    out = BytesIO()
    try:
        _outside_event_loop(pdf_signer.sign_pdf, writer, output=out)  # room for the CMS: pyHanko estimates it
    except SigningError as exc:
        raise ValidationError(_l("The document could not be signed (%(error)s).", error=exc)) from None
    return out.getvalue()


@dataclass(frozen=True)
class SignatureResult:
    """One signature of a PDF, as :func:`validate_pdf` judged it."""

    field_name: str
    #: From the signer's certificate: CN (person), O (organization or department), UID
    #: (the user id when the CA issued it), serial number (hex).
    signer_name: str | None
    organization: str | None
    user_id: str | None
    serial: str
    #: When it was signed (aware, UTC): the trusted timestamp's time if there is one,
    #: else the time the signer claimed.
    signing_time: datetime | None
    timestamped: bool
    #: The signed bytes match the signature; the signature is mathematically valid;
    #: the certificate chains to a trust root (and the timestamp, if any, is all three).
    intact: bool
    valid: bool
    trusted: bool
    #: The signature covers the whole file (nothing was added after it).
    whole_document: bool
    #: The revision this signature signed (0 = first), and how many revisions the file has.
    revision: int
    revisions: int
    #: What was added after the signature is allowed (further signatures, form filling).
    later_changes_ok: bool
    #: Hex SHA-256 of the file as it was right after this signature (its signed version).
    signed_version_sha256: str
    #: pyHanko's one-line summary (for logs and support).
    summary: str

    @property
    def ok(self) -> bool:
        """The signature is genuine, by a trusted signer, and nothing added later harms it."""
        return self.intact and self.valid and self.trusted and self.later_changes_ok


def _name_part(cert: asn1_x509.Certificate, key: str) -> str | None:
    value = cert.subject.native.get(key)
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value is not None else None


def _validation_context(roots: list) -> ValidationContext:
    return ValidationContext(trust_roots=roots, allow_fetching=False, revocation_mode="soft-fail")


def validate_pdf(pdf_bytes: bytes, trust_roots: list[x509.Certificate] | None = None) -> list[SignatureResult]:
    """Every signature of ``pdf_bytes``, in signing order, checked against ``trust_roots``
    (default: the deployment CA). An empty list: the PDF has no signature. A signature
    that cannot even be parsed (damaged, or of a kind pyHanko does not know) comes last,
    with every check False and the reason in ``summary``. ValidationError when the file
    is not a readable PDF at all."""
    data = bytes(pdf_bytes)
    roots = [_asn1_cert(c) for c in (trust_roots if trust_roots is not None else default_trust_roots())]
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        revisions = reader.xrefs.total_revisions
        found = list(enumerate_sig_fields(reader, filled_status=True))
    except (PdfError, ValueError, KeyError, TypeError) as exc:
        raise ValidationError(_l("The file is not a readable PDF (%(error)s).", error=exc)) from None
    readable, broken = [], []
    for index, (fq_name, _value, field_ref) in enumerate(found):
        try:  # parses the signature's CMS: a damaged one must not hide the others
            readable.append(EmbeddedPdfSignature(reader, field_ref, fq_name))
        except Exception as exc:  # noqa: BLE001 - a damaged signature is a finding, not a crash
            broken.append(_unreadable(fq_name, index, revisions, exc))
    results = []
    for index, sig in enumerate(sorted(readable, key=lambda s: s.signed_revision)):
        try:
            results.append(_judge(sig, data, roots, revisions))
        except Exception as exc:  # noqa: BLE001
            results.append(_unreadable(sig.field_name, index, revisions, exc, getattr(sig, "signed_revision", 0)))
    return results + broken


def _unreadable(field_name, index: int, revisions: int, exc: Exception, revision: int = 0) -> SignatureResult:
    return SignatureResult(
        field_name=str(field_name or f"#{index + 1}"), signer_name=None, organization=None, user_id=None,
        serial="", signing_time=None,
        timestamped=False, intact=False, valid=False, trusted=False, whole_document=False,
        revision=int(revision or 0), revisions=int(revisions), later_changes_ok=False,
        signed_version_sha256="", summary=f"unreadable signature: {type(exc).__name__}: {str(exc)[:200]}")


def _judge(sig, data: bytes, roots: list, revisions: int) -> SignatureResult:
    # A fresh context per signature: what one path validation cached must not vouch for another.
    status = _outside_event_loop(validate_pdf_signature, sig, signer_validation_context=_validation_context(roots))
    cert = status.signing_cert
    ts = status.timestamp_validity
    when = ts.timestamp if ts is not None else status.signer_reported_dt
    later_ok = (status.coverage == SignatureCoverageLevel.ENTIRE_FILE
                or (status.coverage == SignatureCoverageLevel.ENTIRE_REVISION
                    and status.modification_level is not None
                    and status.modification_level <= ModificationLevel.FORM_FILLING
                    and status.docmdp_ok is not False))
    timestamp_ok = ts is None or (ts.intact and ts.valid and ts.trusted)
    br = sig.byte_range
    end = int(br[2]) + int(br[3]) if len(br) == 4 else len(data)
    return SignatureResult(
        field_name=sig.field_name, signer_name=_name_part(cert, "common_name"),
        organization=_name_part(cert, "organization_name"), user_id=_name_part(cert, "user_id"),
        serial=format(cert.serial_number, "x"),
        signing_time=when.astimezone(UTC) if when is not None else None, timestamped=ts is not None,
        intact=bool(status.intact), valid=bool(status.valid), trusted=bool(status.trusted) and timestamp_ok,
        whole_document=status.coverage == SignatureCoverageLevel.ENTIRE_FILE,
        revision=int(sig.signed_revision), revisions=int(revisions), later_changes_ok=bool(later_ok),
        signed_version_sha256=hashlib.sha256(data[:end]).hexdigest(),
        summary=status.summary())


def revision_hashes(pdf_bytes: bytes) -> list[str]:
    """Hex SHA-256 of every prefix of the file that ends a revision (at a ``%%EOF``
    marker, with or without its end of line), shortest first: the unsigned PDF and each
    signed state of a file signed by incremental updates. A marker that happens to sit
    inside a stream only adds a hash that matches nothing stored."""
    data = bytes(pdf_bytes)
    ends: list[int] = []
    for m in re.finditer(rb"%%EOF", data):
        end = m.end()
        ends.append(end)
        if data[end:end + 2] == b"\r\n":
            ends.append(end + 2)
        elif data[end:end + 1] in (b"\n", b"\r"):
            ends.append(end + 1)
    if not ends or ends[-1] != len(data):
        ends.append(len(data))
    seen: list[str] = []
    for end in ends:
        digest = hashlib.sha256(data[:end]).hexdigest()
        if digest not in seen:
            seen.append(digest)
    return seen
