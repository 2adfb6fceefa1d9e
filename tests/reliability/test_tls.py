"""HTTPS with the mission CA: ``admin make-ca`` -> ``server --tls-cert/--tls-key`` -> the sync client verifies.

* the CA and server certificate are what a client needs (SANs, serverAuth, CA constraints, 0600 keys),
  and a second ``make-ca`` keeps the CA the tablets already trust;
* the real server (a process) serves HTTPS; a tablet's sync client given the mission CA syncs;
* the same client given another CA (a self-signed impostor's) is refused with a clear error and
  sends nothing; plain ``requests`` refuses it too;
* no code in the repository turns certificate verification off (``verify=False``).
"""

from __future__ import annotations

import stat
import tokenize
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from e2e.tablets import Tablet
from reliability.server_process import ServerProcess
from sqlalchemy import func, select

from factories import Mission, report_body
from peacewatch.mobile.core.sync_client import SyncClient
from peacewatch.server.cli import main as cli_main
from peacewatch.server.db.tables import versions
from peacewatch.server.tls import make_mission_tls

REPO = Path(__file__).resolve().parents[2]


def test_make_ca_writes_a_ca_and_a_server_certificate_for_the_hosts(tmp_path: Path, capsys) -> None:
    assert cli_main(["admin", "make-ca", "--data-dir", str(tmp_path), "--host", "hq.mission.local",
                     "--host", "10.8.0.1"]) == 0
    out = capsys.readouterr().out
    assert "mission CA created" in out and "--tls-cert" in out
    tls = tmp_path / "tls"
    ca = x509.load_pem_x509_certificate((tls / "ca.pem").read_bytes())
    server = x509.load_pem_x509_certificate((tls / "server.pem").read_bytes())
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert server.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert server.issuer == ca.subject
    server.verify_directly_issued_by(ca)
    sans = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert sans.get_values_for_type(x509.DNSName) == ["hq.mission.local"]
    assert [str(ip) for ip in sans.get_values_for_type(x509.IPAddress)] == ["10.8.0.1"]
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    for key in ("ca.key", "server.key"):
        assert stat.S_IMODE((tls / key).stat().st_mode) == 0o600
    # Again, for a new address: the CA the tablets trust is kept, the server certificate is new.
    again = make_mission_tls(tmp_path, ["localhost", "127.0.0.1", "10.8.0.2"])
    assert not again.created_ca
    assert x509.load_pem_x509_certificate((tls / "ca.pem").read_bytes()) == ca
    x509.load_pem_x509_certificate((tls / "server.pem").read_bytes()).verify_directly_issued_by(ca)
    # A bad host name is refused, naming it.
    assert cli_main(["admin", "make-ca", "--data-dir", str(tmp_path), "--host", "not a host"]) == 2
    assert "'not a host'" in capsys.readouterr().err


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """An impostor: a self-signed certificate for the same names, from no mission CA."""
    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(__import__("ipaddress").ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))
    return folder / "cert.pem", folder / "key.pem"


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_sync_over_https_verifies_the_mission_ca_and_refuses_an_impostor(
        mission: Mission, db_url: str, tmp_path: Path) -> None:
    mission.client.close()
    data = tmp_path / "srv"
    tls = make_mission_tls(data)
    device_id, credential = mission.devices["patrol_a"]
    tablet = Tablet(tmp_path / "tablet.db", username="patrol_a", device_id=device_id, credential=credential)
    filed = {tablet.file(report_body(title=f"over TLS {i}")) for i in range(3)}
    try:
        with ServerProcess(data, db_url, tls=(tls.server_cert, tls.server_key), ca=tls.ca_cert) as srv:
            srv_url = srv.url
            assert srv_url.startswith("https://")
            # Plain HTTP to the HTTPS port gets nothing; the system trust store does not know the mission CA.
            with pytest.raises(requests.exceptions.SSLError):
                requests.get(srv_url + "/api/v1/health", timeout=5)
            assert requests.get(srv_url + "/api/v1/health", timeout=5, verify=str(tls.ca_cert)).status_code == 200
            progress = tablet.client(requests.Session(), srv_url, verify=str(tls.ca_cert)).run()
            assert progress.state == "done", progress
        with mission.engine.connect() as conn:
            assert set(conn.execute(select(versions.c.version_id)).scalars()) == filed

        # The same server address now answered by an impostor with a self-signed certificate.
        impostor = _self_signed(tmp_path / "impostor")
        more = tablet.file(report_body(title="must not leak"))
        # The readiness probe trusts the impostor's own certificate; the tablet trusts only the mission CA.
        fake = ServerProcess(tmp_path / "impostor-srv", db_url, tls=impostor, ca=impostor[0])
        fake.start()
        try:
            client = SyncClient(requests.Session(), fake.url, credential, tablet.local, verify=str(tls.ca_cert),
                                max_failures=2, backoff_base=0.01, backoff_cap=0.02)
            progress = client.run()
            assert progress.state in ("failed", "offline") and progress.state != "done", progress
            assert progress.last_error and "certificate" in progress.last_error.lower(), progress.last_error
            with pytest.raises(requests.exceptions.SSLError, match="CERTIFICATE_VERIFY_FAILED"):
                requests.get(fake.url + "/api/v1/health", timeout=5, verify=str(tls.ca_cert))
        finally:
            fake.stop()
        assert more in tablet.version_ids() and tablet.local.waiting().versions == 1  # still waiting, not sent
        with mission.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(versions)).scalar_one() == len(filed)
    finally:
        tablet.close()


def _code_tokens(path: Path) -> list[str]:
    """The file's code tokens, without strings and comments (docs may name what is forbidden)."""
    skip = {tokenize.STRING, tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER}
    skip |= {getattr(tokenize, n) for n in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END") if hasattr(tokenize, n)}
    with path.open("rb") as fh:
        return [t.string for t in tokenize.tokenize(fh.readline) if t.type not in skip]


def test_no_code_turns_certificate_verification_off(tmp_path: Path) -> None:
    # Shipped code only: tests/mobile passes verify=False on purpose, to prove it is refused.
    offenders = []
    for folder in ("common", "mobile", "server", "bench", "scripts"):
        for path in (REPO / folder).rglob("*.py"):
            code = " ".join(_code_tokens(path))
            for bad in ("verify = False", "check_hostname = False", "CERT_NONE", "_create_unverified_context",
                        "verify_mode = ssl . CERT_NONE"):
                if bad in code:
                    offenders.append(f"{path.relative_to(REPO)}: {bad}")
    assert offenders == [], "certificate verification turned off:\n" + "\n".join(offenders)
    # The check itself finds what it looks for, in code but not in a docstring.
    probe = tmp_path / "probe.py"
    probe.write_text('"""never verify=False"""\nrequests.get(url, verify=False)\n')
    assert " ".join(_code_tokens(probe)).count("verify = False") == 1
