"""A self-signed TLS certificate for development, written as the nginx gateway expects it
(`fullchain.pem` and `privkey.pem` in one directory).

`python -m pillpal_shared.certs --dir /etc/nginx/certs` writes one unless both files already exist, so a
real certificate put into the volume is never overwritten.
"""

from __future__ import annotations

import argparse
import ipaddress
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

DEFAULT_NAMES = ("localhost", "127.0.0.1")


def _alt_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def write_self_signed(cert_dir: Path, names: tuple[str, ...] = DEFAULT_NAMES, days: int = 825) -> None:
    """Writes cert_dir/fullchain.pem and cert_dir/privkey.pem (ECDSA P-256), valid for `names`."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.SubjectAlternativeName([_alt_name(n) for n in names]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_dir.mkdir(parents=True, exist_ok=True)
    (cert_dir / "fullchain.pem").write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    private = cert_dir / "privkey.pem"
    private.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    private.chmod(0o600)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write a self-signed certificate for the nginx gateway.")
    parser.add_argument("--dir", required=True, type=Path, help="where fullchain.pem and privkey.pem go")
    parser.add_argument("--name", action="append", help="a host name or IP address (repeatable)")
    args = parser.parse_args(argv)
    if (args.dir / "fullchain.pem").exists() and (args.dir / "privkey.pem").exists():
        sys.stderr.write(f"{args.dir}: a certificate is already there; left as it is\n")
        return 0
    write_self_signed(args.dir, tuple(args.name or DEFAULT_NAMES))
    sys.stderr.write(f"{args.dir}: wrote a self-signed certificate\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
