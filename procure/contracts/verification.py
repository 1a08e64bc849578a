"""The public verification of a contract copy: anyone gives a SHA-256 (printed in the
footer, or of the file) or uploads the PDF, and learns whether it is a version of a
Procure contract, which one, and whether it is the current signed version.

A PDF signed by incremental updates contains each earlier state of the file as a prefix
(``pades.revision_hashes``): an unsigned copy, a copy signed by one party, a copy with
both signatures; each matches what was stored when it was made."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from .. import pades
from ..errors import ValidationError
from ..extensions import db
from .models import ContractState, ContractVersion, Signature, VersionState

#: What a hash matched: the content printed in the footer, the unsigned PDF, the PDF
#: signed by one party, the PDF signed by both.
CONTENT, UNSIGNED, PARTLY_SIGNED, SIGNED = "content", "unsigned", "partly_signed", "signed"


@dataclass
class Match:
    version: ContractVersion
    kind: str
    #: The whole file (not only a prefix of it) is what Procure stored.
    whole_file: bool = True

    @property
    def contract(self):
        return self.version.contract

    @property
    def is_current_signed(self) -> bool:
        """The version in force, as signed by both parties (the exact file)."""
        v, c = self.version, self.version.contract
        latest = self.current_signed_version
        return (self.kind == SIGNED and self.whole_file and v.state == VersionState.SIGNED
                and c.state in (ContractState.ACTIVE, ContractState.COMPLETED)
                and latest is not None and latest.id == v.id)

    @property
    def current_signed_version(self) -> ContractVersion | None:
        signed = [v for v in self.contract.versions if v.state == VersionState.SIGNED]
        return signed[-1] if signed else None


@dataclass
class Verdict:
    matches: list[Match] = field(default_factory=list)
    #: For an uploaded PDF: each signature as pyHanko judged it.
    signatures: list = field(default_factory=list)
    file_sha256: str | None = None

    @property
    def found(self) -> bool:
        return bool(self.matches)

    @property
    def best(self) -> Match | None:
        order = {SIGNED: 0, PARTLY_SIGNED: 1, UNSIGNED: 2, CONTENT: 3}
        return min(self.matches, key=lambda m: (not m.whole_file, order[m.kind]), default=None)


def _clean_hash(raw: str) -> str:
    text = "".join((raw or "").split()).lower()
    if text.startswith("sha-256") or text.startswith("sha256"):
        text = text.split("256", 1)[1].lstrip(":")
    if len(text) != 64 or any(ch not in "0123456789abcdef" for ch in text):
        raise ValidationError(_l("A SHA-256 is 64 hexadecimal characters (0–9, a–f), as printed in the footer of "
                                 "the contract."), field="sha256")
    return text


def lookup(hashes: list[str], whole: str | None = None) -> list[Match]:
    """Every version one of ``hashes`` belongs to; ``whole`` is the hash of the whole
    file (the others are prefixes)."""
    if not hashes:
        return []
    out: list[Match] = []
    rows = db.session.scalars(select(ContractVersion).where(or_(
        ContractVersion.content_sha256.in_(hashes), ContractVersion.pdf_sha256.in_(hashes),
        ContractVersion.signed_sha256.in_(hashes)))).all()
    sigs = db.session.scalars(select(Signature).where(Signature.document_sha256.in_(hashes))).all()
    for v in rows:
        if v.content_sha256 in hashes:
            out.append(Match(v, CONTENT, True))
        if v.pdf_sha256 in hashes:
            out.append(Match(v, UNSIGNED, whole is None or v.pdf_sha256 == whole))
    for s in sigs:
        v = s.version
        both = v.state == VersionState.SIGNED and s.document_sha256 == v.signed_sha256
        out.append(Match(v, SIGNED if both else PARTLY_SIGNED, whole is None or s.document_sha256 == whole))
    return out


def verify_hash(raw: str) -> Verdict:
    digest = _clean_hash(raw)
    return Verdict(lookup([digest]), file_sha256=digest)


def verify_pdf(data: bytes) -> Verdict:
    data = bytes(data)
    whole = hashlib.sha256(data).hexdigest()
    hashes = pades.revision_hashes(data)
    verdict = Verdict(lookup(hashes, whole), file_sha256=whole)
    if verdict.found:
        try:
            verdict.signatures = pades.validate_pdf(data)
        except ValidationError:
            verdict.signatures = []
    return verdict
