"""PIN recovery without a back door: the store's keys, also sealed for the mission's recovery key.

At enrolment the server hands out the mission's recovery **public** key (RSA, PEM). The tablet
seals its store keys (the SQLCipher key and the attachments' key-encryption key) with it,
RSA-OAEP-SHA256, into ``recovery.json`` beside the store. Only the matching private key opens
that file, and that key is kept offline by the mission (``peacewatch admin recovery-key``), never
on the server the tablets talk to, so a captured tablet plus a compromised server still yield
nothing. A PIN change re-seals the new keys; a wipe deletes the file with the store.

``peacewatch admin recover-tablet`` (on a returned tablet's store, with the private key) calls
:func:`open_with_private_key` and re-sends the reports that never left it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from peacewatch.mobile.core import keys
from peacewatch.mobile.core.errors import InvalidInput
from peacewatch.mobile.core.store import Store

RECOVERY_NAME = "recovery.json"
META_KEY = "recovery_public_key"
FORMAT = 1
_OAEP = padding.OAEP(mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


def fingerprint(public_pem: str) -> str:
    """SHA-256 of the public key's DER form: says which mission key a sealed file needs."""
    public = serialization.load_pem_public_key(public_pem.encode())
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def seal(store_path: Path, subkeys: keys.Subkeys, public_pem: str) -> Path:
    """Write ``recovery.json``: the store keys sealed for ``public_pem`` (atomically)."""
    try:
        public = serialization.load_pem_public_key(public_pem.encode())
    except ValueError as exc:
        raise InvalidInput("recovery_public_key", f"not a PEM public key: {exc}") from exc
    if not isinstance(public, rsa.RSAPublicKey) or public.key_size < 3072:
        raise InvalidInput("recovery_public_key", "must be an RSA key of at least 3072 bits")
    sealed = public.encrypt(subkeys.database + subkeys.attachments_kek, _OAEP)
    record = {"format": FORMAT, "key_sha256": fingerprint(public_pem), "sealed": base64.b64encode(sealed).decode()}
    target = store_path / RECOVERY_NAME
    tmp = target.with_name(target.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(record, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)
    keys.fsync_dir(store_path)
    return target


def unseal(store_path: Path, private_pem: bytes, password: bytes | None = None) -> keys.Subkeys:
    """The store keys from ``recovery.json`` with the mission's private key."""
    try:
        record = json.loads((store_path / RECOVERY_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InvalidInput("store", f"no readable {RECOVERY_NAME} in {store_path}: {exc}") from exc
    private = serialization.load_pem_private_key(private_pem, password=password)
    if not isinstance(private, rsa.RSAPrivateKey):
        raise InvalidInput("private_key", "not an RSA private key")
    public_pem = private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    if record.get("key_sha256") != fingerprint(public_pem):
        raise InvalidInput("private_key", "this store was sealed for another mission recovery key")
    raw = private.decrypt(base64.b64decode(record["sealed"]), _OAEP)
    return keys.Subkeys(database=raw[: keys.KEY_BYTES], attachments_kek=raw[keys.KEY_BYTES:])


def open_with_private_key(store_path: Path, private_pem: bytes, password: bytes | None = None) -> Store:
    """Open a returned tablet's store with the mission's private recovery key (no PIN needed)."""
    return Store.open_with_keys(store_path, unseal(store_path, private_pem, password))
