"""A bid's content as one canonical JSON bundle, sealed under its tender's data key.

The bundle (a dict): ``{"price": "123.45", "proposal": "...", "breakdown": [{"category",
"amount", "note"}...], "attachments": [{"document_id", "filename", "sha256", "size"}...]}``
— money as strings, attachment ``sha256`` the hash of the PLAINTEXT file (the Document
itself holds the ciphertext, encrypted with :func:`seal_attachment`). The bytes of the
bundle are canonical (sorted keys, no spaces, UTF-8), so the receipt hash is reproducible.
"""

from __future__ import annotations

import json
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from .. import sealing
from ..errors import SealTampered
from .models import Bid, Tender


def _default(value):
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


def canonical_bundle(content: dict) -> bytes:
    """The canonical bytes of a bid bundle (Decimals as strings)."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=_default).encode("utf-8")


def parse_bundle(data: bytes) -> dict:
    return json.loads(data.decode("utf-8"))


def ensure_data_key(tender: Tender) -> None:
    """Give ``tender`` its wrapped data key if it has none (SealingKeyUnavailable without
    a master key). Flushes nothing; the caller's transaction stores it."""
    if tender.wrapped_data_key is None:
        tender.wrapped_data_key = sealing.wrap(sealing.new_data_key())
        tender.data_key_id = sealing.wrapped_key_id(tender.wrapped_data_key)


def data_key(tender: Tender) -> bytes:
    if tender.wrapped_data_key is None:
        raise SealTampered(_l("This call has no key for sealed bids."))
    return sealing.unwrap(tender.wrapped_data_key)


def bid_aad(tender_id: int, organization_id: int) -> bytes:
    """What a bid's ciphertext is bound to: it opens only as this organization's bid on
    this tender."""
    return f"procure-bid:{int(tender_id)}:{int(organization_id)}".encode()


def seal_bundle(tender: Tender, organization_id: int, content: dict) -> tuple[bytes, str]:
    """(ciphertext, hex SHA-256 of the plaintext bundle) for ``content``."""
    plain = canonical_bundle(content)
    return sealing.seal(data_key(tender), plain, bid_aad(tender.id, organization_id)), sealing.sha256_hex(plain)


def open_bundle(tender: Tender, bid: Bid, *, verify: bool = True) -> dict:
    """The decrypted content of ``bid``. With ``verify`` and a receipt, the plaintext's
    hash must equal ``bid.sealed_sha256`` (SealTampered otherwise). The caller checks
    permissions (own organization, or after the opening)."""
    plain = sealing.open_sealed(data_key(tender), bid.sealed_content, bid_aad(tender.id, bid.organization_id))
    if verify and bid.sealed_sha256 is not None and sealing.sha256_hex(plain) != bid.sealed_sha256:
        raise SealTampered(_l("The bid does not match its receipt: its content was changed after submission."))
    return parse_bundle(plain)


def attachment_aad(tender_id: int, organization_id: int, sha256: str) -> bytes:
    return f"procure-bid-file:{int(tender_id)}:{int(organization_id)}:{sha256}".encode()


def seal_attachment(tender: Tender, organization_id: int, data: bytes) -> tuple[bytes, str]:
    """(ciphertext to store as the Document, hex SHA-256 of the plaintext file)."""
    digest = sealing.sha256_hex(data)
    return sealing.seal(data_key(tender), data, attachment_aad(tender.id, organization_id, digest)), digest


def open_attachment(tender: Tender, organization_id: int, sealed: bytes, sha256: str) -> bytes:
    """The plaintext file; its hash must be ``sha256`` (from the bundle)."""
    data = sealing.open_sealed(data_key(tender), sealed, attachment_aad(tender.id, organization_id, sha256))
    if sealing.sha256_hex(data) != sha256:
        raise SealTampered(_l("An attachment does not match the hash in its bid."))
    return data
