"""Sealed bids by encryption (AES-GCM, the ``cryptography`` package).

Each tender has its own random *data key*; bid contents (draft and submitted) and bid
attachments are encrypted under it with :func:`seal`. The data key is stored in the
database only *wrapped* (encrypted with AES-GCM) under the *master key*, which lives
outside the database: ``MASTER_KEY`` (base64 of 32 bytes, from ``PROCURE_MASTER_KEY``)
or the file ``MASTER_KEY_FILE`` (default ``instance/master.key``, mode 0600, created by
``flask sealing init-key``). The database, its backups and the document store thus hold
ciphertext only.

Formats (bytes):

* wrapped data key: ``b"PK1" + key_id (8 bytes) + nonce (12) + AES-GCM(master, data_key,
  aad=b"procure-data-key")``; ``key_id`` is the first 8 bytes of SHA-256 of the master
  key, so a wrong master key is told apart from damaged data (:func:`master_key_id`).
* sealed content: ``b"PS1" + nonce (12) + AES-GCM(data_key, plaintext, aad)``. The
  ``aad`` binds the ciphertext to its place (e.g. ``b"bid:<tender>:<organization>"``):
  moved to another row it no longer opens.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from flask_babel import lazy_gettext as _l

from .errors import SealingKeyUnavailable, SealTampered

KEY_BYTES = 32
NONCE_BYTES = 12
WRAP_MAGIC = b"PK1"
SEAL_MAGIC = b"PS1"
KEY_ID_BYTES = 8
_WRAP_AAD = b"procure-data-key"


def generate_master_key() -> bytes:
    """32 random bytes for a new master key."""
    return os.urandom(KEY_BYTES)


def encode_key(key: bytes) -> str:
    """The base64 text of a key, as ``PROCURE_MASTER_KEY`` and the key file hold it."""
    return base64.b64encode(key).decode("ascii")


def _decode(text: str | bytes) -> bytes:
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise SealingKeyUnavailable(_l("The master key for sealed bids is not valid (it must be 32 bytes in "
                                       "base64). Ask the system administrator to check the key."))
    return key


def key_file_path() -> Path:
    """Where the master key file is (``MASTER_KEY_FILE``, default instance/master.key)."""
    configured = current_app.config.get("MASTER_KEY_FILE")
    return Path(configured) if configured else Path(current_app.instance_path) / "master.key"


def master_key() -> bytes:
    """The master key: ``MASTER_KEY`` from the configuration (environment), else the key
    file. Raises SealingKeyUnavailable when there is none or it is malformed."""
    configured = current_app.config.get("MASTER_KEY")
    if configured:
        return _decode(configured)
    path = key_file_path()
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        raise SealingKeyUnavailable(_l(
            "The master key for sealed bids is missing, so bids cannot be sealed or opened. Ask the system "
            "administrator to install the key (flask sealing init-key, or PROCURE_MASTER_KEY).")) from None
    return _decode(text)


def master_key_id(key: bytes | None = None) -> str:
    """The id of a master key (hex of the first 8 bytes of its SHA-256): stored with each
    wrapped key so a wrong master key is recognized."""
    return hashlib.sha256(key if key is not None else master_key()).digest()[:KEY_ID_BYTES].hex()


def init_key_file(path: Path, *, force: bool = False) -> bool:
    """Create the key file with a new key, mode 0600. False when it exists (unless force)."""
    path = Path(path)
    if path.exists() and not force:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(encode_key(generate_master_key()) + "\n")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
    return True


def new_data_key() -> bytes:
    """A fresh random data key (one per tender)."""
    return AESGCM.generate_key(bit_length=KEY_BYTES * 8)


def wrap(data_key: bytes) -> bytes:
    """``data_key`` encrypted under the master key (store this, never the key itself)."""
    key = master_key()
    nonce = os.urandom(NONCE_BYTES)
    head = WRAP_MAGIC + bytes.fromhex(master_key_id(key))
    return head + nonce + AESGCM(key).encrypt(nonce, bytes(data_key), _WRAP_AAD + head)


def wrapped_key_id(wrapped: bytes) -> str:
    """The id of the master key that wrapped ``wrapped``."""
    return bytes(wrapped[len(WRAP_MAGIC):len(WRAP_MAGIC) + KEY_ID_BYTES]).hex()


def unwrap(wrapped: bytes) -> bytes:
    """The data key from :func:`wrap`'s output. SealingKeyUnavailable when the master
    key is not the one that wrapped it; SealTampered when the bytes were changed."""
    wrapped = bytes(wrapped or b"")
    key = master_key()
    start = len(WRAP_MAGIC) + KEY_ID_BYTES
    if not wrapped.startswith(WRAP_MAGIC) or len(wrapped) < start + NONCE_BYTES + 16:
        raise SealTampered(_l("A sealed key is damaged: it cannot be read."))
    if wrapped_key_id(wrapped) != master_key_id(key):
        raise SealingKeyUnavailable(_l(
            "The master key installed is not the one these bids were sealed with, so they cannot be opened. Ask the "
            "system administrator to install the original key."))
    try:
        return AESGCM(key).decrypt(wrapped[start:start + NONCE_BYTES], wrapped[start + NONCE_BYTES:],
                                   _WRAP_AAD + wrapped[:start])
    except InvalidTag:
        raise SealTampered(_l("A sealed key is damaged: it cannot be read.")) from None


def seal(data_key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """``plaintext`` encrypted and authenticated under ``data_key``, bound to ``aad``."""
    nonce = os.urandom(NONCE_BYTES)
    return SEAL_MAGIC + nonce + AESGCM(bytes(data_key)).encrypt(nonce, bytes(plaintext), bytes(aad))


def open_sealed(data_key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """The plaintext of :func:`seal`'s output; SealTampered when the ciphertext, the key
    or the ``aad`` does not match."""
    sealed = bytes(sealed or b"")
    if not sealed.startswith(SEAL_MAGIC) or len(sealed) < len(SEAL_MAGIC) + NONCE_BYTES + 16:
        raise SealTampered(_l("The sealed content is damaged: it cannot be opened."))
    body = sealed[len(SEAL_MAGIC):]
    try:
        return AESGCM(bytes(data_key)).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], bytes(aad))
    except InvalidTag:
        raise SealTampered(_l("The sealed content is damaged or was changed: it cannot be opened.")) from None


def sha256_hex(data: bytes) -> str:
    """The receipt hash: hex SHA-256 of exactly the bytes that were sealed."""
    return hashlib.sha256(bytes(data)).hexdigest()
