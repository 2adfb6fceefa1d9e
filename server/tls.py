"""The mission's own certificate authority and the server certificate it signs (HTTPS without the internet).

A mission network has no public CA in reach, and a tablet must never talk to a server it cannot
authenticate. ``peacewatch admin make-ca`` therefore creates, under ``<data-dir>/tls/``:

    ca.pem / ca.key          the mission CA (10 years, ECDSA P-256); ca.pem goes onto every tablet
    server.pem / server.key  the server's certificate for the given host names and IP addresses,
                             signed by the CA (825 days, the longest clients accept), serverAuth only

``peacewatch server --tls-cert <data-dir>/tls/server.pem --tls-key <data-dir>/tls/server.key`` then
serves HTTPS, and the sync client verifies it against ``ca.pem``. Running ``make-ca`` again keeps an
existing CA (tablets already trust it) and only issues a new server certificate, e.g. for a new
address. Private keys are written with mode 0600.
"""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
SERVER_DAYS = 825
DEFAULT_NAMES = ("localhost", "127.0.0.1")


@dataclass(frozen=True)
class MissionTLS:
    """Where the files are."""

    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path
    created_ca: bool


def tls_dir(data_dir: Path) -> Path:
    return data_dir / "tls"


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey) -> None:
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    # Created 0600 from the start: never readable by others, not even for a moment.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)


def _name(common_name: str, mission: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, mission),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def subject_alt_names(names: list[str] | tuple[str, ...]) -> list[x509.GeneralName]:
    """DNS names and IP addresses for the certificate; ValueError naming a bad entry."""
    out: list[x509.GeneralName] = []
    for raw in names:
        name = raw.strip()
        if not name:
            raise ValueError("host: an empty host name was given")
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            if any(c.isspace() or c in "/:@" for c in name):
                raise ValueError(f"host: {name!r} is neither a host name nor an IP address") from None
            out.append(x509.DNSName(name))
    return out


def _make_ca(mission: str, now: datetime) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(f"{mission} mission CA", mission)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                     content_commitment=False, key_encipherment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, cert


def issue_server_cert(ca_key: ec.EllipticCurvePrivateKey, ca_cert: x509.Certificate, names: list[str],
                      now: datetime | None = None) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    """A serverAuth certificate for ``names`` (host names and IPs), signed by the mission CA."""
    now = now or datetime.now(UTC)
    sans = subject_alt_names(names)
    key = ec.generate_private_key(ec.SECP256R1())
    mission = ca_cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(names[0], str(mission))).issuer_name(ca_cert.subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=SERVER_DAYS))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, key_cert_sign=False,
                                     crl_sign=False, content_commitment=False, data_encipherment=False,
                                     key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    return key, cert


def make_mission_tls(data_dir: Path, names: list[str] | tuple[str, ...] = DEFAULT_NAMES, *,
                     mission: str = "peacewatch", new_ca: bool = False) -> MissionTLS:
    """Create the mission CA if absent (or if ``new_ca``) and issue a server certificate for ``names``."""
    if not names:
        raise ValueError("host: give at least one host name or IP address")
    subject_alt_names(list(names))  # refuse bad names before writing anything
    folder = tls_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)
    ca_cert_path, ca_key_path = folder / "ca.pem", folder / "ca.key"
    now = datetime.now(UTC)
    created = new_ca or not (ca_cert_path.is_file() and ca_key_path.is_file())
    if created:
        ca_key, ca_cert = _make_ca(mission, now)
        _write_key(ca_key_path, ca_key)
        ca_cert_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    else:
        loaded = serialization.load_pem_private_key(ca_key_path.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{ca_key_path}: not an elliptic-curve key made by 'make-ca'")
        ca_key = loaded
        ca_cert = x509.load_pem_x509_certificate(ca_cert_path.read_bytes())
    key, cert = issue_server_cert(ca_key, ca_cert, list(names), now)
    server_cert, server_key = folder / "server.pem", folder / "server.key"
    _write_key(server_key, key)
    server_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return MissionTLS(ca_cert_path, ca_key_path, server_cert, server_key, created)
