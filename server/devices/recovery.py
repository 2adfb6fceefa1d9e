"""The mission's recovery key pair: tablets seal their store keys for its public half at enrolment.

``peacewatch admin recovery-key --out FILE`` makes an RSA-3072 pair, writes the private key to
``FILE`` (to be kept offline, e.g. on a USB stick in the mission's safe, never on this server)
and the public key to ``<data-dir>/recovery-public.pem``, which the enrolment answer carries.
``peacewatch admin recover-tablet`` uses the private key on a returned tablet's store.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

PUBLIC_NAME = "recovery-public.pem"
KEY_BITS = 3072


def public_key_pem(data_dir: Path) -> str | None:
    """The mission's recovery public key, or None when the mission has not made one."""
    path = Path(data_dir) / PUBLIC_NAME
    return path.read_text(encoding="ascii") if path.is_file() else None


def generate(data_dir: Path, private_out: Path, passphrase: bytes | None = None) -> tuple[Path, Path]:
    """Make the pair; refuse to overwrite an existing private key file (it may be the only copy)."""
    if private_out.exists():
        raise FileExistsError(f"{private_out} exists; the mission's recovery key is never overwritten")
    key = rsa.generate_private_key(public_exponent=65537, key_size=KEY_BITS)
    encryption = (serialization.BestAvailableEncryption(passphrase) if passphrase
                  else serialization.NoEncryption())
    private_out.parent.mkdir(parents=True, exist_ok=True)
    private_out.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              encryption))
    private_out.chmod(0o600)
    public = Path(data_dir) / PUBLIC_NAME
    public.parent.mkdir(parents=True, exist_ok=True)
    public.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                     serialization.PublicFormat.SubjectPublicKeyInfo))
    return private_out, public
